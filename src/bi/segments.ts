/**
 * Who may change and delete a saved segment. Every role granted the segment mutations may create
 * segments, and each records the principal that created it (`createdBy`). Changing or deleting
 * one is denied by default to anyone else: a role may touch only its principal's own segments,
 * unless its policy says `"segments": "any"` (config/access.json gives that to admin alone).
 * Reading is the policy's field grant (`segments`, `segment`), and a segment's size and customers
 * are evaluated for the reader's role (list.ts).
 */
import type { Context } from '../context';
import { forbidden } from '../errors';
import { biOf, roleOf } from './list';

/**
 * Refuses (FORBIDDEN) a change to segment `name` by a principal that did not create it, unless the
 * caller's role may change any segment. A segment that does not exist passes: the store answers
 * it (NOT_FOUND, or `false` for a delete) as before.
 */
export async function checkSegmentOwner(ctx: Context, name: string): Promise<void> {
  if (roleOf(ctx).segments === 'any') return;
  const segment = await biOf(ctx).store.segment(name);
  if (segment && segment.createdBy !== ctx.viewer.principal) {
    throw forbidden(`Segment ${name} was created by someone else: your role may change and delete only the segments you created`);
  }
}
