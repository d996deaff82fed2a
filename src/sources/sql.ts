/**
 * The SQL transport for source databases (the CRM and the order system), NOT for the OneID store.
 *
 * A connector hands `run` one statement at a time; the transport adds what every source call
 * needs and no connector should re-invent:
 * - a per-statement timeout (cancelled on the server where the dialect can: MySQL/MariaDB),
 *   reported as SOURCE_TIMEOUT; on SQLite, a file another process holds locked is tried again
 *   until then, without blocking the event loop;
 * - connection failures (refused, unknown database, missing SQLite file, pool exhausted)
 *   reported as SOURCE_UNAVAILABLE;
 * - a circuit breaker, so a dead source fails fast instead of making every request wait;
 * - other driver errors reported as SOURCE_BAD_RESPONSE.
 * Messages name the source, the operation and the driver's error code, never a value: knex
 * writes bound values into its own messages, so those never leave this module.
 *
 * SQLite sources are opened read-only: a mistyped path must fail (SOURCE_UNAVAILABLE), not
 * silently create an empty database the way a writable open would.
 */
import type { EventEmitter } from 'node:events';
import { KnexTimeoutError, type Knex } from 'knex';
import { openDatabase, directReads, isMysql, isSqliteBusy, retryWhileLocked, MAX_IN_LIST, type DirectReads, type SqlConnection } from '../db';
import { canonicalText, matchText } from '../canonical';
import { SourceError, SourceRefusal, SourceRowError, type SourceErrorCode } from '../errors';
import { chunked, type SourceCall, type SourceObserver } from './observe';
import type { ScanPage, ScannedRecord, SourceName } from '../vocabulary';

export const DEFAULT_SQL_TIMEOUT_MS = 5000;

export { CircuitBreaker, DEFAULT_BREAKER, type BreakerOptions, type BreakerState } from './breaker';
import { CircuitBreaker, type BreakerOptions } from './breaker';

// ---------- the transport ----------

export interface SqlSourceOptions {
  source: SourceName;
  connection: SqlConnection;
  /** Per-statement limit; defaults to DEFAULT_SQL_TIMEOUT_MS. */
  timeoutMs?: number;
  /**
   * How long a statement may wait for a pooled connection, opening one included; defaults to
   * `timeoutMs`. A wait that runs out is SOURCE_UNAVAILABLE, not SOURCE_TIMEOUT.
   */
  acquireTimeoutMs?: number;
  breaker?: Partial<BreakerOptions>;
}

/** What a statement builder hands back: a knex query builder or raw, both of which take `.timeout`. */
export interface Statement {
  timeout(ms: number, options?: { cancel?: boolean }): PromiseLike<unknown>;
}

