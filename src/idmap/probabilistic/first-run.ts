/**
 * A first comparison of the whole store (no record scored yet), scored block by block instead
 * of batch by batch. Per batch, the tier reads the blocks of the batch's records and the members
 * (and features) of each up to the batch, so a common name's block of 150 records was read again
 * by nearly every batch holding one of its members. Here each block of two to `maxBlock` records
 * whose members are more than one customer is read once, in key order, and every pair in it
 * scored as the batch that compares it would score it; only pairs at or above `review` are kept
 * (a few thousand at a million records), each tagged with that batch, for `tier.ts` to link batch
 * by batch with the customers as they are then.
 *
 * What a batch's comparison of a pair depends on, and why it is known before any batch runs:
 * - which batch compares it: the one holding the pair's later record (batches are the records in
 *   key order, `batchSize` at a time), whose record is `x`; within one batch, `x` is the earlier one;
 * - that it is compared once: in the first block of `x`'s blocks (as the store lists them) that
 *   holds `y` and is no larger than `maxBlock` (a block the batch finds all one customer holds no
 *   pair of two customers either), so the batch finds its pairs in the order (`x`, that block's
 *   place among `x`'s, `y`), which `tier.ts` keeps for pairs of equal weight. Such a block is one
 *   of those walked, so only those are listed per record (from the blocks' key index, with the
 *   store's order), not every block of every member;
 * - `x`'s name frequency and the values too shared to count: block sizes, which the tier never changes;
 *   the values of `y` are filtered too when it is in the same batch. The name's frequency and the
 *   count of its written form are read (`x`'s name blocks, the features' name index) only for the
 *   few pairs that reach `review` at the most their name can weigh;
 * - that the two are different customers: a tier link of an earlier batch can join them. Pairs of
 *   different customers as the rules left them are scored; `tier.ts` drops the ones joined by then
 *   and `overCounted` takes those under `review` out of the count.
 */
import type { Knex } from 'knex';
import type { IdentityRules } from '../rules';
import { recordKeyString } from '../tables';
import type { SourceRecordKey } from '../types';
import { blockFamily, blockKey } from './features';
import type { MatchModel } from './model';
import { pairOf, vectorReaching, type Rec, type ScoredPair } from './pairs';
import { blocksInOrder, blocksOf, featuresOfRecords, membersOfBlocks, mixedBlocksAfter, nameCounts, notableBlocks, recordsOfBlock, unscoredRecords } from './store';
import { turnWhenDue } from '../turns';

/** A kept pair: the batch that compares it, and its place in that batch's order of finding pairs. */
export interface BatchPair extends ScoredPair {
  batch: number;
  xKey: string;
  /** Position of the block the pair is found in among `x`'s walked blocks (in the store's order of `x`'s blocks: it orders `x`'s pairs as the batch finds them). */
  at: number;
  yKey: string;
}

export interface FirstRunScores {
  /** Last record of each batch, in key order, and each batch's record count. */
  ends: SourceRecordKey[];
  sizes: number[];
  /** Kept pairs by batch. */
  pairs: Map<number, BatchPair[]>;
  pairsCompared: number;
  blocksSkipped: number;
  /** The batch of a record: its index in `ends`. */
  batchOf(key: SourceRecordKey): number;
  /** Blocks over `maxBlock` records (never compared within). */
  big: ReadonlySet<string>;
}

/** A block member as its pairs use it: key string, batch, its blocks with a pair to compare (in the store's order), and what is worked out at most once. */
interface Member {
  k: string;
  r: Rec;
  batch: number;
  /** Indexes into the walked blocks (`mixed`), in the store's order. */
  blocks: readonly number[];
  /** The record with the values of blocks too shared left out (as its own batch compares it). */
  filtered: Rec | null;
}

/** Blocks whose members are read and scored at a time (at most `maxBlock` records each), and records of a block over `maxBlock` read at a time. */
const BLOCKS_AT_ONCE = 400;
const RECORDS_AT_ONCE = 20_000;

/**
 * Scores a first comparison by block; null when the store's key order is not the order of the
 * records' key strings (the batches' order could not be told apart from JavaScript's then).
 */
