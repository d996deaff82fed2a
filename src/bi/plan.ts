/**
 * The filter planner: evaluates a parsed filter (filter.ts) to a set of OneID customers.
 *
 * Each leaf goes to the capability that owns it, in every source providing that capability:
 *  - pushdown: the source answers the whole condition in one call (an SQL WHERE / GROUP BY …
 *    HAVING over its base: `commerce.orderFacts`, `profile.recordIdsWhere`), whatever the
 *    number of matches; its record ids meet through OneID (one statement per 1,000 records);
 *  - verify: where a source cannot search (an HTTP API without such parameters), the planner
 *    reads the records of the candidates (or of every customer OneID links to that source,
 *    keyset page by page) through the ordinary batch operations, a fresh loader set per page,
 *    so calls grow with the candidates / the source's batch size, never one per customer;
 *  - oneid: identifier presence is answered by the OneID store alone.
 * Golden fields are survivorship results, so their pushdown only proposes candidates (a record
 * holds the value) and survivorship is then verified on those. Insights (tags, RFM, lifecycle)
 * are computed, so they are verified on the candidates the rest of the filter left.
 *
 * Order: in an `and`, leaves that the sources answer whole (oneid, pushdown) run first, then the
 * verified ones, cheapest class first, each restricted to the smallest set found so far; that
 * is what keeps verification proportional to the selective part of a filter. Every step records
 * its estimated calls per source (from OneID's record counts and the sources' batch sizes,
 * before it runs) and the actual ones (the request's source accounting): `explain`.
 *
 * A result is exact within the candidates it was evaluated on (`evaluate(node, C) ∩ C` is the
 * truth), which is all an `and` needs; the top level runs on every active customer.
 *
 * A source that fails for some keys (one chunk of its call, a row it cannot read: a `SourceError`
 * in their slots) leaves those customers undecided for that condition (`CustomerSet.unknown`):
 * they combine by three-valued logic (sets.ts), and those still undecided at the end are in no
 * list, named by `undecided()` (filter key, source, code, how many). A call that fails whole, a
 * pushdown's, or OneID's, still fails the plan.
 */
import type { CapabilityName, Engagement, EngagementCapability, OrderFactQuery, RfmBoundaries, Ticket } from '../capabilities';
import { matchText, moneyFromCents, toCents } from '../canonical';
import { isSourceError, SourceError } from '../errors';
import { goldenDecision } from '../golden/records';
import type { BiStore } from '../idmap/bi-store';
import type { InsightRules } from '../insights/rules';
import { lifecyclesFor, rfmFor, tagsFor } from '../insights/facts';
import { lifecycleOf } from '../insights/lifecycle';
import { rfmOf } from '../insights/rfm';
import { needsOf, ordersReadAsFigures, tagCanBe, windowsOf, type TagOrders } from '../insights/tags';
import { isIncomparableMoney } from '../insights/summary';
import { freshLoaders, type Loaders } from '../loaders';
import type { SourceName } from '../vocabulary';
import { FILTER_FIELDS, type FilterNode, type Leaf, type LeafOwner } from './filter';
import { both, complement, decided, either, everyone, has, inRange, only, allBut, stillUnknown, type CustomerSet } from './sets';

/** Customers verified per round (one fresh loader set, one call per source and batch limit). */
export const VERIFY_BATCH = 500;

/** What a value order sorts by: a figure of every customer's order facts. */
export type OrderMeasure = 'lifetimeValue' | 'orderCount' | 'lastOrderAt';
/** OneID records read per keyset page when a source's whole linked base is walked. */
const RECORD_PAGE = 2000;
/** Ticket statuses that are done; every other status is open. */
const DONE_TICKET = new Set(['solved', 'closed']);

export interface PlanDeps {
  loaders: Loaders;
  store: BiStore;
  rules: InsightRules;
  /** The caller's row scope as a check per customer (absent: the caller sees every customer). */
  scope?: (loaders: Loaders, ids: readonly string[]) => Promise<boolean[]>;
  /** The commerce sources whose RFM boundaries are not kept now (insights/runtime.ts): reading them makes their calls. */
  boundariesWaiting?: () => readonly SourceName[];
}

export interface SourceCalls {
  source: string;
  /** Null under a row scope (withinScope). */
  estimatedCalls: number | null;
  /** Null outside a request's source accounting. */
  actualCalls: number | null;
}

export interface PlanStep {
  /** The filter key (`orders`, `memberTier`, …) or `rowScope`. */
  filter: string;
  capability: LeafOwner | 'rowScope';
  strategy: 'oneid' | 'pushdown' | 'verify';
  /** Customers the step was restricted to; null: every customer. */
  candidates: number | null;
  /** Customers its filter key matched in the end (for a complement: the customers it excludes); null when a row scope withholds it. */
  matched: number | null;
  complement: boolean;
  /** Wall time of the step, in milliseconds; null under a row scope. */
  ms: number | null;
  sources: SourceCalls[];
}

/** Customers a plan could not decide, for one filter key, source and error code. */
export interface Undecided {
  filter: string;
  source: string;
  code: string;
  /** How many customers (that the caller may see) were left out for it. */
  customers: number;
}

export interface Plan {
  steps: PlanStep[];
  /** This page reused the plan an earlier page of the walk evaluated: its calls were made then, not now. */
  reused?: boolean;
  /** Null under a row scope (withinScope). */
  estimatedCalls: number | null;
  actualCalls: number | null;
}

type Pair = { recordId: string; customerId: string };

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const ceilDiv = (a: number, b: number) => (a <= 0 ? 0 : Math.ceil(a / b));
const DAY_MS = 86_400_000;

/** The values of a batch answer; throws its first failure (a failed call or a malformed row). */
function settled<T>(xs: ReadonlyArray<T | Error | null>): Array<Exclude<T, Error | null>> {
  const failed = xs.find((x): x is Error => x instanceof Error);
  if (failed) throw failed;
  return xs.filter((x) => x !== null) as Array<Exclude<T, Error | null>>;
}

