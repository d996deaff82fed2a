/**
 * Survivorship: from every source's say on one field, the one value the customer 360 answers,
 * with the evidence for it. The rules (src/golden/rules.ts) narrow the candidates one after
 * another; the rule after which every remaining candidate says the same value (as the field
 * compares values) is the one that "chose" it; the remaining rules, then the fixed tie-break,
 * pick which record's spelling to answer and cite. Deterministic: the same candidates in any
 * order give the same decision.
 *
 * Pure: no I/O.
 */
import type { SourceName } from '../vocabulary';
import { compareIds } from '../vocabulary/event-order';
import { millisFromIso } from '../iso-time';
import { foldDiacritics } from '../canonical';
import { displayValue, type Candidate, type GoldenField, type GoldenValue } from './fields';
import type { FieldRules, SurvivorshipRule } from './rules';

/**
 * What decided: a configured rule; `onlyCandidate` (nothing to choose between); `unanimous`
 * (several records, one value); `tieBreak` (the rules left different values tied and the fixed
 * order, source then record id, picked one).
 */
export type DecidingRule = SurvivorshipRule['rule'] | 'onlyCandidate' | 'unanimous' | 'tieBreak';

export interface JudgedCandidate extends Candidate {
  chosen: boolean;
  /** Why it could never win (a placeholder), or null. */
  discarded: string | null;
}

export interface Decision {
  field: GoldenField;
  /** The winner, or null when no source holds a usable value. */
  chosen: Candidate | null;
  rule: DecidingRule | null;
  /** Every candidate, winner first, then the order the sources were listed in. */
  candidates: JudgedCandidate[];
  /** Sources holding the customer's records for the field that could not be read: the decision was made without them. */
  missing?: Array<{ source: SourceName; code: string }>;
}

const PLACE_SUFFIX = /(特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|地区|省|市|盟)$/u;

/** The key `mostFrequent` groups values by. */
export function matchKey(value: GoldenValue, compare: FieldRules['compare']): string {
  if (typeof value === 'boolean') return String(value);
  if (compare === 'exact') return value;
  // Full-width and half-width forms of one character count as one value.
  const folded = value.trim().normalize('NFKC').toLowerCase();
  // A place with and without its diacritics (`München`, `Munchen`) is one place too.
  return compare === 'place' ? foldDiacritics(folded).replace(/\s+/g, '').replace(PLACE_SUFFIX, '') : folded;
}

/** A record's time as a score (`Date.parse`'s value; the canonical form read without it: every field of every customer of a list may ask). */
const timeOf = (t: string | null) => (t === null ? null : millisFromIso(t));

/** The candidates with the best score; all of them when none has one (null: unknown). As `Math.max`, a NaN score is best and equals none. */
function keepBest(pool: Candidate[], scores: Array<number | null>): Candidate[] {
  let best: number | null = null;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (s !== null && (best === null || s > best || Number.isNaN(s))) best = s;
  }
  if (best === null) return pool;
  const out: Candidate[] = [];
  for (let i = 0; i < pool.length; i++) if (scores[i] === best) out.push(pool[i]);
  return out.length === pool.length ? pool : out;
}

