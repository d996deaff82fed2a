/**
 * A reader's place in the change feed, and the SSE event id that carries it.
 *
 * A place is not one log id: on MySQL/MariaDB a row can become visible after a larger id was read
 * (changes.ts), so a reader that has had every change up to `cursor` may still be owed the ids in
 * `pending`, which were not committed yet when it got its last change. Resuming from the place
 * replays ids after `cursor`, and those of `pending` that have appeared since.
 *
 * The event id is the place sealed (AES-256-GCM) with the store's own key (`idmap_feed_keys`): opaque
 * to the reader, so it tells a role nothing about changes it may not see (the log's length, others'
 * transactions in flight); the same on every replica and restart on that store; and an id altered,
 * made up, or from another store does not open (`openPosition` answers null).
 */
import crypto from 'node:crypto';

export interface FeedPosition {
  /** Every change up to this log id was delivered (or given up, see changes.ts)... */
  cursor: number;
  /** ...except these smaller ids, not yet visible then (at most MAX_PENDING, the newest). */
  pending: readonly number[];
}

/** Ids owed that an event id carries at most; older ones are given up as the poller gives them up. */
export const MAX_PENDING = 16;
/** Longer header or argument values are not event ids of this feed, and are not decrypted. */
export const MAX_EVENT_ID_LENGTH = 256;

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealPosition(key: Buffer, position: FeedPosition): string {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  const plain = Buffer.from(`${VERSION}.${position.cursor}.${position.pending.slice(-MAX_PENDING).join(',')}`, 'utf8');
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/** The place an event id of this store's feed holds, or null for anything else. */
export function openPosition(key: Buffer, token: string): FeedPosition | null {
  if (token.length > MAX_EVENT_ID_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const raw = Buffer.from(token, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) return null;
  let plain: string;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
  const m = /^1\.(\d{1,15})\.((?:\d{1,15})(?:,\d{1,15})*)?$/.exec(plain);
  if (!m) return null;
  const cursor = Number(m[1]);
  const pending = m[2] ? m[2].split(',').map(Number) : [];
  return pending.every((id) => id < cursor) ? { cursor, pending } : null;
}
