/**
 * u and the prior counted on the store's own records (`chance.ts`, `prior.ts`), kept in
 * `idmap_match_chance` and `idmap_match_prior` so that runs weigh alike until the store has grown
 * or shrunk by a quarter; then, or when a run compares every record again (`resolve
 * --recompare`), a full run counts them again (re-resolving a few records never does). A store of
 * fewer than `MIN_CHANCE_RECORDS` records keeps the weights file's u and prior, and so does a
 * level seen on fewer than `MIN_CHANCE_HITS` random pairs (an agreement too rare to count, or data
 * without birthdays), and the prior where the blocks find fewer than `MIN_PRIOR_MATCHES` matches.
 */
import type { Knex } from 'knex';
import { COMPARISONS } from './compare';
import { mulberry32 } from './chance';
import { priorLambda, type WeightsFile } from './model';
import type { StorePrior } from './prior';
import { customersOfRecords, sampleFeatures } from './store';
import { writeTransaction } from '../tables';
import { startCount, type Counting } from './count-thread';
import { usableChance, type CountResult } from './store-count';
import { PLACE_SHARES_COUNTED } from './place-shares';
import type { MatchFeatures } from './features';

export const CHANCE_TABLE = 'idmap_match_chance';
export const PRIOR_TABLE = 'idmap_match_prior';

/** Fewer records than this, and u is the weights file's: too few pairs to count rare agreements on. */
export const MIN_CHANCE_RECORDS = 1_000;

/** Records sampled to draw the pairs from. */
const SAMPLE = 50_000;

/** Counted again once the store holds this many times more (or fewer) records than it was counted on. */
const RECOUNT_GROWTH = 1.25;

export interface StoreChance {
  /**
   * u by `comparison:level`, for the comparisons the store had enough pairs for; and the share of
   * records in each common city or postcode, by `placeShareKey` (`store-count.ts`, `placeShares`).
   */
  u: ReadonlyMap<string, number>;
  /** The share of matches among all pairs of records; null where the weights file's applies. */
  prior: StorePrior | null;
  /** Records it was counted on, and when. */
  records: number;
  countedAt: string;
  /** Counted by this call (not read back). */
  counted: boolean;
}

/** What to count with, or what to keep, for a run on `records` records (`beginChance`). */
export type ChancePlan = { keep: StoreChance | null } | { records: number; sample: MatchFeatures[]; counting: Counting };

export interface ChanceOptions {
  /** The rules' block size cap, as the prior's pairs are blocked. */
  maxBlock: number;
  /** Count again whatever is stored (`resolve --recompare`). */
  recount?: boolean;
  /**
   * false: never count now (a few records re-resolved, in the gateway's own process): the stored
   * count however old, or null where there is none; the next full run counts.
   */
  count?: boolean;
}

/**
 * The store's u for a run on `records` records: the stored count while it still fits the store,
 * else counted now and stored (`beforeWrite` first: the resolution lease). Null when the store is
 * too small.
 */
export async function storeChance(
  db: Knex,
  weights: WeightsFile,
  records: number,
  opts: ChanceOptions & { beforeWrite?: () => Promise<void>; now?: string },
): Promise<StoreChance | null> {
  return endChance(db, await beginChance(db, weights, records, opts), opts);
}

/**
 * `storeChance`'s first half: whether to count, and if so the sample drawn and u's count started
 * on a worker thread. Nothing in it needs the records linked, so a full resolution begins it
 * before the rules link and ends it after (`endChance`; `cancelChance` if the run fails between).
 */
