import { isSourceError, type SourceError } from '../../src/errors';

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
