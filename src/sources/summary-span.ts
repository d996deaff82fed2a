/**
 * What an order summary counts, the same for every commerce source: counted (not cancelled)
 * orders placed at or before the request time (`AsOf.now`). An order dated after it (a
 * source's clock ahead, a bad row) is not counted yet, in any figure of the summary: not in
 * orderCount, the money, the refunded-order count, first/last order times, nor the windows; nor
 * in a record's category stats or the whole base's RFM boundaries (`countedUntil`). So
 * one customer's orderCount, lifetime value, lifecycle stage, RFM recency and ordersLast30Days
 * all speak of the same orders, the quintiles they are scored against too, and BI's
 * `orders.withinDays` (which ends at the request time too) agrees with them. An order from a clock a few seconds ahead counts once its time has
 * come; no allowance is added, because an allowance would have to be added to BI's windows too
 * and would still count an order "0 days ago" that has not happened.
 */
import type { AsOf, SummaryQuery } from '../capabilities';
import type { SourceName } from '../vocabulary';

const DAY_MS = 86_400_000;

/** Unix ms: the last instant an order counts at (`end`), and each window's start, `days` before it. */
export interface SummarySpan {
  end: number;
  starts: number[];
}

/** Unix ms: the last instant an order placed by counts at, for `operation` (category stats, RFM boundaries); a missing or bad `now` is the caller's bug. */
export function countedUntil(source: SourceName, operation: string, asOf: AsOf): number {
  const end = Date.parse(asOf?.now);
  if (!Number.isFinite(end)) throw new Error(`${source} ${operation}: now is not an instant: ${JSON.stringify(asOf?.now)}`);
  return end;
}

/** The span of a summary query; a query that is not one is the caller's bug. */
export function summarySpan(source: SourceName, q: SummaryQuery): SummarySpan {
  const end = countedUntil(source, 'orderSummariesByRecordIds', q);
  for (const d of q.windowDays)
    if (!Number.isInteger(d) || d < 1) throw new Error(`${source} orderSummariesByRecordIds: window days must be positive integers, got ${JSON.stringify(d)}`);
  return { end, starts: q.windowDays.map((d) => end - d * DAY_MS) };
}

/** Whether an order placed at `placedAt` (unix ms) is counted yet. */
export const placedBy = (placedAt: number, span: SummarySpan): boolean => placedAt <= span.end;
