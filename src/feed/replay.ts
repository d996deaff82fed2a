/**
 * Resuming the change feed: a reader that reconnects with an event id (SSE `Last-Event-ID`, or the
 * `after` argument) is replayed, from OneID's link log, the changes made since, through its own
 * filter, row scope and queue (hub.ts), then carries on live with no gap and no repeat at the seam.
 *
 * Bounded: a place more than `replayMaxChanges` log entries behind the end, or whose next entry is
 * older than `replayMaxAgeMs`, is not replayed (the reader is told it missed changes, and carries on
 * from the end). A replay reads a page only when the reader's queue has room for it, so a backlog of
 * any size costs a queue's worth of memory.
 *
 * The seam. While replaying, the poller's deliveries are not this subscription's (hub.ts skips it);
 * each page is read up to the poller's cursor of that moment, leaving out the ids the poller is still
 * waiting for (its gaps: rows committed out of order, changes.ts), which are remembered. Once the
 * replay has reached the poller's cursor, in one tick, the subscription goes live: from then on the
 * poller delivers everything after its cursor and the gaps it still waits for; the remembered ids it
 * has stopped waiting for (it delivered them meanwhile, or gave them up) are read once more.
 */
import type { Knex } from 'knex';
import { fromDbTime, T, type DbLinkEventRow } from '../idmap/tables';
import type { Logger } from '../observability/logger';
import { safeError } from '../observability/scrub';
import { changesOf, type CustomerChange, type Poller } from './changes';
import type { FeedOptions, FeedSubscription } from './hub';
import { MAX_PENDING, openPosition, sealPosition, type FeedPosition } from './position';

/** An `after` that is no event id of this store's feed: malformed, altered, from another store, or ahead of its log. */
export class FeedPositionError extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor() {
    super('The event id to resume after (Last-Event-ID or `after`) is not one this feed gave: subscribe without it');
    this.name = 'FeedPositionError';
  }
}

export type Resume = { kind: 'replay'; from: FeedPosition } | { kind: 'missed' };

/** Ids remembered as owed at most: as the poller, past this the oldest are given up. */
const MAX_OWED = 1000;

export function createReplays(deps: {
  db: Knex;
  log: Logger;
  poller: Poller;
  options: FeedOptions;
  deliverTo(s: FeedSubscription, changes: readonly CustomerChange[]): Promise<void>;
}) {
  const { db, poller, options } = deps;
  let key: Promise<Buffer> | undefined;
  const keyOf = () =>
    (key ??= db(T.feedKeys)
      .where({ name: 'feed' })
      .first('secret')
      .then((row: { secret: string } | undefined) => {
        if (!row) throw new Error('the OneID store has no change feed key (idmap_feed_keys): run its migrations');
        return Buffer.from(row.secret, 'hex');
      })
      .catch((e) => {
        key = undefined;
        throw e;
      }));

  const read = (where: (q: Knex.QueryBuilder) => Knex.QueryBuilder, limit?: number): Promise<DbLinkEventRow[]> => {
    const q = where(db(T.linkEvents)).orderBy('id');
    return (limit ? q.limit(limit) : q).select('*');
  };

  /** Replays `s` from `from` until it has caught up with the poller, then makes it live (see the header). */
  const replay = async (s: FeedSubscription, from: FeedPosition) => {
    let r = from.cursor;
    const owed = new Set(from.pending);
    for (;;) {
      const room = await s.room();
      if (!room) return;
      const { cursor, gaps } = poller.position();
      if (r >= cursor) {
        s.replaying = false;
        const again = [...owed].filter((id) => !gaps.has(id));
        if (again.length) {
          const late = await read((q) => q.whereIn('id', again));
          await deps.deliverTo(
            s,
            changesOf(late, () => ({ cursor, pending: gaps.newest(MAX_PENDING) })),
          );
        }
        return;
      }
      const limit = Math.min(options.pollBatch, room);
      const rows = await read((q) => q.where('id', '>', r).andWhere('id', '<=', cursor), limit);
      const end = rows.length < limit ? cursor : Number(rows[rows.length - 1].id);
      for (const id of gaps.between(r, end, MAX_OWED)) owed.add(id);
      while (owed.size > MAX_OWED) owed.delete(owed.values().next().value as number);
      const ready = rows.filter((row) => !gaps.has(Number(row.id)));
      r = end;
      await deps.deliverTo(
        s,
        changesOf(ready, (row) => ({ cursor: Number(row.id), pending: [...owed].filter((id) => id < Number(row.id)).slice(-MAX_PENDING) })),
      );
    }
  };

  return {
    eventId: async (position: FeedPosition) => sealPosition(await keyOf(), position),

    /** Whether `after` can be replayed from, in the window; FeedPositionError when it is no event id of this feed. */
    async check(after: string): Promise<Resume> {
      const from = openPosition(await keyOf(), after);
      if (!from) throw new FeedPositionError();
      const last = await db(T.linkEvents).max({ id: 'id' }).first();
      const end = Number(last?.id ?? 0);
      if (from.cursor > end) throw new FeedPositionError();
      if (end - from.cursor > options.replayMaxChanges) return { kind: 'missed' };
      const [next] = await read((q) => q.where('id', '>', from.cursor), 1);
      if (next && Date.parse(fromDbTime(next.at)) < Date.now() - options.replayMaxAgeMs) return { kind: 'missed' };
      return { kind: 'replay', from };
    },

    /** Starts `s`'s replay; a failure ends its stream (the reader reconnects and resumes again). */
    run(s: FeedSubscription, from: FeedPosition): void {
      replay(s, from).catch((e) => {
        deps.log.warn({ err: safeError(e) }, 'change feed: a replay could not read the link log; stream ended');
        void s.return();
      });
    },
  };
}
