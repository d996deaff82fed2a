/**
 * Rule-based tags (config/tags.json): each rule is a condition over facts about the customer,
 * and every tag it yields says which rule produced it and why. `needsOf` tells the caller which
 * facts the configured rules read, so only those sources are asked.
 *
 * Pure: no I/O.
 */
import { displayValue, type GoldenField, type GoldenValue } from '../golden/fields';
import { moneyFromDecimal, toCents } from '../canonical';
import type { Instant } from '../vocabulary';
import type { CategoryStat, Ticket } from '../capabilities';
import type { LeafCondition, TagCondition, TagRule } from './rules';
import { ordersWithin, type CustomerOrders } from './summary';

const DAY_MS = 86_400_000;

export interface Tag {
  name: string;
  /** The id of the rule that produced it. */
  rule: string;
  /** The rule's description. */
  description: string;
  /** The facts that met the rule, in words. */
  reason: string;
  /** The fields the reason's facts are taken from: a role that may not read one of them is not told the reason. */
  reasonFrom: ReasonOrigin[];
  /**
   * Every field the rule reads, whichever of its conditions held: the tag itself is their data
   * (`unhappy` says a ticket was rated 2 or lower), so a role that may not read one of them is not
   * given the tag (an `anyOf` tag with one condition the role reads tells it of the others).
   */
  from: readonly string[];
}

/** The fields a rule reads, whatever its answer: the tag's own classification (`Tag.from`). */
export function ruleReads(rule: TagRule): string[] {
  if ('categoryOrders' in rule.when) return ['OrderSummary.favouriteCategories'];
  const none: TagFacts = { now: '1970-01-01T00:00:00.000Z', accounts: [] };
  return [...new Set(leaves(rule.when).flatMap((l) => originsOf(l, none).filter((o): o is string => typeof o === 'string')))];
}

/**
 * A field a reason quotes: `Type.field`, or that field of one object where its classification
 * depends on a sibling (`SourceRecord.recordId` of a marketplace account is a buyer's pseudonym,
 * of a shop account a plain account number).
 */
export type ReasonOrigin = string | { ref: string; of: Readonly<Record<string, unknown>> };

/** The fields a leaf's reason is read from, for its classification. */
function originsOf(l: LeafCondition, facts: TagFacts): ReasonOrigin[] {
  if ('recentOrders' in l || 'orderCount' in l) return ['OrderSummary.orderCount'];
  if ('lifetimeValue' in l) return ['OrderSummary.lifetimeValue'];
  if ('golden' in l) return [l.golden.field.startsWith('marketingConsent.') ? `MarketingConsent.${l.golden.field.split('.')[1]}` : `Customer.${l.golden.field}`];
  if ('accountChannel' in l) {
    // The reason names the account: its record id, classified by its source.
    const hit = accountHit(l, facts);
    return ['Customer.registrationChannel', ...(hit ? [{ ref: 'SourceRecord.recordId', of: { source: hit.source } }] : [])];
  }
  if ('satisfaction' in l) return ['Ticket.satisfactionScore'];
  return ['Rfm.segment'];
}

const accountHit = (l: Extract<LeafCondition, { accountChannel: unknown }>, facts: TagFacts) =>
  (facts.accounts ?? missing('shop accounts')).find((a) => l.accountChannel.in.includes(a.channel));

/** What the rules may read. Each is loaded only if some rule needs it (see `needsOf`). */
/** One commerce account and its registration channel. */
export interface AccountFact {
  source: string;
  id: string;
  channel: string;
}

/** What tag rules read of a customer's orders (`recentOrders`, `orderCount`, `lifetimeValue`): an order summary's figures, or BI's whole-base order facts. */
export type TagOrders = Pick<CustomerOrders, 'orderCount' | 'lifetimeValue' | 'recentOrders'>;

export interface TagFacts {
  now: Instant;
  orders?: TagOrders | null;
  categories?: CategoryStat[];
  golden?: Partial<Record<GoldenField, GoldenValue | null>>;
  /** The customer's accounts in commerce sources and where each was registered (their profile's registration channel). */
  accounts?: AccountFact[];
  tickets?: Ticket[];
  /** The RFM segment; null in none; an error when the order base cannot be read (rules on it are then undecided). */
  rfmSegment?: string | null | Error;
}

