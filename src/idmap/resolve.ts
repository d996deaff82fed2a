/**
 * The identity resolution job.
 *
 * Step one reads every connector's `scan(cursor)` page by page and stages each page in the
 * store (`stage.ts`), saving the source's cursor in the same transaction, so a re-run reads
 * only what changed since. Step two links the records staged pending (`link.ts`), source by
 * source in the connectors' order, a batch at a time, each batch looking up the identifiers
 * it needs in the store and applied in one transaction.
 *
 * Staging everything before linking anything is deliberate: when a batch weighs a phone,
 * every record carrying it is already in the store, so a household's second person is seen
 * even if the scan order would have brought them last. Memory stays bounded by the page and
 * batch sizes, never the number of records.
 *
 * Idempotent: an unchanged record writes nothing, and a run with nothing pending writes
 * nothing. Runs on one store are serialized: within a process by a queue (a webhook's
 * `resolveRecords` waits for a running scan), across processes by a lease in the store
 * (`lock.ts`), so the gateway and a `c360 resolve` job may share it. A steward's concurrent
 * change is safe: a batch a merge invalidates, or planned before a split, unlink or rejection
 * was recorded (its decision not yet in the plan), is re-planned.
 */
import fs from 'node:fs';
import type { Knex } from 'knex';
import { monotonicFactory } from 'ulid';
import { isMysql, sqliteFileOf } from '../db';
import { holdCheckpoints } from '../sqlite-checkpointer';
import { type Connector, type ScannedRecord, type SourceName } from '../vocabulary';
import { emptyLinkStats, loadBatch, planBatch, type LinkContext, type LinkStats } from './link';
import { linkStoreOf, type LinkStore } from './link-store';
import type { IdentityRules } from './rules';
import { ResolutionInterruptedError, withLease, type Lease, type LeaseOptions } from './lock';
import { withHeapGrowth } from './heap-growth';
import { turnOfTheEventLoop } from './turns';
import { emptyStageStats, featuresOfPage, stagePage, type StageStats } from './stage';
import { startPreparer, type Preparer } from './prepare-thread';
import { createStagedFilter, type StagedFilter } from './staged-filter';
import { stagedPages, type StagedPages } from './staged-pages';
import { emptyProbabilisticStats, runProbabilisticTier, type ProbabilisticStats } from './probabilistic/tier';
import { finishEventBulkLoad, finishIdentifierBulkLoad, needIdentifiersByRecord, startEventBulkLoad, startIdentifierBulkLoad } from './bulk-load';
import { featureCount, finishBulkLoad, markAllUnscored, startBulkLoad, storedPeriods, withoutUnchanged, writeFeatures } from './probabilistic/store';
import { loadWeights, modelOf, roundWeight, type MatchModel, type WeightsFile } from './probabilistic/model';
import { beginChance, cancelChance, endChance, storeChance, withChance, type ChancePlan, type StoreChance } from './probabilistic/store-chance';
import { createProgress, type Progress, type ProgressLog } from './progress';
import { createIdMapStore, type IdMapStore } from './store';
import { detachUntied, emptyReleased, noteReleased, type Released } from './detach';
import { StaleResolutionError, latestDecision, supersedeJoinedCandidates } from './writes';
import { writeTransaction } from './tables';

