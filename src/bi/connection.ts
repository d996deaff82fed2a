/**
 * Pages of customers for `customersConnection` and exports: keyset cursors over OneID ids, so a
 * walk stays stable while resolution runs. Only customers active when a page is read are
 * answered: one merged away after it was returned is not returned again, and its survivor (an
 * older id, or one not yet reached) is returned once. Ordered by a measure of the order facts
 * (lifetime value, orders, last order), the key is (value, id), the value as of the request (money
 * in cents of VALUE_CURRENCY); a customer without one (orders in another currency: money is never
 * converted; no last order) comes last in either direction, by id.
 *
 * Cursors are opaque to clients: base64url JSON `{ o, id, v?, p? }` naming the order they belong to,
 * and the plan the walk pages through (list.ts), where there is one.
 */
import { badUserInput } from '../errors';
import type { BiStore } from '../idmap/bi-store';
import type { FilterNode } from './filter';
import { createPlanner, type OrderMeasure, type Plan, type PlanDeps, type Undecided } from './plan';
import { has, type CustomerSet } from './sets';

export type CustomerOrder = 'ID_ASC' | 'LIFETIME_VALUE_DESC' | 'LIFETIME_VALUE_ASC' | 'ORDER_COUNT_DESC' | 'ORDER_COUNT_ASC' | 'LAST_ORDER_AT_DESC' | 'LAST_ORDER_AT_ASC';

/** Each value order's measure and direction; what a customer without orders counts as (null: after every value, in both directions). */
export const VALUE_ORDERS: Record<Exclude<CustomerOrder, 'ID_ASC'>, { measure: OrderMeasure; desc: boolean; none: number | null }> = {
  LIFETIME_VALUE_DESC: { measure: 'lifetimeValue', desc: true, none: 0 },
  LIFETIME_VALUE_ASC: { measure: 'lifetimeValue', desc: false, none: 0 },
  ORDER_COUNT_DESC: { measure: 'orderCount', desc: true, none: 0 },
  ORDER_COUNT_ASC: { measure: 'orderCount', desc: false, none: 0 },
  LAST_ORDER_AT_DESC: { measure: 'lastOrderAt', desc: true, none: null },
  LAST_ORDER_AT_ASC: { measure: 'lastOrderAt', desc: false, none: null },
};
export const isCustomerOrder = (o: string): o is CustomerOrder => o === 'ID_ASC' || Object.hasOwn(VALUE_ORDERS, o);

interface Cursor {
  o: CustomerOrder;
  id: string;
  /** The value, for the value orders (lifetime value in cents, orders, last order in ms); null: none (another currency, never ordered). */
  v?: number | null;
  /** The id of the plan the page was read from (list.ts): the walk's next page reads the same one while it is kept. */
  p?: string;
}

/** The currency the value orders compare in. */
export const VALUE_CURRENCY = 'CNY';

export const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

export function decodeCursor(raw: string | null | undefined, order: CustomerOrder): Cursor | null {
  if (raw === null || raw === undefined || raw === '') return null;
  let c: Cursor;
  try {
    c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw badUserInput('after is not a cursor this API gave out', { argument: 'after' });
  }
  if (!c || typeof c.id !== 'string' || c.o !== order || (order !== 'ID_ASC' && typeof c.v !== 'number' && c.v !== null) || (c.p !== undefined && typeof c.p !== 'string')) {
    throw badUserInput(`after is not a cursor of a list ordered by ${order}`, { argument: 'after' });
  }
  return c;
}

export interface CustomerPage {
  ids: string[];
  cursors: string[];
  hasNextPage: boolean;
  /** Matching customers active now; computed on demand (a walk over the unfiltered base is one COUNT). */
  totalCount(): Promise<number>;
  plan(): Plan;
  /** Customers the plan could not decide (a source failed for them): in neither the page nor `totalCount`. */
  undecided: Undecided[];
}

/** What a plan found, kept for the pages that follow (an export evaluates its filter once). */
export interface Evaluated {
  set: CustomerSet;
  plan: Plan;
  /** Per customer with orders, the value order's measure (lifetime value in cents of VALUE_CURRENCY, null when not in it; orders; last order in ms). */
  values?: Map<string, number | null>;
  /** Customers it could not decide, per filter key, source and code (none listed). */
  undecided: Undecided[];
}

