/**
 * One way to open a SQL database, for the OneID store and the SQL source connectors alike.
 * SQLite (better-sqlite3, the embedded default) or MySQL/MariaDB (mysql2), chosen by config.
 * Secrets never live in config files: a MySQL URL comes from the environment (see config.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import Database from 'better-sqlite3';

/** The most connections a MySQL/MariaDB pool opens when its config names no `pool.max`. */
export const DEFAULT_POOL_MAX = 10;

export type SqlConnection = { client: 'sqlite'; filename: string } | { client: 'mysql'; url: string; pool?: { min?: number; max?: number } };

export function isMysql(db: Knex): boolean {
  return db.client.config.client === 'mysql2';
}

/**
 * `column = value`, byte for byte on every engine. A binary collation (`utf8mb4_bin`) already tells
 * `Alice` from `alice` on MySQL/MariaDB, but pads with spaces like every PAD SPACE collation, so
 * `alice ` was still `alice`; equal characters and an equal count of them are the same text. The
 * equality stays on the column as it is, so an index on it is still used.
 */
export function whereExactly<Q extends Knex.QueryBuilder>(db: Knex, q: Q, column: string, value: string): Q {
  q.where(column, value);
  if (isMysql(db)) q.whereRaw('CHAR_LENGTH(??) = ?', [column, [...value].length]);
  return q;
}

export interface OpenOptions {
  /**
   * Someone else's database (a source system): SQLite is opened read-only and never created, so a
   * mistyped path fails instead of quietly becoming an empty database; WAL is left to its owner.
   */
  readOnly?: boolean;
  /** How long a query may wait for a pooled connection (knex's default is 60 s, longer than any request). */
  acquireTimeoutMs?: number;
  /**
   * MySQL/MariaDB only: the server aborts any statement of this pool running longer (MariaDB's
   * `max_statement_time`, every statement; MySQL's `max_execution_time`, SELECTs only). For a
   * pool of short reads (the gateway's OneID reads), never one that runs migrations or batch writes.
   */
  statementTimeoutMs?: number;
  /** MySQL/MariaDB only: how long opening a connection (TCP and handshake) may take; mysql2's default is 10 s. */
  connectTimeoutMs?: number;
  /**
   * MySQL/MariaDB only: DATE columns answered as their text (`1990-03-04`), not a Date. mysql2 makes
   * a Date of any stored text, so MySQL's "no date" `0000-00-00` came as 1899-11-30 and `1990-00-15`
   * as 1989-12-15, birthdays no reader could tell from real ones; as text, the date rules refuse them.
   */
  dateText?: boolean;
  /**
   * SQLite only: how long a statement waits for a lock another connection holds (default
   * DEFAULT_BUSY_TIMEOUT_MS). SQLite waits inside the call, blocking the event loop: 0 for a
   * database whose locks are out of our hands (a source), whose caller waits without blocking.
   */
  busyTimeoutMs?: number;
}

/** SQLite's wait for another connection's lock, in the call (see OpenOptions.busyTimeoutMs). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** The longest pause between two tries of a statement that met a SQLite file locked (retryWhileLocked). */
const MAX_LOCKED_PAUSE_MS = 50;

/** A SQLite error saying another connection holds the lock (SQLITE_BUSY and its extended codes). */
export function isSqliteBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * `attempt` tried again while it fails because another connection holds the SQLite file locked,
 * on timers (backing off from 1 to 50 ms), until `forMs` has passed; then its last error. For
 * statements that do not wait inside SQLite (busy_timeout 0, see `withoutLockWait`): that wait
 * runs in the call, on the event loop, and held every request with it.
 */
export async function retryWhileLocked<T>(attempt: () => Promise<T>, forMs = DEFAULT_BUSY_TIMEOUT_MS): Promise<T> {
  const giveUpAt = Date.now() + forMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, MAX_LOCKED_PAUSE_MS)) {
    try {
      return await attempt();
    } catch (e) {
      if (!isSqliteBusy(e) || Date.now() >= giveUpAt) throw e;
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}

/**
 * SQLite: `write` in a transaction of `db` whose statements do not wait for a lock another
 * process holds (busy_timeout 0 while it runs): they fail with SQLITE_BUSY at once, for
 * `retryWhileLocked`. knex's one connection still queues it behind a transaction of this process.
 */
export function withoutLockWait<T>(db: Knex, write: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw('PRAGMA busy_timeout = 0');
    try {
      return await write(trx);
    } finally {
      await trx.raw(`PRAGMA busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`);
    }
  });
}