export interface ResolveOptions {
  /** The store, or a knex to build one on (migrated). */
  store?: IdMapStore;
  db?: Knex;
  connectors: readonly Connector[];
  rules: IdentityRules;
  /**
   * Records asked of a connector per scan page (default DEFAULT_SCAN_PAGE). A connector whose
   * API allows fewer (the HTTP ones: 1000) clamps it; SQL sources take the whole page.
   */
  pageSize?: number;
  /** Pending records linked per transaction (default DEFAULT_LINK_BATCH). */
  batchSize?: number;
  /** How long to wait for another process's run on the same store, and the lease's lifetime. */
  lease?: LeaseOptions;
  /** Where progress goes (records, rate, ETA), at most every `progressEveryMs` (default 10 s). No personal data. */
  log?: ProgressLog;
  progressEveryMs?: number;
  /**
   * `deterministic`: stop after the rules' tier (features are still staged, the second tier
   * compares them on a later run). `none`: stage only; the records stay pending and the next run
   * links them (a first load split in two, e.g. to time or profile the link phase alone).
   */
  tiers?: 'none' | 'deterministic' | 'all';
  /**
   * The probabilistic tier compares every record again, not only new and changed ones: after its
   * weights or thresholds changed, what they now link or propose is linked or proposed. Earlier
   * links stay (a steward splits what should not have been), and a pair judged different stays apart.
   */
  recompare?: boolean;
  /**
   * Every source is read again from its start and every record staged again as this version
   * normalizes it: identifiers, name and birthday keys and match features the store holds in an
   * older form are rewritten (changed identifiers end and start with their events, and re-link as
   * a source's change would), and records whose features changed are compared again. For an
   * upgrade that changed normalization; a store already current writes nothing. The store marks a
   * restage under way until a run ends it: the next run after one stopped goes on restaging from
   * where it stopped (asked to restage again, it starts over from every source's start).
   */
  restage?: boolean;
}

/** Name of the store lease every resolution run holds. */
export const RESOLUTION_LEASE = 'resolution';

/**
 * Measured with bench/resolve.ts (on the storage layout before migration 20261122000100): pages
 * of 5,000 and batches of 6,000 were 16% faster on 215,314 records but 12% slower on 1,000,901
 * (377 s against 336 s, link time grows with the batch), so the defaults stay at 1,000 and 2,000.
 * Memory grows with the batch, never with the world.
 */
export const DEFAULT_SCAN_PAGE = 1000;
export const DEFAULT_LINK_BATCH = 2000;

export interface ResolveStats extends StageStats, LinkStats, ProbabilisticStats {
  /** `recordsRead` by source: what each source's scan (or a webhook's re-read) answered. */
  recordsReadBySource: Partial<Record<SourceName, number>>;
  /** Records each source's scan left out because they could not be read (`ScanPage.malformed`): not staged, their cursor moved past them. */
  recordsMalformedBySource: Partial<Record<SourceName, number>>;
  pagesRead: number;
  batches: number;
  /** Batches re-planned because the store changed under them. */
  retries: number;
  /** This run went on with a restage a stopped run had begun (`ResolveOptions.restage`). */
  restageResumed: boolean;
  /** Time spent scanning and staging, linking by the rules, and in the probabilistic tier. */
  stageMs: number;
  linkMs: number;
  probabilisticMs: number;
  ms: number;
  /** This process's CPU (user + system, every thread: the preparer's and the counting worker's too) in each phase. */
  stageCpuMs: number;
  linkCpuMs: number;
  probabilisticCpuMs: number;
}

const MAX_RETRIES = 3;
/** Link phases a run adds at most for values a settled conflict left to weigh again (`run`). */
const MAX_RELINK_ROUNDS = 5;

