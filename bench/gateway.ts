/**
 * Gateway benchmark against its floor, in one run:
 *
 *   npm run bench:gateway [-- --quick] [--people 20000] [--rounds 3] [--seconds 4] [--slice 1] [--warmup 2] [--connections 8] [--soak 60]
 *                         [--sources crm,orders,support,scrm] [--only 1,3] [--cpu-prof] [--sql-profile] [--no-build] [--baseline REF]
 *
 * `--baseline REF` adds the gateway as of a git commit as a third server (see compileBaseline).
 * `--only` keeps the scenarios of those numbers (1-based, in the order of bench/gateway-scenarios.ts).
 *
 * Three kinds of process, so that none pays for another's CPU: the gateway as production runs it
 * (NODE_ENV=production, `node src/cli.js start` compiled afresh into bench/results/dist/, see
 * `compile`; with `--no-build`, `node --import tsx src/cli.ts start`), the HTTP stand-ins of the demo systems, and a load generator (autocannon, a new process
 * per measurement, bench/gateway-load.ts). The floor (bench/floor.ts: graphql-js + DataLoader over
 * the same connectors, nothing else) is a fourth process over the same stores and stand-ins.
 *
 * Per round, over every scenario (bench/gateway-scenarios.ts), the servers take turns in short
 * slices at `--connections` connections, `--seconds` ÷ `--slice` sets of one slice per server, the
 * order alternating from set to set (A B B A …: bench/paired.ts), so that a slow spell of the
 * machine falls on every server alike. In each scenario and round every server first gets
 * `--warmup` seconds of the same load, not counted (the one measured first warmed last); a slice
 * is then a fixed number of requests, the same for every server, every one answered before it
 * ends: `--slice` seconds at the slowest server's rate in those warm-ups (three times as many for
 * the 50- and 1,000-customer scenarios: `sliceScale`). Per slice: the server's CPU from its
 * threads' scheduler clocks (/proc/<pid>/task/<tid>/schedstat, nanoseconds) and its requests; a
 * ratio gateway ÷ floor is taken within each set, and the ratios of every set of every round are
 * reported as their median and interquartile range. Per scenario and server, summed over a round's
 * slices: req/s, p50/p99 (autocannon, the median of the slices'), CPU ms per request, source calls
 * per request (the gateway's /metrics, the floor's /calls; access tokens left out) and peak RSS
 * (VmHWM); medians over the rounds. `--slice` equal to `--seconds` is one slice per server and
 * round, the method before session 41. Also per measurement, what
 * the same requests cost the rest of the machine (the stand-ins' process tree, the load generator,
 * everything else from /proc/stat) and so the req/s the cores allow. Before measuring, the
 * floor's JSON is checked equal to the gateway's for every scenario that is not masked. Then
 * `--soak` seconds of the first scenario against the gateway alone: RSS sampled every second,
 * first against last 10 s. `--quick`: one round of 2 s, no soak. Loopback only.
 *
 * Why a round reads apart from the others: each measurement also prints the server's CPU split
 * into its main thread and its other threads (/proc schedstat), its main thread's collections
 * (bench/gc-window.cjs, loaded into every server alike), how long its threads waited for a core,
 * the hypervisor's steal, and a fixed piece of work timed in this process just before and after
 * (bench/proc.ts speedProbeMs: the machine's speed at that moment); a table at the end lists them
 * per measurement.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import os from 'node:os';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import Database from 'better-sqlite3';
import { parseConfig } from '../src/config';
import { createGateway } from '../src/gateway';
import { runResolution } from '../src/resolution';
import { createLogger } from '../src/observability/logger';
import { ensureDemoWorld } from '../demo/seed';
import { demoSourcesConfig, spawnStandIns } from '../demo/world-sources';
import { BENCH_KEYS, SCENARIOS, type Sample, type Scenario } from './gateway-scenarios';
import { cpuMs, ioSyscalls, machineCpuMs, memoryMiB, sampleRss, speedProbeMs, startHeapFlags, threadClocks, treeCpuMs } from './proc';
import { benchPolicy } from './policy';
import { benchFlags, commaList, wholeNumber } from './args';
import { pairedRatios, setOrder, spreadOf } from './paired';

const flags = benchFlags(__filename, 'gateway', {
  quick: { type: 'boolean' },
  people: { type: 'string' },
  rounds: { type: 'string' },
  seconds: { type: 'string' },
  slice: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  soak: { type: 'string' },
  sources: { type: 'string' },
  only: { type: 'string' },
  'cpu-prof': { type: 'boolean' },
  'sql-profile': { type: 'boolean' },
  'no-build': { type: 'boolean' },
  baseline: { type: 'string' },
});
const quick = flags.quick === true;
const people = wholeNumber('gateway', 'people', flags.people, 20000, 10);
const rounds = wholeNumber('gateway', 'rounds', flags.rounds, quick ? 1 : 3);
const seconds = wholeNumber('gateway', 'seconds', flags.seconds, quick ? 2 : 4);
/**
 * `--slice S` (default 1): each server's load within a round comes in slices of S seconds,
 * alternating with the other servers' (bench/paired.ts), `--seconds` ÷ S of them (at least one).
 * With one window per server and round (`--slice` = `--seconds`, the method up to session 40), a
 * slow spell of the machine during one server's 4 s moved that round's ratio by up to ±5% on a
 * quiet machine (bench/HISTORY.md, sessions 40 and 41); in 1 s slices taken A B B A it falls on both.
 */
const sliceSeconds = wholeNumber('gateway', 'slice', flags.slice, 1);
const setsPerRound = Math.max(1, Math.round(seconds / sliceSeconds));
/**
 * `--warmup S` (default 2, `--quick` 1): S seconds of the same scenario on the same server right
 * before each measured window, not counted in it. Without it a window also paid, at random, for
 * the move from the other scenarios to this one (V8 compiling again what they deoptimized or a
 * major GC dropped): a round read up to twice the next one's CPU per request, the gateway's more
 * than the floor's (bench/HISTORY.md, session 40). Every server gets the same warm-up, and its
 * own CPU per request is printed beside the window's (a table of its own), so the cost of the
 * move is still reported, not hidden. `--warmup 0`: the method of the runs before session 40.
 */