export function createPlanner(deps: PlanDeps) {
  const { loaders, store, rules } = deps;
  const registry = loaders.registry;
  const now = loaders.now;
  // An order dated after the request (a clock ahead, a bad row) counts in no filter, as in no order
  // summary figure (sources/summary-span.ts): every commerce fact ends here. `before` is exclusive,
  // so the end is the millisecond after now.
  const placedBy = new Date(Date.parse(now) + 1).toISOString();
  const steps: PlanStep[] = [];
  let counts: Promise<{ records: Map<string, number>; active: number }> | null = null;
  const stats = () => (counts ??= Promise.all([store.recordCounts(), store.countActive()]).then(([records, active]) => ({ records, active })));

  /** Per filter key, source and code, the customers a source failed for (see `undecide`). */
  const undecidedBy = new Map<string, { filter: string; source: string; code: string; error: SourceError; customers: Set<string> }>();
  /** The customers the plan left undecided in the end (that the caller may see): set by `run`. */
  let undecidedIds = new Set<string>();
  /** The customers a value order left out, its value not whole (that the caller may see): set by `orderValues`. */
  let unranked = new Set<string>();

  /**
   * Leaves a customer undecided for `filter` when `error` is a source's (its records' chunk failed,
   * or a row could not be read): added to `into`, and noted for `undecided()`. Anything else (the
   * client gone, a bug) fails the plan.
   */
  function undecide(filter: string, error: unknown, customerId: string, into: Set<string>): void {
    if (!isSourceError(error)) throw error;
    into.add(customerId);
    const key = `${filter}\u0000${error.sourceName}\u0000${error.code}`;
    let u = undecidedBy.get(key);
    if (!u) undecidedBy.set(key, (u = { filter, source: error.sourceName, code: error.code, error, customers: new Set() }));
    u.customers.add(customerId);
  }

  /** The first malformed row of a list, or the list's values. */
  const firstBad = <T>(list: ReadonlyArray<T | Error>): Error | null => list.find((x): x is Error => x instanceof Error) ?? null;

  /** Stops the plan between its rounds once the client went away (the loaders refuse each batch after it too). */
  const halt = () => loaders.signal?.throwIfAborted();

  const maxBatchOf = (s: SourceName) => registry.get(s)?.connector.maxBatch ?? 100;
  const providing = (c: CapabilityName) => registry.providing(c).map((p) => p.name);

  /** Calls to read `customers` customers' records of `s` in verification rounds. */
  async function verifyCalls(s: SourceName, customers: number | null, operations = 1): Promise<number> {
    const { records, active } = await stats();
    const n = records.get(s) ?? 0;
    if (customers === null) return ceilDiv(n, maxBatchOf(s)) * operations;
    const perCustomer = active ? n / active : 0;
    const rounds = ceilDiv(customers, VERIFY_BATCH);
    return rounds * ceilDiv(Math.min(customers, VERIFY_BATCH) * perCustomer, maxBatchOf(s)) * operations;
  }

  /** Calls to list a source's whole linked base in pages of 100 (a listing API's usual page). */
  async function listCalls(s: SourceName): Promise<number> {
    return Math.max(1, ceilDiv((await stats()).records.get(s) ?? 0, 100));
  }

  /**
   * A pushdown's calls as the source counts them (`orderFactsCalls`, `recordIdsWhereCalls`): its
   * listing's pages as last read, 0 while cached. Never listed yet: two listings of a page per
   * hundred records (orders and refunds, or contacts by staff). Undefined: one statement.
   */
  async function pushdownCalls(s: SourceName, counted: (() => number | null) | undefined): Promise<number | undefined> {
    if (!counted) return undefined;
    return counted() ?? 2 * (await listCalls(s));
  }

  type Provider = { name: SourceName; capability: EngagementCapability<unknown> };
  type Listed = { owners: Set<string> | null; step: PlanStep | null };

  /**
   * One engagement listing step (a source answering `subscribed` / `staffContact` by listing
   * its whole base): the customers it found, or null owners when the source cannot list so
   * (it made no call, and its step is taken back).
   */
  async function runListing(key: 'subscribed' | 'staffContact', { name, capability }: Provider, estimate: number): Promise<Listed> {
    let owners: Set<string> | null = null;
    const mark = steps.length;
    await step({ filter: key, capability: 'engagement', strategy: 'pushdown', candidates: null }, [{ source: name, calls: estimate }], async () => {
      const ids = await capability.recordIdsWhere!(key, loaders.account);
      if (!ids) return only([]);
      owners = new Set((await store.customersOfRecords(name, ids)).values());
      return only(owners);
    });
    const at = steps.findIndex((x, i) => i >= mark && x.filter === key && x.strategy === 'pushdown' && x.sources[0]?.source === name);
    if (owners === null && at >= 0) steps.splice(at, 1);
    return { owners, step: owners && at >= 0 ? steps[at] : null };
  }

  /**
   * Listings started ahead of their leaf by an `and` (see there), per filter key and source,
   * until the leaf takes them: a cold listing then runs alongside the conditions answered whole
   * instead of after them. Steps a leaf took from here, per leaf: its result is theirs too.
   */
  const ahead = new Map<string, Promise<Listed>>();
  const takenSteps = new Map<Leaf, PlanStep[]>();

  /** Starts the listings the engagement leaves under `n` will need, when not kept now (a kept one costs no call). */
  async function startListings(n: FilterNode): Promise<Array<Promise<unknown>>> {
    const keys = new Set<'subscribed' | 'staffContact'>();
    const walk = (x: FilterNode): void => {
      if (x.op === 'leaf') {
        if (x.leaf.kind === 'engagement') keys.add(x.leaf.key);
      } else if (x.op === 'not') walk(x.child);
      else if (x.op === 'and' || x.op === 'or') x.children.forEach(walk);
    };
    walk(n);
    const started: Array<Promise<unknown>> = [];
    for (const key of keys) {
      for (const p of registry.providing('engagement')) {
        if (!p.capability.recordIdsWhere || !p.capability.recordIdsWhereCalls) continue;
        const estimate = (await pushdownCalls(p.name, p.capability.recordIdsWhereCalls)) ?? 0;
        const k = `${key}\u0000${p.name}`;
        if (estimate === 0 || ahead.has(k)) continue;
        const run = runListing(key, p, estimate);
        run.catch(() => undefined); // the leaf taking it fails with it; one never taken (an `and` already empty) is only waited for
        ahead.set(k, run);
        started.push(run);
      }
    }
    return started;
  }

  /** Calls booked so far to the request's account, per source. */
  function snapshot(): Map<string, number> {
    return new Map([...loaders.account].map(([s, u]) => [s, u.calls]));
  }

  async function step(
    meta: Omit<PlanStep, 'matched' | 'complement' | 'sources' | 'ms'>,
    estimates: Array<{ source: SourceName; calls: number }>,
    run: () => Promise<CustomerSet>,
  ): Promise<CustomerSet> {
    halt();
    const before = snapshot();
    const started = performance.now();
    const result = await run();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const after = snapshot();
    // Steps of one leaf may run concurrently, each on its own sources: a step reports the sources it declared.
    const touched = new Set<string>(estimates.map((e) => e.source));
    steps.push({
      ...meta,
      matched: result.ids.size,
      complement: result.neg,
      ms,
      sources: [...touched].map((source) => ({
        source,
        estimatedCalls: sum(estimates.filter((e) => e.source === source).map((e) => e.calls)),
        actualCalls: (after.get(source) ?? 0) - (before.get(source) ?? 0),
      })),
    });
    return result;
  }

  // ---------- walking records and customers ----------

  /** The records `s` holds for the candidates (or for every customer OneID links to `s`), page by page. */
  async function* recordPages(s: SourceName, candidates: Set<string> | null): AsyncGenerator<Pair[]> {
    if (candidates) {
      const ids = [...candidates];
      for (let i = 0; i < ids.length; i += VERIFY_BATCH) {
        halt();
        const batch = ids.slice(i, i + VERIFY_BATCH);
        const lists = settled(await freshLoaders(loaders).sourceRecords.loadMany(batch));
        const pairs = lists
          .flat()
          .filter((r) => r.source === s)
          .map((r) => ({ recordId: r.recordId, customerId: r.customerId }));
        if (pairs.length) yield pairs;
      }
      return;
    }
    let after: string | null = null;
    for (;;) {
      halt();
      const page = await store.recordsOfSource(s, after, RECORD_PAGE);
      if (!page.length) return;
      yield page;
      after = page[page.length - 1].recordId;
    }
  }

  /** Candidates, or every active customer, in verification batches. */
  async function* customerBatches(candidates: Set<string> | null): AsyncGenerator<string[]> {
    if (candidates) {
      const ids = [...candidates].sort();
      for (let i = 0; i < ids.length; i += VERIFY_BATCH) {
        halt();
        yield ids.slice(i, i + VERIFY_BATCH);
      }
      return;
    }
    let after: string | null = null;
    for (;;) {
      halt();
      const page = await store.activeIdsAfter(after, VERIFY_BATCH);
      if (!page.length) return;
      yield page;
      after = page[page.length - 1];
    }
  }

  /** As `verifyCustomers`, with a test that takes a whole batch (answers in its order; an error leaves that customer undecided). */
  async function verifyBatches(filter: string, candidates: Set<string> | null, test: (l: Loaders, ids: string[]) => Promise<Array<boolean | Error>>): Promise<CustomerSet> {
    const out = new Set<string>();
    const unknown = new Set<string>();
    for await (const batch of customerBatches(candidates)) {
      const ok = await test(freshLoaders(loaders), batch);
      batch.forEach((id, i) => {
        const v = ok[i];
        if (v instanceof Error) undecide(filter, v, id, unknown);
        else if (v) out.add(id);
      });
    }
    return only(out, unknown);
  }

  /** The customers satisfying `test`, and those a source's error left undecided, one fresh loader set per batch of customers. */
  async function verifyCustomers(filter: string, candidates: Set<string> | null, test: (l: Loaders, id: string) => Promise<boolean>): Promise<CustomerSet> {
    const out = new Set<string>();
    const unknown = new Set<string>();
    for await (const batch of customerBatches(candidates)) {
      const l = freshLoaders(loaders);
      const ok = await Promise.all(batch.map((id) => test(l, id).catch((e: unknown) => (undecide(filter, e, id, unknown), false))));
      batch.forEach((id, i) => ok[i] && out.add(id));
    }
    return only(out, unknown);
  }

  // ---------- commerce ----------

  interface Facts {
    orders: number;
    /** Net spend in cents per ISO 4217 currency: money is never added across currencies. */
    spent: Map<string, number>;
    firstOrderAt: string | null;
    lastOrderAt: string | null;
  }

  /** A customer's lifetime value in `currency` (cents), or null when some of its orders are in another one (no rate is guessed). */
  const valueIn = (f: Facts, currency: string): number | null => ([...f.spent.keys()].some((c) => c !== currency) ? null : (f.spent.get(currency) ?? 0));

  /**
   * Per customer, the order facts summed over every commerce source and record, spend per currency;
   * and the customers whose facts a source could not give whole (verified sources: a failed chunk, a bad row).
   */
  async function commerceFacts(key: string, query: OrderFactQuery, candidates: Set<string> | null): Promise<{ facts: Map<string, Facts>; unknown: Set<string> }> {
    const out = new Map<string, Facts>();
    const unknown = new Set<string>();
    const add = (customerId: string, f: { orders: number; spentCents: number; currency: string | null; firstOrderAt: string | null; lastOrderAt: string | null }) => {
      let had = out.get(customerId);
      if (!had) out.set(customerId, (had = { orders: 0, spent: new Map(), firstOrderAt: null, lastOrderAt: null }));
      had.orders += f.orders;
      // An account without a counted order spent nothing, in any currency: it makes no money mixed (as accountsToSum).
      if (f.currency !== null && f.orders > 0) had.spent.set(f.currency, (had.spent.get(f.currency) ?? 0) + f.spentCents);
      if (f.firstOrderAt && (!had.firstOrderAt || f.firstOrderAt < had.firstOrderAt)) had.firstOrderAt = f.firstOrderAt;
      if (f.lastOrderAt && (!had.lastOrderAt || f.lastOrderAt > had.lastOrderAt)) had.lastOrderAt = f.lastOrderAt;
    };
    // Every commerce figure ends at the request time (`before: placedBy`), as an order summary does:
    // that end alone is no filter, and the summaries (which carry the money) answer it.
    const filtered = !!(query.since || (query.before && query.before !== placedBy) || query.channels?.length || query.categories?.length);
    // Each source in its own step, all at once: the slowest listing sets the pace, not their sum.
    await Promise.all(
      registry.providing('commerce').map(async ({ name, capability }) => {
        if (capability.orderFacts) {
          const estimate = (await pushdownCalls(name, capability.orderFactsCalls)) ?? 1;
          await step({ filter: key, capability: 'commerce', strategy: 'pushdown', candidates: null }, [{ source: name, calls: estimate }], async () => {
            const facts = await capability.orderFacts!(query, loaders.account);
            const owners = await store.customersOfRecords(
              name,
              facts.map((f) => f.recordId),
            );
            for (const f of facts) {
              const c = owners.get(f.recordId);
              if (c && (!candidates || candidates.has(c))) add(c, f);
            }
            return only(new Set([...owners.values()]));
          });
          return;
        }
        const operations = filtered && query.categories?.length ? 2 : 1;
        const estimate = await verifyCalls(name, candidates?.size ?? null, operations);
        await step({ filter: key, capability: 'commerce', strategy: 'verify', candidates: candidates?.size ?? null }, [{ source: name, calls: estimate }], async () => {
          const seen = new Set<string>();
          for await (const pairs of recordPages(name, candidates)) {
            const l = freshLoaders(loaders);
            const ids = pairs.map((p) => p.recordId);
            if (!filtered) {
              const summaries = await l.orderSummaries(name).loadMany(ids);
              pairs.forEach((p, i) => {
                const s = summaries[i];
                if (s instanceof Error) return undecide(key, s, p.customerId, unknown);
                if (!s) return;
                seen.add(p.customerId);
                add(p.customerId, {
                  orders: s.orderCount,
                  spentCents: toCents(s.totalSpent),
                  currency: s.totalSpent.currency,
                  firstOrderAt: s.firstOrderAt,
                  lastOrderAt: s.lastOrderAt,
                });
              });
              continue;
            }
            const lists = await l.orders(name, { since: query.since ?? null }).loadMany(ids);
            const kept = pairs.map((p, i) => {
              const list = lists[i];
              const bad = list instanceof Error ? list : firstBad(list);
              if (bad) return (undecide(key, bad, p.customerId, unknown), []);
              return settled(list as Exclude<typeof list, Error>).filter(
                (o) => o.status !== 'cancelled' && (!query.before || o.placedAt < query.before) && (!query.channels?.length || query.channels.includes(o.channel)),
              );
            });
            let withCategory: Array<(typeof kept)[number]> = kept;
            if (query.categories?.length) {
              const owners = kept.flatMap((os, i) => os.map(() => pairs[i].customerId));
              const lines = await l.orderLines(name).loadMany(kept.flat().map((o) => o.id));
              const hit = new Set<string>();
              kept.flat().forEach((o, i) => {
                const ls = lines[i];
                const bad = ls instanceof Error ? ls : firstBad(ls);
                if (bad) return undecide(key, bad, owners[i], unknown);
                if (settled(ls as Exclude<typeof ls, Error>).some((x) => query.categories!.includes(x.category))) hit.add(o.id);
              });
              withCategory = kept.map((os) => os.filter((o) => hit.has(o.id)));
            }
            pairs.forEach((p, i) => {
              const os = withCategory[i];
              if (!os.length) return;
              seen.add(p.customerId);
              // Spend is not read here (only unfiltered facts answer lifetime value).
              add(p.customerId, {
                orders: os.length,
                spentCents: 0,
                currency: null,
                firstOrderAt: os.reduce<string | null>((m, o) => (!m || o.placedAt < m ? o.placedAt : m), null),
                lastOrderAt: os.reduce<string | null>((m, o) => (!m || o.placedAt > m ? o.placedAt : m), null),
              });
            });
          }
          return only(seen, unknown);
        });
      }),
    );
    return { facts: out, unknown };
  }

  // ---------- per-record views (service, engagement) ----------

  /**
   * Per customer, what `read` answers for its records in every source providing `cap`, verified in
   * batches; and the customers one of whose records a source could not read (an error in its place).
   */
  async function perCustomer<V>(
    key: string,
    cap: 'service' | 'engagement',
    candidates: Set<string> | null,
    read: (l: Loaders, s: SourceName, ids: string[]) => Promise<Array<V[] | Error>>,
  ): Promise<{ values: Map<string, V[]>; unknown: Set<string> }> {
    const out = new Map<string, V[]>();
    const unknown = new Set<string>();
    for (const name of providing(cap)) {
      const estimate = await verifyCalls(name, candidates?.size ?? null);
      await step({ filter: key, capability: cap, strategy: 'verify', candidates: candidates?.size ?? null }, [{ source: name, calls: estimate }], async () => {
        for await (const pairs of recordPages(name, candidates)) {
          const values = await read(
            freshLoaders(loaders),
            name,
            pairs.map((p) => p.recordId),
          );
          pairs.forEach((p, i) => {
            const v = values[i];
            if (v instanceof Error) undecide(key, v, p.customerId, unknown);
            else out.set(p.customerId, [...(out.get(p.customerId) ?? []), ...v]);
          });
        }
        return only(out.keys(), unknown);
      });
    }
    return { values: out, unknown };
  }

  const tickets = (key: string, candidates: Set<string> | null) =>
    perCustomer<Ticket>(key, 'service', candidates, async (l, s, ids) =>
      (await l.tickets(s).loadMany(ids)).map((t) => (t instanceof Error ? t : (firstBad(t) ?? settled(t)))),
    );

  // ---------- RFM and lifecycle from the whole order base ----------

  type FigureLeaf = Extract<Leaf, { kind: 'insight' }>;

  /**
   * An RFM segment from every commerce source's order facts (`commerceFacts`: one statement, a
   * kept listing, or, for a source without a whole-base answer, its summaries in batches), scored
   * against the boundaries `Customer.rfm` is scored against. The facts are the summary's figures
   * RFM reads (counted orders by now, net spend, last order), so a customer is in the segment its
   * field names; calls follow the sources, never the candidates (until session 41 every candidate's
   * orders were read through the per-buyer operations: 200 of 212 calls on the demo world were the
   * marketplace's, 20 buyers a call).
   */
  async function rfmFromFacts(leaf: FigureLeaf, candidates: Set<string> | null): Promise<CustomerSet> {
    let boundaries: RfmBoundaries | null = null;
    // Kept across requests (insights/rfm-cache.ts), and answered stale while a refresh runs: only a
    // gateway's first computation waits for the sources, and only then does this step make calls
    // (a listing source's pages, which its order facts then read kept; one statement otherwise).
    // Until session 42 the step was estimated 0 whatever it made (54 calls cold on the demo world).
    const waiting = new Set(deps.boundariesWaiting?.() ?? []);
    const estimates = await Promise.all(
      registry.providing('commerce').map(async ({ name, capability }) => ({
        source: name,
        calls: !waiting.has(name) ? 0 : ((await pushdownCalls(name, capability.orderFacts ? capability.orderFactsCalls : undefined)) ?? 1),
      })),
    );
    await step({ filter: leaf.key, capability: 'commerce', strategy: 'pushdown', candidates: null }, estimates, async () => {
      boundaries = await loaders.rfmBoundaries.load('base');
      return only([]);
    });
    const b = boundaries as unknown as RfmBoundaries;
    const { facts, unknown } = await commerceFacts(leaf.key, { before: placedBy }, candidates);
    const segments = rules.lifecycle.rfm.segments;
    const yes = new Set<string>();
    const unread = new Set(unknown);
    for (const [c, f] of facts) {
      // Money in several currencies has no RFM (the field's error): in no segment, as with lifetimeValue.
      if (unknown.has(c) || f.orders === 0 || f.spent.size !== 1) continue;
      const [[currency, cents]] = [...f.spent];
      const lifetimeValue = moneyFromCents(cents, currency);
      try {
        if (!lifetimeValue) throw new SourceError('commerce', 'SOURCE_BAD_RESPONSE', `commerce: net spend in ${currency} is not money`);
        const r = rfmOf({ orderCount: f.orders, lastOrderAt: f.lastOrderAt, lifetimeValue }, b, segments, now);
        if (r && leaf.values.includes(r.segment)) yes.add(c);
      } catch (e) {
        // The customer's money against a base in another currency: no segment. Anything else of a source: undecided.
        if (!isIncomparableMoney(e)) undecide(leaf.key, e, c, unread);
      }
    }
    return only(yes, unread);
  }

  /**
   * A lifecycle stage from every commerce source's order facts (as `rfmFromFacts`): a customer with
   * a counted order is staged by its first and last, as `Customer.lifecycle` stages it; the
   * registration date (survivorship) is read only for the candidates without one, and only when
   * the leaf asks for NEW or PROSPECT, the only stages it decides. "Lapsed" customers (AT_RISK,
   * CHURNED) thus cost the order facts alone. Until session 41 every candidate's orders were read
   * per buyer: on the 12,000-person world an analyst's `lifecycleStage` was refused at 614 calls.
   */
  async function lifecycleFromFacts(leaf: FigureLeaf, candidates: Set<string> | null): Promise<CustomerSet> {
    const stages = rules.lifecycle.stages;
    const { facts, unknown } = await commerceFacts(leaf.key, { before: placedBy }, candidates);
    const yes = new Set<string>();
    const ordered = new Set<string>();
    for (const [c, f] of facts) {
      if (unknown.has(c) || f.orders === 0) continue;
      ordered.add(c);
      // Money in several currencies: no lifecycle (the field's error), in no stage.
      if (f.spent.size > 1) continue;
      const { stage } = lifecycleOf(stages, { orderCount: f.orders, firstOrderAt: f.firstOrderAt, lastOrderAt: f.lastOrderAt }, null, now);
      if (leaf.values.includes(stage)) yes.add(c);
    }
    if (!leaf.values.some((v) => v === 'NEW' || v === 'PROSPECT')) return only(yes, unknown);
    const unordered = new Set<string>();
    for await (const batch of customerBatches(candidates)) for (const c of batch) if (!ordered.has(c) && !unknown.has(c)) unordered.add(c);
    if (!unordered.size) return only(yes, unknown);
    const rule = rules.survivorship.registeredAt;
    const estimates = await Promise.all(rule.sources.map(async (source) => ({ source, calls: await verifyCalls(source, unordered.size) })));
    const registered = await step({ filter: leaf.key, capability: 'insights', strategy: 'verify', candidates: unordered.size }, estimates, () =>
      verifyBatches(leaf.key, unordered, (l, ids) =>
        Promise.all(
          ids.map(async (id) => {
            try {
              const registeredAt = ((await goldenDecision(l, rule, id)).chosen?.value as string | undefined) ?? null;
              return leaf.values.includes(lifecycleOf(stages, null, registeredAt, now).stage);
            } catch (e) {
              return e as Error;
            }
          }),
        ),
      ),
    );
    return only([...yes, ...registered.ids], [...unknown, ...registered.unknown]);
  }

  /**
   * For a `tag` leaf whose rules read orders only as figures (counts, windows, a positive lifetime
   * value: `vip`, `high_activity`), those figures of every candidate from the whole order base, one
   * `commerceFacts` per window, when every commerce source answers whole: per customer, what
   * `tagsFor` takes as `known` (its orders read already), or undefined for one read per customer
   * (money in several currencies: its own summary says so). Null: read per customer, as before
   * (rules on categories or RFM, a source without a whole-base answer, one that failed).
   */
  async function tagOrders(leaf: FigureLeaf, candidates: Set<string> | null): Promise<((id: string) => { orders: TagOrders | null } | undefined) | null> {
    const tagRules = rules.tags.filter((r) => leaf.values.some((name) => tagCanBe(r.tag, name)));
    if (!ordersReadAsFigures(tagRules) || !registry.providing('commerce').every((p) => p.capability.orderFacts)) return null;
    const windows = windowsOf(tagRules);
    try {
      const all = await commerceFacts(leaf.key, { before: placedBy }, candidates);
      const recent: Array<Map<string, Facts>> = [];
      for (const d of windows)
        recent.push((await commerceFacts(leaf.key, { since: new Date(Date.parse(now) - d * DAY_MS).toISOString(), before: placedBy }, candidates)).facts);
      const figures = new Map<string, TagOrders>();
      const own = new Set(all.unknown);
      for (const [c, f] of all.facts) {
        if (f.orders === 0 || own.has(c)) continue;
        const [[currency, cents]] = f.spent.size === 1 ? [...f.spent] : [['', 0] as [string, number]];
        const lifetimeValue = currency ? moneyFromCents(cents, currency) : null;
        if (!lifetimeValue) {
          own.add(c);
          continue;
        }
        figures.set(c, { orderCount: f.orders, lifetimeValue, recentOrders: new Map(windows.map((d, i) => [d, recent[i].get(c)?.orders ?? 0])) });
      }
      return (id) => (own.has(id) ? undefined : { orders: figures.get(id) ?? null });
    } catch (e) {
      if (!isSourceError(e)) throw e;
      return null;
    }
  }

  /**
   * For a `tag` leaf whose names only category rules give (`prefers_<category>`: at least N
   * counted orders with a line in the category), the candidates that have N counted orders at all,
   * from the whole order base (`commerceFacts`: the shop's statement, the marketplace's kept
   * listing), when every commerce source answers whole: no one with fewer can prefer a category,
   * so only those are read per customer (their category statistics, per buyer on the marketplace).
   * Until session 42 every candidate was: `prefers_beauty` made 114 calls on the demo world, 101 of
   * them the marketplace's per-buyer reads of 8,475 customers. `candidates` as they were when the
   * rules read more than categories, a source has no whole-base answer, or it failed.
   */
  async function categoryPool(leaf: FigureLeaf, candidates: Set<string> | null): Promise<Set<string> | null> {
    const tagRules = rules.tags.filter((r) => leaf.values.some((name) => tagCanBe(r.tag, name)));
    const floors = tagRules.map((r) => ('categoryOrders' in r.when ? r.when.categoryOrders.atLeast : 0));
    const floor = Math.min(...floors);
    const commerce = registry.providing('commerce');
    if (!tagRules.length || floor < 1 || !commerce.every((p) => p.capability.orderFacts)) return candidates;
    // A few candidates (beside a selective condition) cost less read whole than a cold listing.
    const whole = sum(await Promise.all(commerce.map(async (p) => (await pushdownCalls(p.name, p.capability.orderFactsCalls)) ?? 1)));
    const each = sum(await Promise.all(commerce.map((p) => verifyCalls(p.name, candidates?.size ?? null))));
    if (whole >= each) return candidates;
    try {
      const { facts, unknown } = await commerceFacts(leaf.key, { before: placedBy }, candidates);
      return new Set([...[...facts].filter(([, f]) => f.orders >= floor).map(([c]) => c), ...unknown]);
    } catch (e) {
      if (!isSourceError(e)) throw e;
      return candidates;
    }
  }

  // ---------- leaves ----------

  async function golden(leaf: Extract<Leaf, { kind: 'golden' }>, candidates: Set<string> | null): Promise<CustomerSet> {
    const rule = rules.survivorship[leaf.field];
    // Text as matchText compares it (any case, full-width as ASCII, whitespace runs as one): the
    // same answer whichever engine or collation the sources run on; flags as they are.
    const key = (v: string | boolean) => (typeof v === 'string' ? matchText(v) : v);
    const wanted = new Set(leaf.values.map(key));
    const matches = (v: unknown) => (typeof v === 'string' || typeof v === 'boolean') && wanted.has(key(v));
    let pool = candidates;
    if (!pool) {
      // Candidates: customers with a record holding the value; survivorship is verified on them below.
      pool = new Set<string>();
      for (const { name, capability } of registry.providing('profile')) {
        if (!capability.fields.includes(leaf.field)) continue;
        const found = pool;
        if (capability.recordIdsWhere) {
          const search = capability.recordIdsWhere;
          let searched = true;
          await step({ filter: leaf.key, capability: 'profile', strategy: 'pushdown', candidates: null }, [{ source: name, calls: 1 }], async () => {
            const pushed = await search(leaf.field, leaf.values, loaders.account);
            if (!pushed) return ((searched = false), only([]));
            const owners = await store.customersOfRecords(name, pushed);
            for (const c of owners.values()) found.add(c);
            return only(owners.values());
          });
          if (searched) continue;
          // The source cannot search this field (it made no call): that step did not happen.
          steps.pop();
        }
        const estimate = await verifyCalls(name, null);
        await step({ filter: leaf.key, capability: 'profile', strategy: 'verify', candidates: null }, [{ source: name, calls: estimate }], async () => {
          const hit = new Set<string>();
          for await (const pairs of recordPages(name, null)) {
            const views = await freshLoaders(loaders)
              .profile(name)
              .loadMany(pairs.map((p) => p.recordId));
            pairs.forEach((p, i) => {
              const v = views[i];
              // A record that could not be read may hold the value: its customer is verified below, as survivorship decides.
              if (v instanceof Error) {
                if (!isSourceError(v)) throw v;
                hit.add(p.customerId);
              } else if (v && matches(v.values[leaf.field])) hit.add(p.customerId);
            });
          }
          for (const c of hit) found.add(c);
          return only(hit);
        });
      }
    }
    const asked = pool;
    const estimates = await Promise.all(rule.sources.map(async (s) => ({ source: s, calls: await verifyCalls(s, asked.size) })));
    return step({ filter: leaf.key, capability: 'profile', strategy: 'verify', candidates: asked.size }, estimates, async () =>
      verifyCustomers(leaf.key, asked, async (l, id) => matches((await goldenDecision(l, rule, id)).chosen?.value)),
    );
  }

  /** A leaf's set; the steps it ran report what the leaf matched in the end (a range is applied after the facts are in). */
  async function leafSet(leaf: Leaf, candidates: Set<string> | null): Promise<CustomerSet> {
    const mark = steps.length;
    const result = await leafFacts(leaf, candidates);
    for (const s of [...steps.slice(mark), ...(takenSteps.get(leaf) ?? [])]) Object.assign(s, { matched: result.ids.size, complement: result.neg });
    return result;
  }

  async function leafFacts(leaf: Leaf, candidates: Set<string> | null): Promise<CustomerSet> {
    switch (leaf.kind) {
      case 'identifier':
        return step({ filter: leaf.key, capability: 'identity', strategy: 'oneid', candidates: null }, [], async () => {
          const ids = await store.customersWithIdentifierKinds(leaf.kinds);
          return leaf.present ? only(ids) : allBut(ids);
        });
      case 'golden':
        return golden(leaf, candidates);
      case 'orders': {
        const window = leaf.withinDays ? new Date(Date.parse(now) - leaf.withinDays * DAY_MS).toISOString() : null;
        const since = leaf.since && window ? (leaf.since > window ? leaf.since : window) : (leaf.since ?? window);
        const before = leaf.before && leaf.before < placedBy ? leaf.before : placedBy;
        const { facts, unknown } = await commerceFacts(leaf.key, { since, before, channels: leaf.channels, categories: leaf.categories }, candidates);
        const counts = new Map([...facts].map(([c, f]) => [c, f.orders]));
        // A source that did not answer can only add orders: a count already at `min` of an open range is decided.
        return inRange(counts, leaf.range.min, leaf.range.max, [], stillUnknown(unknown, counts, leaf.range.min, leaf.range.max));
      }
      case 'lifetimeValue': {
        const { facts, unknown } = await commerceFacts(leaf.key, { before: placedBy }, candidates);
        const values = new Map<string, number>();
        const elsewhere: string[] = [];
        for (const [c, f] of facts) {
          const v = valueIn(f, leaf.currency);
          if (v === null) elsewhere.push(c);
          else values.set(c, v);
        }
        // Undecided even when the answered sources' spend already reaches `min`: a source that did not
        // answer may hold orders in another currency, and then the customer has no value to compare.
        return inRange(values, leaf.minCents, leaf.maxCents, elsewhere, unknown);
      }
      case 'lastOrderAt': {
        const { facts, unknown } = await commerceFacts(leaf.key, { before: placedBy }, candidates);
        const yes = [...facts]
          .filter(([, f]) => f.orders > 0 && f.lastOrderAt && (!leaf.after || f.lastOrderAt >= leaf.after) && (!leaf.before || f.lastOrderAt < leaf.before))
          .map(([c]) => c);
        // A source that did not answer can only make the last order later: with no `before`, one already after `after` is decided.
        const settledYes = new Set(leaf.before ? [] : yes);
        return only(
          yes,
          [...unknown].filter((c) => !settledYes.has(c)),
        );
      }
      case 'openTickets': {
        const { values: per, unknown } = await tickets(leaf.key, candidates);
        const open = new Map([...per].map(([c, ts]) => [c, ts.filter((t) => !DONE_TICKET.has(t.status)).length]));
        // As with orders: the tickets of a source that did not answer can only add to the count.
        return inRange(open, leaf.range.min, leaf.range.max, [], stillUnknown(unknown, open, leaf.range.min, leaf.range.max));
      }
      case 'lastSatisfaction': {
        const { values: per, unknown } = await tickets(leaf.key, candidates);
        const last = new Map<string, number>();
        for (const [c, ts] of per) {
          const rated = ts
            .filter((t) => t.satisfactionScore !== null)
            .sort((a, b) => (a.updatedAt !== b.updatedAt ? (a.updatedAt < b.updatedAt ? 1 : -1) : b.id.length - a.id.length || (a.id < b.id ? 1 : -1)));
          if (rated.length) last.set(c, rated[0].satisfactionScore as number);
        }
        const { min, max } = leaf.range;
        return only(
          [...last].filter(([, n]) => (min === null || n >= min) && (max === null || n <= max)).map(([c]) => c),
          unknown,
        );
      }
      case 'engagement': {
        // Any source saying yes settles a customer. Sources that list (pushdown) go first when their
        // listing is kept (no call): the ones that must be read are then asked only about the
        // candidates not settled yet. Otherwise both run at once: the listing's round trips and the
        // reads overlap, for a few more records read.
        const yes = new Set<string>();
        // Customers a source could not read for: undecided unless another source says yes.
        const unread = new Set<string>();
        const test = (e: Engagement) => (leaf.key === 'subscribed' ? e.subscribed === true : e.staff.length > 0);
        const sources = registry.providing('engagement');
        const listing = sources.filter((x) => x.capability.recordIdsWhere);
        const estimates = new Map<string, number>();
        const early = new Map<string, Promise<Listed>>();
        for (const { name, capability } of listing) {
          const k = `${leaf.key}\u0000${name}`;
          const started = ahead.get(k);
          if (started) {
            early.set(name, started);
            ahead.delete(k);
          }
          estimates.set(name, (await pushdownCalls(name, capability.recordIdsWhereCalls)) ?? (await listCalls(name)));
        }
        const list = async (p: (typeof listing)[number]): Promise<boolean> => {
          const started = early.get(p.name);
          const { owners, step: done } = await (started ?? runListing(leaf.key, p, estimates.get(p.name)!));
          if (started && done) takenSteps.set(leaf, [...(takenSteps.get(leaf) ?? []), done]);
          if (!owners) return false;
          for (const c of owners) if (!candidates || candidates.has(c)) yes.add(c);
          return true;
        };
        const read = async (name: SourceName, pool: Set<string> | null) => {
          const estimate = await verifyCalls(name, pool?.size ?? null);
          await step({ filter: leaf.key, capability: 'engagement', strategy: 'verify', candidates: pool?.size ?? null }, [{ source: name, calls: estimate }], async () => {
            const hit = new Set<string>();
            for await (const pairs of recordPages(name, pool)) {
              const views = await freshLoaders(loaders)
                .engagement(name)
                .loadMany(pairs.map((p) => p.recordId));
              pairs.forEach((p, i) => {
                const v = views[i];
                if (v instanceof Error) undecide(leaf.key, v, p.customerId, unread);
                else if (v && test(v)) hit.add(p.customerId);
              });
            }
            for (const c of hit) yes.add(c);
            return only(yes);
          });
        };
        const unsettled = () => (candidates ? new Set([...candidates].filter((c) => !yes.has(c))) : null);
        // Kept, or started ahead of this leaf (by an `and`): listed first, and only the rest is read.
        const kept = listing.every((p) => estimates.get(p.name) === 0 || early.has(p.name));
        const readers = sources.filter((x) => !x.capability.recordIdsWhere).map((x) => x.name);
        let unlisted: SourceName[];
        if (kept) {
          const ok: boolean[] = [];
          for (const l of listing) ok.push(await list(l));
          unlisted = listing.filter((_, i) => !ok[i]).map((l) => l.name);
          for (const name of readers) await read(name, unsettled());
        } else {
          const [ok] = await Promise.all([Promise.all(listing.map(list)), Promise.all(readers.map((name) => read(name, candidates)))]);
          unlisted = listing.filter((_, i) => !ok[i]).map((l) => l.name);
        }
        for (const name of unlisted) await read(name, unsettled());
        const unknown = [...unread].filter((c) => !yes.has(c));
        return leaf.present ? only(yes, unknown) : allBut(yes, unknown);
      }
      case 'coupons': {
        // Only kinds with coupons answer; every other record holds none. Verified on the candidates.
        const yes = new Set<string>();
        const unread = new Set<string>();
        for (const { name, capability } of registry.providing('engagement')) {
          const unused = capability.unusedCoupons;
          if (!unused) continue;
          const estimate = await verifyCalls(name, candidates?.size ?? null);
          await step(
            { filter: leaf.key, capability: 'engagement', strategy: 'verify', candidates: candidates?.size ?? null },
            [{ source: name, calls: estimate }],
            async () => {
              for await (const pairs of recordPages(name, candidates)) {
                const counts = await freshLoaders(loaders)
                  .batch<number>(name, 'unusedCoupons', (ids, account) => unused(ids, account))
                  .loadMany(pairs.map((p) => p.recordId));
                pairs.forEach((p, i) => {
                  const n = counts[i];
                  if (n instanceof Error) undecide(leaf.key, n, p.customerId, unread);
                  else if (n > 0) yes.add(p.customerId);
                });
              }
              return only(yes);
            },
          );
        }
        const unknown = [...unread].filter((c) => !yes.has(c));
        return leaf.present ? only(yes, unknown) : allBut(yes, unknown);
      }
      case 'insight': {
        if (leaf.key === 'rfmSegment' || leaf.key === 'lifecycleStage') {
          try {
            return await (leaf.key === 'rfmSegment' ? rfmFromFacts(leaf, candidates) : lifecycleFromFacts(leaf, candidates));
          } catch (e) {
            // A whole-base answer that failed (a listing with an unreadable row, an SQL base refusing a
            // negative amount, the RFM base not readable): each customer is read as its own field reads
            // it, below, so one bad row leaves only its customers undecided.
            if (!isSourceError(e)) throw e;
          }
        }
        const known = leaf.key === 'tag' ? await tagOrders(leaf, candidates) : null;
        // A category preference is read per customer, but only of those with enough orders to have one.
        const pool = leaf.key === 'tag' ? await categoryPool(leaf, candidates) : candidates;
        const reads = insightSources(leaf, registry, rules, known !== null);
        const estimates = await Promise.all(
          registry.sources.filter((s) => reads.has(s.name)).map(async (s) => ({ source: s.name, calls: await verifyCalls(s.name, pool?.size ?? (await stats()).active, 2) })),
        );
        const insightHolds = async (l: Loaders, id: string) => {
          if (leaf.key === 'tag') {
            const { tags, undecided, error } = await tagsFor(l, rules, id, leaf.values, known?.(id));
            if (tags.some((t) => leaf.values.includes(t.name))) return true;
            // A rule that could give one of the tags is undecided: so is the customer.
            if (error && undecided.some((r) => leaf.values.includes(r.tag))) throw error;
            return false;
          }
          return leaf.values.includes((await rfmFor(l, rules, id))?.segment ?? '');
        };
        if (leaf.key === 'lifecycleStage') {
          // Per batch: the registration date is read only for the customers without orders (it decides only theirs).
          return step({ filter: leaf.key, capability: 'insights', strategy: 'verify', candidates: candidates?.size ?? null }, estimates, async () =>
            verifyBatches(leaf.key, candidates, async (l, ids) =>
              (await lifecyclesFor(l, rules, ids)).map((x) => (x instanceof Error ? (isIncomparableMoney(x) ? false : x) : leaf.values.includes(x.stage))),
            ),
          );
        }
        return step({ filter: leaf.key, capability: 'insights', strategy: 'verify', candidates: pool?.size ?? null }, estimates, async () =>
          verifyCustomers(leaf.key, pool, (l, id) =>
            insightHolds(l, id).catch((e: unknown) => {
              // Money in several currencies (the customer's, or its against the RFM base's) has no
              // insight: that customer does not match, as with lifetimeValue; the others answer.
              if (isIncomparableMoney(e)) return false;
              throw e;
            }),
          ),
        );
      }
    }
  }

  /** How costly a node is to evaluate unrestricted: 0 OneID, 1 pushdown, 2 verification of records, 3 of whole customers. */
  function rank(n: FilterNode): number {
    switch (n.op) {
      case 'all':
        return 0;
      case 'not':
        return rank(n.child);
      case 'and':
      case 'or':
        return Math.max(...n.children.map(rank));
      case 'leaf': {
        const l = n.leaf;
        if (l.kind === 'identifier') return 0;
        if (l.kind === 'insight') return 3;
        if (l.kind === 'golden') return 2;
        if (l.kind === 'orders' || l.kind === 'lifetimeValue' || l.kind === 'lastOrderAt') {
          return registry.providing('commerce').every((p) => p.capability.orderFacts) ? 1 : 2;
        }
        if (l.kind === 'engagement') return registry.providing('engagement').every((p) => p.capability.recordIdsWhere) ? 1 : 2;
        return 2;
      }
    }
  }

  /** The candidates a later condition of an `and` must look at: those `acc` holds, or has not decided (the later one may decide them false). */
  const restrict = (acc: CustomerSet, candidates: Set<string> | null): Set<string> | null => {
    const open = (x: string) => acc.unknown.has(x) || acc.ids.has(x) !== acc.neg;
    if (!acc.neg) {
      const held = acc.unknown.size ? new Set([...acc.ids, ...acc.unknown]) : acc.ids;
      return candidates ? new Set([...held].filter((x) => candidates.has(x))) : held;
    }
    return candidates ? new Set([...candidates].filter(open)) : null;
  };

  async function evaluate(n: FilterNode, candidates: Set<string> | null): Promise<CustomerSet> {
    switch (n.op) {
      case 'all':
        return everyone();
      case 'leaf':
        return leafSet(n.leaf, candidates);
      case 'not':
        return complement(await evaluate(n.child, candidates));
      case 'or': {
        let acc: CustomerSet = only([]);
        for (const c of n.children) acc = either(acc, await evaluate(c, candidates));
        return acc;
      }
      case 'and': {
        // Answered-whole conditions (OneID, pushdown) first, all at once and unrestricted; then each
        // verified one, cheapest class first, sees only what is left: the most selective set so far.
        const sorted = [...n.children].sort((a, b) => rank(a) - rank(b));
        const whole = sorted.filter((c) => rank(c) < 2);
        // Conditions of one capability run one after the other, so each step's calls per source are its own.
        const chains = new Map<string, Promise<unknown>>();
        const inTurn = (c: FilterNode) => {
          const owner = c.op === 'leaf' ? FILTER_FIELDS[c.leaf.key].owner : 'mixed';
          const p = (chains.get(owner) ?? Promise.resolve()).then(() => evaluate(c, candidates));
          chains.set(
            owner,
            p.catch(() => undefined),
          );
          return p;
        };
        // Listings the verified ones will need run meanwhile (their calls do not depend on the candidates).
        const verified = sorted.filter((x) => rank(x) >= 2);
        const started = whole.length ? (await Promise.all(verified.map(startListings))).flat() : [];
        let acc = (await Promise.all(whole.map(inTurn))).reduce(both, everyone());
        for (const c of verified) {
          if (!acc.neg && acc.ids.size === 0 && acc.unknown.size === 0) break;
          acc = both(acc, await evaluate(c, restrict(acc, candidates)));
        }
        // A listing started for a condition the walk never reached still ran: its step is in the plan when this answers.
        await Promise.allSettled(started);
        return acc;
      }
    }
  }

  return {
    steps,
    /** The customers matching `filter` that the caller may see; those it could not decide are in no set (see `undecided`). */
    async run(filter: FilterNode): Promise<CustomerSet> {
      const evaluated = await evaluate(filter, null);
      undecidedIds = evaluated.unknown;
      let result = decided(evaluated);
      if (deps.scope) {
        const scope = deps.scope;
        const filtered = result;
        const pool = restrict(result, null);
        const owning = registry.providing('profile').filter((p) => p.capability.owners);
        const estimates = await Promise.all(owning.map(async (p) => ({ source: p.name, calls: await verifyCalls(p.name, pool?.size ?? (await stats()).active) })));
        result = await step({ filter: 'rowScope', capability: 'rowScope', strategy: 'verify', candidates: pool?.size ?? null }, estimates, async () => {
          const out = new Set<string>();
          for await (const batch of customerBatches(pool)) {
            const ok = await scope(freshLoaders(loaders), batch);
            // A complement (pool null) walks every customer: only its members are kept.
            batch.forEach((id, i) => ok[i] && has(filtered, id) && out.add(id));
          }
          return only(out);
        });
        // Undecided customers outside the scope are not the caller's to count.
        const seen = new Set<string>();
        for await (const batch of customerBatches(undecidedIds)) {
          const ok = await scope(freshLoaders(loaders), batch);
          batch.forEach((id, i) => ok[i] && seen.add(id));
        }
        undecidedIds = seen;
      }
      return result;
    },
    /** Per filter key, source and code, how many customers the caller may see were left out because a source failed for them. */
    undecided(): Undecided[] {
      const out: Undecided[] = [];
      for (const u of undecidedBy.values()) {
        const left = u.filter === 'orderBy' ? unranked : undecidedIds;
        const customers = [...u.customers].filter((c) => left.has(c)).length;
        if (customers) out.push({ filter: u.filter, source: u.source, code: u.code, customers });
      }
      return out;
    },
    /**
     * For a value order (orderBy a measure of the order facts): per customer with orders, its
     * lifetime value in cents of `currency` (null where some orders are in another currency), its
     * counted orders, or its last order's time (ms); and `set` (what `run` answered) without the
     * customers whose facts a source could not give whole (a failed chunk, a row it could not read).
     * Those have no place in the ranking: they are undecided, as in a filter, neither listed nor
     * counted, and `undecided()` names them under the key `orderBy`.
     */
    async orderValues(measure: OrderMeasure, currency: string, set: CustomerSet): Promise<{ values: Map<string, number | null>; set: CustomerSet }> {
      const { facts, unknown } = await commerceFacts('orderBy', {}, null);
      // Only the set's members are the caller's to count (under a row scope, `set` holds only its own).
      const left = [...unknown].filter((c) => has(set, c));
      unranked = new Set(left);
      const of = (f: Facts): number | null =>
        measure === 'lifetimeValue' ? valueIn(f, currency) : measure === 'orderCount' ? f.orders : f.lastOrderAt === null ? null : Date.parse(f.lastOrderAt);
      const values = new Map([...facts].map(([c, f]) => [c, of(f)] as [string, number | null]));
      return { values, set: left.length ? decided({ ...set, unknown: new Set([...set.unknown, ...left]) }) : set };
    },
    plan(): Plan {
      const calls = steps.flatMap((s) => s.sources);
      const actual = calls.map((c) => c.actualCalls);
      const plan = { steps, estimatedCalls: sum(calls.map((c) => c.estimatedCalls ?? 0)), actualCalls: actual.some((a) => a === null) ? null : sum(actual as number[]) };
      return deps.scope ? withinScope(plan) : plan;
    },
  };
}