/** Scans every connector from its saved cursor, then links everything pending. */
export async function resolve(opts: ResolveOptions): Promise<ResolveStats> {
  const store = storeOf(opts);
  const progress = createProgress(opts.log, opts.progressEveryMs);
  const tiers = opts.tiers ?? 'all';
  // u counted while the rules link (it needs no customer), on the core linking leaves idle.
  let chance: ChancePlan | undefined;
  const untied = emptyReleased();
  /** The rules' link phase over every connector's pending records. */
  const linkAll = (lease: Lease, stats: ResolveStats) =>
    linkPending(
      store,
      lease,
      opts.rules,
      opts.connectors.map((c) => c.name),
      opts.batchSize ?? DEFAULT_LINK_BATCH,
      stats,
      progress,
    );
  try {
    return await oneAtATime(store, opts.lease, async (lease) => {
      // A restage a stopped run began (its marker, `idmap_restages`) goes on from the cursors that
      // run reached, staging as a restage does; a run asked to restage begins one afresh instead.
      const resumed = opts.restage ? null : await store.restageUnderWay();
      if (resumed) opts.log?.info({ restageStartedAt: resumed }, 'resolution: resuming the restage a stopped run began; sources are read on from where it stopped');
      const restaging = Boolean(opts.restage || resumed);
      const stats = await withBulkSettings(store.db, () =>
        run(
          store,
          lease,
          async (stats) => {
            const bulk = opts.rules.probabilistic ? await startBulkLoad(store.db) : false;
            const bulkIdentifiers = await startIdentifierBulkLoad(store.db); // first finishes a stopped run's load
            // A first resolution: what is stored is what this run staged.
            const staged = (await store.db('idmap_source_records').first('source')) ? undefined : createStagedFilter();
            const restage = restaging && !staged;
            if (restage && !resumed) {
              await lease.ensureHeld();
              await store.beginRestage(
                opts.connectors.map((c) => c.name),
                new Date().toISOString(),
              );
            }
            const preparer = startPreparer();
            try {
              for (const c of opts.connectors)
                await scanSource(store, lease, c, opts.rules, opts.pageSize ?? DEFAULT_SCAN_PAGE, stats, progress, bulk, preparer, staged, bulkIdentifiers, restage, untied);
            } finally {
              await preparer.close();
            }
            if (bulkIdentifiers) await finishIdentifierBulkLoad(store.db);
            if (bulk) await finishBulkLoad(store.db);
          },
          async (stats) => {
            if (tiers === 'none') return;
            if (tiers === 'all') chance = await beginStoreChance(store, opts.rules, Boolean(opts.recompare));
            await detach(store, lease, opts.rules, untied, stats);
            await linkAll(lease, stats);
          },
          // V8's heap held near what is live while the tier scores (`heap-growth.ts`): its peak is the run's.
          (stats) => (tiers === 'all' ? withHeapGrowth(() => probabilisticTier(store, lease, opts.rules, stats, progress, opts.recompare, true, chance)) : Promise.resolve()),
          // A restage brings the whole store up to this version: candidates an earlier one left open are settled too.
          restaging,
          tiers === 'none' ? undefined : (stats) => linkAll(lease, stats),
        ),
      );
      if (restaging) {
        // Only a run that reached its end: one stopped before leaves the marker for the next.
        await lease.ensureHeld();
        await store.endRestage();
      }
      stats.restageResumed = Boolean(resumed);
      return stats;
    });
  } finally {
    cancelChance(chance);
  }
}

/** A full run's count of u begun before the rules link, where the rules count it on the store. */
async function beginStoreChance(store: IdMapStore, rules: IdentityRules, recount: boolean): Promise<ChancePlan | undefined> {
  const p = rules.probabilistic;
  if (!p || p.chance !== 'store') return undefined;
  return beginChance(store.db, weightsOf(p.weightsFile), await featureCount(store.db), { maxBlock: p.maxBlock, recount });
}

/**
 * A scan on SQLite runs with settings for a long write, given back after (they are the
 * connection's: a gateway sharing the store gets its own back). Neither changes durability
 * (WAL, synchronous) or what a crash can lose; both trade memory or disk for fewer writes:
 * - RESOLUTION_PAGE_CACHE_KIB of page cache instead of about 16 MB (better-sqlite3's default): a
 *   store outgrows that early (1.4 GB at a million records), and each batch's random index reads
 *   and writes then went back to the file.
 * - A WAL checkpoint every RESOLUTION_CHECKPOINT_PAGES pages (about 512 MiB of WAL on disk) instead
 *   of every 10,000 (src/db.ts): staging inserts rows in the sources' scan order, scattered over
 *   the records' key order, so each commit rewrites pages a commit before it wrote too, and a
 *   checkpoint copies (and syncs) each page once however many commits rewrote it.
 */
