/**
 * Runs the demo's stand-in systems for `npm start`: makes sure the seeded world exists under
 * the data directory, then serves the support and SCRM stores over HTTP on their ports.
 * The CRM and order databases are plain SQLite files the gateway's SQL connectors open.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../src/config';
import type { Logger } from '../src/observability/logger';
import { ensureDemoWorld } from './seed';
import { startSupportServer, type SupportServer } from './support-server';
import { startScrmServer, type ScrmServer } from './scrm-server';

export interface DemoSources {
  support: SupportServer;
  scrm: ScrmServer;
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
  const support = await startSupportServer({ db: store('support'), port: demo.supportPort, token: config.sources.support.token });
  const scrm = await startScrmServer({
    db: store('scrm'),
    port: demo.scrmPort,
    appId: config.sources.scrm.appId,
    appSecret: config.sources.scrm.appSecret,
  });
  log.info({ support: support.url, scrm: scrm.url }, 'demo support and SCRM stand-ins listening');
  return {
    support,
    scrm,
    close: async () => {
      await Promise.allSettled([support.close(), scrm.close()]);
    },
  };
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
