/**
 * Webhook event ids already applied (`idmap_webhook_events`), per source: what makes a
 * notification delivered twice (a sender's retry, or a replay inside the signature's tolerance
 * window) a no-op the second time.
 *
 * The webhook route reads which of a body's ids are known, applies the others, and only then
 * records them: a failed apply records nothing, so the sender's retry is applied in full. Two
 * deliveries of one event racing each other may both apply it (resolution is idempotent, so the
 * second changes nothing) and both record it (the second insert is ignored).
 */
import type { Knex } from 'knex';
import { deleteOldest, selectChunked, toDbTime } from './tables';

export const WEBHOOK_EVENTS_TABLE = 'idmap_webhook_events';

export interface DbWebhookEventRow {
  source: string;
  event_id: string;
  received_at: unknown;
}

/** The ids among `eventIds` already recorded as applied for `source`. */
export async function appliedEventIds(db: Knex, source: string, eventIds: readonly string[]): Promise<Set<string>> {
  const rows = await selectChunked([...new Set(eventIds)], (chunk) =>
    db<DbWebhookEventRow>(WEBHOOK_EVENTS_TABLE).where('source', source).whereIn('event_id', chunk).select('event_id'),
  );
  return new Set(rows.map((r) => r.event_id));
}

/**
 * Records `eventIds` of `source` as applied at `at` (ISO UTC). Call it once their records were
 * applied, never before. An id recorded already (a concurrent delivery) keeps its row.
 */
export async function recordAppliedEvents(db: Knex, source: string, eventIds: readonly string[], at = new Date().toISOString()): Promise<void> {
  const ids = [...new Set(eventIds)];
  if (ids.length === 0) return;
  const receivedAt = toDbTime(db, at);
  await db(WEBHOOK_EVENTS_TABLE)
    .insert(ids.map((id) => ({ source, event_id: id, received_at: receivedAt })))
    .onConflict(['source', 'event_id'])
    .ignore();
}

/**
 * Forgets ids recorded before `before` (ISO UTC), the oldest first and about `max` per call
 * (rows sharing the last timestamp go together), so one call stays two indexed statements
 * however long pruning was skipped. Answers how many rows it deleted.
 */
export async function pruneWebhookEvents(db: Knex, before: string, max = 1000): Promise<number> {
  return deleteOldest(db, WEBHOOK_EVENTS_TABLE, 'received_at', before, max);
}
