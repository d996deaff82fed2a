/**
 * The comparisons of the Fellegi-Sunter model: for two records, each answers one of its
 * levels (best agreement first) or null when either side does not know (a missing value
 * weighs nothing: neither for nor against).
 */
import { compareNames, nameGroupKey, NAME_LEVELS, type NameLevel } from './names';
import { emailNamesOther } from './names-email';
import { addressWords, houseNumber, sameCity, samePlace, type HeldValue, type MatchFeatures } from './features';
import { jaroWinkler } from './strings';

export interface Comparison {
  name: string;
  levels: readonly string[];
  compare(a: MatchFeatures, b: MatchFeatures): string | null;
  /**
   * A trait (name, birthday, gender, place): how often two different people agree by chance
   * follows from how its values are spread among the customers, and is counted on the store's
   * own records when the rules say so (`store-chance.ts`). Identifiers are not: two people
   * share one through a household or a reused number, which random pairs almost never draw, so
   * their u stays the weights file's.
   */
  trait: boolean;
  /** A key every two records at the best level share (others may too; null: not known), so that all such pairs can be found by grouping (`chance.ts`). */
  groupKey?: (r: MatchFeatures) => string | null;
}

export const BIRTH_LEVELS = ['exact', 'swapped', 'partial', 'typo', 'different'] as const;

/** Birthdays: the same; day and month swapped; one side year-only, or year and month agree; one digit off; different. */
export function compareBirthdays(a: string | null, b: string | null): (typeof BIRTH_LEVELS)[number] | null {
  if (!a || !b) return null;
  if (a === b) return 'exact';
  if (a.length === 4 || b.length === 4) return a.slice(0, 4) === b.slice(0, 4) ? 'partial' : 'different';
  const [ya, ma, da] = a.split('-');
  const [yb, mb, db] = b.split('-');
  if (ya === yb && ma === db && da === mb) return 'swapped';
  const digitsA = ya + ma + da;
  const digitsB = yb + mb + db;
  let diff = 0;
  for (let i = 0; i < 8; i++) if (digitsA[i] !== digitsB[i]) diff++;
  if (diff === 1) return 'typo';
  if (ya === yb && ma === mb) return 'partial';
  return 'different';
}

export const PLACE_LEVELS = ['address', 'postcode', 'city', 'province', 'different'] as const;

/**
 * Two folded street addresses (`streetOf`) name one address: the same, or the same house number
 * (or none on both) and Jaro-Winkler ≥ 0.9 (a typo in a word). The house number is the first
 * number wherever it stands, but not a flat's or a floor's (`houseNumber`): a Chinese address
 * writes it after the road (`建国路88号` and `建国路86号` are two houses, a character apart); a
 * flat, floor or block may come before the street or after it (`addressWords`). Later numbers (a flat, a unit) are left to the
 * words' similarity: on FEBRL, requiring them equal too lost 0.6% of one person's address pairs to
 * digit typos (docs/identity.md §3). A Chinese address's letters and numbers must all agree.
 */
export function sameStreet(x: string, y: string): boolean {
  if (x === y) return true;
  if (houseNumber(x) !== houseNumber(y)) return false;
  // In a Chinese address, letters and numbers are never words to misspell but the building, unit
  // and room (`宜都街l座`, `宜都街v座`: two towers; `3号楼2单元301室`, `3-2-301`: one flat).
  if (HAN.test(x) && HAN.test(y) && designators(x) !== designators(y)) return false;
  // A Chinese address opening with a division the other leaves out (`北京朝阳建国路88号`, `建国路88号`): from the road on, one.
  const [short, long] = x.length < y.length ? [x, y] : [y, x];
  if (HAN_ROAD.test(short) && long.endsWith(short)) return true;
  if (jaroWinkler(x, y) >= 0.9) return true;
  // A flat, floor or block written before the street in one and after it in the other.
  return !HAN.test(x) && !HAN.test(y) && addressWords(x) === addressWords(y);
}

/** A Chinese address from its road on: two characters or more before anything else. */
const HAN_ROAD = /^\p{Script=Han}{2,}/u;

const HAN = /\p{Script=Han}/u;

/** The letters and numbers of an address, in order. */
function designators(street: string): string {
  return (street.match(/[a-z0-9]+/gi) ?? []).join(' ').toLowerCase();
}

/**
 * Where the two records live, one level for the whole locality (address, postcode, city and
 * province say much the same thing, and weighing each apart would count it several times):
 * the same street address (postcodes and cities not differing); the same postcode; city;
 * province; different (countries differ, or the finest known places differ).
 */
function comparePlaces(a: MatchFeatures, b: MatchFeatures): (typeof PLACE_LEVELS)[number] | null {
  if (a.country && b.country && a.country !== b.country) return 'different';
  const postcodes = a.postcode && b.postcode ? (a.postcode === b.postcode ? true : coarserPostcode(a.postcode, b.postcode) ? null : false) : null;
  if (a.street && b.street && postcodes !== false && !(a.city && b.city && !sameCity(a.city, b.city)) && sameStreet(a.street, b.street)) return 'address';
  if (postcodes) return 'postcode';
  if (a.city && b.city && sameCity(a.city, b.city)) return 'city';
  if (a.province && b.province) return samePlace(a.province, b.province) ? 'province' : 'different';
  if (a.city && b.city) return 'different';
  return postcodes === false ? 'different' : null;
}

