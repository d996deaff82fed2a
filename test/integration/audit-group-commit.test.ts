/**
 * The access audit's write path (src/access/audit.ts): concurrent requests' rows are committed
 * together, each request is answered only once its own rows are in, a failed write withholds the
 * data of every request it carried, and a write that does not commit in time answers
 * ONEID_UNAVAILABLE instead of hanging the request. Real database (the test engine), real Apollo Server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import type { GraphQLResolveInfo } from 'graphql';
import { auditCollectorOf, auditPlugin, createAuditLog, groupCommit, monotonicUlid, type AuditLog } from '../../src/access/audit';
import type { Context } from '../../src/context';
import { auditDatabase } from '../helpers/audit';
import { directReads, openDatabase, type DirectReads } from '../../src/db';
import { tempDir } from '../helpers/tmp';

const audit = auditDatabase('audit');

const entry = (requestId: string, customerId: string) => ({
  at: new Date().toISOString(),
  requestId,
  principal: 'bench',
  principalKind: 'apiKey',
  role: 'admin',
  operationName: null,
  customerId,
  fields: ['Customer.phone', 'CrmContact.name'],
});

/** Counts the INSERT statements into the audit table while `run` runs. */
async function insertsDuring(db: Knex, run: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const count = (q: { sql: string }) => {
    if (/^insert into [`"]?c360_access_audit/i.test(q.sql)) n++;
  };
  db.on('query', count);
  try {
    await run();
  } finally {
    db.off('query', count);
  }
  return n;
}

describe('Access audit: group commit', () => {
  it('commits the rows of 20 concurrent requests in one INSERT, every row present and readable', async () => {
    const inserts = await insertsDuring(audit.tdb.db, () => Promise.all(Array.from({ length: 20 }, (_, i) => audit.auditLog.record([entry(`r${i}`, `c${i}`)]))));
    expect(inserts).toBe(1);
    const rows = await audit.auditLog.query({ first: 100 });
    expect(rows.map((r) => r.requestId).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`).sort());
    expect(rows[0].fields).toEqual(['CrmContact.name', 'Customer.phone']);
  });

  it('writes a request of more rows than one INSERT carries completely', async () => {
    await audit.auditLog.record(Array.from({ length: 450 }, (_, i) => entry('big', `c${i}`)));
    expect(await audit.tdb.db('c360_access_audit').where({ request_id: 'big' }).count({ n: '*' })).toEqual([{ n: 450 }]);
  });

  it('writes the calls of one event-loop turn together, settles each caller once its write has finished, and fails every caller of a failed write', async () => {
    const written: string[][] = [];
    let failNext = false;
    const commit = groupCommit<string>(async (rows) => {
      await new Promise((r) => setTimeout(r, 20));
      if (failNext) throw new Error('disk full');
      written.push([...rows]);
    });
    // Calls of the same turn of the event loop share the first write…
    const first = [commit(['a']), commit(['b'])];
    await new Promise((r) => setImmediate(r));
    // …and calls made while it is in flight, the next one.
    const later = [commit(['c']), commit(['d', 'e'])];
    await Promise.all(first);
    expect(written).toEqual([['a', 'b']]);
    await Promise.all(later);
    expect(written).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    failNext = true;
    const failing = await Promise.allSettled([commit(['e']), commit(['f'])]);
    expect(failing.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    failNext = false;
    await expect(commit(['g'])).resolves.toBeUndefined();
  });

  it('makes ULIDs that sort in the order they were made, within one millisecond too', () => {
    const next = monotonicUlid();
    const ids = [next(1_700_000_000_000), next(1_700_000_000_000), next(1_700_000_000_000), next(1_699_999_999_999), next(1_700_000_000_001)];
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // The time part is the ULID encoding of the millisecond (as the ulid package encodes it).
    expect(ids[0].slice(0, 10)).toBe('01HF7YAT00');
  });

  it('draws a fresh random part for every new millisecond, past the random pool it refills', () => {
    const next = monotonicUlid();
    const randomParts = Array.from({ length: 1000 }, (_, i) => next(1_700_000_000_000 + i).slice(10));
    expect(new Set(randomParts).size).toBe(1000);
  });
});