export async function beginChance(db: Knex, weights: WeightsFile, records: number, opts: ChanceOptions): Promise<ChancePlan> {
  if (records < MIN_CHANCE_RECORDS) return { keep: null };
  const rows: StoredChance[] = await db(CHANCE_TABLE).select('*');
  const priorRow: StoredPrior | undefined = await db(PRIOR_TABLE).first();
  const stored = rows.length ? rows[0] : null;
  const counted = COMPARISONS.filter((c) => c.trait);
  // A count made before common places were counted (2026-12-06) is made again, as one without the prior was.
  const covers =
    priorRow &&
    rows.some((r) => r.comparison === PLACE_SHARES_COUNTED.comparison && r.level === PLACE_SHARES_COUNTED.level) &&
    counted.every((c) => c.levels.every((l) => rows.some((r) => r.comparison === c.name && r.level === l)));
  const fits = !opts.recount && records <= (stored?.records ?? 0) * RECOUNT_GROWTH && records * RECOUNT_GROWTH >= (stored?.records ?? 0);
  if (stored && ((covers && fits) || opts.count === false)) {
    const prior = priorRow?.lambda == null ? null : { lambda: Number(priorRow.lambda), pairs: priorRow.pairs, matches: Number(priorRow.matches) };
    return { keep: { u: usableChance(rows), prior, records: stored.records, countedAt: stored.counted_at, counted: false } };
  }
  if (opts.count === false) return { keep: null };
  const sample = await sampleFeatures(db, SAMPLE, mulberry32(1));
  // Seconds of CPU: on a worker thread, so that this thread's connections, timers and links go on.
  return { records, sample, counting: startCount({ sample, weights, records, maxBlock: opts.maxBlock }) };
}

/** `storeChance`'s second half: the prior on the sampled records' customers as now linked, and the count stored. */
export async function endChance(db: Knex, plan: ChancePlan, opts: { beforeWrite?: () => Promise<void>; now?: string } = {}): Promise<StoreChance | null> {
  if ('keep' in plan) return plan.keep;
  const { records, sample } = plan;
  let result: CountResult;
  try {
    result = await plan.counting.finish(await customersOfRecords(db, sample));
  } finally {
    plan.counting.cancel();
  }
  const { levels, prior } = result;
  const countedAt = opts.now ?? new Date().toISOString();
  const fresh: StoredChance[] = levels.map((l) => ({ ...l, records, counted_at: countedAt }));
  await opts.beforeWrite?.();
  await writeTransaction(db, async (trx) => {
    await trx(CHANCE_TABLE).delete();
    await trx(CHANCE_TABLE).insert(fresh);
    await trx(PRIOR_TABLE).delete();
    await trx(PRIOR_TABLE).insert({
      id: 1,
      lambda: prior?.lambda ?? null,
      pairs: prior?.pairs ?? 0,
      matches: prior?.matches ?? 0,
      sample: sample.length,
      records,
      counted_at: countedAt,
    });
  });
  return { u: usableChance(fresh), prior, records, countedAt, counted: true };
}

/** Stops a count `beginChance` started (a run that failed before `endChance`). */
export function cancelChance(plan: ChancePlan | null | undefined): void {
  if (plan && 'counting' in plan) plan.counting.cancel();
}

/**
 * The weights file with u replaced by the store's where it has counted it, and the prior where the
 * store's is the higher (m and levels the file lacks as they were). The store's count sees only
 * the matches its rules and blocks reach, so it is at most its λ (give or take EM's error: 1.03
 * of it on the noisy demo world): on the default demo world at 20,000 people 0.59 of it, where the
 * file's, rescaled, is 0.76. Where the file's is the higher it stands, as it did before the store
 * counted one; a store with more matches than the file expects (Splink's fake_1000, 4.4 bits
 * more) gets its own.
 */
export function withChance(weights: WeightsFile, chance: StoreChance | null): WeightsFile {
  if (!chance) return weights;
  const prior = chance.prior && chance.prior.lambda > priorLambda(weights, chance.records) ? { lambda: chance.prior.lambda, lambdaRecords: chance.records } : {};
  const comparisons = Object.fromEntries(
    Object.entries(weights.comparisons).map(([name, levels]) => [
      name,
      Object.fromEntries(Object.entries(levels).map(([level, p]) => [level, { m: p.m, u: chance.u.get(`${name}:${level}`) ?? p.u }])),
    ]),
  );
  return { ...weights, ...prior, comparisons };
}

interface StoredPrior {
  lambda: number | null;
  pairs: number;
  matches: number;
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