/**
 * SQLite: `write` in a transaction that holds the file's write lock from its first statement,
 * `takeLock`: a write that changes nothing (SQLite takes the lock when a write statement starts,
 * whatever it matches; knex begins every transaction deferred and has no `BEGIN IMMEDIATE`).
 *
 * A deferred transaction that reads before it writes holds a snapshot from its first read; if
 * another connection commits before its first write (the WAL checkpointer's header write, the
 * access audit's rows on the direct connection, another process), that write fails at once with
 * SQLITE_BUSY_SNAPSHOT, which no busy wait helps, and with SQLITE_BUSY, unwaited, while another
 * connection is writing. Holding the lock first, nobody commits in between; the lock itself is
 * waited for as `withoutLockWait` and `retryWhileLocked` do, on timers rather than inside the
 * call on the event loop, for up to `forMs`, each try a new transaction.
 */
export function lockedTransaction<T>(db: Knex, takeLock: string, write: (trx: Knex.Transaction) => Promise<T>, forMs = DEFAULT_BUSY_TIMEOUT_MS): Promise<T> {
  return retryWhileLocked(
    () =>
      withoutLockWait(db, async (trx) => {
        await trx.raw(takeLock);
        return write(trx);
      }),
    forMs,
  );
}

/**
 * knex prints every failed connection attempt, and every pooled connection a lost server
 * disposed of, to the console; callers already report those as coded errors (logged scrubbed and
 * once per interval), so the lines are dropped. Other warnings pass through.
 */
function quietAcquireErrors(message: unknown): void {
  if (typeof message === 'string' && (message.startsWith('Acquire connection error') || message.startsWith('Connection Error:'))) return;
  console.warn(message);
}

/** Prepared statements kept per SQLite connection, by SQL text (least recently used dropped). */
const STATEMENT_CACHE = 200;

/**
 * knex prepares every query anew; the same batched statements (a 1,000-key IN list, a 500-row
 * insert) recur thousands of times in a resolution run, and preparing them was ~6% of its CPU.
 * A statement is safe to reuse: knex runs each to completion (all/run) before the next, and
 * SQLite re-prepares one whose schema changed. No caller sets per-query safeIntegers, which
 * would stick to a cached statement.
 */
function cachePreparedStatements(raw: { prepare: (sql: string) => unknown }): void {
  const prepare = raw.prepare.bind(raw);
  const cache = new Map<string, unknown>();
  raw.prepare = (sql: string) => {
    let statement = cache.get(sql);
    if (statement !== undefined) {
      cache.delete(sql); // re-inserted below: Map order is recency
    } else {
      statement = prepare(sql);
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, statement);
    return statement;
  };
}

/** A select built with knex (builder or raw), as the request path's reads hand it to `DirectReads`. */
export type ReadQuery = Knex.QueryBuilder | Knex.Raw;

/**
 * Reads on the request path without knex's runner. knex costs 1.5–2.4× a prepared better-sqlite3
 * statement per read (bench/HISTORY.md: its runner, a pool acquire and release with a timer, about
 * ten promises, on top of the statement). On a SQLite file, `read` compiles the query once with
 * knex (same SQL, same bindings) and runs it on a connection of its own that only reads, with
 * statements prepared once per SQL text; in WAL mode it sees every committed write and never
 * waits behind the writer's transaction. Elsewhere (MySQL/MariaDB, in-memory SQLite, anything
 * but a select) `read` is `await query`, unchanged. Either way it answers what awaiting the
 * query answers.
 */
export interface DirectReads {
  /** `viaKnex`: how to run `query` where it is not read directly (default: await it). */
  read<T = any>(query: ReadQuery | object, viaKnex?: () => PromiseLike<unknown>): Promise<T>;
  /**
   * `read(build(values))` for a hot statement whose SQL text depends only on `shape` (everything
   * that changes the text, such as how many keys an IN list has, must be in it; `values` are
   * bound as parameters). Read directly, the query is built and compiled with knex once per shape,
   * with markers in place of `values`, and later calls bind their values where the markers were:
   * no builder and no compile per call (in the admin 360 they were 8% of the floor's CPU). A
   * statement whose markers do not all come back as plain bindings is never cached. Elsewhere it
   * is `read(build(values), () => viaKnex(query))`.
   */
  shaped<T = any>(
    shape: string,
    values: readonly unknown[],
    build: (values: readonly unknown[]) => ReadQuery,
    viaKnex?: (query: ReadQuery) => PromiseLike<unknown>,
  ): Promise<T>;
  /**
   * Runs write statements (`?` placeholders, identifiers already quoted) on the same connection,
   * several in one transaction, and answers true; false when it cannot, having written nothing:
   * reads not opened `writes`, not a SQLite file, or another connection holds the write lock. The
   * caller then writes through knex, which waits for that lock without blocking the event loop.
   */
  write(statements: ReadonlyArray<readonly [sql: string, bindings: readonly unknown[]]>): boolean;
  close(): void;
}

