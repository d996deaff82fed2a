/**
 * Webhook event ids claimed (`idmap_webhook_events`), per source: what makes a notification
 * delivered twice (a sender's retry, or a replay inside the signature's tolerance window) a
 * no-op the second time.
 *
 * The webhook route claims a body's ids before it applies anything: each is inserted under the
 * table's primary key, so of two deliveries of one event racing each other exactly one inserts
 * it and applies it, and the other finds it taken and counts it a duplicate. A delivery that then
 * fails gives its ids back (`releaseEvents`), so the sender's retry is applied in full.
 */
import type { Knex } from 'knex';
import { chunks, deleteOldest, selectChunked, toDbTime } from './tables';

export const WEBHOOK_EVENTS_TABLE = 'idmap_webhook_events';

export interface DbWebhookEventRow {
  source: string;
  event_id: string;
  received_at: unknown;
}

/** The ids among `eventIds` claimed for `source`: applied, or being applied now. */
export async function appliedEventIds(db: Knex, source: string, eventIds: readonly string[]): Promise<Set<string>> {
  const rows = await selectChunked([...new Set(eventIds)], (chunk) =>
    db<DbWebhookEventRow>(WEBHOOK_EVENTS_TABLE).where('source', source).whereIn('event_id', chunk).select('event_id'),
  );
  return new Set(rows.map((r) => r.event_id));
}

/** Whether `e` is the store refusing a row whose key is taken (MySQL/MariaDB, SQLite). */
function isDuplicateKey(e: unknown): boolean {
  const { code, errno } = (e ?? {}) as { code?: unknown; errno?: unknown };
  return code === 'ER_DUP_ENTRY' || errno === 1062 || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Claims `eventIds` of `source` at `at` (ISO UTC) and answers the ids this call claimed: those
 * no earlier or concurrent call holds. The check and the record are one insert per id, which the
 * primary key lets only one caller make. When every id is new (the usual case) that is a single
 * statement, all of whose rows are inserted or none. A call that fails gives back what it claimed.
 */
export async function claimEvents(db: Knex, source: string, eventIds: readonly string[], at = new Date().toISOString()): Promise<Set<string>> {
  const ids = [...new Set(eventIds)];
  if (ids.length === 0) return new Set();
  const receivedAt = toDbTime(db, at);
  const row = (id: string) => ({ source, event_id: id, received_at: receivedAt });
  try {
    await db(WEBHOOK_EVENTS_TABLE).insert(ids.map(row));
    return new Set(ids);
  } catch (e) {
    if (!isDuplicateKey(e)) throw e;
  }
  // Some id is taken: one at a time, to learn which.
  const claimed = new Set<string>();
  try {
    for (const id of ids) {
      try {
        await db(WEBHOOK_EVENTS_TABLE).insert(row(id));
        claimed.add(id);
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
      }
    }
  } catch (e) {
    await releaseEvents(db, source, [...claimed]).catch(() => undefined);
    throw e;
  }
  return claimed;
}

/** Gives back ids of `source` claimed by a delivery that then failed: the next delivery of them claims them again. */
export async function releaseEvents(db: Knex, source: string, eventIds: readonly string[]): Promise<void> {
  for (const chunk of chunks([...new Set(eventIds)])) await db(WEBHOOK_EVENTS_TABLE).where('source', source).whereIn('event_id', chunk).delete();
}

/**
 * Forgets ids recorded before `before` (ISO UTC), the oldest first and about `max` per call
 * (rows sharing the last timestamp go together), so one call stays two indexed statements
 * however long pruning was skipped. Answers how many rows it deleted.
 */
export async function pruneWebhookEvents(db: Knex, before: string, max = 1000): Promise<number> {
  return deleteOldest(db, WEBHOOK_EVENTS_TABLE, 'received_at', before, max);
}
