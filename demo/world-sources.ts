/**
 * The demo systems of one data directory as the tools that run outside `npm start` need
 * them (eval:identity, the benchmarks): the stand-ins started in a child process, and the
 * gateway's `sources` config section pointing at them. One place for the paths and the
 * credentials both sides must agree on.
 */
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { DEMO_SYSTEMS } from './systems';

/** What the stand-ins accept when run by demo/stand-ins.ts's defaults. Demo-only, not secrets. */
export const STAND_IN_CREDENTIALS = { token: 'bench', appId: 'wxbench', appSecret: 'bench' } as const;

/** Stand-in URLs by demo system name (support, scrm, and each of demo/systems/ with a store in the data directory). */
export type StandInUrls = Record<string, string>;

/** Runs the HTTP stand-ins over `dataDir` in their own process (so they do not share the caller's event loop). */
export async function spawnStandIns(dataDir: string, script = path.resolve(__dirname, 'stand-ins.ts')): Promise<StandInUrls & { stop(): void; pid(): number }> {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), script, '--data-dir', dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const urls: StandInUrls = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`stand-ins exited with ${code}`)));
  });
  // `pid` a method, not a number: the object is otherwise every stand-in's URL by system name.
  return Object.assign(urls, { stop: () => void child.kill('SIGTERM'), pid: () => child.pid! });
}

/** The raw `sources` config list for a demo data directory and its running stand-ins: the four systems and each demo system served. */
export function demoSourcesConfig(dataDir: string, urls: StandInUrls, timeoutMs?: number) {
  const t = timeoutMs === undefined ? {} : { timeoutMs };
  const file = (n: string) => ({ client: 'sqlite' as const, filename: path.join(dataDir, n) });
  return [
    { name: 'crm', kind: 'crm', connection: file('crm.sqlite'), ...t },
    { name: 'orders', kind: 'shop', connection: file('orders.sqlite'), ...t },
    { name: 'support', kind: 'helpdesk', baseUrl: urls.support, token: STAND_IN_CREDENTIALS.token, ...t },
    { name: 'scrm', kind: 'wechat', baseUrl: urls.scrm, appId: STAND_IN_CREDENTIALS.appId, appSecret: STAND_IN_CREDENTIALS.appSecret, ...t },
    ...DEMO_SYSTEMS.filter((s) => urls[s.name]).map((s) => ({ name: s.name, kind: s.kind, ...s.sourceOptions(urls[s.name]), ...t })),
  ];
}
