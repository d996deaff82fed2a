/**
 * Timeline cursors: an opaque string for a position in the event order (time, kind, id), so a
 * page starts strictly after the last event the client saw, whatever arrived since, and pages
 * never skip or repeat an event. Opaque to clients; stable across gateway restarts.
 */
import type { EventPosition } from '../sources/types';
import { isEventKind } from './order';

const VERSION = 't1';

export function encodeCursor(p: EventPosition): string {
  return Buffer.from(JSON.stringify([VERSION, p.at, p.kind, p.id]), 'utf8').toString('base64url');
}

/** The position a cursor names, or null when the string is not a cursor this gateway handed out. */
export function decodeCursor(cursor: string): EventPosition | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || parsed[0] !== VERSION) return null;
  const [, at, kind, id] = parsed;
  if (typeof at !== 'string' || !Number.isFinite(Date.parse(at)) || !isEventKind(kind) || typeof id !== 'string' || id === '') return null;
  return { at: new Date(Date.parse(at)).toISOString(), kind, id };
}
