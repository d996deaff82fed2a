/**
 * The change feed's source: OneID's append-only link log (`idmap_link_events`), read by id.
 *
 * Every identity change is a row there whoever made it (the gateway's start-up run, a webhook, a
 * steward, or a separate `c360 resolve` process or another replica on the same store), so a poller
 * on that table hears them all; an in-process hook would miss the other processes. The poller runs
 * only while someone listens, reads at most `batch` rows a round, and polls again at once while
 * rounds come back full.
 *
 * On MySQL/MariaDB ids are taken at insert and rows become visible at commit, so a row may appear
 * after a larger id was read: ids skipped over are re-read until they are found, or given up once
 * no transaction holds them any more (a rolled-back transaction leaves a gap for good). They are
 * kept as ranges, not one by one: a resolution batch's transaction holds thousands of ids while a
 * steward's change on another replica commits after them, and every one of them must still be
 * heard once it commits.
 */
import type { Knex } from 'knex';
import { isMysql } from '../db';
import { fromDbTime, T, type DbLinkEventRow } from '../idmap/tables';
import type { SourceRecordKey } from '../idmap/types';
import type { Logger } from '../observability/logger';
import { safeError } from '../observability/scrub';
import { createRepeatFilter } from '../observability/repeats';
import { MAX_PENDING, type FeedPosition } from './position';

export const CUSTOMER_CHANGE_KINDS = ['CREATED', 'LINKED', 'UNLINKED', 'MERGED', 'SPLIT', 'UPDATED'] as const;
export type CustomerChangeKind = (typeof CUSTOMER_CHANGE_KINDS)[number];

/** Link-log actions the feed reports; review candidates and decisions change no customer (a steward's merge or split is its own row). */
const KIND_OF_ACTION: Readonly<Record<string, CustomerChangeKind>> = {
  create: 'CREATED',
  link: 'LINKED',
  unlink: 'UNLINKED',
  merge: 'MERGED',
  split: 'SPLIT',
  bind: 'UPDATED',
  unbind: 'UPDATED',
};
const FEED_ACTIONS = Object.keys(KIND_OF_ACTION);

/** At most this many records are carried by one change (a merge of a large customer moves many). */
export const MAX_RECORDS_PER_CHANGE = 50;

export interface CustomerChange {
  id: string;
  kind: CustomerChangeKind;
  customerId: string;
  otherCustomerId: string | null;
  records: SourceRecordKey[];
  recordCount: number;
  /** How many of the change's records (all of them, not only those in `records`) each system holds: a role not told of a system is told neither of its records nor of their number. */
  recordSources: ReadonlyMap<string, number>;
  actor: string;
  at: string;
  /** Where a reader who has had this change stands in the log (its SSE event id, sealed). */
  position: FeedPosition;
}

function recordsOf(row: DbLinkEventRow): SourceRecordKey[] {
  if (row.source && row.record_id) return [{ source: row.source as SourceRecordKey['source'], recordId: row.record_id }];
  if (!row.evidence || (row.action !== 'merge' && row.action !== 'split')) return [];
  try {
    const moved = (JSON.parse(row.evidence) as { movedRecords?: unknown }).movedRecords;
    return Array.isArray(moved) ? moved.filter((r): r is SourceRecordKey => !!r && typeof r.source === 'string' && typeof r.recordId === 'string') : [];
  } catch {
    return [];
  }
}

/** The change a link-log row reports, or null for rows the feed does not carry. */
export function changeOf(row: DbLinkEventRow): CustomerChange | null {
  const kind = KIND_OF_ACTION[row.action];
  if (!kind || !row.customer_id) return null;
  const records = recordsOf(row);
  const recordSources = new Map<string, number>();
  for (const r of records) recordSources.set(r.source, (recordSources.get(r.source) ?? 0) + 1);
  return {
    id: String(row.id),
    kind,
    customerId: row.customer_id,
    otherCustomerId: row.other_customer_id,
    records: records.slice(0, MAX_RECORDS_PER_CHANGE),
    recordCount: records.length,
    recordSources,
    actor: row.actor,
    at: fromDbTime(row.at),
    position: { cursor: Number(row.id), pending: [] },
  };
}

/** The changes of link-log rows, in the order given, each placed where `placeOf` says. */
export function changesOf(rows: readonly DbLinkEventRow[], placeOf: (row: DbLinkEventRow) => FeedPosition): CustomerChange[] {
  const out: CustomerChange[] = [];
  for (const r of rows) {
    if (!FEED_ACTIONS.includes(r.action)) continue;
    const c = changeOf(r);
    if (c) out.push({ ...c, position: placeOf(r) });
  }
  return out;
}

export interface PollerOptions {
  db: Knex;
  log: Logger;
  /** Pause between rounds that found less than a full batch. */
  intervalMs: number;
  /** Rows read per round at most. */
  batch: number;
  /** Called with each round's changes, in id order; the next round waits for it. */
  onChanges(changes: CustomerChange[]): Promise<void>;
  /** How long ids skipped over are looked for again before asking whether a transaction still holds them (default GAP_RETRY_MS). */
  gapRetryMs?: number;
}

