/**
 * The OneID store's tables as the code sees them: names, row types (named after their table),
 * the two engine differences every query meets (how times are stored, how many keys one
 * `IN (…)` list may carry), and the small query helpers the store modules share.
 *
 * Times: MySQL/MariaDB columns are DATETIME(3) in UTC; SQLite has no time type, so the same
 * columns hold ISO-8601 UTC text, which sorts as time does. Everything above this module sees
 * ISO strings only (`toDbTime` on the way in, `fromDbTime` on the way out).
 */
import type { Knex } from 'knex';
import { isMysql, lockedTransaction, MAX_IN_LIST } from '../db';
import type { IdentifierKind, SourceName } from '../vocabulary';
import type { SourceRecordKey } from './types';

export const T = {
  customers: 'idmap_customers',
  sourceRecords: 'idmap_source_records',
  identifiers: 'idmap_record_identifiers',
  linkEvents: 'idmap_link_events',
  scanCursors: 'idmap_scan_cursors',
  candidates: 'idmap_review_candidates',
  decisions: 'idmap_manual_decisions',
  locks: 'idmap_locks',
  feedKeys: 'idmap_feed_keys',
  restages: 'idmap_restages',
} as const;

/**
 * A write that changes nothing, for SQLite's `lockedTransaction` (src/db.ts) to take the file's
 * write lock with: the lease table, which every store has and no row of which it matches.
 */
const TAKE_WRITE_LOCK = `DELETE FROM ${T.locks} WHERE 1 = 0`;

/**
 * A OneID change in one transaction (`config`: MySQL/MariaDB's isolation level). On SQLite it
 * holds the file's write lock from its first statement (`lockedTransaction`): a change that reads
 * before it writes otherwise failed whenever another connection committed in between, which in
 * the gateway the WAL checkpointer does each second and the access audit with every audited read.
 */
export function writeTransaction<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>, config?: Knex.TransactionConfig): Promise<T> {
  return isMysql(db) ? db.transaction(work, config) : lockedTransaction(db, TAKE_WRITE_LOCK, work);
}

export type CustomerStatus = 'active' | 'merged';

export interface DbCustomerRow {
  id: string;
  status: CustomerStatus;
  merged_into: string | null;
  created_at: unknown;
  updated_at: unknown;
}

export interface DbSourceRecordRow {
  source: string;
  record_id: string;
  /** Null while the record waits for its first resolution, and after it was deleted in the source. */
  customer_id: string | null;
  source_updated_at: unknown;
  linked_at: unknown;
  /** 1 when its identifiers changed since it was last resolved. */
  pending: number | boolean;
  name_key: string | null;
  birthday_key: string | null;
  deleted_at: unknown;
}

export interface DbRecordIdentifierRow {
  id: number;
  source: string;
  record_id: string;
  kind: string;
  value: string;
  match_key: string;
  valid_from: unknown;
  valid_to: unknown;
}

export interface DbLinkEventRow {
  id: number;
  at: unknown;
  actor: string;
  action: string;
  customer_id: string | null;
  other_customer_id: string | null;
  source: string | null;
  record_id: string | null;
  reason: string;
  evidence: string | null;
}

export interface DbScanCursorRow {
  source: string;
  cursor: string | null;
  updated_at: unknown;
}

export type CandidateReason = 'blocked' | 'over_shared' | 'conflict' | 'orphan' | 'probable';
/** `superseded`: settled without a steward, its two customers joined another way before anyone decided. */
export type CandidateStatus = 'open' | 'accepted' | 'rejected' | 'superseded';

export interface DbReviewCandidateRow {
  id: number;
  dedupe_key: string;
  reason: CandidateReason;
  status: CandidateStatus;
  rule: string;
  kind: string | null;
  value: string | null;
  customer_id: string | null;
  other_customer_id: string | null;
  evidence: string | null;
  /** A probable candidate's match weight (bits), as in its evidence; null for the other reasons. */
  match_weight: number | null;
  created_at: unknown;
  updated_at: unknown;
}

export type DecisionVerdict = 'same' | 'different';

export interface DbManualDecisionRow {
  id: number;
  at: unknown;
  actor: string;
  verdict: DecisionVerdict;
  customer_id: string;
  other_customer_id: string;
  candidate_id: number | null;
  reason: string;
}

/** An ISO instant as the engine stores it. */
export function toDbTime(db: Knex, iso: string): string | Date {
  return isMysql(db) ? new Date(iso) : iso;
}

