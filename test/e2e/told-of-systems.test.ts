/**
 * That a customer has records in a system is that system's data (src/access/POLICY.md): a role is
 * told of a customer's records only in the systems whose data it sees. Session 41 held
 * `sourceRecords` and `identifiers` to that; the link history and the change feed name records too.
 * Measured in session 42 (2026-12-06) against a running c360 with a policy a company would write,
 * a call-centre role told of the CRM alone: its `linkHistory` listed the customer's helpdesk, WeChat,
 * WeCom, shop and marketplace records (`source: SUPPORT`, `sourceName: "support"`), and its change
 * feed delivered `{kind: SPLIT, records: [{source: SUPPORT, …}]}` when a helpdesk record left the
 * customer, though its `sourceRecords` listed the CRM's alone.
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createClient } from 'graphql-sse';
import { apiKeyFor, startTestWorld, type TestWorld } from '../helpers/world';

const CRM_AGENT_KEY = 'test-crm-agent-key-0123456789';
const WAIT_MS = 30_000;

/** A policy a company would write: call-centre agents see the CRM's contacts, their merges and the change feed, and no other system. */
const CRM_AGENT = {
  description: 'Call-centre agents of the CRM team: told of the CRM only.',
  grant: {
    Query: ['customer', 'customers'],
    Customer: ['id', 'crmContacts', 'sourceRecords', 'linkHistory'],
    CrmContact: ['id', 'tier'],
    SourceRecord: ['*'],
    LinkEvent: ['*', 'reason', 'evidence'],
    Subscription: ['customerChanged'],
    CustomerChange: ['*'],
    SourceRecordRef: ['*'],
  },
  mask: {
    'SourceRecord.recordId': { byParent: 'source', styles: { CRM: 'none' }, otherwise: 'hash' },
    'SourceRecordRef.recordId': { byParent: 'source', styles: { CRM: 'none' }, otherwise: 'hash' },
    'LinkEvent.recordId': { byParent: 'source', styles: { CRM: 'none' }, otherwise: 'hash' },
  },
};

/** Call-centre agents who find the caller by phone or email: told of the CRM only, as CRM_AGENT. */
const CRM_CALLER_KEY = 'test-crm-caller-key-0123456789';
const CRM_CALLER = {
  description: 'Call-centre agents finding callers by phone: told of the CRM only.',
  grant: {
    Query: ['customer', 'customerByIdentifier', 'customersByIdentifier'],
    Customer: ['id', 'crmContacts', 'identifiers'],
    CrmContact: ['id', 'phone', 'email'],
    Identifier: ['kind', 'source', 'value'],
  },
};
/** In-store staff: told of the shop only. */
const SHOP_STAFF_KEY = 'test-shop-staff-key-0123456789';
const SHOP_STAFF = {
  description: 'In-store staff finding members by phone: told of the shop only.',
  grant: {
    Query: ['customer', 'customerByIdentifier', 'customersByIdentifier'],
    Customer: ['id', 'shopAccounts', 'identifiers'],
    ShopAccount: ['id', 'phone', 'email'],
    Identifier: ['kind', 'source', 'value'],
  },
};

/** The gateway's spans: one `oneid <operation>` span per OneID batch read, counted per lookup. */
const spans = new InMemorySpanExporter();
let world: TestWorld;
/** A customer with CRM and helpdesk records, and the records. */
let subject: { id: string; crm: string; support: string };
/** Another customer with a CRM record, merged into the subject in the test that needs a merge. */
let other: string;
/** A second customer with CRM and helpdesk records, merged into `survivor` by the feed's merge test. */
let second: string;
let survivor: string;

const asAgent = { 'x-api-key': CRM_AGENT_KEY };

