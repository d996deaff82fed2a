/**
 * Request-path reads without knex's runner (src/db.ts `directReads`): on a SQLite file they run
 * on a connection of their own and must answer exactly what awaiting the knex query answers, see
 * every committed write at once, and never write; on MySQL/MariaDB they are the knex query.
 * Against a real database (C360_TEST_DB).
 */
import { directReads, type DirectReads } from '../../src/db';
import { createIdMapStore, migrateLatest } from '../../src/idmap';
import { freshDatabase, itOn, type TestDatabase } from '../helpers/db';

let t: TestDatabase;
let reads: DirectReads;
beforeAll(async () => {
  t = await freshDatabase('direct');
  await t.db.schema.createTable('things', (tb) => {
    tb.integer('id').primary();
    tb.string('name', 32);
    tb.string('tag', 8).nullable();
  });
  await t.db('things').insert([
    { id: 1, name: 'one', tag: 'a' },
    { id: 2, name: 'two', tag: null },
    { id: 3, name: 'three', tag: 'a' },
  ]);
  reads = directReads(t.connection);
});
afterAll(async () => {
  reads.close();
  await t.drop();
});

describe('directReads answers what knex answers', () => {
  it('for selects with bindings, first, pluck and raw selects', async () => {
    const queries = [
      () => t.db('things').select('id', 'name', 'tag').whereIn('id', [1, 3]).orderBy('id'),
      () => t.db('things').where('tag', 'a').first('name'),
      () => t.db('things').orderBy('id').pluck('name'),
      () => t.db('things').whereNull('tag').select('*'),
      () => t.db.raw('select count(*) as n from things where id > ?', [1]),
    ];
    for (const q of queries) expect(await reads.read(q())).toEqual(await q());
  });

  it('sees a write committed on the main connection at once', async () => {
    await t.db('things').insert({ id: 4, name: 'four', tag: 'b' });
    expect(await reads.read(t.db('things').where('id', 4).select('name'))).toEqual([{ name: 'four' }]);
  });

  itOn('sqlite')('runs only reads itself: anything else goes through knex', async () => {
    await expect(reads.read(t.db('things').where('id', 4).update({ name: 'vier' }))).resolves.toBe(1);
    expect(await t.db('things').where('id', 4).first('name')).toEqual({ name: 'vier' });
  });
});

describe('shaped reads: built and compiled once per shape, values bound per call', () => {
  const byIds = (ids: readonly unknown[]) =>
    t
      .db('things')
      .select('id', 'name')
      .whereIn('id', ids as number[])
      .orderBy('id');

  it('answer what the query built with the values answers, for every call of a shape', async () => {
    for (const ids of [[1], [2], [3], [1, 3], [2, 4], [9]]) {
      expect(await reads.shaped(`ids ${ids.length}`, ids, byIds)).toEqual(await byIds(ids));
    }
  });

  itOn('sqlite')('build the query once per shape on a SQLite file', async () => {
    let built = 0;
    const counting = (ids: readonly unknown[]) => (built++, byIds(ids));
    for (const ids of [[1], [2], [3], [1, 3], [2, 3]]) await reads.shaped(`counted ${ids.length}`, ids, counting);
    expect(built).toBe(2);
  });

  it('never cache a statement whose values change its text rather than its bindings', async () => {
    // A value spliced into the SQL text: every call builds its own statement, so answers stay right.
    const spliced = (v: readonly unknown[]) =>
      t
        .db('things')
        .select('name')
        .whereRaw(`id = ${Number(v[0]) || 0}`);
    expect(await reads.shaped('spliced', [1], spliced)).toEqual([{ name: 'one' }]);
    expect(await reads.shaped('spliced', [2], spliced)).toEqual([{ name: 'two' }]);
    // A value that decides the text (null: `is null`): the same.
    const tagged = (v: readonly unknown[]) =>
      t
        .db('things')
        .select('id')
        .where('tag', v[0] as string | null)
        .orderBy('id');
    expect(await reads.shaped('tagged', [null], tagged)).toEqual(await tagged([null]));
    expect(await reads.shaped('tagged', ['a'], tagged)).toEqual([{ id: 1 }, { id: 3 }]);
  });
});

describe('the OneID reader over directReads', () => {
  // The gateway's reads over real resolved data are covered by the e2e suites (test/e2e/api.test.ts and others run through directReads).
  it('answers like the reader over knex', async () => {
    const db = await freshDatabase('direct-oneid');
    await migrateLatest(db.db);
    const r = directReads(db.connection);
    try {
      const plain = createIdMapStore(db.db);
      const direct = createIdMapStore(db.db, { reads: r });
      const ids = ['01NOSUCHCUSTOMER000000000A', '01NOSUCHCUSTOMER000000000B'];
      expect(await direct.customersByIds(ids)).toEqual(await plain.customersByIds(ids));
      expect(await direct.sourceRecordsByCustomerIds(ids)).toEqual(await plain.sourceRecordsByCustomerIds(ids));
      expect(await direct.customerIdsByIdentifiers([{ kind: 'PHONE', value: '+8613800138000' }])).toEqual([[]]);
    } finally {
      r.close();
      await db.drop();
    }
  });
});
