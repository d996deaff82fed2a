/**
 * How `npm run bench:gateway` interleaves the servers it compares, and how it reads the pairs.
 *
 * A round measures each scenario as a number of sets of short slices, one slice per server in a
 * set. Sets alternate their order: the servers as given, then reversed (two servers: A B B A A B
 * B A, three: A B C C B A …), each round starting from the next rotation. Over two consecutive
 * sets every server's slices sit at the same mean time, so a slow spell of the machine that lasts
 * longer than a slice lands on every server alike instead of on the one whose turn it was, and
 * no server always goes first or last (after another server's load, or after a pause).
 *
 * A ratio is taken within one set (its servers' slices are next to each other in time), and the
 * ratios of every set of every round are reported as their median and interquartile range.
 */

/** The servers' order in set `set` of round `round`: a rotation per round, reversed in every odd set. */
export function setOrder<T>(servers: readonly T[], round: number, set: number): T[] {
  const n = servers.length;
  const rotated = servers.map((_, k) => servers[(k + round) % n]);
  return set % 2 === 0 ? rotated : rotated.reverse();
}

export interface Spread {
  median: number;
  /** First and third quartiles (linear interpolation between order statistics; NaN when empty). */
  q1: number;
  q3: number;
  n: number;
}

/** The `p`-quantile of sorted `s`, interpolating linearly between neighbours (R's type 7, numpy's default). */
function quantile(s: readonly number[], p: number): number {
  if (s.length === 0) return NaN;
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo] + (s[hi] - s[lo]) * (h - lo);
}

/** Median and interquartile range of `xs`, ignoring values that are not finite (a slice with no request). */
export function spreadOf(xs: readonly number[]): Spread {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return { median: quantile(s, 0.5), q1: quantile(s, 0.25), q3: quantile(s, 0.75), n: s.length };
}

/** Ratios a[k] ÷ b[k] of values measured in the same set. */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new Error(`paired ratios need as many values on each side (${a.length} and ${b.length})`);
  return a.map((x, k) => x / b[k]);
}