export const RESOLUTION_PAGE_CACHE_KIB = 131072;
export const RESOLUTION_CHECKPOINT_PAGES = 131072;

async function withBulkSettings<T>(db: Knex, job: () => Promise<T>): Promise<T> {
  if (isMysql(db)) return job();
  const pragma = async (name: string) => Number(((await db.raw(`PRAGMA ${name}`)) as Array<Record<string, number>>)[0]?.[name]);
  const cache = await pragma('cache_size');
  const checkpoint = await pragma('wal_autocheckpoint');
  await db.raw(`PRAGMA cache_size = -${RESOLUTION_PAGE_CACHE_KIB}`);
  await db.raw(`PRAGMA wal_autocheckpoint = ${RESOLUTION_CHECKPOINT_PAGES}`);
  // A gateway's checkpointer of this file (src/sqlite-checkpointer.ts) would copy every batch's pages each second.
  const filename = (db.client.config.connection as { filename?: string } | undefined)?.filename;
  const file = filename ? sqliteFileOf({ client: 'sqlite', filename }) : null;
  const release = file ? holdCheckpoints(file) : () => undefined;
  try {
    return await job();
  } finally {
    release();
    await db.raw(`PRAGMA cache_size = ${Number.isFinite(cache) ? cache : -16000}`);
    await db.raw(`PRAGMA wal_autocheckpoint = ${Number.isFinite(checkpoint) ? checkpoint : 10000}`);
  }
}

/**
 * Re-resolves a few records without a scan (a webhook said they changed): `records` are what
 * the connectors' `scanRecords` answered. Cursors are left alone.
 */
export async function resolveRecords(opts: {
  store?: IdMapStore;
  db?: Knex;
  rules: IdentityRules;
  records: ReadonlyArray<ScannedRecord | null>;
  lease?: LeaseOptions;
}): Promise<ResolveStats> {
  const store = storeOf(opts);
  const bySource = new Map<SourceName, ScannedRecord[]>();
  for (const r of opts.records) if (r) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
  const untied = emptyReleased();
  return oneAtATime(store, opts.lease, (lease) =>
    run(
      store,
      lease,
      async (stats) => {
        // A first resolution a stopped run left unfinished, before these records are staged: a
        // record deleted meanwhile would otherwise get its loaded features back when the load ends.
        await finishIdentifierBulkLoad(store.db);
        if (opts.rules.probabilistic) await finishBulkLoad(store.db);
        for (const [source, list] of bySource) await stageRecords(store, lease, source, list, opts.rules, stats, undefined, false, undefined, undefined, false, untied);
      },
      async (stats) => {
        await detach(store, lease, opts.rules, untied, stats);
        await linkPending(store, lease, opts.rules, [...bySource.keys()], DEFAULT_LINK_BATCH, stats);
      },
      // Never counts u and the prior (seconds of CPU on a large store, in the gateway's process, while a sender waits): the next full run does.
      (stats) => probabilisticTier(store, lease, opts.rules, stats, undefined, false, false),
      false,
      (stats) => linkPending(store, lease, opts.rules, [...bySource.keys()], DEFAULT_LINK_BATCH, stats),
    ),
  );
}

