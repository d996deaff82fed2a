/**
 * The connector boundary: every single call a connector makes to its system goes through
 * `observer.call`, once per call (per chunk), never per key. Metrics and the batching
 * tests both hang off this one hook, so what the tests count is what production counts.
 */
import type { SourceAccount, SourceName } from '../vocabulary';

export interface SourceCall {
  source: SourceName;
  /** The connector function, e.g. `contactsByIds`. */
  operation: string;
  /** Keys carried by this one call. */
  batchSize: number;
  /** The account of the request the call is made for; absent outside a request (resolution, health, tests calling a connector). */
  account?: SourceAccount;
}

export interface SourceObserver {
  /** Runs one source call, reporting its outcome. Must return (or rethrow) what `run` does. */
  call<T>(call: SourceCall, run: () => Promise<T>): Promise<T>;
}

export const noopObserver: SourceObserver = { call: (_c, run) => run() };

/** Several observers as one (metrics + a test recorder). */
export function composeObservers(...observers: SourceObserver[]): SourceObserver {
  return {
    call: (c, run) => observers.reduceRight<() => Promise<any>>((next, o) => () => o.call(c, next), run)(),
  };
}

/** Records every call, for tests that assert how a query was batched. */
export class CallRecorder implements SourceObserver {
  readonly calls: Array<SourceCall & { keys?: readonly unknown[] }> = [];
  async call<T>(c: SourceCall, run: () => Promise<T>): Promise<T> {
    this.calls.push({ source: c.source, operation: c.operation, batchSize: c.batchSize });
    return run();
  }
  /** Calls for one source, optionally one operation. */
  of(source: SourceName, operation?: string) {
    return this.calls.filter((c) => c.source === source && (!operation || c.operation === operation));
  }
  reset(): void {
    this.calls.length = 0;
  }
}

/** Each key's list from a map of lists, in the keys' order: empty for a key without any. */
export function listsOf<T>(keys: readonly string[], by: ReadonlyMap<string, T[]>): T[][] {
  const answers: T[][] = [];
  for (const key of keys) answers.push(by.get(key) ?? []);
  return answers;
}

/**
 * Splits `keys` into chunks of at most `maxBatch`, runs `fetch` once per chunk through the
 * observer, and answers in the order of `keys`. Chunks run concurrently: the system's
 * batch limit bounds a call's size, not how many calls may be in flight.
 */
export async function chunked<K, V>(
  observer: SourceObserver,
  call: Omit<SourceCall, 'batchSize'>,
  keys: readonly K[],
  maxBatch: number,
  fetch: (chunk: K[]) => Promise<V[]>,
): Promise<V[]> {
  if (keys.length === 0) return [];
  const chunks: K[][] = [];
  for (let i = 0; i < keys.length; i += maxBatch) chunks.push(keys.slice(i, i + maxBatch));
  // A loop and a bound `fetch` rather than `chunks.map(arrow)` and `() => fetch(chunk)`: a closure
  // made per call loses its optimized code at a major GC (V8 holds it weakly); a bound function
  // has no code of its own.
  const calls: Promise<V[]>[] = [];
  for (const chunk of chunks) calls.push(observer.call({ ...call, batchSize: chunk.length }, fetch.bind(undefined, chunk)));
  const answers = await Promise.all(calls);
  return answers.flat();
}
