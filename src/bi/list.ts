/**
 * A customer list as `customersConnection`, `Segment.customers` and exports ask for it: guards
 * first (page size, filter grammar, the role's right to the fields it filters on, the cost
 * estimate), then the plan, then one page. Nothing reaches a source before every guard passed.
 */
import { randomBytes } from 'node:crypto';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { withLoaders, type Context } from '../context';
import { badUserInput, forbidden, queryTooComplex, undecidedCustomers } from '../errors';
import { freshLoaders, type BiDeps, type BiRole, type Loaders } from '../loaders';
import { customerPage, decodeCursor, evaluate, rankedBy, valuesRead, type CustomerOrder, type CustomerPage, type Evaluated } from './connection';
import { FILTER_FIELDS, forbiddenKeys, insightNames, parseFilter, type FilterNode, type InsightNames } from './filter';
import { estimateCalls, type Undecided } from './plan';
import { ruleReads } from '../insights/tags';
import type { InsightRules } from '../insights/rules';

/** What one estimated source call costs against a role's `maxCost` (a field costs 1; a call reads hundreds of records). */
export const COST_PER_SOURCE_CALL = 1000;

export interface ListArgs {
  filter?: unknown;
  first?: number | null;
  after?: string | null;
  orderBy?: CustomerOrder | null;
}

export function biOf(ctx: Context): BiDeps {
  const bi = ctx.loaders.bi;
  if (!bi) throw new GraphQLError('BI lists are not served by this server', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  return bi;
}

/** The OneID reads of the caller's lists: a role told of some systems only walks the customers known to one of them (BiRole.store). */
export function storeOf(ctx: Context) {
  return roleOf(ctx).store ?? biOf(ctx).store;
}

export function roleOf(ctx: Context): BiRole {
  const role = biOf(ctx).roleOf(ctx.viewer.role);
  if (!role) throw new GraphQLError('Missing or invalid credentials', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  return role;
}

/**
 * Parses a filter and refuses keys reading a Customer field the role's schema lacks, with the
 * error validation gives for selecting that field.
 */
export function checkedFilter(raw: unknown, schema: GraphQLSchema, path = 'filter', names?: InsightNames): FilterNode {
  const node = parseFilter(raw, path, names);
  const customer = schema.getType('Customer') as { getFields(): Record<string, unknown> } | undefined;
  const fields = customer?.getFields() ?? {};
  const refused = forbiddenKeys(node, (f) => f in fields);
  if (refused.length) {
    const field = FILTER_FIELDS[refused[0]].reads;
    // Named by its path, nested under `or`/`not` too (`filter.or[1].not.province`).
    const at = savedKeys(raw, path).find(({ key }) => key === refused[0])?.path ?? `${path}.${refused[0]}`;
    throw new GraphQLError(`Cannot query field "${field}" on type "Customer".`, {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', field: at, http: { status: 400 } },
    });
  }
  return node;
}

const namesByRules = new WeakMap<object, Map<string, InsightNames>>();
const rulesByRules = new WeakMap<InsightRules, Map<string, InsightRules>>();

/**
 * The insight rules as the caller's role is answered: only the tag rules reading nothing the role
 * does not read (`Customer.tags` would leave their tags out anyway), so their sources are not asked
 * for it, an outage of one (the helpdesk, for `unhappy`) cannot null its tags, and no note names
 * them. Without BI deps (a bare test context): every rule, the schema still filtering the tags.
 */
export function insightRulesFor(ctx: Context): InsightRules {
  const rules = ctx.insights.rules;
  const role = ctx.loaders.bi?.roleOf(ctx.viewer.role);
  if (!role) return rules;
  let byRole = rulesByRules.get(rules);
  if (!byRole) rulesByRules.set(rules, (byRole = new Map()));
  let own = byRole.get(ctx.viewer.role);
  if (!own) {
    const tags = rules.tags.filter((t) => ruleReads(t).every((f) => role.reads(f)));
    own = tags.length === rules.tags.length ? rules : { ...rules, tags };
    byRole.set(ctx.viewer.role, own);
  }
  return own;
}

/**
 * The tag and RFM segment names the gateway's rules give, which a filter's `tag` and `rfmSegment`
 * are checked against: for the caller's role, only the tags it is given (`Customer.tags` leaves out
 * a tag whose rule reads a field the role does not read, so `tag: "unhappy"` is no way round a
 * refused `lastSatisfaction`); another is an unknown tag, as an absent field is.
 */
export function insightNamesOf(ctx: Context): InsightNames {
  const rules = ctx.insights.rules;
  roleOf(ctx);
  let byRole = namesByRules.get(rules);
  if (!byRole) namesByRules.set(rules, (byRole = new Map()));
  let names = byRole.get(ctx.viewer.role);
  if (!names) {
    names = insightNames(
      insightRulesFor(ctx).tags.map((t) => t.tag),
      rules.lifecycle.rfm.segments.map((x) => x.name),
    );
    byRole.set(ctx.viewer.role, names);
  }
  return names;
}

/** The filter keys of a saved filter, however it is nested (`and`, `or`, `not`), read structurally: a filter saved before a rule it now breaks still names its keys. */
function savedKeys(raw: unknown, path: string, out: Array<{ key: string; path: string }> = []): Array<{ key: string; path: string }> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return out;
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'not') savedKeys(value, `${path}.not`, out);
    else if ((key === 'and' || key === 'or') && Array.isArray(value)) value.forEach((v, i) => savedKeys(v, `${path}.${key}[${i}]`, out));
    else if (Object.hasOwn(FILTER_FIELDS, key)) out.push({ key, path: `${path}.${key}` });
  }
  return out;
}

