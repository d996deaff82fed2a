import path from 'node:path';
import { freshDatabase, indexColumns, queriesDuring, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve, resolveRecords, type IdMapStore } from '../../src/idmap';
import { finishIdentifierBulkLoad, RECORDS_LOAD, startIdentifierBulkLoad } from '../../src/idmap/bulk-load';
import { stagePage } from '../../src/idmap/stage';
import { insertMany, insertRows, toDbTime } from '../../src/idmap/tables';
import { STAGED_GROUP_RECORDS } from '../../src/idmap/staged-pages';
import type { Connector, ScanPage, ScannedRecord } from '../../src/vocabulary';
import { FakeSource, rec } from '../helpers/feeds';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));

/** A feed serving the pages given, in order, whatever the page size asked (a record may come twice: it changed while the scan ran). */
class PagedFeed implements Connector {
  readonly name = 'crm';
  readonly maxBatch = 100;
  constructor(private pages: ScannedRecord[][]) {}
  async scan(cursor: string | null): Promise<ScanPage> {
    const i = cursor == null ? 0 : Number(cursor);
    return { records: this.pages[i] ?? [], cursor: String(i + 1), done: i + 1 >= this.pages.length };
  }
  async scanRecords(ids: readonly string[]) {
    return ids.map((id) => this.pages.flat().find((r) => r.recordId === id) ?? null);
  }
  async health() {}
  async close() {}
}

