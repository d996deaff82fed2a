/**
 * The floor's per-request work timed in-process: the floor's schema, loaders and connectors
 * (bench/floor.ts `createFloor`) executed without its HTTP server and without a load generator in
 * the same process, so the CPU per request (user and system, from `process.cpuUsage`) is what the
 * connectors, the OneID reads and graphql-js cost, with the stand-ins in a process of their own.
 * Steadier than the load bench on a shared machine, for before/after of changes below the
 * gateway's line; `npm run bench:gateway` stays the figure of record. Needs a run directory that
 * `npm run bench:gateway` left (its config, sample and OneID store, copied first):
 *
 *   node --import tsx bench/floor-work.ts [--people 20000] [--only 1,4] [--requests 2000] [--concurrency 8] [--rounds 5]
 *   NODE_ENV=production node bench/results/dist/bench/floor-work.js --only 1    # compiled by bench:gateway, as the bench runs the floor
 *   node --cpu-prof --import tsx bench/floor-work.ts --only 1                   # a V8 profile of that work alone
 *   node --import tsx bench/floor-work.ts --only 5 --alloc-prof FILE          # what its requests allocate, by function
 */
import fs from 'node:fs';
import os from 'node:os';
import { SCENARIOS } from './gateway-scenarios';
import { createFloor } from './floor';
import { startAllocationSampling } from './alloc-sampling';
import { arg, openBenchRun } from './bench-run';

const people = Number(arg('people', '20000'));
const requests = Number(arg('requests', '2000'));
const concurrency = Number(arg('concurrency', '8'));
const rounds = Number(arg('rounds', '5'));
/** `--alloc-prof FILE`: a sampled allocation profile of the measured rounds, objects already collected included (what the heap grows by, not only what stays). */
const allocProf = arg('alloc-prof', '');
const only = arg('only', '1')
  .split(',')
  .map((n) => Number(n));

async function main() {
  const run = await openBenchRun(people, 'c360-floor-work-');
  const { sample } = run;
  try {
    const floor = createFloor(run.configFor(await run.copyStore('oneid.sqlite')));
    for (const n of only) {
      const scenario = SCENARIOS[n - 1];
      const n0 = scenario.customers >= 50 ? Math.max(20, Math.floor(requests / scenario.customers)) : requests;
      let next = 0;
      const one = async () => {
        const i = next++;
        const out = (await floor.run(scenario.query, scenario.variables(sample, i))) as { errors?: unknown[] };
        if (out.errors?.length) throw new Error(`${scenario.name}: ${JSON.stringify(out.errors[0])}`);
      };
      // Every round asks for the same customers (the sample's first are in the most systems), so rounds compare.
      const batch = async (count: number) => {
        next = 0;
        const end = count;
        await Promise.all(
          Array.from({ length: Math.min(concurrency, count) }, async () => {
            while (next < end) await one();
          }),
        );
      };
      await batch(n0); // warm-up: the JIT, the statement caches, the pooled connections
      const session = allocProf ? await startAllocationSampling() : null;
      const perReq: Array<{ user: number; system: number }> = [];
      for (let r = 0; r < rounds; r++) {
        const calls0 = floor.calls();
        const before = process.cpuUsage();
        await batch(n0);
        const used = process.cpuUsage(before);
        perReq.push({ user: used.user / n0, system: used.system / n0 });
        process.stderr.write(
          `${scenario.name}, round ${r + 1}: ${((used.user + used.system) / n0 / 1000).toFixed(3)} ms CPU/req (user ${(used.user / n0 / 1000).toFixed(3)}, system ${(used.system / n0 / 1000).toFixed(3)}), ${((floor.calls() - calls0) / n0).toFixed(1)} calls/req\n`,
        );
      }
      if (session) fs.writeFileSync(allocProf, JSON.stringify(await session.stop()));
      const totals = perReq.map((p) => p.user + p.system).sort((a, b) => a - b);
      const med = totals[Math.floor(totals.length / 2)];
      process.stdout.write(
        `${scenario.name}: ${(med / 1000).toFixed(3)} ms CPU/req median of ${rounds} × ${n0} (best ${(totals[0] / 1000).toFixed(3)}), peak RSS so far ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB, load ${os.loadavg()[0].toFixed(1)}\n`,
      );
    }
    await floor.close();
  } finally {
    run.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`floor-work: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
