/**
 * The personal-data access audit. Role schemas (role-schema.ts) report, while a response is
 * built, every personal field returned unmasked and the customer it belongs to; the Apollo
 * plugin here writes one row per customer once the response is ready, before it is sent.
 * Only names are stored (`CrmContact.phone`), never values.
 *
 * Fail closed: when the audit cannot be written, the response's data is withheld. A write that
 * does not commit within its deadline (a frozen OneID database) withholds it too, answering
 * ONEID_UNAVAILABLE (the audit table lives in the OneID store) instead of hanging the request.
 *
 * Group commit: the rows of requests finishing while a write is in flight wait and go together
 * in the next one, one INSERT (one transaction only past INSERT_CHUNK rows). Each request is
 * still answered only once its own rows have committed.
 *
 * Per-request state hangs off the request's context object under a symbol of this module, so the
 * Context type stays as it is and nothing outlives the request (a WeakMap entry per request cost
 * more than the rest of the audit's per-request work: bench/HISTORY.md, the fixed per-request cost).
 */
import type { Knex } from 'knex';
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { GraphQLResolveInfo } from 'graphql';
import crypto from 'node:crypto';
import type { Context, Viewer } from '../context';
import type { Logger } from '../observability/logger';
import { isMysql, retryWhileLocked, whereExactly, withoutLockWait, type DirectReads } from '../db';
import { oneidUnavailable } from '../errors';
import { OneidTimeoutError, withDeadline } from '../idmap/guarded';
import { deleteOldest, insertMany } from '../idmap/tables';
import { safeError } from '../observability/scrub';
import { migrateAccessLatest } from './migrations';

export interface AuditEntry {
  id: string;
  /** ISO-8601 UTC. */
  at: string;
  requestId: string;
  principal: string;
  principalKind: string | null;
  role: string;
  operationName: string | null;
  /** Null when the fields were not read under a customer. */
  customerId: string | null;
  /** `Type.field` names returned unmasked, sorted. */
  fields: string[];
}

export interface AuditQuery {
  customerId?: string | null;
  principal?: string | null;
  /** ISO-8601; entries at or after. */
  since?: string | null;
  /** ISO-8601; entries before. */
  until?: string | null;
  /** Newest first, at most this many (default 50, at most 500). */
  first?: number | null;
}

export interface AuditLog {
  /** Creates or updates the audit table (its own migrations table, `c360_access_migrations`). */
  migrate(): Promise<string[]>;
  record(entries: ReadonlyArray<Omit<AuditEntry, 'id'>>): Promise<void>;
  query(q?: AuditQuery): Promise<AuditEntry[]>;
  /** Deletes entries made before `before` (ISO UTC), the oldest first, about `max` a call; answers how many (`audit-retention.ts`). */
  prune(before: string, max?: number): Promise<number>;
}

const TABLE = 'c360_access_audit';
/** How long a request waits for its audit rows to commit (the request path's OneID deadline, config `oneid.timeoutMs`'s default). */
export const DEFAULT_AUDIT_TIMEOUT_MS = 2000;
const INSERT_CHUNK = 200;
export const MAX_AUDIT_PAGE = 500;

type DbAuditRow = {
  id: string;
  at: string | Date;
  request_id: string;
  principal: string;
  principal_kind: string | null;
  role: string;
  operation_name: string | null;
  customer_id: string | null;
  fields: string;
};

/**
 * Batches writes: a call made while none is in flight is written after the current turn of the
 * event loop, with every call made until then; calls made while a write is in flight queue and
 * are written together, in one call to `write`, once it returns. Each call settles with the
 * write that carried its rows.
 */
export function groupCommit<R>(write: (rows: R[]) => Promise<void>): (rows: readonly R[]) => Promise<void> {
  const group = new GroupCommit(write);
  return (rows) => group.add(rows);
}

interface Batch<R> {
  rows: R[];
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
}

/**
 * groupCommit's state, with its work in methods rather than in closures made per call: V8 keeps
 * a closure's optimized code only weakly (src/db.ts `bindingsOf`), so a closure's would be
 * compiled again after every idle spell.
 */
class GroupCommit<R> {
  private queued: Batch<R> | null = null;
  private writing = false;

  constructor(private readonly write: (rows: R[]) => Promise<void>) {}

