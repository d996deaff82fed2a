/**
 * The lifecycle stage from configurable thresholds (config/lifecycle.json `stages`), in order:
 * - NEW: the first order is at most `newWithinDays` old; or, never having ordered, the
 *   customer registered (golden registeredAt) at most `newWithinDays` ago;
 * - ACTIVE: the last order is at most `activeWithinDays` old;
 * - AT_RISK: the last order is at most `atRiskWithinDays` old;
 * - CHURNED: the last order is older than that;
 * - PROSPECT: never ordered and not new (or registration unknown): nothing to churn from.
 *
 * Pure: no I/O.
 */
import type { Instant } from '../vocabulary';
import type { LifecycleRules } from './rules';
import type { CustomerOrders } from './summary';

const DAY_MS = 86_400_000;

export type LifecycleStage = 'NEW' | 'ACTIVE' | 'AT_RISK' | 'CHURNED' | 'PROSPECT';

export interface Lifecycle {
  stage: LifecycleStage;
  reason: string;
  daysSinceLastOrder: number | null;
}

/** What a lifecycle stage reads of a customer's orders: an order summary's figures, or BI's whole-base order facts. */
export type LifecycleFigures = Pick<CustomerOrders, 'orderCount' | 'firstOrderAt' | 'lastOrderAt'>;

export function lifecycleOf(stages: LifecycleRules['stages'], o: LifecycleFigures | null, registeredAt: Instant | null, now: Instant): Lifecycle {
  const t = Date.parse(now);
  const age = (at: Instant) => Math.max(0, Math.floor((t - Date.parse(at)) / DAY_MS));
  // Thresholds compare exact durations; the reasons round down to whole days.
  const within = (at: Instant, days: number) => t - Date.parse(at) <= days * DAY_MS;
  if (!o || o.orderCount === 0 || !o.lastOrderAt || !o.firstOrderAt) {
    if (registeredAt && within(registeredAt, stages.newWithinDays))
      return { stage: 'NEW', reason: `registered ${age(registeredAt)} days ago, no order yet`, daysSinceLastOrder: null };
    return { stage: 'PROSPECT', reason: registeredAt ? `registered ${age(registeredAt)} days ago, never ordered` : 'never ordered', daysSinceLastOrder: null };
  }
  const sinceLast = age(o.lastOrderAt);
  const sinceFirst = age(o.firstOrderAt);
  if (within(o.firstOrderAt, stages.newWithinDays)) return { stage: 'NEW', reason: `first order ${sinceFirst} days ago`, daysSinceLastOrder: sinceLast };
  if (within(o.lastOrderAt, stages.activeWithinDays))
    return { stage: 'ACTIVE', reason: `last order ${sinceLast} days ago (active within ${stages.activeWithinDays})`, daysSinceLastOrder: sinceLast };
  if (within(o.lastOrderAt, stages.atRiskWithinDays))
    return { stage: 'AT_RISK', reason: `last order ${sinceLast} days ago (at risk after ${stages.activeWithinDays})`, daysSinceLastOrder: sinceLast };
  return { stage: 'CHURNED', reason: `last order ${sinceLast} days ago (churned after ${stages.atRiskWithinDays})`, daysSinceLastOrder: sinceLast };
}
