/**
 * The query arguments a connector reads from the capability contract (`OrderQuery`,
 * `OrderFactQuery`): a value the GraphQL layer let through but the source cannot take is the
 * caller's mistake, answered BAD_USER_INPUT naming the argument, before any statement is built.
 */
import { instantFromIso } from '../canonical';
import { badUserInput } from '../errors';

/** An instant argument (`since`, `before`) as unix ms; absent is null. */
export function instantArgumentMillis(value: string | null | undefined, argument: string): number | null {
  if (value == null) return null;
  const iso = instantFromIso(value);
  if (!iso) throw badUserInput(`${argument} must be an ISO-8601 instant with a zone, e.g. 2024-03-01T00:00:00Z`, { argument });
  return Date.parse(iso);
}

/** A per-record `limit`; absent is null (no limit). */
export function limitArgument(limit: number | null | undefined): number | null {
  if (limit == null) return null;
  if (!Number.isInteger(limit) || limit < 0) throw badUserInput('limit must be a non-negative integer', { argument: 'limit' });
  return limit;
}
