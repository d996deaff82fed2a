/** Commerce fields of Customer: orders and the order summary over every commerce source, and what hangs off an order. */
import type { Context } from '../src/context';
import type { Loaders } from '../src/loaders';
import { addMoney } from '../src/canonical';
import { SourceError, SourceRowError } from '../src/errors';
import type { Order, OrderSummary } from '../src/capabilities';
import type { Slot } from '../src/vocabulary';
import { flattenLists, newestFirst } from '../src/sources/fields';
import type { CustomerParent } from './customer';
import { boundedFirst } from './args';
import { accountsToSum } from '../src/insights/summary';

/**
 * The accounts' known times of one kind, sorted. Module-level rather than a closure made per
 * customer: V8 keeps a closure's optimized code only weakly (src/db.ts `bindingsOf`).
 */
function timesOf(summaries: readonly OrderSummary[], key: 'firstOrderAt' | 'lastOrderAt'): string[] {
  const out: string[] = [];
  for (const s of summaries) if (s[key] !== null) out.push(s[key]);
  return out.sort();
}

/**
 * Sums account summaries into the customer's. Mixed currencies cannot be summed honestly: that is
 * an error, not a guess; an account that spent nothing (only cancelled orders) does not make them
 * mixed (BI's lifetimeValue filter and order count it the same way).
 */
export function combineSummaries(all: OrderSummary[]): Omit<OrderSummary, 'accountId'> | null {
  if (all.length === 0) return null;
  const summaries = accountsToSum(all);
  const currency = summaries[0].totalSpent.currency;
  if (summaries.length === 1) {
    // The usual customer, one account: its times as they are (what the lists below would pick), no work arrays per customer of a list.
    const s = summaries[0];
    return {
      orderCount: s.orderCount,
      totalSpent: addMoney([s.totalSpent], currency),
      refundedAmount: addMoney([s.refundedAmount], currency),
      firstOrderAt: s.firstOrderAt,
      lastOrderAt: s.lastOrderAt,
    };
  }
  if (summaries.some((s) => s.totalSpent.currency !== currency)) {
    throw new SourceError('commerce', 'SOURCE_BAD_RESPONSE', 'commerce: the customer has orders in more than one currency; no single total');
  }
  const first = timesOf(summaries, 'firstOrderAt');
  const last = timesOf(summaries, 'lastOrderAt');
  return {
    orderCount: summaries.reduce((n, s) => n + s.orderCount, 0),
    totalSpent: addMoney(
      summaries.map((s) => s.totalSpent),
      currency,
    ),
    refundedAmount: addMoney(
      summaries.map((s) => s.refundedAmount),
      currency,
    ),
    firstOrderAt: first[0] ?? null,
    lastOrderAt: last[last.length - 1] ?? null,
  };
}

/** What `Customer.orderSummary` answers: the sum of the customer's accounts, with the customer for OrderSummary's insight fields (resolvers/insights.ts). */
export type CustomerSummary = Omit<OrderSummary, 'accountId'> & { customerId: string };

/**
 * One customer's summary from its accounts' loads, source by source in the registry's order: a
 * failed call fails it (the first source's), then a malformed account (settleList's rule).
 */
function summaryOf(customerId: string, perSource: ReadonlyArray<ReadonlyArray<Slot<OrderSummary> | Error | null>>): CustomerSummary | null {
  let summaries: OrderSummary[] | null = null;
  let malformed: Error | null = null;
  for (let s = 0; s < perSource.length; s++) {
    const list = perSource[s];
    for (let i = 0; i < list.length; i++) {
      const x = list[i];
      if (x instanceof Error) {
        if (!(x instanceof SourceRowError)) throw x;
        malformed ??= x;
      } else if (x !== null) (summaries ??= []).push(x);
    }
  }
  if (malformed) throw malformed;
  const combined = combineSummaries(summaries ?? []);
  if (!combined) return null;
  // The summary is this call's own: no copy to carry the customer.
  const out = combined as CustomerSummary;
  out.customerId = customerId;
  return out;
}

/** Each customer's summary (or the error its field answers), per request, once `summariesReady` made a level's ready. */
const readySummaries = new WeakMap<Loaders, Map<string, CustomerSummary | null | Error>>();

