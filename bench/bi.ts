/**
 * bench:bi — BI lists and exports through the real HTTP API of a gateway in its own process.
 *
 *   npm run bench:bi -- --people 5000 --requests 30
 *   npm run bench:bi -- --people 110000 --requests 10 --export
 *
 * Builds (once, cached under bench/results/) the demo world, runs its HTTP stand-ins in a child
 * process, resolves it into a fresh OneID map, then starts the gateway (`src/cli.ts start`, under
 * tsx) as a child of its own and measures, as the analyst role (the `bi-warehouse` key's role):
 *  - a filtered page of 500: `customersConnection(first: 500, filter)`, the first page of a walk
 *    (planned afresh every time: p50/p95 over --requests runs), and the walk's later pages (which
 *    reuse the first page's plan), with the plan's source calls;
 *  - with --export (--export-only: the export alone): `GET /export/customers.ndjson` of every customer with the golden fields the
 *    role sees and orderSummary: rows, seconds, customers/s, and the gateway's peak RSS (VmHWM of
 *    its process, which includes start-up).
 *  - --formats ndjson,csv,ndjson.gz,csv.gz: the export in each of these, one after the other; the
 *    peak RSS is reset (/proc/<pid>/clear_refs) before each, so each says its own peak (over the
 *    resident memory start-up left). --slow-reader <KiB/s>: the client reads at most that fast (a
 *    gateway that buffered the export instead of waiting for the client would grow with it).
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import http from 'node:http';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { parseConfig } from '../src/config';
import { createGateway } from '../src/gateway';
import { runResolution } from '../src/resolution';
import { createLogger } from '../src/observability/logger';
import { ensureDemoWorld } from '../demo/seed';
import { demoSourcesConfig, spawnStandIns } from '../demo/world-sources';
import { memoryMiB, startHeapFlags } from './proc';
import { benchFlags, refuse, wholeNumber } from './args';

const root = path.resolve(__dirname, '..');
const flags = benchFlags(__filename, 'bi', {
  people: { type: 'string' },
  requests: { type: 'string' },
  export: { type: 'boolean' },
  'export-only': { type: 'boolean' },
  formats: { type: 'string' },
  'slow-reader': { type: 'string' },
  filter: { type: 'string' },
});
const people = wholeNumber('bi', 'people', flags.people, 5000, 10);
const requests = wholeNumber('bi', 'requests', flags.requests, 30);
const doExport = flags.export === true || flags['export-only'] === true;
/** Only the export: the gateway's peak RSS is then the export's (and start-up's), not the filtered pages'. */
const exportOnly = flags['export-only'] === true;
const FORMATS = ['ndjson', 'csv', 'ndjson.gz', 'csv.gz'] as const;
const formats = (flags.formats ?? 'ndjson').split(',') as Array<(typeof FORMATS)[number]>;
for (const f of formats) if (!(FORMATS as readonly string[]).includes(f)) refuse('bi', `--formats takes ${FORMATS.join(', ')}; got ${JSON.stringify(f)}`);
/** KiB per second the export's client reads at most; 0: as fast as it can. */
const slowReader = wholeNumber('bi', 'slow-reader', flags['slow-reader'], 0, 0);
const filter = readFilter(flags.filter ?? JSON.stringify({ orders: { min: 2, withinDays: 365 }, subscribed: true }));

function readFilter(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (e) {
    return refuse('bi', `--filter is not JSON: ${(e as Error).message}`);
  }
}
const KEY = 'bench-analyst-key';
const EXPORT_FIELDS = [
  'id',
  'gender',
  'birthday',
  'memberTier',
  'registeredAt',
  'registrationChannel',
  'marketingConsent.sms',
  'marketingConsent.email',
  'marketingConsent.wechat',
  'orderSummary.orderCount',
  'orderSummary.lifetimeValue.amount',
  'orderSummary.lastOrderAt',
];

/** The V8 heap flags `npm start` runs the gateway with (package.json), so the bench measures the process production runs. */
const START_HEAP_FLAGS = startHeapFlags(root, 'start');

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function gql(url: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: Array<{ message: string }> };
  if (body.errors?.length) throw new Error(`graphql: ${body.errors[0].message}`);
  return body.data;
}

