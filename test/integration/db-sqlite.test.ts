import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db';
import { tempDir } from '../helpers/tmp';

/** The raw better-sqlite3 connection behind a knex SQLite instance (its pool holds exactly one). */
async function rawOf(db: Knex): Promise<{ prepare: (sql: string) => unknown }> {
  const conn = await db.client.acquireConnection();
  await db.client.releaseConnection(conn);
  return conn;
}

describe('SQLite connections (openDatabase)', () => {
  let dir: string;
  let db: Knex;
  beforeEach(async () => {
    dir = tempDir('db');
    db = openDatabase({ client: 'sqlite', filename: path.join(dir, 'x.sqlite') });
    await db.schema.createTable('t', (t) => {
      t.integer('id').primary();
      t.string('name');
    });
    await db('t').insert([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
  });
  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prepares a statement once and reuses it for the same SQL, with each call its own bindings', async () => {
    const raw = await rawOf(db);
    const sql = 'select name from t where id = ?';
    expect(raw.prepare(sql)).toBe(raw.prepare(sql));
    expect(await db.raw(sql, [1])).toEqual([{ name: 'a' }]);
    expect(await db.raw(sql, [2])).toEqual([{ name: 'b' }]);
    expect(await db('t').whereIn('id', [1, 2]).orderBy('id').pluck('name')).toEqual(['a', 'b']);
    expect(await db('t').whereIn('id', [2, 1]).orderBy('id', 'desc').pluck('name')).toEqual(['b', 'a']);
  });

  it('keeps only the most recently used statements', async () => {
    const raw = await rawOf(db);
    const first = raw.prepare('select 0 as n');
    for (let i = 1; i <= 200; i++) raw.prepare(`select ${i} as n`);
    expect(raw.prepare('select 200 as n')).toBe(raw.prepare('select 200 as n'));
    expect(raw.prepare('select 0 as n')).not.toBe(first);
  });

  it('answers a reused statement with the schema as it is now', async () => {
    expect(await db('t').where('id', 1).select('*')).toEqual([{ id: 1, name: 'a' }]);
    await db.schema.alterTable('t', (t) => t.string('city'));
    await db('t').where('id', 1).update({ city: 'Shanghai' });
    expect(await db('t').where('id', 1).select('*')).toEqual([{ id: 1, name: 'a', city: 'Shanghai' }]);
  });
});