beforeAll(async () => {
  world = await startTestWorld({
    people: 200,
    seed: 42,
    spanExporter: spans,
    extraRoles: {
      crm_agent: { role: CRM_AGENT, keys: [CRM_AGENT_KEY] },
      crm_caller: { role: CRM_CALLER, keys: [CRM_CALLER_KEY] },
      shop_staff: { role: SHOP_STAFF, keys: [SHOP_STAFF_KEY] },
    },
  });
  const { body } = await world.query(`{ customersConnection(first: 100) { edges { node { id sourceRecords { source recordId } } } } }`);
  const customers = body.data.customersConnection.edges.map((e: any) => e.node) as Array<{ id: string; sourceRecords: Array<{ source: string; recordId: string }> }>;
  const recordOf = (c: (typeof customers)[number], source: string) => c.sourceRecords.find((r) => r.source === source)?.recordId;
  const both = customers.filter((c) => recordOf(c, 'CRM') && recordOf(c, 'SUPPORT'));
  expect(both.length).toBeGreaterThan(1);
  subject = { id: both[0].id, crm: recordOf(both[0], 'CRM')!, support: recordOf(both[0], 'SUPPORT')! };
  second = both[1].id;
  [other, survivor] = customers.filter((c) => c.id !== subject.id && c.sourceRecords.every((r) => r.source === 'CRM')).map((c) => c.id);
});

afterAll(async () => {
  await world?.close();
});

describe('Access: the link history and the change feed tell a role of records only in the systems it is told of', () => {
  const HISTORY = `query($id: ID!) { customer(id: $id) { sourceRecords { source } linkHistory(first: 100) { action source sourceName recordId reason evidence } } }`;

  it('lists in linkHistory only the events of records in those systems, and no merge (a merge moves records of any system)', async () => {
    await world.query(`mutation($s: ID!, $m: ID!) { mergeCustomers(survivorId: $s, mergedId: $m, reason: "told-of test") { customerId } }`, { s: subject.id, m: other });
    const admin = (await world.query(HISTORY, { id: subject.id })).body.data.customer;
    expect(admin.linkHistory.some((e: any) => e.action === 'MERGE')).toBe(true);
    expect(admin.linkHistory.some((e: any) => e.source === 'SUPPORT')).toBe(true);

    const { body } = await world.query(HISTORY, { id: subject.id }, asAgent);
    expect(body.errors).toBeUndefined();
    const events = body.data.customer.linkHistory;
    expect(body.data.customer.sourceRecords.map((r: any) => r.source)).toEqual(['CRM', 'CRM']);
    // The events of the two CRM records (each created or linked), nothing of the helpdesk, and no merge.
    expect(events.map((e: any) => [e.source, e.sourceName])).toEqual(admin.linkHistory.filter((e: any) => e.source === 'CRM').map(() => ['CRM', 'crm']));
    expect(events.length).toBeGreaterThanOrEqual(2);
    // A reason and evidence cite the records on the other side ("shares a PHONE with support:…"): withheld.
    expect(admin.linkHistory.every((e: any) => e.reason !== '***')).toBe(true);
    for (const e of events) expect([e.reason, e.evidence]).toEqual(['***', null]);
  });

  it('delivers on the change feed only the changes of records in those systems, counting only theirs', async () => {
    const agent = listen(CRM_AGENT_KEY);
    const support = listen(apiKeyFor('support'));
    await Promise.all([agent.ready, support.ready]);
    const unlink = (source: string, recordId: string) =>
      world.query(`mutation($r: SourceRecordInput!) { unlinkRecord(record: $r, reason: "told-of test") { customerId } }`, { r: { source, recordId } });
    // In the log's order: the helpdesk record's change first, then the CRM record's.
    expect((await unlink('SUPPORT', subject.support)).body.errors).toBeUndefined();
    expect((await unlink('CRM', subject.crm)).body.errors).toBeUndefined();

    const seen = (c: any, source: string) => c.customerId === subject.id && c.records.some((r: any) => r.source === source);
    await support.until((c) => seen(c, 'SUPPORT'));
    await support.until((c) => seen(c, 'CRM'));
    const crm = await agent.until((c) => seen(c, 'CRM'));
    expect(crm).toMatchObject({ kind: 'SPLIT', records: [{ source: 'CRM', recordId: subject.crm }], recordCount: 1 });
    // The helpdesk record's change came first in the log: by the CRM record's, the feed had passed it.
    expect(agent.changes().filter((c: any) => c.customerId === subject.id || c.otherCustomerId === subject.id)).toEqual([crm]);
    await Promise.all([agent.close(), support.close()]);
  });

  it('delivers a merge with only the records in those systems, and their number', async () => {
    const agent = listen(CRM_AGENT_KEY);
    const support = listen(apiKeyFor('support'));
    await Promise.all([agent.ready, support.ready]);
    const merged = await world.query(`mutation($s: ID!, $m: ID!) { mergeCustomers(survivorId: $s, mergedId: $m, reason: "told-of test") { customerId } }`, {
      s: survivor,
      m: second,
    });
    expect(merged.body.errors).toBeUndefined();
    const isMerge = (c: any) => c.kind === 'MERGED' && c.otherCustomerId === second;
    const all = await support.until(isMerge);
    expect(all.records.some((r: any) => r.source === 'SUPPORT')).toBe(true);
    const crmRecords = all.records.filter((r: any) => r.source === 'CRM');
    expect(crmRecords.length).toBeGreaterThan(0);
    expect(all.recordCount).toBe(all.records.length);
    const told = await agent.until(isMerge);
    expect([told.records.map((r: any) => r.source), told.recordCount]).toEqual([crmRecords.map(() => 'CRM'), crmRecords.length]);
    await Promise.all([agent.close(), support.close()]);
  });
});

