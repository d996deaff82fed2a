/**
 * Runs the HTTP stand-ins (support, SCRM, and each demo system with a store) over a demo data directory in their own process, so a
 * benchmark's gateway does not share its event loop with them. Prints one JSON line with their
 * URLs once both listen; stops on SIGTERM or when stdin closes.
 *
 *   tsx demo/stand-ins.ts --data-dir DIR [--token T] [--app-id ID] [--app-secret S]
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_SYSTEMS } from './systems';
import type { StandIn } from './system';
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

async function main() {
  const dir = path.resolve(arg('data-dir'));
  const support = await startSupportServer({ db: { client: 'sqlite', filename: path.join(dir, 'support.sqlite') }, port: 0, token: arg('token', STAND_IN_CREDENTIALS.token) });
  const scrm = await startScrmServer({
    db: { client: 'sqlite', filename: path.join(dir, 'scrm.sqlite') },
    port: 0,
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
