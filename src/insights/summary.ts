/**
 * A customer's order figures from their accounts' aggregates (computed in the order system by
 * SQL, one statement per level): the extended order summary, and the facts RFM, tags and the
 * lifecycle stage are computed from. Accounts are summed; money in one currency only.
 *
 * Definitions (all over counted orders, i.e. not cancelled):
 * - lifetimeValue: what the customer paid and kept paying: order totals less refunds;
 * - averageOrderValue: order totals before refunds / counted orders (the average basket), to the fen, half up;
 * - ordersInLast(d): orders placed in the d days up to the request time;
 * - refundRate: share of counted orders with at least one refund;
 * - favouriteCategories: categories by orders that contain them, then units, then name.
 *
 * Pure: no I/O.
 */
import { addMoney, moneyFromCents, toCents } from '../canonical';
import { SourceError } from '../errors';
import type { Instant, Money } from '../vocabulary';
import type { CategoryStat, OrderSummary } from '../capabilities';

export interface CustomerOrders {
  orderCount: number;
  lifetimeValue: Money;
  grossSpent: Money;
  refundedOrderCount: number;
  firstOrderAt: Instant | null;
  lastOrderAt: Instant | null;
  /** Window length in days → counted orders in it. */
  recentOrders: Map<number, number>;
}

const INCOMPARABLE = Symbol('incomparable money');

/** Marks an error as one customer's money being in a currency its comparison cannot use (not a failure of a source or of the base). */
export const incomparableMoney = <E extends Error>(e: E): E => Object.assign(e, { [INCOMPARABLE]: true });

/** Whether the error says one customer's money cannot be compared (BI: that customer does not match an insight filter). */
export const isIncomparableMoney = (e: unknown): boolean => typeof e === 'object' && e !== null && INCOMPARABLE in e;

/** An account with no counted order and no money (only cancelled orders): it spent nothing, in any currency. */
const spentNothing = (s: OrderSummary) =>
  s.orderCount === 0 && Number(s.totalSpent.amount) === 0 && Number(s.refundedAmount.amount) === 0 && Number(s.grossSpent?.amount ?? 0) === 0;

/**
 * The account summaries a customer's money is summed over (non-empty `all`): every one, but where
 * their currencies differ, an account that spent nothing does not count (it makes nothing mixed).
 * `Customer.orderSummary` and the insight facts both sum these; if they still differ, that is an error.
 */
export function accountsToSum<S extends OrderSummary>(all: readonly S[]): readonly S[] {
  if (all.every((s) => s.totalSpent.currency === all[0].totalSpent.currency)) return all;
  const spent = all.filter((s) => !spentNothing(s));
  return spent.length ? spent : [all[0]];
}

/**
 * Sums account summaries (asked with windows) into the customer's figures; null without any
 * account summary. An account that spent nothing does not make the currencies mixed (as
 * `Customer.orderSummary` and BI's lifetimeValue filter count it).
 */
export function customerOrders(all: readonly OrderSummary[], windowDays: readonly number[]): CustomerOrders | null {
  if (all.length === 0) return null;
  const summaries = accountsToSum(all);
  const currency = summaries[0].totalSpent.currency;
  if (summaries.some((s) => s.totalSpent.currency !== currency))
    // Named for the capability, as orderSummary's own error is: the accounts may sit in any commerce sources.
    throw incomparableMoney(new SourceError('commerce', 'SOURCE_BAD_RESPONSE', 'commerce: accounts report different currencies; no single total'));
  for (const s of summaries)
    if (!s.grossSpent || s.refundedOrderCount == null || s.recentOrderCounts?.length !== windowDays.length)
      throw new Error('order summary was loaded without its windows: the orderSummary loader must pass a SummaryQuery');
  const times = (pick: (s: OrderSummary) => string | null) =>
    summaries
      .map(pick)
      .filter((t): t is string => t !== null)
      .sort();
  const first = times((s) => s.firstOrderAt);
  const last = times((s) => s.lastOrderAt);
  return {
    orderCount: summaries.reduce((n, s) => n + s.orderCount, 0),
    lifetimeValue: addMoney(
      summaries.map((s) => s.totalSpent),
      currency,
    ),
    grossSpent: addMoney(
      summaries.map((s) => s.grossSpent as Money),
      currency,
    ),
    refundedOrderCount: summaries.reduce((n, s) => n + (s.refundedOrderCount as number), 0),
    firstOrderAt: first[0] ?? null,
    lastOrderAt: last[last.length - 1] ?? null,
    recentOrders: new Map(windowDays.map((d, i) => [d, summaries.reduce((n, s) => n + (s.recentOrderCounts as number[])[i], 0)])),
  };
}

/** Orders in the last `days` days; asking for a window the summary was not counted over is a wiring bug. */
export function ordersWithin(o: Pick<CustomerOrders, 'recentOrders'>, days: number): number {
  const n = o.recentOrders.get(days);
  if (n === undefined) throw new Error(`no order count for a ${days}-day window: the windows come from the insight rules (pass them to createContext)`);
  return n;
}

/** Half-up division of money by a count, to the minor unit of its currency (the fen; the yen); null for no orders. */
export function averageOrderValue(o: CustomerOrders): Money | null {
  if (o.orderCount === 0) return null;
  const cents = toCents(o.grossSpent);
  const avg = Math.sign(cents) * Math.floor((Math.abs(cents) * 2 + o.orderCount) / (2 * o.orderCount));
  return moneyFromCents(avg, o.grossSpent.currency);
}

export function refundRate(o: CustomerOrders): number | null {
  return o.orderCount === 0 ? null : o.refundedOrderCount / o.orderCount;
}

/** Categories of all the customer's accounts, summed, favourites first. */
export function combineCategories(perAccount: ReadonlyArray<readonly CategoryStat[]>): CategoryStat[] {
  const by = new Map<string, CategoryStat>();
  for (const list of perAccount)
    for (const c of list) {
      const seen = by.get(c.category);
      by.set(c.category, seen ? { category: c.category, orders: seen.orders + c.orders, quantity: seen.quantity + c.quantity } : { ...c });
    }
  return [...by.values()].sort((a, b) => b.orders - a.orders || b.quantity - a.quantity || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
}
