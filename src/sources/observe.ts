/**
 * The connector boundary: every single call a connector makes to its system goes through
 * `observer.call`, once per call (per chunk), never per key. Metrics and the batching
 * tests both hang off this one hook, so what the tests count is what production counts.
 */
import { isSourceError, type SourceError } from '../errors';
import type { SourceAccount, SourceName } from '../vocabulary';
import type { RetryReason } from './http';

export interface SourceCall {
  source: SourceName;
  /** The connector function, e.g. `contactsByIds`. */
  operation: string;
  /** Keys carried by this one call. */
  batchSize: number;
  /** The account of the request the call is made for; absent outside a request (resolution, health, tests calling a connector). */
  account?: SourceAccount;
}

/** What connectors call: the connector boundary, every observer of it composed into one (`composeObservers`). */
export interface SourceObserver {
  /** Runs one source call, reporting its outcome. Must return (or rethrow) what `run` does. */
  call<T>(call: SourceCall, run: () => Promise<T>): Promise<T>;
  /**
   * One attempt of a call failed in a way worth another and is made again (the HTTP transport's
   * retries, src/sources/http.ts): the call stays one call, its retries are counted apart.
   */
  retried?(source: SourceName, reason: RetryReason): void;
  /** The system reported its usage of a quota it counts our calls against (a daily allowance of API requests): `used` of `limit`. */
  quota?(source: SourceName, used: number, limit: number): void;
}

/**
 * One observer of the connector boundary (metrics, the request's account, tracing, a test's
 * recorder), composed with the others into one SourceObserver by `composeObservers`.
 *
 * An observer that only needs to know that a call began and how it ended implements the hooks:
 * the composed observer times each call once and awaits it once for all of them, where a
 * wrapper per observer cost every call an async frame, its promises and two clock reads each
 * (bench/HISTORY.md, session 38). An observer that must run the call inside something of its own
 * implements `around`, which wraps it: tracing, whose span must be active while the call runs so
 * that the call's HTTP requests carry it.
 */
export interface CallObserver {
  /** A call is about to be made (before `run`). */
  began?(call: SourceCall): void;
  /** The call answered, after `seconds`. */
  answered?(call: SourceCall, seconds: number): void;
  /** The call failed with `error` (what it rejects with, rethrown to the connector), after `seconds`. */
  failed?(call: SourceCall, seconds: number, error: unknown): void;
  /** See SourceObserver.retried. */
  retried?(source: SourceName, reason: RetryReason): void;
  /** See SourceObserver.quota. */
  quota?(source: SourceName, used: number, limit: number): void;
  /** Runs the call inside something of the observer's own. Must return (or rethrow) what `run` does. */
  around?<T>(call: SourceCall, run: () => Promise<T>): Promise<T>;
}

export const noopObserver: SourceObserver = { call: (_c, run) => run() };

/** Several observers as one (metrics, the request's account, tracing, a test recorder): hooks in the order given, `around`s nested the first outermost. */
export function composeObservers(...observers: CallObserver[]): SourceObserver {
  return new ComposedObserver(observers);
}

/** A class, so that a call's work is prototype methods made once, not closures made per call (which lose their optimized code at a major GC). */
class ComposedObserver implements SourceObserver {
  private readonly beginners: CallObserver[];
  private readonly enders: CallObserver[];
  private readonly wrappers: CallObserver[];
  private readonly retriers: CallObserver[];
  private readonly quotas: CallObserver[];

  constructor(observers: readonly CallObserver[]) {
    this.beginners = observers.filter((o) => o.began);
    this.enders = observers.filter((o) => o.answered || o.failed);
    this.wrappers = observers.filter((o) => o.around);
    this.retriers = observers.filter((o) => o.retried);
    this.quotas = observers.filter((o) => o.quota);
  }

  call<T>(c: SourceCall, run: () => Promise<T>): Promise<T> {
    for (const o of this.beginners) o.began!(c);
    return this.enders.length ? this.timed(c, run) : this.inside(c, run);
  }

  retried(source: SourceName, reason: RetryReason): void {
    for (const o of this.retriers) o.retried!(source, reason);
  }

  quota(source: SourceName, used: number, limit: number): void {
    for (const o of this.quotas) o.quota!(source, used, limit);
  }

  /** The call, timed once and awaited once for every observer that wants its end. */
  private async timed<T>(c: SourceCall, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let out: T;
    try {
      out = await this.inside(c, run);
    } catch (e) {
      const seconds = (performance.now() - started) / 1000;
      for (const o of this.enders) o.failed?.(c, seconds, e);
      throw e;
    }
    const seconds = (performance.now() - started) / 1000;
    for (const o of this.enders) o.answered?.(c, seconds);
    return out;
  }

  /** The call inside the wrapping observers' `around`s, the first outermost. */
  private inside<T>(c: SourceCall, run: () => Promise<T>): Promise<T> {
    const wrappers = this.wrappers;
    if (wrappers.length === 0) return run();
    if (wrappers.length === 1) return wrappers[0].around!(c, run);
    return wrappers.reduceRight<() => Promise<T>>((next, o) => () => o.around!(c, next), run)();
  }
}