const PAGE = `query($f: CustomerFilter, $after: String) { customersConnection(first: 500, filter: $f, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id } }
  plan { estimatedCalls actualCalls reused steps { filter capability strategy candidates matched ms sources { source estimatedCalls actualCalls } } } } }`;

async function main() {
  const worldDir = path.resolve(root, 'bench/results', `world-${people}-42`);
  const runDir = path.resolve(root, 'bench/results', `bi-${people}`);
  fs.mkdirSync(runDir, { recursive: true });
  let t = Date.now();
  const { generated } = await ensureDemoWorld({ dataDir: worldDir, people, seed: 42 });
  console.log(`world: ${people} people (${generated ? 'generated' : 'cached'}, ${((Date.now() - t) / 1000).toFixed(0)} s)`);
  const standIns = await spawnStandIns(worldDir);
  let gateway: ReturnType<typeof spawn> | null = null;
  const stop = () => {
    if (gateway && gateway.exitCode === null) gateway.kill('SIGTERM');
    standIns.stop();
  };
  process.once('SIGINT', () => (stop(), process.exit(130)));
  try {
    const oneid = path.join(runDir, 'oneid.sqlite');
    const port = await freePort();
    const raw = {
      server: { host: '127.0.0.1', port, sandbox: false },
      oneid: { connection: { client: 'sqlite', filename: oneid } },
      sources: demoSourcesConfig(worldDir, standIns, 60_000),
      identity: { rulesFile: path.join(root, 'config/identity-rules.json'), resolveOnStart: false },
      insights: { rulesDir: path.join(root, 'config') },
      access: { policyFile: path.join(root, 'config/access.json') },
      auth: { apiKeys: [{ name: 'bi-warehouse', role: 'analyst', sha256: crypto.createHash('sha256').update(KEY).digest('hex') }] },
      log: { level: 'warn' },
    };
    const configFile = path.join(runDir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify(raw, null, 2));
    // The OneID map: resolved once per world (kept with the run), in this process.
    if (!fs.existsSync(oneid)) {
      t = Date.now();
      const gw = await createGateway(parseConfig(raw, configFile), { log: createLogger('silent') });
      await runResolution(gw);
      await gw.close();
      console.log(`resolved: ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
    // C360_BENCH_NODE_ARGS: extra node flags for the gateway (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), after
    // the heap flags `npm start` gives it (a later `--max-old-space-size=…` overrides those).
    const nodeArgs = (process.env.C360_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    gateway = spawn(process.execPath, [...START_HEAP_FLAGS, ...nodeArgs, '--import', 'tsx', path.join(root, 'src/cli.ts'), 'start', '--config', configFile], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (i > 600) throw new Error('the gateway did not become ready');
      const ok = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const customers = (await gql(url, PAGE, { f: null })).customersConnection.totalCount;
    console.log(`gateway pid ${gateway.pid} (${[...START_HEAP_FLAGS, ...nodeArgs].join(' ') || 'no node flags'}): ${customers} active customers`);

    // A filtered page of 500: first pages (planned afresh), then one walk's later pages.
    const first: number[] = [];
    const pageRuns = exportOnly ? 0 : requests;
    type Plan = { estimatedCalls: number; actualCalls: number | null; steps: Array<Record<string, unknown>> };
    let plan: Plan | null = null;
    let cold: Plan | null = null;
    let matches = 0;
    for (let i = 0; i < pageRuns; i++) {
      t = performance.now();
      const c = (await gql(url, PAGE, { f: filter })).customersConnection;
      first.push(performance.now() - t);
      if (i === 0) cold = c.plan;
      plan = c.plan;
      matches = c.totalCount;
    }
    const later: number[] = [];
    let after = exportOnly ? null : (await gql(url, PAGE, { f: filter })).customersConnection.pageInfo.endCursor;
    for (let i = 0; i < pageRuns && after; i++) {
      t = performance.now();
      const c = (await gql(url, PAGE, { f: filter, after })).customersConnection;
      later.push(performance.now() - t);
      after = c.pageInfo.hasNextPage ? c.pageInfo.endCursor : null;
    }
    if (first.length) {
      console.log(`filter ${JSON.stringify(filter)}: ${matches} matches; plan estimated ${plan?.estimatedCalls} / actual ${plan?.actualCalls} source calls`);
      console.log(`the first (cold) page: ${first[0].toFixed(0)} ms; plan estimated ${cold?.estimatedCalls} / actual ${cold?.actualCalls} source calls`);
      for (const st of cold?.steps ?? []) console.log(`  step ${JSON.stringify(st)}`);
      console.log(`the last page's plan:`);
      for (const st of plan?.steps ?? []) console.log(`  step ${JSON.stringify(st)}`);
      console.log(`| first page of 500 (planned afresh) | ${pct(first, 50).toFixed(0)} ms | ${pct(first, 95).toFixed(0)} ms | ${first.length} |`);
    }
    if (later.length) console.log(`| later pages of 500 (plan reused) | ${pct(later, 50).toFixed(0)} ms | ${pct(later, 95).toFixed(0)} ms | ${later.length} |`);

    for (const format of doExport ? formats : []) {
      const gzip = format.endsWith('.gz');
      const ext = format.replace('.gz', '');
      // Each export's own peak: VmHWM back to the resident memory now (Linux: 5 > clear_refs).
      if (formats.length > 1) fs.writeFileSync(`/proc/${gateway.pid}/clear_refs`, '5');
      const before = memoryMiB(gateway.pid!).rss;
      t = performance.now();
      // node:http, not fetch: fetch decompresses, and its body stream reads ahead of the consumer.
      const { rows, bytes } = await exportOnce(url, ext, gzip);
      const s = (performance.now() - t) / 1000;
      const mem = memoryMiB(gateway.pid!);
      console.log(
        `| ${format} export, ${EXPORT_FIELDS.length} fields${slowReader ? `, client reading ${slowReader} KiB/s` : ''} | ${rows} rows | ${s.toFixed(1)} s | ${(rows / s).toFixed(0)} customers/s | ${(bytes / 1048576).toFixed(1)} MiB sent | RSS before ${before.toFixed(0)} MiB | peak RSS ${mem.peak.toFixed(0)} MiB |`,
      );
    }
    console.log(`gateway peak RSS (VmHWM): ${memoryMiB(gateway.pid!).peak.toFixed(0)} MiB`);
  } finally {
    stop();
  }
}

/** One export of every customer: its rows (lines with a cursor) and the bytes on the wire. */
function exportOnce(url: string, ext: string, gzip: boolean): Promise<{ rows: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${url}/export/customers.${ext}?fields=${EXPORT_FIELDS.join(',')}`,
      { headers: { 'x-api-key': KEY, ...(gzip ? { 'accept-encoding': 'gzip' } : {}) } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`export: HTTP ${res.statusCode}`));
        let bytes = 0;
        let rows = 0;
        let tail = '';
        const started = performance.now();
        const text = gzip ? res.pipe(zlib.createGunzip()) : res;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (!slowReader) return;
          // Behind the allowed rate: stop reading until it is caught up with (TCP then holds the gateway back).
          const due = (bytes / 1024 / slowReader) * 1000 - (performance.now() - started);
          if (due > 0) {
            res.pause();
            setTimeout(() => res.resume(), due);
          }
        });
        text.setEncoding('utf8');
        text.on('data', (chunk: string) => {
          const lines = (tail + chunk).split(ext === 'csv' ? '\r\n' : '\n');
          tail = lines.pop() ?? '';
          for (const l of lines) {
            if (l.startsWith('{"_error"') || l.startsWith('# the export stopped')) return reject(new Error('export ended early'));
            if (l && !l.startsWith('#') && !l.startsWith('{"_partial"')) rows++;
          }
        });
        text.on('end', () => resolve({ rows: ext === 'csv' ? rows - 1 : rows, bytes }));
        text.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