async function run(
  store: IdMapStore,
  lease: Lease,
  stage: (s: ResolveStats) => Promise<void>,
  link: (s: ResolveStats) => Promise<void>,
  second: (s: ResolveStats) => Promise<void>,
  /** Settle answered candidates even when this run merged nothing. */
  sweep = false,
  /** The rules' link phase alone, for the values a settled conflict left to weigh again; none: the next run weighs them. */
  relink?: (s: ResolveStats) => Promise<void>,
): Promise<ResolveStats> {
  const started = Date.now();
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const cpuStarted = cpu();
  const stats = emptyStats();
  await stage(stats);
  stats.stageMs = Date.now() - started;
  stats.stageCpuMs = cpu() - cpuStarted;
  await link(stats);
  stats.linkMs = Date.now() - started - stats.stageMs;
  stats.linkCpuMs = cpu() - cpuStarted - stats.stageCpuMs;
  await second(stats);
  // Review candidates this run's merges answered leave the queue (only a merge makes two customers one).
  if (sweep || stats.customersMerged || stats.probableLinks) {
    for (let round = 0; ; round++) {
      await lease.ensureHeld();
      stats.candidatesSuperseded += await writeTransaction(store.db, (trx) => supersedeJoinedCandidates(trx, new Date().toISOString()));
      // A settled conflict's value is pending again (`supersedeJoinedCandidates`): the rules weigh it
      // now, so that a run leaves nothing for the next one to link. Each round that merges settles
      // candidates only a merge could settle, and merges are finite; the bound is a backstop.
      if (!relink || round >= MAX_RELINK_ROUNDS || !(await store.pendingSources()).length) break;
      const merged = stats.customersMerged;
      await relink(stats);
      if (stats.customersMerged === merged) break;
    }
  }
  stats.ms = Date.now() - started;
  stats.probabilisticMs = stats.ms - stats.stageMs - stats.linkMs;
  stats.probabilisticCpuMs = cpu() - cpuStarted - stats.stageCpuMs - stats.linkCpuMs;
  return stats;
}

const weightsFiles = new Map<string, { mtime: number; weights: WeightsFile }>();

/** The rules' weights file, read once per version. */
function weightsOf(file: string): WeightsFile {
  const mtime = fs.statSync(file).mtimeMs;
  const known = weightsFiles.get(file);
  if (known && known.mtime === mtime) return known.weights;
  const weights = loadWeights(file);
  weightsFiles.set(file, { mtime, weights });
  return weights;
}

/** The match model for a run on `records` records: the weights file's m, and u from the store when the rules say so and it has enough records. */
async function modelFor(
  store: IdMapStore,
  lease: Lease,
  rules: IdentityRules,
  records: number,
  stats: ResolveStats,
  recount: boolean,
  count: boolean,
  /** The count `beginChance` started before the rules linked, if any. */
  early?: ChancePlan,
): Promise<MatchModel | null> {
  const p = rules.probabilistic;
  if (!p) return null;
  const weights = weightsOf(p.weightsFile);
  const beforeWrite = () => lease.ensureHeld();
  let chance: StoreChance | null = null;
  if (p.chance === 'store') {
    // A count begun before linking stands when it was planned on as many records as the tier now has (linking changes no features).
    if (early && (!('records' in early) || early.records === records)) chance = await endChance(store.db, early, { beforeWrite });
    else {
      cancelChance(early);
      chance = await storeChance(store.db, weights, records, { maxBlock: p.maxBlock, recount, count, beforeWrite });
    }
  }
  if (chance?.counted) stats.chanceCountedOn = chance.records;
  const model = modelOf(withChance(weights, chance), p.householdPenalty, { records, placeShares: chance?.u });
  stats.priorWeight = roundWeight(model.priorWeight);
  return model;
}

/**
 * The second tier over every record whose features changed (`probabilistic/tier.ts`); nothing when
 * the rules leave it off. `count`: u and the prior may be counted on the store now (full runs);
 * false keeps what is stored (`storeChance`).
 */
