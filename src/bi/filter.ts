/**
 * The BI filter grammar (docs/bi.md): JSON, the same in GraphQL (`filter:`), in saved segments
 * and in export URLs. `parseFilter` checks it completely before anything is asked of a store or
 * a source and answers a tree of `and`/`or`/`not` over leaves; every mistake is BAD_USER_INPUT
 * whose `extensions.field` is the path to the offending key (`filter.orders.min`).
 *
 * Each leaf belongs to a capability (who can answer it) and reads one `Customer` field (who may
 * ask it): a role that may not select that field may not filter on it either (`forbiddenLeaves`).
 */
import { currencyCode, instantFromIso, minorDigits, moneyFromDecimal, toCents } from '../canonical';
import { badUserInput, quote } from '../errors';
import { SATISFACTION_SCALE, type ProfileField } from '../capabilities';
import type { IdentifierKind } from '../vocabulary';
import { tagCanBe } from '../insights/tags';

/** Where a leaf's answer comes from. */
export type LeafOwner = 'profile' | 'identity' | 'commerce' | 'service' | 'engagement' | 'insights';

export interface IntRange {
  min: number | null;
  max: number | null;
}

export type Leaf =
  | { kind: 'golden'; key: string; field: ProfileField; values: Array<string | boolean> }
  | { kind: 'identifier'; key: string; kinds: IdentifierKind[]; present: boolean }
  | {
      kind: 'orders';
      key: 'orders';
      range: IntRange;
      withinDays: number | null;
      since: string | null;
      before: string | null;
      channels: string[] | null;
      categories: string[] | null;
    }
  /** In `currency` (ISO 4217, default CNY): a customer with orders in another currency never matches. */
  | { kind: 'lifetimeValue'; key: 'lifetimeValue'; minCents: number | null; maxCents: number | null; currency: string }
  | { kind: 'lastOrderAt'; key: 'lastOrderAt'; after: string | null; before: string | null }
  | { kind: 'openTickets'; key: 'openTickets'; range: IntRange }
  | { kind: 'lastSatisfaction'; key: 'lastSatisfaction'; range: IntRange }
  | { kind: 'engagement'; key: 'subscribed' | 'staffContact'; present: boolean }
  | { kind: 'coupons'; key: 'couponUnused'; present: boolean }
  | { kind: 'insight'; key: 'tag' | 'rfmSegment' | 'lifecycleStage'; values: string[] };

export type FilterNode = { op: 'and' | 'or'; children: FilterNode[] } | { op: 'not'; child: FilterNode } | { op: 'leaf'; leaf: Leaf } | { op: 'all' };

/**
 * Longest `orders.withinDays` window: 100 years of days, further back than any order. The window
 * becomes an instant (now minus that many days): a billion days was no date at all (a RangeError,
 * 500), three million one before year 1 that the commerce sources refused as a `since` the
 * client never sent; saved in a segment, either broke each read of it.
 */
export const MAX_WITHIN_DAYS = 36_500;

/** Filter key → its owner and the `Customer` field whose data it reads (the access check). */
export const FILTER_FIELDS: Readonly<Record<string, { owner: LeafOwner; reads: string; describe: string }>> = {
  memberTier: { owner: 'profile', reads: 'memberTier', describe: 'golden membership tier is one of (text or list)' },
  city: { owner: 'profile', reads: 'city', describe: 'golden city is one of' },
  province: { owner: 'profile', reads: 'province', describe: 'golden province is one of' },
  gender: { owner: 'profile', reads: 'gender', describe: 'golden gender is one of MALE, FEMALE' },
  registrationChannel: { owner: 'profile', reads: 'registrationChannel', describe: 'golden registration channel is one of' },
  marketingConsent: { owner: 'profile', reads: 'marketingConsent', describe: '{ sms, email, wechat }: golden consent flags' },
  hasPhone: { owner: 'identity', reads: 'phone', describe: 'OneID holds a current phone identifier' },
  hasEmail: { owner: 'identity', reads: 'email', describe: 'OneID holds a current email identifier' },
  hasWechat: { owner: 'identity', reads: 'sourceRecords', describe: 'OneID holds a current openid or unionid' },
  orders: {
    owner: 'commerce',
    reads: 'orderSummary',
    describe: `{ min, max, withinDays (1 to ${MAX_WITHIN_DAYS}), since, before, channel, category }: counted orders`,
  },
  lifetimeValue: { owner: 'commerce', reads: 'orderSummary', describe: '{ min, max, currency }: net spend, decimal, in currency (default CNY)' },
  lastOrderAt: { owner: 'commerce', reads: 'orderSummary', describe: '{ after, before }: last counted order' },
  openTickets: { owner: 'service', reads: 'tickets', describe: '{ min, max }: tickets not solved or closed' },
  lastSatisfaction: {
    owner: 'service',
    reads: 'tickets',
    describe: `{ min, max } from ${SATISFACTION_SCALE.min} to ${SATISFACTION_SCALE.max}: score of the last rated ticket`,
  },
  subscribed: { owner: 'engagement', reads: 'engagement', describe: 'follows / is a contact in some channel now' },
  staffContact: { owner: 'engagement', reads: 'engagement', describe: 'is the contact of at least one staff member' },
  couponUnused: { owner: 'engagement', reads: 'engagement', describe: 'holds a coupon neither redeemed nor expired in some channel' },
  tag: { owner: 'insights', reads: 'tags', describe: 'carries one of the tags' },
  rfmSegment: { owner: 'insights', reads: 'rfm', describe: 'RFM segment is one of' },
  lifecycleStage: { owner: 'insights', reads: 'lifecycle', describe: 'lifecycle stage is one of' },
};

