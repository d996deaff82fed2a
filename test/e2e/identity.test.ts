/**
 * Identity over the HTTP API: link history, why two records or customers are one, the review
 * queue and the stewardship mutations, as a client sees them, over a generated world; and who
 * may do what (mutations for admin alone, link history for admin and support).
 */
import { startTestWorld, apiKeyFor, type TestRole, type TestWorld } from '../helpers/world';
import { runResolution } from '../../src/resolution';

let world: TestWorld;
/** Calls to the store's writes, by method. */
const writes: Record<string, number> = {};
const WRITES = ['mergeCustomers', 'linkRecords', 'unmergeCustomer', 'splitRecords', 'resolveCandidate', 'recordDecision'];
const ADMIN_ACTOR = 'user:apiKey:test-admin';

beforeAll(async () => {
  world = await startTestWorld({ people: 300, seed: 11 });
  const store = world.gw.idmap as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const method of WRITES) {
    const original = store[method].bind(store);
    writes[method] = 0;
    store[method] = (...args: unknown[]) => {
      writes[method]++;
      return original(...args);
    };
  }
});

afterAll(async () => world?.close());

const db = () => world.dbs.oneid.db;
const codes = (body: any) => (body.errors ?? []).map((e: any) => e.extensions?.code);
const label = (r: { source: string; recordId: string }) => `${String(r.source).toLowerCase()}:${r.recordId}`;
const input = (l: string) => {
  const at = l.indexOf(':');
  return { source: l.slice(0, at).toUpperCase(), recordId: l.slice(at + 1) };
};
async function eventCount(): Promise<number> {
  const [{ n }] = await db()('idmap_link_events').count({ n: '*' });
  return Number(n);
}
/** Every source record's customer and every customer's state: the whole identity map. */
async function mapping() {
  return {
    records: (await db()('idmap_source_records').orderBy(['source', 'record_id']).select('source', 'record_id', 'customer_id')).map(
      (r) => `${r.source}:${r.record_id}=${r.customer_id}`,
    ),
    customers: (await db()('idmap_customers').orderBy('id').select('id', 'status', 'merged_into')).map((c) => `${c.id}:${c.status}:${c.merged_into}`),
  };
}
/** Each source record's customer. */
async function owners(): Promise<Map<string, string | null>> {
  const rows = await db()('idmap_source_records').select('source', 'record_id', 'customer_id');
  return new Map(rows.map((r) => [`${r.source}:${r.record_id}`, r.customer_id]));
}
/** The records of each customer, as groups. */
function groups(byRecord: Map<string, string | null>): string[][] {
  const out = new Map<string, string[]>();
  for (const [record, customer] of byRecord) if (customer) out.set(customer, [...(out.get(customer) ?? []), record]);
  return [...out.values()];
}
/** Resolution as if every record had changed in its source: read from the start, every record re-linked. */
async function fullResolution() {
  await db()('idmap_scan_cursors').del();
  await db()('idmap_source_records').whereNull('deleted_at').update({ pending: 1 });
  await runResolution(world.gw);
}
/** Customers holding exactly one record and named by no review candidate: safe to merge and split in a test. */
async function loners(n: number, skip = 0): Promise<Array<{ id: string; record: string }>> {
  const named = new Set(
    (await db()('idmap_review_candidates').select('customer_id', 'other_customer_id')).flatMap((c) => [c.customer_id, c.other_customer_id]).filter(Boolean),
  );
  const rows = await db()('idmap_source_records').whereNotNull('customer_id').groupBy('customer_id').havingRaw('COUNT(*) = 1').orderBy('customer_id').select('customer_id');
  const ids = rows
    .map((r) => r.customer_id as string)
    .filter((id) => !named.has(id))
    .slice(skip, skip + n);
  const records = await world.gw.idmap.sourceRecordsByCustomerIds(ids);
  return ids.map((id, i) => ({ id, record: label(records[i][0]) }));
}

const HISTORY = `query($id: ID!, $first: Int) { customer(id: $id) { id linkHistory(first: $first) { id at action actor reason customerId otherCustomerId source recordId identifierKind evidence } } }`;
const RESULT = `action customerId otherCustomerId movedRecords { source recordId } customer { id sourceRecords { source recordId } }`;