/** Keeps the candidates that rank best under one rule (all of them, if the rule cannot tell them apart). Scores computed once per candidate, no closures: every field of every customer of a list narrows. */
function narrow(pool: Candidate[], rule: SurvivorshipRule, f: FieldRules): Candidate[] {
  const scores: Array<number | null> = [];
  switch (rule.rule) {
    case 'sourcePriority': {
      const order = rule.order ?? f.sources;
      // Sources missing from `order` rank below every listed one.
      for (let j = 0; j < pool.length; j++) {
        const i = order.indexOf(pool[j].source);
        scores.push(i < 0 ? -order.length - 1 : -i);
      }
      break;
    }
    case 'mostRecent':
      for (let i = 0; i < pool.length; i++) scores.push(timeOf(pool[i].updatedAt));
      break;
    case 'earliest':
      for (let i = 0; i < pool.length; i++) {
        const t = timeOf(pool[i].createdAt);
        scores.push(t === null ? null : -t);
      }
      break;
    case 'mostFrequent': {
      const keys: string[] = [];
      const counts = new Map<string, number>();
      for (let i = 0; i < pool.length; i++) {
        const k = matchKey(pool[i].value, f.compare);
        keys.push(k);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      for (let i = 0; i < keys.length; i++) scores.push(counts.get(keys[i])!);
      break;
    }
  }
  return keepBest(pool, scores);
}

/** The fixed last word: the field's source order, then record id (shortlex). Made once per field's rules: every decision of the field uses it. */
function tieBreakOrder(f: FieldRules) {
  let order = tieBreakOrders.get(f);
  if (order) return order;
  const rank = (s: SourceName) => {
    const i = f.sources.indexOf(s);
    return i < 0 ? f.sources.length : i;
  };
  order = (a: Candidate, b: Candidate) =>
    rank(a.source) - rank(b.source) ||
    compareIds(a.recordId, b.recordId) ||
    (displayValue(a.value) < displayValue(b.value) ? -1 : displayValue(a.value) > displayValue(b.value) ? 1 : 0);
  tieBreakOrders.set(f, order);
  return order;
}
const tieBreakOrders = new WeakMap<FieldRules, (a: Candidate, b: Candidate) => number>();

/** Whether every candidate says the same, as the field compares values ("北京" and "北京市" are one city). */
const sameValue = (pool: Candidate[], f: FieldRules) => {
  if (pool.length <= 1) return true;
  const first = matchKey(pool[0].value, f.compare);
  for (let i = 1; i < pool.length; i++) if (matchKey(pool[i].value, f.compare) !== first) return false;
  return true;
};

/** A stably sorted copy of a short list (a field's candidates): insertion sort, without the work arrays of Array.prototype.sort. */
function sortedCopy<T>(list: readonly T[], compare: (a: T, b: T) => number): T[] {
  const out = list.slice();
  for (let i = 1; i < out.length; i++) {
    const x = out[i];
    let j = i - 1;
    for (; j >= 0 && compare(out[j], x) > 0; j--) out[j + 1] = out[j];
    out[j + 1] = x;
  }
  return out;
}

/** The index of the first placeholder pattern the candidate's value matches, or -1. */
function placeholderOf(f: FieldRules, c: Candidate): number {
  if (typeof c.value !== 'string' || f.ignore.length === 0) return -1;
  for (let i = 0; i < f.ignore.length; i++) if (f.ignore[i].test(c.value)) return i;
  return -1;
}

/** The first of a pool in tie-break order (as a stable sort of the pool would put first). */
function firstOf(pool: readonly Candidate[], order: (a: Candidate, b: Candidate) => number): Candidate | null {
  let chosen: Candidate | null = pool.length ? pool[0] : null;
  for (let i = 1; i < pool.length; i++) if (order(pool[i], chosen!) < 0) chosen = pool[i];
  return chosen;
}

/**
 * The winner alone: what `decide` answers as `chosen`, in any order of the candidates, without
 * the judged list, the rule or the tie-break sort (a field's value needs none of them; a list of
 * a thousand customers asks for it per customer and field). The rules keep or drop candidates by
 * score alone, so the pool they leave is the same set whatever the order.
 */
export function choose(f: FieldRules, candidates: readonly Candidate[]): Candidate | null {
  let pool: Candidate[] = [];
  for (let i = 0; i < candidates.length; i++) if (placeholderOf(f, candidates[i]) < 0) pool.push(candidates[i]);
  for (let i = 0; i < f.rules.length && pool.length > 1; i++) pool = narrow(pool, f.rules[i], f);
  return pool.length === 1 ? pool[0] : firstOf(pool, tieBreakOrder(f));
}

export function decide(f: FieldRules, candidates: readonly Candidate[]): Decision {
  // Every customer of a list decides every field it asks for: no copy or closure that the result does not need.
  if (candidates.length === 0) return { field: f.field, chosen: null, rule: null, candidates: [] };
  const order = tieBreakOrder(f);
  const sorted = sortedCopy(candidates, order);
  const discarded = sorted.map((c) => {
    const i = placeholderOf(f, c);
    return i < 0 ? null : `placeholder (matches ${f.ignoreSources[i]})`;
  });
  const eligible: Candidate[] = sorted.filter((_, i) => discarded[i] === null);

  let rule: DecidingRule | null = null;
  let pool = eligible;
  if (eligible.length === 1) rule = 'onlyCandidate';
  else if (eligible.length > 1 && sameValue(eligible, f)) rule = 'unanimous';
  // Every rule still narrows, after the value is settled too: it picks which record to cite.
  for (const r of f.rules) {
    if (pool.length <= 1) break;
    pool = narrow(pool, r, f);
    if (rule === null && sameValue(pool, f)) rule = r.rule;
  }
  if (eligible.length > 0 && rule === null) rule = 'tieBreak';
  const chosen = firstOf(pool, order);

  const out: JudgedCandidate[] = sorted.map((c, i) => ({
    ...c,
    chosen: chosen !== null && c.source === chosen.source && c.recordId === chosen.recordId,
    discarded: discarded[i],
  }));
  // The winner first, the rest in order: a stable partition in place (Array.prototype.sort copies the list to sort it).
  for (let i = 0, w = 0; i < out.length; i++) {
    if (!out[i].chosen) continue;
    const c = out[i];
    for (let j = i; j > w; j--) out[j] = out[j - 1];
    out[w++] = c;
  }
  return { field: f.field, chosen, rule, candidates: out };
}