describe('Access audit on a SQLite file: direct writes', () => {
  // Whatever the test engine: the fast path exists only for SQLite files.
  let dir: string;
  let db: Knex;
  let direct: DirectReads;
  let log: AuditLog;

  beforeAll(async () => {
    dir = tempDir('audit-direct');
    const conn = { client: 'sqlite' as const, filename: path.join(dir, 'oneid.db') };
    db = openDatabase(conn);
    await createAuditLog(db).migrate();
    await db.schema.createTable('lock_probe', (t) => t.integer('n'));
    direct = directReads(conn, { writes: true });
    log = createAuditLog(db, { direct });
  });
  afterAll(async () => {
    direct?.close();
    await db?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the rows of concurrent requests without knex while no other writer holds the lock, every row readable', async () => {
    const inserts = await insertsDuring(db, () => Promise.all(Array.from({ length: 5 }, (_, i) => log.record([entry(`d${i}`, `c${i}`)]))));
    expect(inserts).toBe(0);
    const rows = await log.query({ first: 10 });
    expect(rows.map((r) => [r.requestId, r.customerId]).sort()).toEqual(Array.from({ length: 5 }, (_, i) => [`d${i}`, `c${i}`]));
    expect(rows[0].fields).toEqual(['CrmContact.name', 'Customer.phone']);
    expect(rows[0].id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it("writes a list's rows past one statement's chunk without knex too, all of them or (the lock held) none before knex writes them", async () => {
    const many = Array.from({ length: 450 }, (_, i) => entry('list', `m${i}`));
    expect(await insertsDuring(db, () => log.record(many))).toBe(0);
    expect((await log.query({ first: 500 })).filter((r) => r.requestId === 'list')).toHaveLength(450);

    let recorded: Promise<void> | undefined;
    let seenInside = -1;
    const inserts = await insertsDuring(db, async () => {
      await db.transaction(async (trx) => {
        await trx('lock_probe').insert({ n: 2 });
        recorded = log.record(Array.from({ length: 450 }, (_, i) => entry('list-busy', `b${i}`)));
        await new Promise((r) => setImmediate(r));
        // The direct transaction met the lock held: it wrote nothing, and knex writes the rows once the lock is free.
        seenInside = Number((await trx('c360_access_audit').where({ request_id: 'list-busy' }).count({ n: '*' }))[0].n);
      });
      await recorded;
    });
    expect(seenInside).toBe(0);
    expect(inserts).toBe(3); // through knex, a statement per chunk
    expect((await log.query({ first: 500 })).filter((r) => r.requestId === 'list-busy')).toHaveLength(450);
  });

  it("writes a list's rows spread over many index pages with two write system calls per WAL frame: no statement journal in a temporary file", async () => {
    // Earlier lists of the same 1,000 customers: each customer's rows sit on an index page of
    // their own, so the next list's chunks change hundreds of pages that were there before them.
    const customers = Array.from({ length: 1000 }, (_, i) => `s${String((i * 7919) % 1000).padStart(4, '0')}`);
    for (let k = 0; k < 20; k++) await log.record(customers.map((c) => entry(`spread-${k}`, c)));
    const file = path.join(dir, 'oneid.db');
    const wal = `${file}-wal`;
    const checkpointer = new Database(file);
    try {
      // The WAL emptied, so that its size afterwards is this write's frames.
      checkpointer.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      checkpointer.close();
    }
    expect(fs.statSync(wal).size).toBe(0);
    /** Write system calls of this process (`/proc/self/io`), around the synchronous direct write only. */
    const syscw = () => Number(/^syscw: (\d+)$/m.exec(fs.readFileSync('/proc/self/io', 'utf8'))![1]);
    let writes = 0;
    const counted = createAuditLog(db, {
      direct: {
        write: (statements) => {
          const before = syscw();
          try {
            return direct.write(statements);
          } finally {
            writes += syscw() - before;
          }
        },
      },
    });
    await counted.record(customers.map((c) => entry('spread-last', c)));
    expect(await db('c360_access_audit').where({ request_id: 'spread-last' }).count({ n: '*' })).toEqual([{ n: 1000 }]);
    // A WAL frame is a 24-byte header and a 4,096-byte page, after the file's 32-byte header.
    const frames = (fs.statSync(wal).size - 32) / (24 + 4096);
    expect(frames).toBeGreaterThan(100);
    // Each frame is written as its header and its page. Before, every chunk after the first copied
    // each page it changed into a statement journal (a temporary file past 64 KiB): two more writes a page.
    expect(writes).toBeLessThanOrEqual(2 * frames + 16);
  });

  it('writes through knex, once the writer holding the lock has committed, instead of waiting for it on the event loop', async () => {
    let recorded: Promise<void> | undefined;
    let seenInside = -1;
    const inserts = await insertsDuring(db, async () => {
      await db.transaction(async (trx) => {
        await trx('lock_probe').insert({ n: 1 }); // this connection now holds the write lock
        recorded = log.record([entry('busy', 'c-busy')]);
        // The group commit's write starts on the next setImmediate, before this one: busy, so it queues on knex's one connection.
        await new Promise((r) => setImmediate(r));
        seenInside = Number((await trx('c360_access_audit').where({ request_id: 'busy' }).count({ n: '*' }))[0].n);
      });
      await recorded;
    });
    expect(seenInside).toBe(0);
    expect(inserts).toBe(1);
    expect((await log.query({ first: 50 })).filter((r) => r.requestId === 'busy').map((r) => r.customerId)).toEqual(['c-busy']);
  });
});

describe('Access audit on a SQLite file another process writes to', () => {
  let dir: string;
  let db: Knex;
  let direct: DirectReads;
  let log: AuditLog;
  /** Another process's connection to the file, as a `c360 resolve` sharing the store has. */
  let other: Database.Database;

  beforeAll(async () => {
    dir = tempDir('audit-other-process');
    const conn = { client: 'sqlite' as const, filename: path.join(dir, 'oneid.db') };
    db = openDatabase(conn);
    await createAuditLog(db).migrate();
    direct = directReads(conn, { writes: true });
    log = createAuditLog(db, { direct });
    other = new Database(conn.filename);
  });
  afterAll(async () => {
    other?.close();
    direct?.close();
    await db?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("waits for that process's lock without holding the event loop, and writes the rows once it commits", async () => {
    other.exec('BEGIN IMMEDIATE');
    let settled = false;
    const recorded = log.record([entry('other-process', 'c-other')]).then(
      () => 'written',
      (e: { code?: string }) => e.code,
    );
    void recorded.finally(() => (settled = true));
    try {
      // Timers fire while the write waits. Before, its fallback through knex waited inside SQLite
      // (busy_timeout, 5 s) on the event loop, every other request with it, and then failed.
      for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
      expect(settled).toBe(false);
    } finally {
      other.exec('COMMIT');
    }
    expect(await recorded).toBe('written');
    expect((await log.query({ first: 50 })).filter((r) => r.requestId === 'other-process').map((r) => r.customerId)).toEqual(['c-other']);
  });
});

describe('Access audit: the response waits for its rows, within a deadline', () => {
  const typeDefs = 'type Query { phone: String }';
  /** A resolver that returns a personal field unmasked, as role schemas report it. */
  const resolvers = {
    Query: {
      phone: (_: unknown, __: unknown, ctx: Context, info: GraphQLResolveInfo) => {
        auditCollectorOf(ctx)!.notePersonal(info.path, 'Customer.phone');
        return '+8613800138000';
      },
    },
  };
  const ask = async (log: AuditLog, timeoutMs?: number) => {
    const server = new ApolloServer<Context>({ typeDefs, resolvers, plugins: [auditPlugin(log, { timeoutMs })] });
    await server.start();
    try {
      const ctx = { requestId: 'q1', viewer: { role: 'admin', principal: 'bench' } } as unknown as Context;
      const res = await server.executeOperation({ query: '{ phone }' }, { contextValue: ctx });
      if (res.body.kind !== 'single') throw new Error('expected a single result');
      return { status: res.http.status ?? 200, retryAfter: res.http.headers.get('retry-after'), body: res.body.singleResult };
    } finally {
      await server.stop();
    }
  };

  it('answers the data once the audit row is committed', async () => {
    const { status, body } = await ask(audit.auditLog);
    expect(status).toBe(200);
    expect(body.data).toEqual({ phone: '+8613800138000' });
    expect((await audit.auditLog.query()).map((e) => e.requestId)).toEqual(['q1']);
  });

  it('withholds the data as ONEID_UNAVAILABLE, with Retry-After, when the audit write hangs past its deadline', async () => {
    const frozen: AuditLog = { ...audit.auditLog, record: () => new Promise<void>(() => undefined) };
    const started = Date.now();
    const { status, retryAfter, body } = await ask(frozen, 100);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(status).toBe(503);
    expect(retryAfter).toMatch(/^\d+$/);
    expect(body.data).toBeNull();
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['ONEID_UNAVAILABLE']);
    expect(JSON.stringify(body)).not.toContain('13800138000');
  });
});
