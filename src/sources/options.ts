/**
 * Option schemas source kinds share (zod): SQL connections, deadlines, circuit breakers and
 * the HTTP transport's knobs. A kind composes its instance options from these and its own.
 */
import { z } from 'zod';
import { MAX_MAX_RESPONSE_BYTES, MIN_MAX_RESPONSE_BYTES } from './http';
import { DEFAULT_POOL_MAX } from '../db';

/** What is wrong with a mysql:// URL as the driver reads it (WHATWG URL, percent-decoded user and password), or null. */
function mysqlUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL: mysql://user:password@host:port/database (port a number up to 65535)';
  }
  if (!parsed.hostname) return 'names no host: mysql://user:password@host:port/database';
  // Else the first statement fails (OneID: "No database selected" with its DDL; a SQL source: every table "does not exist").
  if (parsed.pathname === '' || parsed.pathname === '/') return 'names no database: mysql://user:password@host:port/database';
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    return 'has a user or password that is not percent-encoded (write % as %25, @ as %40, : as %3A, / as %2F)';
  }
  return null;
}

export const sqlConnection = z.discriminatedUnion('client', [
  z.object({ client: z.literal('sqlite'), filename: z.string().min(1) }).strict(),
  z
    .object({
      client: z.literal('mysql'),
      url: z
        .string()
        .regex(/^mysql:\/\//, 'must be a mysql:// URL')
        // Checked here: the driver refuses it only when the first connection opens, as a database that cannot be used (exit 1, not 2).
        .superRefine((url, ctx) => {
          if (!url.startsWith('mysql://')) return;
          const problem = mysqlUrlProblem(url);
          if (problem) ctx.addIssue({ code: 'custom', message: problem }); // never the URL: it may carry a password
        }),
      pool: z
        .object({ min: z.number().int().min(0), max: z.number().int().min(1) })
        .partial()
        // Checked here: the pool library refuses it only when the pool opens, a stack trace at start-up.
        .refine((p) => (p.min ?? 0) <= (p.max ?? DEFAULT_POOL_MAX), {
          message: `min must not be more than max (max is ${DEFAULT_POOL_MAX} when not given)`,
          path: ['min'],
        })
        .optional(),
    })
    .strict(),
]);
export type SqlConnectionOptions = z.infer<typeof sqlConnection>;

/** A relative SQLite file resolves against the config's directory; `:memory:` and MySQL URLs stay. */
export function resolveSqlFile<C extends SqlConnectionOptions>(c: C, resolve: (p: string) => string): C {
  return c.client === 'sqlite' && c.filename !== ':memory:' ? { ...c, filename: resolve(c.filename) } : c;
}

export const timeoutMs = z.number().int().min(10).max(120_000);

export const breaker = z
  .object({ failureThreshold: z.number().int().min(1), cooldownMs: z.number().int().min(100) })
  .strict()
  .optional();

/** What every SQL kind's options share. */
export const sqlSourceOptions = {
  connection: sqlConnection,
  timeoutMs: timeoutMs.default(2000),
  maxBatch: z.number().int().min(1).max(1000).default(500),
  breaker,
};

/** Largest response body an HTTP source may send, in bytes (the transport defaults it to 8 MiB). */
export const maxResponseBytes = z.number().int().min(MIN_MAX_RESPONSE_BYTES).max(MAX_MAX_RESPONSE_BYTES).optional();

/**
 * An HTTP API's origin, and a path prefix: http or https, refused at config time like any other
 * bad value. The transport sends requests to the origin and path only, so credentials, a query or
 * a fragment in it would be dropped without a word (a request then refused by the system): they
 * are refused here instead, and credentials belong in the kind's own options, from the environment.
 */
export const baseUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).superRefine((v, ctx) => {
  const u = new URL(v);
  if (u.username || u.password) ctx.addIssue({ code: 'custom', message: "must not carry credentials (user:password@): give them in the kind's own options" });
  if (u.search || u.hash)
    ctx.addIssue({ code: 'custom', message: 'must not carry a query or a fragment: an origin and an optional path, e.g. https://helpdesk.example.com/zendesk' });
});

/** What every HTTP kind's options share; `maxBatch` is capped by each API's own limit. */
export const httpSourceOptions = (apiMaxIds: number) => ({
  baseUrl,
  timeoutMs: timeoutMs.default(2000),
  maxBatch: z.number().int().min(1).max(apiMaxIds).default(apiMaxIds),
  breaker,
  /** Largest response body accepted, in bytes; the transport defaults it to 8 MiB. */
  maxResponseBytes,
});