const ID_PAGE = 1000;

/** The planner of each filter's evaluation: a value order over it reads its values with the same one, so its plan goes on from the filter's steps. */
const planners = new WeakMap<Evaluated, ReturnType<typeof createPlanner>>();
/** Each evaluation's values per measure: both directions rank the same values, read once. */
const valued = new WeakMap<Evaluated, Map<OrderMeasure, Promise<Evaluated>>>();

/** Evaluates a filter for the caller (its row scope applied): the customers it matches, in any order. */
export async function evaluate(deps: PlanDeps, filter: FilterNode): Promise<Evaluated> {
  const planner = createPlanner(deps);
  const set = await planner.run(filter);
  const plan = planner.plan();
  // The steps as they are now: a value order over this evaluation adds its own to the planner's.
  const evaluated = { set, plan: { ...plan, steps: [...plan.steps] }, undecided: planner.undecided() };
  planners.set(evaluated, planner);
  return evaluated;
}

/** Whether a value order over `matched` by this order's measure read its values already: what the budget charges it. */
export const valuesRead = (matched: Evaluated, order: Exclude<CustomerOrder, 'ID_ASC'>): boolean => !!valued.get(matched)?.has(VALUE_ORDERS[order].measure);

/**
 * A value order over what `evaluate` matched: the values it sorts by, read once per evaluation and
 * measure whatever the direction. It leaves out (undecided) the customers whose facts it could not
 * read whole, so its set can be smaller than the filter's (which a count keeps).
 */
export async function rankedBy(matched: Evaluated, order: Exclude<CustomerOrder, 'ID_ASC'>): Promise<Evaluated> {
  const { measure } = VALUE_ORDERS[order];
  let byMeasure = valued.get(matched);
  if (!byMeasure) valued.set(matched, (byMeasure = new Map()));
  let v = byMeasure.get(measure);
  if (!v) {
    const planner = planners.get(matched);
    if (!planner) throw new Error(`rankedBy(${order}): not an evaluation of this process`);
    const mine = (v = planner
      .orderValues(measure, VALUE_CURRENCY, matched.set)
      .then(({ values, set }) => ({ set, values, plan: planner.plan(), undecided: planner.undecided() })));
    byMeasure.set(measure, mine);
    mine.catch(() => byMeasure.get(measure) === mine && byMeasure.delete(measure));
  }
  // An object of its own per order: a page's ranking is kept per evaluation (rankedOnce), and each direction ranks its own way.
  return { ...(await v) };
}

/**
 * One page after `after`. Unfiltered and unscoped id walks read OneID keyset pages only;
 * everything else walks the evaluated set.
 */
