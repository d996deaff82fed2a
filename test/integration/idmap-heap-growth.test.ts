import path from 'node:path';
import v8 from 'node:v8';
import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve, resolveRecords, type IdMapStore } from '../../src/idmap';
import { RESOLUTION_HEAP_GROWING_PERCENT, setsHeapGrowth, withHeapGrowth } from '../../src/idmap/heap-growth';
import { FakeSource, rec } from '../helpers/feeds';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));

/**
 * V8 grows its old generation to up to 4× what a full collection left live; at a million records
 * a resolution's promoted garbage made that the run's peak RSS (bench/HISTORY.md, session 37).
 * The V8 flags a resolution sets are read through `v8.setFlagsFromString` (called through).
 */
describe(`A full resolution holds V8's heap growth while it runs (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  let flags: jest.SpyInstance;
  const set = () => flags.mock.calls.map((c) => c[0] as string);

  beforeEach(async () => {
    t = await freshDatabase('idmap_heap_growth');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
    flags = jest.spyOn(v8, 'setFlagsFromString');
  });
  afterEach(async () => {
    flags.mockRestore();
    await t.drop();
  });

  it('at 1.5× what a collection left live while its probabilistic tier runs, and gives V8 its own growth back after', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '138-0013-8000' }, { name: '王芳', birthday: '1985-04-02' })]);
    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '8613800138000' }, { name: '王芳' })]);
    const heldWhile = { scanning: [] as string[][], readingBlocks: [] as string[][] };
    const scan = crm.scan.bind(crm);
    crm.scan = async (cursor, pageSize) => {
      heldWhile.scanning.push(set());
      return scan(cursor, pageSize);
    };
    // The tier's reads of its blocks (staging only writes them).
    const onQuery = (q: { sql: string }) => {
      if (/^select\b[\s\S]*\bfrom [`"]?idmap_match_blocks[`"]?(\s|$)/i.test(q.sql)) heldWhile.readingBlocks.push(set());
    };
    t.db.on('query', onQuery);
    const stats = await resolve({ store, connectors: [crm, orders], rules });
    t.db.off('query', onQuery);

    expect(RESOLUTION_HEAP_GROWING_PERCENT).toBe(50);
    expect(heldWhile.scanning).toEqual([[]]);
    expect(heldWhile.readingBlocks.length).toBeGreaterThan(0);
    for (const flagsThen of heldWhile.readingBlocks) expect(flagsThen).toEqual(['--heap-growing-percent=50']);
    expect(set()).toEqual(['--heap-growing-percent=50', '--heap-growing-percent=0']);
    expect(stats).toMatchObject({ recordsNew: 2, customersCreated: 1, recordsLinked: 1 });
  });

  it('two runs at once in one process (two stores) share it: given back when the last one ends', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = withHeapGrowth(() => held);
    const second = await withHeapGrowth(async () => set());
    expect(second).toEqual(['--heap-growing-percent=50']);
    release();
    await first;
    expect(set()).toEqual(['--heap-growing-percent=50', '--heap-growing-percent=0']);
  });

  it("is given back when the job fails, and a webhook's few records re-resolved leave V8's growth alone", async () => {
    await expect(
      withHeapGrowth(async () => {
        throw new Error('tier failed');
      }),
    ).rejects.toThrow('tier failed');
    expect(set()).toEqual(['--heap-growing-percent=50', '--heap-growing-percent=0']);
    flags.mockClear();
    await resolveRecords({ store, rules, records: [rec('crm', 'C2', { phone: '13900139000' }, { name: '李雷', birthday: '1990-01-02' })] });
    expect(set()).toEqual([]);
  });
});

describe('A process started with its own heap growth keeps it', () => {
  it('reads --heap-growing-percent in either spelling from the command line or NODE_OPTIONS', () => {
    expect(setsHeapGrowth(['--max-old-space-size=1024', '--heap-growing-percent=20'])).toBe(true);
    expect(setsHeapGrowth([], '--max-old-space-size=1024 --heap_growing_percent=20')).toBe(true);
    expect(setsHeapGrowth(['--heap-growing-percent', '20'])).toBe(true);
    expect(setsHeapGrowth(['--max-old-space-size=1024', '--import', 'tsx'], '--enable-source-maps')).toBe(false);
    expect(setsHeapGrowth([], undefined)).toBe(false);
  });
});
