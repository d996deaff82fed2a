/**
 * Fault soak: the gateway as its own process, under load, with one HTTP source failing half its
 * calls for the whole run; then SIGTERM while requests are in flight. Loopback only.
 *
 *   npm run bench:faults [-- --people 20000 --seconds 60 --concurrency 8 --fail support:failRate=0.5,status=503]
 *
 * 1. Builds (once, cached under bench/results/) the demo world and resolves it into a fresh OneID
 *    map in a temporary directory (`c360 resolve`, stand-ins without faults).
 * 2. Restarts the stand-ins (demo/stand-ins.ts, their own process) with `--faults` from `--fail`,
 *    and starts the gateway as a child process (`node --import tsx src/cli.ts start --config …`,
 *    no `demo` section, the demo's sources pointing at the stand-ins), so its RSS
 *    (/proc/<pid>/status VmRSS, every second) is its own.
 * 3. Phase 1: `--concurrency` clients (one admin API key each, as separate clients would have)
 *    send one-customer full-360 queries, alternating two documents, for `--seconds`. Counts HTTP
 *    statuses, GraphQL error codes, 5xx, and the gateway's log lines about unhandled rejections.
 * 4. Phase 2: eight requests announced with `Expect: 100-continue`; once the gateway has accepted
 *    all eight (100 Continue), four send their body, SIGTERM goes to the gateway, the other four
 *    send theirs; every one must be answered in full, and the gateway must exit 0.
 * Every loop is bounded in count and time; every child is killed at the end, also on error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import Database from 'better-sqlite3';
import { hashApiKey } from '../src/access';
import { ensureDemoWorld } from '../demo/seed';
import { demoSourcesConfig, type StandInUrls } from '../demo/world-sources';
import { FULL_360_GOLDEN, FULL_360_SOURCES } from './full-360';
import { benchFlags, wholeNumber } from './args';

const ROOT = path.resolve(__dirname, '..');

const flags = benchFlags(__filename, 'faults', {
  people: { type: 'string' },
  seconds: { type: 'string' },
  concurrency: { type: 'string' },
  fail: { type: 'string' },
});
const people = wholeNumber('faults', 'people', flags.people, 20000, 10);
const seconds = wholeNumber('faults', 'seconds', flags.seconds, 60);
const concurrency = wholeNumber('faults', 'concurrency', flags.concurrency, 8);
/** The stand-ins' `--faults` spec (demo/stand-ins.ts): which source fails, how often, how. */
const failSpec = flags.fail ?? 'support:failRate=0.5,status=503';
const failingSource = failSpec.split(':')[0];

/** Hard bounds, whatever the machine does. */
const MAX_REQUESTS = seconds * 2000;
const REQUEST_TIMEOUT_MS = 30_000;
const CHILD_START_MS = 120_000;
const RESOLVE_MS = 600_000;
const EXIT_WAIT_MS = 30_000;
const HELD = 8;
const HELD_CUSTOMERS = 25;
const WARM_UP = 20;

const QUERIES = [FULL_360_SOURCES, FULL_360_GOLDEN];

// ---------- children: every one tracked, every one killed at the end ----------

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const child of children) {
    try {
      // Each child leads its own process group (detached): its own children go too.
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });

function spawnChild(args: string[], stdin: 'pipe' | 'ignore' = 'ignore'): ChildProcess & { exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: [stdin, 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return Object.assign(child, { exited });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** The stand-ins in their own process; `faults` is demo/stand-ins.ts's `--faults` spec. */
async function startStandIns(dataDir: string, faults?: string) {
  const child = spawnChild([require.resolve('tsx/cli'), path.join(ROOT, 'demo/stand-ins.ts'), '--data-dir', dataDir, ...(faults ? ['--faults', faults] : [])], 'pipe');
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
  const urls = await withTimeout(
    new Promise<StandInUrls>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
      void child.exited.then(({ code }) => reject(new Error(`stand-ins exited with ${code}: ${stderr}`)));
    }),
    CHILD_START_MS,
    'stand-ins',
  );
  return {
    urls,
    stop: async () => {
      child.kill('SIGTERM');
      await withTimeout(child.exited, EXIT_WAIT_MS, 'stand-ins stop').catch(() => killAll());
    },
  };
}

