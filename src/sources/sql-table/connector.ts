/**
 * The `sql-table` connector: a company's own SQL table, mapped to the profile capability by
 * config alone (mapping.ts).
 *
 * Keys: the values of the mapping's `key` column, as strings (an integer key `42` is record
 * `"42"`); matched by the database's own comparison, answered by exact string.
 * Cost: one `SELECT … WHERE key IN (…)` per chunk of at most `maxBatch` keys (default 500);
 * `scan` is one keyset SELECT per page on (updatedAt, key). Every statement carries the
 * mapping's row filter, so rows it excludes do not exist for c360 (ids answer null).
 * Table and column names come from config, validated (IDENTIFIER_PATTERN) and passed to knex
 * as identifiers; filter values are bound parameters.
 *
 * `describeTable` reads the table's columns and indexes from the catalogue (SQLite pragmas,
 * MySQL information_schema) for the start-up check (check.ts); it judges nothing itself.
 */
import type { Knex } from 'knex';
import type { ProfileField, ProfileValue } from '../../capabilities';
import type { Connector, Instant, RawIdentifier, ScannedRecord, ScanPage, Slot, SourceAccount, SourceName } from '../../vocabulary';
import { badRow, unreadableRecord } from '../../errors';
import type { CountryCode } from 'libphonenumber-js';
import { DEFAULT_PHONE_REGION, normalizePhone, phoneRegionOf } from '../../canonical';
import type { SourceObserver } from '../observe';
import { batchByKey, everyKey, checkMaxBatch, createSqlSource, keysetScan, whereMatchesText, type SqlSource, type SqlSourceOptions } from '../sql';
import { convert, mysqlColumnClass, sqliteColumnClass, type ColumnClass, type ColumnMapping, type RowFilter, type SqlTableOptions } from './mapping';

/** What one row says, in the canonical vocabulary: the profile capability's record. */
export interface SqlProfileRecord {
  /** The instance the record lives in. */
  source: SourceName;
  /** The key column's value, as text. */
  id: string;
  updatedAt: Instant | null;
  createdAt: Instant | null;
  /** Mapped fields only; null where the row holds nothing readable. */
  values: Partial<Record<ProfileField, ProfileValue | null>>;
}

export interface ColumnShape {
  name: string;
  /** As the catalogue declares it (`varchar(19)`, `INTEGER`). */
  type: string;
  class: ColumnClass;
  nullable: boolean;
}

export interface IndexShape {
  name: string;
  unique: boolean;
  primary: boolean;
  /** In index order. */
  columns: string[];
}

/** A table as the catalogue describes it; `exists: false` with no columns when it is not there. */
export interface TableShape {
  table: string;
  exists: boolean;
  /** A view, not a table (it has no indexes of its own). */
  view: boolean;
  columns: ColumnShape[];
  indexes: IndexShape[];
}

