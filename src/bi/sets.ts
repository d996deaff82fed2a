/**
 * Customer sets as the planner combines them: a set of OneID customer ids, or its complement
 * among the active customers (`neg`), so `not`, and ranges that admit zero ("at most 2 open
 * tickets"), never list the customers they do not name.
 *
 * Beside them, `unknown`: customers for whom a condition could not be decided (a source failed
 * for their records: one chunk of its call, a row it could not read). They are members of no set,
 * whatever `ids` says, and combine as Kleene's three-valued logic has it: unknown `and` false is
 * false, unknown `or` true is true, `not` unknown is unknown. So another condition still settles
 * them where it can, and a customer is never listed, nor left out under `not`, on a fact nobody read.
 */
export interface CustomerSet {
  ids: Set<string>;
  /** True: every active customer except `ids`. */
  neg: boolean;
  /** Customers whose membership is unknown: in no set, whatever `ids` and `neg` say. */
  unknown: Set<string>;
}

const none = () => new Set<string>();
export const everyone = (): CustomerSet => ({ ids: new Set(), neg: true, unknown: none() });
export const only = (ids: Iterable<string>, unknown: Iterable<string> = []): CustomerSet => ({ ids: new Set(ids), neg: false, unknown: new Set(unknown) });
export const allBut = (ids: Iterable<string>, unknown: Iterable<string> = []): CustomerSet => ({ ids: new Set(ids), neg: true, unknown: new Set(unknown) });

const minus = (a: Set<string>, b: Set<string>) => new Set([...a].filter((x) => !b.has(x)));
const inter = (a: Set<string>, b: Set<string>) => (a.size <= b.size ? new Set([...a].filter((x) => b.has(x))) : new Set([...b].filter((x) => a.has(x))));

/** Whether a customer is in the set (an unknown one is not). */
export const has = (s: CustomerSet, id: string) => !s.unknown.has(id) && s.ids.has(id) !== s.neg;
/** Whether a customer is known to be outside the set. */
const lacks = (s: CustomerSet, id: string) => !s.unknown.has(id) && s.ids.has(id) === s.neg;

export function both(a: CustomerSet, b: CustomerSet): CustomerSet {
  // Unknown in one and not known false in the other: still unknown.
  const unknown = new Set([...[...a.unknown].filter((x) => !lacks(b, x)), ...[...b.unknown].filter((x) => !lacks(a, x))]);
  if (!a.neg && !b.neg) return only(inter(a.ids, b.ids), unknown);
  if (!a.neg) return only(minus(a.ids, b.ids), unknown);
  if (!b.neg) return only(minus(b.ids, a.ids), unknown);
  return allBut(new Set([...a.ids, ...b.ids]), unknown);
}

export function either(a: CustomerSet, b: CustomerSet): CustomerSet {
  // Unknown in one and not known true in the other: still unknown. Known true in the other: in the
  // union's ids already (an unknown customer's own side adds nothing once the other says yes).
  const unknown = new Set([...[...a.unknown].filter((x) => !has(b, x)), ...[...b.unknown].filter((x) => !has(a, x))]);
  // Customers unknown on a side count as not in it, so the other side alone decides them.
  const [x, y] = [decided(a), decided(b)];
  if (!x.neg && !y.neg) return only(new Set([...x.ids, ...y.ids]), unknown);
  if (!x.neg) return allBut(minus(y.ids, x.ids), unknown);
  if (!y.neg) return allBut(minus(x.ids, y.ids), unknown);
  return allBut(inter(x.ids, y.ids), unknown);
}

export const complement = (a: CustomerSet): CustomerSet => ({ ids: a.ids, neg: !a.neg, unknown: a.unknown });

/** The set with its unknown customers out of `ids` (they are in no set), and `unknown` emptied: what a list pages through. */
export function decided(s: CustomerSet): CustomerSet {
  if (s.unknown.size === 0) return s;
  return s.neg ? allBut([...s.ids, ...s.unknown]) : only(minus(s.ids, s.unknown));
}

/**
 * A range test, as a set: the customers whose value (those in `values`; everyone else but
 * `never` and `unknown` counts as zero) lies in [min, max]; `never` (a value not comparable) is
 * never in it; `unknown` (a value that could not be read) is undecided. When zero lies in the
 * range the answer is a complement.
 */
export function inRange(
  values: ReadonlyMap<string, number>,
  min: number | null,
  max: number | null,
  never: Iterable<string> = [],
  unknown: Iterable<string> = [],
): CustomerSet {
  const ok = (n: number) => (min === null || n >= min) && (max === null || n <= max);
  const pick = (want: boolean) => [...values].filter(([, n]) => ok(n) === want).map(([id]) => id);
  return ok(0) ? allBut([...pick(false), ...never], unknown) : only(pick(true), unknown);
}

/**
 * The customers of `unknown` that stay undecided for a range over a value that unread records can
 * only raise (a count of orders, of open tickets: every source adds its own, none takes away).
 * `known` holds what the sources that answered give. With no `max`, a customer whose known value
 * already reaches `min` is in the range whatever the unread records hold: it is decided. With a
 * `max`, or short of `min`, the rest could change the answer: it stays undecided.
 */
export function stillUnknown(unknown: Iterable<string>, known: ReadonlyMap<string, number>, min: number | null, max: number | null): string[] {
  if (max !== null) return [...unknown];
  return [...unknown].filter((c) => (known.get(c) ?? 0) < (min ?? 0));
}
