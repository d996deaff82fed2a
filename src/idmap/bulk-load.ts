/**
 * SQLite, first resolution of an empty store: the identifiers' `(kind, match_key)` index is
 * keyed by value, so every staged page inserted its identifiers at random places in it (about
 * three per record), and each page's commit wrote thousands of scattered index pages to the
 * WAL: most of staging's time at a million records. Staging never reads that index (linking
 * does), so a first resolution drops it while it stages and builds it by sorting before it
 * links. A run stopped in between leaves it missing: the next run, and `migrateLatest` (every
 * start of the gateway), build it again. While it is missing, lookups by value on that store
 * scan the table (correct, slow): only a store still being loaded for the first time.
 *
 * The same holds for the source records' pending index (migration 20261122000100): it covers
 * six columns of every staged record, all pending, in record-id order while pages arrive in
 * update order, so each page dirtied about one index page a record; linking reads it, staging
 * never does. It is dropped and built the same way.
 *
 * And for the identifiers' `(source, record_id)` index, with one difference: staging reads a
 * record's stored identifiers by it, but a first resolution reads only records it may have
 * staged already (a record that came twice, a wrong "maybe" of staged-filter.ts: next to none),
 * so it is left out too (472,000 identifier rows appended in scattered record order, ten pages a
 * commit: 10.0 s with it, 3.1 s without and 0.9 s to build it after), and built the moment such a read comes
 * (`needIdentifiersByRecord`): from then on that load is what it was before.
 *
 * The source records themselves are a table clustered by `(source, record_id)` (migration
 * 20261122000100), so staging inserted each record at a random place in it and every group of
 * pages dirtied most of its pages again. A first resolution appends them to an unindexed load
 * table (`RECORDS_LOAD`) and moves them over in key order before anything reads them by record
 * (`needIdentifiersByRecord`, which a record that came twice calls) and before the pending index is
 * built. Until then a first resolution's staged records are not in the table: nothing reads it
 * while the store is being loaded for the first time, save that record's read.
 *
 * MySQL/MariaDB: InnoDB writes secondary indexes in place (MariaDB 10.11's change buffering is
 * `none` by default, and gone since 11.0), so every index above took a random page a row there
 * too, and once the store outgrew the buffer pool (a million records, 256 MiB) a read from disk
 * first. A first resolution drops the same indexes (one `ALTER TABLE` a table) and builds them
 * after by sorting (one `ALTER TABLE` adding a table's indexes in one pass over it); records and
 * identifiers go straight to their tables (no load table: InnoDB appends identifiers by their
 * row id). Whether a load left an index out is read from `information_schema`, so the next run
 * and `migrateLatest` build what a stopped one left out, as on SQLite.
 *
 * Linking a first resolution has the same shape in the link log: its two customer indexes take
 * one entry per event, and about 380,000 of a million records link to a customer an earlier
 * batch created, each at a random place in them, so every batch's commit rewrote about as many
 * index pages as it linked records. Nothing reads the log by customer while a first resolution
 * links (the history, `whyLinked` and unmerging do; on a store still being loaded they scan), so
 * the link phase of an empty map drops them (`startEventBulkLoad`) and builds them by sorting
 * after (`finishEventBulkLoad`, also from `finishIdentifierBulkLoad` for a stopped run).
 */
import type { Knex } from 'knex';
import { isMysql } from '../db';
import { T, writeTransaction } from './tables';
import { turnOfTheEventLoop } from './turns';
// The identifiers' indexes as the latest migration that shapes them creates them.
import { MATCH_INDEX, MATCH_INDEX_COLUMNS, RECORD_INDEX, RECORD_INDEX_COLUMNS } from './migrations/20261202000200_narrow_identifier_indexes';
/** The index as migration 20261122000100 creates it (partial, covering what linking reads of a pending record). */
const PENDING_INDEX = 'idmap_source_records_pending_idx';
const PENDING_INDEX_COLUMNS = '(`pending`, `source`, `record_id`, `customer_id`, `name_key`, `birthday_key`) WHERE `pending` = 1';
/** The link log's indexes as migration 20250601000300 creates them. */
const EVENT_INDEXES = [
  ['idmap_link_events_customer_idx', '(`customer_id`, `id`)'],
  ['idmap_link_events_other_idx', '(`other_customer_id`, `id`)'],
] as const;

/** Where a first resolution on SQLite appends its new source records (the source records' columns, no key). */
export const RECORDS_LOAD = 'idmap_source_records_load';