  add(rows: readonly R[]): Promise<void> {
    const batch = (this.queued ??= { rows: [], waiters: [] });
    for (const r of rows) batch.rows.push(r);
    const written = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.writing) {
      // The first rows wait one turn of the event loop (setImmediate runs after the poll phase), so
      // that the responses finished by the same I/O turn share its INSERT and commit.
      this.writing = true;
      setImmediate(() => void this.drain());
    }
    return written;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queued) {
      const batch = this.queued;
      this.queued = null;
      try {
        await this.write(batch.rows);
        for (const w of batch.waiters) w.resolve();
      } catch (e) {
        for (const w of batch.waiters) w.reject(e);
      }
    }
    this.writing = false;
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * ULIDs (48-bit millisecond time, 80 random bits, Crockford base32), monotonic like `ulid`'s
 * monotonicFactory: within one millisecond (or if the clock steps back) the random part is
 * incremented, so ids sort in the order they were made. One random draw per id instead of one per
 * character, which made `ulid` cost ~80 µs an id.
 */
export function monotonicUlid(): (time?: number) => string {
  let lastTime = -1;
  const digits = new Uint8Array(16);
  // Random bytes drawn 4 KiB at a time: one call into OpenSSL per 256 ids, not one per id.
  const pool = new Uint8Array(4096);
  let used = pool.length;
  return (time = Date.now()) => {
    if (time > lastTime) {
      lastTime = time;
      if (used === pool.length) {
        crypto.randomFillSync(pool);
        used = 0;
      }
      for (let i = 0; i < 16; i++) digits[i] = pool[used++] & 31;
    } else {
      let i = 15;
      while (i >= 0 && digits[i] === 31) digits[i--] = 0;
      if (i < 0) throw new Error('audit id: the random part overflowed within one millisecond');
      digits[i]++;
    }
    let t = lastTime;
    let id = '';
    for (let i = 0; i < 10; i++, t = Math.floor(t / 32)) id = CROCKFORD[t % 32] + id;
    for (let i = 0; i < 16; i++) id += CROCKFORD[digits[i]];
    return id;
  };
}

const COLUMNS = ['id', 'at', 'request_id', 'principal', 'principal_kind', 'role', 'operation_name', 'customer_id', 'fields'] as const satisfies ReadonlyArray<
  keyof DbAuditRow
>;

/**
 * The INSERT of `n` rows as a direct write runs it (identifiers quoted, `?` per value). `OR
 * ROLLBACK`: a failed row ends the whole transaction, as the direct write's transaction does
 * anyway (src/db.ts `write`: all the chunks or none). A plain INSERT (`OR ABORT`) could be undone
 * alone, so in a transaction of several chunks SQLite copied every page a chunk changed into a
 * statement journal first, a temporary file past 64 KiB: a list of a thousand customers, whose
 * rows change a page of the customer index each once their earlier rows fill pages of their own,
 * wrote some 1,100 pages there a request besides the WAL's (bench/HISTORY.md, session 41).
 */
const insertSql = (n: number) =>
  `INSERT OR ROLLBACK INTO "${TABLE}" (${COLUMNS.map((c) => `"${c}"`).join(',')}) VALUES ` +
  Array.from({ length: n }, () => `(${COLUMNS.map(() => '?').join(',')})`).join(',');

/**
 * The audit table over the OneID database (SQLite or MySQL/MariaDB). `direct`: the OneID file's
 * direct connection (src/db.ts `directReads` with `writes`), which carries the rows when the
 * database is not busy with another writer; knex carries them otherwise, and always on MySQL/MariaDB.
 */
