/**
 * The four demo systems of one data directory as the tools that run outside `npm start` need
 * them (eval:identity, the benchmarks): the stand-ins started in a child process, and the
 * gateway's `sources` config section pointing at them. One place for the paths and the
 * credentials both sides must agree on.
 */
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';

/** What the stand-ins accept when run by demo/stand-ins.ts's defaults. Demo-only, not secrets. */
export const STAND_IN_CREDENTIALS = { token: 'bench', appId: 'wxbench', appSecret: 'bench' } as const;

export interface StandInUrls {
  support: string;
  scrm: string;
}

/** Runs the support and SCRM stand-ins over `dataDir` in their own process (so they do not share the caller's event loop). */
export async function spawnStandIns(dataDir: string): Promise<StandInUrls & { stop(): void }> {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.resolve(__dirname, 'stand-ins.ts'), '--data-dir', dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const urls: StandInUrls = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`stand-ins exited with ${code}`)));
  });
  return { ...urls, stop: () => void child.kill('SIGTERM') };
}

/** The raw `sources` config section for a demo data directory and its running stand-ins. */
export function demoSourcesConfig(dataDir: string, urls: StandInUrls, timeoutMs?: number) {
  const t = timeoutMs === undefined ? {} : { timeoutMs };
  const file = (n: string) => ({ client: 'sqlite' as const, filename: path.join(dataDir, n) });
  return {
    crm: { connection: file('crm.sqlite'), ...t },
    orders: { connection: file('orders.sqlite'), ...t },
    support: { baseUrl: urls.support, token: STAND_IN_CREDENTIALS.token, ...t },
    scrm: { baseUrl: urls.scrm, appId: STAND_IN_CREDENTIALS.appId, appSecret: STAND_IN_CREDENTIALS.appSecret, ...t },
  };
}
