/**
 * What the golden, timeline and insight resolvers need beyond the request's loaders, built once
 * at start-up: the validated rules, the order-summary windows they imply, and the cross-request
 * cache of RFM boundaries. Handed to `createContext` (deps.insights) by the server.
 *
 * Until the server passes one, `defaultInsightsRuntime()` builds it from the repository's
 * config/ directory once per process (memoized), so resolvers always have rules.
 */
import path from 'node:path';
import type { OrdersConnector, RfmBoundaries } from '../sources/types';
import { boundaryCacheFor } from './rfm-cache';
import { loadInsightRules, type InsightRules } from './rules';
import { windowsOf } from './tags';

/** The windows the extended order summary always reports (ordersLast30Days, …90…, …365…). */
export const SUMMARY_WINDOW_DAYS = [30, 90, 365] as const;

export interface InsightsRuntime {
  rules: InsightRules;
  /** Windows (days) the order summary must count: the summary's own and every tag rule's. */
  orderWindowDays: readonly number[];
  /** The RFM boundaries for this orders connector, from a cache living as long as the runtime's TTL says. */
  rfmBoundaries(orders: OrdersConnector): Promise<RfmBoundaries>;
}

export function createInsightsRuntime(rules: InsightRules): InsightsRuntime {
  const ttlMs = rules.lifecycle.rfm.boundaryTtlSeconds * 1000;
  const windows = [...new Set<number>([...SUMMARY_WINDOW_DAYS, ...windowsOf(rules.tags)])].sort((a, b) => a - b);
  return {
    rules,
    orderWindowDays: windows,
    rfmBoundaries: (orders) => boundaryCacheFor(orders, ttlMs).get(),
  };
}

/** Loads and validates the rule files in `dir` (throws naming file and key) and builds the runtime. */
export function loadInsightsRuntime(dir = 'config'): InsightsRuntime {
  return createInsightsRuntime(loadInsightRules(dir));
}

export const DEFAULT_CONFIG_DIR = path.resolve(__dirname, '..', '..', 'config');

let fallback: InsightsRuntime | null = null;

/** The runtime from the repository's config/, loaded once per process: for contexts built without one. */
export function defaultInsightsRuntime(): InsightsRuntime {
  return (fallback ??= loadInsightsRuntime(DEFAULT_CONFIG_DIR));
}