/**
 * A saved filter as the reader's role may see it. Its values are values of the fields its keys
 * read (`city: "杭州市"`, `province: "上海"`): a reader whose role cannot select one of those fields
 * is not shown the filter (FORBIDDEN, naming the key; deny by default), as it could neither save
 * nor run it. Until session 39 (2026-12-05) every role granted `segments` read every filter whole.
 */
export function readableFilter(raw: unknown, schema: GraphQLSchema, path: string): unknown {
  const customer = schema.getType('Customer') as { getFields(): Record<string, unknown> } | undefined;
  const fields = customer?.getFields() ?? {};
  const refused = savedKeys(raw, path).find(({ key }) => !(FILTER_FIELDS[key].reads in fields));
  if (refused) {
    throw forbidden(`${path} reads Customer.${FILTER_FIELDS[refused.key].reads}, which your role cannot select: the filter is not shown`, { field: refused.path });
  }
  return raw;
}

/**
 * An error of one field of one item in a list (a segment's size): the other items are answered,
 * so the response has data and keeps HTTP 200 (GraphQL over HTTP: a response with data is 2xx).
 * A refusal made for a root field carries a 400 for when it leaves no data; here it is dropped.
 */
export async function asFieldError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (!(e instanceof GraphQLError) || e.extensions.http === undefined) throw e;
    const { http: _status, ...extensions } = e.extensions;
    throw new GraphQLError(e.message, { extensions, originalError: e.originalError ?? undefined });
  }
}

/**
 * A value order sorts by the order summary's lifetime value, and its cursors carry that value: a
 * role that cannot select `orderSummary` may not sort by it, refused as selecting it would be.
 */
export function checkedOrder(order: CustomerOrder, schema: GraphQLSchema): CustomerOrder {
  const customer = schema.getType('Customer') as { getFields(): Record<string, unknown> } | undefined;
  if (order !== 'ID_ASC' && !('orderSummary' in (customer?.getFields() ?? {}))) {
    throw new GraphQLError('Cannot query field "orderSummary" on type "Customer".', {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', field: 'orderBy', http: { status: 400 } },
    });
  }
  return order;
}

/** The page size asked, within the role's limit. */
export function pageSize(first: number | null | undefined, role: BiRole, fallback = 100): number {
  const n = first ?? Math.min(fallback, role.maxPage);
  if (!Number.isInteger(n) || n < 1 || n > role.maxPage) throw badUserInput(`first must be between 1 and ${role.maxPage} for your role, got ${n}`, { argument: 'first' });
  return n;
}

