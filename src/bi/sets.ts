/**
 * Customer sets as the planner combines them: a set of OneID customer ids, or its complement
 * among the active customers (`neg`), so `not`, and ranges that admit zero ("at most 2 open
 * tickets"), never list the customers they do not name.
 */
export interface CustomerSet {
  ids: Set<string>;
  /** True: every active customer except `ids`. */
  neg: boolean;
}

export const everyone = (): CustomerSet => ({ ids: new Set(), neg: true });
export const only = (ids: Iterable<string>): CustomerSet => ({ ids: new Set(ids), neg: false });
export const allBut = (ids: Iterable<string>): CustomerSet => ({ ids: new Set(ids), neg: true });

const minus = (a: Set<string>, b: Set<string>) => new Set([...a].filter((x) => !b.has(x)));
const inter = (a: Set<string>, b: Set<string>) => (a.size <= b.size ? new Set([...a].filter((x) => b.has(x))) : new Set([...b].filter((x) => a.has(x))));

export function both(a: CustomerSet, b: CustomerSet): CustomerSet {
  if (!a.neg && !b.neg) return only(inter(a.ids, b.ids));
  if (!a.neg) return only(minus(a.ids, b.ids));
  if (!b.neg) return only(minus(b.ids, a.ids));
  return allBut(new Set([...a.ids, ...b.ids]));
}

export function either(a: CustomerSet, b: CustomerSet): CustomerSet {
  if (!a.neg && !b.neg) return only(new Set([...a.ids, ...b.ids]));
  if (!a.neg) return allBut(minus(b.ids, a.ids));
  if (!b.neg) return allBut(minus(a.ids, b.ids));
  return allBut(inter(a.ids, b.ids));
}

export const complement = (a: CustomerSet): CustomerSet => ({ ids: a.ids, neg: !a.neg });

/** Whether a customer is in the set. */
export const has = (s: CustomerSet, id: string) => s.ids.has(id) !== s.neg;

/**
 * A range test, as a set: the customers whose value (those in `values`; everyone else but
 * `never` counts as zero) lies in [min, max]; `never` (a value not comparable) is never in it.
 * When zero lies in the range the answer is a complement.
 */
export function inRange(values: ReadonlyMap<string, number>, min: number | null, max: number | null, never: Iterable<string> = []): CustomerSet {
  const ok = (n: number) => (min === null || n >= min) && (max === null || n <= max);
  const pick = (want: boolean) => [...values].filter(([, n]) => ok(n) === want).map(([id]) => id);
  return ok(0) ? allBut([...pick(false), ...never]) : only(pick(true));
}