/** MySQL/MariaDB: the secondary indexes a first resolution leaves out, by table, as the migrations create them there (`SHOW CREATE TABLE`). */
const MYSQL_LOAD_INDEXES = {
  identifiers: [T.identifiers, [[MATCH_INDEX, '(`kind`, `match_key`)']]],
  identifiersByRecord: [T.identifiers, [[RECORD_INDEX, '(`source`, `record_id`)']]],
  pending: [T.sourceRecords, [[PENDING_INDEX, '(`pending`, `source`, `record_id`)']]],
  events: [T.linkEvents, EVENT_INDEXES],
} as const satisfies Record<string, MysqlIndexes>;

/** A table and its indexes: name and column list. */
export type MysqlIndexes = readonly [table: string, indexes: ReadonlyArray<readonly [name: string, columns: string]>];

/**
 * MySQL/MariaDB: the index groups (`MysqlIndexes`) this process found or built whole, by store.
 * Every webhook's `resolveRecords` finishes a stopped load first, and reading `information_schema`
 * for the six groups cost eight statements (data dictionary reads) on every call, when
 * only a first resolution's load ever leaves them out. So a webhook reads a group once per store,
 * and again after this process begins a load that drops it (`dropMysqlIndexes` forgets it); a full
 * run and a start (`migrateLatest`) read them all afresh (`forgetWholeIndexes`), so one that
 * another process's stopped load left out is built by the next of either, as before; until then a
 * webhook's lookups the group serves scan, as they do while any first load runs.
 */
const wholeIndexes = new WeakMap<Knex, Set<string>>();
const groupKey = ([table, indexes]: MysqlIndexes) => `${table}\u0000${indexes.map(([name]) => name).join(',')}`;
function wholeOf(db: Knex): Set<string> {
  let known = wholeIndexes.get(db);
  if (!known) wholeIndexes.set(db, (known = new Set()));
  return known;
}

/** The next check of each index group on `db` reads `information_schema` again (a full run, a start). */
export function forgetWholeIndexes(db: Knex): void {
  wholeIndexes.delete(db);
}

/** The names of `table`'s indexes in the current database (MySQL/MariaDB). */
async function mysqlIndexesOf(db: Knex, table: string): Promise<Set<string>> {
  const rows: Array<{ name: string }> = await db('information_schema.statistics')
    .whereRaw('table_schema = DATABASE()')
    .where('table_name', table)
    .distinct({ name: 'index_name' });
  return new Set(rows.map((r) => r.name));
}

/** MySQL/MariaDB: drops those of the indexes that exist, in one statement; answers whether it dropped any. */
export async function dropMysqlIndexes(db: Knex, [table, indexes]: MysqlIndexes): Promise<boolean> {
  const known = wholeOf(db);
  for (const key of known) if (key.startsWith(`${table}\u0000`)) known.delete(key);
  const present = await mysqlIndexesOf(db, table);
  const names = indexes.map(([name]) => name).filter((name) => present.has(name));
  if (!names.length) return false;
  try {
    await db.raw(`ALTER TABLE ?? ${names.map(() => 'DROP INDEX ??').join(', ')}`, [table, ...names]);
  } catch (e) {
    if ((e as { errno?: number }).errno !== ER_CANT_DROP_FIELD_OR_KEY) throw e; // another process dropped it meanwhile
  }
  return true;
}

/**
 * MySQL/MariaDB: builds those of the indexes that are missing, in one statement (InnoDB sorts
 * the table once for all of them); nothing when all exist. Another process building them at the
 * same moment (a gateway's start beside a run's end) is not an error.
 */
export async function buildMysqlIndexes(db: Knex, group: MysqlIndexes): Promise<void> {
  const known = wholeOf(db);
  const key = groupKey(group);
  if (known.has(key)) return;
  const [table, indexes] = group;
  const present = await mysqlIndexesOf(db, table);
  const missing = indexes.filter(([name]) => !present.has(name));
  if (missing.length) {
    try {
      await db.raw(`ALTER TABLE ?? ${missing.map(([, columns]) => `ADD INDEX ?? ${columns}`).join(', ')}`, [table, ...missing.map(([name]) => name)]);
    } catch (e) {
      if ((e as { errno?: number }).errno !== ER_DUP_KEYNAME) throw e;
    }
  }
  known.add(key);
  if (missing.length) await turnOfTheEventLoop();
}

const ER_DUP_KEYNAME = 1061;
const ER_CANT_DROP_FIELD_OR_KEY = 1091;

