/**
 * Estimating m and u without labels, the way Fellegi-Sunter tools do (Splink's recipe):
 * u from random pairs of records (almost all of them different people, so how often a level
 * occurs among them is how often it occurs by chance), then m and the match share lambda by
 * expectation-maximisation over the compared (blocked) pairs, u held fixed. Pairs are
 * counted by their comparison vector, so each iteration costs the number of distinct vectors.
 */
import type { Comparison } from './compare';
import type { WeightsFile } from './model';

export type Vector = ReadonlyArray<string | null>;

/** Smoothing added to every level's count: no level is ever impossible. */
const PSEUDO = 1;

/** How often each level occurs among `vectors` (missing ones left out), smoothed; `weights[k]`, when given, counts the k-th vector that much. */
export function levelFrequencies(vectors: Iterable<Vector>, comparisons: readonly Comparison[], weights?: readonly number[]): Array<Record<string, number>> {
  const counts = comparisons.map((c) => Object.fromEntries(c.levels.map((l) => [l, PSEUDO])) as Record<string, number>);
  let k = 0;
  for (const v of vectors) {
    const w = weights ? weights[k] : 1;
    v.forEach((l, i) => {
      if (l != null && counts[i][l] != null) counts[i][l] += w;
    });
    k++;
  }
  return counts.map((c) => {
    const total = Object.values(c).reduce((a, b) => a + b, 0);
    return Object.fromEntries(Object.entries(c).map(([l, n]) => [l, n / total]));
  });
}

/** The probability that a pair with comparison levels `v` is a match, given m, u and the match share (a level left null says nothing). */
export function matchPosterior(v: Vector, m: ReadonlyArray<Record<string, number>>, u: ReadonlyArray<Record<string, number>>, lambda: number): number {
  let pm = lambda;
  let pu = 1 - lambda;
  v.forEach((l, i) => {
    if (l == null) return;
    pm *= m[i][l];
    pu *= u[i][l];
  });
  return pm / (pm + pu);
}

/** Vectors counted by distinct vector: EM's iterations then cost the vectors' variety, not their number. */
export function patternsOf(vectors: Iterable<Vector>): Array<{ v: Vector; n: number }> {
  const patterns = new Map<string, { v: Vector; n: number }>();
  for (const v of vectors) {
    const k = v.map((x) => x ?? '').join('\u0001');
    const p = patterns.get(k);
    if (p) p.n++;
    else patterns.set(k, { v, n: 1 });
  }
  return [...patterns.values()];
}

export interface EmResult {
  lambda: number;
  m: Array<Record<string, number>>;
  iterations: number;
  converged: boolean;
}

/**
 * m and lambda by EM over blocked pairs' vectors, u fixed. Starts from m favouring each
 * comparison's first (best) levels; stops when no parameter moves by more than `tolerance`.
 */
export function estimateM(
  vectors: Iterable<Vector>,
  u: ReadonlyArray<Record<string, number>>,
  comparisons: readonly Comparison[],
  opts: { maxIterations?: number; tolerance?: number } = {},
): EmResult {
  const patterns = patternsOf(vectors);
  let m = comparisons.map((c) => {
    const raw = c.levels.map((_, i) => 0.6 ** (i * 2 + 1));
    const total = raw.reduce((a, b) => a + b, 0);
    return Object.fromEntries(c.levels.map((l, i) => [l, raw[i] / total])) as Record<string, number>;
  });
  let lambda = 0.1;
  const maxIterations = opts.maxIterations ?? 100;
  const tolerance = opts.tolerance ?? 1e-5;
  for (let it = 1; it <= maxIterations; it++) {
    // A prior of one pseudo-pair spread as u: a level EM never sees among matches tells nothing (weight about 0 or below), not "rare, so telling".
    const mCounts = comparisons.map((c, i) => Object.fromEntries(c.levels.map((l) => [l, PSEUDO * u[i][l]])) as Record<string, number>);
    let matches = 0;
    let total = 0;
    for (const { v, n } of patterns) {
      const post = matchPosterior(v, m, u, lambda);
      matches += post * n;
      total += n;
      v.forEach((l, i) => {
        if (l != null) mCounts[i][l] += post * n;
      });
    }
    const next = mCounts.map((c) => {
      const t = Object.values(c).reduce((a, b) => a + b, 0);
      return Object.fromEntries(Object.entries(c).map(([l, x]) => [l, x / t]));
    });
    const nextLambda = Math.min(0.999, Math.max(1e-6, matches / Math.max(total, 1)));
    let moved = Math.abs(nextLambda - lambda);
    next.forEach((c, i) => Object.entries(c).forEach(([l, x]) => (moved = Math.max(moved, Math.abs(x - m[i][l])))));
    m = next;
    lambda = nextLambda;
    if (moved < tolerance) return { lambda, m, iterations: it, converged: true };
  }
  return { lambda, m, iterations: maxIterations, converged: false };
}

/**
 * A weights file from an estimate, rounded for reading. A level `seen` leaves out (no compared
 * or random pair showed it) is left out of the file: its m would be the smoothing's guess, and
 * the model weighs a missing level as the next worse one. The worst level is always written.
 */
export function weightsFileOf(
  em: EmResult,
  u: ReadonlyArray<Record<string, number>>,
  comparisons: readonly Comparison[],
  estimated: Record<string, unknown>,
  seen?: ReadonlyArray<ReadonlySet<string>>,
): WeightsFile {
  const r = (x: number) => Number(x.toPrecision(4));
  const written = (i: number, l: string) => !seen || seen[i].has(l) || l === comparisons[i].levels[comparisons[i].levels.length - 1];
  return {
    lambdaRecords: Number(estimated.records ?? 0) || undefined,
    description:
      'Fellegi-Sunter m/u probabilities per comparison level for the probabilistic tier (src/idmap/probabilistic/). Estimated without labels: u from random record pairs, m and lambda by EM over blocked pairs. Regenerate with `npm run identity:estimate`.',
    estimated: { ...estimated, iterations: em.iterations, converged: em.converged },
    lambda: Number(em.lambda.toPrecision(4)),
    comparisons: Object.fromEntries(
      comparisons.map((c, i) => [
        c.name,
        Object.fromEntries(c.levels.filter((l) => written(i, l)).map((l) => [l, { m: r(Math.max(em.m[i][l], 1e-6)), u: r(Math.max(u[i][l], 1e-7)) }])),
      ]),
    ),
  };
}
