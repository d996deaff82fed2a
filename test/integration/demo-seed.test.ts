/**
 * The demo seed against real databases: the engine chosen by C360_TEST_DB (SQLite or MariaDB)
 * for generateWorld, SQLite files for the on-disk demo world that `npm start` uses.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { generateWorld, STORES, type WorldStats } from '../../demo/generate';
import { ensureDemoWorld, readManifest, writeDemoWorld } from '../../demo/seed';
import { TABLES, TABLE_NAMES, generatePeople, type TableName } from '../../demo/world';
import type { SourceStore } from '../../demo/schema';
import { tempDir } from '../helpers/tmp';

const AS_OF = '2026-11-01';
const PEOPLE = 300;
const SEED = 11;

function readTruth(file: string): string[][] {
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  expect(lines[0]).toBe('source,record_id,person_id');
  return lines.slice(1).map((l) => l.split(','));
}

const KEY_COLUMN: Record<SourceStore, { table: TableName; column: string }> = {
  crm: { table: 'crm_contacts', column: 'contact_id' },
  orders: { table: 'shop_accounts', column: 'account_id' },
  support: { table: 'support_users', column: 'id' },
  scrm: { table: 'scrm_followers', column: 'openid' },
};

describe('Demo seed: generateWorld into separate databases', () => {
  let dbs: Record<SourceStore, TestDatabase>;
  let dir: string;
  let truthFile: string;
  let stats: WorldStats;

  beforeAll(async () => {
    dir = tempDir('seed');
    truthFile = path.join(dir, 'truth.csv');
    dbs = {
      crm: await freshDatabase('crm'),
      orders: await freshDatabase('orders'),
      support: await freshDatabase('support'),
      scrm: await freshDatabase('scrm'),
    };
    stats = await generateWorld({
      people: PEOPLE,
      seed: SEED,
      asOf: AS_OF,
      connections: { crm: dbs.crm.connection, orders: dbs.orders.connection, support: dbs.support.connection, scrm: dbs.scrm.connection },
      truthFile,
    });
  });

  afterAll(async () => {
    for (const d of Object.values(dbs ?? {})) await d.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores every generated row, table by table', async () => {
    for (const table of TABLE_NAMES) {
      const [{ n }] = await dbs[TABLES[table].store].db(table).count({ n: '*' });
      expect([table, Number(n)]).toEqual([table, stats.counts[table]]);
    }
    expect(stats.people).toBe(PEOPLE);
    expect(stats.counts.crm_contacts).toBeGreaterThan(0);
  });

  it('writes a truth line for every source record in the databases, and none for anything else', async () => {
    const truth = readTruth(truthFile);
    for (const store of STORES) {
      const { table, column } = KEY_COLUMN[store];
      const ids = (await dbs[store].db(table).select(column)).map((r: Record<string, unknown>) => String(r[column]));
      const truthIds = truth.filter(([s]) => s === store).map(([, id]) => id);
      expect(new Set(truthIds).size).toBe(truthIds.length);
      expect(truthIds.sort()).toEqual(ids.sort());
      expect(truthIds.length).toBe(stats.records[store]);
    }
    expect(new Set(truth.map(([, , p]) => p)).size).toBe(PEOPLE);
    for (const [, , p] of truth) expect(p).toMatch(/^P\d{7}$/);
  });

  it('round-trips values exactly: Chinese text, emoji, nulls, cents and unix times', async () => {
    const expected = new Map<string, unknown>();
    const followers = new Map<string, unknown>();
    const orders = new Map<number, unknown>();
    for (const { rows } of generatePeople({ people: PEOPLE, seed: SEED, asOf: AS_OF })) {
      for (const r of rows.crm_contacts) expected.set(r.contact_id, r);
      for (const r of rows.scrm_followers) followers.set(r.openid, r);
      for (const r of rows.orders) orders.set(r.order_id, r);
    }
    const contacts = await dbs.crm.db('crm_contacts').select('*');
    expect(new Map(contacts.map((r: any) => [r.contact_id, { ...r }]))).toEqual(expected);
    const stored = await dbs.scrm.db('scrm_followers').select('*');
    expect(
      new Map(
        stored.map((r: any) => [
          r.openid,
          {
            ...r,
            subscribe_time: Number(r.subscribe_time),
            updated_at: Number(r.updated_at),
            unsubscribe_time: r.unsubscribe_time === null ? null : Number(r.unsubscribe_time),
          },
        ]),
      ),
    ).toEqual(followers);
    const storedOrders = await dbs.orders.db('orders').select('*');
    expect(
      new Map(
        storedOrders.map((r: any) => [
          Number(r.order_id),
          {
            ...r,
            order_id: Number(r.order_id),
            account_id: Number(r.account_id),
            total_cents: Number(r.total_cents),
            placed_at: Number(r.placed_at),
            paid_at: r.paid_at === null ? null : Number(r.paid_at),
          },
        ]),
      ),
    ).toEqual(orders);
  });

  it('replaces the tables on a second run and writes the same world again', async () => {
    const before = fs.readFileSync(truthFile, 'utf8');
    const again = await generateWorld({
      people: PEOPLE,
      seed: SEED,
      asOf: AS_OF,
      connections: { crm: dbs.crm.connection, orders: dbs.orders.connection, support: dbs.support.connection, scrm: dbs.scrm.connection },
      truthFile,
    });
    expect(again.counts).toEqual(stats.counts);
    expect(fs.readFileSync(truthFile, 'utf8')).toBe(before);
    const [{ n }] = await dbs.orders.db('order_lines').count({ n: '*' });
    expect(Number(n)).toBe(stats.counts.order_lines);
  });
});

describe('Demo seed: stores sharing one database', () => {
  it('puts all four systems’ tables in one database when the connections are the same', async () => {
    const db = await freshDatabase('shared');
    const dir = tempDir('seed');
    try {
      const stats = await generateWorld({
        people: 120,
        seed: 3,
        asOf: AS_OF,
        connections: { crm: db.connection, orders: db.connection, support: db.connection, scrm: db.connection },
        truthFile: path.join(dir, 'truth.csv'),
      });
      for (const table of TABLE_NAMES) {
        const [{ n }] = await db.db(table).count({ n: '*' });
        expect([table, Number(n)]).toEqual([table, stats.counts[table]]);
      }
    } finally {
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Demo seed: the world on disk', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = tempDir('data');
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates once, then reuses the world while the manifest matches', async () => {
    const first = await ensureDemoWorld({ dataDir, people: 200, seed: 5, asOf: AS_OF });
    expect(first.generated).toBe(true);
    for (const f of ['crm.sqlite', 'orders.sqlite', 'support.sqlite', 'scrm.sqlite', 'truth.csv', 'world.json']) expect(fs.existsSync(path.join(dataDir, f))).toBe(true);
    expect(readManifest(dataDir)).toMatchObject({ people: 200, seed: 5, asOf: '2026-11-01T00:00:00.000Z', generatorVersion: expect.any(Number) });

    // Reused means not written again: every file keeps its modification time.
    const written = () => fs.readdirSync(dataDir).map((f) => [f, fs.statSync(path.join(dataDir, f)).mtimeMs]);
    const before = written();
    const second = await ensureDemoWorld({ dataDir, people: 200, seed: 5 });
    expect(second.generated).toBe(false);
    expect(written()).toEqual(before);
    expect(second.manifest.counts).toEqual(first.manifest.counts);

    expect((await ensureDemoWorld({ dataDir, people: 200, seed: 6, asOf: AS_OF })).generated).toBe(true);
    expect((await ensureDemoWorld({ dataDir, people: 200, seed: 6, asOf: '2026-10-01' })).generated).toBe(true);
    fs.rmSync(path.join(dataDir, 'world.json'));
    expect((await ensureDemoWorld({ dataDir, people: 200, seed: 6, asOf: '2026-10-01' })).generated).toBe(true);
  });

  it('writes the manifest last, so an interrupted world is regenerated', async () => {
    await writeDemoWorld({ dataDir, people: 50, seed: 1, asOf: AS_OF });
    fs.writeFileSync(path.join(dataDir, 'world.json'), '{ truncated');
    expect((await ensureDemoWorld({ dataDir, people: 50, seed: 1, asOf: AS_OF })).generated).toBe(true);
    expect(readManifest(dataDir)?.people).toBe(50);
  });
});

describe('Demo seed: command line', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, '../../demo/seed.ts'), ...args], { encoding: 'utf8', timeout: 60_000 });

  it('exits 2 naming the flag when an argument is bad', () => {
    const r = cli(['--people', 'abc']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--people must be an integer/);
    const u = cli(['--peeple', '5']);
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/unknown flag --peeple/);
  });

  it('writes the world and prints its counts', () => {
    const dataDir = tempDir('cli');
    try {
      const r = cli(['--people', '100', '--seed', '2', '--data-dir', dataDir, '--as-of', AS_OF]);
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ people: 100, seed: 2, asOf: '2026-11-01T00:00:00.000Z' });
      expect(readManifest(dataDir)?.records).toEqual(out.records);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
