/**
 * The RFM quintile boundaries are a property of the whole order base, not of one customer or
 * one viewer: one SQL statement over every account (orders.rfmBoundaries) answers them, and
 * they move slowly. So they are cached across requests for a TTL instead of computed per
 * request. The first request after expiry starts a refresh and is answered the older boundaries
 * at once, as every request is while the refresh runs (stale-while-revalidate: a slow source
 * delays no answer; `computedAt` says how old they are); once it answers, the next requests get
 * the new ones. A refresh that fails leaves the older answer, and the next request tries again.
 * Only without any answer yet (the first computation, or after an empty base) does a request
 * wait for the call (one in flight at a time, the others wait for it). An empty base (no counted
 * order yet) is asked again by the next request. Nothing viewer-specific is cached.
 */
import { ntileUpperBounds, type AsOf, type RfmBoundaries } from '../capabilities';
import type { SourceAccount } from '../vocabulary';

export const DEFAULT_RFM_TTL_MS = 10 * 60 * 1000;

/** One source's boundaries as of a request's time (an order placed after it counts in none), booked to its account. */
export type BoundaryFetch = (asOf: AsOf, account?: SourceAccount) => Promise<RfmBoundaries>;

export interface BoundaryCache {
  /** `asOf`, `account`: the asking request's time, which a refresh it starts counts orders up to, and its account, which the refresh books its calls to. */
  get(asOf: AsOf, account?: SourceAccount): Promise<RfmBoundaries>;
  /** Drops the cached answer (tests, or after a bulk load of orders). */
  clear(): void;
  /**
   * Whether a `get` now would wait for the source (no answer to serve: the first computation, or
   * after an empty base): then the asking request makes the calls. A kept answer, fresh or stale
   * (refreshed behind it), costs the request none. For the BI budget's estimate.
   */
  waits(): boolean;
}

/** `keepEmpty`: keep an empty base for the TTL too (a part of a whole that decides, see `createCombinedBoundaries`). */
export function createBoundaryCache(fetch: BoundaryFetch, ttlMs = DEFAULT_RFM_TTL_MS, clock: () => number = Date.now, keepEmpty = false): BoundaryCache {
  if (!Number.isFinite(ttlMs) || ttlMs < 0) throw new Error(`rfm boundary cache: ttlMs must be a non-negative number, got ${ttlMs}`);
  let cached: { value: RfmBoundaries; expiresAt: number } | null = null;
  let inFlight: Promise<RfmBoundaries> | null = null;

  const refresh = (asOf: AsOf, account?: SourceAccount) =>
    (inFlight ??= fetch(asOf, account)
      .then((value) => {
        // An empty base is not kept: the first orders of a new shop are scored at once, not a TTL later.
        cached = { value, expiresAt: value.accounts > 0 || keepEmpty ? clock() + ttlMs : clock() };
        return value;
      })
      .finally(() => {
        inFlight = null;
      }));

  return {
    async get(asOf, account) {
      if (cached && clock() < cached.expiresAt) return cached.value;
      const stale = cached;
      if (stale && stale.value.accounts > 0) {
        // Expired: refreshed behind this answer; its failure leaves the older one, for the next request to retry.
        refresh(asOf, account).catch(() => undefined);
        return stale.value;
      }
      // Nothing to serve meanwhile (no answer yet, or an empty base, whose next orders are scored at once): wait.
      try {
        return await refresh(asOf, account);
      } catch (e) {
        if (stale) return stale.value;
        throw e;
      }
    },
    clear() {
      cached = null;
    },
    waits() {
      return !(cached && (clock() < cached.expiresAt || cached.value.accounts > 0));
    },
  };
}

/**
 * The boundaries of the whole order base over several commerce sources, each source's own part
 * cached on its own (`createBoundaryCache` each): a source down at the first computation fails
 * every RFM with its coded error (quintiles of a base missing a source are not the base's), but
 * the sources that answered keep their part, so they are not asked again on every request while
 * it is down, and the whole is formed from the parts the moment it answers. A part is never
 * combined with a missing one, so a partial base is neither answered nor kept. The whole is
 * as old as its oldest part (`computedAt`).
 */
export function createCombinedBoundaries(
  fetches: readonly BoundaryFetch[],
  ttlMs = DEFAULT_RFM_TTL_MS,
  clock: () => number = Date.now,
): BoundaryCache & { waiting(): boolean[] } {
  // A source with no counted order yet is kept as any part is while the whole has orders (one call
  // per TTL, as when the whole was cached); a whole without any is asked again by the next request.
  const parts = fetches.map((f) => createBoundaryCache(f, ttlMs, clock, true));
  // The last whole, kept while its parts are the same answers (no recombination per request).
  let last: { from: readonly RfmBoundaries[]; value: RfmBoundaries } | null = null;
  return {
    async get(asOf, account) {
      // Every part is asked at once; the first failure fails the whole (the others keep their answers).
      const got = await Promise.all(parts.map((p) => p.get(asOf, account)));
      if (last && last.from.length === got.length && last.from.every((b, i) => b === got[i])) return last.value;
      const oldest = got.map((b) => b.computedAt).sort()[0] ?? new Date(clock()).toISOString();
      const value = combineBoundaries(got, oldest);
      if (value.accounts === 0) {
        last = null;
        for (const p of parts) p.clear();
        return value;
      }
      last = { from: got, value };
      return value;
    },
    clear() {
      last = null;
      for (const p of parts) p.clear();
    },
    waits() {
      return parts.some((p) => p.waits());
    },
    /** Per source (in the order of `fetches`), whether its part would be fetched while the request waits. */
    waiting() {
      return parts.map((p) => p.waits());
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
 * Fewer than five accounts have no quintiles: a source then answers each account's own value
 * (a tile each; for money, fewer than five accounts in its currency). Such values are quintiled
 * together, exactly, when no source has quintiles of a dimension; beside a source that has,
 * they are left out of that dimension's mean (their accounts still counted).
 */
export function combineBoundaries(parts: readonly RfmBoundaries[], computedAt = new Date().toISOString()): RfmBoundaries {
  const based = parts.filter((p) => p.accounts > 0 && p.recency.length === Math.min(p.accounts, 4) && p.frequency.length === p.recency.length && p.monetary.length <= 4);
  if (based.length === 0) return { accounts: 0, recency: [], frequency: [], monetary: [], currency: null, computedAt };
  if (based.length === 1) return based[0];
  const accounts = based.reduce((n, p) => n + p.accounts, 0);
  const currency = [...based].sort((a, b) => b.accounts - a.accounts)[0].currency;
  const combine = (pick: (p: RfmBoundaries) => number[], from: readonly RfmBoundaries[]) => {
    const quintiled = from.filter((p) => p.accounts >= 5 && pick(p).length === 4);
    if (!quintiled.length) return ntileUpperBounds(from.flatMap(pick));
    const n = quintiled.reduce((k, p) => k + p.accounts, 0);
    return [0, 1, 2, 3].map((i) => quintiled.reduce((sum, p) => sum + pick(p)[i] * p.accounts, 0) / n);
  };
  return {
    accounts,
    recency: combine((p) => p.recency.map((t) => Date.parse(t)), based).map((ms) => new Date(Math.round(ms)).toISOString()),
    frequency: combine((p) => p.frequency, based),
    monetary: combine(
      (p) => p.monetary,
      based.filter((p) => p.currency === currency),
    ).map(Math.round),
    currency,
    computedAt,
  };
}
