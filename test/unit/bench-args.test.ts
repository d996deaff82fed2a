/**
 * The benchmarks' command lines (bench/args.ts): `--help` prints the benchmark's usage and does no
 * work; a mistyped flag or a bad value stops it at once with exit 2, instead of a default run that
 * takes minutes (`bench:resolve --help` used to start a 465,000-person resolution).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function bench(file: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join('bench', file), ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

describe('a benchmark command line', () => {
  it('prints the usage its header documents on --help, and exits 0 without running', async () => {
    const r = await bench('resolve.ts', ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('npm run bench:resolve -- --engine mariadb');
    expect(r.stdout).not.toMatch(/^\s*\*/m);
    expect(r.stderr).toBe('');
  });

  it("prints bench:gateway's usage on --help instead of generating its 20,000-person world", async () => {
    const r = await bench('gateway.ts', ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('npm run bench:gateway [-- --quick]');
    expect(r.stderr).toBe('');
  });

  it.each([
    ['resolve.ts', ['--peple', '5000'], /bench:resolve: Unknown option '--peple'/],
    ['resolve.ts', ['--people', '5k'], /bench:resolve: --people must be a whole number ≥ 10, got "5k"/],
    ['resolve.ts', ['--engine', 'postgres'], /bench:resolve: --engine is sqlite or mariadb/],
    ['bi.ts', ['--formats', 'ndjson,xml'], /bench:bi: --formats takes ndjson, csv, ndjson.gz, csv.gz; got "xml"/],
    ['bi.ts', ['--filter', '{orders:'], /bench:bi: --filter is not JSON/],
    ['faults.ts', ['--seconds', '0'], /bench:faults: --seconds must be a whole number ≥ 1/],
    ['refusal.ts', ['--runs'], /bench:refusal: Option '--runs <value>' argument missing/],
    ['heap.ts', ['--snapshot'], /bench:heap: Unknown option '--snapshot'/],
    ['gateway.ts', ['--rouds', '5'], /bench:gateway: Unknown option '--rouds'/],
    ['gateway.ts', ['--soak', '1m'], /bench:gateway: --soak must be a whole number ≥ 0, got "1m"/],
    ['gateway.ts', ['--only', ','], /bench:gateway: --only needs a comma-separated list/],
    // bench/README's `node --import tsx bench/sqlite-reads.ts` before any bench run: a line, not a stack trace.
    [
      'sqlite-reads.ts',
      ['--oneid', 'bench/results/none/oneid.sqlite'],
      /^bench:sqlite-reads: bench\/results\/none\/oneid.sqlite does not exist: run npm run bench:gateway first/,
    ],
    ['sqlite-reads.ts', ['--one-id', 'x'], /bench:sqlite-reads: Unknown option '--one-id'/],
  ])('%s %j stops at once with exit 2 and says which flag', async (file, args, message) => {
    const r = await bench(file, args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
