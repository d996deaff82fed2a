/**
 * Does the gateway keep anything per request? The heap after full garbage collections, every
 * `--every` requests, while one HTTP source fails half its calls: a leak shows as a heap that
 * keeps rising round after round; a heap that levels off is caches filling and V8 settling.
 * RSS alone cannot tell these apart (bench/faults.ts measures RSS from outside).
 *
 *   npm run bench:heap [-- --people 1500 --rounds 6 --every 2000 --snapshots]
 *
 * In-process, over real HTTP on 127.0.0.1: the test world (test/helpers/world.ts: every source,
 * the stand-ins in this process), 8 clients sending the two full-360 documents of bench:faults
 * as admin, the per-principal request rate lifted (bench/policy.ts: at the policy's 3,000 a
 * minute most answers would be 429s, which keep nothing). The world's own call recorders are
 * cleared before each measurement, so only what the gateway keeps is counted. `--snapshots` writes
 * heap snapshots after the first and the last round to bench/results/ (compare them in Chrome
 * DevTools, "Comparison" view).
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { startTestWorld } from '../test/helpers/world';
import { tempDir } from '../test/helpers/tmp';
import { FULL_360_GOLDEN, FULL_360_SOURCES } from './full-360';
import { benchPolicy } from './policy';
import { benchFlags, wholeNumber } from './args';

const flags = benchFlags(__filename, 'heap', { people: { type: 'string' }, rounds: { type: 'string' }, every: { type: 'string' }, snapshots: { type: 'boolean' } });
const people = wholeNumber('heap', 'people', flags.people, 1500, 10);
const rounds = wholeNumber('heap', 'rounds', flags.rounds, 6);
const every = wholeNumber('heap', 'every', flags.every, 2000);
const snapshots = flags.snapshots === true;
const CLIENTS = 8;

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (n: number) => (n / 2 ** 20).toFixed(1);

async function main() {
  if (!gc) {
    process.stderr.write('bench:heap needs --expose-gc (npm run bench:heap passes it)\n');
    process.exit(2);
  }
  const dir = tempDir('bench-heap');
  const world = await startTestWorld({
    people,
    seed: 5,
    configPatch: (c) => {
      c.access.policyFile = benchPolicy(c.access.policyFile, path.join(dir, 'access.json'));
    },
  });
  try {
    world.support.setFaults({ failRate: 0.5, status: 503 });
    const ids: string[] = (await world.gw.oneidDb('idmap_customers').where('status', 'active').orderBy('id').select('id').limit(1000)).map((r: { id: string }) => r.id);
    let sent = 0;
    const statuses = new Map<string, number>();
    const heaps: number[] = [];
    console.log(`bench:heap: ${people} people, ${CLIENTS} clients, support failing half its calls; node ${process.version}`);
    console.log('| requests | heap used after GC, MiB | RSS, MiB |');
    console.log('| --- | --- | --- |');
    for (let round = 0; ; round++) {
      world.reset();
      gc();
      gc();
      const m = process.memoryUsage();
      heaps.push(m.heapUsed);
      console.log(`| ${sent} | ${mib(m.heapUsed)} | ${mib(m.rss)} |`);
      if (snapshots && (round === 1 || round === rounds)) {
        console.log(`snapshot: ${v8.writeHeapSnapshot(path.join(__dirname, 'results', `heap-round-${round}.heapsnapshot`))}`);
      }
      if (round === rounds) break;
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, c) => {
          for (let i = c; i < every; i += CLIENTS) {
            // A snapshot stalls the loop long enough for a kept-alive socket to be closed under a request: count, go on.
            const answer = await world.query(i % 2 ? FULL_360_SOURCES : FULL_360_GOLDEN, { ids: [ids[(sent + i) % ids.length]] }).catch(() => null);
            const status = String(answer?.status ?? 'no answer');
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      sent += every;
    }
    // The first round warms caches (prepared statements, RFM boundaries, JIT): growth is judged after it.
    const settled = heaps.slice(1);
    const perRequest = (settled[settled.length - 1] - settled[0]) / (every * (settled.length - 1));
    console.log(`HTTP statuses: ${[...statuses].map(([status, n]) => `${status} ${n}`).join(', ')}`);
    console.log(`heap after GC from round 1 to ${rounds}: ${mib(settled[0])} → ${mib(settled[settled.length - 1])} MiB, ${perRequest.toFixed(0)} bytes per request`);
  } finally {
    await world.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
