/**
 * What the golden, timeline and insight resolvers need beyond the request's loaders, built once
 * at start-up: the validated rules, the order-summary windows they imply, and the cross-request
 * cache of RFM boundaries. Handed to `createContext` (deps.insights) by the server.
 *
 * Until the server passes one, `defaultInsightsRuntime()` builds it from the repository's
 * config/ directory once per process (memoized), so resolvers always have rules.
 */
import path from 'node:path';
import type { AsOf, RfmBoundaries } from '../capabilities';
import type { SourceAccount, SourceName } from '../vocabulary';
import type { SourceRegistry } from '../sources/registry';
import { bindSurvivorship } from '../golden/rules';
import { createCombinedBoundaries } from './rfm-cache';
import { loadInsightRules, type InsightRules } from './rules';
import { windowsOf } from './tags';

/** The windows the extended order summary always reports (ordersLast30Days, …90…, …365…). */
export const SUMMARY_WINDOW_DAYS = [30, 90, 365] as const;

export interface InsightsRuntime {
  rules: InsightRules;
  /** Windows (days) the order summary must count: the summary's own and every tag rule's. */
  orderWindowDays: readonly number[];
  /** The RFM boundaries of the whole order base (every commerce source), from a cache living as long as the rules' TTL says. */
  rfmBoundaries(asOf: AsOf, account?: SourceAccount): Promise<RfmBoundaries>;
  /**
   * The commerce sources whose part of the boundaries is not kept now, so that the next request
   * reading them waits for those sources' calls (a gateway's first computation): the BI budget
   * charges them. Absent: none is charged.
   */
  rfmBoundariesWaiting?(): SourceName[];
}

/** The runtime for a gateway's sources: survivorship bound to them, one boundary cache over their commerce. */
export function createInsightsRuntime(rules: InsightRules, registry: SourceRegistry, origin = 'survivorship rules'): InsightsRuntime {
  const ttlMs = rules.lifecycle.rfm.boundaryTtlSeconds * 1000;
  const windows = [...new Set<number>([...SUMMARY_WINDOW_DAYS, ...windowsOf(rules.tags)])].sort((a, b) => a - b);
  const survivorship = bindSurvivorship(
    rules.survivorship,
    registry.sources.map((s) => s.name),
    (name) => registry.get(name)?.capabilities.profile?.fields ?? null,
    origin,
  );
  const commerce = registry.providing('commerce');
  const cache = createCombinedBoundaries(
    commerce.map((c) => (asOf: AsOf, account?: SourceAccount) => c.capability.rfmBoundaries(asOf, account)),
    ttlMs,
  );
  return {
    rules: { ...rules, survivorship },
    orderWindowDays: windows,
    rfmBoundaries: (asOf, account) => cache.get(asOf, account),
    rfmBoundariesWaiting: () => {
      const waiting = cache.waiting();
      return commerce.filter((_, i) => waiting[i]).map((c) => c.name);
    },
  };
}

/** Loads and validates the rule files in `dir` (throws naming file and key) and builds the runtime. */
export function loadInsightsRuntime(dir: string, registry: SourceRegistry): InsightsRuntime {
  return createInsightsRuntime(loadInsightRules(dir), registry, path.join(dir, 'survivorship.json'));
}
