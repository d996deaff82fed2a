/**
 * One directory for every temporary file of a test run (`test/helpers/tmp.ts`), removed by
 * `global-teardown.ts` once every test file has closed what it opened: a CI machine runs the
 * suite many times a day, and what a run leaves in /tmp stays there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function globalSetup(): void {
  process.env.C360_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'c360-jest-'));
}
