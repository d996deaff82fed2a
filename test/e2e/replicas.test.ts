/**
 * Several gateway replicas on one OneID store, as production runs them behind a load balancer:
 * what one replica hands a client (a BI cursor, a timeline cursor) works on another, the audit
 * rows of both land in the one table, none lost and no id twice, and replicas started at once
 * as real processes on an empty MariaDB store all come up, one stopping while the others serve, and
 * one killed mid-resolution holds the store only until its lease expires.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { CLOSE_TIMEOUT_MS, createGateway, type Gateway } from '../../src/gateway';
import { startServer, type RunningServer } from '../../src/server';
import { createLogger } from '../../src/observability/logger';
import { MIGRATIONS } from '../../src/idmap/migrations';
import { ACCESS_MIGRATIONS } from '../../src/access/migrations';
import { T } from '../../src/idmap/tables';
import { freshDatabase, itOn, type TestDatabase } from '../helpers/db';
import { gatewayArgs, killGateways, ROOT, startGateway, type Running } from '../helpers/gateway-process';
import { tempDir } from '../helpers/tmp';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { apiKeyFor, startTestWorld, type TestWorld } from '../helpers/world';

let world: TestWorld;
/** The world's config as written, before parsing: what a replica's config file holds. */
let rawConfig: any;
let replica: Gateway;
let replicaServer: RunningServer;
/** The empty OneID stores the real processes start on (MariaDB). */
let oneid: TestDatabase | undefined;
let killedStore: TestDatabase | undefined;
/** The store a replica is stopped on while it hangs, and the proxy that freezes it. */
let frozenStore: TestDatabase | undefined;
let proxy: TcpProxy | undefined;

beforeAll(async () => {
  world = await startTestWorld({ people: 80, seed: 11, demoSystems: false, configPatch: (raw) => void (rawConfig = JSON.parse(JSON.stringify(raw))) });
  // A second gateway on the same store and sources: another replica behind the same load balancer.
  replica = await createGateway(world.config, { log: createLogger('silent') });
  replicaServer = await startServer(replica, { port: 0 });
});

afterAll(async () => {
  killGateways();
  await oneid?.drop();
  await killedStore?.drop();
  proxy?.restore();
  await proxy?.close();
  await frozenStore?.drop();
  await replicaServer?.close();
  await replica?.close();
  await world?.close();
});

