/**
 * The gateway's per-request work above its floor, timed in-process: the gateway (src/gateway.ts,
 * the same config, stores and stand-ins as `npm run bench:gateway`) and the floor (bench/floor.ts)
 * built side by side in one process and run in alternating rounds, each request the way the HTTP
 * handler runs it (src/server.ts: authenticate, the role's Apollo Server with its plugins, the
 * response serialized) minus node:http and the load generator. CPU per request from
 * `process.cpuUsage`; the difference gateway − floor is what the gateway adds, with less of the
 * machine's noise than the load bench and a CPU profile that holds only this work:
 *
 *   node --import tsx bench/gateway-work.ts [--people 20000] [--only 1,3] [--requests 2000] [--rounds 5]
 *   NODE_ENV=production node bench/results/dist/bench/gateway-work.js --only 1   # compiled by bench:gateway
 *   NODE_ENV=production node --cpu-prof --cpu-prof-dir DIR bench/results/dist/bench/gateway-work.js --only 1 --server gateway
 *   node --import tsx bench/gateway-work.ts --only 1 --server gateway --alloc-prof FILE   # what its requests allocate, by function
 *   NODE_ENV=production node bench/results/dist/bench/gateway-work.js --only 1 --http --server gateway --gc-stats   # what its requests allocate and promote
 *   NODE_ENV=production node bench/results/dist/bench/gateway-work.js --only 1 --http --server gateway --rounds-cpu-prof FILE   # a CPU profile of the counted rounds only
 *
 * `--server gateway` or `--server floor` runs one of the two only (a profile of one); `--http` sends
 * each request over HTTP on 127.0.0.1 to both servers in this process (a keep-alive client in it
 * too, whose cost is the same for both), so the difference includes the HTTP handlers. Needs a run
 * directory that `npm run bench:gateway` left (its config, sample and OneID store, copied first).
 * `npm run bench:gateway` stays the figure of record.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import v8 from 'node:v8';
import { HeaderMap } from '@apollo/server';
import { createGateway } from '../src/gateway';
import { createContext } from '../src/context';
import { BENCH_KEYS, SCENARIOS } from './gateway-scenarios';
import { createFloor, floorRequestHandler } from './floor';
import { startAllocationSampling, startCpuProfile } from './alloc-sampling';
import { arg, openBenchRun } from './bench-run';
import { startServer } from '../src/server';

const people = Number(arg('people', '20000'));
const requests = Number(arg('requests', '2000'));
const concurrency = Number(arg('concurrency', '8'));
const rounds = Number(arg('rounds', '5'));
const servers = arg('server', 'gateway,floor').split(',');
/** `--http`: each request over HTTP on 127.0.0.1 (both servers in this process, a keep-alive client here too: its cost is the same for both). */
const overHttp = process.argv.includes('--http');
/** `--alloc-prof FILE`: a sampled allocation profile of the measured rounds (objects already collected included), as bench/floor-work.ts takes it. */
const allocProf = arg('alloc-prof', '');
/** `--alloc-survivors`: with `--alloc-prof`, only the objects that outlived the young generation (what the requests promote). */
const allocSurvivors = process.argv.includes('--alloc-survivors');
/**
 * `--rounds-cpu-prof FILE`: a V8 CPU profile of the measured rounds only (started after the warm-up,
 * stopped after the last round: no start-up, no first compiles), so that its samples divided by the
 * rounds' requests are µs per request; one server per process (`--server`) to read it alone.
 */
const roundsCpuProf = arg('rounds-cpu-prof', '');
/**
 * `--threads`: each server's CPU per request split by this process's threads, named as Linux names
 * them (`/proc/self/task/<tid>/comm`: node's main thread, libuv's pool `libuv-worker`, V8's
 * `V8 DefaultWorke`, worker threads such as the WAL checkpointer), from their scheduler clocks
 * around each round: work a main-thread CPU profile does not see.
 */
const perThread = process.argv.includes('--threads');
/**
 * `--baseline-dist DIR` (with `--http`): a third server in this process, the gateway compiled from
 * another tree (DIR holds its `src/`, as bench:gateway's `--baseline` compiles one into
 * $TMPDIR/c360-bench-baseline/dist), on its own copy of the store, its config parsed by its own
 * code; its rounds alternate with the others', and the ratio gateway ÷ baseline is taken per round.
 * Both trees then run under the same load, in the same process, at the same time of the run: an
 * A/B of CPU per request that the machine's other work moves much less than two processes' figures.
 */