export interface TagNeeds {
  orders: boolean;
  categories: boolean;
  golden: GoldenField[];
  accounts: boolean;
  tickets: boolean;
  rfm: boolean;
}

function leaves(c: TagCondition): LeafCondition[] {
  if ('anyOf' in c) return c.anyOf;
  if ('allOf' in c) return c.allOf;
  if ('categoryOrders' in c) return [];
  return [c];
}

export function needsOf(rules: readonly TagRule[]): TagNeeds {
  const n: TagNeeds = { orders: false, categories: false, golden: [], accounts: false, tickets: false, rfm: false };
  for (const rule of rules) {
    if ('categoryOrders' in rule.when) n.categories = true;
    for (const l of leaves(rule.when)) {
      if ('recentOrders' in l || 'orderCount' in l || 'lifetimeValue' in l) n.orders = true;
      if ('golden' in l && !n.golden.includes(l.golden.field)) n.golden.push(l.golden.field);
      if ('accountChannel' in l) n.accounts = true;
      if ('satisfaction' in l) n.tickets = true;
      if ('rfmSegment' in l) n.rfm = true;
    }
  }
  return n;
}

/**
 * Whether `rules` read a customer's orders only as figures a whole-base count answers: counted
 * orders, orders within a window, a lifetime value of at least a positive amount; no category and
 * no RFM segment (those read each customer's orders). Then a customer without a counted order
 * meets no order condition, whether its accounts answer a zero summary or none (BI lists).
 */
export function ordersReadAsFigures(rules: readonly TagRule[]): boolean {
  const needs = needsOf(rules);
  if (!needs.orders || needs.categories || needs.rfm) return false;
  return rules.every((r) =>
    leaves(r.when).every((l) => {
      if (!('lifetimeValue' in l)) return true;
      const atLeast = moneyFromDecimal(l.lifetimeValue.atLeast, l.lifetimeValue.currency);
      return atLeast !== null && toCents(atLeast) > 0;
    }),
  );
}

/**
 * Whether a rule's tag (`vip`, or a `prefers_{category}` template for any category) can be `name`.
 * A BI filter on tags evaluates only the rules that can give the names it asks for, so it reads only
 * their facts (`unhappy` asks the helpdesk alone, not every commerce source).
 */
export function tagCanBe(tag: string, name: string): boolean {
  const [head, tail] = tag.split('{category}');
  return tail === undefined ? name === tag : name.length > head.length + tail.length && name.startsWith(head) && name.endsWith(tail);
}

/** The windows (days) the rules count recent orders over: the order summary must count them too. */
export function windowsOf(rules: readonly TagRule[]): number[] {
  const out = new Set<number>();
  for (const rule of rules) for (const l of leaves(rule.when)) if ('recentOrders' in l) out.add(l.recentOrders.withinDays);
  return [...out];
}

function missing(what: string): never {
  throw new Error(`tag facts: ${what} was not loaded though a rule needs it (use needsOf)`);
}

/** A leaf whose fact could not be read: whether it holds is unknown (the fact's error says why). */
const UNKNOWN = Symbol('unknown');