/**
 * A golden field is a choice among the records of the systems that feed it: one chosen from the
 * helpdesk tells who has a helpdesk record. Measured in session 42 (2026-12-06) on the 5,000-person
 * demo world: of the customers marketing saw with records in the shop or marketplace only, 84 had a
 * (masked) golden name, every one of them a helpdesk requester, the helpdesk was called for each,
 * and with the helpdesk down marketing's `name` failed with `extensions.source: "support"`.
 */
describe('Access: a role computes golden fields from the systems it is told of', () => {
  const GOLDEN = `query($id: ID!) { customer(id: $id) { name phone email } }`;
  /** Customers whose name only the helpdesk holds, among the first 200 (marketing is told of every other system). */
  let helpdeskNamed: string[];

  beforeAll(async () => {
    const { body } = await world.query(`{ customersConnection(first: 200) { edges { node { id name sourceRecords { source } } } } }`);
    helpdeskNamed = body.data.customersConnection.edges
      .map((e: any) => e.node)
      .filter(
        (c: any) =>
          c.name !== null &&
          c.sourceRecords.some((r: any) => r.source === 'SUPPORT') &&
          c.sourceRecords.every((r: any) => ['SUPPORT', 'ORDERS', 'MARKETPLACE'].includes(r.source)),
      )
      .map((c: any) => c.id);
    expect(helpdeskNamed.length).toBeGreaterThan(0);
  });

  it('gives marketing no golden name only the helpdesk holds, and does not ask the helpdesk', async () => {
    for (const id of helpdeskNamed) {
      world.reset();
      const { body } = await world.query(GOLDEN, { id }, { 'x-api-key': apiKeyFor('marketing') });
      expect(body.errors).toBeUndefined();
      expect(body.data.customer.name).toBeNull();
      expect(world.calls.calls.filter((c: any) => c.source === 'support')).toEqual([]);
    }
    // The support role, told of the helpdesk, reads it as before.
    const { body } = await world.query(GOLDEN, { id: helpdeskNamed[0] }, { 'x-api-key': apiKeyFor('support') });
    expect(body.data.customer.name).not.toBeNull();
  });

  it('answers marketing’s golden fields without error while the helpdesk is down; a role told of it meets the outage', async () => {
    await world.support.close();
    const id = helpdeskNamed[0];
    const marketing = await world.query(GOLDEN, { id }, { 'x-api-key': apiKeyFor('marketing') });
    expect(marketing.body.errors).toBeUndefined();
    expect(marketing.body.data.customer.name).toBeNull();
    const support = await world.query(GOLDEN, { id }, { 'x-api-key': apiKeyFor('support') });
    expect(support.body.errors.map((e: any) => [e.path, e.extensions.code, e.extensions.source])).toContainEqual([['customer', 'name'], 'SOURCE_UNAVAILABLE', 'support']);
  });
});