/**
 * The order summaries of a level of customers, made ready before their fields resolve (see
 * resolvers/level.ts): the same OneID round and one call per commerce source for the whole level
 * that the fields would make, issued at once, the record ids gathered per source in one pass
 * over each customer's records instead of per customer and source. Never rejects: a failure is
 * kept as the customer's answer.
 */
export async function summariesReady(loaders: Pick<Loaders, 'sourceRecords' | 'orderSummaries' | 'providing'>, customerIds: readonly string[]): Promise<void> {
  const commerce = loaders.providing('commerce');
  const linked = await loaders.sourceRecords.loadMany(customerIds);
  // Per source, every customer's record ids in a row; per customer and source, where its ids end.
  const keys: string[][] = commerce.map(() => []);
  const ends = new Int32Array(customerIds.length * commerce.length);
  for (let i = 0; i < linked.length; i++) {
    const records = linked[i];
    if (!(records instanceof Error)) {
      for (let r = 0; r < records.length; r++) {
        const source = records[r].source;
        for (let s = 0; s < commerce.length; s++) if (commerce[s].name === source) keys[s].push(records[r].recordId);
      }
    }
    for (let s = 0; s < commerce.length; s++) ends[i * commerce.length + s] = keys[s].length;
  }
  const loaded = await Promise.all(commerce.map(({ name }, s) => (keys[s].length ? loaders.orderSummaries(name).loadMany(keys[s]) : [])));
  let ready = readySummaries.get(loaders as Loaders);
  if (!ready) readySummaries.set(loaders as Loaders, (ready = new Map()));
  const perSource: Array<Array<Slot<OrderSummary> | Error | null>> = commerce.map(() => []);
  for (let i = 0; i < customerIds.length; i++) {
    const records = linked[i];
    if (records instanceof Error) {
      ready.set(customerIds[i], records);
      continue;
    }
    for (let s = 0; s < commerce.length; s++) {
      const start = i === 0 ? 0 : ends[(i - 1) * commerce.length + s];
      perSource[s] = loaded[s].slice(start, ends[i * commerce.length + s]);
    }
    try {
      ready.set(customerIds[i], summaryOf(customerIds[i], perSource));
    } catch (e) {
      ready.set(customerIds[i], e as Error);
    }
  }
}

/** The customer's summary when its level was made ready (its error thrown), else undefined. */
export function readySummary(loaders: object, customerId: string): CustomerSummary | null | undefined {
  const ready = readySummaries.get(loaders as Loaders)?.get(customerId);
  if (ready instanceof Error) throw ready;
  return ready;
}

/** A customer's summary outside a ready level: its own OneID round and loads (batched with its level's by DataLoader). */
async function summaryLater(ctx: Context, customerId: string): Promise<CustomerSummary | null> {
  const keys = await ctx.loaders.recordIdsProviding(customerId, 'commerce');
  return summaryOf(customerId, await Promise.all(keys.map(({ source, ids }) => ctx.loaders.orderSummaries(source).loadMany(ids))));
}

export const commerceResolvers = {
  Customer: {
    orders: async (c: CustomerParent, args: { first?: number | null; since?: string | null }, ctx: Context) => {
      const first = boundedFirst(args.first, ctx.limits.maxFirst);
      const query = { since: args.since ?? null, limit: first };
      const loads = Promise.all((await ctx.loaders.recordIdsProviding(c.id, 'commerce')).map(({ source, ids }) => ctx.loaders.orders(source, query).loadMany(ids)));
      // Every customer's orders settle together, so their lines and refunds batch into one call per source.
      const perSource = await ctx.loaders.together(`orders:${JSON.stringify(query)}`, loads);
      return newestFirst<Order>(
        perSource.flatMap((lists) => flattenLists(lists)),
        (o) => o.placedAt,
      ).slice(0, first);
    },

    // Not async: a level made ready (resolvers/level.ts) answers without a promise.
    orderSummary: (c: CustomerParent, _: unknown, ctx: Context): CustomerSummary | null | Promise<CustomerSummary | null> => {
      const ready = readySummary(ctx.loaders, c.id);
      return ready === undefined ? summaryLater(ctx, c.id) : ready;
    },
  },
  Order: {
    lines: (o: Order, _: unknown, ctx: Context) => ctx.loaders.orderLines(o.source).load(o.id),
    refunds: (o: Order, _: unknown, ctx: Context) => ctx.loaders.refunds(o.source).load(o.id),
  },
};
