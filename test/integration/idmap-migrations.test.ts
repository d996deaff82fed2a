import { describeOn, freshDatabase, itOn, queriesDuring, testEngine, type IssuedQuery, type TestDatabase } from '../helpers/db';
import { appliedMigrations, migrateDown, migrateLatest, migratorConfig } from '../../src/idmap/migrate';
import { MIGRATIONS } from '../../src/idmap/migrations';
import { isMysql, openDatabase } from '../../src/db';
import type { Knex } from 'knex';
import { ACCESS_MIGRATIONS, migrateAccessLatest } from '../../src/access/migrations';
import { createResolutionStore } from '../../src/idmap/resolution-store';
import { createIdMapStore } from '../../src/idmap/store';

const TABLES = [
  'idmap_customers',
  'idmap_source_records',
  'idmap_record_identifiers',
  'idmap_link_events',
  'idmap_scan_cursors',
  'idmap_review_candidates',
  'idmap_manual_decisions',
  'idmap_locks',
  'idmap_webhook_events',
];

async function existing(t: TestDatabase): Promise<string[]> {
  const out: string[] = [];
  for (const name of TABLES) if (await t.db.schema.hasTable(name)) out.push(name);
  return out;
}

async function indexNames(t: TestDatabase, table: string): Promise<string[]> {
  if (isMysql(t.db)) {
    const [rows] = await t.db.raw('SHOW INDEX FROM ??', [table]);
    return [...new Set((rows as Array<{ Key_name: string }>).map((r) => r.Key_name))].sort();
  }
  const rows = await t.db('sqlite_master').where({ type: 'index', tbl_name: table }).whereNotNull('sql').select('name');
  return rows.map((r: { name: string }) => r.name).sort();
}

