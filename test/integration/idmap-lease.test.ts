/**
 * Two processes sharing one OneID store (the gateway and a `c360 resolve` job): each opens its
 * own connection pool, as here, and the store's lease lets one resolution run at a time.
 */
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db';
import { createIdMapStore, LeaseLostError, loadIdentityRules, migrateLatest, resolve, ResolutionBusyError } from '../../src/idmap';
import type { ScanPage } from '../../src/vocabulary';
import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';
import { FakeSource, rec } from '../helpers/feeds';
import { DEFAULT_LEASE, withLease } from '../../src/idmap/lock';
import { watchTurns } from '../helpers/turns';
import { RESOLUTION_LEASE } from '../../src/idmap/resolve';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A feed whose first scan waits until `open()` is called, to keep a run holding its lease. */
class GatedSource extends FakeSource {
  private release!: () => void;
  private readonly gate = new Promise<void>((r) => (this.release = r));
  started = false;
  open() {
    this.release();
  }
  override async scan(cursor: string | null, pageSize?: number): Promise<ScanPage> {
    this.started = true;
    await this.gate;
    return super.scan(cursor, pageSize);
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe(`One resolution at a time per OneID store, across processes (${testEngine})`, () => {
  let t: TestDatabase;
  let other: Knex; // the second process's own pool on the same store
  const lease = () => t.db('idmap_locks').where({ name: 'resolution' }).first('holder', 'expires_at');
  const count = async (table: string) => Number((await t.db(table).count({ n: '*' }))[0].n);

  beforeEach(async () => {
    t = await freshDatabase('idmap_lease');
    await migrateLatest(t.db);
    other = openDatabase(t.connection);
  });
  afterEach(async () => {
    await other.destroy();
    await t.drop();
  });

  it('makes a second process wait for a running resolution, refuse with RESOLUTION_BUSY after its wait, and run once it is free', async () => {
    const first = new GatedSource('crm', [rec('crm', 'C1', { phone: '13911112222' })]);
    const running = resolve({ db: t.db, connectors: [first], rules });
    await until(() => first.started, 'the first run to start scanning');
    expect((await lease())?.holder).not.toBe('');

    const second = new FakeSource('orders', [rec('orders', '501', { phone: '8613911112222' })]);
    const refused = resolve({ db: other, connectors: [second], rules, lease: { waitMs: 300, pollMs: 20 } });
    await expect(refused).rejects.toBeInstanceOf(ResolutionBusyError);
    await expect(refused).rejects.toMatchObject({ code: 'RESOLUTION_BUSY' });
    expect(second.served).toEqual([]); // it never read its source, so it wrote nothing either
    expect(await count('idmap_source_records')).toBe(0);

    // A patient second process gets the store as soon as the first hands it back.
    const waiting = resolve({ db: other, connectors: [second], rules, lease: { waitMs: 60_000, pollMs: 20 } });
    await sleep(100);
    expect(second.served).toEqual([]);
    first.open();
    await running;
    const stats = await waiting;
    expect(stats.recordsNew).toBe(1);
    const store = createIdMapStore(t.db);
    const [a, b] = await store.customerIdsBySourceRecords([
      { source: 'crm', recordId: 'C1' },
      { source: 'orders', recordId: '501' },
    ]);
    expect(a).not.toBeNull();
    expect(b).toBe(a);
    expect((await lease())?.holder).toBe('');
  });

  it('takes over a lease left by a process that died once it expires, not before', async () => {
    // Unexpired for longer than any stall of a loaded machine while the first run asks for it...
    await t.db('idmap_locks').insert({ name: 'resolution', holder: 'gone-host:4242:dead', expires_at: Date.now() + 600_000 });
    const feed = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' })]);
    await expect(resolve({ db: t.db, connectors: [feed], rules, lease: { waitMs: 100, pollMs: 20 } })).rejects.toMatchObject({
      code: 'RESOLUTION_BUSY',
      holder: 'gone-host:4242:dead',
    });
    // ...then about to expire: the next run waits it out and takes over.
    await t
      .db('idmap_locks')
      .where({ name: 'resolution' })
      .update({ expires_at: Date.now() + 300 });
    const stats = await resolve({ db: t.db, connectors: [feed], rules, lease: { waitMs: 60_000, pollMs: 20 } });
    expect(stats.recordsNew).toBe(1);
  });

  it('hands the lease back when a run fails, so the next one is not kept waiting', async () => {
    const feed = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' })]);
    feed.failOnCall = 0;
    await expect(resolve({ db: t.db, connectors: [feed], rules })).rejects.toThrow('feed down');
    expect((await lease())?.holder).toBe('');
    const stats = await resolve({ db: other, connectors: [feed], rules, lease: { waitMs: 0 } });
    expect(stats.recordsNew).toBe(1);
  });

  it('keeps its lease through a run many times longer than the lease lasts, busy or not', async () => {
    // Each page holds the process for a quarter of the lease without yielding, as synchronous
    // SQLite work does. The lease is lost only if a renewal's answer is read a lease's lifetime after
    // it began (a write waits for a renewal in flight); a timer's renewal sent just before a page is
    // read after it, so its margin is the lease less a page. At load 27-30 on MariaDB that wait took
    // up to 583 ms beyond the page, and renewals began up to 895 ms apart (a 1 s lease with pages of
    // 250 ms was lost once in 6 runs at load 20, session 42): 2 s leaves 1.5 s, at 14 pages, not 20.
    const TTL = 2000;
    class BusyFeed extends FakeSource {
      override async scan(cursor: string | null, pageSize?: number): Promise<ScanPage> {
        const until = Date.now() + TTL / 4;
        while (Date.now() < until);
        return super.scan(cursor, pageSize);
      }
    }
    const feed = new BusyFeed(
      'crm',
      Array.from({ length: 28 }, (_, i) => rec('crm', `C${i}`, { phone: `1390000${1000 + i}` })),
    );
    const started = Date.now();
    const stats = await resolve({ db: t.db, connectors: [feed], rules, pageSize: 2, lease: { ttlMs: TTL } });
    expect(Date.now() - started).toBeGreaterThan(3 * TTL);
    expect(stats.recordsNew).toBe(28);
    expect((await lease())?.holder).toBe('');
  });

  it('keeps its lease through a first comparison while a second process waits for it, turning the event loop at least every 1.5 s of CPU, and hands it over after', async () => {
    // 36,000 records of 180 names, each its own customer: each name's block holds 200 records (the
    // rules' maxBlock) of different customers, 3,582,000 pairs and more the tier scores in several
    // seconds of CPU. The lease is renewed by a timer, which runs only when the run lets the event
    // loop turn: it is lost when a stretch without a turn lasts two thirds of it. A stretch's wall
    // time is its CPU time multiplied by the machine's load (the tier's longest, one 0.35-0.43 s
    // statement reading 400 blocks' members, took 4-11 s at load 19-23 on 2 cores, and a 3 s lease
    // was lost in 4 of 4 runs there), so the test counts stretches in CPU time, which a loaded
    // machine barely changes, and the run holds the production lease (30 s, renewed every 10 s).
    // A tier without turns runs for seconds of CPU at once here, and for minutes at a million records.
    const MAX_CPU_WITHOUT_A_TURN_MS = 1500;
    const given = ['Fang', 'Na', 'Wei', 'Yang', 'Jing', 'Li', 'Min', 'Lei', 'Tao', 'Jie'];
    const family = ['Wang', 'Zhang', 'Chen', 'Zhao', 'Liu', 'Huang', 'Zhou', 'Wu', 'Xu', 'Sun', 'Ma', 'Zhu', 'Hu', 'Guo', 'He', 'Gao', 'Lin', 'Luo'];
    const names = family.flatMap((f) => given.map((g) => `${f} ${g}`));
    const records = Array.from({ length: names.length * 200 }, (_, i) =>
      rec(
        'crm',
        `C${i}`,
        { phone: `139${String(i).padStart(8, '0')}` },
        { name: names[i % names.length], birthday: `19${50 + (i % 47)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}` },
      ),
    );
    // u from the weights file: the store's count would only add minutes of a worker's CPU to the test.
    const fileChance = { ...rules, probabilistic: { ...rules.probabilistic!, chance: 'file' as const } };
    await resolve({ db: t.db, connectors: [new FakeSource('crm', records)], rules: fileChance, tiers: 'deterministic' });
    expect(await count('idmap_match_features')).toBe(records.length);

    // The run that compares them holds the lease (its scan waits) until the second process is waiting for it.
    const feed = new GatedSource('crm', records);
    const turns = watchTurns();
    const running = resolve({ db: t.db, connectors: [feed], rules: fileChance });
    running.catch(() => undefined);
    for (let i = 0; !feed.started; i++) {
      if (i > 6000) throw new Error('the run never started scanning');
      await sleep(10);
    }
    const waiter = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'helpers', 'lease-waiter.ts'), JSON.stringify(t.connection), String(DEFAULT_LEASE.ttlMs)], {
      cwd: path.resolve(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const said: Array<Record<string, unknown>> = [];
    let rest = '';
    waiter.stdout.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) said.push(JSON.parse(line));
    });
    const exited = new Promise<number | null>((r) => waiter.on('exit', (code) => r(code)));
    try {
      for (let i = 0; !said.length; i++) {
        if (i > 6000) throw new Error('the second process never said whether the lease was held');
        await sleep(10);
      }
      expect(said[0]).toEqual({ held: true });
      feed.open();
      const ran = await running.then(
        (stats) => ({ stats }),
        (error: unknown) => ({ error }),
      );
      // The longest stretch without a turn first: a lease lost (LeaseLostError) is what a long one leads to.
      expect(turns.stop().longestCpuMs).toBeLessThan(MAX_CPU_WITHOUT_A_TURN_MS);
      if ('error' in ran) throw ran.error;
      const { stats } = ran;
      expect(stats.recordsCompared).toBe(records.length);
      expect(stats.pairsCompared).toBeGreaterThanOrEqual(3_582_000); // and a few more that share a birthday's block
      // The second process got the store only once every record had been compared, and then at once.
      expect(await exited).toBe(0);
      expect(said[1]).toEqual({ acquired: true, unscored: 0 });
    } finally {
      turns.stop();
      waiter.kill();
    }
  });

