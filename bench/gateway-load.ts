/**
 * The load generator of `npm run bench:gateway`, in a process of its own so that its CPU is not
 * the server's: autocannon with a fixed number of connections against one scenario for a fixed
 * time, each request's variables drawn in turn from the sample. Prints one JSON line.
 *
 *   node --import tsx bench/gateway-load.ts --url URL --scenario N --sample FILE --seconds S --connections C [--key K]
 *   node --import tsx bench/gateway-load.ts --serve --sample FILE
 *
 * `--serve`: stays up and runs one load per line of JSON read from stdin (`{ url, scenario,
 * seconds, connections, key?, amount? }`; `amount`: that many requests instead of `seconds`), answering each with its JSON line, so that the bench's short
 * interleaved slices (bench/paired.ts) do not each wait for a new process to start.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { SCENARIOS, type Sample } from './gateway-scenarios';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`gateway-load: --${name} is required`);
  return v;
}

interface AutocannonResult {
  requests: { total: number };
  duration: number;
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
/** autocannon ships no types; the part used here. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

/** Distinct bodies prepared up front (request i sends body i mod this), so the generator only picks one per request. */
const BODIES = 256;

interface Load {
  url: string;
  scenario: number;
  seconds: number;
  /** Instead of `seconds`: exactly this many requests, every one answered before the load ends (none left in flight). */
  amount?: number;
  connections: number;
  key?: string;
}

/** One load: autocannon for `seconds` at `connections`, the scenario's bodies in turn; its figures and this process's CPU over it. */
async function run(load: Load, sample: Sample, bodiesOf: (scenario: number) => string[]) {
  const bodies = bodiesOf(load.scenario);
  let n = 0;
  // The generator's own CPU over the load (all its threads), so that the bench can say what a request costs the whole machine.
  const cpu0 = process.cpuUsage();
  const result = await autocannon({
    url: `${load.url}/graphql`,
    connections: load.connections,
    ...(load.amount ? { amount: load.amount } : { duration: load.seconds }),
    // autocannon sees that a load has ended only at its next sample (1 s by default): a slice of a
    // fixed number of requests would be padded to a whole second, and its req/s read low.
    sampleInt: 20,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(load.key ? { 'x-api-key': load.key } : {}) },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[n++ % BODIES] }),
      },
    ],
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

async function main() {
  const sample = JSON.parse(fs.readFileSync(arg('sample'), 'utf8')) as Sample;
  const prepared = new Map<number, string[]>();
  const bodiesOf = (index: number) => {
    let bodies = prepared.get(index);
    if (!bodies) {
      const scenario = SCENARIOS[index];
      bodies = Array.from({ length: BODIES }, (_, i) => JSON.stringify({ query: scenario.query, variables: scenario.variables(sample, i) }));
      prepared.set(index, bodies);
    }
    return bodies;
  };
  if (process.argv.includes('--serve')) {
    // One load at a time, in the order asked: the bench waits for each answer before the next.
    for await (const line of readline.createInterface({ input: process.stdin })) {
      if (!line.trim()) continue;
      process.stdout.write(JSON.stringify(await run(JSON.parse(line) as Load, sample, bodiesOf)) + '\n');
    }
    return;
  }
  const load: Load = {
    url: arg('url'),
    scenario: Number(arg('scenario')),
    seconds: Number(arg('seconds')),
    connections: Number(arg('connections')),
    key: process.argv.includes('--key') ? arg('key') : undefined,
  };
  process.stdout.write(JSON.stringify(await run(load, sample, bodiesOf)) + '\n');
}

main().catch((e) => {
  process.stderr.write(`gateway-load: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
