/**
 * Per-principal admission for /graphql, checked by src/server.ts right after authentication and
 * before any GraphQL work (body, parse, validation): a token bucket of `requestsPerMinute` (it
 * holds a minute's worth, refilled continuously) and a cap of `maxConcurrent` requests in flight,
 * both from the caller's role limits (config/access.json); an export (src/bi/export.ts) is also
 * one of at most `maxConcurrentExports` in flight, since each walks a whole list. A principal is an API key name or a
 * token subject, kept apart by how it authenticated. Refused: HTTP 429, `Retry-After` in
 * seconds, and a GraphQL-shaped error with code RATE_LIMITED.
 *
 * Memory stays bounded: a principal with nothing in flight whose bucket has refilled is exactly
 * like one never seen, so it is forgotten (swept once a minute); beyond `maxPrincipals` entries
 * the least recently seen idle ones go first.
 */
import type { Viewer } from '../context';
import type { Limits } from './config';

export type RateLimits = Pick<Limits, 'requestsPerMinute' | 'maxConcurrent'> & Partial<Pick<Limits, 'maxConcurrentExports'>>;

export type Admission =
  | { ok: true; release(): void }
  | { ok: false; limit: 'requestsPerMinute' | 'maxConcurrent' | 'maxConcurrentExports'; max: number; retryAfterSeconds: number; message: string };

export interface RateLimiterOptions {
  /** The limits of a role; undefined: not limited. */
  limitsFor(role: string): RateLimits | undefined;
  /** Most principals remembered (default 10,000). */
  maxPrincipals?: number;
  /** Milliseconds on a monotonic clock (tests may pass their own). */
  now?: () => number;
}

export interface RateLimiter {
  /** Admits one request (an export: `kind` 'export') of this viewer or says which limit refused it. Call `release` once the request is answered. */
  admit(viewer: Viewer, kind?: 'request' | 'export'): Admission;
  /** Principals remembered now. */
  size(): number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** When the bucket is full again at the current rate. */
  fullAt: number;
  active: number;
  /** Of `active`, exports. */
  exports: number;
}

const SWEEP_EVERY_MS = 60_000;

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const maxPrincipals = opts.maxPrincipals ?? 10_000;
  const now = opts.now ?? (() => performance.now());
  /** Insertion order is recency: each admission moves its principal to the end. */
  const buckets = new Map<string, Bucket>();
  let lastSweep = now();

  const idle = (b: Bucket, t: number) => b.active === 0 && t >= b.fullAt;
  const sweep = (t: number) => {
    lastSweep = t;
    for (const [k, b] of buckets) if (idle(b, t)) buckets.delete(k);
    // Still too many: forget the least recently seen with nothing in flight (forgiving their spent tokens).
    if (buckets.size > maxPrincipals) {
      const target = Math.floor(maxPrincipals * 0.9);
      for (const [k, b] of buckets) {
        if (buckets.size <= target) break;
        if (b.active === 0) buckets.delete(k);
      }
    }
  };

  return {
    size: () => buckets.size,
    admit(viewer, kind = 'request') {
      const limits = opts.limitsFor(viewer.role);
      if (!limits) return { ok: true, release: () => {} };
      const t = now();
      if (t - lastSweep >= SWEEP_EVERY_MS || buckets.size >= maxPrincipals) sweep(t);

      const key = `${viewer.principalKind ?? 'other'}:${viewer.principal}`;
      const rate = limits.requestsPerMinute / 60_000; // tokens per ms
      let b = buckets.get(key);
      if (b) {
        buckets.delete(key);
        b.tokens = Math.min(limits.requestsPerMinute, b.tokens + (t - b.updatedAt) * rate);
        b.updatedAt = t;
      } else b = { tokens: limits.requestsPerMinute, updatedAt: t, fullAt: t, active: 0, exports: 0 };
      buckets.set(key, b);

      if (b.active >= limits.maxConcurrent) {
        return {
          ok: false,
          limit: 'maxConcurrent',
          max: limits.maxConcurrent,
          retryAfterSeconds: 1,
          message: `Too many requests in flight: this principal may have ${limits.maxConcurrent} at once`,
        };
      }
      const maxExports = limits.maxConcurrentExports;
      if (kind === 'export' && maxExports !== undefined && b.exports >= maxExports) {
        return {
          ok: false,
          limit: 'maxConcurrentExports',
          max: maxExports,
          retryAfterSeconds: 1,
          message: `Too many exports in flight: this principal may run ${maxExports} at once`,
        };
      }
      if (b.tokens < 1) {
        const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
        return {
          ok: false,
          limit: 'requestsPerMinute',
          max: limits.requestsPerMinute,
          retryAfterSeconds,
          message: `Too many requests: this principal may send ${limits.requestsPerMinute} per minute; retry in ${retryAfterSeconds} s`,
        };
      }
      b.tokens -= 1;
      b.fullAt = t + (limits.requestsPerMinute - b.tokens) / rate;
      b.active++;
      const exporting = kind === 'export';
      if (exporting) b.exports++;
      const bucket = b;
      let released = false;
      return {
        ok: true,
        release() {
          if (released) return;
          released = true;
          bucket.active--;
          if (exporting) bucket.exports--;
        },
      };
    },
  };
}

/** The 429 for a refused admission: headers and a GraphQL-shaped body. */
export function rateLimitedResponse(refusal: Pick<Extract<Admission, { ok: false }>, 'message' | 'max' | 'retryAfterSeconds'> & { limit: string }): {
  status: 429;
  headers: Record<string, string>;
  body: unknown;
} {
  return {
    status: 429,
    headers: { 'retry-after': String(refusal.retryAfterSeconds) },
    body: {
      errors: [
        {
          message: refusal.message,
          extensions: { code: 'RATE_LIMITED', limit: refusal.limit, max: refusal.max, retryAfterSeconds: refusal.retryAfterSeconds },
        },
      ],
    },
  };
}
