/**
 * The RFM quintile boundaries are a property of the whole order base, not of one customer or
 * one viewer: one SQL statement over every account (orders.rfmBoundaries) answers them, and
 * they move slowly. So they are cached across requests for a TTL instead of computed per
 * request: the first request after expiry refreshes them (one call in flight at a time, the
 * others wait for it), and if a refresh fails while an older answer exists, the older answer
 * is served and the refresh retried on the next request. Nothing viewer-specific is cached.
 */
import { ntileUpperBounds, type RfmBoundaries } from '../capabilities';
import type { SourceAccount } from '../vocabulary';

export const DEFAULT_RFM_TTL_MS = 10 * 60 * 1000;

export interface BoundaryCache {
  /** `account`: the asking request's, which a refresh it starts books its calls to. */
  get(account?: SourceAccount): Promise<RfmBoundaries>;
  /** Drops the cached answer (tests, or after a bulk load of orders). */
  clear(): void;
}

export function createBoundaryCache(fetch: (account?: SourceAccount) => Promise<RfmBoundaries>, ttlMs = DEFAULT_RFM_TTL_MS, clock: () => number = Date.now): BoundaryCache {
  if (!Number.isFinite(ttlMs) || ttlMs < 0) throw new Error(`rfm boundary cache: ttlMs must be a non-negative number, got ${ttlMs}`);
  let cached: { value: RfmBoundaries; expiresAt: number } | null = null;
  let inFlight: Promise<RfmBoundaries> | null = null;

  const refresh = (account?: SourceAccount) =>
    (inFlight ??= fetch(account)
      .then((value) => {
        cached = { value, expiresAt: clock() + ttlMs };
        return value;
      })
      .finally(() => {
        inFlight = null;
      }));

  return {
    async get(account) {
      if (cached && clock() < cached.expiresAt) return cached.value;
      const stale = cached;
      try {
        return await refresh(account);
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

/**
 * The boundaries of the whole order base from each commerce source's own. One source: its
 * boundaries exactly. Several: each boundary is the account-weighted mean of the sources'
 * (recency as instants, frequency and money as numbers): quintiles of a union cannot be had
 * from the parts' quintiles exactly, and this keeps one statement per source. Sources in
 * another currency than the largest base's are left out of the monetary boundaries (money in
 * two currencies is never mixed); docs/sources.md says so.
 *
 * A base of fewer than five accounts has no quintiles of its own: its "boundaries" are every
 * account's value (a tile each). Such bases are quintiled together, exactly, when no source has
 * a larger one; beside a larger base they are left out of the means (their accounts counted).
 */
export function combineBoundaries(parts: readonly RfmBoundaries[], computedAt = new Date().toISOString()): RfmBoundaries {
  const dims = (p: RfmBoundaries) => [p.recency, p.frequency, p.monetary];
  // Quintiled: four boundaries per dimension. Listed: fewer than five accounts, one value each.
  const quintiled = parts.filter((p) => p.accounts >= 5 && dims(p).every((d) => d.length === 4));
  const listed = parts.filter((p) => p.accounts > 0 && p.accounts < 5 && dims(p).every((d) => d.length === p.accounts));
  const based = quintiled.length ? quintiled : listed;
  if (based.length === 0) return { accounts: 0, recency: [], frequency: [], monetary: [], currency: null, computedAt };
  const accounts = [...quintiled, ...listed].reduce((n, p) => n + p.accounts, 0);
  if (based.length === 1 && based[0].accounts === accounts) return based[0];
  const currency = [...based].sort((a, b) => b.accounts - a.accounts)[0].currency;
  const sameCurrency = based.filter((p) => p.currency === currency);
  const instants = (ms: number[]) => ms.map((t) => new Date(Math.round(t)).toISOString());
  if (!quintiled.length) {
    const pooled = (pick: (p: RfmBoundaries) => number[], from: readonly RfmBoundaries[]) => ntileUpperBounds(from.flatMap(pick));
    return {
      accounts,
      recency: instants(pooled((p) => p.recency.map((t) => Date.parse(t)), based)),
      frequency: pooled((p) => p.frequency, based),
      monetary: pooled((p) => p.monetary, sameCurrency),
      currency,
      computedAt,
    };
  }
  const mean = (pick: (p: RfmBoundaries) => number[], from: readonly RfmBoundaries[]) => {
    const n = from.reduce((k, p) => k + p.accounts, 0);
    return [0, 1, 2, 3].map((i) => from.reduce((sum, p) => sum + pick(p)[i] * p.accounts, 0) / n);
  };
  return {
    accounts,
    recency: instants(mean((p) => p.recency.map((t) => Date.parse(t)), based)),
    frequency: mean((p) => p.frequency, based),
    monetary: mean((p) => p.monetary, sameCurrency).map(Math.round),
    currency,
    computedAt,
  };
}