/** The cost each request's lists have booked so far (keyed by its loaders, one set per request): aliased lists and many segments' sizes share one budget. */
const booked = new WeakMap<object, number>();

/**
 * What a list's evaluation is charged: `whole` its filter's calls (and a value order's reads),
 * `order` a value order's reads alone (another list of the request planned the filter), `page`
 * nothing but its page (another list planned both).
 */
export type Charge = 'whole' | 'order' | 'page';

/** Refuses a plan whose estimated source calls, with the lists this request planned before it, exceed the role's budget, before any source call. */
export async function checkCost(ctx: Context, node: FilterNode, role: BiRole, first: number, order: CustomerOrder = 'ID_ASC', charge: Charge = 'whole'): Promise<number> {
  const calls =
    charge === 'page'
      ? 0
      : await estimateCalls(charge === 'order' ? { op: 'all' } : node, {
          loaders: ctx.loaders,
          store: storeOf(ctx),
          rules: ctx.insights.rules,
          scoped: charge === 'whole' && !!role.scope,
          valueOrder: order !== 'ID_ASC',
          boundariesWaiting: () => ctx.insights.rfmBoundariesWaiting?.() ?? [],
        });
  const cost = calls * COST_PER_SOURCE_CALL + first;
  const before = booked.get(ctx.loaders) ?? 0;
  if (before + cost > role.maxCost) {
    const others = before ? ` with the lists this request planned before it (cost ${before})` : '';
    throw queryTooComplex(
      `${order === 'ID_ASC' ? 'the filter is' : 'the filter and its order are'} estimated at ${calls} source calls (cost ${cost})${others}, over your role's budget of ${role.maxCost}; narrow it with a more selective condition, or ask for a role with a larger maxCost (a source without a filter API answers a condition by listing its whole base, which no narrowing makes cheaper)`,
      {
        cost: before + cost,
        maxCost: role.maxCost,
      },
    );
  }
  booked.set(ctx.loaders, before + cost);
  return calls;
}

/**
 * A walk's later pages (those with `after`) reuse the evaluation its first page made, for up to
 * WALK_REUSE_MS: a 10,000-customer walk in pages of 500 plans once, not twenty times. Pages
 * still drop customers merged away since (connection.ts); a customer that only came to match
 * meanwhile shows up in walks started after that. A first page always evaluates afresh, and
 * a reused plan says so (`plan.reused`).
 *
 * Each walk has an id, and the cursors of its pages carry it: a page reuses the plan of its own
 * walk, never one another walk of the same filter made since (which could have decided other
 * customers: a source flaky between the two), and only when that plan was made for the same
 * filter, order, role and teams (a cursor is the client's to alter). A process that does not
 * hold the walk's plan (another replica made it) plans afresh and keeps it under the walk's id. A plan that left customers
 * undecided is reused too, so a walk is one answer: every page lists from the same decided set,
 * with the same `totalCount` and the same note of the customers it left out (planning each page
 * afresh listed, on later pages, some of them and never those before the cursor, while
 * `totalCount` counted them all). Per gateway, at most WALKS_KEPT plans, oldest dropped first;
 * a page whose plan is gone (expired, another replica) plans afresh.
 */
export const WALK_REUSE_MS = 60_000;
const WALKS_KEPT = 32;
const walks = new WeakMap<BiDeps, Map<string, { key: string; at: number; evaluated: Promise<Evaluated | null> }>>();
/** The id of each evaluation's plan (also of an export's, whose pages share it through `Context.listEvaluations`). */
const planIds = new WeakMap<Promise<Evaluated | null>, string>();

function walkCache(bi: BiDeps) {
  let m = walks.get(bi);
  if (!m) walks.set(bi, (m = new Map()));
  return m;
}

/**
 * The evaluations one request made, by (filter, order, role, teams), keyed by its loaders (one set
 * per request): a segment's `size` and its `customers`, or two aliased lists of one filter, plan it
 * once and are booked to the budget once (docs/bi.md).
 */