/** Drops the value, record and pending indexes (and on SQLite opens the records' load table) when the store holds no record yet; answers whether it did. */
export async function startIdentifierBulkLoad(db: Knex): Promise<boolean> {
  forgetWholeIndexes(db);
  await finishIdentifierBulkLoad(db);
  if (await db(T.sourceRecords).first('source')) return false;
  if (isMysql(db)) {
    for (const indexes of [MYSQL_LOAD_INDEXES.identifiers, MYSQL_LOAD_INDEXES.identifiersByRecord, MYSQL_LOAD_INDEXES.pending]) await dropMysqlIndexes(db, indexes);
    return true;
  }
  await db.raw('DROP INDEX IF EXISTS ??', [MATCH_INDEX]);
  await db.raw('DROP INDEX IF EXISTS ??', [PENDING_INDEX]);
  await db.raw('DROP INDEX IF EXISTS ??', [RECORD_INDEX]);
  await db.raw('CREATE TABLE IF NOT EXISTS ?? AS SELECT * FROM ?? WHERE 0', [RECORDS_LOAD, T.sourceRecords]);
  return true;
}

/**
 * Builds the value, record and pending indexes if a bulk load left them out, after moving its
 * records over; nothing when they exist. `endLoad` false: a first resolution may still be loading
 * in another process (a gateway's start), so the records' load table stays, emptied.
 */
export async function finishIdentifierBulkLoad(db: Knex, endLoad = true): Promise<void> {
  if (isMysql(db)) {
    for (const indexes of [MYSQL_LOAD_INDEXES.identifiersByRecord, MYSQL_LOAD_INDEXES.identifiers, MYSQL_LOAD_INDEXES.pending]) await buildMysqlIndexes(db, indexes);
    return finishEventBulkLoad(db);
  }
  // Each statement runs for seconds at a million records: a turn between them renews the lease (turns.ts).
  await needIdentifiersByRecord(db);
  if (endLoad) await db.raw('DROP TABLE IF EXISTS ??', [RECORDS_LOAD]); // emptied by needIdentifiersByRecord
  await turnOfTheEventLoop();
  await db.raw(`CREATE INDEX IF NOT EXISTS ?? ON ?? ${MATCH_INDEX_COLUMNS}`, [MATCH_INDEX, T.identifiers]);
  await turnOfTheEventLoop();
  await db.raw(`CREATE INDEX IF NOT EXISTS ?? ON ?? ${PENDING_INDEX_COLUMNS}`, [PENDING_INDEX, T.sourceRecords]);
  await turnOfTheEventLoop();
  await finishEventBulkLoad(db);
}

/** Drops the link log's customer indexes when the map has no customer yet; answers whether it did. */
export async function startEventBulkLoad(db: Knex): Promise<boolean> {
  if (await db(T.customers).first('id')) return false;
  if (isMysql(db)) return dropMysqlIndexes(db, MYSQL_LOAD_INDEXES.events);
  for (const [name] of EVENT_INDEXES) await db.raw('DROP INDEX IF EXISTS ??', [name]);
  return true;
}

/** Builds the link log's customer indexes if a first link phase left them out; nothing when they exist. */
export async function finishEventBulkLoad(db: Knex): Promise<void> {
  if (isMysql(db)) return buildMysqlIndexes(db, MYSQL_LOAD_INDEXES.events);
  for (const [name, columns] of EVENT_INDEXES) {
    await db.raw(`CREATE INDEX IF NOT EXISTS ?? ON ?? ${columns}`, [name, T.linkEvents]);
    await turnOfTheEventLoop();
  }
}

/**
 * Before anything reads stored records or identifiers by record: moves the records a bulk load
 * appended into the source records in key order (the load table stays, empty, for the rest of
 * the load) and builds the identifiers' record index if it left it out.
 */
export async function needIdentifiersByRecord(db: Knex): Promise<void> {
  if (isMysql(db)) return buildMysqlIndexes(db, MYSQL_LOAD_INDEXES.identifiersByRecord);
  if (await db.schema.hasTable(RECORDS_LOAD)) {
    const columns = ((await db.raw('SELECT name FROM pragma_table_info(?)', [RECORDS_LOAD])) as Array<{ name: string }>).map((c) => c.name);
    const list = columns.map(() => '??').join(', ');
    await writeTransaction(db, async (trx) => {
      await trx.raw(`INSERT INTO ?? (${list}) SELECT ${list} FROM ?? ORDER BY source, record_id`, [T.sourceRecords, ...columns, ...columns, RECORDS_LOAD]);
      await trx.raw('DELETE FROM ??', [RECORDS_LOAD]);
    });
    await turnOfTheEventLoop();
  }
  await db.raw(`CREATE INDEX IF NOT EXISTS ?? ON ?? ${RECORD_INDEX_COLUMNS}`, [RECORD_INDEX, T.identifiers]);
}
