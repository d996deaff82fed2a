import { isSourceError, type SourceError } from '../../src/errors';
import type { ListSlot, Slot } from '../../src/vocabulary';

/** The SourceError a connector's call fails with; anything else, or no failure at all, fails the test. */
export async function failure(p: Promise<unknown>): Promise<SourceError> {
  try {
    await p;
  } catch (e) {
    if (isSourceError(e)) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

/**
 * Each key's list of a batch read every call of which answered: a key answered with its call's
 * error (its chunk failed) fails the test.
 */
export function lists<T>(answers: ReadonlyArray<ListSlot<T>>): Array<Slot<T>[]> {
  return answers.map((a, i) => {
    if (a instanceof Error) throw new Error(`key ${i} answered its call's error: ${a.message}`);
    return a;
  });
}

/**
 * What a call that should succeed answers, asked again (up to ten times) while it answers
 * SOURCE_TIMEOUT: fault tests give their source a short deadline on purpose, for the slow call they
 * time out, and a loaded machine may also miss it for the quick one they expect to pass.
 */
export async function answered<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (attempt >= 10 || (e as { code?: string }).code !== 'SOURCE_TIMEOUT') throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** `scanRecords`' answers where every record read: a record answered as unreadable (its SourceRowError) fails the test; null (no such record) stays null. */
export function readRecords<T>(answers: ReadonlyArray<Slot<T> | null>): Array<T | null> {
  return answers.map((a, i) => {
    if (a instanceof Error) throw new Error(`record ${i} answered unreadable: ${a.message}`);
    return a;
  });
}