describe(`OneID migrations (${testEngine})`, () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await freshDatabase('idmap_migrations');
  });
  afterEach(async () => {
    await t.drop();
  });

  it('runs every migration up, down and up again, one step at a time', async () => {
    for (let i = 0; i < MIGRATIONS.length; i++) await t.db.migrate.up(migratorConfig);
    expect(await appliedMigrations(t.db)).toEqual(MIGRATIONS.map(([name]) => name));
    expect(await existing(t)).toEqual(TABLES);

    for (let i = 0; i < MIGRATIONS.length; i++) await t.db.migrate.down(migratorConfig);
    expect(await appliedMigrations(t.db)).toEqual([]);
    expect(await existing(t)).toEqual([]);

    expect(await migrateLatest(t.db)).toEqual(MIGRATIONS.map(([name]) => name));
    expect(await existing(t)).toEqual(TABLES);
  });

  it('refuses a store a newer version migrated, saying so (an old replica restarting during a rolling upgrade)', async () => {
    await migrateLatest(t.db);
    await t.db('idmap_migrations').insert({ name: '20991231000000_from_a_newer_version', batch: 99, migration_time: new Date() });
    await expect(migrateLatest(t.db)).rejects.toThrow(
      'a newer version of c360 migrated this database (idmap_migrations records 20991231000000_from_a_newer_version, which this version does not know): run that version or a later one',
    );
    expect(await t.db('idmap_migrations_lock').where('is_locked', 1).first()).toBeUndefined();
  });

  it('is a no-op when up to date, and migrateDown({ all }) reverts everything', async () => {
    await migrateLatest(t.db);
    expect(await migrateLatest(t.db)).toEqual([]);
    expect(await migrateDown(t.db, { all: true })).toHaveLength(MIGRATIONS.length);
    expect(await existing(t)).toEqual([]);
  });

  it('creates the named indexes reads rely on', async () => {
    await migrateLatest(t.db);
    expect(await indexNames(t, 'idmap_record_identifiers')).toEqual(expect.arrayContaining(['idmap_identifiers_match_idx', 'idmap_identifiers_record_idx']));
    // Lookups by value go through the match key; a (kind, value) index would only slow writes.
    expect(await indexNames(t, 'idmap_record_identifiers')).not.toContain('idmap_identifiers_value_idx');
    expect(await indexNames(t, 'idmap_source_records')).toEqual(expect.arrayContaining(['idmap_source_records_customer_idx', 'idmap_source_records_pending_idx']));
    expect(await indexNames(t, 'idmap_link_events')).toEqual(expect.arrayContaining(['idmap_link_events_customer_idx', 'idmap_link_events_other_idx']));
    expect(await indexNames(t, 'idmap_review_candidates')).toEqual(expect.arrayContaining(['idmap_candidates_dedupe_uq']));
    // Pruning of applied webhook event ids goes by receive time.
    expect(await indexNames(t, 'idmap_webhook_events')).toEqual(expect.arrayContaining(['idmap_webhook_events_received_idx']));
  });

  it('keeps every source record, with its values, through the rebuild of the source records table and back', async () => {
    const before = MIGRATIONS.findIndex(([name]) => name === '20261122000100_source_records_clustered');
    for (let i = 0; i < before; i++) await t.db.migrate.up(migratorConfig);
    const rows = [
      { source: 'crm', record_id: 'C1', customer_id: null, source_updated_at: null, linked_at: null, pending: 1, name_key: 'n1', birthday_key: null, deleted_at: null },
      {
        source: 'crm',
        record_id: 'C2',
        customer_id: '01JCUSTOMER0000000000000AA',
        source_updated_at: null,
        linked_at: null,
        pending: 0,
        name_key: null,
        birthday_key: 'b2',
        deleted_at: null,
      },
      { source: 'scrm', record_id: 'o-3', customer_id: null, source_updated_at: null, linked_at: null, pending: 0, name_key: null, birthday_key: null, deleted_at: null },
    ];
    await t.db('idmap_source_records').insert(rows);
    const read = async () =>
      (await t.db('idmap_source_records').orderBy(['source', 'record_id']).select('source', 'record_id', 'customer_id', 'pending', 'name_key', 'birthday_key')).map((r) => ({
        ...r,
        pending: Number(r.pending),
      }));
    const expected = rows.map(({ source, record_id, customer_id, pending, name_key, birthday_key }) => ({ source, record_id, customer_id, pending, name_key, birthday_key }));

    await migrateLatest(t.db);
    expect(await read()).toEqual(expected);
    expect(await indexNames(t, 'idmap_source_records')).toEqual(expect.arrayContaining(['idmap_source_records_customer_idx', 'idmap_source_records_pending_idx']));
    while ((await appliedMigrations(t.db)).length > before) await t.db.migrate.down(migratorConfig);
    expect(await read()).toEqual(expected);
    expect(await indexNames(t, 'idmap_source_records')).toEqual(expect.arrayContaining(['idmap_source_records_customer_idx', 'idmap_source_records_pending_idx']));
  });

  it('gives each probable review candidate its match weight from its evidence, and no other candidate one', async () => {
    const before = MIGRATIONS.findIndex(([name]) => name === '20261203000300_candidate_match_weight');
    for (let i = 0; i < before; i++) await t.db.migrate.up(migratorConfig);
    const at = isMysql(t.db) ? new Date('2026-12-01T00:00:00Z') : '2026-12-01T00:00:00.000Z';
    const candidate = (key: string, reason: string, evidence: unknown) => ({
      dedupe_key: key,
      reason,
      status: 'open',
      rule: reason === 'probable' ? 'probabilistic' : 'phone',
      evidence: typeof evidence === 'string' ? evidence : JSON.stringify(evidence),
      created_at: at,
      updated_at: at,
    });
    await t
      .db('idmap_review_candidates')
      .insert([
        candidate('p1', 'probable', { tier: 'probabilistic', weight: 7.25 }),
        candidate('p2', 'probable', { tier: 'probabilistic', weight: -0.5 }),
        candidate('p3', 'probable', 'not json'),
        candidate('c1', 'conflict', { weight: 99, differ: ['name'] }),
      ]);
    await migrateLatest(t.db);
    const weights = await t.db('idmap_review_candidates').orderBy('dedupe_key').select('dedupe_key', 'match_weight');
    expect(weights.map((r) => [r.dedupe_key, r.match_weight === null ? null : Number(r.match_weight)])).toEqual([
      ['c1', null],
      ['p1', 7.25],
      ['p2', -0.5],
      ['p3', null],
    ]);
    expect(await indexNames(t, 'idmap_review_candidates')).toContain('idmap_candidates_weight_idx');
  });

  // SQLite's planner is what the partial indexes must satisfy (MariaDB keeps its full ones).
  itOn('sqlite')("answers the resolution job's pending-record and per-customer reads from their indexes, not a table scan", async () => {
    await migrateLatest(t.db);
    const store = createResolutionStore(t.db);
    const { queries: issued } = await queriesDuring(t.db, async () => {
      await store.pendingRecords('crm', 'C0001', 10);
      await store.recordsOfCustomers(['01JCUSTOMER0000000000000AA'], ['PHONE']);
    });
    expect(issued).toHaveLength(2);
    const [pending, ofCustomers] = await Promise.all(issued.map((q) => queryPlan(t, q)));
    expect(pending).toContain('idmap_source_records_pending_idx');
    expect(ofCustomers).toContain('idmap_source_records_customer_idx');
  });

  itOn('sqlite')('reads a page of the open review queue strongest first, and the page after, in index order without a sort', async () => {
    await migrateLatest(t.db);
    const store = createIdMapStore(t.db);
    const { queries: issued } = await queriesDuring(t.db, async () => {
      await store.reviewCandidates({ status: 'open', order: 'strongest', limit: 21 });
      await store.reviewCandidates({ status: 'open', order: 'strongest', after: { id: '7', matchWeight: 5.5 }, limit: 21 });
    });
    expect(issued).toHaveLength(2);
    for (const plan of await Promise.all(issued.map((q) => queryPlan(t, q)))) {
      expect(plan).toContain('idmap_candidates_weight_idx');
      expect(plan).not.toContain('TEMP B-TREE');
    }
  });

  // MariaDB/MySQL stop looking up IN-list keys past 200 and MariaDB rewrites 1,000-key lists
  // into a join: on a half-linked map that scanned the whole customer index per statement.
  itOn('mariadb')('looks up each customer of a full 1,000-key batch through the customer index on MariaDB', async () => {
    await migrateLatest(t.db);
    const rows = Array.from({ length: 20_000 }, (_, i) => ({
      source: 'crm',
      record_id: `C${String(i).padStart(6, '0')}`,
      customer_id: i % 2 ? `01JCUST${String(i).padStart(19, '0')}` : null,
      pending: 0,
    }));
    for (let i = 0; i < rows.length; i += 1000) await t.db('idmap_source_records').insert(rows.slice(i, i + 1000));
    await t.db.raw('ANALYZE TABLE idmap_source_records');
    const wanted = Array.from({ length: 1000 }, (_, i) => `01JCUST${String(i * 2 + 1).padStart(19, '0')}`);

    const { result: found, queries: issued } = await queriesDuring(t.db, () => createResolutionStore(t.db).recordsOfCustomers(wanted, ['PHONE']));
    expect(found).toHaveLength(1000);
    expect(issued).toHaveLength(1);
    const [plan] = await t.db.raw(`EXPLAIN ${issued[0].sql}`, issued[0].bindings as any[]);
    const sr = (plan as Array<{ table: string; type: string; key: string | null }>).find((r) => r.table === 'sr');
    expect(sr).toMatchObject({ type: 'range', key: 'idmap_source_records_customer_idx' });
    expect(JSON.stringify(plan)).not.toMatch(/subquery|derived/i);
  });
});