/**
 * One postcode the leading part of the other, as one system writes a postcode in full and another
 * its first part: a US ZIP and its ZIP+4 (`94105`, `94105-1234`), Taiwan's three digits and 3+2 or
 * 3+3 (`106`, `10657`, `106017`), a British outward code and the full code (`SW1A`, `SW1A 1AA`).
 * Neither the same postcode nor another: until 2026-12-06 they were two, which kept one person's
 * two records of one street address from agreeing on it and, without a city on both, said
 * `different`.
 */
function coarserPostcode(x: string, y: string): boolean {
  const [short, long] = x.length < y.length ? [x, y] : [y, x];
  return short.length >= 3 && long.startsWith(short);
}

export const SHARED_LEVELS = ['shared', 'shared-apart', 'none'] as const;

/**
 * A whole identifier value in common: held at overlapping times (`shared`), or only at times
 * the sources say did not overlap (`shared-apart`: a recycled number). Null when either side
 * carries no compared value.
 */
export function compareShared(a: readonly HeldValue[], b: readonly HeldValue[]): (typeof SHARED_LEVELS)[number] | null {
  if (!a.length || !b.length) return null;
  let apart = false;
  let common = false;
  for (const x of a) {
    for (const y of b) {
      if (x.kind !== y.kind) continue;
      common = true;
      if (x.key !== y.key) continue;
      if (overlaps(x, y)) return 'shared';
      apart = true;
    }
  }
  // Sharing nothing is evidence only where both carry a kind they could have shared: a phone on one and an email on the other says nothing.
  return apart ? 'shared-apart' : common ? 'none' : null;
}

/** Periods overlap unless one ended (`to`) before the other began (`from`); open ends overlap. */
export function overlaps(x: { from: string | null; to: string | null }, y: { from: string | null; to: string | null }): boolean {
  if (x.to && y.from && x.to < y.from) return false;
  if (y.to && x.from && y.to < x.from) return false;
  return true;
}

export const PARTIAL_LEVELS = ['email-local', 'phone-near', 'none'] as const;

/** Part of an identifier in common: an email local part at another provider, a phone one digit or one swap away. */
export function comparePartial(a: readonly HeldValue[], b: readonly HeldValue[]): (typeof PARTIAL_LEVELS)[number] | null {
  const ea = a.filter((v) => v.kind === 'EMAIL').map((v) => v.key);
  const eb = b.filter((v) => v.kind === 'EMAIL').map((v) => v.key);
  const pa = a.filter((v) => v.kind === 'PHONE').map((v) => v.key);
  const pb = b.filter((v) => v.kind === 'PHONE').map((v) => v.key);
  if (!(ea.length && eb.length) && !(pa.length && pb.length)) return null;
  for (const x of ea) {
    const [lx, dx] = x.split('@');
    if (lx.length < 5 || /^\d+$/.test(lx)) continue;
    for (const y of eb) {
      const [ly, dy] = y.split('@');
      if (lx === ly && dx !== dy) return 'email-local';
    }
  }
  for (const x of pa) for (const y of pb) if (x !== y && nearDigits(x, y)) return 'phone-near';
  return 'none';
}

/** Same length, and one digit different or two adjacent digits swapped. */
function nearDigits(x: string, y: string): boolean {
  if (x.length !== y.length) return false;
  const diffs: number[] = [];
  for (let i = 0; i < x.length && diffs.length <= 2; i++) if (x[i] !== y[i]) diffs.push(i);
  if (diffs.length === 1) return true;
  return diffs.length === 2 && diffs[1] === diffs[0] + 1 && x[diffs[0]] === y[diffs[1]] && x[diffs[1]] === y[diffs[0]];
}

/**
 * Two records' names: `compareNames`, or `close` where the names are at most similar but one
 * record's own email spells the other's name with its surname (`梁秀明` writing from
 * `tonyleung1@`, and `Tony Leung`; `names-email.ts`) and the birthdays agree. Not without the
 * birthday: a household's address names one of its people on the others' records (a son's
 * record with his father's email), and that says nothing of whose record it is. Not as `alias`:
 * the person's own name written another way says more than a name chosen for an address.
 */
export function compareRecordNames(a: MatchFeatures, b: MatchFeatures): NameLevel | null {
  const level = compareNames(a.name, b.name);
  if (level !== 'similar' && level !== 'different') return level;
  const birth = compareBirthdays(a.birth, b.birth);
  if (birth !== 'exact' && birth !== 'swapped' && birth !== 'typo') return level;
  return emailNamesOther(a.name, a.values, b.name, b.values) || emailNamesOther(b.name, b.values, a.name, a.values) ? 'close' : level;
}

export const COMPARISONS: readonly Comparison[] = [
  { name: 'name', levels: NAME_LEVELS, compare: compareRecordNames, trait: true, groupKey: (r) => r.name && nameGroupKey(r.name) },
  { name: 'birthday', levels: BIRTH_LEVELS, compare: (a, b) => compareBirthdays(a.birth, b.birth), trait: true, groupKey: (r) => r.birth },
  { name: 'gender', levels: ['same', 'different'], compare: (a, b) => (a.gender && b.gender ? (a.gender === b.gender ? 'same' : 'different') : null), trait: true },
  { name: 'place', levels: PLACE_LEVELS, compare: comparePlaces, trait: true },
  { name: 'shared', levels: SHARED_LEVELS, compare: (a, b) => compareShared(a.values, b.values), trait: false },
  { name: 'partial', levels: PARTIAL_LEVELS, compare: (a, b) => comparePartial(a.values, b.values), trait: false },
];

/** One pair's comparison vector: a level per comparison (null: not known on both sides). */
export function compareRecords(a: MatchFeatures, b: MatchFeatures, comparisons: readonly Comparison[] = COMPARISONS): Array<string | null> {
  return comparisons.map((c) => c.compare(a, b));
}
