/**
 * Timeline cursors: an opaque string for a position in the event order (time, kind, source, id), so a
 * page starts strictly after the last event the client saw, whatever arrived since, and pages
 * never skip or repeat an event. Stable across gateway restarts that keep the key.
 *
 * Opaque in earnest: a position's id is its system's event id, which may be the record's own id (a
 * WeChat follow's is the openid, a WeCom contact's the external userid), personal data that most
 * roles see only hashed. So the position is sealed (AES-256-GCM) under a key derived from the
 * config's `access.hashKey`; without one, under a key made at start-up (cursors then last as long
 * as the process). The IV is derived from the position, so one position always has one cursor.
 *
 * A cursor that holds sources at places of their own (merge.ts `TimelineCursor.places`: a source
 * that failed, and must not be moved past events never seen) is written in the `t4` form, which
 * adds them; one without is written as before (`t3`), so cursors handed out earlier still work.
 */
import crypto from 'node:crypto';
import { instantFromIso } from '../canonical';
import { isSourceName } from '../vocabulary';
import { isEventKind } from '../vocabulary/event-order';
import type { SourcePlace, TimelineCursor, TimelinePosition } from './merge';

const VERSION = 't3';
const VERSION_WITH_PLACES = 't4';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key cursors are sealed with, derived from a secret (the config's `access.hashKey`). */
export function cursorKey(secret: string): Buffer {
  return crypto.createHmac('sha256', secret).update('c360 timeline cursor').digest();
}

let processKey: Buffer | undefined;
/** The key of a gateway configured without a secret: random, this process's own. */
const defaultKey = () => (processKey ??= crypto.randomBytes(32));

const positionOf = (p: TimelinePosition) => [p.at, p.kind, p.source, p.id];

export function encodeCursor(p: TimelineCursor, key: Buffer = defaultKey()): string {
  const fields = p.places?.length
    ? [VERSION_WITH_PLACES, ...positionOf(p), p.places.map((x) => [x.source, ...(x.after ? positionOf(x.after) : [])])]
    : [VERSION, ...positionOf(p)];
  const plain = Buffer.from(JSON.stringify(fields), 'utf8');
  const iv = crypto.createHmac('sha256', key).update(plain).digest().subarray(0, IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

function open(cursor: string, key: Buffer): string | null {
  const raw = Buffer.from(cursor, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/** A position as a cursor writes it (at, kind, source, id), or null when it is not one a source can page after. */
function readPosition(at: unknown, kind: unknown, source: unknown, id: unknown): TimelinePosition | null {
  // An instant as the DateTime scalar takes one (years 0001–9999): an edited year -1 parses, but no source can page after it.
  const iso = instantFromIso(at);
  if (iso === null || !isEventKind(kind) || !isSourceName(source) || typeof id !== 'string' || id === '') return null;
  return { at: iso, kind, source, id };
}

/** The places of a `t4` cursor: each source once, at a position or from its newest event. */
function readPlaces(raw: unknown): SourcePlace[] | null {
  if (!Array.isArray(raw) || raw.length === 0) return null;
  const out: SourcePlace[] = [];
  for (const p of raw) {
    if (!Array.isArray(p) || !isSourceName(p[0]) || out.some((x) => x.source === p[0])) return null;
    if (p.length === 1) out.push({ source: p[0], after: null });
    else {
      const after = p.length === 5 ? readPosition(p[1], p[2], p[3], p[4]) : null;
      if (!after) return null;
      out.push({ source: p[0], after });
    }
  }
  return out;
}

/** The place a cursor names, or null when the string is not a cursor this gateway handed out. */
export function decodeCursor(cursor: string, key: Buffer = defaultKey()): TimelineCursor | null {
  const plain = open(cursor, key);
  if (plain === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  if (parsed.length === 5 && parsed[0] === VERSION) return readPosition(parsed[1], parsed[2], parsed[3], parsed[4]);
  if (parsed.length !== 6 || parsed[0] !== VERSION_WITH_PLACES) return null;
  const at = readPosition(parsed[1], parsed[2], parsed[3], parsed[4]);
  const places = readPlaces(parsed[5]);
  return at && places && { ...at, places };
}