async function post(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin'), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const LIST = `query ($after: String) {
  customersConnection(first: 7, after: $after, filter: { hasPhone: true }) {
    pageInfo { hasNextPage endCursor }
    edges { node { id } }
    plan { reused }
  }
}`;

/** Every page of the list, each asked of the replica `urlOf(page number)` names. */
async function walk(urlOf: (page: number) => string, reused: boolean[] = []): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const { status, body } = await post(urlOf(page), LIST, { after });
    expect({ status, errors: body.errors }).toEqual({ status: 200, errors: undefined });
    const c = body.data.customersConnection;
    ids.push(...c.edges.map((e: { node: { id: string } }) => e.node.id));
    reused.push(c.plan.reused);
    if (!c.pageInfo.hasNextPage) return ids;
    after = c.pageInfo.endCursor;
  }
  throw new Error('the walk did not end');
}

describe('Replicas serving one OneID store', () => {
  it('continues a BI walk on whichever replica the next page reaches: every customer once, as on one replica', async () => {
    const alone = await walk(() => world.url);
    expect(alone.length).toBeGreaterThan(14); // three pages at least
    const reused: boolean[] = [];
    expect(await walk((page) => (page % 2 ? replicaServer.url : world.url), reused)).toEqual(alone);
    // The plan stays with the process that made it: the replica's first page plans afresh, the first replica's next one reuses its own.
    expect(reused.slice(0, 3)).toEqual([false, false, true]);
  });

  it('continues a timeline on another replica with the cursor the first one sealed (both hold the same access.hashKey)', async () => {
    const TIMELINE = `query ($id: ID!, $after: String) { customer(id: $id) { timeline(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } } }`;
    const busiest = await world.dbs.oneid.db(T.sourceRecords).whereNotNull('customer_id').groupBy('customer_id').orderByRaw('count(*) desc').first('customer_id');
    const pages = async (urlOf: (page: number) => string) => {
      const ids: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 50; page++) {
        const { status, body } = await post(urlOf(page), TIMELINE, { id: busiest.customer_id, after });
        expect({ status, errors: body.errors }).toEqual({ status: 200, errors: undefined });
        const t = body.data.customer.timeline;
        ids.push(...t.edges.map((e: { node: { id: string } }) => e.node.id));
        if (!t.pageInfo.hasNextPage) return ids;
        after = t.pageInfo.endCursor;
      }
      throw new Error('the timeline did not end');
    };
    const alone = await pages(() => world.url);
    expect(alone.length).toBeGreaterThan(2);
    expect(await pages((page) => (page % 2 ? replicaServer.url : world.url))).toEqual(alone);
  });

  it('audits personal reads on both replicas at once in the one table: a row for each, none lost, no id twice', async () => {
    const ids = (await world.dbs.oneid.db(T.customers).where('status', 'active').orderBy('id').limit(30).select('id')).map((r: { id: string }) => r.id);
    const tag = `replicas-${Date.now()}`;
    const answers = await Promise.all(
      ids.map((id, i) => post(i % 2 ? replicaServer.url : world.url, `query ($id: ID!) { customer(id: $id) { id phone } }`, { id }, { 'x-request-id': `${tag}-${i}` })),
    );
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
    // A customer without a phone returned nothing personal: nothing to audit.
    const read = ids.flatMap((id, i) => (answers[i].body.data.customer.phone === null ? [] : [`${tag}-${i}:${id}`]));
    expect(read.length).toBeGreaterThan(20);
    const rows = await world.dbs.oneid.db('c360_access_audit').where('request_id', 'like', `${tag}-%`).select('id', 'request_id', 'customer_id');
    expect(rows.map((r: { request_id: string; customer_id: string }) => `${r.request_id}:${r.customer_id}`).sort()).toEqual(read.sort());
    expect(new Set(rows.map((r: { id: string }) => r.id)).size).toBe(read.length);
  });
});

describe('Replicas as real processes', () => {
  itOn('mariadb')('three `c360 start` at once on an empty OneID store all come up on one map; one drained, the others still serve', async () => {
    oneid = await freshDatabase('replicas_oneid');
    const dir = tempDir('replicas');
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ ...rawConfig, server: { ...rawConfig.server, port: 0 }, oneid: { ...rawConfig.oneid, connection: oneid.connection }, log: { level: 'info' } }),
    );
    const started = await Promise.allSettled([1, 2, 3].map(() => startGateway(process.execPath, gatewayArgs(file), { waitMs: 180_000 })));
    expect(started.map((s) => (s.status === 'fulfilled' ? 'ready' : String(s.reason).slice(0, 300)))).toEqual(['ready', 'ready', 'ready']);
    const replicas = started.map((s) => (s as PromiseFulfilledResult<Running>).value);

    // Each migration applied once, and said once by the replica that applied it; one map, which every replica serves alike.
    expect(await oneid.db('idmap_migrations').count({ n: '*' })).toEqual([{ n: MIGRATIONS.length }]);
    const said = replicas.flatMap((r) => r.lines.filter((l) => l.msg === 'oneid: store migrated').flatMap((l) => l.migrations as string[]));
    expect(said.sort()).toEqual([...MIGRATIONS, ...ACCESS_MIGRATIONS].map(([name]) => name).sort());
    const [{ n: active }] = await oneid.db(T.customers).where('status', 'active').count({ n: '*' });
    expect(Number(active)).toBeGreaterThan(0);
    const COUNT = `{ customersConnection(first: 1) { totalCount } }`;
    for (const r of replicas) expect((await post(r.url.origin, COUNT)).body).toEqual({ data: { customersConnection: { totalCount: Number(active) } } });
    // Each resolved at start-up, or (another holding the store past its wait) said it served without.
    for (const r of replicas)
      expect(r.lines.some((l) => l.msg === 'identity resolution done' || l.msg === 'identity resolution skipped at start: another process holds the OneID store')).toBe(true);

    const [first, ...others] = replicas;
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    for (const r of others) expect((await post(r.url.origin, COUNT)).body).toEqual({ data: { customersConnection: { totalCount: Number(active) } } });
  });

  itOn('mariadb')(
    'a replica killed mid-resolution: another starts and serves meanwhile, and `c360 resolve` takes the lease once it expires and completes the map',
    async () => {
      killedStore = await freshDatabase('replicas_killed');
      const db = killedStore.db;
      const file = path.join(tempDir('replicas'), 'config.json');
      fs.writeFileSync(
        file,
        JSON.stringify({ ...rawConfig, server: { ...rawConfig.server, port: 0 }, oneid: { ...rawConfig.oneid, connection: killedStore.connection }, log: { level: 'info' } }),
      );
      // The first replica resolves at start-up; it is killed (no drain, no release) while it holds the lease.
      const first = spawn(process.execPath, gatewayArgs(file), { cwd: ROOT, stdio: 'ignore', detached: true });
      const gone = new Promise((r) => first.once('exit', r));
      const held = async () => (await db.schema.hasTable(T.locks)) && Boolean(await db(T.locks).whereNot('holder', '').first());
      for (let i = 0; i < 1200 && !(await held()); i++) await new Promise((r) => setTimeout(r, 50));
      process.kill(-first.pid!, 'SIGKILL');
      await gone;
      const lease = await db(T.locks).whereNot('holder', '').first();
      expect(lease).toBeDefined(); // left to expire

      // Another replica starts: it cannot have the store, so it serves without its own run.
      const second = await startGateway(process.execPath, gatewayArgs(file), { waitMs: 180_000 });
      expect(second.lines.some((l) => l.msg === 'identity resolution skipped at start: another process holds the OneID store')).toBe(true);
      expect((await post(second.url.origin, `{ __typename }`)).status).toBe(200);

      // The scheduled job waits for the dead holder's lease to expire (30 s, within its 60 s), then resolves everything.
      await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'resolve', '--config', file], { cwd: ROOT, timeout: 180_000 });
      expect(await db(T.locks).whereNot('holder', '').first()).toBeUndefined();
      const [{ n: pending }] = await db(T.sourceRecords).where('pending', 1).count({ n: '*' });
      expect(Number(pending)).toBe(0);
      const orphans = await db(T.sourceRecords)
        .leftJoin(T.customers, `${T.customers}.id`, `${T.sourceRecords}.customer_id`)
        .where((q) => q.whereNull(`${T.customers}.id`).orWhereNot(`${T.customers}.status`, 'active'))
        .count({ n: '*' });
      expect(Number(orphans[0].n)).toBe(0);
    },
  );

  // A real process on MariaDB, reaching its OneID store through a TCP proxy the test freezes
  // (sockets open, no bytes: a server stopped with SIGSTOP, a silent network). The drain answers
  // every request (ONEID_UNAVAILABLE within the read deadline); closing the store's pools then
  // waits on connections that never answer, and the stop gives up on them after CLOSE_TIMEOUT_MS.
  itOn('mariadb')('a replica stopped while its OneID database hangs exits 0 once its requests are answered, without waiting for the database', async () => {
    frozenStore = await freshDatabase('replicas_frozen');
    const target = new URL((frozenStore.connection as { url: string }).url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 3306) });
    const url = new URL(target);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const file = path.join(tempDir('replicas'), 'config.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        ...rawConfig,
        server: { ...rawConfig.server, port: 0 },
        // A fault test's own deadline: a read the frozen store holds answers ONEID_UNAVAILABLE after a second.
        oneid: { ...rawConfig.oneid, connection: { ...frozenStore.connection, url: url.toString() }, timeoutMs: 1000 },
        log: { level: 'info' },
      }),
    );
    const gw = await startGateway(process.execPath, gatewayArgs(file), { waitMs: 180_000 });
    const LOOKUP = '{ customers(ids: ["01M0000000000000000000000A"]) { id } }';
    expect(await post(gw.url.origin, LOOKUP)).toEqual({ status: 200, body: { data: { customers: [null] } } });

    proxy.freeze();
    try {
      // A read the frozen store never answers: the request is answered, its statement still holds a connection.
      const frozen = await post(gw.url.origin, LOOKUP);
      expect([frozen.status, frozen.body.errors?.[0]?.extensions?.code]).toEqual([503, 'ONEID_UNAVAILABLE']);
      gw.child.kill('SIGTERM');
      // Far past the drain's end and CLOSE_TIMEOUT_MS: had the stop waited for the database, it would still be running.
      const bound = new Promise<'still running'>((resolve) => setTimeout(resolve, 120_000, 'still running').unref());
      expect(await Promise.race([gw.exited, bound])).toEqual({ code: 0, signal: null });
      expect(proxy.state()).toBe('frozen');
    } finally {
      proxy.restore();
    }
    const warned = gw.lines.filter((l) => String(l.msg).startsWith('stop: closing the OneID store'));
    expect(warned.map((l) => l.timeoutMs)).toEqual([CLOSE_TIMEOUT_MS]);
    expect(gw.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});