const awaitQuery = (q: unknown) => () => q as PromiseLike<unknown>;

/** Reads through knex itself: what `directReads` falls back to. */
const throughKnex: DirectReads = {
  read: async (q, viaKnex = awaitQuery(q)) => (await viaKnex()) as any,
  shaped: async (_shape, values, build, viaKnex = (q) => q) => (await viaKnex(build(values))) as any,
  write: () => false,
  close() {},
};

/** knex's compiled form of a query, as `toSQL()` answers it. */
interface Compiled {
  method: string;
  sql: string;
  bindings?: readonly unknown[];
  pluck?: string;
  options?: unknown;
}

/** A shape's statement: its SQL and, per binding, a value's index (a `Slot`) or a constant of the statement. */
interface Template {
  sql: string;
  method: string;
  pluck?: string;
  bindings: readonly unknown[];
}

class Slot {
  constructor(readonly index: number) {}
}

/** Shapes kept per connection (a shape is a statement and an IN-list length: a few hundred at most in practice). */
const SHAPE_CACHE = 500;
const MARKER = '\u0000c360 value ';

function compiledOf(query: unknown): Compiled | null {
  const q = query as { toSQL?: () => Compiled };
  return typeof q.toSQL === 'function' ? q.toSQL() : null;
}

/** Selects (and raw selects) without knex options are what a direct read runs itself. */
const isPlainRead = (c: Compiled | null): c is Compiled =>
  !!c && (c.method === 'select' || c.method === 'first' || c.method === 'pluck' || c.method === 'raw') && !(c.options && Object.keys(c.options).length);

/** The template of `build` for `count` values, or null when its values do not all come back as plain bindings. */
function templateOf(build: (values: readonly unknown[]) => ReadQuery, count: number): Template | null {
  const markers = Array.from({ length: count }, (_, i) => `${MARKER}${i}\u0000`);
  const compiled = compiledOf(build(markers));
  if (!isPlainRead(compiled) || compiled.sql.includes(MARKER)) return null;
  const seen = new Set<number>();
  const bindings: unknown[] = [];
  for (const b of compiled.bindings ?? []) {
    if (typeof b === 'string' && b.includes(MARKER)) {
      const i = markers.indexOf(b);
      if (i < 0) return null; // a value folded into another string: not a plain binding
      seen.add(i);
      bindings.push(new Slot(i));
    } else bindings.push(b);
  }
  if (seen.size !== count) return null; // a value that changes the SQL text instead of being bound
  return { sql: compiled.sql, method: compiled.method, pluck: compiled.pluck, bindings };
}

/** A value knex binds as one parameter whatever it is. */
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v instanceof Date;

/** knex's better-sqlite3 binding rules: Dates as epoch ms, booleans as 0/1. */
const sqliteBinding = (b: unknown) => (b instanceof Date ? b.valueOf() : typeof b === 'boolean' ? Number(b) : b);

/**
 * A template's bindings with one call's values in its slots. A module-level function, not an
 * arrow made per call: V8 holds a function's optimized code only weakly, so code made for a
 * closure is dropped by a major GC while none of its closures is alive (the gateway idling or
 * serving other queries) and compiled again afterwards; module-level functions keep theirs.
 */
function bindingsOf(template: Template, values: readonly unknown[]): unknown[] {
  const out = new Array<unknown>(template.bindings.length);
  for (let i = 0; i < out.length; i++) {
    const b = template.bindings[i];
    out[i] = sqliteBinding(b instanceof Slot ? values[b.index] : b);
  }
  return out;
}

