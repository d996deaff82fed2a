/**
 * .ci/run never hangs: jest on one engine (`run_jest`, .ci/run-jest.sh) is stopped when it has
 * not exited some time after writing its results (a test left something open), or when it runs
 * past the engine's bound; either fails the run and says where to look, and leaves nothing
 * running. Here with bounds of seconds over fixtures, and `npm test` standing for jest on them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '../..');

/** The processes whose command line names `fixture` (the jest given it, and anything under it). */
const running = (fixture: string) =>
  fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(fixture);
      } catch {
        return false; // gone meanwhile
      }
    });

/** run_jest over one fixture file with the given bounds; answers what the shell printed. */
async function runJest(fixture: string, bounds: { exitSeconds: number; engineSeconds: number }) {
  const dir = tempDir('ci-bound');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  // `npm test -- ARGS` as .ci/run calls it: jest (without the type check) on the fixture alone.
  fs.writeFileSync(
    path.join(bin, 'npm'),
    `#!/bin/sh\nshift 2\nexec "${process.execPath}" "${require.resolve('jest/bin/jest')}" --runInBand --ci --testMatch "**/test/fixtures/ci-bound/${fixture}" "$@"\n`,
    { mode: 0o755 },
  );
  const shell = spawn(
    'bash',
    [
      '-c',
      'set -uo pipefail; work=$1; root=$2; source "$root/.ci/run-jest.sh"; run_jest sqlite "$work/sqlite.json" C360_TEST_DB=sqlite; echo "status=$? bounds_failed=$bounds_failed"',
      'ci',
      dir,
      ROOT,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, C360_CI_EXIT_SECONDS: String(bounds.exitSeconds), C360_CI_ENGINE_SECONDS: String(bounds.engineSeconds) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  shell.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  shell.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => shell.once('exit', resolve));
  return { code, out, results: fs.existsSync(path.join(dir, 'sqlite.json')) };
}

describe('.ci/run: each engine jest bounded', () => {
  it('stops a jest that wrote its results and does not exit, counts it as a failure, and leaves nothing running', async () => {
    const { code, out, results } = await runJest('server-left-listening.fixture.ts', { exitSeconds: 5, engineSeconds: 3600 });
    expect(code).toBe(0);
    expect(out).toContain('ci: jest (sqlite) wrote its results 5 s ago and has not exited: a test left something open.');
    expect(out).toContain('ci: every file passed');
    expect(out).toContain('status=1 bounds_failed=1');
    expect(results).toBe(true);
    expect(running('server-left-listening.fixture.ts')).toEqual([]);
  });

  it('stops a jest past the engine bound, naming the file it was running, and leaves nothing running', async () => {
    // 45 s: jest must have begun the file by then (a few seconds on a quiet machine) for it to be named.
    const { out, results } = await runJest('never-ends.fixture.ts', { exitSeconds: 120, engineSeconds: 45 });
    expect(out).toContain('ci: jest (sqlite) ran past its bound of 45 s; the files it was running:');
    expect(out).toMatch(new RegExp(`^  ${ROOT}/test/fixtures/ci-bound/never-ends\\.fixture\\.ts \\(since `, 'm'));
    // No results: the run's summary counts a missing results file as a failure.
    expect(out).toContain('status=1 bounds_failed=0');
    expect(results).toBe(false);
    expect(running('never-ends.fixture.ts')).toEqual([]);
  });
});