export interface SqlTableConnector extends Connector {
  /** The validated mapping this instance reads by (the kind's check and capabilities use it). */
  readonly options: SqlTableOptions;
  readonly dialect: 'sqlite' | 'mysql';
  /** Profile records by key, in the order of `ids`; unknown or filtered-out keys answer null. */
  /** `account`, here and below: the request's, which every call made for it is booked to (`SourceCall.account`). */
  recordsByIds(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<SqlProfileRecord> | null>>;
  /** Filter pushdown: keys of the rows whose text-mapped `field` is one of `values`; null when the field is not mapped as text. */
  recordIdsWhere(field: ProfileField, values: readonly ProfileValue[], account?: SourceAccount): Promise<string[] | null>;
  /** The catalogue's view of the mapped table (start-up check). */
  describeTable(): Promise<TableShape>;
}

/**
 * The transport still types `source` with the closed list of the four original systems
 * (src/sources/types.ts); configured instance names are open (vocabulary `SourceName`). The cast
 * goes once the transport takes the vocabulary's name.
 */
type TransportName = SqlSourceOptions['source'];

/** `defaultRegion`: the identity rules' region of the source (InstanceSettings.phoneRegion), where phones of rows without a country are read. */
export function createSqlTableConnector(
  name: SourceName,
  options: SqlTableOptions,
  observer: SourceObserver,
  defaultRegion: CountryCode = DEFAULT_PHONE_REGION,
): SqlTableConnector {
  const source = name as TransportName;
  const maxBatch = checkMaxBatch(source, options.maxBatch);
  const { profile } = options;
  const sql = createSqlSource({ source, connection: options.connection, timeoutMs: options.timeoutMs, breaker: options.breaker });

  const fieldEntries = Object.entries(profile.fields) as Array<[ProfileField, ColumnMapping]>;
  // A row's country says where its phones are read, as OneID reads them (src/idmap/prepare.ts `regionOf`).
  const countryColumn = options.traits?.country;
  const recordColumns = distinct([
    profile.key,
    profile.updatedAt.column,
    ...(profile.createdAt ? [profile.createdAt.column] : []),
    ...fieldEntries.map(([, m]) => m.column),
    ...(countryColumn ? [countryColumn] : []),
  ]);
  const traitFields = (['name', 'birthday', 'gender', 'city', 'province'] as const).filter((f) => profile.fields[f]);
  const traitColumns = Object.entries(options.traits ?? {}).filter((e): e is [string, string] => Boolean(e[1]));
  const scanColumns = distinct([
    profile.key,
    profile.updatedAt.column,
    ...options.identifiers.map((i) => i.column),
    ...traitFields.map((f) => (profile.fields[f] as ColumnMapping).column),
    ...traitColumns.map(([, c]) => c),
  ]);

  /** Every statement sees only the rows the mapping's filter admits. */
  const scoped = (q: Knex.QueryBuilder) => applyFilter(q, profile.filter);

  function toRecord(row: Record<string, unknown>): Slot<SqlProfileRecord> {
    const id = keyOf(row[profile.key]);
    const updated = convert(profile.updatedAt.convert, row[profile.updatedAt.column]);
    if (!updated.ok) return badRow(name, 'record', `profile.updatedAt (${profile.updatedAt.column}) ${updated.reason}`);
    let createdAt: Instant | null = null;
    if (profile.createdAt) {
      const created = convert(profile.createdAt.convert, row[profile.createdAt.column]);
      if (!created.ok) return badRow(name, 'record', `profile.createdAt (${profile.createdAt.column}) ${created.reason}`);
      createdAt = created.value as Instant | null;
    }
    const values: SqlProfileRecord['values'] = {};
    const region = countryColumn ? phoneRegionOf(row[countryColumn], defaultRegion) : defaultRegion;
    for (const [field, m] of fieldEntries) {
      const c = convert(m.convert, row[m.column], region);
      if (!c.ok) return badRow(name, 'record', `profile.fields.${field} (${m.column}) ${c.reason}`);
      values[field] = c.value as ProfileValue | null;
    }
    return { source: name, id, updatedAt: updated.value as Instant | null, createdAt, values };
  }

  /** The identity view of a row; null when its updatedAt cannot be read (see `scan`). */
  function toScanned(row: Record<string, unknown>): ScannedRecord | null {
    const updated = convert(profile.updatedAt.convert, row[profile.updatedAt.column]);
    if (!updated.ok || updated.value === null) return null;
    const identifiers: RawIdentifier[] = [];
    for (const i of options.identifiers) {
      const raw = rawText(row[i.column]);
      if (raw === null) continue;
      // Raw values: the resolver normalizes. A region only the mapping knows is applied here.
      const value = i.kind === 'PHONE' && i.region ? (normalizePhone(raw, i.region) ?? raw) : raw;
      identifiers.push({ kind: i.kind, value });
    }
    const traits: NonNullable<ScannedRecord['traits']> = {};
    for (const f of traitFields) {
      const m = profile.fields[f] as ColumnMapping;
      const c = convert(m.convert, row[m.column]);
      (traits as Record<string, unknown>)[f] = c.ok ? c.value : null;
    }
    for (const [t, column] of traitColumns) (traits as Record<string, unknown>)[t] = rawText(row[column]);
    return {
      source: name,
      recordId: keyOf(row[profile.key]),
      updatedAt: updated.value as Instant,
      identifiers,
      ...(traitFields.length || traitColumns.length ? { traits } : {}),
    };
  }

  /** `rows` by key, for one chunk. */
  async function select<R>(operation: string, columns: string[], chunk: string[], to: (row: Record<string, unknown>) => R) {
    const rows = await sql.run<Array<Record<string, unknown>>>(operation, (db) => scoped(db(profile.table).select(columns).whereIn(profile.key, chunk)));
    return new Map(rows.map((r) => [keyOf(r[profile.key]), to(r)]));
  }

  /**
   * The transport `keysetScan` runs on: the same source, with the row filter (and "updatedAt is
   * not null": a row without a time has no place in the keyset) added to its statement.
   */
  const scanSql: SqlSource = {
    ...sql,
    run: (operation, build) =>
      sql.run(operation, (db) => {
        const q = build(db) as unknown as Knex.QueryBuilder;
        if (typeof (q as { where?: unknown }).where !== 'function') throw new Error(`${name} scan: expected a query builder from keysetScan`);
        return scoped(q).whereNotNull(profile.updatedAt.column);
      }),
  };

  const connector: SqlTableConnector = {
    name,
    maxBatch,
    options,
    dialect: sql.dialect,

    recordsByIds(ids, account) {
      return batchByKey<Slot<SqlProfileRecord> | null>(
        observer,
        { source, operation: 'recordsByIds', account },
        ids,
        maxBatch,
        (chunk) => select('recordsByIds', recordColumns, chunk, toRecord),
        () => null,
      );
    },

    /**
     * Filter pushdown: one `SELECT key … WHERE trim(column) IN (…)` (with the row filter) for a
     * field mapped as text. Null for other conversions: their canonical values are made in code,
     * so SQL cannot compare them; the planner then reads the records.
     */
    recordIdsWhere(field, values, account) {
      const m = profile.fields[field] as ColumnMapping | undefined;
      if (!m || (m.convert && m.convert.type !== 'text')) return Promise.resolve(null);
      const text = values.filter((v): v is string => typeof v === 'string');
      return observer.call({ source, operation: 'recordIdsWhere', batchSize: 0, account }, async () => {
        if (!text.length) return [];
        const rows = await sql.run<Array<Record<string, unknown>>>('recordIdsWhere', (db) =>
          scoped(whereMatchesText(db(profile.table).select(profile.key), db, m.column, text)),
        );
        return rows.map((r) => keyOf(r[profile.key]));
      });
    },

    /**
     * Keyset pagination on (updatedAt, key). A row whose updatedAt cannot be read still moves
     * the cursor but is left out of the page, as in the hand-written connectors.
     */
    scan(cursor, pageSize): Promise<ScanPage> {
      return keysetScan<Record<string, unknown>>(
        {
          source,
          sql: scanSql,
          observer,
          table: profile.table,
          columns: scanColumns,
          updatedColumn: profile.updatedAt.column,
          idColumn: profile.key,
          position: (r) => [positionOf(r[profile.updatedAt.column]), positionOf(r[profile.key])],
          isPosition: (u, id) => isPositionValue(u) && isPositionValue(id),
          toScanned: (r) => toScanned(r) as never,
        },
        cursor,
        pageSize,
      ) as Promise<ScanPage>;
    },

    /** Every key or none: a key answered null here is a row the table no longer has, never a chunk that failed (an unreadable row answers its error). */
    async scanRecords(ids) {
      const answers = await batchByKey<Slot<ScannedRecord> | null>(
        observer,
        { source, operation: 'scanRecords' },
        ids,
        maxBatch,
        (chunk) => select('scanRecords', scanColumns, chunk, (row) => toScanned(row) ?? unreadableRecord(name)),
        () => null,
      );
      return everyKey(answers);
    },

    describeTable() {
      return observer.call({ source, operation: 'describeTable', batchSize: 0 }, () => describe(sql, profile.table));
    },

    health() {
      return observer.call({ source, operation: 'health', batchSize: 0 }, () => sql.health());
    },

    close() {
      return sql.close();
    },
  };
  return connector;
}

// ---------- rows ----------

function applyFilter(q: Knex.QueryBuilder, filter: readonly RowFilter[]): Knex.QueryBuilder {
  for (const f of filter) {
    if ('equals' in f) q.where(f.column, f.equals);
    else if ('in' in f) q.whereIn(f.column, f.in);
    else if (f.isNull) q.whereNull(f.column);
    else q.whereNotNull(f.column);
  }
  return q;
}

function distinct(columns: string[]): string[] {
  return [...new Set(columns)];
}

/** A key value as the record id: integers and text alike as text. */
function keyOf(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

/** An identifier value exactly as the source holds it (the resolver normalizes), or null when blank. */
function rawText(v: unknown): string | null {
  if (v == null || typeof v === 'object') return null;
  const s = String(v);
  return s.trim() === '' ? null : s;
}

/**
 * A keyset position value in a form the database compares like the column: text and numbers as
 * they are; a DATETIME (a Date from mysql2, UTC fields = the stored wall clock) as its text.
 */
function positionOf(v: unknown): string | number {
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString().slice(0, 23).replace('T', ' ');
  return String(v);
}

function isPositionValue(v: unknown): v is string | number {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

// ---------- the catalogue ----------

interface SqliteColumnRow {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}
interface SqliteIndexRow {
  index_name: string;
  is_unique: number;
  origin: string;
  seqno: number;
  column_name: string | null;
}
interface MysqlColumnRow {
  name: string;
  data_type: string;
  column_type: string;
  is_nullable: string;
}
interface MysqlIndexRow {
  index_name: string;
  non_unique: number | string;
  seq: number;
  column_name: string | null;
}

/** Reads a table's columns and indexes; three bound statements on either engine. */
async function describe(sql: SqlSource, table: string): Promise<TableShape> {
  if (sql.dialect === 'sqlite') {
    const found = await sql.run<Array<{ type: string }>>('describeTable', (db) => db('sqlite_master').select('type').where('name', table).whereIn('type', ['table', 'view']));
    if (found.length === 0) return { table, exists: false, view: false, columns: [], indexes: [] };
    const cols = await sql.run<SqliteColumnRow[]>('describeTable', (db) => db.raw('select name, type, "notnull", pk from pragma_table_info(?) order by cid', [table]));
    // Table-valued pragmas take bound arguments, unlike `PRAGMA index_list(…)`.
    const idx = await sql.run<SqliteIndexRow[]>('describeTable', (db) =>
      db.raw(
        'select il.name as index_name, il."unique" as is_unique, il.origin as origin, ii.seqno as seqno, ii.name as column_name ' +
          'from pragma_index_list(?) as il, pragma_index_info(il.name) as ii order by il.name, ii.seqno',
        [table],
      ),
    );
    const indexes = groupIndexes(idx.map((r) => ({ name: r.index_name, unique: r.is_unique === 1, primary: r.origin === 'pk', column: r.column_name })));
    // An INTEGER PRIMARY KEY is the rowid and has no index entry: the declared key is its index.
    const pk = cols
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    if (pk.length > 0 && !indexes.some((i) => i.primary)) indexes.unshift({ name: 'PRIMARY', unique: true, primary: true, columns: pk });
    return {
      table,
      exists: true,
      view: found[0].type === 'view',
      columns: cols.map((c) => ({ name: c.name, type: c.type, class: sqliteColumnClass(c.type), nullable: c.notnull === 0 && c.pk === 0 })),
      indexes,
    };
  }
  const found = await sql.run<Array<{ table_type: string }>>('describeTable', (db) =>
    db('information_schema.TABLES').select('TABLE_TYPE as table_type').where('TABLE_SCHEMA', db.raw('database()')).andWhere('TABLE_NAME', table),
  );
  if (found.length === 0) return { table, exists: false, view: false, columns: [], indexes: [] };
  const cols = await sql.run<MysqlColumnRow[]>('describeTable', (db) =>
    db('information_schema.COLUMNS')
      .select('COLUMN_NAME as name', 'DATA_TYPE as data_type', 'COLUMN_TYPE as column_type', 'IS_NULLABLE as is_nullable')
      .where('TABLE_SCHEMA', db.raw('database()'))
      .andWhere('TABLE_NAME', table)
      .orderBy('ORDINAL_POSITION'),
  );
  const idx = await sql.run<MysqlIndexRow[]>('describeTable', (db) =>
    db('information_schema.STATISTICS')
      .select('INDEX_NAME as index_name', 'NON_UNIQUE as non_unique', 'SEQ_IN_INDEX as seq', 'COLUMN_NAME as column_name')
      .where('TABLE_SCHEMA', db.raw('database()'))
      .andWhere('TABLE_NAME', table)
      .orderBy([{ column: 'INDEX_NAME' }, { column: 'SEQ_IN_INDEX' }]),
  );
  return {
    table,
    exists: true,
    view: /view/i.test(found[0].table_type),
    columns: cols.map((c) => ({
      name: c.name,
      type: c.column_type,
      class: mysqlColumnClass(c.data_type, c.column_type),
      nullable: c.is_nullable === 'YES',
    })),
    indexes: groupIndexes(idx.map((r) => ({ name: r.index_name, unique: Number(r.non_unique) === 0, primary: r.index_name === 'PRIMARY', column: r.column_name }))),
  };
}

/** Catalogue rows (one per index column, in order) → indexes. Expression parts (no column) end an index's usable prefix. */
function groupIndexes(rows: Array<{ name: string; unique: boolean; primary: boolean; column: string | null }>): IndexShape[] {
  const byName = new Map<string, IndexShape & { open: boolean }>();
  for (const r of rows) {
    let i = byName.get(r.name);
    if (!i) byName.set(r.name, (i = { name: r.name, unique: r.unique, primary: r.primary, columns: [], open: true }));
    if (r.column === null) i.open = false;
    else if (i.open) i.columns.push(r.column);
  }
  return [...byName.values()].map(({ open: _open, ...i }) => i);
}