/**
 * `conn` is the database the query builders come from. `readOnly`: someone else's database (a
 * source), opened read-only and never created; otherwise (the OneID store) read-write with
 * `query_only`, since a read-only connection cannot always open a WAL database.
 *
 * `writes`: the connection also runs small writes of the request path (the access audit's rows,
 * `write`): none of knex's runner, pool or promises. On the reads' own connection rather than a
 * third one: a commit by another connection makes SQLite drop a reader's page cache at its next
 * read (side by side the difference was within noise, 0.98x; one connection fewer either way). A
 * write never waits for the lock (busy_timeout 0 while it runs): waiting synchronously would
 * block the event loop, and with it the knex writer holding the lock.
 */
export function directReads(conn: SqlConnection, opts: { readOnly?: boolean; writes?: boolean; busyTimeoutMs?: number } = {}): DirectReads {
  const busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const filename = sqliteFileOf(conn);
  if (!filename) return throughKnex;
  let raw: Database.Database | null = null;
  let closed = false;
  const open = (): Database.Database => {
    if (raw) return raw;
    if (closed) throw new Error('Unable to acquire a connection: reads closed');
    const db = new Database(filename, { readonly: !!opts.readOnly, fileMustExist: true });
    try {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      if (opts.writes) {
        // As openDatabase's writer: WAL with NORMAL sync, a checkpoint every ~40 MB.
        db.pragma('synchronous = NORMAL');
        db.pragma('wal_autocheckpoint = 10000');
      } else if (!opts.readOnly) db.pragma('query_only = 1');
    } catch (e) {
      db.close();
      throw e;
    }
    cachePreparedStatements(db as unknown as { prepare: (sql: string) => unknown });
    return (raw = db);
  };
  /** Runs a compiled read on the direct connection; undefined when the statement turns out not to be a reader. */
  const run = (c: { sql: string; method: string; pluck?: string }, bindings: unknown[]): { rows: any } | undefined => {
    const statement = open().prepare(c.sql) as Database.Statement;
    if (!statement.reader) return undefined;
    const rows = statement.all(bindings) as any[];
    if (c.method === 'first') return { rows: rows[0] };
    if (c.method === 'pluck') return { rows: rows.map((r) => r[c.pluck as string]) };
    return { rows };
  };
  const read: DirectReads['read'] = async (query, viaKnex = awaitQuery(query)) => {
    const compiled = compiledOf(query);
    if (!isPlainRead(compiled)) return (await viaKnex()) as any;
    const out = run(compiled, (compiled.bindings ?? []).map(sqliteBinding));
    return out ? out.rows : ((await viaKnex()) as any);
  };
  const templates = new Map<string, Template | null>();
  return {
    read,
    async shaped(shape, values, build, viaKnex = (q) => q) {
      // knex writes some values into the text itself (null as `is null`, arrays, raws): those calls build their own statement.
      if (!values.every(isScalar)) {
        const query = build(values);
        return read(query, () => viaKnex(query));
      }
      let template = templates.get(shape);
      if (template === undefined) {
        if (templates.size >= SHAPE_CACHE) templates.clear();
        templates.set(shape, (template = templateOf(build, values.length)));
      }
      if (template) {
        const out = run(template, bindingsOf(template, values));
        if (out) return out.rows;
      }
      const query = build(values);
      return read(query, () => viaKnex(query));
    },
    write(statements) {
      if (!opts.writes || closed) return false;
      const db = open();
      // Prepared (and kept) like any statement: a pragma call would compile it on every write.
      (db.prepare('PRAGMA busy_timeout = 0') as Database.Statement).get();
      const runAll = () => {
        for (const [sql, bindings] of statements) (db.prepare(sql) as Database.Statement).run(bindings.map(sqliteBinding));
      };
      try {
        // A transaction that meets the lock held is rolled back whole.
        if (statements.length > 1) db.transaction(runAll)();
        else runAll();
        return true;
      } catch (e) {
        if ((e as { code?: unknown }).code === 'SQLITE_BUSY') return false;
        throw e;
      } finally {
        (db.prepare(`PRAGMA busy_timeout = ${busyTimeoutMs}`) as Database.Statement).get();
      }
    },
    close() {
      closed = true;
      raw?.close();
      raw = null;
    },
  };
}

/** The file of a SQLite connection that names a plain file (not `:memory:` nor a `file:` URI), else null. */
export function sqliteFileOf(conn: SqlConnection): string | null {
  return conn.client === 'sqlite' && conn.filename !== ':memory:' && conn.filename !== '' && !conn.filename.startsWith('file:') ? conn.filename : null;
}