/**
 * Gateway replicas (and a `c360 resolve` job) start on one MySQL/MariaDB store at once, each with
 * its own pool: every one must come up, and every migration must be applied exactly once.
 */
describeOn('mariadb')('OneID migrations run by several processes at once', () => {
  let t: TestDatabase;
  const pools: Knex[] = [];
  /** A process of its own: its own pool on the same database. */
  const replica = () => {
    const db = openDatabase(t.connection);
    pools.push(db);
    return db;
  };
  const recorded = async () => (await t.db('idmap_migrations').orderBy('id').select('name')).map((r: { name: string }) => r.name);
  beforeEach(async () => {
    t = await freshDatabase('idmap_migrations');
  });
  afterEach(async () => {
    for (const db of pools.splice(0)) await db.destroy();
    await t.drop();
  });

  it('three starting on an empty store all start, and each migration is applied once', async () => {
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => migrateLatest(replica())));
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
    const applied = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
    expect(applied.sort()).toEqual(MIGRATIONS.map(([name]) => name).sort());
    expect(await recorded()).toEqual(MIGRATIONS.map(([name]) => name));
    expect(await existing(t)).toEqual(TABLES);
  });

  it("three starting on an empty store all migrate the access audit's tables beside it too, each migration once", async () => {
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => migrateAccessLatest(replica())));
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
    expect((await t.db('c360_access_migrations').orderBy('id').select('name')).map((r: { name: string }) => r.name)).toEqual(ACCESS_MIGRATIONS.map(([name]) => name));
  });

  it('three starting on a store one migration behind (a rolling upgrade) all start; one of them applies it', async () => {
    await migrateLatest(t.db);
    const [, [last]] = (await t.db.migrate.down(migratorConfig)) as [number, string[]];
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => migrateLatest(replica())));
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
    expect(outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []))).toEqual([last]);
    expect(await recorded()).toEqual(MIGRATIONS.map(([name]) => name));
  });

  it("a process killed mid-migration leaves knex's lock set: the next start clears it and applies what is pending", async () => {
    await migrateLatest(t.db);
    const [, [last]] = (await t.db.migrate.down(migratorConfig)) as [number, string[]];
    // What a process killed between taking knex's lock and freeing it leaves behind.
    await t.db('idmap_migrations_lock').update({ is_locked: 1 });
    expect(await migrateLatest(replica())).toEqual([last]);
    expect(await t.db('idmap_migrations_lock').where('is_locked', 1).first()).toBeUndefined();
    expect(await recorded()).toEqual(MIGRATIONS.map(([name]) => name));
  });
});

/** SQLite's plan for a query, as one string naming the indexes it uses. */
async function queryPlan(t: TestDatabase, q: IssuedQuery): Promise<string> {
  const rows = await t.db.raw(`EXPLAIN QUERY PLAN ${q.sql}`, q.bindings as any[]);
  return JSON.stringify(rows);
}