export async function customerPage(
  store: BiStore,
  evaluated: Evaluated | null,
  opts: { first: number; after: string | null; order: CustomerOrder; planId?: string },
): Promise<CustomerPage> {
  const cursor = decodeCursor(opts.after, opts.order);
  const p = opts.planId === undefined ? {} : { p: opts.planId };
  const plan = () => evaluated?.plan ?? { steps: [], estimatedCalls: 0, actualCalls: 0 };

  if (opts.order === 'ID_ASC') {
    const want = opts.first + 1;
    const ids: string[] = [];
    let after = cursor?.id ?? null;
    const set = evaluated?.set;
    if (!set || set.neg) {
      // Walk OneID's active ids, skipping those the (complement) set excludes.
      for (;;) {
        const page = await store.activeIdsAfter(after, set ? Math.max(ID_PAGE, want) : want);
        for (const id of page) if (!set || has(set, id)) ids.push(id);
        if (ids.length >= want || page.length === 0 || !set) break;
        after = page[page.length - 1];
      }
    } else {
      const sorted = sortedOnce(evaluated, () => [...set.ids].sort());
      ids.push(...(await activeFrom(store, sorted, after === null ? 0 : upperBound(sorted, after), want)));
    }
    const page = ids.slice(0, opts.first);
    return {
      ids: page,
      cursors: page.map((id) => encodeCursor({ o: 'ID_ASC', id, ...p })),
      hasNextPage: ids.length > opts.first,
      totalCount: async () => countOf(store, set),
      plan,
      undecided: evaluated?.undecided ?? [],
    };
  }

  // Value orders: the matching customers ranked by (value, id) once per evaluation (its first
  // page), each page then reading only its own stretch of them.
  const { desc, none } = VALUE_ORDERS[opts.order];
  type Row = { v: number | null; id: string };
  // No value (null: money in another currency, never ordered) sorts after every value, in both directions.
  const byValue = (a: number | null, b: number | null) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : desc ? b - a : a - b);
  const cmp = (a: Row, b: Row) => byValue(a.v, b.v) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const rows = await rankedOnce(evaluated, async () => {
    const values = evaluated?.values ?? new Map<string, number | null>();
    const set = evaluated?.set;
    const members: string[] = [];
    if (!set || set.neg) {
      let after: string | null = null;
      for (;;) {
        const page = await store.activeIdsAfter(after, ID_PAGE * 5);
        if (!page.length) break;
        for (const id of page) if (!set || has(set, id)) members.push(id);
        after = page[page.length - 1];
      }
    } else members.push(...(await store.activeAmong([...set.ids])));
    const key = (id: string) => (values.has(id) ? (values.get(id) as number | null) : none);
    return members.map((id) => ({ v: key(id), id })).sort(cmp);
  });
  const start = cursor ? rows.findIndex((r) => cmp(r, { v: cursor.v as number | null, id: cursor.id }) > 0) : 0;
  const ranked = start < 0 ? [] : await activeFrom(store, rows, start, opts.first + 1, (r) => r.id);
  const page = ranked.slice(0, opts.first);
  return {
    ids: page.map((r) => r.id),
    cursors: page.map((r) => encodeCursor({ o: opts.order, id: r.id, v: r.v, ...p })),
    hasNextPage: ranked.length > opts.first,
    totalCount: async () => (await store.activeAmong(rows.map((r) => r.id))).size,
    plan,
    undecided: evaluated?.undecided ?? [],
  };
}

/**
 * Once per evaluation (an export's pages, a walk's reused plan), not once per page: the matching
 * ids sorted, and a value order's ranking. Each page used to sort the whole set again, and a
 * value order to read every matching id from OneID again: an export's OneID reads grew with the
 * square of its size.
 */
const sortedIds = new WeakMap<Evaluated, string[]>();
const rankings = new WeakMap<Evaluated, Promise<Array<{ v: number | null; id: string }>>>();
function sortedOnce(e: Evaluated | null, make: () => string[]): string[] {
  if (!e) return make();
  let s = sortedIds.get(e);
  if (!s) sortedIds.set(e, (s = make()));
  return s;
}
function rankedOnce<R extends { v: number | null; id: string }>(e: Evaluated | null, make: () => Promise<R[]>): Promise<R[]> {
  if (!e) return make();
  let r = rankings.get(e) as Promise<R[]> | undefined;
  if (!r) {
    rankings.set(e, (r = make()));
    r.catch(() => rankings.delete(e)); // a failed read is tried again by the next page
  }
  return r;
}

/**
 * Up to `want` of `items` from index `start` on whose customers are active now, read in chunks:
 * customers merged away since the set was computed are dropped (they are no longer customers).
 */
async function activeFrom<T>(store: BiStore, items: readonly T[], start: number, want: number, idOf: (t: T) => string = (t) => t as string): Promise<T[]> {
  const out: T[] = [];
  let i = start;
  while (out.length < want && i < items.length) {
    const chunk = items.slice(i, i + Math.max(want * 2, 200));
    const active = await store.activeAmong(chunk.map(idOf));
    for (const t of chunk) if (active.has(idOf(t)) && out.length < want) out.push(t);
    i += chunk.length;
  }
  return out;
}

/** First index whose id is greater than `id` in ascending `sorted`. */
function upperBound(sorted: string[], id: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function countOf(store: BiStore, set: CustomerSet | undefined): Promise<number> {
  if (!set) return store.countActive();
  const active = await store.activeAmong([...set.ids]);
  return set.neg ? (await store.countActive()) - active.size : active.size;
}