/** Opens a knex instance. Writable SQLite files get WAL and a busy timeout so readers and one writer coexist. */
export function openDatabase(conn: SqlConnection, opts: OpenOptions = {}): Knex {
  const acquireConnectionTimeout = opts.acquireTimeoutMs ?? 10_000;
  if (conn.client === 'sqlite') {
    if (!opts.readOnly && conn.filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(conn.filename)), { recursive: true });
    return knex({
      client: 'better-sqlite3',
      connection: { filename: conn.filename, ...(opts.readOnly ? { options: { readonly: true } } : {}) },
      useNullAsDefault: true,
      acquireConnectionTimeout,
      log: { warn: quietAcquireErrors },
      pool: {
        min: opts.readOnly ? 0 : 1,
        max: 1,
        afterCreate: (raw: any, done: (err: Error | null, c: unknown) => void) => {
          try {
            if (!opts.readOnly) {
              raw.pragma('journal_mode = WAL');
              raw.pragma('synchronous = NORMAL');
              // Checkpoint (and fsync) every ~40 MB of WAL rather than SQLite's 4 MB: a resolution
              // batch dirties thousands of pages, so the default synced after nearly every commit.
              raw.pragma('wal_autocheckpoint = 10000');
            }
            // A writer may hold the lock briefly; wait rather than fail.
            raw.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`);
            cachePreparedStatements(raw);
            done(null, raw);
          } catch (e) {
            done(e as Error, raw);
          }
        },
      },
    });
  }
  return knex({
    acquireConnectionTimeout,
    log: { warn: quietAcquireErrors },
    client: 'mysql2',
    connection: {
      uri: conn.url,
      charset: 'utf8mb4',
      timezone: 'Z',
      // BIGINT/DECIMAL arrive as JS numbers when they fit; ids and money here stay well inside 2^53.
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: true,
      ...(opts.connectTimeoutMs ? { connectTimeout: opts.connectTimeoutMs } : {}),
      ...(opts.dateText ? { dateStrings: ['DATE'] } : {}),
    } as any,
    pool: {
      min: conn.pool?.min ?? 0,
      max: conn.pool?.max ?? DEFAULT_POOL_MAX,
      afterCreate: (raw: any, done: (err: Error | null, c: unknown) => void) => {
        sessionSettings(raw, opts.statementTimeoutMs).then(
          () => done(null, raw),
          (e) => done(e as Error, raw),
        );
      },
    },
  });
}

/**
 * Batched reads send IN lists of up to MAX_IN_LIST keys. Past 200 keys (eq_range_index_dive_limit)
 * MySQL and MariaDB estimate rows from index statistics instead of looking, and MariaDB rewrites
 * lists of 1,000+ (in_predicate_conversion_threshold) into a subquery join: on a OneID map where
 * half the records are not linked yet, either made a 1,000-key lookup by customer scan the whole
 * customer index (seconds per statement at a million records). Looking up each key is what a
 * batched read by key wants. The MariaDB-only setting is skipped where the server lacks it.
 * A pool given a statement timeout sets it per session here too (see OpenOptions).
 */
async function sessionSettings(raw: { query(sql: string, cb: (err: (Error & { errno?: number }) | null) => void): void }, statementTimeoutMs?: number) {
  const run = (sql: string) => new Promise<void>((ok, fail) => raw.query(sql, (err) => (err ? fail(err) : ok())));
  /** Runs the MariaDB form; on MySQL (ER_UNKNOWN_SYSTEM_VARIABLE) the MySQL form, if any. */
  const mariaOr = async (maria: string, mysql?: string) => {
    try {
      await run(maria);
    } catch (e) {
      if ((e as { errno?: number }).errno !== 1193) throw e;
      if (mysql) await run(mysql);
    }
  };
  await run('SET SESSION eq_range_index_dive_limit = 0');
  await mariaOr('SET SESSION in_predicate_conversion_threshold = 0');
  if (statementTimeoutMs && statementTimeoutMs > 0) {
    const ms = Math.ceil(statementTimeoutMs);
    // MariaDB counts seconds (a double); MySQL milliseconds.
    await mariaOr(`SET SESSION max_statement_time = ${(ms / 1000).toFixed(3)}`, `SET SESSION max_execution_time = ${ms}`);
  }
}

/** Largest `IN (…)` list to send in one statement; well under MySQL's 65,535 placeholders and SQLite's 32,766. */
export const MAX_IN_LIST = 1000;