const GOLDEN: Record<string, ProfileField> = {
  memberTier: 'memberTier',
  city: 'city',
  province: 'province',
  gender: 'gender',
  registrationChannel: 'registrationChannel',
};
const CONSENT: Record<string, ProfileField> = { sms: 'marketingConsent.sms', email: 'marketingConsent.email', wechat: 'marketingConsent.wechat' };
const IDENTIFIER_KINDS: Record<string, IdentifierKind[]> = { hasPhone: ['PHONE'], hasEmail: ['EMAIL'], hasWechat: ['OPENID', 'UNIONID'] };

/** Most leaves one filter may hold, and its deepest nesting: a filter is checked before it costs anything. */
export const MAX_LEAVES = 50;
export const MAX_DEPTH = 8;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^-?\d{1,12}(\.\d{1,4})?$/;

const wrong = (path: string, expected: string, got: unknown) =>
  badUserInput(`${path}: expected ${expected}, got ${got === null ? 'null' : Array.isArray(got) ? 'a list' : typeof got}`, { field: path });

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function texts(path: string, v: unknown): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (!list.length || list.length > 100 || !list.every((x) => typeof x === 'string' && x.trim() !== '' && x.length <= 200)) {
    throw wrong(path, 'a non-empty text or a list of 1 to 100 non-empty texts', v);
  }
  return [...new Set(list.map((x) => (x as string).trim()))];
}

function bool(path: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw wrong(path, 'true or false', v);
  return v;
}

/** Largest count a range takes. */
const MAX_COUNT = 1_000_000_000;

