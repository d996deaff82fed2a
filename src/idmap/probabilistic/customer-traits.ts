/**
 * What a whole customer holds that one person cannot hold twice: birthdays, and values of the
 * exclusive kinds (a resident id). The tier scores two records, but links their customers: a
 * pair of records with no birthday between them (`贾佳` and `贾嘉` sharing an email) may join two
 * customers whose other records were born on different days. The rules judge a link on the whole
 * customer (`conflictsBetween`); before an auto-link the tier weighs the customers' birthdays where
 * the two records had none to compare, and refuses two values of an exclusive kind, as the rules do.
 */
import type { Knex } from 'knex';
import type { IdentityRules } from '../rules';
import { BIRTH_LEVELS, compareBirthdays } from './compare';
import type { MatchFeatures } from './features';
import { comparedBeforeMerge, MAX_RECORDS } from './merge-check';
import { featuresOfRecords, recordsOfCustomers } from './store';

type BirthLevel = (typeof BIRTH_LEVELS)[number];

export interface CustomerTraits {
  /** Birthdays of its records, `YYYY-MM-DD` or `YYYY` (form defaults left out at staging). */
  births: ReadonlySet<string>;
  /** Values of each exclusive kind its records carry. */
  exclusive: ReadonlyMap<string, ReadonlySet<string>>;
  /** Its records carrying a name and a birthday, at most `MAX_RECORDS`: what the check before a merge compares (`merge-check.ts`). */
  records: readonly MatchFeatures[];
}

/** The traits of each customer, from its live records' stored features. */
export async function customerTraits(db: Knex, customerIds: readonly string[], rules: IdentityRules): Promise<Map<string, CustomerTraits>> {
  const out = new Map<string, { births: Set<string>; exclusive: Map<string, Set<string>>; records: MatchFeatures[] }>();
  if (!customerIds.length) return out;
  const records = await recordsOfCustomers(db, customerIds);
  const features = await featuresOfRecords(db, records);
  const exclusive = new Set<string>(rules.exclusiveKinds);
  for (const f of features.values()) {
    if (!f.customerId) continue;
    let t = out.get(f.customerId);
    if (!t) out.set(f.customerId, (t = { births: new Set(), exclusive: new Map(), records: [] }));
    if (f.birth) t.births.add(f.birth);
    if (comparedBeforeMerge(f) && t.records.length < MAX_RECORDS) t.records.push(f);
    for (const v of f.values) {
      if (!exclusive.has(v.kind)) continue;
      const held = t.exclusive.get(v.kind) ?? new Set<string>();
      t.exclusive.set(v.kind, held.add(v.key));
    }
  }
  return out;
}

/** One customer made of two. */
export function joinTraits(a: CustomerTraits | undefined, b: CustomerTraits | undefined): CustomerTraits | undefined {
  if (!a || !b) return a ?? b;
  const exclusive = new Map<string, ReadonlySet<string>>(a.exclusive);
  for (const [kind, values] of b.exclusive) exclusive.set(kind, new Set([...(exclusive.get(kind) ?? []), ...values]));
  return { births: new Set([...a.births, ...b.births]), exclusive, records: [...a.records, ...b.records].slice(0, MAX_RECORDS) };
}

/** An exclusive kind both customers hold with no value in common (two resident ids), or null. */
export function exclusiveApart(a: CustomerTraits | undefined, b: CustomerTraits | undefined, rules: IdentityRules): string | null {
  if (!a || !b) return null;
  for (const kind of rules.exclusiveKinds) {
    const [x, y] = [a.exclusive.get(kind), b.exclusive.get(kind)];
    if (x?.size && y?.size && ![...y].some((v) => x.has(v))) return kind;
  }
  return null;
}

/**
 * How the two customers' birthdays compare at best (`BIRTH_LEVELS`, best first: the same, swapped,
 * a year against its date, one digit off, different), or null when one side has none.
 */
export function birthdayLevel(a: CustomerTraits | undefined, b: CustomerTraits | undefined): BirthLevel | null {
  if (!a?.births.size || !b?.births.size) return null;
  let best = BIRTH_LEVELS.length - 1;
  for (const x of a.births)
    for (const y of b.births) {
      best = Math.min(best, BIRTH_LEVELS.indexOf(compareBirthdays(x, y)!));
      if (best === 0) return BIRTH_LEVELS[0];
    }
  return BIRTH_LEVELS[best];
}