const requestEvaluations = new WeakMap<object, Map<string, Promise<Evaluated | null>>>();
/** The evaluation kept under `key`, or `make`'s, kept at once (before its first await), so lists resolved side by side share it. */
function planOnce(cache: Map<string, Promise<Evaluated | null>>, key: string, make: () => Promise<Evaluated | null>): Promise<Evaluated | null> {
  let p = cache.get(key);
  if (!p) {
    cache.set(key, (p = make()));
    // A refused or failed plan is not an answer for the next list of the request: it plans (and is refused) on its own.
    p.catch(() => cache.get(key) === p && cache.delete(key));
  }
  return p;
}

function evaluationsOf(ctx: Context): Map<string, Promise<Evaluated | null>> {
  // An export's pages share theirs across the export's requests (Context.listEvaluations).
  const exported = ctx.listEvaluations as Map<string, Promise<Evaluated | null>> | undefined;
  if (exported) return exported;
  let m = requestEvaluations.get(ctx.loaders);
  if (!m) requestEvaluations.set(ctx.loaders, (m = new Map()));
  return m;
}

const keyOf = (ctx: Context, node: FilterNode, order: CustomerOrder) => JSON.stringify([node, order, ctx.viewer.role, ctx.viewer.teams ?? []]);

/**
 * The filter's match for the caller, planned once per request (or export) whatever the order: a
 * segment's `size` and its `customers` by lifetime value read one. `charge` books it (before any
 * source call) when this call plans it; a count books nothing more when another list did.
 */
function matchOf(ctx: Context, role: BiRole, node: FilterNode, charge: () => Promise<unknown>): Promise<Evaluated | null> {
  return planOnce(evaluationsOf(ctx), keyOf(ctx, node, 'ID_ASC'), async () => {
    await charge();
    return evaluate(planDeps(ctx, role), node);
  });
}

/**
 * The evaluation a page lists from, and whether its calls were made for another list (its plan then
 * says `reused`). Whatever it plans is charged to the request's budget first, once: the filter's
 * calls (and a value order's reads) by the list that plans it, a value order's reads by the first
 * value order over a match another list planned, and every list its own page.
 * - An unfiltered, unscoped id walk reads OneID's pages: nothing to plan (null).
 * - An export's pages read the export's evaluation (Context.listEvaluations).
 * - A walk's later pages reuse the plan of its first page, for up to WALK_REUSE_MS.
 * - Else the lists of one request share one per (filter, order, viewer), and the match beneath it.
 */
async function evaluationFor(
  ctx: Context,
  role: BiRole,
  node: FilterNode,
  order: CustomerOrder,
  first: number,
  earlier: { key: string; at: number; evaluated: Promise<Evaluated | null> } | undefined,
): Promise<{ evaluated: Promise<Evaluated | null>; reused: boolean }> {
  if (node.op === 'all' && !role.scope && order === 'ID_ASC') return { evaluated: Promise.resolve(null), reused: false };
  const cache = evaluationsOf(ctx);
  const key = keyOf(ctx, node, order);
  const had = cache.get(key);
  if (had && ctx.listEvaluations) return { evaluated: had, reused: false };
  if (earlier && earlier.key === key && Date.now() - earlier.at < WALK_REUSE_MS) return { evaluated: earlier.evaluated, reused: true };
  if (had) {
    // Booked by the list that planned it (the request's lists are refused in the order they planned): only this page is.
    await had;
    await checkCost(ctx, node, role, first, order, 'page');
    return { evaluated: had, reused: true };
  }
  if (order === 'ID_ASC') return { evaluated: matchOf(ctx, role, node, () => checkCost(ctx, node, role, first, order)), reused: false };
  const shared = cache.get(keyOf(ctx, node, 'ID_ASC'));
  const evaluated = planOnce(cache, key, async () => {
    const match = await (shared ?? matchOf(ctx, role, node, () => checkCost(ctx, node, role, first, order)));
    if (!match) return null;
    // Over a match another list of this request planned (a segment's size): its values and page are booked now.
    if (shared) await checkCost(ctx, node, role, first, order, valuesRead(match, order) ? 'page' : 'order');
    return rankedBy(match, order);
  });
  return { evaluated, reused: false };
}

