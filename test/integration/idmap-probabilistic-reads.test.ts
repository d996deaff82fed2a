/**
 * What the probabilistic tier remembers between its batches (`reads.ts`): a block read once is
 * not read again, the tier's own merges are applied to what it remembers, and any other change
 * to the map (a steward's split) makes it read everything again.
 */
import path from 'node:path';
import type { Knex } from 'knex';
import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve, type IdMapStore } from '../../src/idmap';
import { createStewardship } from '../../src/idmap/stewardship';
import { mergeInto } from '../../src/idmap/writes';
import { TierReads } from '../../src/idmap/probabilistic/reads';
import { blocksOf } from '../../src/idmap/probabilistic/store';
import { FakeSource, rec } from '../helpers/feeds';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));
const M1 = { source: 'members', recordId: 'M1' };
const E1 = { source: 'events', recordId: 'E1' };

describe(`OneID probabilistic tier's remembered reads (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  let queries = 0;
  const count = () => void queries++;

  beforeEach(async () => {
    t = await freshDatabase('idmap_reads');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
    // One name, two systems, no shared identifier: the rules leave two customers in one name block.
    const sources = [
      new FakeSource('members', [rec('members', 'M1', { phone: '13911112222' }, { name: '王振芳', birthday: '1985-04-02' })]),
      new FakeSource('events', [rec('events', 'E1', { email: 'zfwang@example.org' }, { name: '王振芳', birthday: '1986-09-12' })]),
    ];
    await resolve({ store, connectors: sources, rules, tiers: 'deterministic' });
    t.db.on('query', count);
  });
  afterEach(async () => {
    t.db.removeListener('query', count);
    await t.drop();
  });

  const shared = async (db: Knex) => {
    const m = new Set((await blocksOf(db, [M1])).map((b) => b.key));
    return (await blocksOf(db, [E1])).map((b) => b.key).filter((k) => m.has(k));
  };
  const customersIn = async (reads: TierReads, keys: string[]) => {
    const { members } = await reads.blockMembers(keys, rules.probabilistic!.maxBlock);
    return new Set([...members.values()].flat().map((m) => m.customerId));
  };

  it('reads a block once, and answers its own merges without reading again', async () => {
    const keys = await shared(t.db);
    expect(keys.length).toBeGreaterThan(0);
    const reads = new TierReads(t.db);
    await reads.refresh();
    const [a, b] = [...(await customersIn(reads, keys))].sort() as string[];
    expect(b).toBeDefined();
    expect((await reads.featuresOf([M1, E1])).size).toBe(2);

    await t.db.transaction(async (trx) => {
      await mergeInto(trx, { survivorId: a, mergedId: b, actor: 'rule:probabilistic', reason: 'test', evidence: {} }, new Date().toISOString());
      await reads.wrote(trx, [{ survivorId: a, mergedId: b }], [M1, E1]);
    });
    queries = 0;
    await reads.refresh();
    expect(queries).toBe(1); // the link log's end, nothing else
    expect([...(await customersIn(reads, keys))]).toEqual([a]);
    const feats = await reads.featuresOf([M1, E1]);
    expect([...feats.values()].map((f) => [f.customerId, f.scored])).toEqual([
      [a, true],
      [a, true],
    ]);
    expect(queries).toBe(1);
  });

  it("reads everything again after someone else's change to the map", async () => {
    const keys = await shared(t.db);
    const reads = new TierReads(t.db);
    await reads.refresh();
    const [a, b] = [...(await customersIn(reads, keys))].sort() as string[];
    await t.db.transaction(async (trx) => {
      await mergeInto(trx, { survivorId: a, mergedId: b, actor: 'rule:probabilistic', reason: 'test', evidence: {} }, new Date().toISOString());
      await reads.wrote(trx, [{ survivorId: a, mergedId: b }], []);
    });
    await createStewardship(store).splitCustomer({ mergedId: b, actor: 'user:steward', reason: 'two people' });
    queries = 0;
    await reads.refresh();
    expect(await customersIn(reads, keys)).toEqual(new Set([a, b]));
    expect(queries).toBeGreaterThan(1);
  });
});
