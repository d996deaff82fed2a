/**
 * Temporary directories for tests, inside the run's own directory (`test/global-setup.ts`), which
 * the run removes at its end: not per test file, because a file's hooks may still close
 * databases in them after its last test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A new empty directory named `c360-<prefix>-…`; usable anywhere, inside a test too. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(process.env.C360_TEST_TMP ?? os.tmpdir(), `c360-${prefix}-`));
}
