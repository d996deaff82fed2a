/**
 * Saved segments: who may change and delete one, and what one may hold. Every role granted the segment mutations may create
 * segments, and each records the principal that created it (`createdBy`, with its kind: an API key
 * and a token subject of one name are two principals, src/principal.ts). Changing or deleting
 * one is denied by default to anyone else: a role may touch only its principal's own segments,
 * unless its policy says `"segments": "any"` (config/access.json gives that to admin alone).
 * Reading is the policy's field grant (`segments`, `segment`), and a segment's size and customers
 * are evaluated for the reader's role (list.ts).
 */
import type { Context } from '../context';
import { badUserInput } from '../errors';
import { roleOf } from './list';
import type { Principal } from '../principal';
import type { SegmentRow } from '../idmap/bi-store';

/**
 * The principal whose segments the caller may change and delete, for the store to check in the
 * write's own WHERE (FORBIDDEN when another created the segment); undefined when the caller's role
 * may change any segment.
 */
export function segmentOwner(ctx: Context): Principal | undefined {
  return roleOf(ctx).segments === 'any' ? undefined : principalOf(ctx);
}

/** The caller as a segment records it: its kind and its name. */
export const principalOf = (ctx: Context): Principal => ({ kind: ctx.viewer.principalKind ?? null, name: ctx.viewer.principal });

/** Whether the caller created a segment: its principal, kind and name, as the store compares owners. */
export function createdByCaller(ctx: Context, segment: Pick<SegmentRow, 'createdBy' | 'createdByKind'>): boolean {
  const me = principalOf(ctx);
  return segment.createdByKind !== null && segment.createdByKind === me.kind && segment.createdBy === me.name;
}

/**
 * A segment's creator as the caller may read it: the principal's name to the creator and to a role
 * that may change every segment (it answers for them all), null to anyone else. A principal is a
 * staff member's API key name or token subject, and a token subject is often their email: a segment
 * reader of another team learns who made a list no more than what they typed in it.
 */
export function creatorFor(ctx: Context, segment: Pick<SegmentRow, 'createdBy' | 'createdByKind'>): string | null {
  return roleOf(ctx).segments === 'any' || createdByCaller(ctx, segment) ? segment.createdBy : null;
}

/** A segment's description, in characters, and its filter's JSON, in bytes: what `c360_segments` holds (`description` VARCHAR(500), `filter` TEXT). */
export const MAX_SEGMENT_DESCRIPTION = 500;
export const MAX_SEGMENT_FILTER_BYTES = 65_535;

/**
 * Refuses a description or filter the store cannot hold, naming it (BAD_USER_INPUT), before it is
 * written: SQLite kept any length while MySQL/MariaDB refused the row with a database error, so the
 * same mutation saved on one engine and failed as ONEID_UNAVAILABLE on the other. The grammar alone
 * allows a filter of about a megabyte (50 conditions of 100 texts of 200 characters).
 */
export function checkSegmentText(at: 'input' | 'patch', description: string | null | undefined, filter: unknown): void {
  if (description && [...description].length > MAX_SEGMENT_DESCRIPTION)
    throw badUserInput(`${at}.description: at most ${MAX_SEGMENT_DESCRIPTION} characters, got ${[...description].length}`, { field: `${at}.description` });
  if (filter === undefined) return;
  const bytes = Buffer.byteLength(JSON.stringify(filter), 'utf8');
  if (bytes > MAX_SEGMENT_FILTER_BYTES)
    throw badUserInput(`${at}.filter: a saved filter is at most ${MAX_SEGMENT_FILTER_BYTES} bytes of JSON, got ${bytes}; list fewer values, or save several segments`, {
      field: `${at}.filter`,
    });
}
