/**
 * The personal-data access audit. Role schemas (role-schema.ts) report, while a response is
 * built, every personal field returned unmasked and the customer it belongs to; the Apollo
 * plugin here writes one row per customer once the response is ready, before it is sent.
 * Only names are stored (`CrmContact.phone`), never values.
 *
 * Fail closed: when the audit cannot be written, the response's data is withheld.
 *
 * Per-request state lives in a WeakMap keyed by the request's context object, so the
 * Context type stays as it is and nothing outlives the request.
 */
import type { Knex } from 'knex';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLResolveInfo } from 'graphql';
import { monotonicFactory } from 'ulid';
import type { Context, Viewer } from '../context';
import type { Logger } from '../observability/logger';
import { isMysql } from '../db';
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
}

const TABLE = 'c360_access_audit';
const INSERT_CHUNK = 200;
export const MAX_AUDIT_PAGE = 500;

interface DbAuditRow {
  id: string;
  at: string | Date;
  request_id: string;
  principal: string;
  principal_kind: string | null;
  role: string;
  operation_name: string | null;
  customer_id: string | null;
  fields: string;
}

/** The audit table over the OneID database (SQLite or MySQL/MariaDB). */
export function createAuditLog(db: Knex): AuditLog {
  const mysql = isMysql(db);
  const newId = monotonicFactory();
  // MySQL keeps DATETIME(3) (mysql2 converts Dates in UTC); SQLite keeps the ISO text, which sorts as time.
  const toDb = (iso: string) => (mysql ? new Date(iso) : iso);
  const fromDb = (v: string | Date) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());
  const clip = (s: string | null, n: number) => (s === null ? null : s.slice(0, n));

  return {
    migrate: () => migrateAccessLatest(db),

    async record(entries) {
      if (!entries.length) return;
      const rows = entries.map((e) => ({
        id: newId(Date.parse(e.at)),
        at: toDb(e.at),
        request_id: e.requestId.slice(0, 64),
        principal: e.principal.slice(0, 200),
        principal_kind: clip(e.principalKind, 16),
        role: e.role.slice(0, 64),
        operation_name: clip(e.operationName, 200),
        customer_id: clip(e.customerId, 64),
        fields: JSON.stringify([...e.fields].sort()),
      }));
      await db.transaction(async (trx) => {
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) await trx(TABLE).insert(rows.slice(i, i + INSERT_CHUNK));
      });
    },

    async query(q = {}) {
      const first = Math.min(Math.max(q.first ?? 50, 1), MAX_AUDIT_PAGE);
      let sql = db<DbAuditRow>(TABLE).select('*');
      if (q.customerId) sql = sql.where('customer_id', q.customerId);
      if (q.principal) sql = sql.where('principal', q.principal);
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

function keyOf(path: ResponsePath | undefined): string {
  const keys: Array<string | number> = [];
  for (let p = path; p; p = p.prev) keys.push(p.key);
  return keys.reverse().join('.');
}

/** What one request returned unmasked, per customer. */
export class AuditCollector {
  /** Response path of each Customer object → its id. */
  private readonly customerAt = new Map<string, string>();
  /** Customer id ('' when none) → personal fields returned unmasked. */
  readonly reads = new Map<string, Set<string>>();

  constructor(readonly auditLog?: AuditLog) {}

  /** A Customer object was returned at `path` (a field's path, or a list item's). */
  noteCustomer(path: ResponsePath, id: string): void {
    this.customerAt.set(keyOf(path), id);
  }

  /** The personal field at `path` (its own path) was returned unmasked and non-null. */
  notePersonal(path: ResponsePath, ref: string): void {
    let customer = '';
    for (let p = path.prev; p; p = p.prev) {
      const id = this.customerAt.get(keyOf(p));
      if (id !== undefined) {
        customer = id;
        break;
      }
    }
    let s = this.reads.get(customer);
    if (!s) this.reads.set(customer, (s = new Set()));
    s.add(ref);
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

const collectors = new WeakMap<object, AuditCollector>();

/** Starts collecting for one request's context. The audit plugin calls it; tests may too. */
export function beginAudit(ctx: object, auditLog?: AuditLog): AuditCollector {
  const c = new AuditCollector(auditLog);
  collectors.set(ctx, c);
  return c;
}

/** The collector of a request, if its audit was begun. */
export function auditCollectorOf(ctx: unknown): AuditCollector | undefined {
  return ctx && typeof ctx === 'object' ? collectors.get(ctx) : undefined;
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
export function auditPlugin(auditLog: AuditLog, opts: { log?: Logger; now?: () => Date } = {}): ApolloServerPlugin<Context> {
  const now = opts.now ?? (() => new Date());
  return {
    async requestDidStart({ contextValue }) {
      const collector = beginAudit(contextValue, auditLog);
      return {
        async willSendResponse(rc) {
          if (collector.isEmpty) return;
          const ctx = rc.contextValue;
          try {
            await auditLog.record(collector.entries({ viewer: ctx.viewer, requestId: ctx.requestId, operationName: rc.operationName ?? null, at: now().toISOString() }));
          } catch (e) {
            (ctx.log ?? opts.log)?.error({ err: { name: (e as Error).name, message: (e as Error).message } }, 'access audit write failed; personal data withheld');
            rc.response.body = {
              kind: 'single',
              singleResult: {
                data: null,
                errors: [{ message: 'The access audit could not be written; the data was withheld', extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } }],
              },
            };
            rc.response.http.status = 503;
          }
        },
      };
    },
  };
}