/**
 * How long an id skipped over (a transaction not yet committed) is looked for again before the
 * poller asks whether any transaction still holds it: on MySQL/MariaDB a locking read of the
 * gaps that does not wait (`FOR UPDATE NOWAIT`) fails while an open transaction holds a row
 * there, and the gaps are kept (up to GAP_HOLD_MAX_MS); otherwise no transaction can fill them
 * any more and they are given up. Before, they were given up after this time whatever held them,
 * and a transaction open longer (a merge waiting on a row lock after writing its event, a
 * resolution batch on a loaded server) had its changes never reported. SQLite takes ids in
 * commit order, one writer at a time: its gaps are given up after this time.
 */
export const GAP_RETRY_MS = 10_000;
/** Gaps a transaction still holds are given up after this long all the same (a transaction open for longer is not waited for). */
export const GAP_HOLD_MAX_MS = 10 * 60_000;
/**
 * How far below the log's end a starting poller looks for ids not committed yet: past a resolution
 * batch's transaction (DEFAULT_LINK_BATCH records, an event or more each).
 */
const START_LOOKBACK = 10_000;
/** At most this many ranges of skipped ids are remembered; beyond it the oldest are given up. */
const MAX_GAPS = 1000;

/** Ids skipped over, `from`–`to` inclusive, first missed at `since`. */
interface Gap {
  from: number;
  to: number;
  since: number;
}

/** The gaps (ascending, disjoint) less the ids found (ascending). */
function fillGaps(gaps: readonly Gap[], found: readonly number[]): Gap[] {
  const left: Gap[] = [];
  let i = 0;
  for (const g of gaps) {
    let from = g.from;
    while (i < found.length && found[i] < g.from) i++;
    for (; i < found.length && found[i] <= g.to; i++) {
      if (found[i] > from) left.push({ from, to: found[i] - 1, since: g.since });
      from = found[i] + 1;
    }
    if (from <= g.to) left.push({ from, to: g.to, since: g.since });
  }
  return left;
}

/** The ids a poller still waits for (its gaps, see `Poller.position`), without listing ranges out whole. */
export interface GapIds {
  has(id: number): boolean;
  /** At most `max` of the ids in (`after`, `upTo`], the newest, ascending. */
  between(after: number, upTo: number, max: number): number[];
  /** The newest `n`, ascending. */
  newest(n: number): number[];
}

function gapIds(gaps: readonly Gap[]): GapIds {
  const between = (after: number, upTo: number, max: number): number[] => {
    const out: number[] = [];
    for (let i = gaps.length - 1; i >= 0 && out.length < max; i--) {
      const g = gaps[i];
      for (let id = Math.min(g.to, upTo); id >= Math.max(g.from, after + 1) && out.length < max; id--) out.push(id);
    }
    return out.reverse();
  };
  return {
    has(id) {
      let lo = 0;
      let hi = gaps.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (id < gaps[mid].from) hi = mid - 1;
        else if (id > gaps[mid].to) lo = mid + 1;
        else return true;
      }
      return false;
    },
    between,
    newest: (n) => between(0, Number.MAX_SAFE_INTEGER, n),
  };
}

export interface Poller {
  /**
   * How far the poller has read: every id up to `cursor` was reported to the subscriptions open
   * then, except the ids skipped over in `gaps`, which will be reported to those open when they
   * appear. Read in the same tick as a subscription is added or switched to live, it is the seam
   * between what a replay must read and what the poller will still deliver.
   */
  position(): { cursor: number; gaps: GapIds };
  /**
   * Starts polling from the log's current end; resolves once that end is known (changes after it will
   * be reported, and so will rows below it that commit later).
   */
  start(): Promise<void>;
  /** Stops after the round in progress. */
  stop(): Promise<void>;
  readonly running: boolean;
}