/**
 * The sources an insight leaf reads: the facts of the tag rules that can give its names (tagsFor
 * evaluates only those), commerce for an RFM segment, commerce and the registration date's
 * sources for a lifecycle stage. The step's estimate and the budget's count only these.
 */
function insightSources(leaf: Extract<Leaf, { kind: 'insight' }>, registry: Loaders['registry'], rules: InsightRules, ordersKnown = false): Set<SourceName> {
  const commerce = registry.providing('commerce').map((p) => p.name);
  const goldenSources = (fields: readonly string[]) => fields.flatMap((f) => rules.survivorship[f as keyof typeof rules.survivorship]?.sources ?? []);
  if (leaf.key === 'rfmSegment') return new Set(commerce);
  if (leaf.key === 'lifecycleStage') return new Set([...commerce, ...goldenSources(['registeredAt'])]);
  const needs = needsOf(rules.tags.filter((r) => leaf.values.some((name) => tagCanBe(r.tag, name))));
  return new Set([
    // Orders read whole beforehand (`ordersKnown`, see tagOrders) are not read per customer.
    ...((needs.orders && !ordersKnown) || needs.categories || needs.rfm || needs.accounts ? commerce : []),
    ...goldenSources(needs.golden),
    ...(needs.tickets ? registry.providing('service').map((p) => p.name) : []),
  ]);
}

