/**
 * SIGTERM/SIGINT while c360 resolves identities, as real processes on 127.0.0.1: a `c360 resolve`
 * (a scheduled job a deploy or an operator stops) and a `c360 start` still resolving at start-up
 * (a supervisor restarting it). The run stops before its next write and gives the store's lease
 * back, so the process started next resolves at once instead of finding the store held by one
 * that is gone; a run after it completes the map as one never interrupted would have.
 *
 * The signal is sent while the helpdesk stand-in holds its first scan answer, and the answer is
 * released once the process logged that it is stopping: nothing here depends on how long a step takes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { T } from '../../src/idmap/tables';
import knex from 'knex';
import { freshDatabase, itOn, type TestDatabase } from '../helpers/db';
import { killGateways, spawnCli } from '../helpers/gateway-process';
import { tempDir } from '../helpers/tmp';
import { startTestWorld, type TestWorld } from '../helpers/world';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { RESOLUTION_STOP_TIMEOUT_MS } from '../../src/cli';

let world: TestWorld;
let rawConfig: any;
const stores: TestDatabase[] = [];

beforeAll(async () => {
  world = await startTestWorld({ people: 80, seed: 11, demoSystems: false, configPatch: (raw) => void (rawConfig = JSON.parse(JSON.stringify(raw))) });
});

afterEach(() => killGateways());

afterAll(async () => {
  killGateways();
  for (const store of stores) await store.drop();
  await world?.close();
});

/** In front of the helpdesk stand-in: holds every request until `release()`; `reached` resolves on the first. */
async function holdingHelpdesk() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const first = new Promise<void>((r) => (reached = r));
  const server = http.createServer((req, res) => {
    reached();
    void released.then(() => {
      const upstream = http.request(`${world.support.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reached: first,
    release,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A config file for the world's sources on an empty OneID store, the helpdesk reached at `supportUrl`. */
async function configOn(supportUrl: string): Promise<{ file: string; store: TestDatabase }> {
  const store = await freshDatabase('interrupt');
  stores.push(store);
  const file = path.join(tempDir('interrupt'), 'config.json');
  const sources = rawConfig.sources.map((s: any) => (s.name === 'support' ? { ...s, baseUrl: supportUrl } : s));
  fs.writeFileSync(file, JSON.stringify({ ...rawConfig, sources, oneid: { ...rawConfig.oneid, connection: store.connection }, log: { level: 'info' } }));
  return { file, store };
}

const cli = (command: string, file: string) => ['--import', 'tsx', 'src/cli.ts', command, '--config', file];

/** Each customer as the sorted list of its records, the whole map sorted: two stores compared without their generated ids. */
async function partition(store: TestDatabase['db']): Promise<string[]> {
  const rows: Array<{ customer_id: string; source: string; record_id: string }> = await store(T.sourceRecords)
    .whereNotNull('customer_id')
    .select('customer_id', 'source', 'record_id');
  const byCustomer = new Map<string, string[]>();
  for (const r of rows) byCustomer.set(r.customer_id, [...(byCustomer.get(r.customer_id) ?? []), `${r.source}:${r.record_id}`]);
  return [...byCustomer.values()].map((records) => records.sort().join(' ')).sort();
}

/** Nobody holds the store's resolution lease. */
async function leaseFree(store: TestDatabase['db']): Promise<boolean> {
  return (await store(T.locks).whereNot('holder', '').andWhere('expires_at', '>', Date.now()).first()) === undefined;
}

describe('A signal while identity resolution runs', () => {
  it.each([
    ['resolve', 'SIGTERM', 143],
    ['resolve', 'SIGINT', 130],
  ] as const)('`c360 %s` on %s stops before its next write, gives the lease back and exits %i; the next run completes the map', async (command, signal, status) => {
    const helpdesk = await holdingHelpdesk();
    try {
      const { file, store } = await configOn(helpdesk.url);
      const run = spawnCli(process.execPath, cli(command, file), { waitMs: 180_000 });
      await Promise.race([helpdesk.reached, run.exited.then(() => Promise.reject(new Error(`exited before scanning the helpdesk: ${run.stderr()}`)))]);
      run.child.kill(signal);
      await run.logged('stopping');
      helpdesk.release();
      expect(await run.exited).toEqual({ code: status, signal: null });
      expect(run.lines.map((l) => l.msg)).toContain('identity resolution stopped before its end: the lease is given back, the next run goes on from there');
      expect(run.lines.map((l) => l.msg)).not.toContain('identity resolution done');
      // Given back, not left to expire: the next run need not wait out the lease's 30 s.
      expect(await leaseFree(store.db)).toBe(true);

      const rerun = spawnCli(process.execPath, cli('resolve', file), { waitMs: 180_000 });
      expect(await rerun.exited).toEqual({ code: 0, signal: null });
      expect(rerun.lines.map((l) => l.msg)).toContain('identity resolution done');
      const [{ n: pending }] = await store.db(T.sourceRecords).where('pending', 1).count({ n: '*' });
      expect(Number(pending)).toBe(0);
      // The same map the world's own uninterrupted run made of the same sources.
      expect(await partition(store.db)).toEqual(await partition(world.dbs.oneid.db));
    } finally {
      helpdesk.release();
      await helpdesk.close();
    }
  });

  it('`c360 resolve --restage` stopped says the store is half-restaged; the next plain `c360 resolve` goes on restaging, says so and finishes it', async () => {
    const helpdesk = await holdingHelpdesk();
    try {
      const { file, store } = await configOn(helpdesk.url);
      helpdesk.release();
      const first = spawnCli(process.execPath, cli('resolve', file), { waitMs: 180_000 });
      expect(await first.exited).toEqual({ code: 0, signal: null });
      await helpdesk.close();

      const holding = await holdingHelpdesk();
      try {
        const restageFile = path.join(path.dirname(file), 'restage.json');
        const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
        raw.sources.find((s: any) => s.name === 'support').baseUrl = holding.url;
        fs.writeFileSync(restageFile, JSON.stringify(raw));
        const run = spawnCli(process.execPath, [...cli('resolve', restageFile), '--restage'], { waitMs: 180_000 });
        await Promise.race([holding.reached, run.exited.then(() => Promise.reject(new Error(`exited before scanning the helpdesk: ${run.stderr()}`)))]);
        run.child.kill('SIGTERM');
        await run.logged('stopping');
        holding.release();
        expect(await run.exited).toEqual({ code: 143, signal: null });
        const stopped = run.lines.find((l) => String(l.msg).startsWith('identity resolution stopped before its end'));
        expect(stopped).toMatchObject({
          next: 'c360 resolve',
          msg: 'identity resolution stopped before its end: the store is half-restaged; the next `c360 resolve` goes on restaging from where this one stopped',
        });

        const rerun = spawnCli(process.execPath, cli('resolve', restageFile), { waitMs: 180_000 });
        expect(await rerun.exited).toEqual({ code: 0, signal: null });
        expect(rerun.lines.map((l) => l.msg)).toEqual(
          expect.arrayContaining(['resolution: resuming the restage a stopped run began; sources are read on from where it stopped', 'identity resolution done']),
        );
        expect(rerun.lines.find((l) => l.msg === 'identity resolution done')).toMatchObject({ stats: { restageResumed: true } });
        expect(await partition(store.db)).toEqual(await partition(world.dbs.oneid.db));
      } finally {
        holding.release();
        await holding.close();
      }
    } finally {
      helpdesk.release();
    }
  });

  it('`c360 start` resolving at start-up stops without serving, gives the lease back and exits 0; started again, it resolves at once', async () => {
    const helpdesk = await holdingHelpdesk();
    try {
      const { file, store } = await configOn(helpdesk.url);
      const starting = spawnCli(process.execPath, cli('start', file), { waitMs: 180_000 });
      await Promise.race([helpdesk.reached, starting.exited.then(() => Promise.reject(new Error(`exited before scanning the helpdesk: ${starting.stderr()}`)))]);
      starting.child.kill('SIGTERM');
      await starting.logged('stopping');
      helpdesk.release();
      expect(await starting.exited).toEqual({ code: 0, signal: null });
      expect(starting.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['stopped before serving']));
      expect(starting.lines.some((l) => l.msg?.startsWith('c360 ready'))).toBe(false);
      expect(await leaseFree(store.db)).toBe(true);

      // Restarted at once, as a supervisor does: it resolves (it would have served unresolved, "skipped", had the lease been left held).
      const again = spawnCli(process.execPath, cli('start', file), { waitMs: 180_000 });
      await again.logged('c360 ready');
      const msgs = again.lines.map((l) => l.msg);
      expect(msgs).toContain('identity resolution done');
      expect(msgs).not.toContain('identity resolution skipped at start: another process holds the OneID store');
      again.child.kill('SIGTERM');
      expect(await again.exited).toEqual({ code: 0, signal: null });
      expect(await partition(store.db)).toEqual(await partition(world.dbs.oneid.db));
    } finally {
      helpdesk.release();
      await helpdesk.close();
    }
  });

  itOn('mariadb')('`c360 resolve` stopped while the OneID store hangs exits 143 without waiting for it, after RESOLUTION_STOP_TIMEOUT_MS', async () => {
    const helpdesk = await holdingHelpdesk();
    const base = new URL(process.env.C360_TEST_MYSQL_URL!);
    // The store reached through a proxy the test freezes: sockets open, no bytes, as a MariaDB stopped with SIGSTOP.
    const proxy = await startTcpProxy({ host: base.hostname, port: Number(base.port || 3306) });
    try {
      const { file } = await configOn(helpdesk.url);
      const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
      const url = new URL(raw.oneid.connection.url);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      raw.oneid.connection = { ...raw.oneid.connection, url: url.toString() };
      fs.writeFileSync(file, JSON.stringify(raw));
      const run = spawnCli(process.execPath, cli('resolve', file), { waitMs: 180_000 });
      await Promise.race([helpdesk.reached, run.exited.then(() => Promise.reject(new Error(`exited before scanning the helpdesk: ${run.stderr()}`)))]);
      proxy.freeze();
      run.child.kill('SIGTERM');
      await run.logged('stopping');
      // Its next write, and the lease it would give back, wait on the frozen store.
      helpdesk.release();
      expect(await run.exited).toEqual({ code: 143, signal: null });
      expect(proxy.state()).toBe('frozen');
      expect(run.lines.find((l) => String(l.msg).startsWith('identity resolution did not stop in time'))).toMatchObject({ level: 40, timeoutMs: RESOLUTION_STOP_TIMEOUT_MS });
    } finally {
      helpdesk.release();
      proxy.restore();
      await proxy.close();
      await helpdesk.close();
    }
  });

  itOn('mariadb')(
    "`c360 start` waiting for another process's migrations exits at once on SIGTERM: nothing there is left half done, nothing is migrated after it",
    async () => {
      const { file, store } = await configOn(world.support.url);
      // Another replica migrating: it holds the store's migration lock (src/migrations.ts names it).
      const database = new URL((store.connection as { url: string }).url).pathname.slice(1);
      const lock = `c360_migrate_${crypto.createHash('sha256').update(`${database}\0idmap_migrations`).digest('hex').slice(0, 40)}`;
      const holder = knex({ client: 'mysql2', connection: (store.connection as { url: string }).url, pool: { min: 1, max: 1 } });
      try {
        expect((await holder.raw('SELECT GET_LOCK(?, 0) AS got', [lock]))[0][0].got).toBe(1);
        const starting = spawnCli(process.execPath, cli('start', file), { waitMs: 180_000 });
        // Its start-up waits in GET_LOCK on the server (a statement there to see, not a guess at how long it takes to get there).
        const waiting = async () =>
          Number((await holder.raw('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ?', ['SELECT GET_LOCK(%']))[0][0].n) > 0;
        for (let i = 0; i < 3000 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 50));
        starting.child.kill('SIGTERM');
        // Either it exits now, or it goes on waiting (and would migrate once the lock is free): let the lock go only after one of them.
        await Promise.race([starting.exited, starting.logged('stopping')]).catch(() => undefined);
        await holder.destroy();
        expect(await starting.exited).toEqual({ code: 0, signal: null });
        expect(starting.lines.map((l) => l.msg)).toContain('stopped before serving');
        expect(starting.lines.some((l) => l.msg?.startsWith('stopping'))).toBe(false);
        expect(await store.db.schema.hasTable(T.customers)).toBe(false);
      } finally {
        await holder.destroy();
      }
    },
  );
});