async function probabilisticTier(
  store: IdMapStore,
  lease: Lease,
  rules: IdentityRules,
  stats: ResolveStats,
  progress?: Progress,
  recompare = false,
  count = true,
  early?: ChancePlan,
) {
  if (!rules.probabilistic) return;
  await finishBulkLoad(store.db); // a bulk load a stopped run left unfinished
  if (recompare) {
    await lease.ensureHeld();
    await markAllUnscored(store.db);
  }
  const records = await featureCount(store.db);
  const model = await modelFor(store, lease, rules, records, stats, recompare, count, early);
  if (!model) return;
  const total = progress ? await countUnscored(store) : 0;
  progress?.phase('probabilistic', total);
  await runProbabilisticTier(
    {
      db: store.db,
      rules,
      model,
      records,
      beforeWrite: () => lease.ensureHeld(),
      ...(await decisionsOf(store)),
      rereadDecisions: () => decisionsOf(store),
      onBatch: (done) => progress?.tick(done),
    },
    stats,
  );
  progress?.done();
}

async function scanSource(
  store: IdMapStore,
  lease: Lease,
  connector: Connector,
  rules: IdentityRules,
  pageSize: number,
  stats: ResolveStats,
  progress: Progress | undefined,
  bulk: boolean,
  preparer: Preparer,
  staged: StagedFilter | undefined,
  /** A first resolution's bulk load is under way (bulk-load.ts): its new records are appended to the load table. */
  bulkRecords: boolean,
  /** `ResolveOptions.restage`: unchanged records' match features are checked too. */
  restage: boolean,
  untied: Released,
) {
  progress?.phase(`scan ${connector.name}`, null);
  const before = stats.recordsRead;
  // A page is sent to the preparer's worker as soon as the source answers it.
  // A scan given up because the run was asked to stop (it waited on a source's Retry-After) is the
  // stop, not a source failure: the run ends as one stopped before its next write.
  const scan = (from: string | null) =>
    connector.scan(from, pageSize, lease.signal).then(
      (page) => preparer.prepare(page.records, rules).then(() => page),
      (e) => {
        if (lease.signal?.aborted) throw new ResolutionInterruptedError();
        throw e;
      },
    );
  let cursor = await store.scanCursor(connector.name);
  // A first resolution writes its pages in groups (staged-pages.ts), each after a turn of the event loop (see stageRecords).
  const group = staged
    ? stagedPages(async (pages) => {
        await turnOfTheEventLoop();
        await lease.ensureHeld();
        await store.applyScanPages(pages, bulkRecords);
      })
    : undefined;
  let asked = scan(cursor);
  for (;;) {
    const page = await asked.catch(async (e) => {
      await group?.flush(); // what was staged is kept, as when each page was written at once
      if (bulkRecords) await needIdentifiersByRecord(store.db); // and in the source records' table (bulk-load.ts)
      throw e;
    });
    stats.pagesRead++;
    if (page.malformed) stats.recordsMalformedBySource[connector.name] = (stats.recordsMalformedBySource[connector.name] ?? 0) + page.malformed;
    const next = page.cursor != null && page.cursor !== cursor ? page.cursor : undefined;
    // The next page is asked for before this one is staged: a source behind HTTP answers, and
    // the worker prepares its records, while the store writes (pages are still staged one at a
    // time, in order). A failure is met when that page is awaited; one never awaited (staging
    // failed first) is not left unhandled.
    if (!page.done && next !== undefined) {
      asked = scan(next);
      asked.catch(() => undefined);
    }
    await stageRecords(store, lease, connector.name, page.records, rules, stats, next, bulk, staged, group, restage, untied);
    progress?.tick(stats.recordsRead - before);
    if (page.done || next === undefined) await group?.flush();
    if (page.done) return progress?.done();
    if (next === undefined) throw new Error(`The ${connector.name} scan made no progress at cursor ${JSON.stringify(cursor)} without reaching the end`);
    cursor = next;
    await turnOfTheEventLoop();
  }
}