const warmupSeconds = wholeNumber('gateway', 'warmup', flags.warmup, quick ? 1 : 2, 0);
const connections = wholeNumber('gateway', 'connections', flags.connections, 8);
const soakSeconds = wholeNumber('gateway', 'soak', flags.soak, quick ? 0 : 60, 0);
/** The four systems the issue's figures use: two SQL stores and two HTTP stand-ins. */
const sourceNames = commaList('gateway', 'sources', flags.sources, ['crm', 'orders', 'support', 'scrm']);
const scenarioFilter = commaList('gateway', 'only', flags.only, []);
/** `--cpu-prof`: the gateway and the floor write V8 CPU profiles (bench/results/gateway-N/prof/) when they stop. */
const cpuProf = flags['cpu-prof'] === true;
/** `--sql-profile`: the gateway and the floor print their SQLite statements' time on stderr when they stop (bench/sql-profile.cjs). */
const sqlProf = flags['sql-profile'] === true;
const noBuild = flags['no-build'] === true;
const baselineRef = flags.baseline;

const root = path.resolve(__dirname, '..');
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The compiled tree the servers and the load generator run from: the project's production build
 * (tsconfig.build.json) plus the bench's own files, compiled afresh into bench/results/dist/ (never
 * into dist/, which `npm run build` owns) so that what is measured is the working tree as it is now.
 * `--no-build`, or a tree without the build script: TypeScript through tsx instead.
 */
function compile(): string | null {
  const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  const copyAssets = path.join(root, 'scripts/copy-build-assets.mjs');
  if (noBuild || !scripts.build || !fs.existsSync(copyAssets)) return null;
  const out = path.join(root, 'bench/results/dist');
  fs.rmSync(out, { recursive: true, force: true });
  // Type errors (another change half done) do not stop tsc from writing JavaScript; missing output does stop the bench.
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'bench/tsconfig.bench.json')], { cwd: root, encoding: 'utf8' });
  spawnSync(process.execPath, [copyAssets, out], { cwd: root, stdio: 'ignore' });
  if (!['src/cli.js', 'bench/floor.js', 'bench/gateway-load.js'].every((f) => fs.existsSync(path.join(out, f)))) {
    throw new Error(`compiling for the bench failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  return out;
}
let compiled: string | null = null;

/**
 * `--baseline REF`: the gateway as of a git commit, compiled the same way into
 * $TMPDIR/c360-bench-baseline/, measured as a third server in the same rounds (before/after in one run).
 * It reads a copy of the same OneID store (oneidForBaseline), so REF must cope with the current tables.
 */
function compileBaseline(ref: string): string {
  // Outside the repository: its TypeScript must not join the project's typecheck (tsconfig includes bench/) or jest's module map.
  const dir = path.join(os.tmpdir(), 'c360-bench-baseline');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const archive = spawnSync('git', ['archive', '--format=tar', ref, 'src', 'resolvers', 'demo', 'schema', 'config', 'package.json', 'tsconfig.json'], {
    cwd: root,
    maxBuffer: 1 << 28,
  });
  if (archive.status !== 0) throw new Error(`--baseline ${ref}: git archive failed: ${archive.stderr}`);
  spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.copyFileSync(path.join(root, 'scripts/copy-build-assets.mjs'), path.join(dir, 'scripts/copy-build-assets.mjs'));
  const tsconfig = { extends: './tsconfig.json', compilerOptions: { noEmit: false, outDir: 'dist', rootDir: '.', types: ['node'] }, include: ['src', 'resolvers', 'demo'] };
  fs.writeFileSync(path.join(dir, 'tsconfig.bench.json'), JSON.stringify(tsconfig));
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.bench.json')], { cwd: dir, encoding: 'utf8' });
  spawnSync(process.execPath, [path.join(dir, 'scripts/copy-build-assets.mjs'), path.join(dir, 'dist')], { cwd: dir, stdio: 'ignore' });
  const entry = path.join(dir, 'dist/src/cli.js');
  if (!fs.existsSync(entry)) throw new Error(`--baseline ${ref}: compiling failed:\n${tsc.stdout}${tsc.stderr}`);
  return entry;
}

/** The V8 heap flags production runs the gateway with (package.json `start:prod`). */
const HEAP_FLAGS = startHeapFlags(root);

/** How to run a TypeScript entry as production would: its compiled file, else through tsx. */
function nodeArgs(tsEntry: string): string[] {
  if (compiled) return [path.join(compiled, tsEntry.replace(/\.ts$/, '.js'))];
  return ['--import', 'tsx', path.join(root, tsEntry)];
}

/**
 * The baseline's own copy of the resolved OneID store (the same customers), told only of the
 * migrations REF has: knex refuses to start over a store with migrations it does not know.
 */
async function oneidForBaseline(ref: string, oneid: string, runDir: string): Promise<string> {
  const copy = path.join(runDir, 'baseline-oneid.sqlite');
  for (const x of ['', '-wal', '-shm']) fs.rmSync(copy + x, { force: true });
  const source = new Database(oneid, { readonly: true });
  await source.backup(copy);
  source.close();
  const listed = spawnSync('git', ['ls-tree', '--name-only', ref, 'src/idmap/migrations/', 'src/access/migrations/'], { cwd: root, encoding: 'utf8' }).stdout;
  const known = new Set(listed.split('\n').map((f) => path.basename(f).replace(/\.[jt]s$/, '')));
  const db = new Database(copy);
  for (const table of ['idmap_migrations', 'c360_access_migrations']) {
    for (const name of db.prepare(`select name from ${table}`).pluck().all() as string[]) {
      if (!known.has(name.replace(/\.[jt]s$/, ''))) db.prepare(`delete from ${table} where name = ?`).run(name);
    }
  }
  db.close();
  return copy;
}

interface Server {
  name: 'gateway' | 'floor' | 'baseline';
  url: string;
  child: ChildProcess;
  /** Source calls made so far. */
  calls(): Promise<number>;
  /** Where the server writes its main thread's collections so far when sent SIGUSR2 (bench/gc-window.cjs). */
  gcFile: string;
}

/** What bench/gc-window.cjs counts: the main thread's collections by kind and their pauses (ms). */
interface GcCounts {
  scavenges: number;
  scavengeMs: number;
  markCompacts: number;
  markCompactMs: number;
  incremental: number;
  incrementalMs: number;
  weak: number;
  weakMs: number;
  heapUsedMiB: number;
  /** The young generation's size (KiB) when asked. */
  newSpaceKiB: number;
}

/** A server's collections so far: asks it (SIGUSR2) and waits for the file it writes. */
async function gcCounts(server: Server): Promise<GcCounts> {
  fs.rmSync(server.gcFile, { force: true });
  server.child.kill('SIGUSR2');
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(server.gcFile)) {
    if (Date.now() > deadline) throw new Error(`${server.name} did not write its GC counts within 30 s`);
    await sleep(2);
  }
  return JSON.parse(fs.readFileSync(server.gcFile, 'utf8')) as GcCounts;
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as import('node:net').AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startProcess(name: Server['name'], args: string[], url: string, ready: string, calls: () => Promise<number>): Promise<Server> {
  const prof = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(root, 'bench/results', `gateway-${people}`, 'prof', name)] : [];
  if (sqlProf) prof.push('--require', path.join(root, 'bench/sql-profile.cjs'));
  // Every server counts its collections the same way (bench/gc-window.cjs: a perf_hooks observer, a few µs a collection).
  const gcFile = path.resolve(root, 'bench/results', `gateway-${people}`, `gc-${name}.json`);
  prof.push('--require', path.join(root, 'bench/gc-window.cjs'));
  // Every server runs with the heap flags of `npm run start:prod` (the floor and the baseline too, so that a ratio compares code, not flags).
  const child = spawn(process.execPath, [...HEAP_FLAGS, ...prof, ...args], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', C360_BENCH_GC_FILE: gcFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`))));
  exited.catch(() => undefined);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await Promise.race([
      fetch(`${url}${ready}`).then(
        (r) => r.ok,
        () => false,
      ),
      exited,
    ]);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${name} did not become ready within 60 s`);
    await sleep(200);
  }
  return { name, url, child, calls, gcFile };
}

/** Sum of a Prometheus counter's samples, leaving out those whose labels match `skip`. */
function counterSum(text: string, metric: string, skip: RegExp): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) || skip.test(line)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  callsPerRequest: number;
  peakRssMiB: number;
  requests: number;
  failed: number;
  /** What the same requests cost the rest of the machine: the stand-ins' process, the load generator, everything else (other work, this bench). */
  standInsCpuMsPerRequest: number;
  loadCpuMsPerRequest: number;
  otherCpuMsPerRequest: number;
  /** Share of the machine's CPU time (all cores) that was busy during the measurement. */
  machineBusy: number;
  /**
   * Why one round's CPU per request differs from another's: the server's CPU split into its main
   * thread and its other threads (V8's concurrent GC and compiles, libuv's pool, workers), the
   * main thread's collections (count per 1,000 requests, pause ms per request), how long its
   * threads waited for a core, involuntary context switches and read/write system calls per
   * request, and the hypervisor's steal over the window.
   */
  mainMsPerRequest: number;
  helpersMsPerRequest: number;
  scavengesPer1000: number;
  markCompacts: number;
  gcPauseMsPerRequest: number;
  waitMsPerRequest: number;
  switchesPerRequest: number;
  syscallsPerRequest: number;
  stealMs: number;
  /** The measurement's wall time (s): the load's window plus the load generator's start and exit. */
  wallSeconds: number;
  /** The machine's speed around the measurement: bench/proc.ts speedProbeMs just before and just after, averaged (ms; more is slower). */
  probeMs: number;
  /** The young generation's size (KiB) as the measurement began and as it ended. */
  newSpaceKiBAtStart: number;
  newSpaceKiBAtEnd: number;
  /** `--warmup`: the server's CPU ms per request in the warm-up just before this measurement (NaN without one). */
  warmupCpuMsPerRequest: number;
}

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  cpuMs: number;
}

/**
 * The load generator: one process for the whole run (bench/gateway-load.ts `--serve`), asked for
 * one load at a time, so that a short slice does not wait for a process to start, nor pays for
 * its start in the machine's figures. Its CPU per load is its own (process.cpuUsage around autocannon).
 */
class LoadGenerator {
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ resolve: (r: LoadResult) => void; reject: (e: Error) => void }> = [];
  private exited: Error | null = null;

  constructor(sampleFile: string) {
    this.child = spawn(process.execPath, [...nodeArgs('bench/gateway-load.ts'), '--serve', '--sample', sampleFile], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => this.waiting.shift()?.resolve(JSON.parse(line) as LoadResult));
    this.child.once('exit', (code) => {
      this.exited = new Error(`load generator exited with ${code}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  run(load: { url: string; scenario: number; seconds: number; connections: number; key?: string; amount?: number }): Promise<LoadResult> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin!.write(JSON.stringify(load) + '\n');
    });
  }

  pid(): number {
    return this.child.pid!;
  }

  stop(): void {
    this.child.stdin!.end();
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}
let loader: LoadGenerator | null = null;