const baselineDist = arg('baseline-dist', '');

/** CPU nanoseconds so far of this process's threads, summed by thread name. */
function threadsByName(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const name = tid === String(process.pid) ? 'main' : fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const run = Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      out.set(name, (out.get(name) ?? 0) + run);
    } catch {
      // ended between the listing and the read
    }
  }
  return out;
}
/**
 * `--gc-stats`: the main thread's collections over the measured rounds (V8's GCProfiler): bytes
 * allocated per request (the heap's growth between collections, summed: `--trace-gc-nvp`'s
 * `allocated=` without its trace), scavenges, mark-compacts, bytes promoted per request (the old
 * generation's growth across each scavenge) and surviving each scavenge. One server per process (`--server`), or the two share the figure. The
 * figures of `--trace-gc-nvp`'s `promoted=` within a few per cent, without its trace to parse.
 */
const gcStats = process.argv.includes('--gc-stats');
const only = arg('only', '1')
  .split(',')
  .map((n) => Number(n));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The old generation's spaces: what a scavenge promotes lands in one of them. */
const OLD_SPACES = new Set(['old_space', 'code_space', 'map_space', 'large_object_space', 'code_large_object_space']);

/** `--gc-stats`' line: KiB allocated per request, collections by type, KiB promoted per request, KiB surviving each scavenge in the young generation. */
function promotionOf(profile: ReturnType<v8.GCProfiler['stop']>, requests: number, usedAtStart: number, usedAtEnd: number): string {
  type Spaces = Array<{ spaceName: string; spaceUsedSize: number }>;
  type Heap = { usedHeapSize: number };
  // Allocated: the heap's growth between one collection's end and the next one's start, summed (a
  // collection frees, the requests between two of them only allocate), the last stretch up to the stop.
  let allocated = 0;
  let usedAfter = usedAtStart;
  const used = (spaces: Spaces, which: (name: string) => boolean) => spaces.reduce((n, s) => n + (which(s.spaceName) ? s.spaceUsedSize : 0), 0);
  let scavenges = 0;
  const others = new Map<string, number>();
  let promoted = 0;
  let survived = 0;
  for (const gc of profile?.statistics ?? []) {
    allocated += (gc.beforeGC.heapStatistics as unknown as Heap).usedHeapSize - usedAfter;
    usedAfter = (gc.afterGC.heapStatistics as unknown as Heap).usedHeapSize;
    if (gc.gcType !== 'Scavenge') {
      others.set(gc.gcType, (others.get(gc.gcType) ?? 0) + 1);
      continue;
    }
    scavenges++;
    const before = gc.beforeGC.heapSpaceStatistics as unknown as Spaces;
    const after = gc.afterGC.heapSpaceStatistics as unknown as Spaces;
    promoted += used(after, (n) => OLD_SPACES.has(n)) - used(before, (n) => OLD_SPACES.has(n));
    survived += used(after, (n) => n === 'new_space' || n === 'new_large_object_space');
  }
  allocated += usedAtEnd - usedAfter;
  const kib = (n: number) => (n / 1024).toFixed(2);
  return `allocated ${kib(allocated / requests)} KiB per request; ${scavenges} scavenges${[...others].map(([type, n]) => `, ${n} ${type}`).join('')}; promoted ${kib(promoted / requests)} KiB per request, ${kib(survived / Math.max(1, scavenges))} KiB surviving each scavenge`;
}