/** Records every call as it begins, and every retry, for tests that assert how a query was batched. A boundary of its own too (a connector built alone). */
export class CallRecorder implements SourceObserver, CallObserver {
  readonly calls: Array<SourceCall & { keys?: readonly unknown[] }> = [];
  /** The source of each retried attempt, in order. */
  readonly retries: SourceName[] = [];
  /** Why each was made again, in the same order. */
  readonly retryReasons: RetryReason[] = [];
  began(c: SourceCall): void {
    this.calls.push({ source: c.source, operation: c.operation, batchSize: c.batchSize });
  }
  async call<T>(c: SourceCall, run: () => Promise<T>): Promise<T> {
    this.began(c);
    return run();
  }
  retried(source: SourceName, reason: RetryReason): void {
    this.retries.push(source);
    this.retryReasons.push(reason);
  }
  /** Calls for one source, optionally one operation. */
  of(source: SourceName, operation?: string) {
    return this.calls.filter((c) => c.source === source && (!operation || c.operation === operation));
  }
  reset(): void {
    this.calls.length = 0;
    this.retries.length = 0;
    this.retryReasons.length = 0;
  }
}

/**
 * Each key's list from a map of lists, in the keys' order: empty for a key without any, and the
 * error of its chunk for a key whose chunk failed (`Chunked.failed`).
 */
export function listsOf<T>(keys: readonly string[], by: ReadonlyMap<string, T[]>, failed: ReadonlyMap<string, SourceError>): Array<T[] | SourceError> {
  const answers: Array<T[] | SourceError> = [];
  for (const key of keys) answers.push(failed.get(key) ?? by.get(key) ?? []);
  return answers;
}

/** Rows placed under the key `keyOf` reads from each (never by position), each converted; a row without a key belongs to none. */
export function groupByKey<R, T>(rows: readonly R[], keyOf: (row: R) => string | null, convert: (row: R, key: string) => T): Map<string, T[]> {
  const by = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    if (!key) continue;
    let list = by.get(key);
    if (!list) by.set(key, (list = []));
    list.push(convert(row, key));
  }
  return by;
}

/** What `chunked` answers: what the chunks that answered said, and which keys rode in a chunk that failed. */
export interface Chunked<K, V> {
  /** The answers of every chunk that answered, in the order of the chunks. */
  answers: V[];
  /** Each key of a chunk whose call failed with a SourceError, with that error; empty when every chunk answered. */
  failed: ReadonlyMap<K, SourceError>;
}

/** No key failed: the `failed` of a batch that made no call. */
export const NONE_FAILED: ReadonlyMap<never, SourceError> = new Map<never, SourceError>();

/**
 * Splits `keys` into chunks of at most `maxBatch`, runs `fetch` once per chunk through the
 * observer, and answers what the chunks answered. Chunks run concurrently: the system's batch
 * limit bounds a call's size, not how many calls may be in flight.
 *
 * A chunk that fails with a SourceError (its call timed out, the system answered 5xx or a body
 * it could not read) fails only its own keys: they come back in `failed`, each with the chunk's
 * error, and the other chunks' answers stand, so a customer whose keys rode in a chunk that
 * answered keeps that source's fields. The caller answers each failed key its error (DataLoader
 * rejects that key's load with it). Anything else a chunk throws is a bug, not the source, and
 * rejects the whole batch once every chunk has settled, and so does a batch whose every chunk
 * failed: a source that is down fails the batch as one call would. Callers that need every key or none
 * (`scanRecords`: a key answered null there means the record is gone) check `noneFailed`.
 */
export function chunked<K, V>(
  observer: SourceObserver,
  call: Omit<SourceCall, 'batchSize'>,
  keys: readonly K[],
  maxBatch: number,
  fetch: (chunk: K[]) => Promise<V[]>,
): Promise<Chunked<K, V>> {
  // A bound `fetch` per chunk rather than `() => fetch(chunk)`: a closure made per call loses its
  // optimized code at a major GC (V8 holds it weakly); a bound function has no code of its own.
  return byChunk(keys, maxBatch, (observeChunk<K, V>).bind(undefined, observer, call, fetch));
}

/** One chunk as one observed call. */
function observeChunk<K, V>(observer: SourceObserver, call: Omit<SourceCall, 'batchSize'>, fetch: (chunk: K[]) => Promise<V[]>, chunk: K[]): Promise<V[]> {
  return observer.call({ ...call, batchSize: chunk.length }, fetch.bind(undefined, chunk));
}

/**
 * `chunked` for a connector whose chunk makes several observed calls itself (a listing paged
 * within the chunk): `run` is not wrapped in an observed call of its own. The same answer: a
 * chunk that failed with a SourceError fails only its own keys.
 */
export async function byChunk<K, V>(keys: readonly K[], maxBatch: number, run: (chunk: K[]) => Promise<V[]>): Promise<Chunked<K, V>> {
  if (keys.length === 0) return { answers: [], failed: NONE_FAILED };
  const chunks: K[][] = [];
  for (let i = 0; i < keys.length; i += maxBatch) chunks.push(keys.slice(i, i + maxBatch));
  const calls: Promise<V[]>[] = [];
  for (const chunk of chunks) calls.push(run(chunk));
  const settled = await Promise.allSettled(calls);
  const answers: V[] = [];
  let failed: Map<K, SourceError> | null = null;
  let first: SourceError | null = null;
  let answered = 0;
  for (let i = 0; i < settled.length; i++) {
    const s = settled[i];
    if (s.status === 'fulfilled') {
      answered++;
      for (const v of s.value) answers.push(v);
      continue;
    }
    if (!isSourceError(s.reason)) throw s.reason;
    first ??= s.reason;
    failed ??= new Map();
    for (const key of chunks[i]) failed.set(key, s.reason);
  }
  // Every chunk failed: the batch fails as one call does (DataLoader then forgets its keys, so a later load asks again).
  if (first && answered === 0) throw first;
  return { answers, failed: failed ?? NONE_FAILED };
}

/** For callers that need every key or none: throws the first failed chunk's error, if a chunk failed. */
export function noneFailed(failed: ReadonlyMap<unknown, SourceError>): void {
  for (const e of failed.values()) throw e;
}