/** One page of the list, all guards applied. */
export async function listCustomers(ctx: Context, schema: GraphQLSchema, args: ListArgs, filterPath = 'filter'): Promise<CustomerPage> {
  const role = roleOf(ctx);
  const first = pageSize(args.first, role);
  const node = checkedFilter(args.filter ?? null, schema, filterPath, insightNamesOf(ctx));
  const order = checkedOrder(args.orderBy ?? 'ID_ASC', schema);
  const kept = walkCache(biOf(ctx));
  // A cursor that cannot continue this order is refused before anything is planned or called.
  const cursor = decodeCursor(args.after, order);
  const earlier = cursor?.p === undefined ? undefined : kept.get(cursor.p);
  const { evaluated, reused } = await evaluationFor(ctx, role, node, order, first, earlier);
  const key = keyOf(ctx, node, order);
  if ((await evaluated) !== null && !planIds.has(evaluated)) {
    // A failed plan (a source down, the client gone) is forgotten, or a later page would read its
    // null as "no filter, no row scope". One that left customers undecided is kept (see above).
    // A page of a walk whose plan this process does not hold (another replica made it, or it
    // expired) keeps the walk's id: the walk's next page here reuses this plan.
    const id = cursor?.p !== undefined && (!earlier || earlier.key === key) ? cursor.p : randomBytes(12).toString('base64url');
    const entry = { key, at: Date.now(), evaluated };
    planIds.set(evaluated, id);
    kept.delete(id);
    kept.set(id, entry);
    evaluated.catch(() => kept.get(id) === entry && kept.delete(id));
    const now = Date.now();
    for (const [k, e] of kept) if (kept.size > WALKS_KEPT || now - e.at >= WALK_REUSE_MS) kept.delete(k);
  }
  const page = await customerPage(storeOf(ctx), await evaluated, { first, after: args.after ?? null, order, planId: planIds.get(evaluated) });
  return reused ? { ...page, plan: () => ({ ...page.plan(), reused: true }) } : page;
}

/** How many customers a filter matches for the caller, and those it could not decide (in no count). */
export async function countCustomers(ctx: Context, schema: GraphQLSchema, filter: unknown, filterPath = 'filter'): Promise<{ count: number; undecided: Undecided[] }> {
  const role = roleOf(ctx);
  const node = checkedFilter(filter, schema, filterPath, insightNamesOf(ctx));
  // The list of this filter in the same request (a segment's `customers` beside its `size`, in any order) plans it once.
  const evaluated = await matchOf(ctx, role, node, () => checkCost(ctx, node, role, 0));
  return { count: await (await customerPage(storeOf(ctx), evaluated, { first: 1, after: null, order: 'ID_ASC' })).totalCount(), undecided: evaluated?.undecided ?? [] };
}

/** Says, beside the answer at `path`, which customers a list left out undecided (`Context.notices`). */
export function noteUndecided(ctx: Context, undecided: readonly Undecided[], path: ReadonlyArray<string | number>): void {
  for (const u of undecided) ctx.notices.push(undecidedCustomers(u, path));
}

/**
 * Under a row scope the conditions run over every customer and the scope last, so the calls they
 * make grow with customers outside it: the plan withholds them (plan.ts `withinScope`), and they
 * are booked to an account of their own, not to the request's `extensions.sources`, which would
 * otherwise tell a sales user whether anyone anywhere matches `{ city: X }`.
 */
function planDeps(ctx: Context, role: BiRole) {
  const scope = role.scope;
  return {
    loaders: scope ? freshLoaders(ctx.loaders, new Map()) : ctx.loaders,
    store: storeOf(ctx),
    rules: insightRulesFor(ctx),
    boundariesWaiting: () => ctx.insights.rfmBoundariesWaiting?.() ?? [],
    scope: scope ? (loaders: Loaders, ids: readonly string[]) => scope.call(role, withLoaders(ctx, loaders), ids) : undefined,
  };
}
