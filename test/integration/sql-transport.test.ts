/**
 * The SQL transport for source databases: timeouts, unreachable databases, the circuit
 * breaker and error hygiene, against a real database (C360_TEST_DB) and real dead ones
 * (a closed port on 127.0.0.1, a SQLite path in a missing directory). Time is moved with
 * an injected clock; nothing here asserts a duration.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KnexTimeoutError, type Knex } from 'knex';
import { answered, failure } from '../helpers/source-failure';
import { CircuitBreaker, createSqlSource, type SqlSource } from '../../src/sources/sql';
import { freshDatabase, itOn, type TestDatabase } from '../helpers/db';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { tempDir } from '../helpers/tmp';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A TCP relay on 127.0.0.1 to `target` that holds each new connection `delayMs` before relaying
 * it: a database that is slow to connect to, as a loaded server or network makes it.
 */
async function slowToConnect(target: { host: string; port: number }, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.pause();
    setTimeout(() => {
      const upstream = net.connect(target.port, target.host, () => {
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      sockets.add(upstream);
      const end = () => (client.destroy(), upstream.destroy());
      upstream.on('error', end).on('close', end);
      client.on('error', end).on('close', end);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const scratch = tempDir('sql-transport');
const opened: SqlSource[] = [];
function source(...args: Parameters<typeof createSqlSource>): SqlSource {
  const s = createSqlSource(...args);
  opened.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('SQL transport: a reachable database', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase('transport');
    await t.db.schema.createTable('things', (tb) => {
      tb.integer('id').primary();
      tb.string('secret', 32);
    });
    await t.db('things').insert([{ id: 1, secret: 'hunter2' }]);
  });
  afterAll(() => t.drop());

  it('answers health and runs statements with bindings', async () => {
    const sql = source({ source: 'crm', connection: t.connection });
    await expect(sql.health()).resolves.toBeUndefined();
    const rows = await sql.run<Array<{ id: number }>>('probe', (db) => db('things').select('id').where('id', 1));
    expect(rows.map((r) => Number(r.id))).toEqual([1]);
    expect(sql.breaker.state).toBe('closed');
  });

  it('reports a failing statement as SOURCE_BAD_RESPONSE naming source and operation, never the bound values', async () => {
    const sql = source({ source: 'orders', connection: t.connection, breaker: { failureThreshold: 1 } });
    const e = await failure(sql.run('accountsByIds', (db) => db('no_such_table').where('secret', 'hunter2')));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(e.sourceName).toBe('orders');
    expect(e.message).toContain('orders accountsByIds');
    expect(e.message).not.toContain('hunter2');
    expect(JSON.stringify(e.extensions)).not.toContain('hunter2');
    // The source answered: a statement error is not an outage and does not open the circuit.
    expect(sql.breaker.state).toBe('closed');
  });

  // MySQL sources are made read-only by the account's grants, not by the opener.
  itOn('sqlite')('opens SQLite sources read-only', async () => {
    const sql = source({ source: 'crm', connection: t.connection });
    const e = await failure(sql.run('probe', (db) => db('things').insert({ id: 2, secret: 'x' })));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(await t.db('things').count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('maps a statement timeout to SOURCE_TIMEOUT', async () => {
    const sql = source({ source: 'crm', connection: t.connection, timeoutMs: 50 });
    const timedOut = () => ({ timeout: () => Promise.reject(new KnexTimeoutError('Defined query timeout of 50ms exceeded')) });
    const e = await failure(sql.run('contactsByIds', timedOut as unknown as (db: Knex) => Knex.Raw));
    expect(e.code).toBe('SOURCE_TIMEOUT');
    expect(e.message).toContain('crm contactsByIds');
  });

  itOn('mariadb')('cancels a slow statement on the server and keeps the pool usable (MariaDB)', async () => {
    // Only the statement's deadline is short: opening the connection, and the second one knex
    // opens for KILL QUERY, may take longer than 200 ms on a loaded machine (SOURCE_UNAVAILABLE).
    const sql = source({ source: 'crm', connection: t.connection, timeoutMs: 200, acquireTimeoutMs: 60_000 });
    const e = await failure(sql.run('slow', (db) => db.raw('select sleep(5) as s')));
    expect(e.code).toBe('SOURCE_TIMEOUT');
    await expect(answered(() => sql.health())).resolves.toBeUndefined();
  });

  itOn('mariadb')('times the statement alone: a connection slower to open than the statement deadline waits up to acquireTimeoutMs', async () => {
    const url = new URL((t.connection as { url: string }).url);
    const relay = await slowToConnect({ host: url.hostname, port: Number(url.port || 3306) }, 500);
    try {
      url.port = String(relay.port);
      const connection = { client: 'mysql' as const, url: url.toString() };
      // The pool's wait defaults to the statement's deadline: a 500 ms connect is an outage then.
      const strict = source({ source: 'crm', connection, timeoutMs: 200 });
      expect((await failure(strict.health())).code).toBe('SOURCE_UNAVAILABLE');
      const patient = source({ source: 'crm', connection, timeoutMs: 200, acquireTimeoutMs: 60_000 });
      await expect(answered(() => patient.health())).resolves.toBeUndefined();
      // KILL QUERY needs a second connection, itself 500 ms to open: still a timeout, and the pool still serves.
      expect((await failure(patient.run('slow', (db) => db.raw('select sleep(5) as s')))).code).toBe('SOURCE_TIMEOUT');
      await expect(answered(() => patient.health())).resolves.toBeUndefined();
    } finally {
      await relay.close();
    }
  });

  itOn('mariadb')('answers SOURCE_TIMEOUT at the statement deadline though the KILL QUERY cannot reach the server, and serves again once it answers', async () => {
    const url = new URL((t.connection as { url: string }).url);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 3306) });
    try {
      url.port = String(proxy.port);
      // Connections may take seconds to open on a loaded machine; the frozen statement alone is meant to time out.
      const sql = source({ source: 'crm', connection: { client: 'mysql', url: url.toString() }, timeoutMs: 300, acquireTimeoutMs: 5000 });
      await expect(answered(() => sql.run('probe', (db) => db('things').select('id')))).resolves.toEqual([{ id: 1 }]);
      proxy.freeze();
      // knex's cancel needs a new connection, whose greeting never comes: before, the call waited
      // for that connect to give up (10 s) and answered SOURCE_UNAVAILABLE.
      const e = await failure(sql.run('contactsByIds', (db) => db('things').select('id')));
      expect([e.code, e.message]).toEqual(['SOURCE_TIMEOUT', 'crm contactsByIds: statement timed out']);
      proxy.restore();
      await expect(answered(() => sql.run('probe', (db) => db('things').select('id')))).resolves.toEqual([{ id: 1 }]);
      expect(sql.breaker.state).toBe('closed');
    } finally {
      proxy.restore();
      await proxy.close();
    }
  });
});

describe('SQL transport: a SQLite source file another process holds locked', () => {
  // The source's owner, in rollback-journal mode (SQLite's default): its write lock keeps readers out.
  // A SQLite source whatever engine the run tests, as the unreachable files below.
  let owner: Database.Database;
  let filename: string;
  beforeAll(() => {
    filename = path.join(scratch, 'locked-by-owner.sqlite');
    owner = new Database(filename);
    owner.exec('CREATE TABLE things (id INTEGER PRIMARY KEY); INSERT INTO things VALUES (1);');
  });
  afterAll(() => owner.close());

  it('waits for the lock without holding the event loop, and answers once the owner commits', async () => {
    const sql = source({ source: 'crm', connection: { client: 'sqlite', filename }, timeoutMs: 60_000 });
    owner.exec('BEGIN EXCLUSIVE');
    let settled = false;
    const outcome = sql
      .run('probe', (db) => db('things').select('id'))
      .then(
        (rows) => ({ rows }),
        (e) => ({ e }),
      );
    void outcome.finally(() => (settled = true));
    // Timers fire while the read waits. Before, SQLite's own wait held the event loop for 5 s
    // inside the call (every request and /healthz with it), and then the read failed.
    try {
      for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
      expect(settled).toBe(false);
    } finally {
      owner.exec('COMMIT');
    }
    expect(await outcome).toEqual({ rows: [{ id: 1 }] });
  });

  it('answers SOURCE_TIMEOUT when the file stays locked past the deadline, on both read paths, and the breaker counts it', async () => {
    const sql = source({ source: 'crm', connection: { client: 'sqlite', filename }, timeoutMs: 50, breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    owner.exec('BEGIN EXCLUSIVE');
    try {
      const plain = await failure(sql.run('contactsByIds', (db) => db('things').select('id')));
      const shaped = await failure(
        sql.runShaped('contactsByIds', 'ids:1', [1], (db, ids) =>
          db('things')
            .select('id')
            .whereIn('id', ids as number[]),
        ),
      );
      expect([plain.code, shaped.code]).toEqual(['SOURCE_TIMEOUT', 'SOURCE_TIMEOUT']);
      expect(sql.breaker.state).toBe('open');
    } finally {
      owner.exec('COMMIT');
    }
  });
});

describe('SQL transport: a database that cannot be reached', () => {
  it('answers SOURCE_UNAVAILABLE for a MySQL URL on a closed port', async () => {
    const port = await closedPort();
    const sql = source({ source: 'orders', connection: { client: 'mysql', url: `mysql://root@127.0.0.1:${port}/shop` } });
    const e = await failure(sql.health());
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
    expect(e.message).toContain('orders health');
  });

  it('answers SOURCE_UNAVAILABLE for a SQLite path in a directory that does not exist, and creates nothing', async () => {
    const dir = path.join(scratch, 'missing-dir');
    const sql = source({ source: 'crm', connection: { client: 'sqlite', filename: path.join(dir, 'crm.sqlite') } });
    expect((await failure(sql.health())).code).toBe('SOURCE_UNAVAILABLE');
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('answers SOURCE_UNAVAILABLE for a missing SQLite file in an existing directory', async () => {
    const sql = source({ source: 'crm', connection: { client: 'sqlite', filename: path.join(scratch, 'absent.sqlite') } });
    expect((await failure(sql.health())).code).toBe('SOURCE_UNAVAILABLE');
    expect(fs.existsSync(path.join(scratch, 'absent.sqlite'))).toBe(false);
  });

  itOn('mariadb')('answers SOURCE_UNAVAILABLE for an unknown database (MariaDB)', async () => {
    const url = new URL(process.env.C360_TEST_MYSQL_URL as string);
    url.pathname = '/c360_no_such_database';
    const sql = source({ source: 'orders', connection: { client: 'mysql', url: url.toString() } });
    expect((await failure(sql.health())).code).toBe('SOURCE_UNAVAILABLE');
  });
});

describe('SQL transport: circuit breaker', () => {
  it('fails fast after N consecutive failures, then lets one trial through after the cooldown', async () => {
    let now = 1_000;
    const port = await closedPort();
    const sql = source({
      source: 'orders',
      connection: { client: 'mysql', url: `mysql://root@127.0.0.1:${port}/shop` },
      breaker: { failureThreshold: 3, cooldownMs: 10_000, now: () => now },
    });
    let attempts = 0;
    const probe = () =>
      sql.run('ordersByRecordIds', (db) => {
        attempts += 1;
        return db.raw('select 1');
      });

    for (let i = 0; i < 3; i++) expect((await failure(probe())).code).toBe('SOURCE_UNAVAILABLE');
    expect(attempts).toBe(3);
    expect(sql.breaker.state).toBe('open');

    const fast = await failure(probe());
    expect(fast.code).toBe('SOURCE_UNAVAILABLE');
    expect(fast.message).toContain('circuit open');
    expect(fast.message).toContain('orders ordersByRecordIds');
    expect(attempts).toBe(3);

    now += 10_000;
    expect(sql.breaker.state).toBe('half-open');
    expect((await failure(probe())).code).toBe('SOURCE_UNAVAILABLE');
    expect(attempts).toBe(4);
    // The trial failed: open again for a whole cooldown.
    expect(sql.breaker.state).toBe('open');
    await failure(probe());
    expect(attempts).toBe(4);
  });

  it('closes again when the trial call succeeds', async () => {
    let now = 0;
    const dir = path.join(scratch, 'appears-later');
    const filename = path.join(dir, 'crm.sqlite');
    const sql = source({
      source: 'crm',
      connection: { client: 'sqlite', filename },
      breaker: { failureThreshold: 2, cooldownMs: 5_000, now: () => now },
    });
    await failure(sql.health());
    await failure(sql.health());
    expect(sql.breaker.state).toBe('open');

    // The database comes back (here: the file appears).
    fs.mkdirSync(dir);
    fs.writeFileSync(filename, '');
    expect((await failure(sql.health())).message).toContain('circuit open');

    now += 5_000;
    await expect(sql.health()).resolves.toBeUndefined();
    expect(sql.breaker.state).toBe('closed');
  });

  it('lets only one trial call through while half-open', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100, now: () => now });
    const isFailure = () => true;
    const rejected = () => new Error('fast');
    await expect(breaker.run(() => Promise.reject(new Error('down')), isFailure, rejected)).rejects.toThrow('down');
    now += 100;
    let release!: () => void;
    const trial = breaker.run(() => new Promise<void>((r) => (release = r)), isFailure, rejected);
    await expect(breaker.run(async () => 'second', isFailure, rejected)).rejects.toThrow('fast');
    release();
    await trial;
    expect(breaker.state).toBe('closed');
    await expect(breaker.run(async () => 'third', isFailure, rejected)).resolves.toBe('third');
  });

  it('resets the failure count on success (only consecutive failures open it)', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 100 });
    const isFailure = () => true;
    const rejected = () => new Error('fast');
    const fail = () => breaker.run(() => Promise.reject(new Error('down')), isFailure, rejected).catch(() => undefined);
    await fail();
    await breaker.run(async () => 1, isFailure, rejected);
    await fail();
    expect(breaker.state).toBe('closed');
    await fail();
    expect(breaker.state).toBe('open');
  });
});
