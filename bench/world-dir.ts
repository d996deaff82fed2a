/**
 * A demo world for a benchmark: generated into `dataDir` (seed 42) when it is not there yet, by a
 * child process, so the generator's memory never counts in the measured process's peak RSS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MANIFEST_FILE } from '../demo/seed';

export function ensureWorldDir(people: number, dataDir: string): void {
  if (fs.existsSync(path.join(dataDir, MANIFEST_FILE))) return;
  process.stdout.write(`generating the demo world (${people} people) in ${path.relative(process.cwd(), dataDir)} …\n`);
  const gen = spawnSync(
    process.execPath,
    [require.resolve('tsx/cli'), path.resolve(__dirname, '../demo/seed.ts'), '--people', String(people), '--seed', '42', '--data-dir', dataDir],
    { stdio: 'inherit' },
  );
  if (gen.status !== 0) throw new Error('demo world generation failed');
}
