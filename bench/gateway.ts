/**
 * Gateway benchmark: latency and throughput of realistic queries over HTTP on 127.0.0.1.
 *
 *   npm run bench:gateway [-- --people 20000 --requests 400 --concurrency 8 --sources crm,orders,support,scrm]
 *
 * Builds a demo world in bench/results/ (SQLite), runs the HTTP stand-ins (support, SCRM and each
 * demo system with a store) in a child process, starts the real gateway on a free port with the
 * demo's source instances (all of them, or those `--sources` names), warms it up, then for each
 * scenario sends a bounded number of requests (count- and time-limited) and prints p50/p95/p99
 * latency, requests per second and the source calls one request made. Loopback only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config';
import { createGateway } from '../src/gateway';
import { startServer } from '../src/server';
import { runResolution } from '../src/resolution';
import { CallRecorder } from '../src/sources/observe';
import { createLogger } from '../src/observability/logger';
import { hashApiKey } from '../src/access';
import { ensureDemoWorld } from '../demo/seed';
import { demoSourcesConfig, spawnStandIns } from '../demo/world-sources';

function num(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i > 0 ? process.argv[i + 1] : undefined;
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    process.stderr.write(`bench:gateway: --${name} must be a whole number\n`);
    process.exit(2);
  }
  return Number(raw);
}

const people = num('people', 20000);
const requests = num('requests', 400);
const concurrency = num('concurrency', 8);
const maxSeconds = num('max-seconds', 60);
/** Source instance names to configure (comma-separated); none given: every demo source the world has. */
const onlySources: string[] | null = (() => {
  const i = process.argv.indexOf('--sources');
  if (i < 0) return null;
  const names = (process.argv[i + 1] ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) {
    process.stderr.write('bench:gateway: --sources needs a comma-separated list of source names, e.g. crm,orders,support,scrm\n');
    process.exit(2);
  }
  return names;
})();
const KEY = 'bench-admin-key';

const SCENARIOS: Array<{ name: string; customers: number; query: string }> = [
  {
    name: '1 customer, all four sources',
    customers: 1,
    query: `query($ids: [ID!]!) { customers(ids: $ids) { id crmContacts { name phone tier } shopAccounts { channel } orders(first: 5) { id total { amount } } orderSummary { orderCount totalSpent { amount } } tickets(first: 5) { status } scrmFollowers { openid coupons { status } } } }`,
  },
  {
    name: '1 customer, golden fields + rfm + tags + 20 timeline events',
    customers: 1,
    query: `query($ids: [ID!]!) { customers(ids: $ids) { id name phone email gender city memberTier rfm { segment } tags { name } lifecycle { stage } timeline(first: 20) { edges { node { kind at } } } } }`,
  },
  {
    name: '50 customers, all four sources',
    customers: 50,
    query: `query($ids: [ID!]!) { customers(ids: $ids) { id crmContacts { name phone tier } shopAccounts { channel } orders(first: 5) { id total { amount } } orderSummary { orderCount totalSpent { amount } } tickets(first: 5) { status } scrmFollowers { openid coupons { status } } } }`,
  },
  {
    name: '200 customers, per-source records only',
    customers: 200,
    query: `query($ids: [ID!]!) { customers(ids: $ids) { id crmContacts { id } shopAccounts { id } supportRequesters { id } scrmFollowers { openid } } }`,
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const dataDir = path.resolve('bench/results', `world-${people}-42`);
  fs.mkdirSync(dataDir, { recursive: true });
  const t0 = Date.now();
  await ensureDemoWorld({ dataDir, people, seed: 42 });
  const f = (n: string) => path.join(dataDir, n);
  // The stand-ins get their own process (the other core), as real systems would be elsewhere.
  const standIns = await spawnStandIns(dataDir);
  for (const x of ['oneid.sqlite', 'oneid.sqlite-wal', 'oneid.sqlite-shm']) fs.rmSync(f(x), { force: true });
  const available = demoSourcesConfig(dataDir, standIns);
  const unknown = (onlySources ?? []).filter((n) => !available.some((s) => s.name === n));
  if (unknown.length > 0) {
    standIns.stop();
    throw new Error(`--sources: no demo source named ${unknown.join(', ')}; this world has ${available.map((s) => s.name).join(', ')}`);
  }
  const config = parseConfig(
    {
      server: { port: 0, sandbox: false },
      oneid: { connection: { client: 'sqlite', filename: f('oneid.sqlite') } },
      sources: onlySources ? available.filter((s) => onlySources.includes(s.name)) : available,
      auth: { apiKeys: [{ name: 'bench', role: 'admin', sha256: hashApiKey(KEY) }] },
      log: { level: 'silent' },
    },
    'bench config',
  );
  const calls = new CallRecorder();
  const gw = await createGateway(config, { observer: calls, log: createLogger('silent') });
  const resolved = await runResolution(gw);
  const server = await startServer(gw, { port: 0 });
  // Customers present in the most configured systems first: the scenarios say "all four sources".
  const ids: string[] = (
    await gw
      .oneidDb('idmap_source_records')
      .whereNotNull('customer_id')
      .groupBy('customer_id')
      .select('customer_id')
      .orderByRaw('count(distinct source) desc, customer_id')
      .limit(5000)
  ).map((r: any) => r.customer_id);
  process.stdout.write(
    `world: ${people} people, ${resolved.recordsRead} source records; setup ${((Date.now() - t0) / 1000).toFixed(1)} s\n` +
      `sources: ${gw.registry.sources.map((s) => `${s.name} (${s.kind.kind})`).join(', ')}\n` +
      `load: ${requests} requests per scenario, ${concurrency} in flight, loopback only; node ${process.version}\n\n`,
  );
  const send = async (query: string, variables: unknown) => {
    const started = process.hrtime.bigint();
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { errors?: unknown[] };
    if (res.status !== 200 || body.errors) throw new Error(`request failed: ${res.status} ${JSON.stringify(body.errors)?.slice(0, 300)}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };

  const rows: string[] = ['| scenario | p50 ms | p95 ms | p99 ms | req/s | source calls per request |', '| --- | --- | --- | --- | --- | --- |'];
  let offset = 0;
  for (const s of SCENARIOS) {
    const pickIds = () => {
      const out = ids.slice(offset % ids.length, (offset % ids.length) + s.customers);
      offset += s.customers;
      return out.length === s.customers ? out : ids.slice(0, s.customers);
    };
    for (let i = 0; i < 20; i++) await send(s.query, { ids: pickIds() }); // warm-up
    calls.reset();
    await send(s.query, { ids: pickIds() });
    const perRequest = calls.calls.filter((c) => c.operation !== 'token').length;
    const latencies: number[] = [];
    const deadline = Date.now() + maxSeconds * 1000;
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests && Date.now() < deadline) {
          next++;
          latencies.push(await send(s.query, { ids: pickIds() }));
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    rows.push(
      `| ${s.name} | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 95).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} | ${(latencies.length / seconds).toFixed(0)} | ${perRequest} |`,
    );
  }
  process.stdout.write(rows.join('\n') + '\n');
  await server.close();
  await gw.close();
  standIns.stop();
}

main().catch((e) => {
  process.stderr.write(`bench:gateway: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
