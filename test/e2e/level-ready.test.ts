/**
 * Customers made ready a level at a time (resolvers/level.ts): a resolver returning customers
 * reads, before it returns, what the golden fields and the order summary the query selects of
 * them need, for the whole level at once: one call per source, as the fields themselves would
 * make. Afterwards those fields answer without a promise. It reads nothing the query does not
 * select, and a failed source answers as it would have without it.
 */
import { callsByOperation, readTruth, startTestWorld, type TestWorld } from '../helpers/world';
import { createContext, type Context } from '../../src/context';
import { goldenDecision, goldenValue } from '../../src/golden/records';
import { makeReady } from '../../resolvers/level';
import { commerceResolvers, readySummary } from '../../resolvers/commerce';
import type { SourceName } from '../../src/vocabulary';

/** The marketplace reads its trades and its refunds per chunk (test/e2e/batching.test.ts). */
const ENDPOINTS_PER_CHUNK: Record<string, number> = { 'marketplace.orderSummariesByBuyerIds': 2 };
/** Made once per token or cache lifetime, not per query. */
const CACHED = new Set(['scrm.token', 'wecom.token']);

const FLAT = `query Flat($ids: [ID!]!) {
  customers(ids: $ids) { id name phone email gender memberTier marketingConsent { sms email wechat } orderSummary { orderCount totalSpent { amount currency } lastOrderAt } }
}`;

let world: TestWorld;
let ids: string[];

beforeAll(async () => {
  world = await startTestWorld({ people: 300, seed: 5 });
  const keys: Array<{ source: SourceName; recordId: string }> = [];
  for (const records of readTruth(world.truthFile).values()) keys.push({ source: records[0].source as SourceName, recordId: records[0].recordId });
  ids = [...new Set((await world.gw.idmap.customerIdsBySourceRecords(keys)).filter((id): id is string => id !== null))];
  world.reset();
});

afterAll(async () => world?.close());

const context = (): Context => createContext(world.gw.requestDeps, 'level-ready-test', { role: 'admin', principal: 'test' });
const rules = () => world.gw.insights.rules.survivorship;
const oneidCalls = () => world.idmapCalls.reduce<Record<string, number>>((m, c) => ({ ...m, [c.method]: (m[c.method] ?? 0) + 1 }), {});
const sourcesCalled = () => new Set([...callsByOperation(world).values()].map((g) => g.source));

describe('Customers made ready a level at a time', () => {
  it('has customers to ask for', () => {
    expect(ids.length).toBeGreaterThanOrEqual(200);
  });

  it.each([1, 40, 200])('reads %i customers golden fields and order summaries with one call per source operation', async (n) => {
    world.reset();
    const { body } = await world.query(FLAT, { ids: ids.slice(0, n) });
    expect(body.errors).toBeUndefined();
    expect(body.data.customers).toHaveLength(n);
    for (const [op, g] of callsByOperation(world)) {
      if (CACHED.has(op)) continue;
      const perChunk = ENDPOINTS_PER_CHUNK[op] ?? 1;
      const maxBatch = world.gw.registry.get(g.source)!.connector.maxBatch;
      expect({ op, calls: g.calls }).toEqual({ op, calls: perChunk * Math.ceil(g.keys / perChunk / maxBatch) });
    }
    expect(oneidCalls()).toEqual({ customersByIds: 1, sourceRecordsByCustomerIds: 1 });
  });

  it('reads no source and no source records for a list that selects no golden field or order summary', async () => {
    world.reset();
    const { body } = await world.query(`query($ids: [ID!]!) { customers(ids: $ids) { id } }`, { ids: ids.slice(0, 100) });
    expect(body.errors).toBeUndefined();
    expect(body.data.customers).toHaveLength(100);
    expect(world.calls.calls).toEqual([]);
    expect(oneidCalls()).toEqual({ customersByIds: 1 });
  });

  it('reads only the sources of what is selected: the order summary alone asks the commerce sources, one golden field its own', async () => {
    const commerce = new Set(world.gw.registry.providing('commerce').map((p) => p.name));
    world.reset();
    expect((await world.query(`query($ids: [ID!]!) { customers(ids: $ids) { orderSummary { orderCount } } }`, { ids: ids.slice(0, 100) })).body.errors).toBeUndefined();
    const summaryOnly = sourcesCalled();
    expect(summaryOnly.size).toBeGreaterThan(0);
    for (const s of summaryOnly) expect(commerce.has(s)).toBe(true);

    world.reset();
    expect((await world.query(`query($ids: [ID!]!) { customers(ids: $ids) { memberTier } }`, { ids: ids.slice(0, 100) })).body.errors).toBeUndefined();
    const tierSources = new Set(rules().memberTier.sources);
    for (const s of sourcesCalled()) expect(tierSources.has(s)).toBe(true);
  });

  it('answers golden fields and order summaries without a promise once ready, with no further call', async () => {
    const ctx = context();
    const level = ids.slice(0, 50);
    world.reset();
    await makeReady(ctx.loaders, level, { sources: [...new Set([...rules().name.sources, ...rules().city.sources])], summaries: true });
    const made = world.calls.calls.length;
    expect(made).toBeGreaterThan(0);
    for (const id of level) {
      expect(goldenValue(ctx.loaders, rules().name, id)).not.toBeInstanceOf(Promise);
      expect(goldenValue(ctx.loaders, rules().city, id)).not.toBeInstanceOf(Promise);
      expect(readySummary(ctx.loaders, id)).not.toBeUndefined();
    }
    expect(world.calls.calls.length).toBe(made);
  });

  it('answers a list with a source down as each customer answers alone: the others decide, a field only it holds fails with its code', async () => {
    world.scrm.setFaults({ status: 503 });
    try {
      const level = ids.slice(0, 120);
      const { body } = await world.query(`query($ids: [ID!]!) { customers(ids: $ids) { id name gender orderSummary { orderCount } } }`, { ids: level });
      expect(body.data.customers).toHaveLength(level.length);
      const errorAt = new Map<string, string>((body.errors ?? []).map((e: any) => [e.path.join('.'), e.extensions.code]));
      // The oracle: each customer's fields read lazily, alone, in a request of their own.
      const ctx = context();
      const field = async (p: Promise<unknown>) =>
        p.then(
          (v) => ({ v }),
          (e: any) => ({ code: e.extensions?.code ?? String(e) }),
        );
      let failed = 0;
      for (let i = 0; i < level.length; i++) {
        const c = body.data.customers[i];
        for (const f of ['name', 'gender'] as const) {
          const alone = await field(goldenDecision(ctx.loaders, rules()[f], level[i]).then((d) => d.chosen?.value ?? null));
          const got = errorAt.has(`customers.${i}.${f}`) ? { code: errorAt.get(`customers.${i}.${f}`) } : { v: c[f] === null ? null : c[f] };
          if ('code' in alone) failed++;
          expect({ i, f, got: 'code' in got ? got : { v: got.v === null ? null : 'value' } }).toEqual({
            i,
            f,
            got: 'code' in alone ? alone : { v: alone.v === null ? null : 'value' },
          });
        }
        const summary = await field(Promise.resolve(commerceResolvers.Customer.orderSummary({ id: level[i] }, {}, ctx)));
        expect({ i, count: c.orderSummary?.orderCount ?? null }).toEqual({
          i,
          count: 'v' in summary ? ((summary.v as { orderCount: number } | null)?.orderCount ?? null) : null,
        });
      }
      // Some customers hold a golden value only in the source that is down.
      expect(failed).toBeGreaterThan(0);
    } finally {
      world.scrm.setFaults({});
    }
  });
});