async function stageRecords(
  store: IdMapStore,
  lease: Lease,
  source: SourceName,
  records: readonly ScannedRecord[],
  rules: IdentityRules,
  stats: ResolveStats,
  cursor?: string,
  bulk = false,
  /** Given on a first resolution: records it says were never staged have no stored state to read. */
  staged?: StagedFilter,
  /** Given on a first resolution: the page is held and written with others (staged-pages.ts). */
  group?: StagedPages,
  restage = false,
  /** What this page let go of: checked by `detachUntied` before linking. */
  untied?: Released,
) {
  const ids = staged ? records.filter((r) => staged.mayHave(source, r.recordId)).map((r) => r.recordId) : records.map((r) => r.recordId);
  // Records that may have been staged are read as stored: the pages held are written first, and read by record.
  if (group && ids.length) {
    await group.flush();
    await needIdentifiersByRecord(store.db);
  }
  const stored = ids.length ? await store.storedRecords(source, ids) : new Map();
  const changes = stagePage(source, records, stored, rules, new Date().toISOString(), stats, restage);
  if (untied) noteReleased(untied, changes, stored, rules);
  stats.recordsReadBySource[source] = (stats.recordsReadBySource[source] ?? 0) + records.length;
  if (cursor !== undefined) changes.cursor = cursor;
  // One turn of the event loop before the page is written: a next page that a source behind HTTP
  // has answered by now is read and sent to the preparer's worker, which prepares it while this
  // page is written (SQLite statements never yield; without it, the page reached the worker after
  // the commit). Not inside the write transaction: a turn there lets another connection of this
  // process ask for the lock, and SQLite's busy wait would then block the very thread holding it.
  await turnOfTheEventLoop();
  await lease.ensureHeld();
  // The page's match features are written in its transaction (one commit a page, and a run
  // stopped between the two can no longer leave a staged record without them).
  const features = rules.probabilistic
    ? async (trx: Knex) => {
        // A record staged before brings its history: values a re-scan found gone, with when.
        const restaged = [...changes.updates.filter((u) => !u.deleted).map((u) => u.recordId), ...(changes.recheck ?? [])];
        const page = featuresOfPage(source, records, changes, rules, await storedPeriods(trx, source, restaged));
        // A record a restage found unchanged is written again only where its stored features differ.
        const recheck = new Set(changes.recheck);
        const features = recheck.size ? await withoutUnchanged(trx, source, page.features, recheck) : page.features;
        stats.recordsRestaged += recheck.size ? features.filter((f) => recheck.has(f.recordId)).length : 0;
        await writeFeatures(trx, source, features, page.deleted, page.fresh, bulk);
      }
    : undefined;
  if (group && staged) {
    for (const r of records) staged.add(source, r.recordId);
    return group.add({ changes, alsoIn: features }, records.length);
  }
  await store.applyScanChanges(changes, features);
  if (staged) for (const r of records) staged.add(source, r.recordId);
}

/** Undoes the links of `customers` no shared value supports any more (`detach.ts`); the records it lets go are pending. */
async function detach(store: IdMapStore, lease: Lease, rules: IdentityRules, released: Released, stats: ResolveStats) {
  if (!released.customers.size && !released.values.size) return;
  stats.recordsUntied += await detachUntied(store.db, rules, released, new Date().toISOString(), () => lease.ensureHeld());
}

/** Links every pending record, sources in `order` first, then any other source with pending records. */
async function linkPending(store: IdMapStore, lease: Lease, rules: IdentityRules, order: readonly SourceName[], batchSize: number, stats: ResolveStats, progress?: Progress) {
  progress?.phase('link', progress ? await countPending(store) : null);
  const before = stats.recordsResolved;
  const ctx: LinkContext = { rules, settledValues: new Set(), ...(await decisionsOf(store)), newCustomerId: monotonicFactory() };
  const links = linkStoreOf(store);
  const bulk = await startEventBulkLoad(store.db); // an empty map: the link log's customer indexes are built after (bulk-load.ts)
  try {
    for (const source of [...new Set([...order, ...(await store.pendingSources())])]) {
      let after: string | null = null;
      for (;;) {
        const last = await linkNextBatch(links, lease, source, after, batchSize, ctx, stats, async () => Object.assign(ctx, await decisionsOf(store)));
        progress?.tick(stats.recordsResolved - before);
        if (last == null) break;
        after = last;
        await turnOfTheEventLoop();
      }
    }
  } finally {
    if (bulk) await finishEventBulkLoad(store.db);
  }
}