/** `secs` of the scenario's load against `server` (unless `exactly`, times the scenario's `sliceScale`: bench/gateway-scenarios.ts). */
async function runLoad(server: Server, scenarioIndex: number, secs: number, exactly = false, amount?: number): Promise<LoadResult> {
  const scenario = SCENARIOS[scenarioIndex];
  return loader!.run({
    url: server.url,
    scenario: scenarioIndex,
    amount,
    seconds: exactly ? secs : secs * (scenario.sliceScale ?? 1),
    connections: Math.min(connections, scenario.maxConnections ?? connections),
    key: server.name !== 'floor' ? BENCH_KEYS[scenario.role] : undefined,
  });
}

/** `--warmup` seconds of the scenario on the server, not counted: its CPU ms per request and req/s (NaN without a warm-up). */
async function warmUp(server: Server, scenarioIndex: number): Promise<{ cpuMsPerRequest: number; rps: number }> {
  if (warmupSeconds === 0) return { cpuMsPerRequest: NaN, rps: NaN };
  const pid = server.child.pid!;
  const w0 = cpuMs(pid);
  const warm = await runLoad(server, scenarioIndex, warmupSeconds);
  return { cpuMsPerRequest: (cpuMs(pid) - w0) / Math.max(1, warm.requests), rps: warm.rps };
}

/**
 * One slice against the server, with everything read around it: `amount` requests, every one
 * answered before the slice ends. A slice of fixed seconds ended with its connections' last
 * requests in flight: their CPU was in the slice but they were not among its requests, which
 * moved a slice of the 50-customer list by up to 3× (session 41's first run).
 */