/** Why the leaf holds, in words; null when it does not; UNKNOWN when its fact could not be read. */
function holds(l: LeafCondition, facts: TagFacts): string | null | typeof UNKNOWN {
  const now = Date.parse(facts.now);
  if ('recentOrders' in l) {
    const o = facts.orders === undefined ? missing('orders') : facts.orders;
    const n = o ? ordersWithin(o, l.recentOrders.withinDays) : 0;
    return n >= l.recentOrders.atLeast ? `${n} orders in the last ${l.recentOrders.withinDays} days` : null;
  }
  if ('orderCount' in l) {
    const o = facts.orders === undefined ? missing('orders') : facts.orders;
    const n = o?.orderCount ?? 0;
    return n >= l.orderCount.atLeast ? `${n} orders` : null;
  }
  if ('lifetimeValue' in l) {
    const o = facts.orders === undefined ? missing('orders') : facts.orders;
    // Money is compared in one currency only: 5000 yuan says nothing of 5000 dollars.
    if (!o || o.lifetimeValue.currency !== l.lifetimeValue.currency) return null;
    const threshold = moneyFromDecimal(l.lifetimeValue.atLeast, l.lifetimeValue.currency);
    return threshold && toCents(o.lifetimeValue) >= toCents(threshold) ? `lifetime value ${o.lifetimeValue.amount} ${o.lifetimeValue.currency} >= ${threshold.amount}` : null;
  }
  if ('golden' in l) {
    const g = facts.golden ?? missing('golden fields');
    const v = g[l.golden.field];
    if (v === undefined) missing(`golden ${l.golden.field}`);
    return v !== null && l.golden.in.includes(displayValue(v)) ? `${l.golden.field} is ${displayValue(v)}` : null;
  }
  if ('accountChannel' in l) {
    const hit = accountHit(l, facts);
    return hit ? `${hit.source} account ${hit.id} registered via ${hit.channel}` : null;
  }
  if ('satisfaction' in l) {
    const tickets = facts.tickets ?? missing('tickets');
    const from = now - l.satisfaction.withinDays * DAY_MS;
    // A rating's time is the ticket's last update (the helpdesk stamps ratings so; see SOURCES.md).
    const low = tickets
      .filter((t) => t.satisfactionScore !== null && t.satisfactionScore <= l.satisfaction.atMost)
      .filter((t) => Date.parse(t.updatedAt) >= from && Date.parse(t.updatedAt) <= now)
      .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
    return low.length ? `ticket ${low[0].id} rated ${low[0].satisfactionScore} on ${low[0].updatedAt.slice(0, 10)}` : null;
  }
  if ('rfmSegment' in l) {
    const seg = facts.rfmSegment === undefined ? missing('rfm') : facts.rfmSegment;
    if (seg instanceof Error) return UNKNOWN;
    return seg !== null && l.rfmSegment.in.includes(seg) ? `RFM segment ${seg}` : null;
  }
  return null;
}

/**
 * A category as the `{category}` of a tag: lower case, each run of anything but letters, digits
 * and `_` (in any script) one `_`. `Home & Garden` is `home_garden`, `美妆` stays `美妆`: ASCII
 * letters alone would turn every Chinese category into the same `_`.
 */
export const categoryTagPart = (category: string): string => category.toLowerCase().replace(/[^\p{L}\p{N}_]+/gu, '_');

/**
 * The tags the rules give, in rule order (a categoryOrders rule: its categories, favourites first).
 * A rule whose answer turns on a fact that could not be read (the RFM segment while the order base
 * is unreadable) gives no tag and is added to `undecided` instead: `anyOf` with another condition
 * that holds, or `allOf` with one that does not, is still decided.
 */
export function evaluateTags(rules: readonly TagRule[], facts: TagFacts, undecided: TagRule[] = []): Tag[] {
  const out: Tag[] = [];
  for (const rule of rules) {
    const c = rule.when;
    const from = ruleReads(rule);
    const tag = (name: string, reason: string, reasonFrom: ReasonOrigin[]) => out.push({ name, rule: rule.id, description: rule.description, reason, reasonFrom, from });
    if ('categoryOrders' in c) {
      const cats = facts.categories ?? missing('categories');
      for (const cat of cats)
        if (cat.orders >= c.categoryOrders.atLeast)
          tag(rule.tag.replace('{category}', categoryTagPart(cat.category)), `${cat.orders} orders with ${cat.category}`, ['OrderSummary.favouriteCategories']);
      continue;
    }
    if ('anyOf' in c) {
      const reasons = c.anyOf.map((l) => holds(l, facts));
      const i = reasons.findIndex((r) => typeof r === 'string');
      if (i >= 0) tag(rule.tag, reasons[i] as string, originsOf(c.anyOf[i], facts));
      else if (reasons.includes(UNKNOWN)) undecided.push(rule);
      continue;
    }
    if ('allOf' in c) {
      const reasons = c.allOf.map((l) => holds(l, facts));
      if (reasons.includes(null)) continue;
      if (reasons.includes(UNKNOWN)) undecided.push(rule);
      else
        tag(
          rule.tag,
          reasons.join('; '),
          c.allOf.flatMap((l) => originsOf(l, facts)),
        );
      continue;
    }
    const reason = holds(c, facts);
    if (reason === UNKNOWN) undecided.push(rule);
    else if (reason) tag(rule.tag, reason, originsOf(c, facts));
  }
  return out;
}