// ---------- the gateway child ----------

interface GatewayChild {
  child: ReturnType<typeof spawnChild>;
  url: URL;
  output: string[];
  /** Resolves with the first JSON log line whose msg starts with `prefix`. */
  logged(prefix: string, ms: number): Promise<Record<string, unknown>>;
}

async function startGateway(configFile: string, logFile: string): Promise<GatewayChild> {
  const child = spawnChild(['--import', 'tsx', 'src/cli.ts', 'start', '--config', configFile]);
  const output: string[] = [];
  const log = fs.createWriteStream(logFile);
  const waiters: Array<{ prefix: string; resolve: (l: Record<string, unknown>) => void }> = [];
  const parsed: Array<Record<string, unknown>> = [];
  const collect = (stream: NodeJS.ReadableStream, name: string) =>
    readline.createInterface({ input: stream }).on('line', (text) => {
      if (output.length < 100_000) output.push(text);
      log.write(`${name}: ${text}\n`);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text);
      } catch {
        return;
      }
      parsed.push(line);
      for (const w of [...waiters]) {
        if (!String(line.msg ?? '').startsWith(w.prefix)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    });
  collect(child.stdout!, 'stdout');
  collect(child.stderr!, 'stderr');
  void child.exited.then(() => log.end());
  const logged = (prefix: string, ms: number) => {
    const seen = parsed.find((l) => String(l.msg ?? '').startsWith(prefix));
    if (seen) return Promise.resolve(seen);
    return withTimeout(
      new Promise<Record<string, unknown>>((resolve, reject) => {
        waiters.push({ prefix, resolve });
        void child.exited.then(() => setTimeout(() => reject(new Error(`gateway exited before logging "${prefix}": ${output.slice(-20).join('\n')}`)), 200));
      }),
      ms,
      `gateway log "${prefix}"`,
    );
  };
  const ready = await logged('c360 ready', CHILD_START_MS);
  return { child, url: new URL(String(ready.url)), output, logged };
}

function rssKiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ---------- requests ----------

const codesOf = (body: unknown): string[] =>
  ((body as { errors?: Array<{ extensions?: { code?: unknown } }> } | null)?.errors ?? []).map((e) => String(e.extensions?.code ?? '(no code)'));

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/**
 * A POST /graphql on its own connection announced with `Expect: 100-continue`: `accepted` resolves
 * on the gateway's 100 Continue; the body goes out on `send()`. `answer` never rejects.
 */
function heldRequest(url: URL, key: string, ids: string[]) {
  const body = JSON.stringify({ query: FULL_360_SOURCES, variables: { ids } });
  let onContinue!: () => void;
  const accepted = new Promise<void>((resolve) => (onContinue = resolve));
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: '/graphql',
    method: 'POST',
    agent: false,
    timeout: REQUEST_TIMEOUT_MS,
    headers: { 'content-type': 'application/json', 'x-api-key': key, 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  req.once('continue', onContinue);
  req.once('timeout', () => req.destroy(new Error('client timeout')));
  const answer = new Promise<{ status: number; body: unknown; error?: string }>((resolve) => {
    req.once('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, body: null, error: e.code ?? e.message }));
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.once('error', (e: NodeJS.ErrnoException) => resolve({ status: res.statusCode ?? 0, body: null, error: e.code ?? e.message }));
      res.once('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: null, error: 'incomplete or unparseable body' });
        }
      });
    });
  });
  req.flushHeaders();
  return { ids, accepted, answer, send: () => req.end(body) };
}