async function measureSlice(server: Server, scenarioIndex: number, standInsPid: number, amount: number): Promise<Measurement> {
  const pid = server.child.pid!;
  const calls0 = await server.calls();
  const gc0 = await gcCounts(server);
  const probe0 = speedProbeMs();
  const threads0 = threadClocks(pid);
  const syscalls0 = ioSyscalls(pid);
  const wall0 = performance.now();
  const standIns0 = treeCpuMs(standInsPid);
  const machine0 = machineCpuMs();
  const load = await runLoad(server, scenarioIndex, sliceSeconds, false, amount);
  const machine1 = machineCpuMs();
  const standIns1 = treeCpuMs(standInsPid);
  const wall1 = performance.now();
  const threads1 = threadClocks(pid);
  const syscalls1 = ioSyscalls(pid);
  const probe1 = speedProbeMs();
  const gc1 = await gcCounts(server);
  const calls1 = await server.calls();
  const n = Math.max(1, load.requests);
  const standInsMs = standIns1 - standIns0;
  // The scheduler's nanoseconds of every thread, not /proc/<pid>/stat's 10 ms ticks: a 1 s slice holds ~100 of those.
  const serverMs = threads1.mainMs + threads1.helpersMs - (threads0.mainMs + threads0.helpersMs);
  return {
    rps: load.rps,
    p50: load.p50,
    p99: load.p99,
    cpuMsPerRequest: serverMs / n,
    // The /calls or /metrics read itself makes no source call.
    callsPerRequest: (calls1 - calls0) / n,
    peakRssMiB: memoryMiB(pid).peak,
    requests: load.requests,
    failed: load.non2xx + load.errors,
    standInsCpuMsPerRequest: standInsMs / n,
    loadCpuMsPerRequest: load.cpuMs / n,
    otherCpuMsPerRequest: (machine1.busy - machine0.busy - serverMs - standInsMs - load.cpuMs) / n,
    machineBusy: (machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total),
    mainMsPerRequest: (threads1.mainMs - threads0.mainMs) / n,
    helpersMsPerRequest: (threads1.helpersMs - threads0.helpersMs) / n,
    scavengesPer1000: ((gc1.scavenges - gc0.scavenges) * 1000) / n,
    markCompacts: gc1.markCompacts - gc0.markCompacts,
    gcPauseMsPerRequest: (gc1.scavengeMs + gc1.markCompactMs + gc1.incrementalMs + gc1.weakMs - (gc0.scavengeMs + gc0.markCompactMs + gc0.incrementalMs + gc0.weakMs)) / n,
    waitMsPerRequest: (threads1.waitMs - threads0.waitMs) / n,
    switchesPerRequest: (threads1.involuntarySwitches - threads0.involuntarySwitches) / n,
    syscallsPerRequest: (syscalls1 - syscalls0) / n,
    stealMs: machine1.steal - machine0.steal,
    wallSeconds: (wall1 - wall0) / 1000,
    probeMs: (probe0 + probe1) / 2,
    newSpaceKiBAtStart: gc0.newSpaceKiB,
    newSpaceKiBAtEnd: gc1.newSpaceKiB,
    warmupCpuMsPerRequest: NaN,
  };
}

/** A server's slices of one scenario in one round as one measurement: per-request figures weighted by requests, counts summed, latencies the slices' median. */
function combine(slices: Measurement[], warmupCpuMsPerRequest: number): Measurement {
  const requests = slices.reduce((n, m) => n + m.requests, 0);
  const perRequest = (f: (m: Measurement) => number) => slices.reduce((sum, m) => sum + f(m) * m.requests, 0) / Math.max(1, requests);
  const seconds = slices.reduce((sum, m) => sum + (m.rps > 0 ? m.requests / m.rps : 0), 0);
  return {
    rps: seconds > 0 ? requests / seconds : 0,
    p50: median(slices.map((m) => m.p50)),
    p99: median(slices.map((m) => m.p99)),
    cpuMsPerRequest: perRequest((m) => m.cpuMsPerRequest),
    callsPerRequest: perRequest((m) => m.callsPerRequest),
    peakRssMiB: Math.max(...slices.map((m) => m.peakRssMiB)),
    requests,
    failed: slices.reduce((n, m) => n + m.failed, 0),
    standInsCpuMsPerRequest: perRequest((m) => m.standInsCpuMsPerRequest),
    loadCpuMsPerRequest: perRequest((m) => m.loadCpuMsPerRequest),
    otherCpuMsPerRequest: perRequest((m) => m.otherCpuMsPerRequest),
    machineBusy: slices.reduce((sum, m) => sum + m.machineBusy, 0) / slices.length,
    mainMsPerRequest: perRequest((m) => m.mainMsPerRequest),
    helpersMsPerRequest: perRequest((m) => m.helpersMsPerRequest),
    scavengesPer1000: perRequest((m) => m.scavengesPer1000),
    markCompacts: slices.reduce((n, m) => n + m.markCompacts, 0),
    gcPauseMsPerRequest: perRequest((m) => m.gcPauseMsPerRequest),
    waitMsPerRequest: perRequest((m) => m.waitMsPerRequest),
    switchesPerRequest: perRequest((m) => m.switchesPerRequest),
    syscallsPerRequest: perRequest((m) => m.syscallsPerRequest),
    stealMs: slices.reduce((sum, m) => sum + m.stealMs, 0),
    wallSeconds: slices.reduce((sum, m) => sum + m.wallSeconds, 0),
    probeMs: slices.reduce((sum, m) => sum + m.probeMs, 0) / slices.length,
    newSpaceKiBAtStart: slices[0].newSpaceKiBAtStart,
    newSpaceKiBAtEnd: slices[slices.length - 1].newSpaceKiBAtEnd,
    warmupCpuMsPerRequest,
  };
}

