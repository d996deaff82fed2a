/**
 * Refusal benchmark (issue 11, finding 3): how long the gateway takes to refuse abusive documents
 * over HTTP on 127.0.0.1, what validating them would have cost instead, and how /healthz fares
 * while eight abusive requests are in flight.
 *
 *   npm run bench:refusal [-- --people 2000 --runs 21]
 *
 * Builds (once, cached under bench/results/) a demo world, runs the HTTP stand-ins in a child
 * process and the real gateway on a free port, as admin (the most generous limits). For each
 * document: `--runs` sequential requests over HTTP (median and slowest, as the client sees them:
 * the body's upload included), then `--runs` in-process (the body's JSON.parse and the admin
 * Apollo Server's handling, no sockets: the event-loop time a refusal costs); then, in-process, the
 * median parse + validation time of the same document with graphql-js's rules alone (the work
 * the cheap refusal saves). Bounded: a fixed number of requests, loopback only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse, specifiedRules, validate } from 'graphql';
import { HeaderMap } from '@apollo/server';
import type { Context } from '../src/context';
import { parseConfig } from '../src/config';
import { createGateway } from '../src/gateway';
import { startServer } from '../src/server';
import { createLogger } from '../src/observability/logger';
import { hashApiKey } from '../src/access';
import { ensureDemoWorld } from '../demo/seed';
import { demoSourcesConfig, spawnStandIns } from '../demo/world-sources';
import { benchFlags, wholeNumber } from './args';

const flags = benchFlags(__filename, 'refusal', { people: { type: 'string' }, runs: { type: 'string' } });
const people = wholeNumber('refusal', 'people', flags.people, 2000, 10);
const runs = Math.min(wholeNumber('refusal', 'runs', flags.runs, 21), 500);
const KEY = 'bench-admin-key';

const DOCUMENTS: Array<{ name: string; query: string }> = [
  { name: '5,000 aliases (50k tokens)', query: `{ ${Array.from({ length: 5000 }, (_, i) => `a${i}: customer(id: "${i}") { id }`).join(' ')} }` },
  { name: '5,000 aliases (15k tokens)', query: `{ customer(id: "1") { ${Array.from({ length: 5000 }, (_, i) => `a${i}: id`).join(' ')} } }` },
  { name: '200,000 fields', query: `{ customer(id: "1") { ${'id '.repeat(200_000)}} }` },
  { name: '5,000 fields', query: `{ customer(id: "1") { ${'id '.repeat(5000)}} }` },
  {
    name: '2^40 fields through fragments',
    query: (() => {
      let doc = '{ customer(id: "1") { ...F40 } }\nfragment F0 on Customer { id }\n';
      for (let i = 1; i <= 40; i++) doc += `fragment F${i} on Customer { ...F${i - 1} ...F${i - 1} }\n`;
      return doc;
    })(),
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;

async function main() {
  const dataDir = path.resolve('bench/results', `world-${people}-42`);
  fs.mkdirSync(dataDir, { recursive: true });
  await ensureDemoWorld({ dataDir, people, seed: 42 });
  const standIns = await spawnStandIns(dataDir);
  const oneid = path.join(dataDir, 'refusal-oneid.sqlite');
  for (const x of ['', '-wal', '-shm']) fs.rmSync(oneid + x, { force: true });
  const config = parseConfig(
    {
      server: { port: 0, sandbox: false },
      oneid: { connection: { client: 'sqlite', filename: oneid } },
      sources: demoSourcesConfig(dataDir, standIns),
      auth: { apiKeys: [{ name: 'bench', role: 'admin', sha256: hashApiKey(KEY) }] },
      log: { level: 'silent' },
    },
    'bench config',
  );
  const gw = await createGateway(config, { log: createLogger('silent') });
  const server = await startServer(gw, { port: 0 });
  const limits = gw.access.policy.roles.get('admin')!.limits;
  const adminSchema = gw.access.schemas.get('admin')!;

  // The gateway's GraphQL work for one request, in-process (no sockets, no client on the same event
  // loop): the body's JSON.parse and the admin Apollo Server's handling, up to the formatted refusal.
  const apollo = gw.apollos.get('admin')!;
  const headers = new HeaderMap([['content-type', 'application/json']]);
  const inProcess = async (payload: string) => {
    const started = process.hrtime.bigint();
    const res = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: '', body: JSON.parse(payload) },
      context: async () => ({ requestId: 'bench', viewer: { role: 'admin', principal: 'bench' } }) as unknown as Context,
    });
    if (res.body.kind !== 'complete') throw new Error('expected a complete response');
    return ms(started);
  };
  const bodies = new Map<string, string>();
  const send = async (query: string) => {
    let payload = bodies.get(query);
    if (!payload) bodies.set(query, (payload = JSON.stringify({ query })));
    const started = process.hrtime.bigint();
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: payload,
    });
    const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string; limit?: string } }> };
    return { ms: ms(started), status: res.status, code: body.errors?.[0]?.extensions?.code, limit: body.errors?.[0]?.extensions?.limit };
  };

  process.stdout.write(
    `gateway: admin limits maxTokens ${limits.maxTokens}, maxAliases ${limits.maxAliases}, maxFields ${limits.maxFields}; ` +
      `${runs} requests per document, loopback only; node ${process.version}\n\n`,
  );
  const rows = [
    '| document | bytes | refused with | HTTP median ms | HTTP max ms | in-process median ms | parse + validate without the limits, median ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const d of DOCUMENTS) {
    for (let i = 0; i < 3; i++) await send(d.query); // warm-up
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await send(d.query));
    const work: number[] = [];
    for (let i = 0; i < runs; i++) work.push(await inProcess(bodies.get(d.query)!));
    const gatewayMs = median(work);
    const refused = new Set(results.map((r) => `${r.status} ${r.code} ${r.limit}`));
    const times = results.map((r) => r.ms);
    // What it would have cost: graphql-js parse and validation alone, in-process (3 runs; it is slow).
    const unguarded: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      validate(adminSchema, parse(d.query), specifiedRules);
      unguarded.push(ms(started));
    }
    rows.push(
      `| ${d.name} | ${Buffer.byteLength(JSON.stringify({ query: d.query }))} | ${[...refused].join(', ')} | ${median(times).toFixed(1)} | ${Math.max(...times).toFixed(1)} | ${gatewayMs.toFixed(1)} | ${median(unguarded).toFixed(1)} |`,
    );
  }
  process.stdout.write(rows.join('\n') + '\n\n');

  // /healthz while eight clients send the heaviest documents back to back (80 requests in all).
  const heavy = [DOCUMENTS[0].query, DOCUMENTS[2].query];
  let sent = 0;
  let done = false;
  const abusers = Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      while (sent < 80) {
        sent++;
        await send(heavy[w % 2]);
      }
    }),
  ).finally(() => (done = true));
  const health: number[] = [];
  while (!done && health.length < 1000) {
    const started = process.hrtime.bigint();
    const res = await fetch(`${server.url}/healthz`);
    await res.arrayBuffer();
    health.push(ms(started));
  }
  await abusers;
  process.stdout.write(
    `/healthz during 80 abusive requests, 8 in flight: ${health.length} probes, p50 ${median(health).toFixed(1)} ms, max ${Math.max(...health).toFixed(1)} ms\n`,
  );

  await server.close();
  await gw.close();
  standIns.stop();
  for (const x of ['', '-wal', '-shm']) fs.rmSync(oneid + x, { force: true });
}

main().catch((e) => {
  process.stderr.write(`bench:refusal: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
