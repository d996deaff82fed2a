/**
 * Who may change and delete a saved segment. Every role granted the segment mutations may create
 * segments, and each records the principal that created it (`createdBy`). Changing or deleting
 * one is denied by default to anyone else: a role may touch only its principal's own segments,
 * unless its policy says `"segments": "any"` (config/access.json gives that to admin alone).
 * Reading is the policy's field grant (`segments`, `segment`), and a segment's size and customers
 * are evaluated for the reader's role (list.ts).
 */
import type { Context } from '../context';
import { roleOf } from './list';

/**
 * The principal whose segments the caller may change and delete, for the store to check in the
 * write's own WHERE (FORBIDDEN when another created the segment); undefined when the caller's role
 * may change any segment.
 */
export function segmentOwner(ctx: Context): string | undefined {
  return roleOf(ctx).segments === 'any' ? undefined : ctx.viewer.principal;
}
