/**
 * Runs the HTTP stand-ins (support, SCRM, and each demo system with a store) over a demo data directory in their own process, so a
 * benchmark's gateway does not share its event loop with them. Prints one JSON line with their
 * URLs once both listen; stops on SIGTERM or when stdin closes.
 *
 *   tsx demo/stand-ins.ts --data-dir DIR [--token T] [--app-id ID] [--app-secret S] [--faults SPEC]
 *
 * `--faults` injects faults (demo/faults.ts) for the whole run into the support or SCRM stand-in:
 * `support:failRate=0.5,status=503` (several separated by `;`, e.g. `support:failRate=0.5;scrm:latencyMs=200`).
 * Keys: latencyMs, failRate, status, seed (numbers), hang, malformed (true/false), paths (`/a|/b`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_SYSTEMS } from './systems';
import type { StandIn } from './system';
import type { Faults } from './faults';
import { startSupportServer } from './support-server';
import { startScrmServer } from './scrm-server';
import { STAND_IN_CREDENTIALS } from './world-sources';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) {
    process.stderr.write(`stand-ins: --${name} is required\n`);
    process.exit(2);
  }
  return v;
}

/** Stand-ins that take injected faults: the support and SCRM servers. */
const FAULTABLE = ['support', 'scrm'] as const;
const NUMERIC_FAULTS = ['latencyMs', 'failRate', 'status', 'seed'] as const;
const BOOLEAN_FAULTS = ['hang', 'malformed'] as const;

function usage(message: string): never {
  process.stderr.write(`stand-ins: --faults: ${message}\n`);
  process.exit(2);
}

/** `support:failRate=0.5,status=503;scrm:latencyMs=200` → faults by stand-in name. */
function parseFaultsFlag(spec: string): Partial<Record<(typeof FAULTABLE)[number], Faults>> {
  const out: Partial<Record<(typeof FAULTABLE)[number], Faults>> = {};
  for (const part of spec.split(';').filter((p) => p.trim())) {
    const colon = part.indexOf(':');
    const name = part.slice(0, colon).trim();
    if (colon < 0 || !(FAULTABLE as readonly string[]).includes(name)) usage(`"${part}" must start with one of ${FAULTABLE.join(', ')} and a colon`);
    const faults: Faults = {};
    for (const pair of part
      .slice(colon + 1)
      .split(',')
      .filter((p) => p.trim())) {
      const [key, value = ''] = pair.split('=').map((x) => x.trim());
      if ((NUMERIC_FAULTS as readonly string[]).includes(key)) {
        const n = Number(value);
        if (value === '' || !Number.isFinite(n) || n < 0 || (key === 'failRate' && n > 1))
          usage(`${name}: ${key} must be a number${key === 'failRate' ? ' from 0 to 1' : ' ≥ 0'}, got "${value}"`);
        faults[key as (typeof NUMERIC_FAULTS)[number]] = n;
      } else if ((BOOLEAN_FAULTS as readonly string[]).includes(key)) {
        if (value !== 'true' && value !== 'false') usage(`${name}: ${key} must be true or false, got "${value}"`);
        faults[key as (typeof BOOLEAN_FAULTS)[number]] = value === 'true';
      } else if (key === 'paths') {
        faults.paths = value.split('|').filter(Boolean);
      } else usage(`${name}: unknown fault "${key}" (known: ${[...NUMERIC_FAULTS, ...BOOLEAN_FAULTS, 'paths'].join(', ')})`);
    }
    out[name as (typeof FAULTABLE)[number]] = faults;
  }
  return out;
}

async function main() {
  const dir = path.resolve(arg('data-dir'));
  const faults = parseFaultsFlag(arg('faults', ''));
  const support = await startSupportServer({
    db: { client: 'sqlite', filename: path.join(dir, 'support.sqlite') },
    port: 0,
    token: arg('token', STAND_IN_CREDENTIALS.token),
    faults: faults.support,
  });
  const scrm = await startScrmServer({
    db: { client: 'sqlite', filename: path.join(dir, 'scrm.sqlite') },
    port: 0,
    faults: faults.scrm,
    appId: arg('app-id', STAND_IN_CREDENTIALS.appId),
    appSecret: arg('app-secret', STAND_IN_CREDENTIALS.appSecret),
  });
  const extra: Record<string, StandIn> = {};
  for (const system of DEMO_SYSTEMS) {
    const dbFile = path.join(dir, `${system.store}.sqlite`);
    if (fs.existsSync(dbFile)) extra[system.name] = await system.serve({ dbFile, port: 0 });
  }
  process.stdout.write(JSON.stringify({ support: support.url, scrm: scrm.url, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v.url])) }) + '\n');
  const stop = async () => {
    await Promise.allSettled([support.close(), scrm.close(), ...Object.values(extra).map((s) => s.close())]);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

void main();
