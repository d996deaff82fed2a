/**
 * Resolution's second tier: after the deterministic rules have linked what shares strong
 * identifiers, records are compared by the Fellegi-Sunter model (`model.ts`) within blocks
 * (`features.ts`), and a pair of different customers is
 * - linked (their customers merged, actor `rule:probabilistic`) at or above `autoLink`, when
 *   the name or the birthday agrees (a shared identifier alone is the rules' to judge),
 * - put to review (reason `probable`) between `review` and `autoLink`,
 * - left alone below.
 * The merge event records the pair, its weight and each comparison's contribution, so
 * `whyLinked` can explain it, and `splitCustomer` undoes it like any merge (remembering the
 * two as different people). A pair a steward judged different (a rejected candidate, a
 * split) is never linked again, and a candidate once settled is never raised again.
 *
 * Incremental: only records whose features changed since the last run (`scored = 0`) are
 * compared, each with the members of its blocks; every pair is compared once.
 */
import type { Knex } from 'knex';
import type { SourceRecordKey } from '../types';
import type { IdentityRules } from '../rules';
import { hash16 } from '../evidence';
import { recordKeyString, writeTransaction } from '../tables';
import { turnOfTheEventLoop } from '../turns';
import { insertCandidates, mergeInto, requireActive, requireNoDecisionSince, StaleResolutionError, type NewCandidate } from '../writes';
import { blockFamily, blockKey, type MatchFeatures } from './features';
import { roundWeight, type MatchModel } from './model';
import { scorePair, type Rec, type ScoredPair } from './pairs';
import { scoreFirstRun, overCounted, type FirstRunScores } from './first-run';
import { birthdayLevel, customerTraits, exclusiveApart, joinTraits, type CustomerTraits } from './customer-traits';
import { mergeContradiction } from './merge-check';
import {
  anyScored,
  blockMembers,
  blocksOf,
  customersOfRecords,
  featuresOfRecords,
  markScored,
  markScoredRange,
  nameCounts,
  recordsOfCustomers,
  unscoredRecords,
} from './store';

export const PROBABILISTIC_ACTOR = 'rule:probabilistic';
export const PROBABLE_REASON = 'probable' as const;

export interface ProbabilisticStats {
  recordsCompared: number;
  pairsCompared: number;
  probableLinks: number;
  probableReviews: number;
  blocksSkipped: number;
  /** Records the store's u was counted on by this run (`store-chance.ts`); 0 when a stored count or the weights file's u applied. */
  chanceCountedOn: number;
  /** The prior the run weighed pairs with, in bits (the store's where it counted a higher one than the file's, `prior.ts`); null when the tier did not run. */
  priorWeight: number | null;
}

export const emptyProbabilisticStats = (): ProbabilisticStats => ({
  recordsCompared: 0,
  pairsCompared: 0,
  probableLinks: 0,
  probableReviews: 0,
  blocksSkipped: 0,
  chanceCountedOn: 0,
  priorWeight: null,
});

export interface TierOptions {
  db: Knex;
  rules: IdentityRules;
  model: MatchModel;
  /** Called before each write transaction (the resolution lease). */
  beforeWrite?: () => Promise<void>;
  /** Live records with features (term frequencies are shares of it). */
  records: number;
  /** Customer pairs (`a\0b`, both orders) judged different, as today's survivors. */
  differentPairs: ReadonlySet<string>;
  /**
   * The newest decision `differentPairs` holds (`latestDecision`): a batch is written only while no
   * later one exists, else read again (`rereadDecisions`) and planned again. Unset: not checked.
   */
  decisionsSeen?: number;
  rereadDecisions?: () => Promise<{ differentPairs: ReadonlySet<string>; decisionsSeen: number }>;
  batchSize?: number;
  /** Called after each batch with the records compared so far. */
  onBatch?: (done: number) => void;
  /** A first comparison scores block by block (`first-run.ts`); false: batch by batch, as later runs do (tests compare the two). */
  walk?: boolean;
  /** A first comparison's records linked and marked compared per transaction, in whole batches (default `MARK_AT_ONCE`). */
  markAtOnce?: number;
  at?: () => string;
}

