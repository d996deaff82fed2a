/**
 * The RFM quintile boundaries are a property of the whole order base, not of one customer or
 * one viewer: one SQL statement over every account (orders.rfmBoundaries) answers them, and
 * they move slowly. So they are cached across requests for a TTL instead of computed per
 * request: the first request after expiry refreshes them (one call in flight at a time, the
 * others wait for it), and if a refresh fails while an older answer exists, the older answer
 * is served and the refresh retried on the next request. Nothing viewer-specific is cached.
 */
import type { OrdersConnector, RfmBoundaries } from '../sources/types';

export const DEFAULT_RFM_TTL_MS = 10 * 60 * 1000;

export interface BoundaryCache {
  get(): Promise<RfmBoundaries>;
  /** Drops the cached answer (tests, or after a bulk load of orders). */
  clear(): void;
}

export function createBoundaryCache(fetch: () => Promise<RfmBoundaries>, ttlMs = DEFAULT_RFM_TTL_MS, clock: () => number = Date.now): BoundaryCache {
  if (!Number.isFinite(ttlMs) || ttlMs < 0) throw new Error(`rfm boundary cache: ttlMs must be a non-negative number, got ${ttlMs}`);
  let cached: { value: RfmBoundaries; expiresAt: number } | null = null;
  let inFlight: Promise<RfmBoundaries> | null = null;

  const refresh = () =>
    (inFlight ??= fetch()
      .then((value) => {
        cached = { value, expiresAt: clock() + ttlMs };
        return value;
      })
      .finally(() => {
        inFlight = null;
      }));

  return {
    async get() {
      if (cached && clock() < cached.expiresAt) return cached.value;
      const stale = cached;
      try {
        return await refresh();
      } catch (e) {
        if (stale) return stale.value;
        throw e;
      }
    },
    clear() {
      cached = null;
    },
  };
}

const perConnector = new WeakMap<OrdersConnector, Map<number, BoundaryCache>>();

/** One cache per orders connector (i.e. per gateway) and TTL, for callers that were not handed one. */
export function boundaryCacheFor(orders: OrdersConnector, ttlMs = DEFAULT_RFM_TTL_MS): BoundaryCache {
  let byTtl = perConnector.get(orders);
  if (!byTtl) perConnector.set(orders, (byTtl = new Map()));
  let cache = byTtl.get(ttlMs);
  if (!cache) {
    const fetch = orders.rfmBoundaries?.bind(orders);
    if (!fetch) throw new Error('orders connector has no rfmBoundaries(): RFM needs it');
    byTtl.set(ttlMs, (cache = createBoundaryCache(fetch, ttlMs)));
  }
  return cache;
}
