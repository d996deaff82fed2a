/**
 * Turns of the event loop inside a resolution run. SQLite statements run synchronously and
 * scoring is pure computation, so a run of either is one long chain of settled promises that
 * lets no timer or socket run: the lease's renewal timer (`lock.ts`) among them. A stretch longer
 * than the lease lasts (30 s) let a second process waiting for the store take it, and the run
 * then stopped at its next write. Long steps give the loop a turn between statements, pages,
 * batches and groups of blocks; never inside a write transaction (a turn there lets another
 * connection of this process ask for SQLite's lock, and its busy wait would block the very
 * thread holding it).
 */

/** One turn: timers and I/O that are due run before the run goes on. */
export const turnOfTheEventLoop = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/** How long a run computes at most between two turns (`turnWhenDue`). */
export const TURN_EVERY_MS = 50;

/**
 * For a loop of many small synchronous steps: answers a turn once `everyMs` has passed since the
 * last one, else nothing to wait for (a clock read, no promise), so it may be asked between steps
 * of microseconds.
 */
export function turnWhenDue(everyMs = TURN_EVERY_MS, now: () => number = Date.now): () => Promise<void> | undefined {
  let last = now();
  return () => {
    const at = now();
    if (at - last < everyMs) return undefined;
    return turnOfTheEventLoop().then(() => {
      last = now();
    });
  };
}
