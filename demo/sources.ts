/**
 * Runs the demo's stand-in systems for `npm start`: makes sure the seeded world exists under
 * the data directory, then serves the HTTP stand-ins (support, SCRM, and every system under
 * demo/systems/ the config has a source for) on their ports. The CRM and order databases are
 * plain SQLite files the gateway's SQL connectors open. Credentials come from the gateway's
 * own source entries, so both sides agree.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../src/config';
import type { Logger } from '../src/observability/logger';
import { ensureDemoWorld } from './seed';
import { startSupportServer } from './support-server';
import { startScrmServer } from './scrm-server';
import { DEMO_SYSTEMS } from './systems';
import type { StandIn } from './system';

export interface DemoSources {
  standIns: Record<string, StandIn>;
  close(): Promise<void>;
}

export async function startDemoSources(config: Config, log: Logger): Promise<DemoSources> {
  const demo = config.demo;
  if (!demo) throw new Error('startDemoSources needs a `demo` section in the config');
  const started = Date.now();
  const world = await ensureDemoWorld({ dataDir: demo.dataDir, people: demo.people, seed: demo.seed });
  log.info({ people: demo.people, seed: demo.seed, ms: Date.now() - started, generated: world.generated }, 'demo world ready');
  if (world.generated) forgetDemoIdentityMap(config, log);
  const store = (name: string) => ({ client: 'sqlite' as const, filename: path.join(demo.dataDir, `${name}.sqlite`) });
  const options = (name: string) => config.sources.find((s) => s.name === name)?.options as Record<string, string> | undefined;
  const port = (name: string) => demo.ports[name] ?? 0;
  const standIns: Record<string, StandIn> = {};
  const support = options('support');
  if (support) standIns.support = await startSupportServer({ db: store('support'), port: port('support'), token: support.token });
  const scrm = options('scrm');
  if (scrm) standIns.scrm = await startScrmServer({ db: store('scrm'), port: port('scrm'), appId: scrm.appId, appSecret: scrm.appSecret });
  for (const system of DEMO_SYSTEMS) {
    if (!config.sources.some((s) => s.name === system.name)) continue;
    standIns[system.name] = await system.serve({ dbFile: path.join(demo.dataDir, `${system.store}.sqlite`), port: port(system.name) });
  }
  for (const [name, standIn] of Object.entries(standIns)) if (port(name) === 0) readFromStandIn(config, name, standIn);
  log.info(Object.fromEntries(Object.entries(standIns).map(([k, v]) => [k, v.url])), 'demo stand-ins listening');
  return {
    standIns,
    close: async () => {
      await Promise.allSettled(Object.values(standIns).map((s) => s.close()));
    },
  };
}

/**
 * A stand-in asked for port 0 (`demo.ports.<name>: 0`, `C360_DEMO_PORT_<NAME>=0`) listens on a port
 * the system chose free; its source, whose baseUrl then names port 0 on this machine too (the demo
 * config sets both from one variable), reads that port: no port is chosen before the stand-in
 * binds it, when another process could take it. Called before the gateway builds its sources.
 */
function readFromStandIn(config: Config, name: string, standIn: StandIn): void {
  const options = config.sources.find((s) => s.name === name)?.options as { baseUrl?: unknown } | undefined;
  if (typeof options?.baseUrl !== 'string') return;
  const url = new URL(options.baseUrl);
  if (url.port !== '0' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return;
  options.baseUrl = options.baseUrl.replace(/^(https?:\/\/[^/]*:)0(?=\/|$)/, `$1${new URL(standIn.url).port}`);
}

/**
 * A freshly generated world reuses record keys for different people, so an identity map
 * (and its scan cursors) built over an earlier world would be wrong, not merely stale.
 * Only an embedded SQLite OneID store is removed; a MySQL store is never touched here.
 */
function forgetDemoIdentityMap(config: Config, log: Logger): void {
  const conn = config.oneid.connection;
  if (conn.client !== 'sqlite' || conn.filename === ':memory:' || !fs.existsSync(conn.filename)) return;
  for (const f of [conn.filename, `${conn.filename}-wal`, `${conn.filename}-shm`]) fs.rmSync(f, { force: true });
  log.info('demo world regenerated: its OneID map is rebuilt from scratch');
}