/**
 * A customer known only to systems a role is not told of is no customer of that role. Measured in
 * session 42 (2026-12-06) on the 5,000-person demo world: marketing, not told of the helpdesk,
 * listed its 364 helpdesk-only customers in `customersConnection` and read each by `customer(id:)`,
 * a row with no record and no golden field that said "only the helpdesk knows them".
 */
describe('Access: a role lists and reads only customers known to a system it is told of', () => {
  const asMarketing = { 'x-api-key': apiKeyFor('marketing') };
  /** Active customers whose every record is the helpdesk's, counted from the OneID store itself. */
  let helpdeskOnly: string[];
  let active: number;

  beforeAll(async () => {
    const db = world.gw.oneidDb;
    const ids: string[] = (await db('idmap_customers').where('status', 'active').select('id')).map((r: { id: string }) => r.id);
    const sources = new Map<string, Set<string>>();
    for (const r of await db('idmap_source_records').whereNotNull('customer_id').select('customer_id', 'source')) {
      if (!sources.has(r.customer_id)) sources.set(r.customer_id, new Set());
      sources.get(r.customer_id)!.add(r.source);
    }
    active = ids.length;
    helpdeskOnly = ids.filter((id) => [...(sources.get(id) ?? [])].every((s) => s === 'support') && sources.has(id));
    expect(helpdeskOnly.length).toBeGreaterThan(0);
  });

  it('counts and pages marketing’s customers without the helpdesk-only ones; admin’s list is every customer', async () => {
    const COUNT = `{ customersConnection(first: 500) { totalCount edges { node { id } } pageInfo { hasNextPage } } }`;
    // The walk's statements on the customers table, as the OneID store runs them.
    const walked: string[] = [];
    const seen = (q: { sql: string }) => /from [`"]idmap_customers[`"]/i.test(q.sql) && walked.push(q.sql);
    world.gw.oneidDb.on('query', seen);
    const admin = (await world.query(COUNT)).body.data.customersConnection;
    const adminWalk = walked.splice(0);
    const { body } = await world.query(COUNT, undefined, asMarketing);
    world.gw.oneidDb.removeListener('query', seen);
    expect(admin.totalCount).toBe(active);
    // Admin, told of every system, walks as before (no condition on records); marketing in as many statements, each with it.
    expect(adminWalk.length).toBeGreaterThan(0);
    expect(adminWalk.filter((q) => /exists/i.test(q))).toEqual([]);
    expect(walked.length).toBe(adminWalk.length);
    expect(walked.every((q) => /exists/i.test(q))).toBe(true);
    expect(body.errors).toBeUndefined();
    const list = body.data.customersConnection;
    expect(list.totalCount).toBe(active - helpdeskOnly.length);
    const listed = new Set(list.edges.map((e: any) => e.node.id));
    expect(list.pageInfo.hasNextPage).toBe(false);
    expect(listed.size).toBe(list.totalCount);
    expect(helpdeskOnly.filter((id) => listed.has(id))).toEqual([]);
  });

  it('answers customer(id:) of a helpdesk-only customer to marketing as it answers an unknown id; the support role reads it', async () => {
    const ONE = `query($id: ID!) { customer(id: $id) { id sourceRecords { source } } }`;
    const unknown = await world.query(ONE, { id: 'no-such-customer' }, asMarketing);
    const hidden = await world.query(ONE, { id: helpdeskOnly[0] }, asMarketing);
    expect(hidden.status).toBe(unknown.status);
    expect(hidden.body).toEqual(unknown.body);
    expect(hidden.body.data.customer).toBeNull();
    const support = await world.query(ONE, { id: helpdeskOnly[0] }, { 'x-api-key': apiKeyFor('support') });
    expect(support.body.data.customer).toEqual({ id: helpdeskOnly[0], sourceRecords: [{ source: 'SUPPORT' }] });
  });

  it('gives a segment a size, a list and an export that agree, with no helpdesk-only customer and phones of its systems only', async () => {
    const created = await world.query(`mutation { createSegment(input: { name: "told_of_phones", filter: { hasPhone: true } }) { name } }`);
    expect(created.body.errors).toBeUndefined();
    const SEGMENT = `{ segment(name: "told_of_phones") { size customers(first: 500) { totalCount edges { node { id } } } } }`;
    const all = (await world.query(SEGMENT)).body.data.segment;
    const { body } = await world.query(SEGMENT, undefined, asMarketing);
    expect(body.errors).toBeUndefined();
    const seg = body.data.segment;
    const listed: string[] = seg.customers.edges.map((e: any) => e.node.id);
    expect([seg.size, seg.customers.totalCount]).toEqual([listed.length, listed.length]);
    expect(helpdeskOnly.filter((id) => listed.includes(id))).toEqual([]);
    // Helpdesk-only customers with a phone are in admin's segment, not in marketing's.
    const phoned = helpdeskOnly.filter((id) => all.customers.edges.some((e: any) => e.node.id === id));
    expect(phoned.length).toBeGreaterThan(0);
    expect(all.size).toBeGreaterThan(seg.size);
    const res = await fetch(`${world.url}/export/customers.ndjson?${new URLSearchParams({ segment: 'told_of_phones', fields: 'id' })}`, { headers: asMarketing });
    expect(res.status).toBe(200);
    const rows = (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((l) => l._cursor);
    expect(rows.map((r: any) => r.id).sort()).toEqual([...listed].sort());
  });
});

/**
 * A lookup by a value answers who holds it: that is the data of the systems holding it. Measured in
 * session 43 (2026-12-06) with CRM_CALLER: `customerByIdentifier(kind: PHONE)` of a phone only a
 * customer's helpdesk requester carries found that customer (it has a CRM record, so the role may
 * know it), telling the role the customer's helpdesk phone, which no field of its schema shows. A
 * role not told of every system looks up by its systems' identifiers only.
 */
describe('Access: a lookup matches only the identifiers of the systems the role is told of', () => {
  const BY_ONE = `query($k: IdentifierKind!, $v: String!) { customerByIdentifier(kind: $k, value: $v) { id } }`;
  const BY_ALL = `query($k: IdentifierKind!, $v: String!) { customersByIdentifier(kind: $k, value: $v) { id } }`;
  const asCaller = { 'x-api-key': CRM_CALLER_KEY };
  const asShop = { 'x-api-key': SHOP_STAFF_KEY };
  type Holder = { id: string; kind: string; value: string };
  /** A phone or email only a helpdesk record carries, of a customer with CRM and shop records; one its CRM record carries; one its shop account carries. */
  let helpdeskOnly: Holder;
  let crmHeld: Holder;
  let shopHeld: Holder;

  beforeAll(async () => {
    const { body } = await world.query(`{ customersConnection(first: 500) { edges { node { id sourceRecords { source } identifiers { kind value source } } } } }`);
    type Node = { id: string; sourceRecords: Array<{ source: string }>; identifiers: Array<{ kind: string; value: string; source: string }> };
    const nodes: Node[] = body.data.customersConnection.edges.map((e: any) => e.node);
    // Every holder of a value, of every system: the value must be no other customer's.
    const holders = new Map<string, Set<string>>();
    for (const n of nodes) for (const i of n.identifiers) holders.set(`${i.kind}:${i.value}`, (holders.get(`${i.kind}:${i.value}`) ?? new Set()).add(n.id));
    const sole = (n: Node, i: Node['identifiers'][number]) => holders.get(`${i.kind}:${i.value}`)!.size === 1;
    const contact = (i: Node['identifiers'][number]) => i.kind === 'PHONE' || i.kind === 'EMAIL';
    for (const n of nodes) {
      const has = (s: string) => n.sourceRecords.some((r) => r.source === s);
      if (!has('CRM') || !has('SUPPORT') || !has('ORDERS')) continue;
      const only = n.identifiers.find(
        (i) => i.source === 'SUPPORT' && contact(i) && sole(n, i) && !n.identifiers.some((o) => o.source !== 'SUPPORT' && o.kind === i.kind && o.value === i.value),
      );
      const crm = n.identifiers.find((i) => i.source === 'CRM' && contact(i) && sole(n, i));
      const shop = n.identifiers.find((i) => i.source === 'ORDERS' && contact(i) && sole(n, i));
      if (only && crm && shop) {
        [helpdeskOnly, crmHeld, shopHeld] = [only, crm, shop].map((i) => ({ id: n.id, kind: i.kind, value: i.value }));
        break;
      }
    }
    expect(helpdeskOnly).toBeDefined();
  });

  it('answers a CRM-only role’s lookup of a value only the helpdesk holds as it answers nobody’s value, and finds the customer by the CRM’s', async () => {
    // Admin and the support role, told of the helpdesk, find the customer by it.
    for (const headers of [undefined, { 'x-api-key': apiKeyFor('support') }])
      expect((await world.query(BY_ONE, { k: helpdeskOnly.kind, v: helpdeskOnly.value }, headers)).body).toEqual({ data: { customerByIdentifier: { id: helpdeskOnly.id } } });
    const nobody = helpdeskOnly.kind === 'PHONE' ? '+8613000000001' : 'nobody-has-this@example.com';
    const unknown = await world.query(BY_ONE, { k: helpdeskOnly.kind, v: nobody }, asCaller);
    expect(unknown.body).toEqual({ data: { customerByIdentifier: null } });
    for (const key of [asCaller, asShop]) {
      const hidden = await world.query(BY_ONE, { k: helpdeskOnly.kind, v: helpdeskOnly.value }, key);
      expect([hidden.status, hidden.body]).toEqual([unknown.status, unknown.body]);
      expect((await world.query(BY_ALL, { k: helpdeskOnly.kind, v: helpdeskOnly.value }, key)).body).toEqual({ data: { customersByIdentifier: [] } });
    }
    expect((await world.query(BY_ONE, { k: crmHeld.kind, v: crmHeld.value }, asCaller)).body).toEqual({ data: { customerByIdentifier: { id: crmHeld.id } } });
    expect((await world.query(BY_ALL, { k: crmHeld.kind, v: crmHeld.value }, asCaller)).body).toEqual({ data: { customersByIdentifier: [{ id: crmHeld.id }] } });
    expect((await world.query(BY_ONE, { k: shopHeld.kind, v: shopHeld.value }, asShop)).body).toEqual({ data: { customerByIdentifier: { id: shopHeld.id } } });
  });

  it('costs a role told of every system no more OneID reads than before, and a role told of some the one read its check made before', async () => {
    const reads = async (headers?: Record<string, string>) => {
      world.reset();
      spans.reset();
      const { body } = await world.query(BY_ONE, { k: crmHeld.kind, v: crmHeld.value }, headers);
      expect(body).toEqual({ data: { customerByIdentifier: { id: crmHeld.id } } });
      expect(world.calls.calls).toEqual([]);
      return spans
        .getFinishedSpans()
        .filter((s) => s.name.startsWith('oneid '))
        .map((s) => s.name)
        .sort();
    };
    // Told of every system: the identifier index and the customer, nothing else.
    const found = ['oneid customerIdsByIdentifiers', 'oneid customersByIds'];
    expect(await reads()).toEqual(found);
    expect(await reads({ 'x-api-key': apiKeyFor('support') })).toEqual(found);
    // Told of the CRM only: one more, the found customer's identifiers (which systems hold the value),
    // in place of its records (the told-of check of session 42).
    expect(await reads(asCaller)).toEqual([...found, 'oneid identifiersByCustomerIds'].sort());
  });
});

function listen(key: string) {
  const client = createClient({ url: `${world.url}/graphql/stream`, headers: { 'x-api-key': key }, retryAttempts: 0 });
  const results: any[] = [];
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const it = client.iterate(
    { query: `subscription { customerChanged { kind customerId otherCustomerId records { source recordId } recordCount } }` },
    { connected: () => connected() },
  );
  const done = (async () => {
    for await (const r of it) results.push(r);
  })();
  done.catch(() => undefined);
  return {
    ready,
    changes: () => results.map((r) => r.data?.customerChanged).filter(Boolean),
    async until(pred: (c: any) => boolean) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const hit = results.map((r) => r.data?.customerChanged).find((c) => c && pred(c));
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no such change within ${WAIT_MS} ms; got ${JSON.stringify(results)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await it.return?.();
      client.dispose();
      await done.catch(() => undefined);
    },
  };
}