export function createLinkEventPoller(opts: PollerOptions): Poller {
  const { db, log } = opts;
  const gapRetryMs = opts.gapRetryMs ?? GAP_RETRY_MS;
  const repeats = createRepeatFilter();
  let cursor = 0;
  /** Ids skipped over, ascending. */
  let gaps: Gap[] = [];
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  let started: Promise<void> | undefined;
  /** A stop and a new start while a round is still out must not leave two loops. */
  let generation = 0;

  /** Answers whether the round came back full (poll again at once). */
  const read = async (): Promise<boolean> => {
    const rows: DbLinkEventRow[] = await db(T.linkEvents).where('id', '>', cursor).orderBy('id').limit(opts.batch).select('*');
    const now = Date.now();
    // Asked before the gaps are read: what a transaction that was not open then committed, the read below sees.
    const due = gaps.filter((g) => now - g.since > gapRetryMs);
    const held = due.length > 0 && (await stillHeld(due));
    const late: DbLinkEventRow[] = gaps.length
      ? await db(T.linkEvents)
          .where((q) => {
            for (const g of gaps) void q.orWhereBetween('id', [g.from, g.to]);
          })
          .orderBy('id')
          .limit(opts.batch)
          .select('*')
      : [];
    // Each change is placed where a reader stands once it has it: late rows first (the cursor stays), then new rows in id order.
    const place = (): FeedPosition => ({ cursor, pending: gaps.length ? gapIds(gaps).newest(MAX_PENDING) : [] });
    const placed = new Map<DbLinkEventRow, FeedPosition>();
    for (const r of late) {
      gaps = fillGaps(gaps, [Number(r.id)]);
      placed.set(r, place());
    }
    // Due gaps no transaction holds are given up once read whole; held ones after GAP_HOLD_MAX_MS.
    const giveUp = due.length > 0 && !held && late.length < opts.batch;
    if (due.length) gaps = gaps.filter((g) => now - g.since <= (giveUp ? gapRetryMs : GAP_HOLD_MAX_MS));
    for (const r of rows) {
      const id = Number(r.id);
      if (id > cursor + 1) gaps.push({ from: cursor + 1, to: id - 1, since: now });
      cursor = id;
      placed.set(r, place());
    }
    if (gaps.length > MAX_GAPS) gaps = gaps.slice(-MAX_GAPS);
    const changes = changesOf([...late, ...rows], (r) => placed.get(r)!);
    if (changes.length) await opts.onChanges(changes);
    return rows.length >= opts.batch || late.length >= opts.batch;
  };

  /**
   * Whether an open transaction still holds ids in `due` (MySQL/MariaDB: a locking read there
   * fails at once instead of waiting for it). At READ COMMITTED, so the read locks only rows, not
   * the ranges between them. A server that cannot answer the question (an old one, a user without
   * the privilege) is taken to hold nothing, as before: said once per run of failures.
   */
  const stillHeld = async (due: readonly Gap[]): Promise<boolean> => {
    if (!isMysql(db)) return false;
    try {
      await db.transaction(
        (trx) =>
          trx(T.linkEvents)
            .where((q) => {
              for (const g of due) void q.orWhereBetween('id', [g.from, g.to]);
            })
            .select('id')
            .forUpdate()
            .noWait(),
        { isolationLevel: 'read committed' },
      );
      return false;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      // MariaDB answers NOWAIT as a lock wait timed out at once; MySQL 8 with ER_LOCK_NOWAIT.
      if (code === 'ER_LOCK_WAIT_TIMEOUT' || code === 'ER_LOCK_NOWAIT') return true;
      const err = safeError(e);
      const { log: now, suppressed } = repeats.admit(`held|${err.name}|${err.code ?? ''}|${err.message}`);
      if (now)
        log.warn(
          { err, ...(suppressed ? { repeatedSinceLastLog: suppressed } : {}) },
          'change feed: could not ask whether a transaction still holds skipped ids; giving them up',
        );
      return false;
    }
  };

  const loop = (gen: number) => {
    if (!running || gen !== generation) return;
    round = read()
      .catch((e) => {
        const err = safeError(e);
        const { log: now, suppressed } = repeats.admit(`${err.name}|${err.code ?? ''}|${err.message}`);
        if (now) log.warn({ err, ...(suppressed ? { repeatedSinceLastLog: suppressed } : {}) }, 'change feed: the link log could not be read; retrying');
        return false;
      })
      .then((full) => {
        if (running && gen === generation) timer = setTimeout(loop, full ? 0 : opts.intervalMs, gen);
      });
  };

  return {
    get running() {
      return running;
    },
    position: () => ({ cursor, gaps: gapIds(gaps.slice()) }),
    start() {
      if (running) return started!;
      running = true;
      const gen = ++generation;
      started = (async () => {
        const row = await db(T.linkEvents).max({ id: 'id' }).first();
        cursor = Number(row?.id ?? 0);
        // Ids below the end not committed yet (another process's transaction still open) are gaps already.
        const recent: Array<{ id: number }> = await db(T.linkEvents)
          .where('id', '>', Math.max(0, cursor - START_LOOKBACK))
          .andWhere('id', '<=', cursor)
          .orderBy('id')
          .select('id');
        gaps = [];
        let seen = Math.max(0, cursor - START_LOOKBACK);
        for (const { id } of [...recent, { id: cursor + 1 }]) {
          if (Number(id) > seen + 1) gaps.push({ from: seen + 1, to: Number(id) - 1, since: Date.now() });
          seen = Number(id);
        }
        if (gaps.length > MAX_GAPS) gaps = gaps.slice(-MAX_GAPS);
        timer = setTimeout(loop, opts.intervalMs, gen);
      })().catch((e) => {
        running = false;
        throw e;
      });
      return started;
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await started?.catch(() => undefined);
      clearTimeout(timer);
      await round;
    },
  };
}