/**
 * The plan as a row-scoped caller sees it. The conditions run over every customer and the scope
 * last, so their counts (and the calls that grow with them) describe customers outside the scope:
 * `{ phone: X }` would say whether X is anyone's number. Withheld: counts before the scope and
 * the calls made; kept: the steps, their strategies, the estimates (OneID's record counts, not
 * the filter's matches) and what the scope let through (the list's `totalCount`).
 */
function withinScope(plan: Plan): Plan {
  return {
    ...plan,
    estimatedCalls: null,
    actualCalls: null,
    steps: plan.steps.map((s) => ({
      ...s,
      candidates: null,
      matched: s.capability === 'rowScope' ? s.matched : null,
      // A verified step's estimate and its time follow the customers it was restricted to.
      ms: null,
      sources: s.sources.map((c) => ({ ...c, estimatedCalls: null, actualCalls: null })),
    })),
  };
}

/**
 * An estimate of a filter's source calls before anything runs (the role's cost guard): each
 * leaf as if it ran alone on every customer, except that the verified part of a leaf of an `and`
 * with an answered-whole sibling is taken at a tenth (what is answered over the whole base, a
 * statement or a listing's pages, costs the same however few the candidates). Reads only OneID's
 * counts and the listing sources' own page counts.
 */
export async function estimateCalls(
  filter: FilterNode,
  deps: { loaders: Loaders; store: BiStore; rules: InsightRules; scoped: boolean; valueOrder?: boolean; boundariesWaiting?: () => readonly SourceName[] },
): Promise<number> {
  const registry = deps.loaders.registry;
  const [records, active] = await Promise.all([deps.store.recordCounts(), deps.store.countActive()]);
  const full = (s: SourceName) => ceilDiv(records.get(s) ?? 0, registry.get(s)?.connector.maxBatch ?? 100);
  const over = (cap: CapabilityName) => sum(registry.providing(cap).map((p) => full(p.name)));
  // A listing pushdown (it counts its calls) costs its pages as last read, or two per hundred records before it was ever read.
  const pushdown = (cap: 'commerce') =>
    sum(
      registry
        .providing(cap)
        .map((p) => (!p.capability.orderFacts ? full(p.name) : p.capability.orderFactsCalls ? (p.capability.orderFactsCalls() ?? coldListing(p.name)) : 1)),
    );
  /**
   * A listing never read yet: its pages as the source says its listings' sizes are (`orderFactsPages`,
   * asked below before anything is charged), else two per hundred of its records. Until session 42
   * always the guess, under what buyers who trade more than once take: 38 for the 52 pages of the
   * demo world, 90 for 127 on a 12,000-person world, so a list over budget ran.
   */
  const asked = new Map<SourceName, number>();
  const coldListing = (s: SourceName) => asked.get(s) ?? 2 * listed(s);
  const listed = (s: SourceName) => Math.max(1, ceilDiv(records.get(s) ?? 0, 100));
  const engagement = () =>
    sum(
      registry
        .providing('engagement')
        .map((p) => (p.capability.recordIdsWhere ? (p.capability.recordIdsWhereCalls?.() ?? (p.capability.recordIdsWhereCalls ? 2 : 1) * listed(p.name)) : full(p.name))),
    );
  const coupons = () => sum(registry.providing('engagement').map((p) => (p.capability.unusedCoupons ? full(p.name) : 0)));
  const leaf = (l: Leaf): number => {
    switch (l.kind) {
      case 'identifier':
        return 0;
      case 'golden': {
        // As the planner runs it: the sources holding the field find candidates (one search, or
        // every record read), and survivorship is verified on them: at most every record of those
        // sources, when the value is everyone's (the estimate is a budget's bound, not a guess).
        const holders = registry.providing('profile').filter((p) => p.capability.fields.includes(l.field));
        const find = sum(holders.map((p) => (p.capability.searchable?.includes(l.field) ? 1 : full(p.name))));
        return find + sum(holders.map((p) => full(p.name)));
      }
      case 'orders':
      case 'lifetimeValue':
      case 'lastOrderAt':
        return pushdown('commerce');
      case 'openTickets':
      case 'lastSatisfaction':
        return over('service');
      case 'engagement':
        return engagement();
      case 'coupons':
        return coupons();
      case 'insight': {
        // Only the sources the leaf reads (a tag read only tickets was charged every source's records).
        const reads = insightSources(l, registry, deps.rules, tagFacts(l) !== null);
        return 2 * sum(registry.sources.filter((s) => reads.has(s.name)).map((s) => full(s.name)));
      }
    }
  };
  /**
   * An RFM segment or a lifecycle stage as the planner answers it (`rfmFromFacts`,
   * `lifecycleFromFacts`): every commerce source's order facts (a source without them: its
   * summaries, every record), and for NEW or PROSPECT the registration date's sources. The RFM
   * boundaries are kept across requests: charged only for the sources whose part is not kept now,
   * one statement each (a listing source's boundaries page the listing its order facts then read
   * kept: charged once, in those facts).
   */
  const figureCost = (l: Extract<Leaf, { kind: 'insight' }>): { whole: number; verified: number } => {
    const commerce = registry.providing('commerce');
    const waiting = new Set(l.key === 'rfmSegment' ? (deps.boundariesWaiting?.() ?? []) : []);
    const boundaries = commerce.filter((p) => waiting.has(p.name) && !(p.capability.orderFacts && p.capability.orderFactsCalls)).length;
    const whole =
      boundaries +
      sum(commerce.filter((p) => p.capability.orderFacts).map((p) => (p.capability.orderFactsCalls ? (p.capability.orderFactsCalls() ?? coldListing(p.name)) : 1)));
    let verified = sum(commerce.filter((p) => !p.capability.orderFacts).map((p) => full(p.name)));
    if (l.key === 'lifecycleStage' && l.values.some((v) => v === 'NEW' || v === 'PROSPECT')) verified += sum(deps.rules.survivorship.registeredAt.sources.map((s) => full(s)));
    return { whole, verified };
  };
  /** A tag whose orders the planner reads whole (its tagOrders, or categoryPool's counts): the order facts once, and once per window for a source of one statement; null for any other leaf. */
  const tagFacts = (l: Extract<Leaf, { kind: 'insight' }>): number | null => {
    if (l.key !== 'tag') return null;
    const tagRules = deps.rules.tags.filter((r) => l.values.some((name) => tagCanBe(r.tag, name)));
    if (!registry.providing('commerce').every((p) => p.capability.orderFacts)) return null;
    // A category preference: the order counts once (the planner's categoryPool), its category statistics per customer besides.
    if (tagRules.length && tagRules.every((r) => 'categoryOrders' in r.when)) return figureCost(l).whole;
    if (!ordersReadAsFigures(tagRules)) return null;
    return figureCost(l).whole + windowsOf(tagRules).length * sum(registry.providing('commerce').map((p) => (p.capability.orderFactsCalls ? 0 : 1)));
  };
  /** Whether a leaf under `n` is answered over the whole order base (a commerce condition, an RFM segment, a lifecycle stage, a tag read from order facts). */
  const readsOrderBase = (n: FilterNode): boolean => {
    if (n.op === 'leaf') {
      const l = n.leaf;
      if (l.kind === 'orders' || l.kind === 'lifetimeValue' || l.kind === 'lastOrderAt') return true;
      return l.kind === 'insight' && (l.key !== 'tag' || tagFacts(l) !== null);
    }
    if (n.op === 'not') return readsOrderBase(n.child);
    return n.op === 'and' || n.op === 'or' ? n.children.some(readsOrderBase) : false;
  };
  const cost = (n: FilterNode, restricted: boolean): number => {
    switch (n.op) {
      case 'all':
        return 0;
      case 'leaf': {
        const l = n.leaf;
        if (l.kind === 'insight' && (l.key === 'rfmSegment' || l.key === 'lifecycleStage')) {
          // The order facts answered whole cost the same however few the candidates; only the verified reads shrink with them.
          const { whole, verified } = figureCost(l);
          return whole + (restricted ? Math.ceil(verified / 10) : verified);
        }
        // A commerce condition and a tag's order facts are answered over the whole base (a statement, a
        // listing's pages): their cost does not shrink with the candidates. Until session 41 a
        // lifetimeValue or lastOrderAt beside a cheap condition was charged a tenth of its listing.
        const whole = l.kind === 'orders' || l.kind === 'lifetimeValue' || l.kind === 'lastOrderAt';
        if (l.kind === 'insight') return (tagFacts(l) ?? 0) + (restricted ? Math.ceil(leaf(l) / 10) : leaf(l));
        return restricted && l.kind !== 'identifier' && !whole ? Math.ceil(leaf(l) / 10) : leaf(l);
      }
      case 'not':
        return cost(n.child, restricted);
      case 'or':
        return sum(n.children.map((c) => cost(c, restricted)));
      case 'and': {
        const cheap = n.children.some((c) => c.op === 'leaf' && (c.leaf.kind === 'identifier' || c.leaf.kind === 'orders' || c.leaf.kind === 'lifetimeValue'));
        return sum(n.children.map((c) => cost(c, restricted || cheap)));
      }
    }
  };
  // A filter reading the order base over a listing never read asks the listing's size first (a call
  // or two, booked to the request): a refused list beats one that makes more calls than it was charged.
  if (deps.valueOrder || readsOrderBase(filter)) {
    await Promise.all(
      registry.providing('commerce').map(async ({ name, capability }) => {
        if (!capability.orderFacts || !capability.orderFactsPages || capability.orderFactsCalls?.() !== null) return;
        try {
          asked.set(name, await capability.orderFactsPages(deps.loaders.account));
        } catch (e) {
          // The source down: the listing would fail too; the guess stands for the estimate.
          if (!isSourceError(e)) throw e;
        }
      }),
    );
  }
  const owning = registry.providing('profile').filter((p) => p.capability.owners);
  // A value order reads every customer's commerce facts, whatever the filter (planner.orderValues).
  const ordering = deps.valueOrder ? pushdown('commerce') : 0;
  return cost(filter, false) + (deps.scoped ? sum(owning.map((p) => full(p.name))) : 0) + ordering + (active ? 0 : 0);
}
