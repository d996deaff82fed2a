/**
 * What a server compiles again when a query comes back after other work. V8 keeps a function's
 * optimized (TurboFan) code only weakly, in its feedback vector: a closure made per call or per
 * request loses its code at any major GC during which none of its closures is alive (the server
 * idling, or serving other queries), and the requests after run it unoptimized until it is
 * compiled again; a function made once (module level, a prototype method) keeps its code. A
 * change of workload also deoptimizes code whose type feedback it breaks. This bench starts the
 * gateway (or the floor) compiled, as `npm run bench:gateway` does, with V8's `--trace-opt`, and
 * loads it in steps, printing per step the requests, the server's CPU per request (/proc), and
 * the optimizations, deoptimizations and compile milliseconds it made; for the last step, the
 * compile time by module and how much of it re-compiled functions compiled in an earlier step:
 *
 *   node --import tsx bench/recompiles.ts [--people 20000] [--server gateway|floor] [--dist bench/results/dist]
 *                                         [--steps a12,b36,i4,a12] [--top 20]
 *
 * Steps: `aN` the admin 360 for N s (scenario 1 of bench/gateway-scenarios.ts), `bN` the
 * 1,000-customer list (scenario 5), `fN` 50 customers (scenario 4), `iN` idle for N s. Before the
 * steps: 4 s of admin 360 and 12 s of the list, to warm both. Load from this process (autocannon,
 * 8 connections; 2 for the list). Needs a run directory that `npm run bench:gateway` left, and its
 * compiled tree (`--dist`, default bench/results/dist; any commit's, compiled the same way, for a
 * before/after). Compile times print V8's own (`--trace-opt`), which `--print-opt-source` (used
 * here to name each function's module) lengthens a little; CPU per request includes the tracing's
 * cost. Counts and ratios side by side, not the absolute figures, are what to read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { SCENARIOS, BENCH_KEYS } from './gateway-scenarios';
import { cpuMs, startHeapFlags } from './proc';
import { arg, openBenchRun } from './bench-run';

/** autocannon ships no types; the part used here. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<unknown> & { on(e: 'response', f: () => void): void };

const root = process.cwd();
const people = Number(arg('people', '20000'));
const server = arg('server', 'gateway');
const dist = path.resolve(root, arg('dist', 'bench/results/dist'));
const steps = arg('steps', 'a12,b36,i4,a12').split(',');
const top = Number(arg('top', '20'));
const STEP_SCENARIO: Record<string, number> = { a: 0, b: 4, f: 3 };
const STEP_LABEL: Record<string, string> = { a: 'admin 360', b: '1,000 customers', f: '50 customers' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What V8's --trace-opt and --print-opt-source say, read as the server prints it. */
class OptTrace {
  /** Per compile: its function's key (module:name@position) and V8's compile milliseconds. */
  readonly compiles: Array<{ key: string; ms: number }> = [];
  deopts = 0;
  private pendingSfi: string | null = null;
  private readonly keyOfSfi = new Map<string, string>();
  private rest = '';

  feed(chunk: string): void {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop()!;
    for (const line of lines) this.line(line);
  }

