/**
 * Real databases for tests. `C360_TEST_DB` picks the engine for every database-backed test:
 * `sqlite` (default: a temp file per database) or `mariadb` (a fresh database per call on the
 * server at `C360_TEST_MYSQL_URL`, e.g. `mysql://root@127.0.0.1:3307/`). Under `CI=true` a
 * missing MariaDB is a failure, never a skip.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { tempDir } from './tmp';
import type { Knex } from 'knex';
import { openDatabase, type SqlConnection } from '../../src/db';

/** How long opening a MariaDB connection may take in tests (mysql2's own default: 10 s). */
const TEST_CONNECT_TIMEOUT_MS = 60_000;

export type TestEngine = 'sqlite' | 'mariadb';
export const testEngine: TestEngine = process.env.C360_TEST_DB === 'mariadb' ? 'mariadb' : 'sqlite';

export interface TestDatabase {
  /** The connection config to hand to c360 code (config, connectors, store). */
  connection: SqlConnection;
  /** An open knex on it, for seeding and assertions. */
  db: Knex;
  /** Closes `db` and removes the database. */
  drop(): Promise<void>;
}

const tmpRoot = tempDir('test');

/**
 * A new empty database on the selected engine. MariaDB databases are made with the binary
 * collation unless `collation` names another (a database made with the server's default,
 * `utf8mb4_general_ci`, compares text ignoring case); SQLite compares text byte for byte.
 */
export async function freshDatabase(label = 'db', opts: { collation?: string } = {}): Promise<TestDatabase> {
  const name = `c360_t_${label.replace(/\W/g, '_').slice(0, 20)}_${crypto.randomBytes(4).toString('hex')}`;
  if (testEngine === 'sqlite') {
    const filename = path.join(tmpRoot, `${name}.sqlite`);
    const connection: SqlConnection = { client: 'sqlite', filename };
    const db = openDatabase(connection);
    return {
      connection,
      db,
      drop: async () => {
        await db.destroy();
        for (const f of [filename, `${filename}-wal`, `${filename}-shm`]) fs.rmSync(f, { force: true });
      },
    };
  }
  const base = process.env.C360_TEST_MYSQL_URL;
  if (!base) throw new Error('C360_TEST_DB=mariadb needs C360_TEST_MYSQL_URL (e.g. mysql://root@127.0.0.1:3307/)');
  const admin = openDatabase({ client: 'mysql', url: base });
  try {
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE ??', [name, opts.collation ?? 'utf8mb4_bin']);
  } finally {
    await admin.destroy();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  // Deadlines for a loaded CI machine: a connection opened while a resolution holds the event loop
  // (the tier's first run, counting u) times out at mysql2's 10 s when the loop comes back to it
  // (connect ETIMEDOUT). In the URL, so every pool c360 opens on it (the gateway's, the sources',
  // the generator's) gets it too; mysql2 reads its options from the query string.
  url.searchParams.set('connectTimeout', String(TEST_CONNECT_TIMEOUT_MS));
  const connection: SqlConnection = { client: 'mysql', url: url.toString() };
  const db = openDatabase(connection, { connectTimeoutMs: TEST_CONNECT_TIMEOUT_MS, acquireTimeoutMs: 60_000 });
  return {
    connection,
    db,
    drop: async () => {
      await db.destroy();
      const a = openDatabase({ client: 'mysql', url: base });
      try {
        await a.raw('DROP DATABASE IF EXISTS ??', [name]);
      } finally {
        await a.destroy();
      }
    },
  };
}

/**
 * `it` for behaviour that exists on one engine only (e.g. server-side statement cancel on MariaDB).
 * CI runs the suite on both engines, so each such test runs exactly once there; on the other
 * engine it is not registered at all rather than reported as skipped.
 */
export function itOn(engine: TestEngine): jest.It {
  return (testEngine === engine ? it : () => undefined) as unknown as jest.It;
}

/** `describe` for a block whose tests and hooks exist on one engine only: on the other, nothing is registered (jest refuses hooks in a block without tests). */
export function describeOn(engine: TestEngine): jest.Describe {
  return (testEngine === engine ? describe : () => undefined) as unknown as jest.Describe;
}

export interface IssuedQuery {
  sql: string;
  bindings: readonly unknown[];
}

/** What `run` answers, and every statement it sent through `db` meanwhile, in order. */
export async function queriesDuring<T>(db: Knex, run: () => Promise<T>): Promise<{ result: T; queries: IssuedQuery[] }> {
  const queries: IssuedQuery[] = [];
  const listener = (q: IssuedQuery) => queries.push({ sql: q.sql, bindings: q.bindings });
  db.on('query', listener);
  try {
    return { result: await run(), queries };
  } finally {
    db.removeListener('query', listener);
  }
}

/** An index's columns in order on either engine; [] when the index does not exist. */
export async function indexColumns(db: Knex, table: string, index: string): Promise<string[]> {
  if (db.client.config.client === 'mysql2') {
    const rows: Array<{ name: string }> = await db('information_schema.statistics')
      .whereRaw('table_schema = DATABASE()')
      .where({ table_name: table, index_name: index })
      .orderBy('seq_in_index')
      .select({ name: 'column_name' });
    return rows.map((r) => r.name);
  }
  return ((await db.raw('SELECT name FROM pragma_index_info(?) ORDER BY seqno', [index])) as Array<{ name: string }>).map((c) => c.name);
}
