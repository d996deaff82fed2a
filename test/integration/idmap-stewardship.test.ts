/**
 * OneID stewardship against the store on the engine under test: people linking, unlinking,
 * merging, splitting and settling review candidates, and resolution respecting what they
 * decided; and the explanation of why two records or customers are one.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db';
import { tempDir } from '../helpers/tmp';
import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve, type IdMapStore } from '../../src/idmap';
import { createStewardship, MAX_REASON_LENGTH, stewardActor, type Stewardship } from '../../src/idmap/stewardship';
import { insertCandidates, type NewCandidate } from '../../src/idmap/writes';
import type { SourceName } from '../../src/vocabulary';
import { FakeSource, rec } from '../helpers/feeds';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));

/**
 * The world: a chain crm:A –phone– orders:B –email– support:C; loners D, E, F, G; two
 * households whose shared phone resolution refuses (H1/H2 and K1/K2: member numbers
 * differ, each a conflict candidate); and a placeholder email on T1 and T2 (a blocked candidate).
 */
function sources() {
  return [
    new FakeSource('crm', [
      rec('crm', 'A', { phone: '139-1111-2222' }, { name: '王芳' }),
      rec('crm', 'D', { email: 'd@qq.com' }),
      rec('crm', 'E', { email: 'e@qq.com' }),
      rec('crm', 'F', { email: 'f@qq.com' }),
      rec('crm', 'H1', { phone: '13800001111', email: 'h1@qq.com', member: 'M20000001' }, { name: '李强', birthday: '1980-01-01' }),
      rec('crm', 'H2', { phone: '13800001111', email: 'h2@163.com', member: 'M20000002' }, { name: '张伟', birthday: '1985-02-02' }),
      rec('crm', 'K1', { phone: '13700002222', email: 'k1@qq.com', member: 'M20000003' }, { name: '刘洋' }),
      rec('crm', 'T1', { email: 'test@test.com' }),
      rec('crm', 'T2', { email: 'test@test.com' }),
    ]),
    new FakeSource('orders', [
      rec('orders', 'B', { phone: '8613911112222', email: 'Wang.Fang@qq.com' }),
      rec('orders', 'K2', { phone: '13700002222', email: 'k2@qq.com', member: 'M20000004' }),
    ]),
    new FakeSource('support', [rec('support', 'C', { email: 'wang.fang@qq.com' }, { name: '王芳' }), rec('support', 'G', { email: 'g@qq.com' })]),
    new FakeSource('scrm', []),
  ];
}

const r = (label: string) => {
  const [source, recordId] = label.split(':');
  return { source: source as SourceName, recordId };
};
const STEWARD = 'user:alice';