export async function runProbabilisticTier(opts: TierOptions, stats: ProbabilisticStats = emptyProbabilisticStats()): Promise<ProbabilisticStats> {
  const settings = opts.rules.probabilistic;
  if (!settings) return stats;
  const batchSize = opts.batchSize ?? 2000;
  // Nothing compared yet (a first resolution): a record after the batch in key order is still
  // unscored when the batch runs, so never compared with it, and its block memberships and
  // features need not be read (a common name's block was read whole by every batch).
  const firstComparison = !(await anyScored(opts.db));
  if (firstComparison && opts.walk !== false) {
    const scores = await scoreFirstRun({ db: opts.db, rules: opts.rules, model: opts.model, records: opts.records, batchSize });
    if (scores) return linkFirstRun(opts, scores, stats);
  }
  const blockSizes = new Map<string, number>();
  let after: SourceRecordKey | null = null;
  for (;;) {
    const batch = await unscoredRecords(opts.db, after, batchSize);
    if (!batch.length) return stats;
    for (let attempt = 0; ; attempt++) {
      try {
        await scoreBatch(opts, batch, stats, firstComparison ? batch[batch.length - 1] : null, blockSizes);
        break;
      } catch (e) {
        if (!(e instanceof StaleResolutionError) || attempt >= 3) throw e;
        await rereadDecisions(opts);
      }
    }
    after = batch[batch.length - 1];
    stats.recordsCompared += batch.length;
    opts.onBatch?.(stats.recordsCompared);
    await turnOfTheEventLoop();
  }
}

/**
 * Records marked compared per transaction. Marking rewrites each record's features row, and rows
 * lie in the order staging wrote them, not in key order: a transaction marking one batch of 2,000
 * touched about as many pages, and with most batches of a large store holding a pair, every page
 * of the table was written again by each of hundreds of transactions. Batches are therefore
 * linked and marked together, up to this many records a transaction (a run stopped in between
 * resumes after the last whole transaction, as it resumed after the last batch).
 */
const MARK_AT_ONCE = 50_000;

/**
 * A first comparison's links, batch by batch in key order as `scoreBatch` makes them: each
 * batch's kept pairs with the customers as they are then (earlier batches' links applied),
 * dropped when one customer by then, in the order the batch finds them (its records in key
 * order, each one's blocks as the store lists them, their members in key order). Consecutive
 * batches share a transaction (`MARK_AT_ONCE`), each still planned on what the ones before it wrote.
 */
async function linkFirstRun(opts: TierOptions, scores: FirstRunScores, stats: ProbabilisticStats): Promise<ProbabilisticStats> {
  const { db } = opts;
  const settings = opts.rules.probabilistic!;
  const linkable = [...scores.pairs.values()].flat().filter((p) => p.about && p.score.weight >= settings.autoLink);
  const before = await recordsOfCustomers(db, [...new Set(linkable.flatMap((p) => [p.a.customerId!, p.b.customerId!]))]);
  const links: Array<{ survivorId: string; mergedId: string; batch: number }> = [];
  for (const list of scores.pairs.values())
    list.sort((p, q) => (p.xKey < q.xKey ? -1 : p.xKey > q.xKey ? 1 : p.at - q.at || (p.yKey < q.yKey ? -1 : p.yKey > q.yKey ? 1 : 0)));
  let marked: SourceRecordKey | null = null;
  let unmarked = 0;
  let first = 0;
  for (let i = 0; i < scores.ends.length; i++) {
    unmarked += scores.sizes[i];
    if (unmarked >= (opts.markAtOnce ?? MARK_AT_ONCE) || i === scores.ends.length - 1) {
      for (let attempt = 0; ; attempt++) {
        try {
          const made = { links: 0, reviews: 0, merges: [] as typeof links };
          await opts.beforeWrite?.();
          await writeTransaction(db, async (trx) => {
            for (let b = first; b <= i; b++) {
              const pairs = scores.pairs.get(b) ?? [];
              if (!pairs.length) continue;
              const customers = await customersOfRecords(
                trx,
                pairs.flatMap((p) => [p.a, p.b]),
              );
              const live: ScoredPair[] = [];
              for (const p of pairs) {
                const [a, c] = [customers.get(recordKeyString(p.a)), customers.get(recordKeyString(p.b))];
                if (!a || !c || a === c) continue;
                live.push({ ...p, a: { ...p.a, customerId: a }, b: { ...p.b, customerId: c } });
              }
              const plan = planLinks(live, opts, await traitsOfLinkable(trx, live, opts));
              const at = opts.at?.() ?? new Date().toISOString();
              await requireActive(trx, [...new Set(plan.merges.flatMap((m) => [m.survivorId, m.mergedId]))], true);
              for (const m of plan.merges) await mergeInto(trx, m, at);
              made.links += plan.merges.length;
              made.reviews += await insertCandidates(trx, at, plan.candidates);
              made.merges.push(...plan.merges.map((m) => ({ survivorId: m.survivorId, mergedId: m.mergedId, batch: b })));
            }
            await markScoredRange(trx, marked, scores.ends[i]);
            if (opts.decisionsSeen !== undefined) await requireNoDecisionSince(trx, opts.decisionsSeen); // last: held until the commit only
          });
          stats.probableLinks += made.links;
          stats.probableReviews += made.reviews;
          links.push(...made.merges);
          break;
        } catch (e) {
          if (!(e instanceof StaleResolutionError) || attempt >= 3) throw e;
          await rereadDecisions(opts);
        }
      }
      marked = scores.ends[i];
      unmarked = 0;
      for (let b = first; b <= i; b++) {
        stats.recordsCompared += scores.sizes[b];
        opts.onBatch?.(stats.recordsCompared);
      }
      first = i + 1;
    }
    await turnOfTheEventLoop();
  }
  stats.pairsCompared += scores.pairsCompared - (await overCounted(db, scores, before, links));
  stats.blocksSkipped += scores.blocksSkipped;
  return stats;
}

