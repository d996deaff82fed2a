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
import type { IdMapStore } from './store';
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

/** The reader's batch reads, which are guarded; `health` is passed through as it is (readiness bounds and names its own failures). */
export const ONEID_READS = [
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

/** The stewardship changes (and the review queue they read): the store methods only stewardship calls. */
const STEWARDSHIP_WRITES = ['mergeCustomers', 'linkRecords', 'unmergeCustomer', 'splitRecords', 'resolveCandidate', 'reviewCandidates'] as const satisfies ReadonlyArray<
  keyof IdMapStore
>;

/**
 * Wraps `methods` of `target`: each answers within `opts.timeoutMs` (when set) or fails as
 * ONEID_UNAVAILABLE, its cause logged scrubbed and once per interval. Only the named methods are
 * on the result.
 */
function guardMethods<T extends object>(target: T, methods: ReadonlyArray<keyof T & string>, opts: GuardOptions, what: string): Partial<T> {
  const repeats = opts.repeats ?? createRepeatFilter();
  const fail = (method: string, e: unknown): never => {
    // A coded error (already ONEID_UNAVAILABLE, or any deliberate one) goes out as it is.
    if (e instanceof GraphQLError && e.extensions?.code) throw e;
    const err = safeError(e);
    const { log, suppressed } = repeats.admit(`${err.name}|${err.code ?? ''}|${err.message}`);
    if (log) opts.log?.error({ err, method, ...(suppressed ? { repeatedSinceLastLog: suppressed } : {}) }, what);
    throw oneidUnavailable(opts.retryAfterSeconds);
  };
  const guarded: Record<string, unknown> = {};
  for (const method of methods) {
    const call = target[method] as (...args: unknown[]) => Promise<unknown>;
    guarded[method] = async (...args: unknown[]) => {
      try {
        const p = call.apply(target, args);
        return await (opts.timeoutMs ? withDeadline(p, opts.timeoutMs) : p);
      } catch (e) {
        return fail(method, e);
      }
    };
  }
  return guarded as Partial<T>;
}

/**
 * Every method of a store whose methods are all async (the BI store: lists, counts, segments),
 * guarded the same way: a failing or hung OneID answers ONEID_UNAVAILABLE, never an unexpected error or a hang.
 */
export function guardStore<T extends Record<string, (...args: never[]) => Promise<unknown>>>(store: T, opts: GuardOptions, what: string): T {
  return guardMethods(store, Object.keys(store) as Array<keyof T & string>, opts, what) as T;
}

/** The reader's six reads, guarded, and its `health` as it is. */
export function guardReader(reader: IdMapReader, opts: GuardOptions = {}): IdMapReader {
  // Only the reader's methods: `reader` may be a whole store (over the read pool) whose writes must not leak out.
  return { health: () => reader.health(), ...guardMethods(reader, ONEID_READS, opts, 'OneID store unavailable') } as IdMapReader;
}

/**
 * The stewardship changes, guarded the same way. A change that misses its deadline may still be
 * applied once the store answers again (a frozen server holds the statement): the steward is told
 * the store is unavailable, and a retry of a change that was applied meanwhile answers CONFLICT
 * naming the state it found (records already one customer, a candidate already settled), so no
 * change is ever applied twice.
 */
export function guardStewardship(store: IdMapStore, opts: GuardOptions = {}): Pick<IdMapStore, (typeof STEWARDSHIP_WRITES)[number]> {
  return guardMethods(store, STEWARDSHIP_WRITES, opts, 'OneID store unavailable for a stewardship change') as Pick<IdMapStore, (typeof STEWARDSHIP_WRITES)[number]>;
}
