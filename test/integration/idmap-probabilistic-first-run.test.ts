/**
 * A first comparison of the whole store is scored block by block (`probabilistic/first-run.ts`)
 * and linked batch by batch: it must make exactly what comparing batch by batch makes (the links
 * with their evidence, in the same order, the review candidates, the counts), also where a block
 * spans batches and where a link of an earlier batch makes a later pair one customer.
 */
import path from 'node:path';
import { freshDatabase, testEngine } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve } from '../../src/idmap';
import { runProbabilisticTier, type ProbabilisticStats } from '../../src/idmap/probabilistic/tier';
import { featureCount } from '../../src/idmap/probabilistic/store';
import { loadWeights, modelOf } from '../../src/idmap/probabilistic/model';
import { FakeSource, rec } from '../helpers/feeds';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));

/**
 * Key order alpha < beta < gamma; with batches of two records:
 *   0: alpha:A1 alpha:A2   1: beta:B1 beta:B2   2: gamma:G1 gamma:G2   3: gamma:G3 gamma:G4   4: gamma:G5
 * 王振芳 is A1, B1 (no shared identifier: linked by the tier in batch 1), G1 (A1's phone: one
 * customer with A1 by the rules, so G1-B1 is two customers as the rules left them but one by
 * batch 2) and G3 (B1's email: B1's customer by the rules; no birthday, another city: a weak pair
 * with A1 that batch 3 no longer compares). 李静 (a name block spanning every batch) is four
 * people and a fifth record of one of them.
 */
const world = () => [
  new FakeSource('alpha', [
    rec('alpha', 'A1', { phone: '13911112222' }, { name: '王振芳', birthday: '1985-04-02', city: '杭州市', province: '浙江省' }),
    rec('alpha', 'A2', { email: 'lijing@163.com' }, { name: '李静', birthday: '1990-07-21', province: '浙江省', gender: 'FEMALE' }),
  ]),
  new FakeSource('beta', [
    rec('beta', 'B1', { email: 'zfwang@163.com' }, { name: 'Zhenfang Wang', birthday: '1985-04-02', city: '杭州', gender: 'FEMALE' }),
    rec('beta', 'B2', { phone: '13522223333' }, { name: '李静', birthday: '1990-07-22', province: '浙江省', gender: 'FEMALE' }),
  ]),
  new FakeSource('gamma', [
    rec('gamma', 'G1', { phone: '139 1111 2222' }, { name: '王振芳', birthday: '1985-04-02', city: '杭州' }),
    rec('gamma', 'G2', { phone: '13700001111' }, { name: '李静', birthday: '1979-11-02', city: '北京' }),
    rec('gamma', 'G3', { email: 'ZFWang@163.com' }, { name: '王振芳', city: '广州' }),
    rec('gamma', 'G4', { phone: '13600002222' }, { name: '李静', birthday: '1990-07-21', province: '浙江省' }),
    rec('gamma', 'G5', { phone: '13700001111' }, { name: '李静', birthday: '1979-11-02', city: '北京市' }),
  ]),
];

const ULID = /[0-9A-HJKMNP-TV-Z]{26}/g;

/** Resolves the world by the rules, then runs the tier's first comparison one way; what it made, with customers named by their records as the rules left them. */
async function firstComparison(walk: boolean, markAtOnce?: number): Promise<{ stats: ProbabilisticStats; events: string[]; candidates: string[]; clusters: string[] }> {
  const t = await freshDatabase('idmap_first');
  try {
    await migrateLatest(t.db);
    const store = createIdMapStore(t.db);
    await resolve({ store, connectors: world(), rules, tiers: 'deterministic' });
    const byCustomer = new Map<string, string[]>();
    for (const r of await t.db('idmap_source_records').select('source', 'record_id', 'customer_id'))
      byCustomer.set(r.customer_id, [...(byCustomer.get(r.customer_id) ?? []), `${r.source}:${r.record_id}`].sort());
    const name = (s: string | null) => (s ?? '-').replace(ULID, (id) => `[${byCustomer.get(id)?.join(' ') ?? id}]`);

    // Names' frequencies as in a store of many records (in nine, every shared name is common).
    const records = 1000 * (await featureCount(t.db));
    const p = rules.probabilistic!;
    const model = modelOf(loadWeights(p.weightsFile), p.householdPenalty, { records });
    const stats = await runProbabilisticTier({
      db: t.db,
      rules,
      model,
      records,
      differentPairs: new Set(),
      batchSize: 2,
      walk,
      markAtOnce,
      at: () => '2024-06-01T00:00:00.000Z',
    });

    const events = (
      await t.db('idmap_link_events').where({ actor: 'rule:probabilistic' }).orderBy('id').select('action', 'customer_id', 'other_customer_id', 'reason', 'evidence')
    ).map((e) => [e.action, name(e.customer_id), name(e.other_customer_id), e.reason, name(e.evidence)].join(' | '));
    const candidates = (await t.db('idmap_review_candidates').orderBy('id').select('dedupe_key', 'status', 'customer_id', 'other_customer_id', 'evidence')).map((c) =>
      [c.dedupe_key, c.status, name(c.customer_id), name(c.other_customer_id), name(c.evidence)].join(' | '),
    );
    const final = new Map<string, string[]>();
    for (const r of await t.db('idmap_source_records').select('source', 'record_id', 'customer_id'))
      final.set(r.customer_id, [...(final.get(r.customer_id) ?? []), `${r.source}:${r.record_id}`].sort());
    const unscored = await t.db('idmap_match_features').whereRaw('scored = 0').count({ n: '*' }).first();
    expect(Number(unscored?.n)).toBe(0);
    return { stats, events, candidates, clusters: [...final.values()].map((l) => l.join(' ')).sort() };
  } finally {
    await t.drop();
  }
}

describe(`OneID probabilistic tier, first comparison by block (${testEngine})`, () => {
  it('links, proposes and counts exactly as comparing batch by batch does', async () => {
    const byBlock = await firstComparison(true);
    const byBatch = await firstComparison(false);
    expect(byBlock).toEqual(byBatch);
    // Batches linked and marked a few to a transaction (a large store's first run: 25 a transaction) make the same: batches 0-2 (the link of batch 1, then batch 2 on it) and 3-4.
    expect(await firstComparison(true, 5)).toEqual(byBatch);

    // The cases it is about happened: A1-B1 linked in batch 1, after which G1 and G3 were that
    // customer already (neither compared with the other side); 李静's block, spanning the
    // batches, gave a link and review candidates.
    const pairs = byBatch.events.map((e) => /"pair":\["([^"]+)","([^"]+)"\]/.exec(e)?.slice(1).join(' '));
    expect(pairs).toContain('alpha:A1 beta:B1');
    expect(pairs.filter((p) => p?.includes('gamma:G1') || p?.includes('gamma:G3'))).toEqual([]);
    expect(byBatch.clusters).toContain('alpha:A1 beta:B1 gamma:G1 gamma:G3');
    expect(byBatch.stats.probableLinks).toBe(2);
    expect(byBatch.stats.probableReviews).toBeGreaterThanOrEqual(1);
    expect(byBatch.stats.recordsCompared).toBe(9);
  });
});