/** `upTo`: the batch's last record when no record after it in key order can have been compared (members after it are left unread). */
async function scoreBatch(
  opts: TierOptions,
  batch: SourceRecordKey[],
  stats: ProbabilisticStats,
  upTo: SourceRecordKey | null,
  blockSizes: Map<string, number>,
): Promise<void> {
  const settings = opts.rules.probabilistic!;
  const { db, model } = opts;
  const inBatch = new Set(batch.map(recordKeyString));
  const blocks = await blocksOf(db, batch);
  const { members, sizes, skipped } = await blockMembers(
    db,
    blocks.map((b) => b.key),
    settings.maxBlock,
    upTo,
    blockSizes,
  );
  stats.blocksSkipped += skipped;
  // A block whose records are all one customer already has nothing to compare: most identifier
  // blocks, after the rules. Only the others' members are read.
  const customersIn = (key: string) => new Set((members.get(key) ?? []).map((m) => m.customerId ?? recordKeyString(m)));
  const live = new Set([...members.keys()].filter((key) => customersIn(key).size > 1));
  const wanted = new Map<string, SourceRecordKey>();
  for (const k of batch) wanted.set(recordKeyString(k), k);
  for (const key of live) for (const k of members.get(key) ?? []) wanted.set(recordKeyString(k), k);
  const feats = (await featuresOfRecords(db, [...wanted.values()])) as Map<string, Rec>;

  // A name's frequency: the size of the record's largest name block, over all records.
  const nameFrequency = new Map<string, number>();
  for (const { key, record } of blocks) {
    if (blockFamily(key) !== 'n') continue;
    const k = recordKeyString(record);
    // The pair itself left out: two records of a rare name are not evidence that the name is common.
    nameFrequency.set(k, Math.max(nameFrequency.get(k) ?? 0, Math.max(0, (sizes.get(key) ?? 2) - 2) / Math.max(opts.records, 1)));
  }
  // How many records carry each batch record's name as written: an exact name weighs by it.
  const counts = await nameCounts(
    db,
    batch.flatMap((k) => feats.get(recordKeyString(k))?.name?.text ?? []),
  );
  // Values no evidence of one person: carried by too many records. (A value two people share is
  // weighed per pair: the household penalty where names differ, and no link without a name or
  // birthday in agreement.)
  const tooShared = new Set<string>();
  for (const { key } of blocks) {
    if (blockFamily(key) !== 'i' || tooShared.has(key)) continue;
    const size = sizes.get(key) ?? 0;
    // Members are read only for blocks of two to maxBlock records: one over the cap counts as too shared, one of a single record does not.
    if (size > settings.maxCarriers || (size > 1 && !members.has(key))) tooShared.add(key);
  }
  for (const k of batch) {
    const x = feats.get(recordKeyString(k));
    if (x) x.values = x.values.filter((v) => !tooShared.has(blockKey(`i:${v.kind}:${v.key}`)));
  }
  const seen = new Set<string>();
  const pairs: ScoredPair[] = [];
  for (const { key, record } of blocks) {
    const xKey = recordKeyString(record);
    const x = feats.get(xKey);
    if (!x?.customerId) continue;
    if (!live.has(key)) continue;
    for (const y0 of members.get(key) ?? []) {
      const yKey = recordKeyString(y0);
      if (yKey === xKey) continue;
      const y = feats.get(yKey);
      if (!y?.customerId || y.customerId === x.customerId) continue;
      // Each pair once: with a record compared before, or within the batch in key order.
      if (inBatch.has(yKey) ? yKey < xKey : !y.scored) continue;
      const pairKey = xKey < yKey ? `${xKey}\u0001${yKey}` : `${yKey}\u0001${xKey}`;
      if (seen.has(pairKey)) continue;
      seen.add(pairKey);
      stats.pairsCompared++;
      const pair = scorePair(x, xKey, y, yKey, model, settings.review, { nameFrequency: nameFrequency.get(xKey), nameCount: x.name ? counts.get(x.name.text) : undefined });
      if (pair) pairs.push(pair);
    }
  }

  await applyPlan(opts, planLinks(pairs, opts, await traitsOfLinkable(db, pairs, opts)), stats, (trx) => markScored(trx, batch));
}