function int(path: string, v: unknown, min = 0, max = MAX_COUNT): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw wrong(path, max === MAX_COUNT ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`, v);
  return v;
}

function instant(path: string, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  // The DateTime scalar's check (a calendar date, years 0001–9999 in UTC): the plan compares these as text.
  const iso = typeof v === 'string' && ISO.test(v) ? instantFromIso(v) : null;
  if (iso === null) throw wrong(path, 'an ISO-8601 instant with a zone (2026-01-01T00:00:00Z), a calendar date in years 0001–9999 UTC', v);
  return iso;
}

/** An amount in `currency`'s major unit (`"128.50"`, `128.5`, `"1500"` yen) as a count of its minor unit, as commerce sources sum them. */
function cents(path: string, v: unknown, currency: string): number | null {
  if (v === undefined || v === null) return null;
  // A JSON number is a binary fraction (59.97000000000001): read to the currency's digits, as a person meant it.
  const s = typeof v === 'number' && Number.isFinite(v) ? v.toFixed(minorDigits(currency)) : v;
  const money = typeof s === 'string' && DECIMAL.test(s) ? moneyFromDecimal(s, currency) : null;
  if (money === null) {
    const digits = minorDigits(currency);
    throw wrong(path, `an amount in ${currency} with at most ${digits} decimal${digits === 1 ? '' : 's'} ("128.50" or 128.5)`, v);
  }
  return toCents(money);
}

function only(path: string, v: Record<string, unknown>, keys: readonly string[]) {
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw badUserInput(`${path}.${quote(k)}: unknown field; ${path} takes ${keys.join(', ')}`, { field: `${path}.${quote(k)}` });
  }
}

function range(path: string, v: unknown, min = 0, max = MAX_COUNT): IntRange {
  if (!isObject(v)) throw wrong(path, '{ min, max }', v);
  only(path, v, ['min', 'max']);
  const r = { min: int(`${path}.min`, v.min, min, max), max: int(`${path}.max`, v.max, min, max) };
  if (r.min === null && r.max === null) throw badUserInput(`${path}: give min, max or both`, { field: path });
  return ordered(path, r.min, r.max, 'min', 'max');
}

/**
 * A range whose lower end lies above its upper end matches nobody: a mistake (the ends swapped), not a
 * question, and answering it cost the plan its source calls for an empty list. Refused, naming it.
 */
function ordered<T extends number | string>(path: string, low: T | null, high: T | null, lowName: string, highName: string): { min: T | null; max: T | null } {
  if (low !== null && high !== null && low > high) throw badUserInput(`${path}: ${lowName} is above ${highName}, so nothing can match; swap them?`, { field: path });
  return { min: low, max: high };
}

/**
 * The names an insight condition may take, from the rules the gateway runs: a tag a rule gives (a
 * `categoryOrders` rule's `prefers_{category}` any category), an RFM segment of lifecycle.json. Without
 * them (`parseFilter` alone), only lifecycle stages, a closed set, are checked.
 */
export interface InsightNames {
  tag: { holds(name: string): boolean; describe: string };
  rfmSegment: { holds(name: string): boolean; describe: string };
}

const STAGES = ['NEW', 'ACTIVE', 'AT_RISK', 'CHURNED', 'PROSPECT'] as const;
const LIFECYCLE_STAGES = { holds: (x: string) => (STAGES as readonly string[]).includes(x), describe: STAGES.join(', ') };
const FILTER_NOUNS = { tag: 'tag', rfmSegment: 'RFM segment', lifecycleStage: 'lifecycle stage' } as const;

/** The names the rules give: each tag rule's tag (a `{category}` template any category), each RFM segment. */
export function insightNames(tagNames: readonly string[], rfmSegments: readonly string[]): InsightNames {
  return {
    tag: { holds: (x) => tagNames.some((t) => tagCanBe(t, x)), describe: tagNames.join(', ') },
    rfmSegment: { holds: (x) => rfmSegments.includes(x), describe: rfmSegments.join(', ') },
  };
}

function leafOf(path: string, key: string, v: unknown, names?: InsightNames): FilterNode {
  const leaf = (l: Leaf): FilterNode => ({ op: 'leaf', leaf: l });
  // Own keys only: `constructor`, `toString` or `__proto__` is an unknown key, not one of Object's.
  if (Object.hasOwn(GOLDEN, key)) {
    const values = texts(path, v);
    if (key === 'gender') for (const g of values) if (g !== 'MALE' && g !== 'FEMALE') throw wrong(path, 'MALE or FEMALE (or a list of them)', g);
    return leaf({ kind: 'golden', key, field: GOLDEN[key], values });
  }
  switch (key) {
    case 'marketingConsent': {
      if (!isObject(v)) throw wrong(path, '{ sms, email, wechat } flags', v);
      only(path, v, Object.keys(CONSENT));
      const parts = Object.entries(v).map(([k, flag]) => leaf({ kind: 'golden', key, field: CONSENT[k], values: [bool(`${path}.${k}`, flag)] }));
      if (!parts.length) throw badUserInput(`${path}: give at least one of sms, email, wechat`, { field: path });
      return parts.length === 1 ? parts[0] : { op: 'and', children: parts };
    }
    case 'hasPhone':
    case 'hasEmail':
    case 'hasWechat':
      return leaf({ kind: 'identifier', key, kinds: IDENTIFIER_KINDS[key], present: bool(path, v) });
    case 'orders': {
      if (!isObject(v)) throw wrong(path, '{ min, max, withinDays, since, before, channel, category }', v);
      only(path, v, ['min', 'max', 'withinDays', 'since', 'before', 'channel', 'category']);
      const withinDays = int(`${path}.withinDays`, v.withinDays, 1, MAX_WITHIN_DAYS);
      const r = ordered(path, int(`${path}.min`, v.min), int(`${path}.max`, v.max), 'min', 'max');
      const window = ordered(path, instant(`${path}.since`, v.since), instant(`${path}.before`, v.before), 'since', 'before');
      return leaf({
        kind: 'orders',
        key,
        range: { min: r.min ?? (r.max === null ? 1 : null), max: r.max },
        withinDays,
        since: window.min,
        before: window.max,
        channels: v.channel === undefined ? null : texts(`${path}.channel`, v.channel),
        categories: v.category === undefined ? null : texts(`${path}.category`, v.category),
      });
    }
    case 'lifetimeValue': {
      if (!isObject(v)) throw wrong(path, '{ min, max, currency }', v);
      only(path, v, ['min', 'max', 'currency']);
      // The sources' own check (`currencyCode`): three letters ISO 4217 does not assign (`XBT`) have no known minor unit.
      const currency = v.currency === undefined ? 'CNY' : currencyCode(v.currency);
      if (currency === null) throw wrong(`${path}.currency`, 'an ISO 4217 code such as "CNY"', v.currency);
      const l = { minCents: cents(`${path}.min`, v.min, currency), maxCents: cents(`${path}.max`, v.max, currency), currency };
      if (l.minCents === null && l.maxCents === null) throw badUserInput(`${path}: give min, max or both`, { field: path });
      ordered(path, l.minCents, l.maxCents, 'min', 'max');
      return leaf({ kind: 'lifetimeValue', key, ...l });
    }
    case 'lastOrderAt': {
      if (!isObject(v)) throw wrong(path, '{ after, before } instants', v);
      only(path, v, ['after', 'before']);
      const l = { after: instant(`${path}.after`, v.after), before: instant(`${path}.before`, v.before) };
      if (l.after === null && l.before === null) throw badUserInput(`${path}: give after, before or both`, { field: path });
      ordered(path, l.after, l.before, 'after', 'before');
      return leaf({ kind: 'lastOrderAt', key, ...l });
    }
    case 'openTickets':
      return leaf({ kind: 'openTickets', key, range: range(path, v) });
    case 'lastSatisfaction':
      // On the one scale every service source's scores are mapped to: `{ min: 9 }` (a 0–10 habit)
      // matched nobody without a word, `{ max: 7 }` everybody rated.
      return leaf({ kind: 'lastSatisfaction', key, range: range(path, v, SATISFACTION_SCALE.min, SATISFACTION_SCALE.max) });
    case 'subscribed':
    case 'staffContact':
      return leaf({ kind: 'engagement', key, present: bool(path, v) });
    case 'couponUnused':
      return leaf({ kind: 'coupons', key, present: bool(path, v) });
    case 'tag':
    case 'rfmSegment':
    case 'lifecycleStage': {
      const values = texts(path, v);
      const known = key === 'lifecycleStage' ? LIFECYCLE_STAGES : names?.[key];
      // A name no rule gives (`champion` for `champions`, `active` for `ACTIVE`) matched nobody, after a
      // verification of every candidate's orders and tickets: refused before anything is read.
      const unknown = known ? values.find((x) => !known.holds(x)) : undefined;
      if (known && unknown !== undefined)
        throw badUserInput(`${path}: no ${FILTER_NOUNS[key]} is named ${JSON.stringify(unknown)}; they are ${known.describe}`, { field: path });
      return leaf({ kind: 'insight', key, values });
    }
  }
  throw badUserInput(`${path}: unknown filter field; filters take and, or, not, ${Object.keys(FILTER_FIELDS).join(', ')}`, { field: path });
}

/** Parses and checks a filter (null/undefined: every customer). Throws BAD_USER_INPUT naming the field. */
export function parseFilter(raw: unknown, root = 'filter', names?: InsightNames): FilterNode {
  let leaves = 0;
  const node = (path: string, v: unknown, depth: number): FilterNode => {
    if (depth > MAX_DEPTH) throw badUserInput(`${path}: filters nest at most ${MAX_DEPTH} deep`, { field: path });
    if (!isObject(v)) throw wrong(path, 'an object of filter fields', v);
    const parts: FilterNode[] = [];
    for (const [key, value] of Object.entries(v)) {
      // A key is named in errors (message and field) by its first MAX_QUOTED characters.
      const at = `${path}.${quote(key)}`;
      if (key === 'and' || key === 'or') {
        if (!Array.isArray(value) || value.length === 0 || value.length > MAX_LEAVES) throw wrong(at, `a list of 1 to ${MAX_LEAVES} filters`, value);
        parts.push({ op: key, children: value.map((c, i) => node(`${at}[${i}]`, c, depth + 1)) });
      } else if (key === 'not') {
        parts.push({ op: 'not', child: node(at, value, depth + 1) });
      } else {
        if (++leaves > MAX_LEAVES) throw badUserInput(`${root}: at most ${MAX_LEAVES} conditions`, { field: root });
        parts.push(leafOf(at, key, value, names));
      }
    }
    if (!parts.length) throw badUserInput(`${path}: an empty filter; omit it to list every customer`, { field: path });
    return parts.length === 1 ? parts[0] : { op: 'and', children: parts };
  };
  if (raw === null || raw === undefined) return { op: 'all' };
  return node(root, raw, 0);
}

/** Every leaf of a tree. */
export function leavesOf(n: FilterNode): Leaf[] {
  switch (n.op) {
    case 'all':
      return [];
    case 'leaf':
      return [n.leaf];
    case 'not':
      return leavesOf(n.child);
    default:
      return n.children.flatMap(leavesOf);
  }
}

/** The filter keys whose `Customer` field the role cannot select (`canSee('city')` false): each is refused as selecting it is. */
export function forbiddenKeys(n: FilterNode, canSee: (customerField: string) => boolean): string[] {
  return [...new Set(leavesOf(n).map((l) => l.key))].filter((k) => !canSee(FILTER_FIELDS[k].reads));
}
