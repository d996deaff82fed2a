/**
 * A request's batch loader: DataLoader's contract (the keys loaded in one tick go to one call of
 * the batch function, every answer cached per key for the request, an Error answered for a key
 * rejects that key only, a failed call rejects its keys without caching them), with a `loadMany`
 * that costs one promise per call instead of two per key.
 *
 * A list of a thousand customers loads its level's keys with `loadMany` (resolvers/level.ts):
 * through DataLoader each key made a promise, a callback record and a `.catch` promise, and
 * `Promise.all` waited on all of them (3 of the 32 MiB a thousand-customer request allocated,
 * plus their microtasks). The scheduling is DataLoader's, to the tick: a batch is dispatched after
 * the promise jobs queued when it opened, then `process.nextTick`; cached keys are answered when
 * the batch they were asked in is (with its fresh keys, in the same microtask), so resolvers
 * continuing from a level's loads still issue their next loads together.
 */

/** One key's answer: pending until its batch is in. */
interface Slot<V> {
  done: boolean;
  value: V | Error | undefined;
  /** Made on first `load` only. */
  promise: Promise<V> | null;
  resolve: ((v: V) => void) | null;
  reject: ((e: Error) => void) | null;
  /** The batch that answers it while pending. */
  batch: Batch<unknown, V> | null;
}

interface Batch<K, V> {
  dispatched: boolean;
  settled: boolean;
  keys: K[];
  slots: Slot<V>[];
  /** Run when the batch is in (cache hits, `loadMany` calls), in order. */
  then: Array<() => void>;
}

let resolved: Promise<void> | null = null;
/** DataLoader's schedule: after the promise jobs queued so far, then the next tick. */
function afterPromiseJobs(fn: () => void): void {
  (resolved ??= Promise.resolve()).then(() => process.nextTick(fn));
}

function settled<V>(slot: Slot<V>): Promise<V> {
  return slot.value instanceof Error ? Promise.reject(slot.value) : Promise.resolve(slot.value as V);
}

function promiseOf<V>(slot: Slot<V>): Promise<V> {
  if (slot.promise) return slot.promise;
  if (slot.done) return (slot.promise = settled(slot));
  return (slot.promise = new Promise<V>((resolve, reject) => {
    slot.resolve = resolve;
    slot.reject = reject;
  }));
}

export class RequestLoader<K, V, C = K> {
  private readonly cache = new Map<C, Slot<V>>();
  private batch: Batch<K, V> | null = null;

  constructor(
    private readonly batchFn: (keys: readonly K[]) => PromiseLike<ReadonlyArray<V | Error>>,
    private readonly cacheKeyFn: (key: K) => C = (k) => k as unknown as C,
  ) {}

  load(key: K): Promise<V> {
    if (key === null || key === undefined) throw new TypeError(`load() must be called with a key, got ${String(key)}`);
    const batch = this.current();
    const ck = this.cacheKeyFn(key);
    const cached = this.cache.get(ck);
    // Answered with the batch it is asked in, as DataLoader answers cache hits.
    if (cached) return new Promise<V>((resolve) => batch.then.push(() => resolve(promiseOf(cached))));
    return promiseOf(this.fresh(batch, key, ck));
  }

  /** Each key's value or Error, in key order: one promise, none per key. */
  loadMany(keys: readonly K[]): Promise<Array<V | Error>> {
    const batch = this.current();
    const slots: Slot<V>[] = new Array(keys.length);
    // Batches other than this one that hold keys asked here (a cached key still in flight).
    let others: Batch<unknown, V>[] | null = null;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === null || key === undefined) throw new TypeError(`loadMany() must be called with keys, got ${String(key)}`);
      const ck = this.cacheKeyFn(key);
      const cached = this.cache.get(ck);
      if (!cached) slots[i] = this.fresh(batch, key, ck);
      else {
        slots[i] = cached;
        const b = cached.batch;
        if (b && b !== (batch as Batch<unknown, V>) && !b.settled && !(others ??= []).includes(b)) others.push(b);
      }
    }
    return new Promise<Array<V | Error>>((resolve) => {
      let waiting = 1 + (others ? others.length : 0);
      const one = () => {
        if (--waiting > 0) return;
        const out: Array<V | Error> = new Array(slots.length);
        for (let i = 0; i < slots.length; i++) out[i] = slots[i].value as V | Error;
        resolve(out);
      };
      batch.then.push(one);
      if (others) for (const b of others) b.then.push(one);
    });
  }

  private fresh(batch: Batch<K, V>, key: K, ck: C): Slot<V> {
    const slot: Slot<V> = { done: false, value: undefined, promise: null, resolve: null, reject: null, batch: batch as Batch<unknown, V> };
    batch.keys.push(key);
    batch.slots.push(slot);
    this.cache.set(ck, slot);
    return slot;
  }

  private current(): Batch<K, V> {
    const open = this.batch;
    if (open && !open.dispatched) return open;
    const batch: Batch<K, V> = { dispatched: false, settled: false, keys: [], slots: [], then: [] };
    this.batch = batch;
    afterPromiseJobs(() => this.dispatch(batch));
    return batch;
  }

  private dispatch(batch: Batch<K, V>): void {
    batch.dispatched = true;
    if (batch.keys.length === 0) return this.settle(batch, null, null);
    let call: PromiseLike<ReadonlyArray<V | Error>>;
    try {
      call = this.batchFn(batch.keys);
    } catch (e) {
      return this.settle(batch, null, new TypeError(`the batch function failed synchronously: ${String(e)}`));
    }
    if (!call || typeof call.then !== 'function') return this.settle(batch, null, new TypeError('the batch function did not return a promise'));
    call.then(
      (values) => {
        if (!Array.isArray(values) || values.length !== batch.keys.length)
          return this.settle(
            batch,
            null,
            new TypeError(`the batch function answered ${Array.isArray(values) ? values.length : 'no list of'} values for ${batch.keys.length} keys`),
          );
        this.settle(batch, values, null);
      },
      (e: unknown) => this.settle(batch, null, e instanceof Error ? e : new Error(String(e))),
    );
  }

  /** Puts the answers (or the call's failure, not cached) in the batch's slots, then runs what waits for the batch. */
  private settle(batch: Batch<K, V>, values: ReadonlyArray<V | Error> | null, failure: Error | null): void {
    batch.settled = true;
    const slots = batch.slots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      slot.done = true;
      slot.batch = null;
      slot.value = failure ?? (values as ReadonlyArray<V | Error>)[i];
      if (failure) {
        const ck = this.cacheKeyFn(batch.keys[i]);
        if (this.cache.get(ck) === slot) this.cache.delete(ck);
      }
    }
    // As DataLoader: cache hits first, then the fresh keys, in the same microtask.
    for (let i = 0; i < batch.then.length; i++) batch.then[i]();
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      if (!slot.resolve) continue;
      if (slot.value instanceof Error) slot.reject!(slot.value);
      else slot.resolve(slot.value as V);
      slot.resolve = slot.reject = null;
    }
    batch.then.length = 0;
  }
}