async function main() {
  // A copy of the OneID store for each (the gateway writes audit rows into its own).
  const run = await openBenchRun(people, 'c360-gateway-work-');
  const { sample } = run;
  try {
    const configFor = (file: string) => run.configFor(file, { log: { level: 'info' } });
    const floor = servers.includes('floor') ? createFloor(configFor(await run.copyStore('floor.sqlite'))) : null;
    // Logs go nowhere, as in the bench (production's level, to /dev/null).
    const { createLogger } = await import('../src/observability/logger');
    const gw = servers.includes('gateway')
      ? await createGateway(configFor(await run.copyStore('gateway.sqlite')), { log: createLogger('info', fs.createWriteStream('/dev/null')) })
      : null;
    let requestNo = 0;
    /** What src/server.ts does for one POST /graphql, without node:http. */
    const viaGateway = async (role: 'admin' | 'marketing', query: string, variables: unknown) => {
      const g = gw!;
      const req = { headers: { 'x-api-key': BENCH_KEYS[role], 'content-type': 'application/json' } } as unknown as http.IncomingMessage;
      const viewer = await g.access.authenticate(req);
      if (!viewer) throw new Error('bench key not accepted');
      const headers = new HeaderMap([['content-type', 'application/json']]);
      const requestId = `bench-${++requestNo}`;
      const body = JSON.parse(JSON.stringify({ query, variables }));
      const response = await g.apollos.get(viewer.role)!.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers, search: '', body },
        context: async () => createContext(g.requestDeps, requestId, viewer),
      });
      if (response.body.kind !== 'complete') throw new Error('streamed response');
      // The answer is read back (a client's work, not the server's) only when it carries errors: a
      // parse of every answer cost the gateway's side about 20 µs a request that the floor's did not pay.
      if (!response.body.string.includes('"errors":')) return;
      const out = JSON.parse(response.body.string) as { errors?: unknown[] };
      if (out.errors?.length) throw new Error(JSON.stringify(out.errors[0]));
    };
    /** What the floor's HTTP handler does (bench/floor.ts), without node:http: the body parsed, the result serialized. */
    const viaFloor = async (_role: string, query: string, variables: unknown) => {
      const body = JSON.parse(JSON.stringify({ query, variables })) as { query: string; variables?: Record<string, unknown> };
      const out = (await floor!.run(body.query, body.variables)) as { errors?: unknown[] };
      JSON.stringify(out);
      if (out.errors?.length) throw new Error(JSON.stringify(out.errors[0]));
    };
    /** One POST to `url` on a keep-alive connection, as the load generator sends it. */
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const post = (url: string, headers: Record<string, string>) => (role: 'admin' | 'marketing', query: string, variables: unknown) =>
      new Promise<void>((resolve, reject) => {
        const body = JSON.stringify({ query, variables });
        const req = http.request(
          url,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...(headers.key ? { 'x-api-key': BENCH_KEYS[role] } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const out = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { errors?: unknown[] };
              if (out.errors?.length) reject(new Error(JSON.stringify(out.errors[0])));
              else resolve();
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const gwServer = overHttp && gw ? await startServer(gw, { host: '127.0.0.1', port: 0 }) : null;
    type GatewayModule = { createGateway: typeof createGateway };
    const base =
      baselineDist && overHttp
        ? await (async () => {
            const dir = path.resolve(baselineDist);
            // The other tree's own modules (its own copies, beside this tree's in the module cache).
            const { createGateway: createBase } = (await import(path.join(dir, 'src/gateway.js'))) as GatewayModule;
            const { startServer: startBase } = (await import(path.join(dir, 'src/server.js'))) as { startServer: typeof startServer };
            const { parseConfig: parseBase } = (await import(path.join(dir, 'src/config.js'))) as { parseConfig: (raw: unknown, where: string) => unknown };
            const { createLogger: baseLogger } = (await import(path.join(dir, 'src/observability/logger.js'))) as {
              createLogger: typeof import('../src/observability/logger').createLogger;
            };
            const file = run.configFileFor(await run.copyStore('baseline.sqlite'), { log: { level: 'info' } });
            const g = await createBase(parseBase(JSON.parse(fs.readFileSync(file, 'utf8')), file) as Parameters<typeof createGateway>[0], {
              log: baseLogger('info', fs.createWriteStream('/dev/null')),
            });
            const server = await startBase(g, { host: '127.0.0.1', port: 0 });
            server.server.keepAliveTimeout = 600_000;
            return { g, server };
          })()
        : null;
    const floorServer = overHttp && floor ? http.createServer(floorRequestHandler(floor)) : null;
    // Idle keep-alive connections stay open (both servers alike): under a slow harness (valgrind) a
    // connection idle for the 5 s default was closed as the client reused it (ECONNRESET).
    if (gwServer) gwServer.server.keepAliveTimeout = 600_000;
    if (floorServer) floorServer.keepAliveTimeout = 600_000;
    if (floorServer) await new Promise<void>((resolve) => floorServer.listen(0, '127.0.0.1', resolve));
    const floorUrl = floorServer ? `http://127.0.0.1:${(floorServer.address() as import('node:net').AddressInfo).port}/graphql` : '';
    const runners = [
      ...(gw ? [['gateway', gwServer ? post(`${gwServer.url}/graphql`, { key: 'yes' }) : viaGateway] as const] : []),
      ...(floor ? [['floor', floorServer ? post(floorUrl, {}) : viaFloor] as const] : []),
      ...(base ? [['baseline', post(`${base.server.url}/graphql`, { key: 'yes' })] as const] : []),
    ];

    for (const n of only) {
      const scenario = SCENARIOS[n - 1];
      const n0 = scenario.customers >= 50 ? Math.max(20, Math.floor(requests / scenario.customers)) : requests;
      const batch = async (run: (typeof runners)[number][1], count: number) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: Math.min(concurrency, count) }, async () => {
            while (next < count) {
              const i = next++;
              await run(scenario.role, scenario.query, scenario.variables(sample, i));
            }
          }),
        );
      };
      for (const [, run] of runners) await batch(run, n0); // warm-up
      const per = new Map<string, number[]>(runners.map(([name]) => [name, []]));
      const threadNs = new Map<string, Map<string, number>>(runners.map(([name]) => [name, new Map()]));
      const sampling = allocProf ? await startAllocationSampling({ survivors: allocSurvivors }) : null;
      const profiling = roundsCpuProf ? await startCpuProfile() : null;
      const gcProfiler = gcStats ? new v8.GCProfiler() : null;
      gcProfiler?.start();
      const usedAtStart = gcProfiler ? v8.getHeapStatistics().used_heap_size : 0;
      for (let r = 0; r < rounds; r++) {
        // Alternate who goes first, as the load bench does.
        const order = r % 2 ? [...runners].reverse() : runners;
        for (const [name, run] of order) {
          const threadsBefore = perThread ? threadsByName() : null;
          const before = process.cpuUsage();
          await batch(run, n0);
          const used = process.cpuUsage(before);
          if (threadsBefore) {
            const sums = threadNs.get(name)!;
            for (const [thread, ns] of threadsByName()) sums.set(thread, (sums.get(thread) ?? 0) + ns - (threadsBefore.get(thread) ?? 0));
          }
          per.get(name)!.push((used.user + used.system) / n0 / 1000);
        }
        process.stderr.write(`${scenario.name}, round ${r + 1}: ${[...per].map(([name, xs]) => `${name} ${xs[r].toFixed(3)} ms`).join(', ')}\n`);
      }
      if (sampling) fs.writeFileSync(allocProf, JSON.stringify(await sampling.stop()));
      if (profiling) fs.writeFileSync(roundsCpuProf, JSON.stringify(await profiling.stop()));
      if (gcProfiler) {
        const usedAtEnd = v8.getHeapStatistics().used_heap_size;
        process.stdout.write(`${scenario.name}: ${promotionOf(gcProfiler.stop(), rounds * n0 * runners.length, usedAtStart, usedAtEnd)}\n`);
      }
      if (perThread)
        for (const [name, sums] of threadNs)
          process.stdout.write(
            `${scenario.name}, ${name}, µs per request by thread: ${[...sums]
              .sort((a, b) => b[1] - a[1])
              .map(([thread, ns]) => `${thread} ${(ns / 1000 / (rounds * n0)).toFixed(1)}`)
              .join(', ')}\n`,
          );
      const g = per.get('gateway');
      const f = per.get('floor');
      const figures = [...per].map(([name, xs]) => `${name} ${median(xs).toFixed(3)} ms CPU/req`);
      if (g && f) figures.push(`gateway − floor ${(median(g.map((x, i) => x - f[i])) * 1000).toFixed(0)} µs, ratio ${median(g.map((x, i) => x / f[i])).toFixed(2)}`);
      const b = per.get('baseline');
      if (g && b) {
        const ratios = g.map((x, i) => x / b[i]).sort((x, y) => x - y);
        const q = (p: number) => ratios[Math.min(ratios.length - 1, Math.floor(p * ratios.length))];
        figures.push(`gateway ÷ baseline ${median(ratios).toFixed(3)} (quartiles ${q(0.25).toFixed(3)}–${q(0.75).toFixed(3)}, ${ratios.length} rounds)`);
      }
      process.stdout.write(`${scenario.name} (median of ${rounds} × ${n0}): ${figures.join('; ')}; load ${os.loadavg()[0].toFixed(1)}\n`);
    }
    agent.destroy();
    await gwServer?.close();
    await base?.server.close();
    await base?.g.close();
    floorServer?.closeAllConnections();
    floorServer?.close();
    await gw?.close();
    await floor?.close();
  } finally {
    run.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`gateway-work: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