/** A batch refused as stale may have met a steward's new decision: the next plan is made with it. */
async function rereadDecisions(opts: TierOptions): Promise<void> {
  if (opts.rereadDecisions) Object.assign(opts, await opts.rereadDecisions());
}

/** One batch's links and review candidates, written in one transaction with `mark` (its records compared). */
async function applyPlan(opts: TierOptions, plan: ReturnType<typeof planLinks>, stats: ProbabilisticStats, mark: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
  const at = opts.at?.() ?? new Date().toISOString();
  await opts.beforeWrite?.();
  let reviews = 0;
  await writeTransaction(opts.db, async (trx) => {
    await requireActive(trx, [...new Set(plan.merges.flatMap((m) => [m.survivorId, m.mergedId]))], true);
    for (const m of plan.merges) await mergeInto(trx, m, at);
    reviews = await insertCandidates(trx, at, plan.candidates);
    await mark(trx);
    if (opts.decisionsSeen !== undefined) await requireNoDecisionSince(trx, opts.decisionsSeen); // last: held until the commit only
  });
  // Counted once committed: a batch rolled back as stale is planned and counted again by its retry.
  stats.probableLinks += plan.merges.length;
  stats.probableReviews += reviews;
}

/** The traits of the customers an auto-link may join (few: most pairs are under `autoLink`). */
async function traitsOfLinkable(db: Knex, pairs: readonly ScoredPair[], opts: TierOptions): Promise<Map<string, CustomerTraits>> {
  const autoLink = opts.rules.probabilistic!.autoLink;
  const ids = new Set(pairs.filter((p) => p.about && p.score.weight >= autoLink).flatMap((p) => [p.a.customerId!, p.b.customerId!]));
  return customerTraits(db, [...ids], opts.rules);
}

/**
 * Links strongest first, each joining two customers (the older id survives) unless a steward
 * judged them different, the two customers' records hold different values of an exclusive
 * kind (two resident ids), or a record of each differs from the other in name and birthday
 * (`merge-check.ts`): those, and pairs under `autoLink`, become review candidates. Where the
 * two records had no birthdays to compare, the customers' birthdays weigh as theirs would
 * (`customerBirthday`), on the customers as the links before have joined them.
 */
