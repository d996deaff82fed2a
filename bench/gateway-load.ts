/**
 * The load generator of `npm run bench:gateway`, in a process of its own so that its CPU is not
 * the server's: autocannon with a fixed number of connections against one scenario for a fixed
 * time, each request's variables drawn in turn from the sample. Prints one JSON line.
 *
 *   node --import tsx bench/gateway-load.ts --url URL --scenario N --sample FILE --seconds S --connections C [--key K]
 */
import fs from 'node:fs';
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

async function main() {
  const scenario = SCENARIOS[Number(arg('scenario'))];
  const sample = JSON.parse(fs.readFileSync(arg('sample'), 'utf8')) as Sample;
  const key = process.argv.includes('--key') ? arg('key') : undefined;
  const bodies = Array.from({ length: BODIES }, (_, i) => JSON.stringify({ query: scenario.query, variables: scenario.variables(sample, i) }));
  let n = 0;
  // The generator's own CPU over the load (all its threads), so that the bench can say what a request costs the whole machine.
  const cpu0 = process.cpuUsage();
  const result = await autocannon({
    url: `${arg('url')}/graphql`,
    connections: Number(arg('connections')),
    duration: Number(arg('seconds')),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[n++ % BODIES] }),
      },
    ],
  });
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    JSON.stringify({
      requests: result.requests.total,
      seconds: result.duration,
      rps: result.requests.total / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      cpuMs: (cpu.user + cpu.system) / 1000,
    }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`gateway-load: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