export async function scoreFirstRun(opts: { db: Knex; rules: IdentityRules; model: MatchModel; records: number; batchSize: number }): Promise<FirstRunScores | null> {
  const { db, model } = opts;
  const settings = opts.rules.probabilistic!;
  // Minutes of statements and scoring at a million records: the event loop gets a turn at least
  // every TURN_EVERY_MS between them, so the lease is renewed while it lasts (`turns.ts`).
  const turn = turnWhenDue();

  // The batches, as `unscoredRecords` makes them.
  const ends: SourceRecordKey[] = [];
  const endStrings: string[] = [];
  const sizes: number[] = [];
  let last = '';
  // Many batches a query: consecutive runs of `batchSize` records in key order are the batches.
  const page = opts.batchSize * 25;
  for (let after: SourceRecordKey | null = null; ;) {
    const keys = await unscoredRecords(db, after, page);
    for (let i = 0; i < keys.length; i++) {
      const s = recordKeyString(keys[i]);
      if (s <= last) return null;
      last = s;
      if ((i + 1) % opts.batchSize === 0 || i === keys.length - 1) {
        ends.push(keys[i]);
        endStrings.push(s);
        sizes.push((i % opts.batchSize) + 1);
      }
    }
    if (keys.length < page) break;
    after = keys[keys.length - 1];
    await turn();
  }
  const batchOfString = (s: string): number => {
    let lo = 0;
    let hi = endStrings.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (endStrings[mid] >= s) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  const big = new Set<string>();
  const tooShared = new Set<string>();
  const nameSizes = new Map<string, number>();
  for (const { key, n } of await notableBlocks(db, settings.maxBlock, settings.maxCarriers)) {
    if (n > settings.maxBlock) big.add(key);
    if (blockFamily(key) === 'i' && (n > settings.maxCarriers || n > settings.maxBlock)) tooShared.add(key);
    if (blockFamily(key) === 'n') nameSizes.set(key, n);
  }

  const out: FirstRunScores = { ends, sizes, pairs: new Map(), pairsCompared: 0, blocksSkipped: 0, batchOf: (k) => batchOfString(recordKeyString(k)), big };
  // The blocks with a pair to compare, in key order, and each record's among them in the store's
  // order of its blocks. A pair of two customers shares no block that is not one of these but one
  // over the cap, so the first block of x's these list that y is in is the first of x's blocks the
  // batch path finds the pair in: no record's every block need be read.
  const mixed: string[] = [];
  for (let after: string | null = null; ;) {
    const keys = await mixedBlocksAfter(db, after, settings.maxBlock, BLOCKS_AT_ONCE);
    mixed.push(...keys);
    if (keys.length < BLOCKS_AT_ONCE) break;
    after = keys[keys.length - 1];
    await turn();
  }
  const blocksOfRecord = await blocksInOrder(db, mixed);

  const scoreBlocks = async (from: number, to: number) => {
    const blocks = (await membersOfBlocks(db, mixed.slice(from, to))) as Map<string, Rec[]>;
    // What a pair needs of each of its records, worked out once per record instead of once per pair.
    const members = new Map<Rec, Member>();
    // A record `blocksInOrder` left out is in one walked block: the one it is met in.
    const memberOf = (r: Rec, block: number): Member => {
      let m = members.get(r);
      if (!m) {
        const k = recordKeyString(r);
        members.set(r, (m = { k, r, batch: batchOfString(k), blocks: blocksOfRecord.get(k) ?? [block], filtered: null }));
      }
      return m;
    };
    // As the batch reads them: values of blocks too shared dropped (x's, and y's in the same batch).
    const filteredOf = (m: Member) => (m.filtered ??= { ...m.r, values: m.r.values.filter((v) => !tooShared.has(blockKey(`i:${v.kind}:${v.key}`))) });
    // Pairs that may reach `review` once x's name frequency and count are known.
    const reaching: Array<{ x: Member; y: Member; xr: Rec; yr: Rec; vector: Array<string | null>; at: number }> = [];
    for (let block = from; block < to; block++) {
      const due = turn(); // a clock read per block; a microtask only when a turn is due
      if (due) await due;
      const list = blocks.get(mixed[block]);
      if (!list) continue;
      const recs = list.map((r) => memberOf(r, block));
      for (let i = 0; i < recs.length; i++) {
        for (let j = i + 1; j < recs.length; j++) {
          const p = recs[i];
          const q = recs[j];
          if (p.r.customerId === q.r.customerId) continue;
          // x: the later batch's record, or within one batch the earlier in key order (the batch reads its records' blocks in that order).
          const xIsP = p.batch !== q.batch ? p.batch > q.batch : p.k < q.k;
          const x = xIsP ? p : q;
          const y = xIsP ? q : p;
          // Walked blocks are never over the cap: the first of x's that y is in is where the batch finds the pair.
          let at = -1;
          for (let b = 0; b < x.blocks.length; b++) {
            if (y.blocks.includes(x.blocks[b])) {
              at = b;
              break;
            }
          }
          if (x.blocks[at] !== block) continue; // found in an earlier block of x's
          out.pairsCompared++;
          const xr = filteredOf(x);
          const yr = y.batch === x.batch ? filteredOf(y) : y.r;
          const vector = vectorReaching(xr, yr, model, settings.review);
          // At most what the name can weigh: its frequency unknown yet, an exact name as rare as can be.
          if (vector && Math.max(model.weightOf(vector), model.weightOf(vector, { nameCount: 2 })) >= settings.review) reaching.push({ x, y, xr, yr, vector, at });
        }
      }
    }
    // A name's frequency: the size of x's largest name block, over all records (every block of x's, read for these few).
    const frequency = new Map<string, number>();
    await turn();
    for (const { key, record } of await blocksOf(
      db,
      [...new Set(reaching.map((p) => p.x))].map((m) => m.r),
      turn,
    )) {
      if (blockFamily(key) !== 'n') continue;
      const k = recordKeyString(record);
      frequency.set(k, Math.max(frequency.get(k) ?? 0, Math.max(0, (nameSizes.get(key) ?? 2) - 2) / Math.max(opts.records, 1)));
    }
    const counts = await nameCounts(
      db,
      reaching.flatMap((p) => p.x.r.name?.text ?? []),
      turn,
    );
    for (const { x, y, xr, yr, vector, at } of reaching) {
      const due = turn(); // a few thousand pairs at a million records, but every pair of a common name's block may reach
      if (due) await due;
      const pair = pairOf(xr, x.k, yr, y.k, vector, model, settings.review, {
        nameFrequency: frequency.get(x.k),
        nameCount: x.r.name ? counts.get(x.r.name.text) : undefined,
      });
      if (!pair) continue;
      const kept = out.pairs.get(x.batch) ?? [];
      out.pairs.set(x.batch, kept);
      kept.push({ ...pair, a: { ...pair.a }, b: { ...pair.b }, batch: x.batch, xKey: x.k, at, yKey: y.k });
    }
  };

  // A block over `maxBlock` is skipped once by each batch holding one of its records.
  for (const key of big) {
    const seen = new Set<number>();
    for (let after: SourceRecordKey | null = null; ;) {
      const page = await recordsOfBlock(db, key, after, RECORDS_AT_ONCE);
      for (const r of page) seen.add(batchOfString(recordKeyString(r)));
      if (page.length < RECORDS_AT_ONCE) break;
      after = page[page.length - 1];
      await turn();
    }
    out.blocksSkipped += seen.size;
  }

  for (let i = 0; i < mixed.length; i += BLOCKS_AT_ONCE) {
    await turn();
    await scoreBlocks(i, Math.min(i + BLOCKS_AT_ONCE, mixed.length));
  }
  return out;
}

/**
 * Pairs counted by `scoreFirstRun` that the batches would not have compared: two customers the
 * rules left apart, joined by the tier's links of earlier batches before the pair's batch. Only
 * records of customers the tier linked can be such pairs; they are few.
 */
export async function overCounted(
  db: Knex,
  scores: FirstRunScores,
  /** Records of the linked customers, as the rules left them (read before the first link). */
  before: ReadonlyArray<SourceRecordKey & { customerId: string }>,
  /** The tier's links in order, with the batch that made each. */
  links: ReadonlyArray<{ survivorId: string; mergedId: string; batch: number }>,
): Promise<number> {
  if (!links.length) return 0;
  const feats = await featuresOfRecords(db, before);
  const recs = before.filter((r) => feats.has(recordKeyString(r)));
  const byKey = new Map(recs.map((r) => [recordKeyString(r), r]));
  const members = new Map<string, string[]>();
  for (const { key, record } of await blocksOf(db, recs)) {
    if (scores.big.has(key)) continue;
    const list = members.get(key) ?? [];
    members.set(key, list);
    list.push(recordKeyString(record));
  }
  // Pairs of two customers as the rules left them, each with the batch that would compare it.
  const pairs = new Set<string>();
  const apart: Array<{ a: string; b: string; batch: number }> = [];
  for (const list of members.values()) {
    for (const p of list) {
      for (const q of list) {
        if (p >= q || pairs.has(`${p}\u0001${q}`)) continue;
        pairs.add(`${p}\u0001${q}`);
        const [a, b] = [byKey.get(p)!, byKey.get(q)!];
        if (a.customerId !== b.customerId) apart.push({ a: a.customerId, b: b.customerId, batch: Math.max(scores.batchOf(a), scores.batchOf(b)) });
      }
    }
  }
  // In batch order, joining the customers of each link made by an earlier batch as they come:
  // one pass over links and pairs (a union-find rebuilt per pair took 20 minutes at 50,000 records).
  apart.sort((x, y) => x.batch - y.batch);
  const ordered = [...links].sort((x, y) => x.batch - y.batch);
  const parent = new Map<string, string>();
  const find = (c: string): string => {
    let root = c;
    while (parent.has(root)) root = parent.get(root)!;
    for (let at = c; at !== root;) {
      const next = parent.get(at)!;
      parent.set(at, root);
      at = next;
    }
    return root;
  };
  let n = 0;
  let joined = 0;
  for (const { a, b, batch } of apart) {
    for (; joined < ordered.length && ordered[joined].batch < batch; joined++) {
      const [from, to] = [find(ordered[joined].mergedId), find(ordered[joined].survivorId)];
      if (from !== to) parent.set(from, to);
    }
    if (find(a) === find(b)) n++;
  }
  return n;
}
