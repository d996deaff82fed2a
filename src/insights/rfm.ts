/**
 * RFM: recency, frequency and monetary value of a customer's counted orders, each scored 1..5
 * against the quintile boundaries of the whole order base (orders.rfmBoundaries, cached), and
 * the named segment the scores fall in (config/lifecycle.json, first match wins).
 *
 * Scoring: a value scores 1 + the number of boundaries strictly below it, so a value equal to
 * a boundary stays in the lower quintile; 5 is the most recent / most frequent / biggest.
 * The base is per shop account (the order system knows no customers); a customer with two
 * accounts is scored with both summed.
 *
 * Pure: no I/O.
 */
import { toCents } from '../canonical';
import { SourceError } from '../errors';
import { incomparableMoney } from './summary';
import type { Instant, Money } from '../vocabulary';
import type { RfmBoundaries } from '../capabilities';
import { segmentMatches, type RfmSegmentRule } from './rules';
import type { CustomerOrders } from './summary';

const DAY_MS = 86_400_000;

export interface Rfm {
  recencyDays: number;
  frequency: number;
  monetary: Money;
  r: number;
  f: number;
  m: number;
  segment: string;
  segmentDescription: string;
  boundariesComputedAt: Instant;
}

export function quintile(value: number, boundaries: readonly number[]): number {
  return 1 + boundaries.filter((b) => b < value).length;
}

export function segmentOf(segments: readonly RfmSegmentRule[], r: number, f: number, m: number): RfmSegmentRule {
  const s = segments.find((x) => segmentMatches(x, r, f, m));
  // The rules loader proves every combination is covered; reaching here means it was bypassed.
  if (!s) throw new Error(`no RFM segment matches r=${r} f=${f} m=${m}`);
  return s;
}

/** What RFM reads of a customer's orders: an order summary's figures, or BI's whole-base order facts. */
export type RfmFigures = Pick<CustomerOrders, 'orderCount' | 'lastOrderAt' | 'lifetimeValue'>;

/** The customer's RFM, or null when they have no counted order. */
export function rfmOf(o: RfmFigures | null, b: RfmBoundaries, segments: readonly RfmSegmentRule[], now: Instant): Rfm | null {
  if (!o || o.orderCount === 0 || !o.lastOrderAt) return null;
  if (b.currency !== o.lifetimeValue.currency) {
    const e = new SourceError('commerce', 'SOURCE_BAD_RESPONSE', `commerce: the order base is not all in ${o.lifetimeValue.currency}; monetary quintiles cannot be compared`);
    // A base in one currency and this customer in another: the customer's money, not the base, is incomparable.
    throw b.currency === null ? e : incomparableMoney(e);
  }
  const last = Date.parse(o.lastOrderAt);
  const r = quintile(
    last,
    b.recency.map((t) => Date.parse(t)),
  );
  const f = quintile(o.orderCount, b.frequency);
  const m = quintile(toCents(o.lifetimeValue), b.monetary);
  const seg = segmentOf(segments, r, f, m);
  return {
    recencyDays: Math.max(0, Math.floor((Date.parse(now) - last) / DAY_MS)),
    frequency: o.orderCount,
    monetary: o.lifetimeValue,
    r,
    f,
    m,
    segment: seg.name,
    segmentDescription: seg.description,
    boundariesComputedAt: b.computedAt,
  };
}
