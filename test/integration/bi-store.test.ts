/**
 * OneID BI store: the segments migration up and down, segment writes, and the keyset reads BI
 * lists page with, on the engine under test (SQLite, or MariaDB with C360_TEST_DB=mariadb).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db';
import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';
import { tempDir } from '../helpers/tmp';
import { migrateLatest, migratorConfig } from '../../src/idmap/migrate';
import { MIGRATIONS } from '../../src/idmap/migrations';
import { createBiStore } from '../../src/idmap/bi-store';
import { loadIdentityRules } from '../../src/idmap/rules';
import type { Principal } from '../../src/principal';

const alice: Principal = { kind: 'apiKey', name: 'alice' };
const bob: Principal = { kind: 'apiKey', name: 'bob' };

describe(`OneID BI store (${testEngine})`, () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await freshDatabase('bi_store');
    await migrateLatest(t.db);
  });
  afterEach(() => t.drop());

  it('creates c360_segments in its own migration, below the 20261201000500 range, and drops it going down', async () => {
    const names = MIGRATIONS.map(([n]) => n);
    expect(names).toContain('20261201000100_segments');
    expect(names.indexOf('20261201000100_segments')).toBeLessThan(
      names.findIndex((n) => n >= '20261201000500') === -1 ? Infinity : names.findIndex((n) => n >= '20261201000500'),
    );
    expect(await t.db.schema.hasTable('c360_segments')).toBe(true);
    const after = names.slice(names.indexOf('20261201000100_segments'));
    for (let i = 0; i < after.length; i++) await t.db.migrate.down(migratorConfig);
    expect(await t.db.schema.hasTable('c360_segments')).toBe(false);
    await migrateLatest(t.db);
    expect(await t.db.schema.hasTable('c360_segments')).toBe(true);
  });

  it('saves, changes and deletes segments; a taken name is CONFLICT, an unknown one NOT_FOUND', async () => {
    const store = createBiStore(t.db);
    const filter = { memberTier: ['gold', 'platinum'], city: '上海', orders: { min: 3, withinDays: 90 } };
    const made = await store.createSegment({ name: 'vip_shanghai', description: 'VIPs in Shanghai', filter, actor: alice });
    expect(made).toMatchObject({ name: 'vip_shanghai', description: 'VIPs in Shanghai', filter, size: null, createdBy: 'alice', updatedBy: 'alice' });
    await expect(store.createSegment({ name: 'vip_shanghai', description: null, filter, actor: bob })).rejects.toMatchObject({ extensions: { code: 'CONFLICT' } });
    await store.noteSegmentSize('vip_shanghai', 42, '2026-12-01T10:00:00.000Z');
    expect(await store.segment('vip_shanghai')).toMatchObject({ size: 42, computedAt: '2026-12-01T10:00:00.000Z' });
    const changed = await store.updateSegment({ name: 'vip_shanghai', filter: { memberTier: 'platinum' }, actor: bob });
    expect(changed).toMatchObject({ filter: { memberTier: 'platinum' }, size: null, updatedBy: 'bob', description: 'VIPs in Shanghai' });
    await expect(store.updateSegment({ name: 'nope', description: 'x', actor: bob })).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect((await store.segments()).map((s) => s.name)).toEqual(['vip_shanghai']);
    expect(await store.deleteSegment('vip_shanghai')).toBe(true);
    expect(await store.deleteSegment('vip_shanghai')).toBe(false);
  });

  it("changes and deletes a segment for its creator only when told whose (createdBy), in the write itself: FORBIDDEN and untouched for another's, NOT_FOUND or false for none", async () => {
    const store = createBiStore(t.db);
    await store.createSegment({ name: 'churn_risk', description: 'mine', filter: { orders: { min: 1 } }, actor: alice });
    await expect(store.updateSegment({ name: 'churn_risk', description: 'theirs', actor: bob, createdBy: bob })).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
    await expect(store.deleteSegment('churn_risk', bob)).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(await store.segment('churn_risk')).toMatchObject({ description: 'mine', updatedBy: 'alice' });
    expect(await store.updateSegment({ name: 'churn_risk', description: 'still mine', actor: alice, createdBy: alice })).toMatchObject({ description: 'still mine' });
    // Deleted and made again by someone else: the first creator's name no longer opens it.
    expect(await store.deleteSegment('churn_risk', alice)).toBe(true);
    await store.createSegment({ name: 'churn_risk', description: 'bob now', filter: { orders: { min: 2 } }, actor: bob });
    await expect(store.updateSegment({ name: 'churn_risk', description: 'x', actor: alice, createdBy: alice })).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
    expect(await store.segment('churn_risk')).toMatchObject({ description: 'bob now', createdBy: 'bob' });
    await expect(store.updateSegment({ name: 'nope', description: 'x', actor: alice, createdBy: alice })).rejects.toMatchObject({
      extensions: { code: 'NOT_FOUND' },
    });
    expect(await store.deleteSegment('nope', alice)).toBe(false);
  });

  it('takes an API key and a token subject of one name for two principals, and compares names byte for byte', async () => {
    const store = createBiStore(t.db);
    await store.createSegment({ name: 'etl', description: 'the key’s', filter: { orders: { min: 1 } }, actor: { kind: 'apiKey', name: 'etl-bot' } });
    for (const other of [
      { kind: 'jwt', name: 'etl-bot' },
      { kind: 'apiKey', name: 'ETL-bot' },
      { kind: 'apiKey', name: 'etl-bot ' },
      { kind: null, name: 'etl-bot' },
    ] as Principal[]) {
      await expect(store.updateSegment({ name: 'etl', description: 'taken', actor: other, createdBy: other })).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
      await expect(store.deleteSegment('etl', other)).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    }
    expect(await store.segment('etl')).toMatchObject({ description: 'the key’s', createdBy: 'etl-bot', createdByKind: 'apiKey', updatedByKind: 'apiKey' });
    const subject: Principal = { kind: 'jwt', name: `https://idp.example/${'s'.repeat(235)}` };
    await store.createSegment({ name: 'long', description: null, filter: { orders: { min: 1 } }, actor: subject });
    expect(await store.updateSegment({ name: 'long', description: 'whole', actor: subject, createdBy: subject })).toMatchObject({
      createdBy: subject.name,
      createdByKind: 'jwt',
    });
  });

  it('keeps the segments of a store migrated from before principal kinds, and attributes them from the config: an API key’s name to the key, any other to a token subject', async () => {
    await t.drop();
    t = await freshDatabase('bi_store');
    const names = MIGRATIONS.map(([n]) => n);
    const upTo = names.indexOf('20261206000200_principal_kinds');
    for (let i = 0; i < upTo; i++) await t.db.migrate.up(migratorConfig);
    const at = t.db.client.config.client === 'mysql2' ? new Date('2026-12-05T00:00:00Z') : '2026-12-05T00:00:00.000Z';
    const row = (name: string, by: string) => ({
      name,
      description: null,
      filter: '{"orders":{"min":1}}',
      size: 3,
      computed_at: null,
      created_by: by,
      updated_by: by,
      created_at: at,
      updated_at: at,
    });
    await t.db('c360_segments').insert([row('keys', 'etl-bot'), row('people', 'sso-user')]);
    // A steward's actor was cut at 64 characters where the database enforces it.
    await t.db('idmap_link_events').insert({ at, actor: 'user:alice', action: 'merge', reason: 'before' });

    await migrateLatest(t.db);
    const store = createBiStore(t.db);
    expect((await store.segments()).map((s) => [s.name, s.size, s.createdBy, s.createdByKind])).toEqual([
      ['keys', 3, 'etl-bot', null],
      ['people', 3, 'sso-user', null],
    ]);
    // Not yet attributed: nobody's but a role's that may change any.
    await expect(
      store.updateSegment({ name: 'keys', description: 'x', actor: { kind: 'apiKey', name: 'etl-bot' }, createdBy: { kind: 'apiKey', name: 'etl-bot' } }),
    ).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });

    // Without tokens configured only the key's is attributed; with them, the other too; a second start changes nothing.
    expect(await store.attributeSegments({ apiKeyNames: ['etl-bot'], tokens: false })).toBe(2);
    expect((await store.segments()).map((s) => [s.name, s.createdByKind, s.updatedByKind])).toEqual([
      ['keys', 'apiKey', 'apiKey'],
      ['people', null, null],
    ]);
    expect(await store.attributeSegments({ apiKeyNames: ['etl-bot'], tokens: true })).toBe(2);
    expect(await store.attributeSegments({ apiKeyNames: ['etl-bot', 'sso-user'], tokens: true })).toBe(0);
    expect((await store.segments()).map((s) => [s.name, s.createdByKind])).toEqual([
      ['keys', 'apiKey'],
      ['people', 'jwt'],
    ]);
    const token = { kind: 'jwt', name: 'etl-bot' } as const;
    await expect(store.deleteSegment('keys', token)).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(
      await store.updateSegment({ name: 'people', description: 'mine', actor: { kind: 'jwt', name: 'sso-user' }, createdBy: { kind: 'jwt', name: 'sso-user' } }),
    ).toMatchObject({
      description: 'mine',
    });

    // The widened columns hold what the old ones could not.
    const long = `user:${'p'.repeat(255)}`;
    await t.db('idmap_link_events').insert({ at, actor: long, action: 'merge', reason: 'after' });
    expect((await t.db('idmap_link_events').orderBy('id').select('actor')).map((r) => r.actor)).toEqual(['user:alice', long]);
  });

  it('counts a customer as having a phone only for a real one: a placeholder alone is none, an ended value none', async () => {
    const now = t.db.client.config.client === 'mysql2' ? new Date() : new Date().toISOString();
    const customer = (n: number) => `01C${String(n).padStart(23, '0')}`;
    await t.db('idmap_customers').insert([1, 2, 3, 4, 5].map((n) => ({ id: customer(n), status: 'active', merged_into: null, created_at: now, updated_at: now })));
    // 1: a real mobile; 2: only the hotline placeholder; 3: the placeholder and a real one; 4: only a real one that ended; 5: an email only.
    const carried: Array<[number, string, string, boolean]> = [
      [1, 'PHONE', '+8613912345678', true],
      [2, 'PHONE', '+8613800000000', true],
      [3, 'PHONE', '+8613800000000', true],
      [3, 'PHONE', '+8613712345678', true],
      [4, 'PHONE', '+8613612345678', false],
      [5, 'EMAIL', 'li.na@example.cn', true],
    ];
    await t.db('idmap_source_records').insert(carried.map(([n], i) => ({ source: 'crm', record_id: `C${i}`, customer_id: customer(n), pending: false })));
    await t
      .db('idmap_record_identifiers')
      .insert(
        carried.map(([, kind, value, current], i) => ({ source: 'crm', record_id: `C${i}`, kind, value, match_key: value, valid_from: now, valid_to: current ? null : now })),
      );
    const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));
    const store = createBiStore(t.db, (kind, value) => rules.blockedBy(kind, value) !== null);
    expect((await store.customersWithIdentifierKinds(['PHONE'])).sort()).toEqual([customer(1), customer(3)]);
    // Without the rules every current value counts, the placeholder with them.
    expect((await createBiStore(t.db).customersWithIdentifierKinds(['PHONE'])).sort()).toEqual([customer(1), customer(2), customer(3)]);
  });

  it('pages active customers by id, skips merged ones, and maps records to their customers in chunks', async () => {
    const now = t.db.client.config.client === 'mysql2' ? new Date() : new Date().toISOString();
    const ids = Array.from({ length: 2500 }, (_, i) => `01C${String(i).padStart(23, '0')}`);
    const rows = ids.map((id, i) => ({ id, status: i % 10 === 9 ? 'merged' : 'active', merged_into: i % 10 === 9 ? ids[i - 1] : null, created_at: now, updated_at: now }));
    for (let i = 0; i < rows.length; i += 500) await t.db('idmap_customers').insert(rows.slice(i, i + 500));
    const records = ids.filter((_, i) => i % 10 !== 9).map((id, i) => ({ source: 'crm', record_id: `C${String(i).padStart(7, '0')}`, customer_id: id, pending: false }));
    for (let i = 0; i < records.length; i += 500) await t.db('idmap_source_records').insert(records.slice(i, i + 500));
    const store = createBiStore(t.db);
    const active = ids.filter((_, i) => i % 10 !== 9);
    expect(await store.countActive()).toBe(active.length);
    const walked: string[] = [];
    for (let after: string | null = null; ;) {
      const page = await store.activeIdsAfter(after, 700);
      if (!page.length) break;
      walked.push(...page);
      after = page[page.length - 1];
    }
    expect(walked).toEqual(active);
    const owners = await store.customersOfRecords(
      'crm',
      records.map((r) => r.record_id),
    );
    expect(owners.size).toBe(records.length);
    expect(owners.get(records[1234].record_id)).toBe(records[1234].customer_id);
    expect((await store.activeAmong(ids.slice(0, 20))).size).toBe(18);
    expect((await store.recordCounts()).get('crm')).toBe(records.length);
  });
});

describe('OneID BI store on a SQLite file another process writes to', () => {
  // Whatever the test engine: the wait in question is SQLite's.
  let dir: string;
  let db: Knex;
  /** Another process's connection to the file, as a `c360 resolve` sharing the store has. */
  let other: Database.Database;
  beforeAll(async () => {
    dir = tempDir('bi-store-other-process');
    const filename = path.join(dir, 'oneid.db');
    db = openDatabase({ client: 'sqlite', filename });
    await migrateLatest(db);
    other = new Database(filename);
  });
  afterAll(async () => {
    other?.close();
    await db?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("saves a segment once that process's lock is free, without holding the event loop meanwhile", async () => {
    const store = createBiStore(db);
    other.exec('BEGIN IMMEDIATE');
    let settled = false;
    const made = store.createSegment({ name: 'while_locked', description: null, filter: { hasWechat: true }, actor: alice }).then(
      (s) => s.name,
      (e: { code?: string }) => e.code,
    );
    void made.finally(() => (settled = true));
    try {
      // Timers fire while the insert waits. Before, SQLite waited inside the call (busy_timeout,
      // 5 s) on the event loop, every other request with it, and then the insert failed.
      for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
      expect(settled).toBe(false);
    } finally {
      other.exec('COMMIT');
    }
    expect(await made).toBe('while_locked');
    other.exec('BEGIN IMMEDIATE');
    try {
      const noted = store.noteSegmentSize('while_locked', 7, '2026-12-01T10:00:00.000Z').then(() => 'noted');
      for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
      other.exec('COMMIT');
      expect(await noted).toBe('noted');
    } finally {
      if (other.inTransaction) other.exec('COMMIT');
    }
    expect(await store.segment('while_locked')).toMatchObject({ size: 7 });
  });
});
