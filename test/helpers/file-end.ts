/**
 * What a test file started and has not closed yet (a test world, a private MariaDB, a gateway
 * process), closed by the test environment once the file's last hook has run
 * (`test/environment.ts`). A hook that times out leaves its setup running: the world it was
 * building goes on being built, and what it opens after the hook gave up (servers listening,
 * SQLite pools whose reaper timer never stops, child processes) is handed to nobody. Left open,
 * those keep jest from exiting after it printed its results: a CI run that never ends.
 */

/** Where the entries live: the test file's global, which the environment reads. */
export const LEFT_OPEN = Symbol.for('c360.test.leftOpen');

export interface LeftOpen {
  /** What it is, for the failure that says it could not be closed. */
  what: string;
  close(): Promise<void>;
}

const entries = (): Set<LeftOpen> => ((globalThis as Record<symbol, Set<LeftOpen> | undefined>)[LEFT_OPEN] ??= new Set());

/**
 * Registers `close` to run at the end of the file unless the returned function is called first
 * (its owner closed it). Register when starting, not when started: a setup given up on half-way
 * is what this is for.
 */
export function closeAtFileEnd(what: string, close: () => Promise<void>): () => void {
  const entry: LeftOpen = { what, close };
  entries().add(entry);
  return () => void entries().delete(entry);
}
