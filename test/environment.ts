/**
 * The test files' environment: Node's, plus one step once a file's last hook has run. Whatever
 * the file started and did not close (`test/helpers/file-end.ts`: a world whose hook timed out
 * and whose build went on, a private MariaDB, a gateway process) is closed then, while the
 * file's modules can still be loaded; a setup still running is stopped and waited for. A
 * close that fails or does not end fails the file with what it was, instead of a jest that
 * never exits after its results.
 */
import NodeEnvironment from 'jest-environment-node';
import type { Circus } from '@jest/types';
import { LEFT_OPEN, type LeftOpen } from './helpers/file-end';

/** How long one left-open thing may take to close: a world stopped mid-build finishes its current step first. */
const CLOSE_WITHIN_MS = 600_000;

export default class TestEnvironment extends NodeEnvironment {
  async handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> {
    if (event.name !== 'run_finish') return;
    const left = (this.global as unknown as Record<symbol, Set<LeftOpen> | undefined>)[LEFT_OPEN];
    for (const entry of [...(left ?? [])]) {
      left!.delete(entry);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still not closed after ${CLOSE_WITHIN_MS} ms`)), CLOSE_WITHIN_MS);
      });
      try {
        await Promise.race([entry.close(), bound]);
      } catch (e) {
        state.unhandledErrors.push(new Error(`${entry.what}, left open by the file, could not be closed at its end: ${(e as Error)?.message ?? e}`));
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
