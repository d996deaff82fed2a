/**
 * A test file's hook that times out leaves nothing running: jest, run as CI runs it (in band),
 * exits after its results. The hook gives up on a world being built; the build goes on, and
 * what it opens afterwards is held by nobody. Left open, its servers and SQLite pools (a reaper
 * timer that never stops) kept jest alive after printing its results: on CI a run that never
 * ends (session 40 saw 14 minutes until it was stopped).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '../..');
/** How long jest may take to exit after writing its results before the test calls it hung: closing pools takes well under a second. */
const EXIT_WITHIN_MS = 120_000;

describe('Test files: a hook that timed out', () => {
  it('leaves no world running, whether its build ends after the hook gave up or is still going when the file ends, and jest exits', async () => {
    const out = path.join(tempDir('left-open'), 'results.json');
    const jest = spawn(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--runInBand', '--ci', '--testMatch', '**/test/fixtures/left-open/*.fixture.ts', '--json', '--outputFile', out],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    jest.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => jest.once('exit', (code, signal) => resolve({ code, signal })));
    let hung = false;
    try {
      // Jest writes its results once every file and the global teardown are done; then only its exit is left.
      for (let i = 0; !fs.existsSync(out); i++) {
        if (jest.exitCode !== null || jest.signalCode !== null) break;
        if (i > 6000) throw new Error(`jest wrote no results within 10 minutes: ${stderr.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const timer = setTimeout(() => {
        hung = true;
        jest.kill('SIGKILL');
      }, EXIT_WITHIN_MS);
      const { code, signal } = await exited;
      clearTimeout(timer);
      expect({ hung, signal, stillOpen: hung ? stderr.slice(-3000) : '' }).toEqual({ hung: false, signal: null, stillOpen: '' });
      expect(code).toBe(1); // the two hooks failed
      const results = JSON.parse(fs.readFileSync(out, 'utf8'));
      expect(results.testResults.map((r: { name: string }) => path.basename(r.name)).sort()).toEqual(['building-at-file-end.fixture.ts', 'built-after-its-hook.fixture.ts']);
      // Each file failed for its hook's timeout and for nothing else (no world that could not be closed).
      for (const file of results.testResults) {
        expect(file.message).toMatch(/Exceeded timeout of 1 ms for a hook/);
        expect(file.message).not.toMatch(/left open by the file/);
      }
    } finally {
      jest.kill('SIGKILL');
    }
  });
});
