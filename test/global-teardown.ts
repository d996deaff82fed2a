/** Removes the run's temporary directory (`global-setup.ts`). */
import fs from 'node:fs';

export default function globalTeardown(): void {
  const dir = process.env.C360_TEST_TMP;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
