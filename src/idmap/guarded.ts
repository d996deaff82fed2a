/**
 * The OneID reader as the request path sees it: every read either answers within its deadline
 * or fails as ONEID_UNAVAILABLE (HTTP 503 with Retry-After), whatever went wrong underneath
 * (connection refused or lost, pool acquire or statement timeout, a failed statement, no answer
 * at all from a frozen server). The client sees a generic message; the cause, scrubbed of
 * statements and values, is logged once per interval however many requests it fails.
 */
import { GraphQLError } from 'graphql';
import { oneidUnavailable } from '../errors';
import type { Logger } from '../observability/logger';
import { safeError } from '../observability/scrub';
import { createRepeatFilter, type RepeatFilter } from '../observability/repeats';
import type { IdMapReader } from './types';

export interface GuardOptions {
  /**
   * Deadline per read (ms). Unset: no deadline, errors are mapped only (SQLite: a statement runs
   * in-process to its end, and a read waiting behind a resolution transaction should wait).
   */
  timeoutMs?: number;
  /** Where the cause of a failure is logged (once per interval per kind of failure). */
  log?: Logger;
  repeats?: RepeatFilter;
  /** The Retry-After given to clients (seconds). */
  retryAfterSeconds?: number;
}

/** The reads that are guarded; `health` is passed through as it is (readiness bounds and names its own failures). */
const READS = [
  'customersByIds',
  'customerIdsByIdentifiers',
  'customerIdsBySourceRecords',
  'sourceRecordsByCustomerIds',
  'identifiersByCustomerIds',
  'linkEventsByCustomerIds',
] as const satisfies ReadonlyArray<keyof IdMapReader>;

/** A read that did not answer within its deadline. */
export class OneidTimeoutError extends Error {
  readonly code = 'ONEID_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`OneID read did not answer within ${timeoutMs} ms`);
    this.name = 'OneidTimeoutError';
  }
}

/** Rejects with OneidTimeoutError after `ms` unless `p` settles first; `p`'s late failure is swallowed. */
export function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OneidTimeoutError(ms)), ms);
    timer.unref?.();
  });
  p.catch(() => undefined);
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** The reader's six reads, guarded, and its `health` as it is. */
export function guardReader(reader: IdMapReader, opts: GuardOptions = {}): IdMapReader {
  const repeats = opts.repeats ?? createRepeatFilter();
  const fail = (method: string, e: unknown): never => {
    // A coded error (already ONEID_UNAVAILABLE, or any deliberate one) goes out as it is.
    if (e instanceof GraphQLError && e.extensions?.code) throw e;
    const err = safeError(e);
    const { log, suppressed } = repeats.admit(`${err.name}|${err.code ?? ''}|${err.message}`);
    if (log) opts.log?.error({ err, method, ...(suppressed ? { repeatedSinceLastLog: suppressed } : {}) }, 'OneID store unavailable');
    throw oneidUnavailable(opts.retryAfterSeconds);
  };
  // Only the reader's methods: `reader` may be a whole store (over the read pool) whose writes must not leak out.
  const guarded = { health: () => reader.health() } as IdMapReader;
  for (const method of READS) {
    const read = reader[method] as (...args: unknown[]) => Promise<unknown>;
    (guarded as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      try {
        const p = read.apply(reader, args);
        return await (opts.timeoutMs ? withDeadline(p, opts.timeoutMs) : p);
      } catch (e) {
        return fail(method, e);
      }
    };
  }
  return guarded;
}
