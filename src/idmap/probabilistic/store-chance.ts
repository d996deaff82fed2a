/**
 * u counted on the store's own records (`chance.ts`), kept in `idmap_match_chance` so that runs
 * weigh alike until the store has grown or shrunk by a quarter; then, or when a run compares
 * every record again (`resolve --recompare`), it is counted again. A store of fewer than
 * `MIN_CHANCE_RECORDS` records keeps the weights file's u, and so does a level seen on fewer than
 * `MIN_CHANCE_HITS` random pairs (an agreement too rare to count, or data without birthdays).
 */
import type { Knex } from 'knex';
import type { Comparison } from './compare';
import { chanceAmongDifferent, hitsOf, mulberry32, randomPairs, MIN_CHANCE_HITS } from './chance';
import { priorLambda, type WeightsFile } from './model';
import { sampleFeatures } from './store';

export const CHANCE_TABLE = 'idmap_match_chance';

/** Fewer records than this, and u is the weights file's: too few pairs to count rare agreements on. */
export const MIN_CHANCE_RECORDS = 1_000;

/** Records sampled to draw the pairs from. */
const SAMPLE = 50_000;

/** Counted again once the store holds this many times more (or fewer) records than it was counted on. */
const RECOUNT_GROWTH = 1.25;

export interface StoreChance {
  /** u by `comparison:level`, for the comparisons the store had enough pairs for. */
  u: ReadonlyMap<string, number>;
  /** Records it was counted on, and when. */
  records: number;
  countedAt: string;
  /** Counted by this call (not read back). */
  counted: boolean;
}

/**
 * The store's u for a run on `records` records: the stored count while it still fits the store,
 * else counted now and stored (`beforeWrite` first: the resolution lease). Null when the store is
 * too small.
 */
export async function storeChance(
  db: Knex,
  weights: WeightsFile,
  comparisons: readonly Comparison[],
  records: number,
  opts: { recount?: boolean; beforeWrite?: () => Promise<void>; now?: string } = {},
): Promise<StoreChance | null> {
  if (records < MIN_CHANCE_RECORDS) return null;
  const rows: StoredChance[] = await db(CHANCE_TABLE).select('*');
  const stored = rows.length ? rows[0] : null;
  const counted = comparisons.filter((c) => c.trait);
  const covers = counted.every((c) => c.levels.every((l) => rows.some((r) => r.comparison === c.name && r.level === l)));
  if (stored && covers && !opts.recount && records <= stored.records * RECOUNT_GROWTH && records * RECOUNT_GROWTH >= stored.records) {
    return { u: usable(rows), records: stored.records, countedAt: stored.counted_at, counted: false };
  }
  const sample = await sampleFeatures(db, SAMPLE, mulberry32(1));
  const sets = randomPairs(sample, { comparisons, only: (c) => c.trait });
  const file = comparisons.map((c) => c.levels.map((_, i) => fileLevel(weights, c, i)));
  const u = chanceAmongDifferent(sets, comparisons, {
    m: comparisons.map((c, k) => Object.fromEntries(c.levels.map((l, i) => [l, file[k][i].m]))),
    u: comparisons.map((c, k) => Object.fromEntries(c.levels.map((l, i) => [l, file[k][i].u]))),
    lambda: priorLambda(weights, records),
  });
  const countedAt = opts.now ?? new Date().toISOString();
  const fresh: StoredChance[] = comparisons.flatMap((c, i) =>
    !c.trait
      ? []
      : c.levels.map((level) => ({
          comparison: c.name,
          level,
          u: u[i][level],
          pairs: sets[i].drawn,
          hits: hitsOf(sets[i], c, i, level),
          records,
          counted_at: countedAt,
        })),
  );
  await opts.beforeWrite?.();
  await db.transaction(async (trx) => {
    await trx(CHANCE_TABLE).delete();
    await trx(CHANCE_TABLE).insert(fresh);
  });
  return { u: usable(fresh), records, countedAt, counted: true };
}

/** The weights file with u replaced by the store's where it has counted it (m, the prior and levels the file lacks as they were). */
export function withChance(weights: WeightsFile, chance: StoreChance | null): WeightsFile {
  if (!chance) return weights;
  const comparisons = Object.fromEntries(
    Object.entries(weights.comparisons).map(([name, levels]) => [
      name,
      Object.fromEntries(Object.entries(levels).map(([level, p]) => [level, { m: p.m, u: chance.u.get(`${name}:${level}`) ?? p.u }])),
    ]),
  );
  return { ...weights, comparisons };
}

interface StoredChance {
  comparison: string;
  level: string;
  u: number;
  pairs: number;
  hits: number;
  records: number;
  counted_at: string;
}

function usable(rows: readonly StoredChance[]): Map<string, number> {
  return new Map(rows.filter((r) => r.hits >= MIN_CHANCE_HITS).map((r) => [`${r.comparison}:${r.level}`, Number(r.u)]));
}

/** m and u of a level, or of the next worse level the file has (as the model weighs a missing level). */
function fileLevel(weights: WeightsFile, c: Comparison, at: number): { m: number; u: number } {
  const levels = weights.comparisons[c.name] ?? {};
  for (let i = at; i < c.levels.length; i++) if (levels[c.levels[i]]) return levels[c.levels[i]];
  return { m: 1, u: 1 };
}