  private line(l: string): void {
    let m = /^\[compiling method 0x[0-9a-f]+ <JSFunction ?[^ ]* ?\(sfi = (0x[0-9a-f]+)\)>/.exec(l);
    if (m) {
      this.pendingSfi = m[1];
      return;
    }
    m = /^--- FUNCTION SOURCE \((.*)\) id\{\d+,-1\} start\{(\d+)\} ---/.exec(l);
    if (m && this.pendingSfi) {
      this.keyOfSfi.set(this.pendingSfi, `${m[1].replace(root + '/', '')}@${m[2]}`);
      this.pendingSfi = null;
      return;
    }
    m = /^\[completed compiling 0x[0-9a-f]+ <JSFunction ?([^ ]*) ?\(sfi = (0x[0-9a-f]+)\)> \(target TURBOFAN\) - took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(l);
    if (m) {
      this.compiles.push({ key: this.keyOfSfi.get(m[2]) ?? `(unnamed ${m[1] || 'anonymous'})`, ms: Number(m[3]) + Number(m[4]) + Number(m[5]) });
      return;
    }
    if (l.startsWith('[bailout (kind:') || (l.startsWith('[marking dependent code') && l.includes('for deoptimization'))) this.deopts++;
  }
}

/** Which part of the process a module is: ours (compiled src/, resolvers/, bench/), a package, or Node's own. */
function moduleGroup(key: string): string {
  const file = key.slice(0, key.lastIndexOf(':') > 0 ? key.lastIndexOf(':') : key.length);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return pkg[1];
  if (file.startsWith('node:')) return 'node:*';
  // A compiled tree's own modules, by their path inside it.
  const inDist = file.lastIndexOf('/dist/');
  return inDist >= 0 ? file.slice(inDist + '/dist/'.length) : file;
}

async function main() {
  const run = await openBenchRun(people, 'c360-recompiles-');
  const trace = new OptTrace();
  const port = 4900 + Math.floor(Math.random() * 500);
  const configFile = run.configFileFor(await run.copyStore(`${server}.sqlite`), {
    server: { host: '127.0.0.1', port, sandbox: false },
    log: { level: 'info' },
  });
  const entry =
    server === 'gateway'
      ? [path.join(dist, 'src/cli.js'), 'start', '--config', configFile]
      : [path.join(dist, 'bench/floor.js'), '--config', configFile, '--port', String(port)];
  if (!fs.existsSync(entry[0])) throw new Error(`${entry[0]} not found: run npm run bench:gateway first (it compiles), or name a compiled tree with --dist`);
  const child = spawn(process.execPath, [...startHeapFlags(root), '--trace-opt', '--trace-deopt', '--print-opt-source', ...entry], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => trace.feed(c));
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let waited = 0; ; waited += 200) {
      const ok = await fetch(`${url}/${server === 'gateway' ? 'readyz' : 'calls'}`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (waited > 60_000 || child.exitCode !== null) throw new Error(`the ${server} did not start`);
      await sleep(200);
    }
    let compiledBefore = 0;
    let deoptsBefore = 0;
    const load = async (scenarioIndex: number, seconds: number, label: string | null) => {
      const scenario = SCENARIOS[scenarioIndex];
      const bodies = Array.from({ length: 256 }, (_, i) => JSON.stringify({ query: scenario.query, variables: scenario.variables(run.sample, i) }));
      let n = 0;
      let done = 0;
      const headers = { 'content-type': 'application/json', ...(server === 'gateway' ? { 'x-api-key': BENCH_KEYS[scenario.role] } : {}) };
      const cpu0 = cpuMs(child.pid!);
      const instance = autocannon({
        url: `${url}/graphql`,
        connections: scenario.maxConnections ?? 8,
        duration: seconds,
        requests: [{ method: 'POST', headers, setupRequest: (req: object) => ({ ...req, body: bodies[n++ % bodies.length] }) }],
      });
      instance.on('response', () => done++);
      await instance;
      await sleep(200); // the trace lines of the last compiles
      const cpu = (cpuMs(child.pid!) - cpu0) / Math.max(1, done);
      const compiles = trace.compiles.slice(compiledBefore);
      if (label) {
        process.stdout.write(
          `${label.padEnd(34)} ${String(done).padStart(6)} requests, ${cpu.toFixed(2).padStart(7)} ms CPU/request, ${String(compiles.length).padStart(4)} optimized (${compiles
            .reduce((t, c) => t + c.ms, 0)
            .toFixed(0)} ms compiling), ${trace.deopts - deoptsBefore} deoptimized\n`,
        );
      }
      compiledBefore = trace.compiles.length;
      deoptsBefore = trace.deopts;
      return compiles;
    };
    await load(0, 4, 'warm: admin 360');
    await load(4, 12, 'warm: 1,000 customers');
    let last: Array<{ key: string; ms: number }> = [];
    let lastStart = compiledBefore;
    for (const step of steps) {
      const kind = step[0];
      const seconds = Number(step.slice(1));
      if (!(seconds > 0) || !(kind === 'i' || kind in STEP_SCENARIO)) throw new Error(`--steps: ${step} is not aN, bN, fN or iN`);
      if (kind === 'i') {
        await sleep(seconds * 1000);
        process.stdout.write(`idle ${seconds} s\n`);
        continue;
      }
      lastStart = compiledBefore;
      last = await load(STEP_SCENARIO[kind], seconds, `${STEP_LABEL[kind]}, ${seconds} s`);
    }
    // The last step's compiles by module; "again": the function had been compiled in an earlier step.
    const earlier = new Set(trace.compiles.slice(0, lastStart).map((c) => c.key));
    const byModule = new Map<string, { n: number; ms: number; again: number; againMs: number }>();
    for (const c of last) {
      const g = moduleGroup(c.key);
      const e = byModule.get(g) ?? { n: 0, ms: 0, again: 0, againMs: 0 };
      e.n++;
      e.ms += c.ms;
      if (earlier.has(c.key)) {
        e.again++;
        e.againMs += c.ms;
      }
      byModule.set(g, e);
    }
    const total = last.reduce((t, c) => t + c.ms, 0);
    const again = last.filter((c) => earlier.has(c.key)).reduce((t, c) => t + c.ms, 0);
    process.stdout.write(`\nlast step: ${last.length} compiles, ${total.toFixed(0)} ms; of which re-compiles of functions compiled before: ${again.toFixed(0)} ms\n`);
    process.stdout.write('| module | compiles | ms | of which again | ms again |\n| --- | --- | --- | --- | --- |\n');
    for (const [g, e] of [...byModule].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
      process.stdout.write(`| ${g} | ${e.n} | ${e.ms.toFixed(0)} | ${e.again} | ${e.againMs.toFixed(0)} |\n`);
    }
  } finally {
    child.kill('SIGTERM');
    run.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`recompiles: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