function planLinks(pairs: ScoredPair[], opts: TierOptions, traits: ReadonlyMap<string, CustomerTraits>) {
  const settings = opts.rules.probabilistic!;
  const parent = new Map<string, string>();
  const find = (c: string): string => {
    let r = c;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  const members = new Map<string, Set<string>>();
  const membersOf = (root: string) => members.get(root) ?? new Set([root]);
  const judgedDifferent = (x: string, y: string) => {
    for (const a of membersOf(x)) for (const b of membersOf(y)) if (opts.differentPairs.has(`${a}\u0000${b}`)) return true;
    return false;
  };
  const held = new Map(traits);
  const merges: Array<{ survivorId: string; mergedId: string; actor: string; reason: string; evidence: Record<string, unknown> }> = [];
  const candidates: NewCandidate[] = [];
  for (const p of [...pairs].sort((x, y) => y.score.weight - x.score.weight)) {
    const ra = find(p.a.customerId!);
    const rb = find(p.b.customerId!);
    if (ra === rb) continue;
    const different = judgedDifferent(ra, rb);
    let differ = exclusiveApart(held.get(ra), held.get(rb), opts.rules) ?? exclusiveConflict(p.a, p.b, opts.rules);
    const linkable = p.score.weight >= settings.autoLink && p.about && !different && !differ;
    const birthday = linkable ? customerBirthday(p, held.get(ra), held.get(rb), opts.model) : null;
    const weight = birthday ? roundWeight(p.score.weight + birthday.weight) : p.score.weight;
    if (birthday && weight < settings.autoLink) differ = 'birthday';
    // Last, on the few pairs about to be linked: the records the link brings together.
    const apart = linkable && weight >= settings.autoLink ? mergeContradiction(held.get(ra)?.records ?? [], held.get(rb)?.records ?? []) : null;
    const evidence = { ...evidenceOf(p, settings, apart?.records), ...(birthday ? { customers: { birthday, weight } } : {}), ...(apart ? { merge: apart } : {}) };
    if (linkable && weight >= settings.autoLink && !apart) {
      const [survivor, merged] = ra < rb ? [ra, rb] : [rb, ra];
      parent.set(merged, survivor);
      const joined = joinTraits(held.get(survivor), held.get(merged));
      if (joined) held.set(survivor, joined);
      members.set(survivor, new Set([...membersOf(survivor), ...membersOf(merged)]));
      members.delete(merged);
      merges.push({
        survivorId: survivor,
        mergedId: merged,
        actor: PROBABILISTIC_ACTOR,
        reason: `probable match: weight ${weight} (auto-link at ${settings.autoLink})`,
        evidence,
      });
    } else if (!different) {
      const [c1, c2] = ra < rb ? [ra, rb] : [rb, ra];
      candidates.push({
        dedupeKey: `${PROBABLE_REASON}:${hash16(`${label(p.a)}\u0000${label(p.b)}`)}`,
        reason: PROBABLE_REASON,
        rule: 'probabilistic',
        kind: null,
        value: null,
        customerId: c1,
        otherCustomerId: c2,
        evidence: { ...evidence, ...(apart ? { differ: apart.differ } : differ ? { differ: [differ] } : {}) },
      });
    }
  }
  return { merges, candidates };
}

/**
 * The customers' birthdays at their best level and its weight, for a pair whose records had none
 * to compare (null otherwise, or when a customer has none). Only ever asked of a pair about to be
 * linked: it may stop a link (`贾佳`/`贾嘉` sharing an email, her other records born 36 years
 * apart), never make one, since the best of many birthdays agrees by chance more often than one.
 */
function customerBirthday(p: ScoredPair, a: CustomerTraits | undefined, b: CustomerTraits | undefined, model: MatchModel): { level: string; weight: number } | null {
  if (p.score.contributions.some((c) => c.comparison === 'birthday')) return null;
  const at = model.comparisons.findIndex((c) => c.name === 'birthday');
  const level = at >= 0 ? birthdayLevel(a, b) : null;
  return level ? { level, weight: roundWeight(model.levelWeight[at].get(level)!) } : null;
}

function exclusiveConflict(a: MatchFeatures, b: MatchFeatures, rules: IdentityRules): string | null {
  for (const kind of rules.exclusiveKinds) {
    const x = new Set(a.values.filter((v) => v.kind === kind).map((v) => v.key));
    const y = b.values.filter((v) => v.kind === kind).map((v) => v.key);
    if (x.size && y.length && !y.some((v) => x.has(v))) return kind;
  }
  return null;
}

/** `apart`: the records of `p.a`'s customer and of `p.b`'s that the check before the merge found two people (listed with the pair's own). */
function evidenceOf(p: ScoredPair, settings: NonNullable<IdentityRules['probabilistic']>, apart?: readonly [string, string]): Record<string, unknown> {
  const [a, b] = [label(p.a), label(p.b)];
  return {
    tier: 'probabilistic',
    pair: [a, b],
    records: {
      [p.a.customerId as string]: apart && apart[0] !== a ? [a, apart[0]] : [a],
      [p.b.customerId as string]: apart && apart[1] !== b ? [b, apart[1]] : [b],
    },
    weight: p.score.weight,
    autoLink: settings.autoLink,
    review: settings.review,
    household: p.score.household,
    contributions: p.score.contributions,
  };
}

const label = (r: { source: string; recordId: string }) => `${r.source}:${r.recordId}`;