describe(`OneID stewardship (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  let steward: Stewardship;
  let connectors: FakeSource[];

  const owner = async (label: string) => (await store.customerIdsBySourceRecords([r(label)]))[0] as string;
  const events = () =>
    t
      .db('idmap_link_events')
      .count({ n: '*' })
      .then(([{ n }]) => Number(n));
  /** Every source record's customer, and every customer's state: the whole identity map. */
  const mapping = async () => ({
    records: (await t.db('idmap_source_records').orderBy(['source', 'record_id']).select('source', 'record_id', 'customer_id')).map(
      (x) => `${x.source}:${x.record_id}=${x.customer_id}`,
    ),
    customers: (await t.db('idmap_customers').orderBy('id').select('id', 'status', 'merged_into')).map((x) => `${x.id}:${x.status}:${x.merged_into}`),
  });
  const candidateOf = async (label: string) => {
    const c = await owner(label);
    return (await store.candidatesByCustomerIds([c]))[0].find((x) => x.reason === 'conflict')!;
  };
  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return [(e as { extensions?: { code?: string } }).extensions?.code, (e as Error).message];
    }
    throw new Error('expected a refusal');
  };
  /** Resolution as if every record had changed in its source: read from the start, every record re-linked. */
  async function fullResolution() {
    await t.db('idmap_scan_cursors').del();
    await t.db('idmap_source_records').whereNull('deleted_at').update({ pending: 1 });
    return resolve({ store, connectors, rules });
  }

  beforeEach(async () => {
    t = await freshDatabase('idmap_steward');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
    steward = createStewardship(store);
    connectors = sources();
    await resolve({ store, connectors, rules });
  });
  afterEach(async () => {
    await t.drop();
  });

  it('has the world it was built for', async () => {
    const chain = await Promise.all(['crm:A', 'orders:B', 'support:C'].map(owner));
    expect(new Set(chain).size).toBe(1);
    const apart = await Promise.all(['crm:D', 'crm:E', 'crm:F', 'support:G', 'crm:H1', 'crm:H2', 'crm:K1', 'orders:K2'].map(owner));
    expect(new Set([...apart, chain[0]]).size).toBe(9);
    expect((await store.reviewCandidates({ status: 'open' })).map((c) => c.reason).sort()).toEqual(['blocked', 'conflict', 'conflict']);
  });

  describe('whyLinked', () => {
    it('explains a chain A –phone– B –email– C with the event that made each link', async () => {
      const x = await steward.whyRecordsLinked(r('crm:A'), r('support:C'));
      expect(x).toMatchObject({ linked: true, customerId: await owner('crm:A') });
      expect(x.path.map((s) => [`${s.from.source}:${s.from.recordId}`, s.via, s.kind, s.value, `${s.to.source}:${s.to.recordId}`])).toEqual([
        ['crm:A', 'SHARED_IDENTIFIER', 'PHONE', '+8613911112222', 'orders:B'],
        ['orders:B', 'SHARED_IDENTIFIER', 'EMAIL', 'wang.fang@qq.com', 'support:C'],
      ]);
      expect(x.path.map((s) => [s.event?.action, s.event?.actor, `${s.event?.source}:${s.event?.recordId}`])).toEqual([
        ['link', 'rule:phone', 'orders:B'],
        ['link', 'rule:email', 'support:C'],
      ]);
      expect(x.summary).toBe(`Linked in customer ${x.customerId} through 2 steps: a shared PHONE, then a shared EMAIL.`);
      // The other way round, the same chain reversed.
      const back = await steward.whyRecordsLinked(r('support:C'), r('crm:A'));
      expect(back.path.map((s) => s.kind)).toEqual(['EMAIL', 'PHONE']);
    });

    it('answers linked: false for records and customers that are not one, and NOT_FOUND for an unknown id', async () => {
      const [a, d] = [await owner('crm:A'), await owner('crm:D')];
      expect(await steward.whyRecordsLinked(r('crm:A'), r('crm:D'))).toEqual({
        linked: false,
        customerId: null,
        aCustomerId: a,
        bCustomerId: d,
        path: [],
        merges: [],
        summary: `Not linked: a belongs to customer ${a} and b to customer ${d}.`,
      });
      expect(await steward.whyRecordsLinked(r('crm:A'), r('crm:nope'))).toMatchObject({
        linked: false,
        bCustomerId: null,
        summary: expect.stringMatching(/b belongs to no customer/),
      });
      expect(await steward.whyLinked(a, d)).toMatchObject({ linked: false, aCustomerId: a, bCustomerId: d, path: [] });
      expect(await codeOf(steward.whyLinked(a, '01UNKNOWN0000000000000000'))).toEqual(['NOT_FOUND', 'No customer 01UNKNOWN0000000000000000']);
    });

    it('explains two customer ids merged into one through the records each brought, a merged id standing for its records', async () => {
      const [e, f, g] = [await owner('crm:E'), await owner('crm:F'), await owner('support:G')];
      await steward.mergeCustomers({ survivorId: f, mergedId: g, actor: STEWARD, reason: 'same person, checked by phone' });
      await steward.mergeCustomers({ survivorId: e, mergedId: f, actor: 'user:bob', reason: 'same person' });
      const x = await steward.whyLinked(g, e);
      expect(x).toMatchObject({ linked: true, customerId: e, aCustomerId: e, bCustomerId: e });
      expect(x.merges.map((m) => [m.action, m.customerId, m.otherCustomerId])).toEqual([
        ['merge', f, g],
        ['merge', e, f],
      ]);
      // From G's record to E's: through F's (merged into E along with G's), each step a steward's merge.
      expect(x.path.map((s) => [`${s.from.source}:${s.from.recordId}`, s.via, `${s.to.source}:${s.to.recordId}`, s.event?.actor])).toEqual([
        ['support:G', 'MANUAL_DECISION', 'crm:F', STEWARD],
        ['crm:F', 'MANUAL_DECISION', 'crm:E', 'user:bob'],
      ]);
      expect((await steward.whyLinked(f, g)).path.map((s) => `${s.from.recordId}>${s.to.recordId}`)).toEqual(['F>G']);
    });

    it("shows a steward's link between two records as their step", async () => {
      await steward.linkRecords({ a: r('crm:D'), b: r('crm:A'), actor: STEWARD, reason: 'same person: confirmed on the phone' });
      const x = await steward.whyRecordsLinked(r('crm:D'), r('support:C'));
      expect(x.path.map((s) => [`${s.from.source}:${s.from.recordId}`, s.via, s.kind, `${s.to.source}:${s.to.recordId}`])).toEqual([
        ['crm:D', 'MANUAL_DECISION', null, 'crm:A'],
        ['crm:A', 'SHARED_IDENTIFIER', 'PHONE', 'orders:B'],
        ['orders:B', 'SHARED_IDENTIFIER', 'EMAIL', 'support:C'],
      ]);
      expect(x.path[0].event).toMatchObject({ action: 'merge', actor: STEWARD, reason: 'same person: confirmed on the phone' });
    });

    it("shows a record a steward unlinked and then linked back as joined by that link, not by the rule's link the unlink undid", async () => {
      await steward.unlinkRecord({ record: r('orders:B'), actor: STEWARD, reason: 'another Wang Fang' });
      await steward.linkRecords({ a: r('orders:B'), b: r('crm:A'), actor: 'user:bob', reason: 'the same Wang Fang after all' });
      const x = await steward.whyRecordsLinked(r('crm:A'), r('orders:B'));
      expect(x.path.map((s) => [`${s.from.source}:${s.from.recordId}`, s.via, `${s.to.source}:${s.to.recordId}`, s.event?.action, s.event?.actor])).toEqual([
        ['crm:A', 'MANUAL_DECISION', 'orders:B', 'merge', 'user:bob'],
      ]);
      // C's link through B's email was severed too: C reaches B through A, by the records' shared values only where the log shows no join.
      const c = await steward.whyRecordsLinked(r('support:C'), r('orders:B'));
      expect(c.path.map((s) => s.event?.actor ?? null)).not.toContain('rule:email');
    });
  });

  describe('merge and split', () => {
    it('merge then split restores exactly the earlier mapping, also for a merge of a merged-into customer', async () => {
      const before = await mapping();
      const [e, f, g] = [await owner('crm:E'), await owner('crm:F'), await owner('support:G')];
      await steward.mergeCustomers({ survivorId: f, mergedId: g, actor: STEWARD, reason: 'same' });
      const afterFirst = await mapping();
      await steward.mergeCustomers({ survivorId: e, mergedId: f, actor: STEWARD, reason: 'same' });
      expect(await Promise.all(['crm:E', 'crm:F', 'support:G'].map(owner))).toEqual([e, e, e]);
      expect((await store.customersByIds([g]))[0]).toMatchObject({ id: e, mergedFrom: g });

      const split = await steward.splitCustomer({ mergedId: f, actor: 'user:bob', reason: 'not the same after all' });
      expect(split).toMatchObject({ action: 'split', customerId: f, otherCustomerId: e });
      expect(split.movedRecords).toEqual([r('crm:F'), r('support:G')]);
      expect(await mapping()).toEqual(afterFirst);
      await steward.splitCustomer({ mergedId: g, actor: 'user:bob', reason: 'not the same either' });
      expect(await mapping()).toEqual(before);
    });

    it('refuses to split a merge none of whose records is left on the survivor, rather than bring back an empty customer', async () => {
      const [e, f] = [await owner('crm:E'), await owner('crm:F')];
      await steward.mergeCustomers({ survivorId: e, mergedId: f, actor: STEWARD, reason: 'same' });
      // F's only record leaves the survivor since: unlinked by another steward.
      const n = (await steward.unlinkRecord({ record: r('crm:F'), actor: 'user:bob', reason: 'someone else' })).customerId;
      const before = await mapping();
      const changes = await events();
      expect(await codeOf(steward.splitCustomer({ mergedId: f, actor: STEWARD, reason: 'not the same' }))).toEqual([
        'CONFLICT',
        `Customer ${f} has nothing to take back from ${e}: the records its merge moved have left it since`,
      ]);
      expect(await mapping()).toEqual(before);
      expect(await events()).toBe(changes);
      expect(await owner('crm:F')).toBe(n);
    });

    it('records each merge and split with the steward as actor, the decision remembered', async () => {
      const [e, f] = [await owner('crm:E'), await owner('crm:F')];
      await steward.mergeCustomers({ survivorId: e, mergedId: f, actor: STEWARD, reason: 'same' });
      await steward.splitCustomer({ mergedId: f, actor: 'user:bob', reason: 'different' });
      const [history] = await store.linkEventsByCustomerIds([e]);
      expect(history.slice(0, 4).map((x) => [x.action, x.actor, x.otherCustomerId, x.evidence?.verdict ?? null])).toEqual([
        ['decision', 'user:bob', f, 'different'],
        ['split', 'user:bob', f, null],
        ['decision', STEWARD, f, 'same'],
        ['merge', STEWARD, f, null],
      ]);
      expect(history[1].evidence).toMatchObject({ undoes: history[3].id, movedRecords: [r('crm:F')] });
      expect(await store.differentPairs()).toEqual([[e, f]]);
    });

    it('records a steward as how they authenticated and who they are, whole: a token subject of 255 characters, and an API key of that name apart', async () => {
      const [e, f] = [await owner('crm:E'), await owner('crm:F')];
      const subject = `https://idp.c360.test/users/${'x'.repeat(227)}`;
      expect(subject).toHaveLength(255);
      await steward.mergeCustomers({ survivorId: e, mergedId: f, actor: stewardActor({ principal: subject, principalKind: 'jwt' }), reason: 'same' });
      await steward.splitCustomer({ mergedId: f, actor: stewardActor({ principal: subject, principalKind: 'apiKey' }), reason: 'different' });
      const [history] = await store.linkEventsByCustomerIds([e]);
      expect(history.slice(0, 4).map((x) => [x.action, x.actor])).toEqual([
        ['decision', `user:apiKey:${subject}`],
        ['split', `user:apiKey:${subject}`],
        ['decision', `user:jwt:${subject}`],
        ['merge', `user:jwt:${subject}`],
      ]);
    });

    it('refuses what cannot apply, each with a coded, clear error, writing nothing', async () => {
      const [e, f] = [await owner('crm:E'), await owner('crm:F')];
      const n = await events();
      expect(await codeOf(steward.mergeCustomers({ survivorId: e, mergedId: e, actor: STEWARD, reason: 'x' }))).toEqual([
        'CONFLICT',
        `Cannot merge customer ${e} into itself`,
      ]);
      expect(await codeOf(steward.mergeCustomers({ survivorId: e, mergedId: '01UNKNOWN0000000000000000', actor: STEWARD, reason: 'x' }))).toEqual([
        'NOT_FOUND',
        'No customer 01UNKNOWN0000000000000000',
      ]);
      expect(await codeOf(steward.splitCustomer({ mergedId: e, actor: STEWARD, reason: 'x' }))).toEqual(['CONFLICT', `Customer ${e} is not merged`]);
      expect(await codeOf(steward.splitCustomer({ mergedId: 'nobody', actor: STEWARD, reason: 'x' }))).toEqual(['NOT_FOUND', 'No customer nobody']);
      expect((await codeOf(steward.mergeCustomers({ survivorId: e, mergedId: f, actor: STEWARD, reason: '  ' })))[0]).toBe('BAD_USER_INPUT');
      expect(await codeOf(steward.mergeCustomers({ survivorId: e, mergedId: f, actor: STEWARD, reason: 'x'.repeat(MAX_REASON_LENGTH + 1) }))).toEqual([
        'BAD_USER_INPUT',
        `reason must be at most ${MAX_REASON_LENGTH} characters, got ${MAX_REASON_LENGTH + 1}`,
      ]);
      expect(await events()).toBe(n);
      await steward.mergeCustomers({ survivorId: e, mergedId: f, actor: STEWARD, reason: 'same' });
      expect(await codeOf(steward.mergeCustomers({ survivorId: f, mergedId: e, actor: STEWARD, reason: 'again' }))).toEqual([
        'CONFLICT',
        `Customer ${f} is not active: it was merged into ${e}; use that id`,
      ]);
    });
  });

  describe('two stewards at once', () => {
    /** The outcomes of changes sent together: each a customer id, or the code it was refused with. */
    const together = (...changes: Array<Promise<{ customerId: string | null }>>) =>
      Promise.all(
        changes.map((p) =>
          p.then(
            (x) => x.customerId,
            (e) => (e as { extensions?: { code?: string } }).extensions?.code ?? String(e),
          ),
        ),
      );

    it('splits a merge once when two stewards split it together: the other is told it is not merged', async () => {
      const [e, f] = [await owner('crm:E'), await owner('crm:F')];
      for (let round = 0; round < 5; round++) {
        await steward.mergeCustomers({ survivorId: e, mergedId: f, actor: STEWARD, reason: 'same' });
        const splits = await together(
          steward.splitCustomer({ mergedId: f, actor: STEWARD, reason: 'different' }),
          steward.splitCustomer({ mergedId: f, actor: 'user:bob', reason: 'different' }),
        );
        expect(splits.sort()).toEqual(['CONFLICT', f].sort());
        expect(await Promise.all(['crm:E', 'crm:F'].map(owner))).toEqual([e, f]);
      }
      expect(await t.db('idmap_link_events').where({ action: 'split' }).count({ n: '*' })).toEqual([{ n: 5 }]);
    });

    it('unlinks a record once when two stewards unlink it together, and never empties a customer of two records unlinked apart', async () => {
      for (let round = 0; round < 5; round++) {
        const x = await owner('crm:A');
        const twice = await together(
          steward.unlinkRecord({ record: r('support:C'), actor: STEWARD, reason: 'someone else' }),
          steward.unlinkRecord({ record: r('support:C'), actor: 'user:bob', reason: 'someone else' }),
        );
        expect(twice.filter((o) => o === 'CONFLICT')).toHaveLength(1);
        const apart = twice.find((o) => o !== 'CONFLICT')!;
        expect(await owner('support:C')).toBe(apart);
        // Of A and B (the two records left), each steward unlinks one: one must stay.
        const both = await together(
          steward.unlinkRecord({ record: r('crm:A'), actor: STEWARD, reason: 'someone else' }),
          steward.unlinkRecord({ record: r('orders:B'), actor: 'user:bob', reason: 'someone else' }),
        );
        expect(both.filter((o) => o === 'CONFLICT')).toHaveLength(1);
        const [{ n }] = await t.db('idmap_source_records').where('customer_id', x).count({ n: '*' });
        expect(Number(n)).toBe(1);
        // Every customer that is active holds a record.
        const empty = await t
          .db('idmap_customers as c')
          .where('c.status', 'active')
          .whereNotExists((q) => q.from('idmap_source_records as sr').whereRaw('sr.customer_id = c.id'))
          .count({ n: '*' });
        expect(Number(empty[0].n)).toBe(0);
        // Back to one customer for the next round.
        await steward.linkRecords({ a: r('crm:A'), b: r('orders:B'), actor: STEWARD, reason: 'same' });
        await steward.linkRecords({ a: r('crm:A'), b: r('support:C'), actor: STEWARD, reason: 'same' });
      }
    });
  });

  describe('a link and an unlink of one record at once', () => {
    it('never answers a link as done without the two records in one customer, nor leaves an unlinked record with the rest', async () => {
      const outcome = (p: Promise<unknown>) =>
        p.then(
          () => 'done',
          (e) => (e as { extensions?: { code?: string } }).extensions?.code ?? String(e),
        );
      // Each round: P alone; Q and R one customer through an email. One steward links P and Q while another unlinks Q.
      const later = '2026-11-20T08:00:00Z';
      const ROUNDS = 10; // the two interleave differently from round to round
      for (let i = 0; i < ROUNDS; i++) {
        connectors[0].put(rec('crm', `P${i}`, { email: `p${i}@qq.com` }, undefined, later));
        connectors[2].put(rec('support', `Q${i}`, { email: `q${i}@qq.com` }, undefined, later));
        connectors[1].put(rec('orders', `R${i}`, { email: `q${i}@qq.com` }, undefined, later));
      }
      await resolve({ store, connectors, rules });
      for (let i = 0; i < ROUNDS; i++) {
        const [linked, unlinked] = await Promise.all([
          outcome(steward.linkRecords({ a: r(`crm:P${i}`), b: r(`support:Q${i}`), actor: STEWARD, reason: 'same person' })),
          outcome(steward.unlinkRecord({ record: r(`support:Q${i}`), actor: 'user:bob', reason: 'someone else' })),
        ]);
        const [p, q, rr] = await Promise.all([`crm:P${i}`, `support:Q${i}`, `orders:R${i}`].map(owner));
        expect([linked, unlinked]).toEqual([expect.stringMatching(/^(done|CONFLICT)$/), expect.stringMatching(/^(done|CONFLICT)$/)]);
        // Whichever commits second acts on what the first left: a link after the unlink joins P and Q alone;
        // an unlink after the link leaves P with R.
        const last = async (action: string, actor: string) => Number((await t.db('idmap_link_events').where({ action, actor }).max({ id: 'id' }))[0].id || 0);
        const linkLast = linked === 'done' && (unlinked !== 'done' || (await last('merge', STEWARD)) > (await last('split', 'user:bob')));
        const expected =
          linked !== 'done' ? [false, unlinked !== 'done', false] : unlinked !== 'done' ? [true, true, true] : linkLast ? [true, false, false] : [false, false, true];
        expect({ round: i, linked, unlinked, together: [p === q, q === rr, p === rr] }).toEqual({ round: i, linked, unlinked, together: expected });
      }
    });
  });

  describe('link and unlink records', () => {
    it('links two records by merging their customers (the older survives) as a "same" decision', async () => {
      const [d, a] = [await owner('crm:D'), await owner('crm:A')];
      const out = await steward.linkRecords({ a: r('crm:D'), b: r('crm:A'), actor: STEWARD, reason: 'same person' });
      const [survivor, merged] = [d, a].sort();
      expect(out).toMatchObject({ action: 'merge', customerId: survivor, otherCustomerId: merged });
      expect(new Set(await Promise.all(['crm:D', 'crm:A', 'orders:B', 'support:C'].map(owner)))).toEqual(new Set([survivor]));
      const decisions = await t.db('idmap_manual_decisions').select('verdict', 'actor', 'reason');
      expect(decisions).toEqual([{ verdict: 'same', actor: STEWARD, reason: 'same person' }]);
      expect(await codeOf(steward.linkRecords({ a: r('crm:D'), b: r('support:C'), actor: STEWARD, reason: 'x' }))).toEqual([
        'CONFLICT',
        `Records a and b already belong to one customer, ${survivor}`,
      ]);
      expect(await codeOf(steward.linkRecords({ a: r('crm:D'), b: r('crm:nope'), actor: STEWARD, reason: 'x' }))).toEqual([
        'NOT_FOUND',
        'Record b (crm:nope) is not known to OneID',
      ]);
    });

    it('unlinks a record into a new customer as a "different" decision; refuses to empty a customer', async () => {
      const x = await owner('support:C');
      const out = await steward.unlinkRecord({ record: r('support:C'), actor: STEWARD, reason: 'another Wang Fang' });
      expect(out).toMatchObject({ action: 'split', otherCustomerId: x, movedRecords: [r('support:C')] });
      expect(await owner('support:C')).toBe(out.customerId);
      expect(await owner('crm:A')).toBe(x);
      expect(await store.differentPairs()).toEqual([[x, out.customerId]]);
      expect(await codeOf(steward.unlinkRecord({ record: r('crm:D'), actor: STEWARD, reason: 'x' }))).toEqual([
        'CONFLICT',
        `Cannot split every record off customer ${await owner('crm:D')}: at least one must stay`,
      ]);
      expect((await codeOf(steward.unlinkRecord({ record: r('crm:nope'), actor: STEWARD, reason: 'x' })))[0]).toBe('NOT_FOUND');
    });
  });

  describe('review candidates', () => {
    it('pages through the queue oldest first with its evidence, and refuses a cursor it did not hand out', async () => {
      const all = await steward.mergeCandidates({ status: null, first: 10, after: null });
      expect(all.edges.map((e) => e.node.reason)).toEqual(['blocked', 'conflict', 'conflict']);
      const [h1, h2] = [await owner('crm:H1'), await owner('crm:H2')];
      const household = all.edges.map((e) => e.node).find((c) => c.value === '+8613800001111')!;
      expect(household).toMatchObject({ kind: 'PHONE', status: 'open', rule: 'phone' });
      expect([household.customerId, household.otherCustomerId].sort()).toEqual([h1, h2].sort());
      expect(household.records.map((k) => `${k.source}:${k.recordId}`).sort()).toEqual(['crm:H1', 'crm:H2']);
      expect(household.differ).toEqual(expect.arrayContaining(['MEMBER_NO', 'name']));
      const blocked = all.edges[0].node;
      expect(blocked.records.map((k) => k.recordId).sort()).toEqual(['T1', 'T2']);

      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await steward.mergeCandidates({ status: 'open', first: 1, after });
        seen.push(...page.edges.map((e) => e.node.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual(all.edges.map((e) => e.node.id));
      // One kind of finding at a time, paged within it.
      const conflicts: string[] = [];
      for (let after: string | null = null; ;) {
        const page = await steward.mergeCandidates({ status: 'open', reason: 'conflict', first: 1, after });
        conflicts.push(...page.edges.map((e) => `${e.node.reason}:${e.node.id}`));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(conflicts).toEqual(all.edges.filter((e) => e.node.reason === 'conflict').map((e) => `conflict:${e.node.id}`));
      expect((await steward.mergeCandidates({ status: null, reason: 'probable', first: 10, after: null })).edges).toEqual([]);
      expect((await codeOf(steward.mergeCandidates({ status: null, first: 1, after: 'bm9wZQ' })))[0]).toBe('BAD_USER_INPUT');
    });

    it('orders the queue strongest first: probable pairs by match weight (the oldest first among equals), then the unweighed; pages in that order', async () => {
      const [d, e, f, g] = await Promise.all(['crm:D', 'crm:E', 'crm:F', 'support:G'].map(owner));
      const probable = (key: string, customerId: string, otherCustomerId: string, weight: number): NewCandidate => ({
        dedupeKey: `probable:${key}`,
        reason: 'probable',
        rule: 'probabilistic',
        kind: null,
        value: null,
        customerId,
        otherCustomerId,
        evidence: { tier: 'probabilistic', weight, autoLink: 10, review: 3 },
      });
      await t.db.transaction((trx) =>
        insertCandidates(trx, new Date().toISOString(), [probable('de', d, e, 8.5), probable('ef', e, f, 4.25), probable('fg', f, g, 8.5), probable('dg', d, g, 9.75)]),
      );
      const oldest = (await steward.mergeCandidates({ status: 'open', first: 20, after: null })).edges.map((x) => x.node);
      const label = (c: { reason: string; matchWeight: number | null; customerId: string | null; otherCustomerId: string | null }) =>
        c.reason === 'probable' ? `${c.matchWeight}:${[c.customerId, c.otherCustomerId].join('-')}` : c.reason;
      expect(oldest.map(label)).toEqual(['blocked', 'conflict', 'conflict', `8.5:${d}-${e}`, `4.25:${e}-${f}`, `8.5:${f}-${g}`, `9.75:${d}-${g}`]);

      const strongest = (await steward.mergeCandidates({ status: 'open', order: 'strongest', first: 20, after: null })).edges.map((x) => x.node);
      expect(strongest.map(label)).toEqual([`9.75:${d}-${g}`, `8.5:${d}-${e}`, `8.5:${f}-${g}`, `4.25:${e}-${f}`, 'blocked', 'conflict', 'conflict']);
      expect(strongest.slice(4).map((c) => c.id)).toEqual(oldest.slice(0, 3).map((c) => c.id));

      // Page by page, across the tie and from the weighed into the unweighed, nothing missed or repeated.
      for (const size of [1, 2, 3]) {
        const seen: string[] = [];
        for (let after: string | null = null; ;) {
          const page = await steward.mergeCandidates({ status: 'open', order: 'strongest', first: size, after });
          seen.push(...page.edges.map((x) => x.node.id));
          if (!page.pageInfo.hasNextPage) break;
          after = page.pageInfo.endCursor;
        }
        expect(seen).toEqual(strongest.map((c) => c.id));
      }
      // Only the probable ones, strongest first.
      const probables = await steward.mergeCandidates({ status: 'open', reason: 'probable', order: 'strongest', first: 2, after: null });
      expect(probables.edges.map((x) => x.node.matchWeight)).toEqual([9.75, 8.5]);
      // A cursor belongs to its order.
      const cursor = probables.pageInfo.endCursor;
      expect((await codeOf(steward.mergeCandidates({ status: 'open', reason: 'probable', first: 2, after: cursor })))[0]).toBe('BAD_USER_INPUT');
      const oldestCursor = (await steward.mergeCandidates({ status: 'open', first: 1, after: null })).pageInfo.endCursor;
      expect((await codeOf(steward.mergeCandidates({ status: 'open', order: 'strongest', first: 1, after: oldestCursor })))[0]).toBe('BAD_USER_INPUT');
    });

    it('keeps a rejected pair apart and an accepted one together through a full re-resolution', async () => {
      const rejected = await candidateOf('crm:H1');
      const accepted = await candidateOf('crm:K1');
      const [h1, h2, k1, k2] = await Promise.all(['crm:H1', 'crm:H2', 'crm:K1', 'orders:K2'].map(owner));

      const no = await steward.resolveCandidate({ id: rejected.id, verdict: 'different', actor: STEWARD, reason: 'two people, one household' });
      expect(no).toMatchObject({ action: 'decision', movedRecords: [], candidate: { id: rejected.id, status: 'rejected' } });
      const yes = await steward.resolveCandidate({ id: accepted.id, verdict: 'same', actor: STEWARD, reason: 'one person, two emails' });
      const [survivor] = [k1, k2].sort();
      expect(yes).toMatchObject({ action: 'merge', customerId: survivor, candidate: { id: accepted.id, status: 'accepted' } });
      expect(await Promise.all(['crm:K1', 'orders:K2'].map(owner))).toEqual([survivor, survivor]);
      expect(await codeOf(steward.resolveCandidate({ id: accepted.id, verdict: 'different', actor: STEWARD, reason: 'x' }))).toEqual([
        'CONFLICT',
        `Review candidate ${accepted.id} is already accepted`,
      ]);

      const settled = await mapping();
      await fullResolution();
      expect(await mapping()).toEqual(settled);
      expect(await Promise.all(['crm:H1', 'crm:H2'].map(owner))).toEqual([h1, h2]);
      // A new record carrying both households' values would join them, but for the decision.
      connectors[2].put(rec('support', 'X', { phone: '13800001111', email: 'h1@qq.com' }));
      connectors[2].put(rec('support', 'Y', { phone: '13800001111', email: 'h2@163.com' }));
      await resolve({ store, connectors, rules });
      expect(new Set(await Promise.all(['crm:H1', 'crm:H2'].map(owner))).size).toBe(2);
      expect(await Promise.all(['crm:K1', 'orders:K2'].map(owner))).toEqual([survivor, survivor]);
    });

    it('settles a candidate as superseded when a steward joins its customers another way; it leaves the open queue and can no longer be decided', async () => {
      const household = await candidateOf('crm:K1');
      const [k1, k2] = await Promise.all(['crm:K1', 'orders:K2'].map(owner));
      await steward.linkRecords({ a: r('crm:K1'), b: r('orders:K2'), actor: STEWARD, reason: 'one person after all' });
      const after = (await store.candidatesByCustomerIds([k1]))[0].find((c) => c.id === household.id)!;
      expect(after.status).toBe('superseded');
      expect((await steward.mergeCandidates({ status: 'open', first: 10, after: null })).edges.map((e) => e.node.id)).not.toContain(household.id);
      expect((await steward.mergeCandidates({ status: 'superseded', first: 10, after: null })).edges.map((e) => e.node.id)).toEqual([household.id]);
      expect(await codeOf(steward.resolveCandidate({ id: household.id, verdict: 'different', actor: STEWARD, reason: 'x' }))).toEqual([
        'CONFLICT',
        `Review candidate ${household.id} is already superseded`,
      ]);
      // The other household's candidate is about other customers: still open. A merge of two unrelated customers supersedes nothing.
      expect((await candidateOf('crm:H1')).status).toBe('open');
      await steward.mergeCustomers({ survivorId: await owner('crm:D'), mergedId: await owner('crm:E'), actor: STEWARD, reason: 'same' });
      expect((await store.reviewCandidates({ status: 'open' })).map((c) => c.reason).sort()).toEqual(['blocked', 'conflict']);
      expect([k1, k2]).toContain(await owner('crm:K1'));
    });

    it('settles a candidate as superseded when a later resolution links its customers, and counts it in the run', async () => {
      const household = await candidateOf('crm:K1');
      // The order system's member number corrected: K1 and K2 now agree on it as well as on the phone.
      connectors[1].put(rec('orders', 'K2', { phone: '13700002222', email: 'k2@qq.com', member: 'M20000003' }, undefined, '2026-11-20T08:00:00Z'));
      const stats = await resolve({ store, connectors, rules });
      expect(await owner('crm:K1')).toBe(await owner('orders:K2'));
      expect(stats.candidatesSuperseded).toBe(1);
      expect((await store.candidatesByCustomerIds([await owner('crm:K1')]))[0].find((c) => c.id === household.id)?.status).toBe('superseded');
      // Nothing left to settle: a second run supersedes nothing.
      expect((await resolve({ store, connectors, rules })).candidatesSuperseded).toBe(0);
    });

    it('weighs a refused value again once a steward makes its two sides one: the next run links the carrier that had nothing else', async () => {
      // A shop account carries the phone H1 and H2 share, and nothing else: the refused phone joins it to neither.
      connectors[1].put(rec('orders', 'H3', { phone: '138-0000-1111' }, undefined, '2026-11-20T08:00:00Z'));
      await resolve({ store, connectors, rules });
      expect(new Set(await Promise.all(['crm:H1', 'crm:H2', 'orders:H3'].map(owner))).size).toBe(3);
      const household = await candidateOf('crm:H1');
      await steward.mergeCustomers({ survivorId: await owner('crm:H1'), mergedId: await owner('crm:H2'), actor: STEWARD, reason: 'one person: two memberships' });
      expect((await store.candidatesByCustomerIds([await owner('crm:H1')]))[0].find((c) => c.id === household.id)?.status).toBe('superseded');
      // Nothing changed in any source: the phone is weighed again because the two sides it was refused between are one.
      const stats = await resolve({ store, connectors, rules });
      expect(stats).toMatchObject({ recordsRead: 0, customersMerged: 1 });
      expect(await owner('orders:H3')).toBe(await owner('crm:H1'));
      // The other household is untouched, and a further run has nothing to weigh.
      expect(await owner('crm:K1')).not.toBe(await owner('orders:K2'));
      expect(await resolve({ store, connectors, rules })).toMatchObject({ recordsResolved: 0, customersMerged: 0 });
    });

    it('settles the candidates an earlier version left open when the store is restaged, though the run merges nothing', async () => {
      const household = await candidateOf('crm:K1');
      await steward.linkRecords({ a: r('crm:K1'), b: r('orders:K2'), actor: STEWARD, reason: 'one person after all' });
      // As a version without superseding left it: answered, still open.
      await t.db('idmap_review_candidates').where('id', Number(household.id)).update({ status: 'open' });
      expect((await resolve({ store, connectors, rules })).candidatesSuperseded).toBe(0);
      const restaged = await resolve({ store, connectors, rules, restage: true });
      expect(restaged).toMatchObject({ customersMerged: 0, candidatesSuperseded: 1 });
      expect((await store.reviewCandidates({ status: 'open' })).map((c) => c.id)).not.toContain(household.id);
    });

    it('only dismisses a candidate about a value: it names no pair to link', async () => {
      const [blocked] = await store.reviewCandidates({ status: 'open' });
      expect(blocked.reason).toBe('blocked');
      expect(await codeOf(steward.resolveCandidate({ id: blocked.id, verdict: 'same', actor: STEWARD, reason: 'x' }))).toEqual([
        'CONFLICT',
        `Review candidate ${blocked.id} (blocked) names no pair of customers to link; link its records with linkRecords`,
      ]);
      const out = await steward.resolveCandidate({ id: blocked.id, verdict: 'different', actor: STEWARD, reason: 'placeholder, not a person' });
      expect(out).toMatchObject({ action: 'decision', customerId: null, candidate: { status: 'rejected' } });
      expect(await codeOf(steward.resolveCandidate({ id: '999999', verdict: 'same', actor: STEWARD, reason: 'x' }))).toEqual(['NOT_FOUND', 'No review candidate 999999']);
    });
  });

  it("keeps a steward's unlink made while a resolution runs: the run re-plans with the decision instead of linking the record back", async () => {
    const x = await owner('crm:A');
    // B's email changes in its source (the phone is still A's): the next run links it again.
    connectors[1].put(rec('orders', 'B', { phone: '8613911112222', email: 'fang.w@qq.com' }, undefined, '2026-11-20T08:00:00Z'));
    // The steward acts once the run has read the decisions it plans with, before it links B.
    let unlinked: string | null = null;
    const racing: IdMapStore = {
      ...store,
      differentPairs: async () => {
        const pairs = await store.differentPairs();
        if (unlinked === null) unlinked = (await steward.unlinkRecord({ record: r('orders:B'), actor: STEWARD, reason: 'another Wang Fang' })).customerId;
        return pairs;
      },
    };
    const stats = await resolve({ store: racing, connectors, rules });
    expect(unlinked).not.toBeNull();
    expect(stats.retries).toBe(1);
    expect(await owner('crm:A')).toBe(x);
    expect(await owner('orders:B')).toBe(unlinked);
    expect(await store.differentPairs()).toEqual([[x, unlinked]]);
  });

  it('a second run of resolution after any sequence of changes writes no events, and never undoes a decision', async () => {
    const [e, f, g] = [await owner('crm:E'), await owner('crm:F'), await owner('support:G')];
    await steward.mergeCustomers({ survivorId: e, mergedId: f, actor: STEWARD, reason: 'same' });
    await steward.mergeCustomers({ survivorId: e, mergedId: g, actor: STEWARD, reason: 'same' });
    await steward.splitCustomer({ mergedId: f, actor: STEWARD, reason: 'different' });
    await steward.linkRecords({ a: r('crm:D'), b: r('crm:F'), actor: STEWARD, reason: 'same' });
    await steward.unlinkRecord({ record: r('support:C'), actor: STEWARD, reason: 'someone else' });
    await steward.resolveCandidate({ id: (await candidateOf('crm:H1')).id, verdict: 'different', actor: STEWARD, reason: 'household' });
    await steward.resolveCandidate({ id: (await candidateOf('crm:K1')).id, verdict: 'same', actor: STEWARD, reason: 'one person' });
    const settled = await mapping();

    // Incremental: nothing changed in the sources, nothing to do.
    let n = await events();
    await resolve({ store, connectors, rules });
    expect(await events()).toBe(n);
    // Read again from the start: unchanged records write nothing.
    await t.db('idmap_scan_cursors').del();
    await resolve({ store, connectors, rules });
    expect(await events()).toBe(n);
    expect(await mapping()).toEqual(settled);

    // Every record re-linked: every decision holds; a second run has nothing to add.
    await fullResolution();
    expect(await mapping()).toEqual(settled);
    n = await events();
    await fullResolution();
    expect(await events()).toBe(n);
    expect(await mapping()).toEqual(settled);
  });
});

describe('OneID stewardship on a SQLite file other connections write to', () => {
  // Whatever the test engine: the lock in question is SQLite's. In the gateway two connections
  // besides knex's write the OneID file: the WAL checkpointer's (src/sqlite-checkpointer.ts: a
  // header write each second it finds the WAL caught up) and the access audit's (its rows, on the
  // direct reads' connection); a `c360 resolve` process is a third.
  let dir: string;
  let db: Knex;
  let store: IdMapStore;
  let other: Database.Database;
  let a: string;
  let b: string;
  beforeEach(async () => {
    dir = tempDir('steward-other-connection');
    const filename = path.join(dir, 'oneid.db');
    db = openDatabase({ client: 'sqlite', filename });
    await migrateLatest(db);
    store = createIdMapStore(db);
    const records = [rec('crm', 'A', { email: 'a@qq.com' }), rec('crm', 'B', { email: 'b@qq.com' })];
    await resolve({ store, connectors: [new FakeSource('crm', records)], rules });
    [a, b] = (await store.customerIdsBySourceRecords([r('crm:A'), r('crm:B')])) as string[];
    other = new Database(filename);
    other.pragma('busy_timeout = 0');
  });
  afterEach(async () => {
    other?.close();
    await db?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  const merged = async () => (await db('idmap_customers').where('id', b).first()).merged_into;

  it('merges though another connection commits between the merge reading the store and writing to it', async () => {
    // The other connection commits right after the merge's first read in its transaction, as the
    // checkpointer's second or an audited request may. Before, the merge's snapshot was then stale
    // and its first write failed at once (SQLITE_BUSY_SNAPSHOT, which no busy wait helps): the
    // steward was answered ONEID_UNAVAILABLE.
    let tried = 0;
    const commitElsewhere = (_response: unknown, q: { __knexTxId?: string; sql?: string }) => {
      if (tried || !q.__knexTxId || !/^select/i.test(q.sql ?? '')) return;
      tried++;
      try {
        other.pragma(`user_version = ${other.pragma('user_version', { simple: true })}`);
      } catch (e) {
        // The merge holds the file's write lock from its first statement: nobody commits in between.
        expect((e as { code?: string }).code).toBe('SQLITE_BUSY');
      }
    };
    db.on('query-response', commitElsewhere);
    try {
      await expect(store.mergeCustomers({ survivorId: a, mergedId: b, actor: STEWARD, reason: 'same' })).resolves.toMatchObject({ survivorId: a, mergedId: b });
    } finally {
      db.off('query-response', commitElsewhere);
    }
    expect(tried).toBe(1);
    expect(await merged()).toBe(a);
  });

  it("merges once another process's write lock is free, without holding the event loop meanwhile", async () => {
    other.exec('BEGIN IMMEDIATE');
    let settled = false;
    const merging = store.mergeCustomers({ survivorId: a, mergedId: b, actor: STEWARD, reason: 'same' }).then(
      (m) => m.survivorId,
      (e: { code?: string }) => e.code,
    );
    void merging.finally(() => (settled = true));
    try {
      // Timers fire while the merge waits. Before, it read, then failed at its first write at once
      // (SQLITE_BUSY: a transaction holding a read snapshot is not given SQLite's busy wait).
      for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
      expect(settled).toBe(false);
    } finally {
      other.exec('COMMIT');
    }
    expect(await merging).toBe(a);
    expect(await merged()).toBe(a);
  });
});
