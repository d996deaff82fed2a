/** Argument checks shared by resolvers; each failure is BAD_USER_INPUT naming the argument. */
import { badUserInput } from '../src/errors';

export function boundedFirst(first: number | null | undefined, max: number, fallback = 20): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) throw badUserInput(`first must be between 1 and ${max}, got ${n}`, { argument: 'first' });
  return n;
}