export function createAuditLog(db: Knex, opts: { direct?: Pick<DirectReads, 'write'> } = {}): AuditLog {
  const mysql = isMysql(db);
  const newId = monotonicUlid();
  const statements = new Map<number, string>();
  /** A statement per INSERT_CHUNK rows, as the direct connection runs them. */
  const direct = (rows: readonly DbAuditRow[]) => {
    const out: Array<[string, unknown[]]> = [];
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      let sql = statements.get(chunk.length);
      if (!sql) statements.set(chunk.length, (sql = insertSql(chunk.length)));
      const bindings: unknown[] = [];
      for (const r of chunk) for (const c of COLUMNS) bindings.push(r[c]);
      out.push([sql, bindings]);
    }
    return out;
  };
  /** The rows in one transaction of `trx`, a multi-row VALUES list per chunk (insertMany), not knex's insert builder (SQLite: a UNION ALL select compiled per batch). */
  const insertAll = async (trx: Knex, rows: readonly DbAuditRow[]) => {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) await insertMany(trx, TABLE, rows.slice(i, i + INSERT_CHUNK));
  };
  const commit = groupCommit(async (rows: DbAuditRow[]) => {
    if (mysql) {
      // One statement is atomic on its own; only a batch of several statements needs a transaction.
      if (rows.length <= INSERT_CHUNK) return insertMany(db, TABLE, rows);
      return db.transaction((trx) => insertAll(trx, rows));
    }
    // A list of a thousand customers is a thousand rows: on the direct connection, several
    // statements in one transaction. With the lock held, through knex, which queues them behind
    // a transaction of this process; a lock another process holds (a `c360 resolve` sharing the
    // file) is waited for on timers, never inside SQLite on the event loop.
    await retryWhileLocked(() => (opts.direct?.write(direct(rows)) ? Promise.resolve() : withoutLockWait(db, (trx) => insertAll(trx, rows))));
  });
  // MySQL keeps DATETIME(3) (mysql2 converts Dates in UTC); SQLite keeps the ISO text, which sorts as time.
  const toDb = (iso: string) => (mysql ? new Date(iso) : iso);
  const fromDb = (v: string | Date) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());
  const clip = (s: string | null, n: number) => (s === null ? null : s.slice(0, n));

  return {
    migrate: () => migrateAccessLatest(db),

    async record(entries) {
      if (!entries.length) return;
      await commit(
        entries.map((e) => ({
          id: newId(Date.parse(e.at)),
          at: toDb(e.at),
          request_id: e.requestId.slice(0, 64),
          principal: e.principal, // whole: at most MAX_PRINCIPAL_LENGTH (src/principal.ts), as the column holds
          principal_kind: clip(e.principalKind, 16),
          role: e.role.slice(0, 64),
          operation_name: clip(e.operationName, 200),
          customer_id: clip(e.customerId, 64),
          fields: JSON.stringify([...e.fields].sort()),
        })),
      );
    },

    prune: (before, max) => deleteOldest(db, TABLE, 'at', before, max),

    async query(q = {}) {
      const first = Math.min(Math.max(q.first ?? 50, 1), MAX_AUDIT_PAGE);
      let sql = db<DbAuditRow>(TABLE).select('*');
      if (q.customerId) sql = whereExactly(db, sql, 'customer_id', q.customerId);
      if (q.principal) sql = whereExactly(db, sql, 'principal', q.principal);
      if (q.since) sql = sql.where('at', '>=', toDb(q.since));
      if (q.until) sql = sql.where('at', '<', toDb(q.until));
      const rows = await sql
        .orderBy([
          { column: 'at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(first);
      return rows.map((r) => ({
        id: r.id,
        at: fromDb(r.at),
        requestId: r.request_id,
        principal: r.principal,
        principalKind: r.principal_kind,
        role: r.role,
        operationName: r.operation_name,
        customerId: r.customer_id,
        fields: JSON.parse(r.fields) as string[],
      }));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Per-request collection
// ---------------------------------------------------------------------------------------------

type ResponsePath = GraphQLResolveInfo['path'];

/** What one request returned unmasked, per customer. */
export class AuditCollector {
  /**
   * Where each Customer object was returned → its id, by the identity of graphql-js's path objects
   * (a field's path is the `prev` of every field under it; a list item's path is made per item, so
   * items are kept by their list's path and index). No path is turned into a string. An object that
   * is not a customer but is about some (a review candidate, an explanation: role-schema.ts) is
   * noted with their ids, possibly none.
   */
  private readonly customerAtField = new Map<ResponsePath, string | readonly string[]>();
  private readonly customerAtItem = new Map<ResponsePath, Map<number, string | readonly string[]>>();
  /** Customer id ('' when none) → personal fields returned unmasked. */
  readonly reads = new Map<string, Set<string>>();

  constructor(readonly auditLog?: AuditLog) {}

  /** A Customer object (or one about these customers) was returned at `path` (a field's path, or a list item's: `{ prev: the list's path, key: index }`). */
  noteCustomer(path: ResponsePath, id: string | readonly string[]): void {
    if (typeof path.key === 'number' && path.prev) {
      let items = this.customerAtItem.get(path.prev);
      if (!items) this.customerAtItem.set(path.prev, (items = new Map()));
      items.set(path.key, id);
    } else this.customerAtField.set(path, id);
  }

  /** `ref` of the customer `id` was read, outside any field of it (a lookup by a value answers who holds it). */
  noteRead(id: string, ref: string): void {
    let s = this.reads.get(id);
    if (!s) this.reads.set(id, (s = new Set()));
    s.add(ref);
  }

  /** The personal field at `path` (its own path) was returned unmasked and non-null: a read of the nearest object above it that names customers. */
  notePersonal(path: ResponsePath, ref: string): void {
    let customers: string | readonly string[] = '';
    for (let p = path.prev; p; p = p.prev) {
      const id = typeof p.key === 'number' && p.prev ? this.customerAtItem.get(p.prev)?.get(p.key) : this.customerAtField.get(p);
      if (id !== undefined) {
        customers = id;
        break;
      }
    }
    for (const customer of typeof customers === 'string' ? [customers] : customers.length ? customers : ['']) {
      let s = this.reads.get(customer);
      if (!s) this.reads.set(customer, (s = new Set()));
      s.add(ref);
    }
  }

  get isEmpty(): boolean {
    return this.reads.size === 0;
  }

  entries(who: { viewer: Viewer; requestId: string; operationName: string | null; at: string }): Array<Omit<AuditEntry, 'id'>> {
    return [...this.reads].map(([customerId, fields]) => ({
      at: who.at,
      requestId: who.requestId,
      principal: who.viewer.principal,
      principalKind: who.viewer.principalKind ?? null,
      role: who.viewer.role,
      operationName: who.operationName,
      customerId: customerId || null,
      fields: [...fields].sort(),
    }));
  }
}

/** Where a request's collector hangs off its context object. */
const COLLECTOR = Symbol('c360 access audit');
type Audited = { [COLLECTOR]?: AuditCollector };

/** Starts collecting for one request's context. The audit plugin calls it; tests may too. */
export function beginAudit(ctx: object, auditLog?: AuditLog): AuditCollector {
  const c = new AuditCollector(auditLog);
  (ctx as Audited)[COLLECTOR] = c;
  return c;
}

/** The collector of a request, if its audit was begun. */
export function auditCollectorOf(ctx: unknown): AuditCollector | undefined {
  return ctx && typeof ctx === 'object' ? (ctx as Audited)[COLLECTOR] : undefined;
}

/** The audit log reachable from a request (for the admin `auditLog` query). */
export function auditLogOf(ctx: unknown): AuditLog | undefined {
  return auditCollectorOf(ctx)?.auditLog;
}

/**
 * Writes the audit for every response that returned personal fields unmasked. Install it on
 * every role's Apollo Server (the admin's too). When the write fails, the response carries no
 * data, only an error with code SOURCE_UNAVAILABLE and `source: "audit"`.
 */
/**
 * `timeoutMs`: the write's deadline; default DEFAULT_AUDIT_TIMEOUT_MS, null for none (SQLite: the
 * store runs in-process, so a deadline would measure only how busy this process is).
 */
export function auditPlugin(auditLog: AuditLog, opts: { log?: Logger; now?: () => Date; timeoutMs?: number | null } = {}): ApolloServerPlugin<Context> {
  const settings: AuditSettings = {
    auditLog,
    log: opts.log,
    now: opts.now ?? (() => new Date()),
    timeoutMs: opts.timeoutMs === undefined ? DEFAULT_AUDIT_TIMEOUT_MS : opts.timeoutMs,
  };
  return {
    async requestDidStart({ contextValue }) {
      return new AuditedResponse(beginAudit(contextValue, auditLog), settings);
    },
  };
}

interface AuditSettings {
  auditLog: AuditLog;
  log?: Logger;
  now: () => Date;
  timeoutMs: number | null;
}

/**
 * One request's audit hook. A class, so that its work is a prototype method made once: V8 keeps
 * a closure's optimized code only weakly (src/db.ts `bindingsOf`), and a hook written as a
 * closure per request was compiled again after every idle spell.
 */
class AuditedResponse {
  constructor(
    private readonly collector: AuditCollector,
    private readonly settings: AuditSettings,
  ) {}

  async willSendResponse(rc: GraphQLRequestContextWillSendResponse<Context>): Promise<void> {
    const { collector, settings } = this;
    if (collector.isEmpty) return;
    const ctx = rc.contextValue;
    try {
      const write = settings.auditLog.record(
        collector.entries({ viewer: ctx.viewer, requestId: ctx.requestId, operationName: rc.operationName ?? null, at: settings.now().toISOString() }),
      );
      await (settings.timeoutMs === null ? write : withDeadline(write, settings.timeoutMs));
    } catch (e) {
      // Past the deadline the write may still commit later: an extra row, never a missing one.
      const late = e instanceof OneidTimeoutError;
      (ctx.log ?? settings.log)?.error(
        { err: safeError(e) },
        late ? 'access audit write did not commit in time; personal data withheld' : 'access audit write failed; personal data withheld',
      );
      // Over its deadline the OneID store is taken as unavailable, as its reads are (src/idmap/guarded.ts): 503 with Retry-After.
      const unavailable = late ? oneidUnavailable() : null;
      rc.response.body = {
        kind: 'single',
        singleResult: {
          data: null,
          errors: [
            unavailable
              ? { message: unavailable.message, extensions: { code: 'ONEID_UNAVAILABLE', retryAfterSeconds: unavailable.extensions.retryAfterSeconds } }
              : { message: 'The access audit could not be written; the data was withheld', extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } },
          ],
        },
      };
      rc.response.http.status = 503;
      if (unavailable) rc.response.http.headers.set('retry-after', String(unavailable.extensions.retryAfterSeconds));
    }
  }
}