async function post(server: Server, scenario: Scenario, sample: Sample, i: number): Promise<{ data?: unknown; errors?: unknown[]; bytes: number }> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(server.name !== 'floor' ? { 'x-api-key': BENCH_KEYS[scenario.role] } : {}) },
    body: JSON.stringify({ query: scenario.query, variables: scenario.variables(sample, i) }),
  });
  // The body's size as sent (the gateway's answer also carries `extensions.sources`, which the floor does not make).
  const text = await res.text();
  return { ...(JSON.parse(text) as { data?: unknown; errors?: unknown[] }), bytes: Buffer.byteLength(text) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const spread = (xs: number[], digits: number) =>
  xs.length > 1 ? `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})` : fmt(xs[0], digits);

async function main() {
  const t0 = Date.now();
  compiled = compile();
  const worldDir = path.resolve(root, 'bench/results', `world-${people}-42`);
  const runDir = path.resolve(root, 'bench/results', `gateway-${people}`);
  fs.mkdirSync(runDir, { recursive: true });
  await ensureDemoWorld({ dataDir: worldDir, people, seed: 42 });
  const standIns = await spawnStandIns(worldDir);
  const children: ChildProcess[] = [];
  const stopAll = () => {
    loader?.stop();
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    standIns.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(130);
    });
  }
  try {
    // A generous source deadline: on a loaded machine a timed-out source would quietly drop out of golden fields and the JSON check.
    const available = demoSourcesConfig(worldDir, standIns, 30_000);
    const unknown = sourceNames.filter((n) => !available.some((s) => s.name === n));
    if (unknown.length) throw new Error(`--sources: no demo source named ${unknown.join(', ')}; this world has ${available.map((s) => s.name).join(', ')}`);
    // A OneID map of this bench's own (other benches share the world directory), resolved afresh.
    const oneid = path.join(runDir, 'oneid.sqlite');
    for (const x of ['', '-wal', '-shm']) fs.rmSync(oneid + x, { force: true });
    const gatewayPort = await freePort();
    const rawConfig = {
      server: { host: '127.0.0.1', port: gatewayPort, sandbox: false },
      oneid: { connection: { client: 'sqlite', filename: oneid } },
      sources: available.filter((s) => sourceNames.includes(s.name)),
      identity: { rulesFile: path.join(root, 'config/identity-rules.json'), resolveOnStart: false },
      insights: { rulesDir: path.join(root, 'config') },
      access: { policyFile: benchPolicy(path.join(root, 'config/access.json'), path.join(runDir, 'access.json')) },
      auth: { apiKeys: Object.entries(BENCH_KEYS).map(([role, key]) => ({ name: `bench-${role}`, role, sha256: sha256(key) })) },
      // Production's default level: the per-request log line is part of what a request costs (stdout goes to /dev/null).
      log: { level: 'info' },
    };
    const configFile = path.join(runDir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify(rawConfig, null, 2));
    const config = parseConfig(rawConfig, configFile);
    const gw = await createGateway(config, { log: createLogger('silent') });
    const resolved = await runResolution(gw);
    await gw.close();

    // The sample: customers in the most systems first; phones that name one customer.
    const db = new Database(oneid, { readonly: true });
    const sample: Sample = {
      customerIds: db
        .prepare(
          `select customer_id from idmap_source_records where customer_id is not null group by customer_id order by count(distinct source) desc, customer_id limit 5000`,
        )
        .pluck()
        .all() as string[],
      phones: db
        .prepare(
          `select i.value from idmap_record_identifiers i join idmap_source_records sr on sr.source = i.source and sr.record_id = i.record_id
           where i.kind = 'PHONE' and i.valid_to is null and sr.customer_id is not null and i.value like '+861%'
           group by i.value having count(distinct sr.customer_id) = 1 order by i.value limit 2000`,
        )
        .pluck()
        .all() as string[],
    };
    db.close();
    const sampleFile = path.join(runDir, 'sample.json');
    fs.writeFileSync(sampleFile, JSON.stringify(sample));
    loader = new LoadGenerator(sampleFile);

    // The floor reads a copy of the store of its own, as the baseline does (oneidForBaseline), so that
    // no measured server reads a file another one writes: on the gateway's file, every audit commit of
    // the gateway made SQLite drop the floor's page cache at its next read (more reads from the file,
    // counted in its system calls), and the gateway's WAL was shared with the floor's readers.
    const floorOneid = path.join(runDir, 'floor-oneid.sqlite');
    for (const x of ['', '-wal', '-shm']) fs.rmSync(floorOneid + x, { force: true });
    const forFloor = new Database(oneid, { readonly: true });
    await forFloor.backup(floorOneid);
    forFloor.close();
    const floorConfigFile = path.join(runDir, 'floor-config.json');
    fs.writeFileSync(
      floorConfigFile,
      JSON.stringify({ ...rawConfig, oneid: { ...rawConfig.oneid, connection: { ...rawConfig.oneid.connection, filename: floorOneid } } }, null, 2),
    );

    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const gateway = await startProcess('gateway', [...nodeArgs('src/cli.ts'), 'start', '--config', configFile], gatewayUrl, '/readyz', async () =>
      counterSum(await (await fetch(`${gatewayUrl}/metrics`)).text(), 'c360_source_requests_total', /operation="token"/),
    );
    children.push(gateway.child);
    const floorPort = await freePort();
    const floorUrl = `http://127.0.0.1:${floorPort}`;
    const floor = await startProcess(
      'floor',
      [...nodeArgs('bench/floor.ts'), '--config', floorConfigFile, '--port', String(floorPort)],
      floorUrl,
      '/calls',
      async () => ((await (await fetch(`${floorUrl}/calls`)).json()) as { calls: number }).calls,
    );
    children.push(floor.child);
    let baseline: Server | undefined;
    if (baselineRef) {
      const entry = compileBaseline(baselineRef);
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const baselineConfig = path.join(runDir, 'baseline-config.json');
      const baselineOneid = await oneidForBaseline(baselineRef, oneid, runDir);
      // Its own rules and policy too: those of the working tree may name types REF does not have.
      const own = (p: string) => path.join(path.dirname(path.dirname(path.dirname(entry))), path.relative(root, p));
      fs.writeFileSync(
        baselineConfig,
        JSON.stringify({
          ...rawConfig,
          server: { ...rawConfig.server, port },
          oneid: { connection: { client: 'sqlite', filename: baselineOneid } },
          identity: { ...rawConfig.identity, rulesFile: own(rawConfig.identity.rulesFile) },
          insights: { rulesDir: own(rawConfig.insights.rulesDir) },
          access: { policyFile: benchPolicy(own(path.join(root, 'config/access.json')), path.join(runDir, 'baseline-access.json')) },
        }),
      );
      baseline = await startProcess('baseline', [entry, 'start', '--config', baselineConfig], url, '/readyz', async () =>
        counterSum(await (await fetch(`${url}/metrics`)).text(), 'c360_source_requests_total', /operation="token"/),
      );
      children.push(baseline.child);
    }
    const servers = [gateway, floor, ...(baseline ? [baseline] : [])];

    const scenarios = SCENARIOS.map((s, i) => ({ s, i })).filter(({ i }) => scenarioFilter.length === 0 || scenarioFilter.includes(String(i + 1)));
    process.stdout.write(
      `world: ${people} people, ${resolved.recordsRead} source records; sources: ${sourceNames.join(', ')}; setup ${((Date.now() - t0) / 1000).toFixed(1)} s\n` +
        `gateway: node ${nodeArgs('src/cli.ts')
          .map((a) => path.relative(root, a) || a)
          .join(' ')} start (NODE_ENV=production); floor: node ${nodeArgs('bench/floor.ts')
          .map((a) => path.relative(root, a) || a)
          .join(
            ' ',
          )}; heap flags (start:prod) for both: ${HEAP_FLAGS.join(' ') || 'none'}; load: autocannon, ${connections} connections, ${rounds} round(s) of ${setsPerRound} sets of one ${sliceSeconds} s slice per scenario and server (order A B B A), after ${warmupSeconds} s of warm-up per scenario and server\n`,
    );

    // The floor answers the same JSON (data and errors alike) for every unmasked scenario, with the same source calls.
    const oneRequestCalls = new Map<number, { gateway: number[]; floor: number[]; gatewayBytes: number[]; floorBytes: number[] }>();
    for (const { s, i: index } of scenarios) {
      const counted = { gateway: [] as number[], floor: [] as number[], gatewayBytes: [] as number[], floorBytes: [] as number[] };
      oneRequestCalls.set(index, counted);
      for (let i = 0; i < 3; i++) {
        const before = [await gateway.calls(), await floor.calls()];
        const [g, f] = await Promise.all([post(gateway, s, sample, i), post(floor, s, sample, i)]);
        counted.gateway.push((await gateway.calls()) - before[0]);
        counted.floor.push((await floor.calls()) - before[1]);
        counted.gatewayBytes.push(g.bytes);
        counted.floorBytes.push(f.bytes);
        if (g.errors) throw new Error(`gateway answered errors for "${s.name}": ${JSON.stringify(g.errors).slice(0, 400)}`);
        if (f.errors) throw new Error(`floor answered errors for "${s.name}": ${JSON.stringify(f.errors).slice(0, 400)}`);
        if (s.sameJsonAsFloor && JSON.stringify(g.data) !== JSON.stringify(f.data)) {
          fs.writeFileSync(path.join(runDir, 'mismatch.json'), JSON.stringify({ scenario: s.name, gateway: g.data, floor: f.data }, null, 2));
          throw new Error(`the floor's JSON differs from the gateway's for "${s.name}" (both written to ${path.relative(root, runDir)}/mismatch.json)`);
        }
      }
    }
    process.stdout.write(
      `check: the floor answers the same JSON as the gateway (${scenarios.filter(({ s }) => s.sameJsonAsFloor).length} scenarios × 3 requests; masked ones skipped)\n`,
    );
    process.stdout.write(
      `source calls of single requests (gateway / floor): ${scenarios.map(({ s, i }) => `${s.name}: ${oneRequestCalls.get(i)!.gateway.join(',')} / ${oneRequestCalls.get(i)!.floor.join(',')}`).join('; ')}\n` +
        `answer bytes of the same requests (gateway / floor): ${scenarios.map(({ s, i }) => `${s.name}: ${oneRequestCalls.get(i)!.gatewayBytes.join(',')} / ${oneRequestCalls.get(i)!.floorBytes.join(',')}`).join('; ')}\n\n`,
    );

    // Warm every server (JIT, caches, keep-alive pools) before the first measured round: a round of
    // every scenario, as long as a measured one, that is not counted. With one second each the first
    // round's windows were still paying first compiles on the servers' other threads (the gateway 4-10x
    // its later rounds', the floor up to 5x: bench/HISTORY.md, session 40); with --warmup 0, one second as before.
    const firstWarmup = warmupSeconds > 0 ? seconds : 1;
    /** The slowest server's req/s per scenario in this uncounted round: the slices' size when there is no warm-up to read it from. */
    const firstRps = new Map<number, number>();
    for (const { i } of scenarios) {
      let slowest = Infinity;
      for (const server of servers) slowest = Math.min(slowest, (await runLoad(server, i, firstWarmup)).rps);
      firstRps.set(i, slowest);
    }
    /**
     * A scenario's requests per slice in a round, the same for every server: `--slice` seconds (times
     * the scenario's `sliceScale`) at the slowest server's rate in this round's warm-ups, at least 4 per connection.
     */
    const sliceRequests = (s: Scenario, slowestRps: number) =>
      Math.max(4 * Math.min(connections, s.maxConnections ?? connections), Math.round(slowestRps * sliceSeconds * (s.sliceScale ?? 1)));
    const sliceSizes = new Map<number, number[]>(scenarios.map(({ i }) => [i, []]));
    // The speed probe's own first compiles, so that its first reading is the machine's and not its own warm-up.
    for (let k = 0; k < 5; k++) speedProbeMs();

    const results = new Map<number, Record<Server['name'], Measurement[]>>(scenarios.map(({ i }) => [i, { gateway: [], floor: [], baseline: [] }]));
    /** Per scenario, each set's slices by server (every round's sets in turn): the pairs the ratios are read from. */
    const sets = new Map<number, Array<Partial<Record<Server['name'], Measurement>>>>(scenarios.map(({ i }) => [i, []]));
    for (let round = 0; round < rounds; round++) {
      for (const { s, i } of scenarios) {
        const slices = new Map<Server['name'], Measurement[]>(servers.map((v) => [v.name, []]));
        // Every server's warm-up first, the one whose slice comes first warmed last; their slowest rate sizes the slices.
        const warmups = new Map<Server['name'], number>();
        let slowest = Infinity;
        for (const server of setOrder(servers, round, 0).reverse()) {
          const w = await warmUp(server, i);
          warmups.set(server.name, w.cpuMsPerRequest);
          slowest = Math.min(slowest, w.rps);
        }
        const amount = sliceRequests(s, Number.isFinite(slowest) ? slowest : firstRps.get(i)!);
        sliceSizes.get(i)!.push(amount);
        for (let k = 0; k < setsPerRound; k++) {
          const set: Partial<Record<Server['name'], Measurement>> = {};
          for (const server of setOrder(servers, round, k)) {
            const m = await measureSlice(server, i, standIns.pid(), amount);
            set[server.name] = m;
            slices.get(server.name)!.push(m);
          }
          sets.get(i)!.push(set);
        }
        for (const server of servers) {
          const m = combine(slices.get(server.name)!, warmups.get(server.name)!);
          results.get(i)![server.name].push(m);
          process.stderr.write(
            `round ${round + 1} ${server.name.padEnd(8)} ${s.name}: ${fmt(m.rps)} req/s, p99 ${fmt(m.p99, 1)} ms, ${fmt(m.cpuMsPerRequest, 2)} ms CPU/req ` +
              `(slices ${slices
                .get(server.name)!
                .map((x) => fmt(x.cpuMsPerRequest, 2))
                .join(
                  ' ',
                )}; main ${fmt(m.mainMsPerRequest, 3)}, helpers ${fmt(m.helpersMsPerRequest, 3)}; GC ${fmt(m.scavengesPer1000, 1)} scavenges/1000 req, ${m.markCompacts} mark-compacts, young generation ${fmt(m.newSpaceKiBAtStart / 1024, 1)} → ${fmt(m.newSpaceKiBAtEnd / 1024, 1)} MiB, ${fmt(m.gcPauseMsPerRequest, 3)} ms pause/req; ` +
              `waited ${fmt(m.waitMsPerRequest, 3)} ms/req, ${fmt(m.switchesPerRequest, 2)} preemptions/req, ${fmt(m.syscallsPerRequest, 1)} syscalls/req; steal ${fmt(m.stealMs)} ms; ` +
              `stand-ins ${fmt(m.standInsCpuMsPerRequest, 3)}, load ${fmt(m.loadCpuMsPerRequest, 3)}, else ${fmt(m.otherCpuMsPerRequest, 3)} ms/req; probe ${fmt(m.probeMs, 2)} ms; ${fmt(m.wallSeconds, 2)} s${warmupSeconds ? `; warm-up ${fmt(m.warmupCpuMsPerRequest, 2)} ms CPU/req` : ''}), ${fmt(m.callsPerRequest, 1)} calls/req${m.failed ? `, ${m.failed} FAILED` : ''}\n`,
          );
        }
      }
    }
    /** The ratio a ÷ b of one figure within each set of the scenario: median (first–third quartile) over every set of every round. */
    const paired = (i: number, a: Server['name'], b: Server['name'], figure: (m: Measurement) => number) => {
      const all = sets.get(i)!;
      const q = spreadOf(
        pairedRatios(
          all.map((x) => figure(x[a]!)),
          all.map((x) => figure(x[b]!)),
        ),
      );
      return `${fmt(q.median, 2)} (${fmt(q.q1, 2)}–${fmt(q.q3, 2)})`;
    };
    /** The same ratio of each round's slices summed: one figure per round, in round order. */
    const byRound = (i: number, a: Server['name'], b: Server['name']) => {
      const r = results.get(i)!;
      return r[a].map((m, k) => fmt(m.cpuMsPerRequest / r[b][k].cpuMsPerRequest, 2)).join(', ');
    };

    const rows = [
      '| scenario | gateway req/s | gateway p50 / p99 ms | gateway CPU ms/req | floor req/s | floor p50 / p99 ms | floor CPU ms/req | CPU/req gateway ÷ floor | req/s gateway ÷ floor | source calls/req under load gateway / floor |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ];
    for (const { s, i } of scenarios) {
      const { gateway: g, floor: f } = results.get(i)!;
      const perCustomer = s.customers > 1 ? ` (${fmt(median(g.map((m) => m.rps)) * s.customers)} customers/s)` : '';
      rows.push(
        `| ${s.name} | ${fmt(median(g.map((m) => m.rps)))}${perCustomer} | ${fmt(median(g.map((m) => m.p50)), 1)} / ${fmt(median(g.map((m) => m.p99)), 1)} | ${fmt(median(g.map((m) => m.cpuMsPerRequest)), 2)} | ${fmt(median(f.map((m) => m.rps)))} | ${fmt(median(f.map((m) => m.p50)), 1)} / ${fmt(median(f.map((m) => m.p99)), 1)} | ${fmt(median(f.map((m) => m.cpuMsPerRequest)), 2)} | ${paired(i, 'gateway', 'floor', (m) => m.cpuMsPerRequest)} | ${paired(i, 'gateway', 'floor', (m) => m.rps)} | ${fmt(median(g.map((m) => m.callsPerRequest)), 1)} / ${fmt(median(f.map((m) => m.callsPerRequest)), 1)} |`,
      );
    }
    rows.push(
      '',
      `Ratios: the median (first–third quartile) over ${rounds * setsPerRound} sets (${rounds} round(s) × ${setsPerRound}) of one ${sliceSeconds} s slice per server (3× for the 50- and 1,000-customer scenarios), each ratio within one set, the servers' order alternating A B B A (bench/paired.ts); requests per slice by round (every server alike): ${scenarios.map(({ s, i }) => `${s.name}: ${sliceSizes.get(i)!.join(', ')}`).join('; ')}. CPU/req gateway ÷ floor of each round's slices summed, in round order: ${scenarios.map(({ s, i }) => `${s.name}: ${byRound(i, 'gateway', 'floor')}`).join('; ')}.`,
    );
    const failed = [...results.values()].flatMap((r) => [...r.gateway, ...r.floor, ...r.baseline]).reduce((n, m) => n + m.failed, 0);
    if (baseline) {
      rows.push(
        '',
        `Before/after: the gateway as of ${baselineRef} (baseline) against the working tree, in the same sets (ratios: median and interquartile range of the sets'). Rounds' sums, working tree ÷ baseline: ${scenarios.map(({ s, i }) => `${s.name}: ${byRound(i, 'gateway', 'baseline')}`).join('; ')}.`,
        '',
        '| scenario | baseline req/s | baseline CPU ms/req | working tree CPU ms/req | CPU/req working tree ÷ baseline | req/s working tree ÷ baseline | baseline CPU/req ÷ floor |',
        '| --- | --- | --- | --- | --- | --- | --- |',
      );
      for (const { s, i } of scenarios) {
        const { gateway: g, baseline: b } = results.get(i)!;
        rows.push(
          `| ${s.name} | ${fmt(median(b.map((m) => m.rps)))} | ${fmt(median(b.map((m) => m.cpuMsPerRequest)), 2)} | ${fmt(median(g.map((m) => m.cpuMsPerRequest)), 2)} | ${paired(i, 'gateway', 'baseline', (m) => m.cpuMsPerRequest)} | ${paired(i, 'gateway', 'baseline', (m) => m.rps)} | ${paired(i, 'baseline', 'floor', (m) => m.cpuMsPerRequest)} |`,
        );
      }
    }
    if (warmupSeconds > 0) {
      rows.push(
        '',
        `The warm-ups (${warmupSeconds} s of the same scenario just before a server's first slice of it in a round, not in the figures above): CPU ms per request, medians over the rounds, and gateway ÷ floor within a round. What a server pays on moving from the other scenarios to this one, beyond its steady cost.`,
        '',
        '| scenario | gateway warm-up CPU ms/req | floor warm-up CPU ms/req | warm-up CPU/req gateway ÷ floor | gateway warm-up ÷ its window | floor warm-up ÷ its window |',
        '| --- | --- | --- | --- | --- | --- |',
      );
      for (const { s, i } of scenarios) {
        const { gateway: g, floor: f } = results.get(i)!;
        rows.push(
          `| ${s.name} | ${fmt(median(g.map((m) => m.warmupCpuMsPerRequest)), 2)} | ${fmt(median(f.map((m) => m.warmupCpuMsPerRequest)), 2)} | ${spread(
            g.map((m, r) => m.warmupCpuMsPerRequest / f[r].warmupCpuMsPerRequest),
            2,
          )} | ${spread(
            g.map((m) => m.warmupCpuMsPerRequest / m.cpuMsPerRequest),
            2,
          )} | ${spread(
            f.map((m) => m.warmupCpuMsPerRequest / m.cpuMsPerRequest),
            2,
          )} |`,
        );
      }
    }
    // What a request costs the whole machine: the req/s a server can reach here is bounded by the cores over the CPU all three kinds of process spend per request.
    const cores = os.cpus().length;
    rows.push(
      '',
      `The machine per request (medians over the rounds; ${cores} cores): CPU ms of the server, the stand-ins' process, the load generator and everything else (other work, this bench), the share of the machine busy, and the req/s the cores allow at that cost (${cores} × 1,000 ÷ server + stand-ins + load generator).`,
      '',
      '| scenario | server | server | stand-ins | load generator | else | machine busy | req/s the cores allow | req/s measured |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const { s, i } of scenarios) {
      for (const name of ['gateway', 'floor', ...(baseline ? ['baseline' as const] : [])] as const) {
        const ms = results.get(i)![name];
        const own = median(ms.map((m) => m.cpuMsPerRequest + m.standInsCpuMsPerRequest + m.loadCpuMsPerRequest));
        rows.push(
          `| ${s.name} | ${name} | ${fmt(median(ms.map((m) => m.cpuMsPerRequest)), 2)} | ${fmt(median(ms.map((m) => m.standInsCpuMsPerRequest)), 2)} | ${fmt(median(ms.map((m) => m.loadCpuMsPerRequest)), 2)} | ${fmt(median(ms.map((m) => m.otherCpuMsPerRequest)), 2)} | ${fmt(median(ms.map((m) => m.machineBusy)) * 100)}% | ${fmt((cores * 1000) / own)} | ${fmt(median(ms.map((m) => m.rps)))} |`,
        );
      }
    }
    // Every measurement, so that a round that reads apart from the others can be told why: its own CPU split, collections, waits and the machine's speed.
    rows.push(
      '',
      `Every measurement: the server's CPU ms per request, on its main thread and on its other threads (V8's concurrent GC and compiles, libuv, workers); the main thread's scavenges per 1,000 requests, mark-compacts and GC pause ms per request; ms per request its threads waited for a core; the machine's speed probe (ms, more is slower: bench/proc.ts speedProbeMs) and steal.`,
      '',
      '| scenario | round | server | req/s | CPU ms/req | main | helpers | scavenges /1000 | mark-compacts | young generation MiB (start → end) | GC pause ms/req | waited ms/req | syscalls/req | probe ms | steal ms | warm-up CPU ms/req |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const { s, i } of scenarios) {
      for (let r = 0; r < rounds; r++) {
        for (const name of ['gateway', 'floor', ...(baseline ? ['baseline' as const] : [])] as const) {
          const m = results.get(i)![name][r];
          rows.push(
            `| ${s.name} | ${r + 1} | ${name} | ${fmt(m.rps)} | ${fmt(m.cpuMsPerRequest, 3)} | ${fmt(m.mainMsPerRequest, 3)} | ${fmt(m.helpersMsPerRequest, 3)} | ${fmt(m.scavengesPer1000, 1)} | ${m.markCompacts} | ${fmt(m.newSpaceKiBAtStart / 1024, 1)} → ${fmt(m.newSpaceKiBAtEnd / 1024, 1)} | ${fmt(m.gcPauseMsPerRequest, 3)} | ${fmt(m.waitMsPerRequest, 3)} | ${fmt(m.syscallsPerRequest, 1)} | ${fmt(m.probeMs, 2)} | ${fmt(m.stealMs)} | ${fmt(m.warmupCpuMsPerRequest, 3)} |`,
          );
        }
      }
    }
    process.stdout.write(rows.join('\n') + '\n\n');
    process.stdout.write(
      `peak RSS (VmHWM): gateway ${fmt(memoryMiB(gateway.child.pid!).peak)} MiB, floor ${fmt(memoryMiB(floor.child.pid!).peak)} MiB${baseline ? `, baseline ${fmt(memoryMiB(baseline.child.pid!).peak)} MiB` : ''}; failed requests: ${failed}\n`,
    );

    if (soakSeconds > 0) {
      const first = scenarios[0];
      const sampler = sampleRss(gateway.child.pid!, 1000);
      const m = await (async () => {
        const pid = gateway.child.pid!;
        const cpu0 = cpuMs(pid);
        const load = await runLoad(gateway, first.i, soakSeconds, true);
        return { ...load, cpuMsPerRequest: (cpuMs(pid) - cpu0) / Math.max(1, load.requests) };
      })();
      const rss = sampler.stop();
      const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const head = avg(rss.slice(0, 10));
      const tail = avg(rss.slice(-10));
      process.stdout.write(
        `soak: ${soakSeconds} s of "${first.s.name}" against the gateway: ${fmt(m.rps)} req/s, p99 ${fmt(m.p99, 1)} ms, ${fmt(m.cpuMsPerRequest, 2)} ms CPU/req, ` +
          `RSS first 10 s ${fmt(head)} MiB, last 10 s ${fmt(tail)} MiB (${tail >= head ? '+' : ''}${fmt(((tail - head) / head) * 100, 1)}%), peak ${fmt(memoryMiB(gateway.child.pid!).peak)} MiB, failed ${m.non2xx + m.errors}\n`,
      );
      // The whole curve, every 5 s: a garbage collector's sawtooth and a leak's climb can give the same first/last ratio.
      const curve = rss.filter((_, i) => i % 5 === 0).map((v) => Math.round(v));
      process.stdout.write(`soak RSS every 5 s (MiB): ${curve.join(' ')}\n`);
    }
  } finally {
    stopAll();
  }
}

main().catch((e) => {
  process.stderr.write(`bench:gateway: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
