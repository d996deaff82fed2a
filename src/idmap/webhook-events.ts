/**
 * Webhook event ids claimed (`idmap_webhook_events`), per source: what makes a notification
 * delivered twice (a sender's retry, or a replay inside the signature's tolerance window) a
 * no-op the second time.
 *
 * The webhook route claims a body's ids before it applies anything: each is inserted under the
 * table's primary key, so of two deliveries of one event racing each other exactly one inserts
 * it and applies it. The other finds it taken: applied (`applied_at` set), it is a duplicate;
 * still being applied, the delivery is told to come back (the first may yet fail, and a sender
 * told "duplicate" would never send it again). A delivery that fails gives its ids back
 * (`releaseEvents`); a claim never marked applied nor given back (a process that died, a store
 * that failed mid-delivery) is taken over once older than `staleBefore`.
 */
import type { Knex } from 'knex';
import { chunks, deleteOldest, fromDbTime, selectChunked, toDbTime } from './tables';

export const WEBHOOK_EVENTS_TABLE = 'idmap_webhook_events';

export interface DbWebhookEventRow {
  source: string;
  event_id: string;
  received_at: unknown;
  applied_at: unknown;
}

/** The ids among `eventIds` applied for `source`. */
export async function appliedEventIds(db: Knex, source: string, eventIds: readonly string[]): Promise<Set<string>> {
  const rows = await selectChunked([...new Set(eventIds)], (chunk) =>
    db<DbWebhookEventRow>(WEBHOOK_EVENTS_TABLE).where('source', source).whereIn('event_id', chunk).whereNotNull('applied_at').select('event_id'),
  );
  return new Set(rows.map((r) => r.event_id));
}

/** Whether `e` is the store refusing a row whose key is taken (MySQL/MariaDB, SQLite). */
function isDuplicateKey(e: unknown): boolean {
  const { code, errno } = (e ?? {}) as { code?: unknown; errno?: unknown };
  return code === 'ER_DUP_ENTRY' || errno === 1062 || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** What a claim found for each id of a delivery. */
export interface Claim {
  /** This delivery's to apply. */
  claimed: Set<string>;
  /** Applied by an earlier delivery: duplicates. */
  applied: Set<string>;
  /** Being applied by another delivery now: neither this one's nor done. */
  inProgress: Set<string>;
}

/**
 * Claims `eventIds` of `source` at `at` (ISO UTC). The check and the record are one insert per
 * id, which the primary key lets only one caller make; when every id is new (the usual case)
 * that is a single statement. An id taken but not applied since before `staleBefore` (ISO UTC) is
 * taken over, by a compare-and-set on its claim time, so that again only one caller gets it. A
 * call that fails gives back what it claimed.
 */
export async function claimEvents(db: Knex, source: string, eventIds: readonly string[], at = new Date().toISOString(), staleBefore?: string): Promise<Claim> {
  const ids = [...new Set(eventIds)];
  const out: Claim = { claimed: new Set(), applied: new Set(), inProgress: new Set() };
  if (ids.length === 0) return out;
  const receivedAt = toDbTime(db, at);
  const row = (id: string) => ({ source, event_id: id, received_at: receivedAt, applied_at: null });
  try {
    await db(WEBHOOK_EVENTS_TABLE).insert(ids.map(row));
    for (const id of ids) out.claimed.add(id);
    return out;
  } catch (e) {
    if (!isDuplicateKey(e)) throw e;
  }
  // Some id is taken: one at a time, to learn which and by whom.
  try {
    for (const id of ids) {
      try {
        await db(WEBHOOK_EVENTS_TABLE).insert(row(id));
        out.claimed.add(id);
        continue;
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
      }
      const held = await db<DbWebhookEventRow>(WEBHOOK_EVENTS_TABLE).where({ source, event_id: id }).first('received_at', 'applied_at');
      if (!held) {
        // Given back between the insert and the read: the next delivery claims it.
        out.inProgress.add(id);
      } else if (held.applied_at != null) {
        out.applied.add(id);
      } else if (staleBefore && fromDbTime(held.received_at) < staleBefore) {
        const took = await db(WEBHOOK_EVENTS_TABLE).where({ source, event_id: id, received_at: held.received_at }).whereNull('applied_at').update({ received_at: receivedAt });
        (took === 1 ? out.claimed : out.inProgress).add(id);
      } else {
        out.inProgress.add(id);
      }
    }
  } catch (e) {
    await releaseEvents(db, source, [...out.claimed]).catch(() => undefined);
    throw e;
  }
  return out;
}

/** Records ids of `source` as applied at `at` (ISO UTC): later deliveries of them are duplicates. */
export async function markEventsApplied(db: Knex, source: string, eventIds: readonly string[], at = new Date().toISOString()): Promise<void> {
  const appliedAt = toDbTime(db, at);
  for (const chunk of chunks([...new Set(eventIds)])) await db(WEBHOOK_EVENTS_TABLE).where('source', source).whereIn('event_id', chunk).update({ applied_at: appliedAt });
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
