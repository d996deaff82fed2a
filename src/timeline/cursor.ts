/**
 * Timeline cursors: an opaque string for a position in the event order (time, kind, source, id), so a
 * page starts strictly after the last event the client saw, whatever arrived since, and pages
 * never skip or repeat an event. Opaque to clients; stable across gateway restarts.
 */
import { instantFromIso } from '../canonical';
import { isSourceName } from '../vocabulary';
import { isEventKind } from '../vocabulary/event-order';
import type { TimelinePosition } from './merge';

const VERSION = 't2';

export function encodeCursor(p: TimelinePosition): string {
  return Buffer.from(JSON.stringify([VERSION, p.at, p.kind, p.source, p.id]), 'utf8').toString('base64url');
}

/** The position a cursor names, or null when the string is not a cursor this gateway handed out. */
export function decodeCursor(cursor: string): TimelinePosition | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 5 || parsed[0] !== VERSION) return null;
  const [, at, kind, source, id] = parsed;
  // An instant as the DateTime scalar takes one (years 0001–9999): an edited year -1 parses, but no source can page after it.
  const iso = instantFromIso(at);
  if (iso === null || !isEventKind(kind) || !isSourceName(source) || typeof id !== 'string' || id === '') return null;
  return { at: iso, kind, source, id };
}