describe('Identity API: who may steward', () => {
  const MUTATIONS: Record<string, string> = {
    linkRecords: `mutation { linkRecords(a: {source: CRM, recordId: "nope-1"}, b: {source: CRM, recordId: "nope-2"}, reason: "same") { action } }`,
    unlinkRecord: `mutation { unlinkRecord(record: {source: CRM, recordId: "nope-1"}, reason: "not them") { action } }`,
    mergeCustomers: `mutation { mergeCustomers(survivorId: "01NOPE0000000000000000000A", mergedId: "01NOPE0000000000000000000B", reason: "same") { action } }`,
    splitCustomer: `mutation { splitCustomer(mergedId: "01NOPE0000000000000000000B", reason: "not the same") { action } }`,
    resolveCandidate: `mutation { resolveCandidate(id: "999999", decision: ACCEPT, reason: "same") { action } }`,
  };
  const SEGMENT_MUTATIONS = ['createSegment', 'updateSegment', 'deleteSegment'];
  const QUERIES: Record<string, string> = {
    whyLinked: `{ whyLinked(a: "x", b: "y") { linked } }`,
    whyRecordsLinked: `{ whyRecordsLinked(a: {source: CRM, recordId: "x"}, b: {source: CRM, recordId: "y"}) { linked } }`,
    mergeCandidates: `{ mergeCandidates { edges { cursor } } }`,
  };

  it.each(['marketing', 'sales', 'support', 'finance', 'analyst'] as TestRole[])(
    'leaves every mutation and identity question out of the schema for %s: validation fails, nothing is called',
    async (role) => {
      const before = await eventCount();
      world.reset();
      for (const WRITE of WRITES) writes[WRITE] = 0;
      for (const [name, text] of Object.entries({ ...MUTATIONS, ...QUERIES })) {
        const { status, body } = await world.query(text, undefined, { 'x-api-key': apiKeyFor(role) });
        expect([name, status, codes(body)]).toEqual([name, 400, ['GRAPHQL_VALIDATION_FAILED']]);
        expect(body.data).toBeUndefined();
      }
      // Marketing and analyst write saved BI segments (docs/bi.md), and nothing else.
      const { body } = await world.query(`{ __schema { mutationType { fields { name } } } }`, undefined, { 'x-api-key': apiKeyFor(role) });
      const mutations = body.data.__schema.mutationType?.fields.map((f: any) => f.name) ?? null;
      expect(mutations).toEqual(['marketing', 'analyst'].includes(role) ? SEGMENT_MUTATIONS : null);
      expect(world.calls.calls).toEqual([]);
      expect(world.idmapCalls).toEqual([]);
      expect(Object.values(writes).every((n) => n === 0)).toBe(true);
      expect(await eventCount()).toBe(before);
    },
  );

  it('runs every mutation for admin, each reaching the store (here: NOT_FOUND for ids nobody has)', async () => {
    const { body } = await world.query(`{ __schema { mutationType { fields { name } } } }`);
    expect(body.data.__schema.mutationType.fields.map((f: any) => f.name).filter((n: string) => !SEGMENT_MUTATIONS.includes(n))).toEqual(Object.keys(MUTATIONS));
    for (const WRITE of WRITES) writes[WRITE] = 0;
    for (const [name, text] of Object.entries(MUTATIONS)) {
      const res = await world.query(text);
      expect([name, res.status, codes(res.body)]).toEqual([name, 200, ['NOT_FOUND']]);
    }
    expect(writes).toMatchObject({ linkRecords: 1, splitRecords: 1, mergeCustomers: 1, unmergeCustomer: 1, resolveCandidate: 1 });
  });

  it('shows support what happened to a customer without reasons or evidence, SCRM record ids hashed; other roles nothing', async () => {
    const [{ customer_id: id }] = await db()('idmap_source_records').where('source', 'scrm').whereNotNull('customer_id').orderBy('record_id').limit(1).select('customer_id');
    const support = { 'x-api-key': apiKeyFor('support') };
    const { body } = await world.query(`query($id: ID!) { customer(id: $id) { linkHistory { action actor at source recordId identifierKind } } }`, { id }, support);
    expect(body.errors).toBeUndefined();
    const scrm = body.data.customer.linkHistory.filter((e: any) => e.source === 'SCRM');
    expect(scrm.length).toBeGreaterThan(0);
    for (const e of scrm) expect(e.recordId).toMatch(/^h_[0-9a-f]{32}$/);
    for (const field of ['reason', 'evidence']) {
      const denied = await world.query(`query($id: ID!) { customer(id: $id) { linkHistory { ${field} } } }`, { id }, support);
      expect(codes(denied.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    }
    for (const role of ['marketing', 'sales', 'finance', 'analyst'] as TestRole[]) {
      const denied = await world.query(`query($id: ID!) { customer(id: $id) { linkHistory { action } } }`, { id }, { 'x-api-key': apiKeyFor(role) });
      expect([role, codes(denied.body)]).toEqual([role, ['GRAPHQL_VALIDATION_FAILED']]);
    }
  });
});

describe('Identity API: a 100 KB id', () => {
  it('is quoted by its first 64 characters in NOT_FOUND: whyLinked, mergeCustomers', async () => {
    const id = 'A'.repeat(100_000);
    const why = await world.query(`query($a: ID!) { whyLinked(a: $a, b: "y") { linked } }`, { a: id });
    const merge = await world.query(`mutation($m: ID!) { mergeCustomers(survivorId: "01NOPE0000000000000000000A", mergedId: $m, reason: "same") { action } }`, { m: id });
    for (const { body } of [why, merge]) {
      expect(codes(body)).toEqual(['NOT_FOUND']);
      expect(body.errors[0].message.length).toBeLessThan(200);
    }
    expect(why.body.errors[0].message).toBe(`No customer ${'A'.repeat(64)}…`);
  });
});

describe('Identity API: stewardship as admin', () => {
  it('merges, answers the merged id with the survivor, splits back to exactly the earlier mapping, and shows both in linkHistory', async () => {
    const [a, b] = await loners(2);
    const before = await mapping();

    const merged = await world.query(`mutation($s: ID!, $m: ID!) { mergeCustomers(survivorId: $s, mergedId: $m, reason: "same person: confirmed by phone") { ${RESULT} } }`, {
      s: a.id,
      m: b.id,
    });
    expect(merged.body.errors).toBeUndefined();
    expect(merged.body.data.mergeCustomers).toMatchObject({ action: 'MERGE', customerId: a.id, otherCustomerId: b.id, movedRecords: [input(b.record)] });
    expect(merged.body.data.mergeCustomers.customer.sourceRecords.map(label).sort()).toEqual([a.record, b.record].sort());

    // A merged-away id answers the survivor, alone and in a list.
    const asked = await world.query(`query($a: ID!, $b: ID!) { customer(id: $b) { id } customers(ids: [$b, $a]) { id } }`, { a: a.id, b: b.id });
    expect(asked.body.data).toEqual({ customer: { id: a.id }, customers: [{ id: a.id }, { id: a.id }] });
    const why = await world.query(
      `query($a: ID!, $b: ID!) { whyLinked(a: $a, b: $b) { linked customerId path { via from { source recordId } to { source recordId } event { action actor } } merges { action actor customerId otherCustomerId } } }`,
      { a: b.id, b: a.id },
    );
    expect(why.body.data.whyLinked).toEqual({
      linked: true,
      customerId: a.id,
      path: [{ via: 'MANUAL_DECISION', from: input(b.record), to: input(a.record), event: { action: 'MERGE', actor: ADMIN_ACTOR } }],
      merges: [{ action: 'MERGE', actor: ADMIN_ACTOR, customerId: a.id, otherCustomerId: b.id }],
    });

    const split = await world.query(`mutation($m: ID!) { splitCustomer(mergedId: $m, reason: "two people after all") { ${RESULT} } }`, { m: b.id });
    expect(split.body.errors).toBeUndefined();
    expect(split.body.data.splitCustomer).toMatchObject({ action: 'SPLIT', customerId: b.id, otherCustomerId: a.id, movedRecords: [input(b.record)], customer: { id: b.id } });
    expect(await mapping()).toEqual(before);
    expect((await world.query(`query($b: ID!) { customer(id: $b) { id } }`, { b: b.id })).body.data.customer).toEqual({ id: b.id });

    const history = (await world.query(HISTORY, { id: a.id, first: 4 })).body.data.customer.linkHistory;
    expect(history.map((e: any) => [e.action, e.actor, e.customerId, e.otherCustomerId])).toEqual([
      ['DECISION', ADMIN_ACTOR, a.id, b.id],
      ['SPLIT', ADMIN_ACTOR, a.id, b.id],
      ['DECISION', ADMIN_ACTOR, a.id, b.id],
      ['MERGE', ADMIN_ACTOR, a.id, b.id],
    ]);
    expect(history[0]).toMatchObject({ reason: 'two people after all', evidence: { verdict: 'different' } });
    expect(history[1].evidence).toEqual({ undoes: history[3].id, movedRecords: [{ source: input(b.record).source.toLowerCase(), recordId: input(b.record).recordId }] });
    expect(history[3]).toMatchObject({ reason: 'same person: confirmed by phone', evidence: { movedRecords: [expect.any(Object)], redirected: [] } });
    for (const e of history) expect(Date.parse(e.at)).toBeGreaterThan(Date.parse('2020-01-01'));
    // Reasons and evidence are personal (they quote record keys and identifier values): reading them is audited.
    const audit = await world.query(`query($id: ID!) { auditLog(customerId: $id, first: 1) { principal fields } }`, { id: a.id });
    expect(audit.body.data.auditLog).toEqual([{ principal: 'test-admin', fields: expect.arrayContaining(['LinkEvent.evidence', 'LinkEvent.reason']) }]);
    // The merged-then-split customer's own history shows the same merge and split.
    const own = (await world.query(HISTORY, { id: b.id, first: 20 })).body.data.customer.linkHistory.map((e: any) => e.action);
    expect(own.slice(0, 4)).toEqual(['DECISION', 'SPLIT', 'DECISION', 'MERGE']);
    expect(codes((await world.query(HISTORY, { id: a.id, first: 0 })).body)).toEqual(['BAD_USER_INPUT']);
    expect(codes((await world.query(HISTORY, { id: a.id, first: 101 })).body)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers whyRecordsLinked with the real evidence path of a chain A –phone– B –email– C, and linked: false for strangers', async () => {
    // A customer the generator and resolution joined through a phone and then an email.
    const multi = await db()('idmap_source_records')
      .whereNotNull('customer_id')
      .groupBy('customer_id')
      .havingRaw('COUNT(*) >= 3')
      .orderBy('customer_id')
      .select('customer_id');
    let chain: any = null;
    let ends: [string, string] | null = null;
    for (const { customer_id } of multi) {
      const [records] = await world.gw.idmap.sourceRecordsByCustomerIds([customer_id]);
      for (const x of records) {
        for (const y of records) {
          if (chain || label(x) >= label(y)) continue;
          const { body } = await world.query(
            `query($a: SourceRecordInput!, $b: SourceRecordInput!) { whyRecordsLinked(a: $a, b: $b) { linked customerId summary path { from { source recordId } to { source recordId } via kind value event { id action actor source recordId evidence } } } }`,
            { a: input(label(x)), b: input(label(y)) },
          );
          const path = body.data.whyRecordsLinked.path;
          if (path.length === 2 && path[0].kind === 'PHONE' && path[1].kind === 'EMAIL') {
            chain = body.data.whyRecordsLinked;
            ends = [label(x), label(y)];
          }
        }
      }
      if (chain) break;
    }
    expect(chain).not.toBeNull();
    expect(chain.linked).toBe(true);
    expect(chain.summary).toMatch(/through 2 steps: a shared PHONE, then a shared EMAIL/);
    expect([label(chain.path[0].from), label(chain.path[1].to)]).toEqual(ends);
    expect(label(chain.path[0].to)).toBe(label(chain.path[1].from));
    // Each step is real: both records carry the value now, and the event is the stored link through it.
    for (const step of chain.path) {
      expect(step.via).toBe('SHARED_IDENTIFIER');
      for (const end of [step.from, step.to]) {
        const carried = await db()('idmap_record_identifiers')
          .where({ source: end.source.toLowerCase(), record_id: end.recordId, kind: step.kind, value: step.value })
          .whereNull('valid_to')
          .first();
        expect(carried).toBeDefined();
      }
      const stored = await db()('idmap_link_events').where('id', Number(step.event.id)).first();
      expect(stored).toMatchObject({ action: 'link', actor: step.event.actor });
      const evidence = JSON.parse(stored.evidence);
      expect(evidence).toMatchObject({ kind: step.kind, value: step.value });
      const joined = [`${stored.source}:${stored.record_id}`, ...evidence.with];
      expect(joined).toEqual(expect.arrayContaining([label(step.from), label(step.to)]));
    }

    const [x, y] = await loners(2, 2);
    const apart = await world.query(
      `query($a: SourceRecordInput!, $b: SourceRecordInput!, $x: ID!, $y: ID!) { whyRecordsLinked(a: $a, b: $b) { linked customerId aCustomerId bCustomerId path { via } summary } whyLinked(a: $x, b: $y) { linked path { via } } }`,
      {
        a: input(x.record),
        b: input(y.record),
        x: x.id,
        y: y.id,
      },
    );
    expect(apart.body.data).toEqual({
      whyRecordsLinked: {
        linked: false,
        customerId: null,
        aCustomerId: x.id,
        bCustomerId: y.id,
        path: [],
        summary: `Not linked: a belongs to customer ${x.id} and b to customer ${y.id}.`,
      },
      whyLinked: { linked: false, path: [] },
    });
    const unknown = await world.query(`query($x: ID!) { whyLinked(a: $x, b: "01NOPE0000000000000000000A") { linked } }`, { x: x.id });
    expect(codes(unknown.body)).toEqual(['NOT_FOUND']);
  });

  it('links and unlinks records with remembered decisions that hold through full re-resolution; refuses what cannot apply', async () => {
    const [a, b, c] = await loners(3, 4);
    const link = await world.query(
      `mutation($a: SourceRecordInput!, $b: SourceRecordInput!) { linkRecords(a: $a, b: $b, reason: "same person, two accounts") { ${RESULT} } }`,
      {
        a: input(a.record),
        b: input(b.record),
      },
    );
    expect(link.body.errors).toBeUndefined();
    const survivor = [a.id, b.id].sort()[0];
    expect(link.body.data.linkRecords).toMatchObject({ action: 'MERGE', customerId: survivor, customer: { id: survivor } });
    const why = await world.query(
      `query($a: SourceRecordInput!, $b: SourceRecordInput!) { whyRecordsLinked(a: $a, b: $b) { linked path { via event { action actor reason } } } }`,
      {
        a: input(a.record),
        b: input(b.record),
      },
    );
    expect(why.body.data.whyRecordsLinked).toEqual({
      linked: true,
      path: [{ via: 'MANUAL_DECISION', event: { action: 'MERGE', actor: ADMIN_ACTOR, reason: 'same person, two accounts' } }],
    });

    const unlink = await world.query(`mutation($r: SourceRecordInput!) { unlinkRecord(record: $r, reason: "another person") { ${RESULT} } }`, { r: input(b.record) });
    expect(unlink.body.errors).toBeUndefined();
    const fresh = unlink.body.data.unlinkRecord.customerId;
    expect(unlink.body.data.unlinkRecord).toMatchObject({
      action: 'SPLIT',
      otherCustomerId: survivor,
      movedRecords: [input(b.record)],
      customer: { id: fresh, sourceRecords: [input(b.record)] },
    });
    expect([a.id, b.id, c.id]).not.toContain(fresh);

    const settled = await mapping();
    await fullResolution();
    expect(await mapping()).toEqual(settled);
    const n = await eventCount();
    await fullResolution();
    expect(await eventCount()).toBe(n);

    const refused = async (text: string, vars: Record<string, unknown>) => {
      const { body } = await world.query(text, vars);
      return [codes(body), body.errors?.[0]?.message];
    };
    const merge = `mutation($s: ID!, $m: ID!, $r: String!) { mergeCustomers(survivorId: $s, mergedId: $m, reason: $r) { action } }`;
    expect(await refused(merge, { s: c.id, m: c.id, r: 'x' })).toEqual([['CONFLICT'], `Cannot merge customer ${c.id} into itself`]);
    expect(await refused(merge, { s: c.id, m: '01NOPE0000000000000000000A', r: 'x' })).toEqual([['NOT_FOUND'], 'No customer 01NOPE0000000000000000000A']);
    expect(await refused(merge, { s: c.id, m: a.id, r: '' })).toEqual([['BAD_USER_INPUT'], 'reason is required: say why, for the link history']);
    expect(await refused(merge, { s: c.id, m: a.id, r: 'x'.repeat(256) })).toEqual([['BAD_USER_INPUT'], 'reason must be at most 255 characters, got 256']);
    const linkAgain = `mutation($a: SourceRecordInput!, $b: SourceRecordInput!) { linkRecords(a: $a, b: $b, reason: "again") { action } }`;
    expect((await refused(linkAgain, { a: input(a.record), b: input(a.record) }))[0]).toEqual(['CONFLICT']);
    expect((await refused(linkAgain, { a: input(a.record), b: { source: 'CRM', recordId: 'nope' } }))[0]).toEqual(['NOT_FOUND']);
    expect(await mapping()).toEqual(settled);
  });

  it('pages the review queue with its evidence; an accepted candidate stays together and a rejected pair apart through full re-resolution', async () => {
    const Q = `query($status: CandidateStatus, $after: String) { mergeCandidates(status: $status, first: 3, after: $after) {
      edges { cursor node { id status reason rule kind value customerIds customers { id } records { source recordId } differ evidence createdAt } }
      pageInfo { hasNextPage endCursor } } }`;
    const open: any[] = [];
    for (let after: string | null = null; ;) {
      const { body } = await world.query(Q, { status: 'OPEN', after });
      expect(body.errors).toBeUndefined();
      open.push(...body.data.mergeCandidates.edges.map((e: any) => e.node));
      if (!body.data.mergeCandidates.pageInfo.hasNextPage) break;
      after = body.data.mergeCandidates.pageInfo.endCursor;
    }
    expect(open.length).toBe(Number((await db()('idmap_review_candidates').where('status', 'open').count({ n: '*' }))[0].n));
    expect(new Set(open.map((c) => c.id)).size).toBe(open.length);
    const pairs = open.filter((c) => c.reason === 'CONFLICT' && c.customers.length === 2);
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    for (const c of pairs) {
      expect(c.records.length).toBeGreaterThanOrEqual(2);
      expect(c.differ.length).toBeGreaterThan(0);
      expect(c.evidence.records).toBeDefined();
    }
    const [rejected, accepted] = [pairs[0], pairs.find((c) => !c.customerIds.some((id: string) => pairs[0].customerIds.includes(id)))];
    expect(accepted).toBeDefined();

    const settle = `mutation($id: ID!, $d: CandidateDecision!) { resolveCandidate(id: $id, decision: $d, reason: "reviewed the records") { ${RESULT} candidate { id status } } }`;
    const no = await world.query(settle, { id: rejected.id, d: 'REJECT' });
    expect(no.body.data.resolveCandidate).toMatchObject({ action: 'DECISION', movedRecords: [], candidate: { id: rejected.id, status: 'REJECTED' } });
    const yes = await world.query(settle, { id: accepted.id, d: 'ACCEPT' });
    const survivor = [...accepted.customerIds].sort()[0];
    expect(yes.body.data.resolveCandidate).toMatchObject({ action: 'MERGE', customerId: survivor, candidate: { id: accepted.id, status: 'ACCEPTED' } });
    expect(codes((await world.query(settle, { id: accepted.id, d: 'REJECT' })).body)).toEqual(['CONFLICT']);
    // One kind of finding: the conflicts alone, as many as the store holds open.
    const byReason = await world.query(`query { mergeCandidates(reason: CONFLICT, first: 100) { edges { node { reason status } } } }`);
    expect(byReason.body.errors).toBeUndefined();
    const openConflicts = await db()('idmap_review_candidates').where({ status: 'open', reason: 'conflict' }).count({ n: '*' });
    expect(byReason.body.data.mergeCandidates.edges.length).toBe(Math.min(100, Number(openConflicts[0].n)));
    for (const e of byReason.body.data.mergeCandidates.edges) expect(e.node).toEqual({ reason: 'CONFLICT', status: 'OPEN' });
    // The probabilistic tier's proposals carry their match weight, between the review and auto-link thresholds; other findings none.
    const weighed = await world.query(`query { mergeCandidates(status: null, first: 100) { edges { node { reason matchWeight evidence } } } }`);
    expect(weighed.body.errors).toBeUndefined();
    const nodes = weighed.body.data.mergeCandidates.edges.map((e: any) => e.node);
    const probable = nodes.filter((n: any) => n.reason === 'PROBABLE');
    expect(probable.length).toBeGreaterThan(0);
    for (const n of probable) {
      expect(n.matchWeight).toBe(n.evidence.weight);
      expect(n.matchWeight).toBeGreaterThanOrEqual(n.evidence.review);
      // Above auto-link only when something refused the link (two values of an exclusive kind).
      if (!n.evidence.differ) expect(n.matchWeight).toBeLessThan(n.evidence.autoLink);
    }
    for (const n of nodes.filter((x: any) => x.reason !== 'PROBABLE')) expect(n.matchWeight).toBeNull();
    // Strongest first: the same candidates (all of them fit one page here), the weighed by falling weight, then the others.
    expect(nodes.length).toBeLessThan(100);
    const strong = await world.query(`query { mergeCandidates(status: null, orderBy: STRONGEST, first: 100) { edges { node { reason matchWeight } } } }`);
    expect(strong.body.errors).toBeUndefined();
    const ranked = strong.body.data.mergeCandidates.edges.map((e: any) => e.node.matchWeight);
    const weights = ranked.filter((w: number | null) => w !== null);
    expect(weights).toEqual([...probable.map((n: any) => n.matchWeight)].sort((a, b) => b - a));
    expect(ranked.slice(0, weights.length)).toEqual(weights);
    // Candidates settled without a steward (their customers joined another way) are listed by their own status.
    const superseded = await world.query(Q, { status: 'SUPERSEDED', after: null });
    expect(superseded.body.errors).toBeUndefined();
    const supersededInDb = await db()('idmap_review_candidates').where('status', 'superseded').orderBy('id').select('id');
    expect(superseded.body.data.mergeCandidates.edges.map((e: any) => e.node.id).sort()).toEqual(
      supersededInDb
        .map((r: { id: number }) => String(r.id))
        .slice(0, 3)
        .sort(),
    );
    for (const e of superseded.body.data.mergeCandidates.edges) expect(e.node.status).toBe('SUPERSEDED');

    // Re-linking everything may link more now (a value refused only because of the accepted
    // pair links what else carries it), but never separates what was together.
    const settled = await owners();
    await fullResolution();
    const relinked = await owners();
    for (const group of groups(settled)) expect([group[0], new Set(group.map((r) => relinked.get(r))).size]).toEqual([group[0], 1]);
    const n = await eventCount();
    await fullResolution();
    expect(await eventCount()).toBe(n);
    const together = await world.query(`query($ids: [ID!]!) { customers(ids: $ids) { id } }`, { ids: [...accepted.customerIds, ...rejected.customerIds] });
    const ids = together.body.data.customers.map((c: any) => c.id);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[3]);
    const accepted2 = await world.query(Q, { status: 'ACCEPTED', after: null });
    expect(accepted2.body.data.mergeCandidates.edges.map((e: any) => e.node.id)).toEqual([accepted.id]);
    expect(codes((await world.query(Q, { status: null, after: 'not-a-cursor' })).body)).toEqual(['BAD_USER_INPUT']);
  });

  it('leaves resolution nothing to write after all these changes', async () => {
    const n = await eventCount();
    await runResolution(world.gw);
    await runResolution(world.gw);
    expect(await eventCount()).toBe(n);
  });
});