function sourceCallOutcomes(metrics: string, source: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('c360_source_requests_total{') || !line.includes(`source="${source}"`)) continue;
    const outcome = /outcome="([^"]*)"/.exec(line)?.[1] ?? '?';
    out[outcome] = (out[outcome] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

const fmt = (o: Record<string, number>) =>
  Object.entries(o)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';
const mib = (kib: number) => (kib / 1024).toFixed(0);

// ---------- main ----------

async function main() {
  const t0 = Date.now();
  const dataDir = path.resolve(ROOT, 'bench/results', `world-${people}-42`);
  fs.mkdirSync(dataDir, { recursive: true });
  const world = await ensureDemoWorld({ dataDir, people, seed: 42 });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'c360-faults-'));
  try {
    const keys = Array.from({ length: Math.max(concurrency, HELD) }, (_, i) => ({ name: `bench-admin-${i + 1}`, key: `bench-faults-admin-key-${i + 1}` }));
    const writeConfig = (file: string, urls: StandInUrls) =>
      fs.writeFileSync(
        file,
        JSON.stringify(
          {
            server: { host: '127.0.0.1', port: 0, sandbox: false },
            oneid: { connection: { client: 'sqlite', filename: path.join(tmp, 'oneid.sqlite') } },
            sources: demoSourcesConfig(dataDir, urls),
            identity: { rulesFile: path.join(ROOT, 'config/identity-rules.json'), resolveOnStart: false },
            insights: { rulesDir: path.join(ROOT, 'config') },
            auth: { apiKeys: keys.map((k) => ({ name: k.name, role: 'admin', sha256: hashApiKey(k.key) })) },
            access: { policyFile: path.join(ROOT, 'config/access.json'), hashKey: 'bench-faults-mask-key' },
            log: { level: 'info' },
          },
          null,
          2,
        ),
      );

    // Resolve first, against healthy stand-ins: the soak measures serving, not resolution.
    const healthy = await startStandIns(dataDir);
    const resolveConfig = path.join(tmp, 'resolve.json');
    writeConfig(resolveConfig, healthy.urls);
    const resolver = spawnChild(['--import', 'tsx', 'src/cli.ts', 'resolve', '--config', resolveConfig]);
    let resolverErr = '';
    resolver.stderr!.setEncoding('utf8').on('data', (c: string) => (resolverErr = (resolverErr + c).slice(-4000)));
    resolver.stdout!.resume();
    const resolved = await withTimeout(resolver.exited, RESOLVE_MS, 'c360 resolve');
    await healthy.stop();
    if (resolved.code !== 0) throw new Error(`c360 resolve exited with ${resolved.code}: ${resolverErr}`);

    // Customers linked to the most systems first, so one query touches every source.
    const db = new Database(path.join(tmp, 'oneid.sqlite'), { readonly: true });
    const picked = db
      .prepare(
        `SELECT r.customer_id AS id, count(DISTINCT r.source) AS n FROM idmap_source_records r JOIN idmap_customers c ON c.id = r.customer_id AND c.status = 'active'
         GROUP BY r.customer_id ORDER BY n DESC, r.customer_id LIMIT 5000`,
      )
      .all() as Array<{ id: string; n: number }>;
    const sourcesTotal = (db.prepare('SELECT count(DISTINCT source) AS n FROM idmap_source_records').get() as { n: number }).n;
    db.close();
    const ids = picked.map((r) => r.id);
    if (ids.length < HELD * HELD_CUSTOMERS) throw new Error(`only ${ids.length} customers in the OneID map`);

    const faulty = await startStandIns(dataDir, failSpec);
    const configFile = path.join(tmp, 'gateway.json');
    writeConfig(configFile, faulty.urls);
    const logFile = path.resolve(ROOT, 'bench/results', `faults-gateway-${people}.log`);
    const gw = await startGateway(configFile, logFile);
    const pid = gw.child.pid!;
    let gatewayExitedEarly: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let phase2 = false;
    void gw.child.exited.then((e) => {
      if (!phase2) gatewayExitedEarly = e;
    });

    const rss: Array<{ t: number; kib: number }> = [];
    const sampler = setInterval(() => {
      const kib = rssKiB(pid);
      if (kib !== null) rss.push({ t: Date.now(), kib });
    }, 1000);
    sampler.unref();

    process.stdout.write(
      `world: ${people} people (${world.generated ? 'generated' : 'cached'}), ${picked.length} customers picked, linked to ${picked[picked.length - 1].n}–${picked[0].n} of ${sourcesTotal} sources; setup ${((Date.now() - t0) / 1000).toFixed(1)} s\n` +
        `gateway: pid ${pid}, ${gw.url.origin}, log ${path.relative(ROOT, logFile)}\n` +
        `faults: ${failSpec} (stand-ins process)\n` +
        `load: ${seconds} s after ${WARM_UP} warm-up requests, ${concurrency} in flight, one-customer full 360 (2 documents alternating), admin; node ${process.version}, ${os.cpus().length} cores\n\n`,
    );

    // ---- phase 1: the soak ----
    const statuses: Record<string, number> = {};
    const errorCodes: Record<string, number> = {};
    const latencies: number[] = [];
    let partial = 0;
    let sent = 0;
    let next = 0;
    // Warm-up, not counted: JIT and the first connections, as bench/gateway.ts does.
    for (let i = 0; i < WARM_UP; i++) {
      const res = await fetch(`${gw.url.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': keys[0].key },
        body: JSON.stringify({ query: QUERIES[i % QUERIES.length], variables: { ids: [ids[next++ % ids.length]] } }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await res.arrayBuffer();
    }
    const loadStart = Date.now();
    const deadline = loadStart + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        while (sent < MAX_REQUESTS && Date.now() < deadline && !gatewayExitedEarly) {
          const i = sent++;
          const started = process.hrtime.bigint();
          let status: string;
          try {
            const res = await fetch(`${gw.url.origin}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-api-key': keys[w].key },
              body: JSON.stringify({ query: QUERIES[i % QUERIES.length], variables: { ids: [ids[next++ % ids.length]] } }),
              signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            });
            status = String(res.status);
            const text = await res.text();
            let body: unknown = null;
            try {
              body = JSON.parse(text);
            } catch {
              errorCodes['(unparseable body)'] = (errorCodes['(unparseable body)'] ?? 0) + 1;
            }
            const codes = codesOf(body);
            for (const c of codes) errorCodes[c] = (errorCodes[c] ?? 0) + 1;
            if (codes.length && (body as { data?: unknown }).data) partial++;
          } catch (e) {
            status = `network error (${(e as Error).name})`;
          }
          statuses[status] = (statuses[status] ?? 0) + 1;
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
      }),
    );
    const loadSeconds = (Date.now() - loadStart) / 1000;
    let metrics = '';
    try {
      metrics = await (await fetch(`${gw.url.origin}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    } catch {
      metrics = '';
    }

    // ---- phase 2: SIGTERM with eight accepted requests in flight ----
    phase2 = true;
    const held = Array.from({ length: HELD }, (_, i) => heldRequest(gw.url, keys[i].key, ids.slice(i * HELD_CUSTOMERS, (i + 1) * HELD_CUSTOMERS)));
    const allAccepted = await withTimeout(
      Promise.all(held.map((h) => h.accepted)).then(() => true),
      EXIT_WAIT_MS,
      '100 Continue',
    ).catch(() => false);
    const before = held.slice(0, HELD / 2);
    const after = held.slice(HELD / 2);
    for (const h of before) h.send();
    const signalledAt = Date.now();
    gw.child.kill('SIGTERM');
    const drainLogged = await gw.logged('draining', EXIT_WAIT_MS).then(
      () => true,
      () => false,
    );
    for (const h of after) h.send();
    const answers = await Promise.all(held.map((h) => h.answer));
    const exit = await withTimeout(gw.child.exited, EXIT_WAIT_MS, 'gateway exit').catch(() => null);
    const exitMs = Date.now() - signalledAt;
    clearInterval(sampler);
    await faulty.stop();

    const complete = answers.map((a, i) => {
      const got = (a.body as { data?: { customers?: Array<{ id: string } | null> } } | null)?.data?.customers?.map((c) => c?.id);
      return a.status === 200 && !a.error && JSON.stringify(got) === JSON.stringify(held[i].ids);
    });
    const heldCodes: Record<string, number> = {};
    for (const a of answers) for (const c of codesOf(a.body)) heldCodes[c] = (heldCodes[c] ?? 0) + 1;

    // ---- figures ----
    const unhandled = gw.output.filter((l) => /unhandled/i.test(l));
    const errorLines = gw.output.filter((l) => {
      try {
        return Number(JSON.parse(l).level) >= 50;
      } catch {
        return l.trim() !== '';
      }
    });
    latencies.sort((a, b) => a - b);
    const fiveXx = Object.entries(statuses)
      .filter(([s]) => /^5\d\d$/.test(s))
      .reduce((n, [, c]) => n + c, 0);
    const peak = Math.max(...rss.map((r) => r.kib));
    const window = (from: number, to: number) => rss.filter((r) => r.t >= from && r.t < to).map((r) => r.kib);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const loadEnd = loadStart + loadSeconds * 1000;
    const first = mean(window(loadStart, loadStart + 10_000));
    const last = mean(window(loadEnd - 10_000, loadEnd));
    const ratio = last / first;
    const callOutcomes = sourceCallOutcomes(metrics, failingSource);
    const callsTotal = Object.values(callOutcomes).reduce((a, b) => a + b, 0);
    const requests = latencies.length;

    const rows: Array<[string, string]> = [
      ['requests (phase 1)', `${requests} in ${loadSeconds.toFixed(1)} s`],
      ['req/s', (requests / loadSeconds).toFixed(1)],
      ['p50 / p99 ms', `${percentile(latencies, 50).toFixed(1)} / ${percentile(latencies, 99).toFixed(1)}`],
      ['HTTP statuses', fmt(statuses)],
      ['GraphQL error codes', fmt(errorCodes)],
      ['answers with data and errors (partial)', String(partial)],
      [`gateway's calls to ${failingSource} by outcome (/metrics)`, `${fmt(callOutcomes)} (${callsTotal} calls)`],
      ['5xx answers', `${fiveXx} (${fiveXx === 0 ? 'met' : 'NOT met'}: zero)`],
      ['unhandled rejections in gateway output', `${unhandled.length} (${unhandled.length === 0 ? 'met' : 'NOT met'}: zero)`],
      ['gateway log lines at error level or not JSON', String(errorLines.length)],
      ['gateway exited during the load', gatewayExitedEarly ? `yes: ${JSON.stringify(gatewayExitedEarly)}` : 'no'],
      ['peak RSS (gateway process)', `${mib(peak)} MiB (${peak < 400 * 1024 ? 'met' : 'NOT met'}: under 400 MiB)`],
      [
        'RSS, mean of first 10 s → last 10 s of load',
        `${mib(first)} → ${mib(last)} MiB, ratio ${ratio.toFixed(3)} (${Math.abs(ratio - 1) <= 0.1 ? 'met' : 'NOT met'}: flat within 10%)`,
      ],
      ['RSS samples', `${rss.length}, min ${mib(Math.min(...rss.map((r) => r.kib)))} MiB`],
      [
        'RSS every 10 s of load, MiB',
        Array.from({ length: Math.ceil(loadSeconds / 10) + 1 }, (_, k) => rss.find((r) => r.t >= loadStart + k * 10_000))
          .filter((r) => r !== undefined)
          .map((r) => mib(r.kib))
          .join(', '),
      ],
      [
        'drain: accepted (100 Continue) before SIGTERM',
        `${allAccepted ? `${HELD} of` : 'not all of'} ${HELD} (bodies: ${before.length} before the signal, ${after.length} after "draining")`,
      ],
      [
        'drain: answered in full (200, every customer, in order)',
        `${complete.filter(Boolean).length} of ${HELD} (${complete.every(Boolean) ? 'met' : 'NOT met'}); GraphQL errors in them: ${fmt(heldCodes)}; transport failures: ${
          answers
            .filter((a) => a.error)
            .map((a) => a.error)
            .join(', ') || 'none'
        }`,
      ],
      ['drain: "draining" logged', drainLogged ? 'yes' : 'no'],
      [
        'drain: gateway exit',
        `${exit ? `code ${exit.code}${exit.signal ? `, signal ${exit.signal}` : ''}` : 'did not exit (killed)'} after ${exitMs} ms (${exit?.code === 0 ? 'met' : 'NOT met'}: exit 0); drain timed out logged: ${gw.output.some((l) => l.includes('drain timed out')) ? 'yes' : 'no'}`,
      ],
    ];
    process.stdout.write(['| figure | value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n') + '\n');
    if (unhandled.length) process.stdout.write(`\nunhandled:\n${unhandled.slice(0, 5).join('\n')}\n`);
    if (errorLines.length) process.stdout.write(`\nfirst error-level lines:\n${errorLines.slice(0, 5).join('\n')}\n`);
  } finally {
    killAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench:faults: ${(e as Error).stack ?? e}\n`);
    killAll();
    process.exit(1);
  },
);
