import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';
import { appliedMigrations, migrateDown, migrateLatest, migratorConfig } from '../../src/idmap/migrate';
import { MIGRATIONS } from '../../src/idmap/migrations';
import { isMysql } from '../../src/db';

const TABLES = [
  'idmap_customers',
  'idmap_source_records',
  'idmap_record_identifiers',
  'idmap_link_events',
  'idmap_scan_cursors',
  'idmap_review_candidates',
  'idmap_manual_decisions',
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

  it('is a no-op when up to date, and migrateDown({ all }) reverts everything', async () => {
    await migrateLatest(t.db);
    expect(await migrateLatest(t.db)).toEqual([]);
    expect(await migrateDown(t.db, { all: true })).toHaveLength(MIGRATIONS.length);
    expect(await existing(t)).toEqual([]);
  });

  it('creates the named indexes reads rely on', async () => {
    await migrateLatest(t.db);
    expect(await indexNames(t, 'idmap_record_identifiers')).toEqual(
      expect.arrayContaining(['idmap_identifiers_value_idx', 'idmap_identifiers_match_idx', 'idmap_identifiers_record_idx']),
    );
    expect(await indexNames(t, 'idmap_source_records')).toEqual(
      expect.arrayContaining(['idmap_source_records_customer_idx', 'idmap_source_records_pending_idx']),
    );
    expect(await indexNames(t, 'idmap_link_events')).toEqual(
      expect.arrayContaining(['idmap_link_events_customer_idx', 'idmap_link_events_other_idx']),
    );
    expect(await indexNames(t, 'idmap_review_candidates')).toEqual(expect.arrayContaining(['idmap_candidates_dedupe_uq']));
  });
});