  it('renews its lease a third of its lifetime after its last renewal, however far the clock ran ahead of its timer then', async () => {
    // Timers run on the event loop's clock, the time its iteration began; Date.now() is read when a
    // callback runs, a few ms later on a busy loop. Here the test moves both: the timers' clock
    // (fake), and Date.now() 3 ms ahead of it while the lease is taken and first renewed, then not.
    // Each renewal writes `expires_at` = Date.now() at its start + the lifetime.
    const TTL = 3000;
    const base = 1_700_000_000_000;
    let ahead = 3;
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date'], now: 0 });
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => base + jest.now() + ahead);
    let renewals = 0;
    const counted = (_: unknown, q: { sql: string }) => {
      if (/^update \W?idmap_locks\W? set \W?expires_at\W? = \?/i.test(q.sql)) renewals += 1;
    };
    try {
      // A renewal's statement is real I/O (MariaDB): waited for until its answer is back and the
      // lease has gone on from it (its continuation, which sets the next timer, runs before the next turn).
      t.db.on('query-response', counted);
      const leaseAfter = async (n: number) => {
        for (let i = 0; i < 2000 && renewals < n; i++) await new Promise((r) => setImmediate(r));
        await new Promise((r) => setImmediate(r));
        return Number((await lease())?.expires_at);
      };
      await withLease(
        t.db,
        RESOLUTION_LEASE,
        async () => {
          await jest.advanceTimersByTimeAsync(1000);
          expect(await leaseAfter(1)).toBe(base + 1003 + TTL);
          ahead = 0;
          // 997 ms after that renewal by Date.now(), 1,000 by the timers' clock: the next one is due, and made.
          await jest.advanceTimersByTimeAsync(1000);
          expect(await leaseAfter(2)).toBe(base + 2000 + TTL);
        },
        { ttlMs: TTL },
      );
    } finally {
      t.db.removeListener('query-response', counted);
      clock.mockRestore();
      jest.useRealTimers();
    }
  });

  it('judges its lease by a renewal in flight, not by the one before it, when a write comes before its answer', async () => {
    // A renewal's timer that fires late (the event loop held past the lease's end by the last
    // renewal) sends its UPDATE; the run's next write asks for the lease before the answer is read.
    // The renewal began after the lease's end by the last one that came back, yet it finds the row
    // still ours: nobody took the store in between, and the write may go on.
    const TTL = 3000;
    const base = 1_700_000_000_000;
    let ahead = 0;
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date'], now: 0 });
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => base + jest.now() + ahead);
    let asked: Promise<'held' | unknown> | undefined;
    try {
      await withLease(
        t.db,
        RESOLUTION_LEASE,
        async (held) => {
          // The write asks as the renewal's UPDATE goes out (knex's 'query' event: sent, not answered).
          const onRenewal = (q: { sql: string }) => {
            if (!asked && /^update \W?idmap_locks\W? set \W?expires_at\W? = \?/i.test(q.sql))
              asked = held.ensureHeld().then(
                () => 'held',
                (e: unknown) => e,
              );
          };
          t.db.on('query', onRenewal);
          try {
            ahead = TTL; // the loop was held: by Date.now() the timer fires a lease's lifetime late
            await jest.advanceTimersByTimeAsync(TTL / 3);
            for (let i = 0; i < 2000 && !asked; i++) await new Promise((r) => setImmediate(r));
            expect(await asked).toBe('held');
          } finally {
            t.db.removeListener('query', onRenewal);
          }
        },
        { ttlMs: TTL },
      );
    } finally {
      clock.mockRestore();
      jest.useRealTimers();
    }
    expect((await lease())?.holder).toBe('');
  });

  it('stops before writing when its lease was taken over while it ran', async () => {
    const feed = new GatedSource('crm', [rec('crm', 'C1', { phone: '13911112222' })]);
    const running = resolve({ db: t.db, connectors: [feed], rules, lease: { ttlMs: 150 } });
    await until(() => feed.started, 'the run to start scanning');
    // Another process decided the lease had expired (a stalled holder) and took it.
    await other('idmap_locks')
      .where({ name: 'resolution' })
      .update({ holder: 'other-host:1:taken', expires_at: Date.now() + 60_000 });
    await sleep(200); // a renewal tick finds the lease gone
    feed.open();
    await expect(running).rejects.toBeInstanceOf(LeaseLostError);
    expect(await count('idmap_source_records')).toBe(0);
    expect((await lease())?.holder).toBe('other-host:1:taken');
  });
});