export interface SqlSource {
  readonly source: SourceName;
  readonly dialect: 'sqlite' | 'mysql';
  readonly breaker: CircuitBreaker;
  /**
   * Runs one statement under the timeout and the breaker. Resolves to what knex answers
   * (rows, for a select builder); rejects only with a SourceError for failures of the source.
   * `operation` names the connector function, for messages.
   */
  run<T = unknown>(operation: string, build: (db: Knex) => Statement): Promise<T>;
  /**
   * `run` for a hot select whose SQL text depends only on `shape` (IN-list lengths, which optional
   * conditions are present) and whose per-call `values` are bound as parameters: on SQLite it is
   * built and compiled once per shape (src/db.ts `DirectReads.shaped`). `build` must use `values`
   * as given, in bindings only.
   */
  runShaped<T = unknown>(
    operation: string,
    shape: string,
    values: readonly unknown[],
    build: (db: Knex, values: readonly unknown[]) => Knex.QueryBuilder | Knex.Raw,
  ): Promise<T>;
  /** `select 1`, through the same timeout and breaker. */
  health(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a source database: MySQL/MariaDB through the shared opener, SQLite read-only and never created. */
/** A source system's database: never created, read-only for SQLite, pool waits bounded like statements. */
export function openSourceDatabase(conn: SqlConnection, timeoutMs = DEFAULT_SQL_TIMEOUT_MS): Knex {
  // Opening a connection keeps mysql2's own limit (10 s): a connect slower than a short deadline
  // still lands in the pool for the calls after, and a cancel never holds up an answer (withServerCancel).
  return openDatabase(conn, { readOnly: true, acquireTimeoutMs: timeoutMs, busyTimeoutMs: 0, dateText: true });
}

// The per-statement work lives in module-level functions, not in closures written inside `run`
// and `guarded`: V8 holds a function's optimized code only weakly while no closure of it is
// alive, so a closure created per call re-compiles after any major GC between requests, while a
// module-level function keeps its code. Per call they are bound (`fn.bind(null, ...)`) rather
// than wrapped in an arrow: a bound function has no code of its own, while a forwarding arrow
// gets optimized with the callee inlined (async ones too), and loses that code again.

/** `read()`, with any failure it rejects with classified as a SourceError (see toSourceError). */
async function readAsSourceError<T>(source: SourceName, operation: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    throw toSourceError(source, operation, e);
  }
}

/**
 * SQLite: `read()` tried again while another process holds the source's file locked (its writer
 * mid-commit, a BEGIN EXCLUSIVE), until `timeoutMs` has passed, then a statement timeout. The
 * source's connections answer SQLITE_BUSY at once (busy_timeout 0): SQLite's own wait runs inside
 * the call and held the whole event loop, every request and /healthz with it, for 5 s a statement.
 */
async function readPastLocks<T>(timeoutMs: number, read: () => Promise<T>): Promise<T> {
  try {
    return await retryWhileLocked(read, timeoutMs);
  } catch (e) {
    if (isSqliteBusy(e)) throw new KnexTimeoutError(`Defined query timeout of ${timeoutMs}ms exceeded: the file stayed locked`);
    throw e;
  }
}

/** One statement, read directly where src/db.ts can, otherwise through knex with the timeout. */
function readStatement<T>(direct: DirectReads, db: Knex, build: (db: Knex) => Statement, viaKnex: (statement: Statement) => PromiseLike<unknown>): Promise<T> {
  const statement = build(db);
  return direct.read<T>(statement, () => viaKnex(statement));
}

/** One shaped statement (see `SqlSource.runShaped`). */
function readShaped<T>(
  direct: DirectReads,
  db: Knex,
  key: string,
  values: readonly unknown[],
  build: (db: Knex, values: readonly unknown[]) => Knex.QueryBuilder | Knex.Raw,
  viaKnex: (statement: Statement) => PromiseLike<unknown>,
): Promise<T> {
  return direct.shaped<T>(key, values, (v) => build(db, v), viaKnex);
}

/**
 * A MySQL/MariaDB statement under its deadline. knex answers a statement past its timeout only once
 * the KILL QUERY it sends over a connection of its own is done; against a server that stopped
 * answering (frozen, a dead network) that is when the new connection gives up, and the answer was
 * SOURCE_UNAVAILABLE long after the deadline. So the deadline is kept here too: the statement
 * rejects as timed out `timeoutMs` after knex sent it, and the cancel finishes or gives up on its own.
 */
function withServerCancel(statement: Statement, timeoutMs: number): Promise<unknown> {
  const running = statement.timeout(timeoutMs, { cancel: true });
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    // 'query': the connection is acquired and the statement goes out (the wait has its own limit).
    (statement as Partial<EventEmitter>).once?.('query', () => {
      timer = setTimeout(reject, timeoutMs, new KnexTimeoutError(`Defined query timeout of ${timeoutMs}ms exceeded when running query.`));
    });
    running.then(
      (rows) => {
        clearTimeout(timer);
        resolve(rows);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export function createSqlSource(opts: SqlSourceOptions): SqlSource {
  const { source } = opts;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SQL_TIMEOUT_MS;
  const acquireTimeoutMs = opts.acquireTimeoutMs ?? timeoutMs;
  for (const [name, ms] of [
    ['timeoutMs', timeoutMs],
    ['acquireTimeoutMs', acquireTimeoutMs],
  ] as const)
    if (!Number.isInteger(ms) || ms <= 0) throw new Error(`${source}: ${name} must be a positive integer, got ${ms}`);
  const db = openSourceDatabase(opts.connection, acquireTimeoutMs);
  const mysql = isMysql(db);
  // SQLite selects skip knex's runner and pool (src/db.ts); MySQL/MariaDB keep knex and its server-side cancel.
  const direct = directReads(opts.connection, { readOnly: true, busyTimeoutMs: 0 });
  const breaker = new CircuitBreaker(opts.breaker);
  let closed = false;

  const isFailure = (e: unknown) => e instanceof SourceError && (e.code === 'SOURCE_UNAVAILABLE' || e.code === 'SOURCE_TIMEOUT');

  // MySQL/MariaDB: the server kills the statement (KILL QUERY) so it stops holding a
  // connection. better-sqlite3 runs a statement synchronously, so on SQLite the timer
  // cannot interrupt it; a local file is fast, broken or locked (readPastLocks), rarely slow.
  const viaKnex = mysql ? (statement: Statement) => withServerCancel(statement, timeoutMs) : (statement: Statement) => statement.timeout(timeoutMs);

  function guarded<T>(operation: string, read: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new SourceError(source, 'SOURCE_UNAVAILABLE', `${source} ${operation}: connection closed`));
    return breaker.run(
      readAsSourceError.bind(null, source, operation, read) as () => Promise<T>,
      isFailure,
      () =>
        new SourceRefusal(source, `${source} ${operation}: circuit open after repeated failures; not calling the source until it cools down`, {
          circuit: 'open',
        }),
    );
  }

  /** A read as `guarded` runs it: on SQLite, tried again past another process's lock (readPastLocks). */
  const lockAware = <T>(read: () => Promise<T>): (() => Promise<T>) => (mysql ? read : (readPastLocks.bind(null, timeoutMs, read) as () => Promise<T>));

  function run<T>(operation: string, build: (db: Knex) => Statement): Promise<T> {
    return guarded(operation, lockAware(readStatement.bind(null, direct, db, build, viaKnex) as () => Promise<T>));
  }

  function runShaped<T>(
    operation: string,
    shape: string,
    values: readonly unknown[],
    build: (db: Knex, values: readonly unknown[]) => Knex.QueryBuilder | Knex.Raw,
  ): Promise<T> {
    return guarded(operation, lockAware(readShaped.bind(null, direct, db, `${operation}\u0000${shape}`, values, build, viaKnex) as () => Promise<T>));
  }

  return {
    source,
    dialect: mysql ? 'mysql' : 'sqlite',
    breaker,
    run,
    runShaped,
    async health() {
      await run('health', (k) => k.raw('select 1'));
    },
    async close() {
      if (closed) return;
      closed = true;
      direct.close();
      await db.destroy();
    },
  };
}

// ---------- error mapping ----------

const UNAVAILABLE_CODES = new Set([
  // network
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  // MySQL/MariaDB server refusing us
  'ER_BAD_DB_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_HOST_NOT_PRIVILEGED',
  'ER_HOST_IS_BLOCKED',
  // SQLite file problems
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_PERM',
  'SQLITE_READONLY_DBMOVED',
]);

const TIMEOUT_CODES = new Set(['ER_STATEMENT_TIMEOUT', 'ER_QUERY_TIMEOUT', 'ER_QUERY_INTERRUPTED']);

/**
 * Classifies a driver/knex error as a SourceError. The message carries codes only: knex's own
 * message embeds bound values. Anything that is not a driver error is a bug on our side and
 * answers a plain Error (masked and logged as internal), also without knex's message.
 */
export function toSourceError(source: SourceName, operation: string, e: unknown): Error {
  if (e instanceof SourceError) return e;
  const err = e as { name?: string; code?: unknown; message?: unknown };
  const message = typeof err?.message === 'string' ? err.message : '';
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const make = (c: SourceErrorCode, what: string) => new SourceError(source, c, `${source} ${operation}: ${what}${code ? ` (${code})` : ''}`);

  if (err?.name === 'KnexTimeoutError') {
    // The pool's acquire timeout uses the same class as the statement timeout.
    if (/acquiring a connection/i.test(message)) return make('SOURCE_UNAVAILABLE', 'no connection available');
    return make('SOURCE_TIMEOUT', 'statement timed out');
  }
  if (code && TIMEOUT_CODES.has(code)) return make('SOURCE_TIMEOUT', 'statement timed out');
  // SQLite extended codes (SQLITE_IOERR_READ, SQLITE_BUSY_SNAPSHOT) share their primary code's meaning.
  const primary = code?.startsWith('SQLITE_') ? code.split('_').slice(0, 2).join('_') : code;
  if (code && (UNAVAILABLE_CODES.has(code) || (primary && UNAVAILABLE_CODES.has(primary)))) return make('SOURCE_UNAVAILABLE', 'source unavailable');
  // better-sqlite3 refuses a path in a missing directory with a bare TypeError; knex after destroy() likewise.
  if (/Cannot open database|Unable to acquire a connection/.test(message)) return make('SOURCE_UNAVAILABLE', 'source unavailable');
  if (code) return make('SOURCE_BAD_RESPONSE', 'statement failed');
  return new Error(`${source} ${operation}: unexpected error (${err?.name ?? typeof e})`);
}

// ---------- helpers shared by the SQL connectors ----------

export const DEFAULT_SCAN_PAGE = 500;
export const MAX_SCAN_PAGE = 10_000;

export interface KeysetScan<R> {
  source: SourceName;
  sql: SqlSource;
  observer: SourceObserver;
  table: string;
  columns: readonly string[];
  /** The keyset: the row's last-update column and its id, both indexed together. */
  updatedColumn: string;
  idColumn: string;
  /** The position a row leaves the cursor at, in the columns' own types. */
  position(row: R): [string | number, string | number];
  /** Whether a decoded cursor's values have this source's types (a foreign cursor is misuse). */
  isPosition(updated: unknown, id: unknown): boolean;
  /** A row as resolution sees it; null leaves it out (its time unreadable) while the cursor still moves past it. */
  toScanned(row: R): ScannedRecord | null;
}

/**
 * One page of a source table's identity feed, keyset-paginated on (updated_at, id): stable under
 * concurrent inserts and as cheap on page 1,000 as on page 1. A row updated later with the same
 * timestamp as the cursor and a smaller id is missed until its next update; sources with second
 * resolution should be re-scanned from a slightly older cursor.
 */
export async function keysetScan<R>(k: KeysetScan<R>, cursor: string | null, pageSize = DEFAULT_SCAN_PAGE): Promise<ScanPage> {
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_SCAN_PAGE)
    throw new Error(`${k.source} scan: pageSize must be an integer from 1 to ${MAX_SCAN_PAGE}, got ${pageSize}`);
  let after: [unknown, unknown] | null = null;
  if (cursor != null) {
    after = decodeKeysetCursor(k.source, cursor);
    if (!k.isPosition(after[0], after[1])) throw new Error(`${k.source} scan: not a cursor this connector handed out: ${JSON.stringify(cursor)}`);
  }
  return k.observer.call({ source: k.source, operation: 'scan', batchSize: pageSize }, async () => {
    const rows = await k.sql.run<R[]>('scan', (db) => {
      const q = db(k.table).select(k.columns as string[]);
      if (after) {
        // `updated >= ?` first, so both engines use the index for the range.
        const [u, id] = after as [Knex.Value, Knex.Value];
        q.where(k.updatedColumn, '>=', u).andWhere((w) => w.where(k.updatedColumn, '>', u).orWhere(k.idColumn, '>', id));
      }
      return q.orderBy([{ column: k.updatedColumn }, { column: k.idColumn }]).limit(pageSize);
    });
    const last = rows[rows.length - 1];
    const records = rows.map((r) => k.toScanned(r)).filter((r): r is ScannedRecord => r !== null);
    return {
      records,
      cursor: last ? encodeKeysetCursor(...k.position(last)) : cursor,
      done: rows.length < pageSize,
      malformed: rows.length - records.length,
    };
  });
}

/** A keyset position `(updated_at, id)` as an opaque cursor string. */
export function encodeKeysetCursor(updatedAt: string | number, id: string | number): string {
  return Buffer.from(JSON.stringify([updatedAt, id]), 'utf8').toString('base64url');
}

/** The inverse of `encodeKeysetCursor`; a cursor this source did not hand out is misuse and throws. */
export function decodeKeysetCursor(source: SourceName, cursor: string): [unknown, unknown] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw new Error(`${source} scan: not a cursor this connector handed out: ${JSON.stringify(cursor)}`);
  return [parsed[0], parsed[1]];
}

/** Rows grouped by key, each group in the order the statement returned it. */
export function groupRows<R>(rows: readonly R[], key: (r: R) => string): Map<string, R[]> {
  const groups = new Map<string, R[]>();
  for (const r of rows) {
    const k = key(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return groups;
}

/** Validates a connector's declared batch size against the SQL IN-list ceiling. */
export function checkMaxBatch(source: SourceName, maxBatch: number): number {
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_IN_LIST)
    throw new Error(`${source}: maxBatch must be an integer from 1 to ${MAX_IN_LIST}, got ${maxBatch}`);
  return maxBatch;
}

/**
 * The batch-function skeleton the SQL connectors share: distinct `keys` (those `accept` lets
 * through; the rest answer `missing()` without a statement) are chunked to `maxBatch`, each chunk
 * is one observed call whose `fetch` answers a map by key, and the answers come back in the order
 * of `keys`, duplicates included. A chunk whose statement failed answers its own keys that
 * failure (see `chunked`); the other chunks' keys keep their rows. `scanRecords` wants every key
 * or none: it passes the answers through `everyKey`.
 */
export async function batchByKey<V>(
  observer: SourceObserver,
  call: Omit<SourceCall, 'batchSize'>,
  keys: readonly string[],
  maxBatch: number,
  fetch: (chunk: string[]) => Promise<Map<string, V>>,
  missing: () => V,
  accept: (key: string) => boolean = acceptAll,
): Promise<Array<V | SourceError>> {
  const distinct = [...new Set(keys)].filter(accept);
  const found = new Map<string, V>();
  const { failed } = await chunked(observer, call, distinct, maxBatch, fetchInto.bind(null, fetch, found) as (chunk: string[]) => Promise<never[]>);
  const answers: Array<V | SourceError> = [];
  for (const k of keys) answers.push(failed.get(k) ?? (found.has(k) ? (found.get(k) as V) : missing()));
  return answers;
}

/**
 * `batchByKey`'s answers for a caller that needs every key or none: the first failed chunk's
 * error is thrown. A malformed record's error (a SourceRowError: its call answered) is a value
 * and stays in its key's place (`scanRecords`).
 */
export function everyKey<V>(answers: ReadonlyArray<V | SourceError>): V[] {
  for (const a of answers) if (a instanceof SourceError && !(a instanceof SourceRowError)) throw a;
  return answers as V[];
}

/** One chunk's answers into `found` (module-level and bound for its optimized code, see readAsSourceError). */
async function fetchInto<V>(fetch: (chunk: string[]) => Promise<Map<string, V>>, found: Map<string, V>, chunk: string[]): Promise<never[]> {
  const answers = await fetch(chunk);
  for (const k of chunk) if (answers.has(k)) found.set(k, answers.get(k) as V);
  return [];
}

function acceptAll(): boolean {
  return true;
}

/**
 * `groupRows` by `key`, each row converted by `convert(source, row)`: the grouped answer of a
 * batch read, without closures made per call.
 */
export function groupConverted<R, T>(rows: readonly R[], key: (r: R) => string, source: SourceName, convert: (source: SourceName, r: R) => T): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const item = convert(source, r);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Narrows `q` to the rows whose text `column` may equal one of `values` as `matchText` compares
 * them (NFKC, any case, whitespace runs as one space): `lower(trim(column)) IN (…)`, and every row
 * holding a character SQL's lower() and trim() may not fold as matchText does (outside printable
 * ASCII and the CJK ideographs, or two spaces in a row). A superset, the same on SQLite and
 * MariaDB whatever the column's collation: a BI filter's pushdown, verified by the planner.
 */
export function whereMatchesText<Q extends Knex.QueryBuilder>(q: Q, db: Knex, column: string, values: readonly string[]): Q {
  const folded = [...new Set(values.map(matchText))];
  const mysql = isMysql(db);
  return q.where((b) => {
    b.whereIn(db.raw('lower(trim(??))', [column]) as never, folded)
      .orWhereRaw(mysql ? '?? REGEXP ?' : '?? GLOB ?', [column, mysql ? '[^ -~\\x{4e00}-\\x{9fff}]' : '*[^ -~\u4e00-\u9fff]*'])
      .orWhere(column, 'like', '%  %');
  }) as Q;
}

/** A trimmed string in canonical form (`canonicalText`), or null for NULL and blanks (sources store '' for "not given"). */
export function textOrNull(v: unknown): string | null {
  return canonicalText(v);
}

/**
 * An integer from a driver value: better-sqlite3 answers numbers, mysql2 numbers or (for
 * DECIMAL results such as SUM over BIGINT) numeric strings. Null for anything else, so a
 * fractional or unsafe value is reported as malformed rather than rounded.
 */
export function integerOrNull(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
  if (typeof v === 'string' && /^-?\d+(\.0+)?$/.test(v.trim())) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

/**
 * The start-up check of a kind that reads tables of a fixed shape (crm, shop): each `table → columns`
 * it reads, against the database's catalogue (SQLite `pragma_table_info`, MySQL `information_schema`).
 * Answers one `connection: …` line per missing table or column (the key the database is configured
 * under, as SourceKind.check names problems), none when everything is there. A database that cannot
 * be reached rejects with its SourceError at the first table, which leaves the instance unchecked
 * rather than refused (registry.ts `checkSources`: a source may be down at start).
 */
export async function missingColumns(sql: SqlSource, expected: Readonly<Record<string, readonly string[]>>, kind: string): Promise<string[]> {
  const problems: string[] = [];
  for (const [table, columns] of Object.entries(expected)) {
    const found: Array<{ name: string }> =
      sql.dialect === 'sqlite'
        ? await sql.run('describeTables', (db) => db.raw('select name from pragma_table_info(?)', [table]))
        : await sql.run('describeTables', (db) =>
            db('information_schema.COLUMNS').select('COLUMN_NAME as name').where('TABLE_SCHEMA', db.raw('database()')).andWhere('TABLE_NAME', table),
          );
    const have = new Set(found.map((c) => c.name));
    if (have.size === 0) {
      problems.push(
        `connection: table ${table} does not exist in this database (or this connection may not see it); the ${kind} kind reads ${Object.keys(expected).join(', ')}`,
      );
      continue;
    }
    const missing = columns.filter((c) => !have.has(c));
    if (missing.length) problems.push(`connection: table ${table} has no column ${missing.join(', ')} (the ${kind} kind reads ${columns.join(', ')})`);
  }
  return problems;
}