/**
 * Links the next batch of pending records after `after`; answers the last record id linked,
 * or null when none was pending. A batch the store changed under is read and planned again.
 */
async function linkNextBatch(
  store: LinkStore,
  lease: Lease,
  source: SourceName,
  after: string | null,
  batchSize: number,
  ctx: LinkContext,
  stats: ResolveStats,
  /** Reads the decisions into `ctx` again (a steward decided while the batch was planned). */
  rereadDecisions: () => Promise<unknown>,
): Promise<string | null> {
  for (let attempt = 0; ; attempt++) {
    const batch = await store.pendingRecords(source, after, batchSize);
    if (!batch.length) return null;
    const data = await loadBatch(store, batch, ctx);
    const { plan, stats: s, settled } = planBatch(data, ctx, new Date().toISOString());
    try {
      await lease.ensureHeld();
      const { candidatesCreated } = await store.applyResolution({ ...plan, decisionsSeen: ctx.decisionsSeen });
      for (const k of settled) ctx.settledValues.add(k);
      addLinkStats(stats, { ...s, candidatesCreated });
      stats.batches++;
      return batch[batch.length - 1].recordId;
    } catch (e) {
      if (!(e instanceof StaleResolutionError) || attempt >= MAX_RETRIES) throw e;
      stats.retries++;
      await rereadDecisions();
    }
  }
}

const running = new WeakMap<object, Promise<unknown>>();

/**
 * Runs `job` after any resolution this process is already running on the same store (by the
 * store's db), holding the store's lease against other processes.
 */
function oneAtATime<T>(store: IdMapStore, lease: LeaseOptions | undefined, job: (lease: Lease) => Promise<T>): Promise<T> {
  const key = store.db as object;
  const next = (running.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => withLease(store.db, RESOLUTION_LEASE, job, lease));
  running.set(key, next);
  return next;
}

/**
 * The pairs of customers stewards judged different, as today's survivors (`a\0b`, both orders),
 * and the newest decision among them: read in that order, so a decision recorded in between is
 * held and only makes a plan re-read them once more.
 */
async function decisionsOf(store: IdMapStore): Promise<{ differentPairs: Set<string>; decisionsSeen: number }> {
  const decisionsSeen = await latestDecision(store.db);
  const differentPairs = new Set((await store.differentPairs()).flatMap(([a, b]) => [`${a}\u0000${b}`, `${b}\u0000${a}`]));
  return { differentPairs, decisionsSeen };
}

function storeOf(opts: { store?: IdMapStore; db?: Knex }): IdMapStore {
  if (opts.store) return opts.store;
  if (opts.db) return createIdMapStore(opts.db);
  throw new Error('resolve needs a store or a db');
}

function emptyStats(): ResolveStats {
  return {
    ...emptyStageStats(),
    ...emptyLinkStats(),
    ...emptyProbabilisticStats(),
    recordsReadBySource: {},
    recordsMalformedBySource: {},
    pagesRead: 0,
    batches: 0,
    retries: 0,
    restageResumed: false,
    stageMs: 0,
    linkMs: 0,
    probabilisticMs: 0,
    ms: 0,
    stageCpuMs: 0,
    linkCpuMs: 0,
    probabilisticCpuMs: 0,
  };
}

async function countPending(store: IdMapStore): Promise<number> {
  const row = await store.db('idmap_source_records').whereRaw('pending = 1').count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

async function countUnscored(store: IdMapStore): Promise<number> {
  const row = await store.db('idmap_match_features').whereRaw('scored = 0').count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

function addLinkStats(into: ResolveStats, s: LinkStats) {
  for (const k of Object.keys(s) as Array<keyof LinkStats>) into[k] += s[k];
}