/** A stored time back to ISO UTC, whichever engine answered. */
export function fromDbTime(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return v.includes('T') ? v : new Date(v.replace(' ', 'T') + 'Z').toISOString();
  throw new Error(`fromDbTime: not a stored time: ${String(v)}`);
}

export function fromDbTimeOrNull(v: unknown): string | null {
  return v == null ? null : fromDbTime(v);
}

/**
 * Deletes the rows of `table` whose time `column` is before `before` (ISO UTC), the oldest first
 * and about `max` per call (rows sharing the last time go together), so that one call stays two
 * statements on `column`'s index however far behind deleting is. Answers how many rows it deleted.
 */
export async function deleteOldest(db: Knex, table: string, column: string, before: string, max = 1000): Promise<number> {
  const cutoff = toDbTime(db, before);
  // The time of the max-th oldest expired row bounds this call's delete; with fewer expired rows
  // than that, all of them go. (MySQL/MariaDB allow no LIMIT in an IN subquery.)
  const boundary: Record<string, unknown> | undefined = await db(table)
    .where(column, '<', cutoff)
    .orderBy(column)
    .offset(max - 1)
    .first(column);
  const q = db(table).where(column, '<', cutoff);
  if (boundary) q.where(column, '<=', toDbTime(db, fromDbTime(boundary[column])));
  return q.delete();
}

/** Splits keys into IN-list sized chunks. */
export function chunks<K>(keys: readonly K[], size = MAX_IN_LIST): K[][] {
  const out: K[][] = [];
  for (let i = 0; i < keys.length; i += size) out.push(keys.slice(i, i + size));
  return out;
}

/**
 * Runs one statement per chunk, all at once (one round), and concatenates the rows. With `turn`
 * (a long resolution step, outside any write transaction: `turns.ts`) the chunks run one after
 * another, the event loop turning between them when due: on SQLite they run one after another
 * anyway, synchronously, and a hundred of them held the loop for seconds.
 */
export async function selectChunked<K, R>(keys: readonly K[], run: (chunk: K[]) => Promise<R[]>, size = MAX_IN_LIST, turn?: () => Promise<void> | undefined): Promise<R[]> {
  if (keys.length === 0) return [];
  if (turn) {
    const rows: R[] = [];
    for (const part of chunks(keys, size)) {
      const due = turn();
      if (due) await due;
      for (const row of await run(part)) rows.push(row);
    }
    return rows;
  }
  const parts = await Promise.all(chunks(keys, size).map(run));
  return parts.length === 1 ? parts[0] : parts.flat();
}

/**
 * Inserts many rows with multi-row `VALUES` lists (knex builds SQLite inserts as `UNION ALL`
 * selects, capped at 500 rows and slower), as few statements as the placeholder limits
 * allow: SQLite takes 32,766 bound values a statement, MySQL 65,535; stay well below both.
 * Every row must have the keys of the first.
 */
export async function insertMany(db: Knex, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const perStatement = Math.max(1, Math.floor(8000 / columns.length));
  const tuple = `(${columns.map(() => '?').join(',')})`;
  const head = `INSERT INTO ?? (${columns.map(() => '??').join(',')}) VALUES `;
  for (const part of chunks(rows, perStatement)) {
    const bindings: unknown[] = [table, ...columns];
    for (const row of part) for (const c of columns) bindings.push(row[c] ?? null);
    await db.raw(head + part.map(() => tuple).join(','), bindings as Knex.RawBinding[]);
  }
}

/**
 * `insertMany` for rows given as arrays of values in `columns`' order, which a hot writer builds
 * without an object per row. On SQLite the rows go through prepared better-sqlite3 statements on
 * the connection `db` runs on (a transaction's own inside one), ROWS_PER_INSERT rows a statement
 * and the rest one at a time, each statement prepared once per connection: staging wrote some
 * five rows a record through knex, which formatted every 8,000-binding statement anew (the
 * largest JS cost of its writes). Elsewhere the statements are `insertMany`'s. Values are
 * strings, numbers or null (undefined is written as null).
 */
export async function insertRows(db: Knex, table: string, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>): Promise<void> {
  if (rows.length === 0) return;
  const width = columns.length;
  if (isMysql(db) || db.client.config.client !== 'better-sqlite3') {
    return insertMany(
      db,
      table,
      rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null]))),
    );
  }
  await onSqliteConnection<SqliteConnection, void>(db, (raw) => {
    const many = insertStatement(raw, table, columns, ROWS_PER_INSERT);
    const bindings: unknown[] = new Array(width * ROWS_PER_INSERT);
    let i = 0;
    for (; i + ROWS_PER_INSERT <= rows.length; i += ROWS_PER_INSERT) {
      let b = 0;
      for (let r = i; r < i + ROWS_PER_INSERT; r++) {
        const row = rows[r];
        for (let c = 0; c < width; c++) bindings[b++] = row[c] ?? null;
      }
      many.run(bindings);
    }
    if (i < rows.length) {
      const one = insertStatement(raw, table, columns, 1);
      const single: unknown[] = new Array(width);
      for (; i < rows.length; i++) {
        const row = rows[i];
        for (let c = 0; c < width; c++) single[c] = row[c] ?? null;
        one.run(single);
      }
    }
  });
}