describe(`Staging's writes (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  beforeEach(async () => {
    t = await freshDatabase('idmap_stage_writes');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
  });
  afterEach(async () => {
    await t.drop();
  });

  describe('insertRows', () => {
    const columns = ['source', 'cursor', 'updated_at'];
    // 70 rows: two full prepared statements and six rows one at a time on SQLite.
    const rowsOf = () => Array.from({ length: 70 }, (_, i) => [`s${String(i).padStart(2, '0')}`, i % 3 ? `c${i}` : undefined, toDbTime(t.db, '2024-03-01T08:00:00.000Z')]);
    const stored = () => t.db('idmap_scan_cursors').orderBy('source').select('source', 'cursor');

    it('writes what insertMany writes, in and out of a transaction, undefined as null', async () => {
      const rows = rowsOf();
      await insertRows(t.db, 'idmap_scan_cursors', columns, rows.slice(0, 35));
      await t.db.transaction((trx) => insertRows(trx, 'idmap_scan_cursors', columns, rows.slice(35)));
      const viaRows = await stored();
      await t.db('idmap_scan_cursors').delete();
      await insertMany(
        t.db,
        'idmap_scan_cursors',
        rows.map(([source, cursor, updated_at]) => ({ source, cursor, updated_at })),
      );
      expect(viaRows).toHaveLength(70);
      expect(viaRows).toEqual(await stored());
      expect(viaRows[0]).toEqual({ source: 's00', cursor: null });
    });

    it("is part of the caller's transaction: a rollback leaves none of its rows", async () => {
      const rows = rowsOf();
      await expect(
        t.db.transaction(async (trx) => {
          await insertRows(trx, 'idmap_scan_cursors', columns, rows);
          expect(await trx('idmap_scan_cursors').count({ n: '*' })).toEqual([{ n: 70 }]);
          throw new Error('stop');
        }),
      ).rejects.toThrow('stop');
      expect(await stored()).toEqual([]);
    });
  });

  describe('a first resolution', () => {
    /** Transactions (statements from a BEGIN to its COMMIT) that wrote a scan cursor. */
    const cursorWrites = (sqls: string[]) => {
      let current: string[] | null = null;
      const done: string[][] = [];
      for (const sql of sqls) {
        if (/^(begin|start transaction)/i.test(sql.trim())) current = [];
        else if (/^commit/i.test(sql.trim()) && current) {
          done.push(current);
          current = null;
        } else current?.push(sql);
      }
      return done.filter((trx) => trx.some((sql) => /insert into `idmap_scan_cursors`/i.test(sql))).length;
    };

    it('writes its pages in groups, each with its last cursor', async () => {
      const crm = new FakeSource(
        'crm',
        Array.from({ length: 25 }, (_, i) => rec('crm', `C${String(i).padStart(2, '0')}`, { phone: `1390000${1000 + i}` })),
      );
      const { queries } = await queriesDuring(t.db, () => resolve({ store, connectors: [crm], rules, pageSize: 10 }));
      // Three pages, fewer records than a group: one write transaction for all of them.
      expect(25).toBeLessThan(STAGED_GROUP_RECORDS);
      expect(crm.served).toHaveLength(3);
      expect(cursorWrites(queries.map((q) => q.sql))).toBe(1);
      expect(await t.db('idmap_source_records').count({ n: '*' })).toEqual([{ n: 25 }]);
      expect(await t.db('idmap_scan_cursors').pluck('cursor')).toEqual(['2024-03-01T08:00:00.000Z|C24']);
    });

    it('writes the pages it holds before it reads a record that came again, and stages that record as changed', async () => {
      const feed = new PagedFeed([
        [rec('crm', 'C1', { phone: '13900001001' }), rec('crm', 'C2', { phone: '13900001002' })],
        [rec('crm', 'C3', { phone: '13900001003' }), rec('crm', 'C1', { phone: '13900001009' }, undefined, '2024-03-02T08:00:00.000Z')],
      ]);
      const { result: stats, queries } = await queriesDuring(t.db, () => resolve({ store, connectors: [feed], rules, pageSize: 2 }));
      expect(stats).toMatchObject({ recordsRead: 4, recordsNew: 3, recordsChanged: 1 });
      // Staged without the identifiers' record index, which is built before that read.
      const sqls = queries.map((q) => q.sql);
      const built = sqls.findIndex((s) => /(CREATE INDEX IF NOT EXISTS|ADD INDEX) `idmap_identifiers_record_idx`/.test(s));
      const read = sqls.findIndex((s) => /from `idmap_record_identifiers` where `source` = \? and `record_id` in/.test(s));
      expect(sqls.findIndex((s) => /DROP INDEX (IF EXISTS )?`idmap_identifiers_record_idx`/.test(s))).toBeGreaterThanOrEqual(0);
      expect(built).toBeGreaterThanOrEqual(0);
      expect(read).toBeGreaterThan(built);
      const c1 = await t.db('idmap_record_identifiers').where({ source: 'crm', record_id: 'C1' }).orderBy('id').select('value', 'valid_to');
      expect(c1).toEqual([
        { value: '+8613900001001', valid_to: testEngine === 'sqlite' ? '2024-03-02T08:00:00.000Z' : expect.any(Date) },
        { value: '+8613900001009', valid_to: null },
      ]);
      expect(await t.db('idmap_scan_cursors').pluck('cursor')).toEqual(['2']);
    });

    it('appends new records and their features to load tables on SQLite and moves them over in key order before linking', async () => {
      // Update order is not key order: C4 first, C0 last.
      const records = Array.from({ length: 5 }, (_, i) => rec('crm', `C${4 - i}`, { phone: `1390000${1000 + i}` }, { name: '王芳' }, `2024-03-0${i + 1}T08:00:00.000Z`));
      const { queries } = await queriesDuring(t.db, () => resolve({ store, connectors: [new FakeSource('crm', records)], rules, pageSize: 2, tiers: 'none' }));
      const inserted = (table: string) => queries.some((q) => new RegExp(`^INSERT INTO \`${table}\``, 'i').test(q.sql));
      if (testEngine === 'sqlite') {
        // The prepared inserts run on the connection itself, so the statements seen are the moves.
        const sqls = queries.map((q) => q.sql);
        expect(sqls.some((s) => /^INSERT INTO `idmap_source_records` .* FROM `idmap_source_records_load` ORDER BY source, record_id/.test(s))).toBe(true);
        expect(sqls.some((s) => /^INSERT OR IGNORE INTO `idmap_match_features` .* FROM `idmap_match_features_load` ORDER BY source, record_id/.test(s))).toBe(true);
        expect(await t.db.schema.hasTable(RECORDS_LOAD)).toBe(false);
        expect(await t.db.schema.hasTable('idmap_match_features_load')).toBe(false);
        // Stored in key order.
        expect(await t.db('idmap_match_features').orderBy('rowid').pluck('record_id')).toEqual(['C0', 'C1', 'C2', 'C3', 'C4']);
      } else expect(inserted('idmap_source_records_load')).toBe(false);
      expect(await t.db('idmap_source_records').whereRaw('pending = 1').orderBy('record_id').pluck('record_id')).toEqual(['C0', 'C1', 'C2', 'C3', 'C4']);
      expect(await t.db('idmap_match_features').count({ n: '*' })).toEqual([{ n: 5 }]);
      // The next run reads nothing new and links what was staged.
      expect(await resolve({ store, connectors: [new FakeSource('crm', records)], rules })).toMatchObject({ recordsRead: 0, customersCreated: 5 });
    });

    it('keeps what a failed first resolution staged in the source records, and a stopped one is finished by the next run', async () => {
      const crm = new FakeSource(
        'crm',
        Array.from({ length: 5 }, (_, i) => rec('crm', `C${i}`, { phone: `1390000${1000 + i}` })),
      );
      crm.failOnCall = 1;
      await expect(resolve({ store, connectors: [crm], rules, pageSize: 2 })).rejects.toThrow('feed down');
      expect(await t.db('idmap_source_records').orderBy('record_id').pluck('record_id')).toEqual(['C0', 'C1']);

      if (testEngine !== 'sqlite') return;
      // A run stopped mid-load (no failure to handle): its records are still in the load table.
      const fresh = await freshDatabase('idmap_stage_writes_stopped');
      try {
        await migrateLatest(fresh.db);
        const stopped = createIdMapStore(fresh.db);
        expect(await startIdentifierBulkLoad(fresh.db)).toBe(true);
        const staged = [rec('crm', 'C1', { phone: '13900001001' }), rec('crm', 'C0', { phone: '13900001000' })];
        await stopped.applyScanPages(
          [{ changes: { ...stagePage('crm', staged, new Map(), rules, '2024-03-01T09:00:00.000Z'), cursor: '2024-03-01T08:00:00.000Z|C1' } }],
          true,
        );
        expect(await fresh.db('idmap_source_records').count({ n: '*' })).toEqual([{ n: 0 }]);
        expect(await fresh.db(RECORDS_LOAD).count({ n: '*' })).toEqual([{ n: 2 }]);
        // The next run moves them before it decides it is a first resolution: C1 changed since, and is staged as changed.
        const next = new FakeSource('crm', [
          rec('crm', 'C1', { phone: '13900001009' }, undefined, '2024-03-02T08:00:00.000Z'),
          rec('crm', 'C2', { phone: '13900001002' }, undefined, '2024-03-02T08:00:00.000Z'),
        ]);
        expect(await resolve({ store: stopped, connectors: [next], rules })).toMatchObject({ recordsRead: 2, recordsNew: 1, recordsChanged: 1, customersCreated: 3 });
        expect(await fresh.db.schema.hasTable(RECORDS_LOAD)).toBe(false);
        expect(await fresh.db('idmap_source_records').whereNull('customer_id').count({ n: '*' })).toEqual([{ n: 0 }]);
      } finally {
        await fresh.drop();
      }
    });

    it("finishes a stopped load's features before a webhook's records are staged: a record deleted meanwhile does not get them back", async () => {
      const named = (id: string, phone: string) => rec('crm', id, { phone }, { name: '王芳', birthday: '1990-05-01' });
      const crm = new FakeSource('crm', [named('C0', '13900001000'), named('C1', '13900001001'), named('C2', '13900001002')]);
      crm.failOnCall = 1;
      // The first resolution stops after its first page: two records staged, their features still loading.
      await expect(resolve({ store, connectors: [crm], rules, pageSize: 2 })).rejects.toThrow('feed down');
      const featuresOf = (id: string) => t.db('idmap_match_features').where({ source: 'crm', record_id: id }).count({ n: '*' });
      const blocksOf = (id: string) => t.db('idmap_match_blocks').where({ source: 'crm', record_id: id }).count({ n: '*' });
      if (testEngine === 'sqlite') expect(await t.db('idmap_match_features_load').count({ n: '*' })).toEqual([{ n: 2 }]);
      // A webhook says C1 was deleted.
      await resolveRecords({ store, rules, records: [{ ...named('C1', '13900001001'), deleted: true }] });
      expect(await featuresOf('C1')).toEqual([{ n: 0 }]);
      expect(await blocksOf('C1')).toEqual([{ n: 0 }]);
      expect(await featuresOf('C0')).toEqual([{ n: 1 }]);
      expect(await t.db.schema.hasTable('idmap_match_features_load')).toBe(false);
    });

    it("moves a running load's records over when a gateway starts, and leaves it the load table to append to (SQLite)", async () => {
      if (testEngine !== 'sqlite') return;
      expect(await startIdentifierBulkLoad(t.db)).toBe(true);
      const page = (records: ScannedRecord[], cursor: string) => ({ changes: { ...stagePage('crm', records, new Map(), rules, '2024-03-01T09:00:00.000Z'), cursor } });
      await store.applyScanPages([page([rec('crm', 'C1', { phone: '13900001001' }), rec('crm', 'C0', { phone: '13900001000' })], '1')], true);
      await migrateLatest(t.db);
      expect(await t.db('idmap_source_records').orderBy('record_id').pluck('record_id')).toEqual(['C0', 'C1']);
      expect(await t.db(RECORDS_LOAD).count({ n: '*' })).toEqual([{ n: 0 }]);
      await store.applyScanPages([page([rec('crm', 'C3', { phone: '13900001003' })], '2')], true);
      expect(await t.db(RECORDS_LOAD).pluck('record_id')).toEqual(['C3']);
      // The load's own end moves the rest and ends it.
      await finishIdentifierBulkLoad(t.db);
      expect(await t.db('idmap_source_records').orderBy('record_id').pluck('record_id')).toEqual(['C0', 'C1', 'C3']);
      expect(await t.db.schema.hasTable(RECORDS_LOAD)).toBe(false);
    });

    it("reads whether a load left an index out once per store, not on every webhook's records, and again after a load it begins", async () => {
      await resolve({ store, connectors: [new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' })])], rules });
      const webhook = (id: string) =>
        queriesDuring(t.db, () => resolveRecords({ store, rules, records: [rec('scrm', `o${id}`, { openid: `o${id}aaaaaa`, phone: '+8613911112222' })] }));
      const schemaReads = (queries: Array<{ sql: string }>) => queries.filter((q) => /information_schema/i.test(q.sql)).length;
      // On MySQL/MariaDB each call read information_schema once for each of the load's six index groups, some twice.
      for (const id of ['501', '502']) {
        const { result, queries } = await webhook(id);
        expect(result).toMatchObject({ recordsNew: 1 });
        expect(schemaReads(queries)).toBe(0);
      }
      // A load this process begins leaves them out again: the next call reads, finds them missing and builds them.
      const match = await indexColumns(t.db, 'idmap_record_identifiers', 'idmap_identifiers_match_idx');
      expect(match).toEqual(['kind', 'match_key']);
      await t.db('idmap_source_records').delete();
      expect(await startIdentifierBulkLoad(t.db)).toBe(true);
      expect(await indexColumns(t.db, 'idmap_record_identifiers', 'idmap_identifiers_match_idx')).toEqual([]);
      const { result } = await webhook('503');
      expect(result).toMatchObject({ recordsNew: 1 });
      expect(await indexColumns(t.db, 'idmap_record_identifiers', 'idmap_identifiers_match_idx')).toEqual(match);
      const { queries } = await webhook('504');
      expect(schemaReads(queries)).toBe(0);
    });

    it('stages without the pending, value and record indexes and builds them before linking, as the migrations made them', async () => {
      const pendingIndex = async () => ({
        columns: await indexColumns(t.db, 'idmap_source_records', 'idmap_source_records_pending_idx'),
        // SQLite's is partial (pending records only); MySQL/MariaDB have no partial indexes.
        partial:
          testEngine === 'sqlite'
            ? (
                (await t.db.raw("SELECT partial FROM pragma_index_list('idmap_source_records') WHERE name = 'idmap_source_records_pending_idx'")) as Array<{ partial: number }>
              ).map((r) => r.partial)
            : null,
      });
      const identifierIndexes = async () => ({
        record: await indexColumns(t.db, 'idmap_record_identifiers', 'idmap_identifiers_record_idx'),
        match: await indexColumns(t.db, 'idmap_record_identifiers', 'idmap_identifiers_match_idx'),
      });
      const before = await pendingIndex();
      expect(before).toEqual(
        testEngine === 'sqlite'
          ? { columns: ['pending', 'source', 'record_id', 'customer_id', 'name_key', 'birthday_key'], partial: [1] }
          : { columns: ['pending', 'source', 'record_id'], partial: null },
      );
      // As the latest migration that shapes them made them (20261202000200).
      const migrated = await identifierIndexes();
      expect(migrated).toEqual({ record: ['source', 'record_id'], match: ['kind', 'match_key'] });
      expect(await startIdentifierBulkLoad(t.db)).toBe(true);
      expect(await pendingIndex()).toEqual({ columns: [], partial: testEngine === 'sqlite' ? [] : null });
      expect(await identifierIndexes()).toEqual({ record: [], match: [] });
      // A stopped load is finished by the next start.
      await migrateLatest(t.db);
      expect(await pendingIndex()).toEqual(before);
      expect(await identifierIndexes()).toEqual(migrated);
      const sharingAPhone = [new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' })]), new FakeSource('orders', [rec('orders', '501', { phone: '13911112222' })])];
      // Dropped before the first staged row is written, built after the last and before the first pending record is read.
      const { result, queries } = await queriesDuring(t.db, () => resolve({ store, connectors: sharingAPhone, rules }));
      expect(result).toMatchObject({ recordsNew: 2, recordsLinked: 1 });
      const sqls = queries.map((q) => q.sql);
      const at = (re: RegExp, from = 0) => sqls.findIndex((s, i) => i >= from && re.test(s));
      const last = (re: RegExp) => sqls.length - 1 - [...sqls].reverse().findIndex((s) => re.test(s));
      const dropped = at(/DROP INDEX (IF EXISTS )?`idmap_source_records_pending_idx`/);
      const built = at(/(CREATE INDEX IF NOT EXISTS|ADD INDEX) `idmap_source_records_pending_idx`/, dropped);
      expect(dropped).toBeGreaterThanOrEqual(0);
      // A staged page's cursor is written in its transaction (SQLite's rows go through prepared statements knex does not see).
      expect(dropped).toBeLessThan(at(/^insert into `idmap_scan_cursors`/i));
      expect(built).toBeGreaterThan(last(/^insert into `idmap_scan_cursors`/i));
      expect(built).toBeLessThan(at(/pending = 1/));
      expect(await pendingIndex()).toEqual(before);
      expect(await identifierIndexes()).toEqual(migrated);
    });
  });
});
