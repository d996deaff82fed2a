/**
 * The floor's admin 360 taken apart: the scenario's document cut into growing selections (the
 * customer alone, then each part of the 360 added), each timed in-process as bench/floor-work.ts
 * times a scenario, so the difference between two lines is what that part of the request costs
 * (its source call, its OneID read, its rows made into views, its graphql-js fields). Needs a run
 * directory that `npm run bench:gateway` left, like floor-work:
 *
 *   NODE_ENV=production node --import tsx bench/floor-parts.ts [--requests 2000] [--rounds 3] [--concurrency 8] [--parts 1,7]
 */
import os from 'node:os';
import { createFloor } from './floor';
import { arg, openBenchRun } from './bench-run';

const requests = Number(arg('requests', '2000'));
const concurrency = Number(arg('concurrency', '8'));
const rounds = Number(arg('rounds', '3'));
/** `--parts 1,7`: only these lines of PARTS (numbered from 1). */
const parts = arg('parts', '');

/** Each part of the admin 360 (bench/gateway-scenarios.ts), alone beside the customer's id. */
const PARTS: Array<[string, string]> = [
  ['id only (OneID customer read)', 'id'],
  ['+ name (source records, golden: profile reads of every source)', 'id name'],
  ['+ all golden fields', 'id name phone email gender memberTier'],
  ['crmContacts only', 'id crmContacts { id name phone email tier }'],
  ['orders only', 'id orders(first: 5) { id status placedAt total { amount currency } }'],
  ['orderSummary only', 'id orderSummary { orderCount totalSpent { amount currency } lastOrderAt }'],
  ['tickets only', 'id tickets(first: 5) { id status subject createdAt }'],
  ['scrmFollowers only', 'id scrmFollowers { openid nickname }'],
  ['scrmFollowers + coupons', 'id scrmFollowers { openid nickname coupons { id status } }'],
  [
    'full 360',
    `id name phone email gender memberTier crmContacts { id name phone email tier } orders(first: 5) { id status placedAt total { amount currency } }
     orderSummary { orderCount totalSpent { amount currency } lastOrderAt } tickets(first: 5) { id status subject createdAt } scrmFollowers { openid nickname coupons { id status } }`,
  ],
];

async function main() {
  const run = await openBenchRun(20000, 'c360-floor-parts-');
  const { sample } = run;
  try {
    const floor = createFloor(run.configFor(await run.copyStore('oneid.sqlite')));
    for (const [name, selection] of PARTS.filter(
      (_, i) =>
        !parts ||
        parts
          .split(',')
          .map(Number)
          .includes(i + 1),
    )) {
      const query = `query One($id: ID!) { customer(id: $id) { ${selection} } }`;
      let next = 0;
      const batch = async () => {
        next = 0;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < requests) {
              const out = (await floor.run(query, { id: sample.customerIds[next++ % sample.customerIds.length] })) as { errors?: unknown[] };
              if (out.errors?.length) throw new Error(JSON.stringify(out.errors[0]));
            }
          }),
        );
      };
      await batch();
      const totals: number[] = [];
      let calls = 0;
      for (let r = 0; r < rounds; r++) {
        const c0 = floor.calls();
        const before = process.cpuUsage();
        await batch();
        const used = process.cpuUsage(before);
        totals.push((used.user + used.system) / requests / 1000);
        calls = (floor.calls() - c0) / requests;
      }
      totals.sort((a, b) => a - b);
      process.stdout.write(
        `${name.padEnd(66)} ${totals[Math.floor(totals.length / 2)].toFixed(3)} ms CPU/req (${totals.map((t) => t.toFixed(3)).join(' ')}), ${calls.toFixed(1)} calls/req, load ${os.loadavg()[0].toFixed(1)}\n`,
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
    process.stderr.write(`floor-parts: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