/**
 * Runs `fn` synchronously on the better-sqlite3 connection knex runs `db` on (a transaction's own
 * inside one), held from knex's pool for as long as it runs: statements prepared on it commit and
 * roll back with the knex transaction around them.
 */
export async function onSqliteConnection<C, T>(db: Knex, fn: (raw: C) => T): Promise<T> {
  const client = db.client as unknown as { acquireConnection(): Promise<C>; releaseConnection(c: C): Promise<unknown> };
  const raw = await client.acquireConnection();
  try {
    return fn(raw);
  } finally {
    await client.releaseConnection(raw);
  }
}

/** Rows a prepared multi-row insert takes (measured: 16–64 bind about alike, a few hundred no faster). */
const ROWS_PER_INSERT = 32;

interface SqliteStatement {
  run(bindings: readonly unknown[]): unknown;
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}

/** Insert statements prepared once per connection, by table, columns and rows. */
const insertStatements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();

function insertStatement(raw: SqliteConnection, table: string, columns: readonly string[], rows: number): SqliteStatement {
  let byShape = insertStatements.get(raw);
  if (!byShape) insertStatements.set(raw, (byShape = new Map()));
  const shape = `${table}\u0000${columns.join(',')}\u0000${rows}`;
  let statement = byShape.get(shape);
  if (!statement) {
    const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;
    const tuple = `(${columns.map(() => '?').join(',')})`;
    const sql = `INSERT INTO ${quote(table)} (${columns.map(quote).join(',')}) VALUES ${Array.from({ length: rows }, () => tuple).join(',')}`;
    byShape.set(shape, (statement = raw.prepare(sql)));
  }
  return statement;
}

// ---------- query helpers ----------

/** A strong identifier value as resolution compares it. */
export interface ValueKey {
  kind: IdentifierKind;
  matchKey: string;
}

/** `(kind = ? AND column IN (…)) OR …`, one term per kind. */
export function whereValues<Q extends Knex.QueryBuilder>(q: Q, column: string, keys: ReadonlyArray<{ kind: string; v: string }>): Q {
  const kindColumn = column.includes('.') ? `${column.split('.')[0]}.kind` : 'kind';
  const byKind = groupInto(
    keys,
    (k) => k.kind,
    (k) => k.v,
  );
  if (byKind.size === 0) return q.whereRaw('1 = 0') as Q;
  return q.where((w) => {
    for (const [kind, vs] of byKind) w.orWhere((x) => x.where(kindColumn, kind).whereIn(column, vs));
  }) as Q;
}

/** `(source = ? AND id IN (…)) OR …`, one term per source. */
export function whereRecords<Q extends Knex.QueryBuilder>(q: Q, sourceColumn: string, idColumn: string, keys: readonly SourceRecordKey[]): Q {
  const bySource = groupInto(
    keys,
    (k) => k.source,
    (k) => k.recordId,
  );
  if (bySource.size === 0) return q.whereRaw('1 = 0') as Q;
  return q.where((w) => {
    for (const [source, ids] of bySource) w.orWhere((x) => x.where(sourceColumn, source).whereIn(idColumn, ids));
  }) as Q;
}

export function toRecordKey(r: { source: string; record_id: string }): SourceRecordKey {
  return { source: r.source as SourceName, recordId: r.record_id };
}

export function recordKeyString(k: SourceRecordKey): string {
  return `${k.source}\u0000${k.recordId}`;
}

export function valueKeyString(k: ValueKey): string {
  return `${k.kind}\u0000${k.matchKey}`;
}

export function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

export function uniqueBy<T>(xs: readonly T[], key: (x: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const x of xs) if (!seen.has(key(x))) seen.set(key(x), x);
  return [...seen.values()];
}

export function groupInto<T, K, V>(xs: readonly T[], key: (x: T) => K, value: (x: T) => V): Map<K, V[]> {
  const out = new Map<K, V[]>();
  for (const x of xs) {
    const k = key(x);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(value(x));
  }
  return out;
}
