/**
 * Runs the OneID migrations (listed in `migrations/index.ts`) on SQLite or MySQL/MariaDB.
 * The store keeps its own migration bookkeeping tables so it can share a database with others.
 *
 * Several gateway replicas (and a `c360 resolve` job) start on one store at once. knex's own
 * bookkeeping does not stand that: two processes on an empty store both try to create its tables
 * (`Table 'idmap_migrations' already exists`), and a second process finding a migration under way
 * fails at once (`Migration table is already locked`) instead of waiting for it; a process killed
 * mid-migration leaves that lock set for good. On MySQL/MariaDB the migrations therefore run under
 * a named lock of the server's (GET_LOCK, held by one connection and dropped with it if the
 * process dies): the others wait for it, then find nothing left to do, and knex's lock row is
 * cleared first, since under the named lock a set one can only be a dead migrator's.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { isMysql } from '../db';
import { MIGRATIONS } from './migrations';
import { finishIdentifierBulkLoad } from './bulk-load';

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`OneID migration ${name} is recorded in the database but not listed in migrations/index.ts`);
    return found[1];
  },
};

/** Migrator settings, for callers that step one migration at a time (`db.migrate.up(migratorConfig)`). */
export const migratorConfig: Knex.MigratorConfig = { migrationSource: source, tableName: 'idmap_migrations' };

/** How long a process waits for another one's migrations to finish (a large table's new index may take minutes). */
export const MIGRATION_WAIT_SECONDS = 600;

/** Another process held the store's migration lock for longer than we were willing to wait. */
export class MigrationBusyError extends Error {
  readonly code = 'MIGRATION_BUSY';
  constructor(waitedSeconds: number) {
    super(`another process has been migrating the OneID store for over ${waitedSeconds} s`);
    this.name = 'MigrationBusyError';
  }
}

/** Applies every pending migration; answers the names applied (empty when up to date, or when another process just applied them). */
export async function migrateLatest(db: Knex, opts: { waitSeconds?: number } = {}): Promise<string[]> {
  const applied = await oneMigratorAtATime(db, opts.waitSeconds ?? MIGRATION_WAIT_SECONDS, async (exclusive) => {
    if (exclusive && (await knexLockSet(db))) await db.migrate.forceFreeMigrationsLock(migratorConfig);
    const [, names] = (await db.migrate.latest(migratorConfig)) as [number, string[]];
    return names;
  });
  await finishIdentifierBulkLoad(db, false); // what a stopped first resolution left out (bulk-load.ts); one may be running elsewhere
  return applied;
}

/** Whether knex's lock row says a migration is under way. */
async function knexLockSet(db: Knex): Promise<boolean> {
  const table = `${migratorConfig.tableName}_lock`;
  if (!(await db.schema.hasTable(table))) return false;
  return Boolean(await db(table).where('is_locked', 1).first());
}

/**
 * Runs `job` holding the store's migration lock (MySQL/MariaDB; `exclusive` true), or as it is
 * where there is none to take (SQLite: one file, one process migrating it). The lock's name is the
 * database's: GET_LOCK names are server-wide, and one server may hold several stores. It is held
 * by a connection of its own, outside the pool, so a pool of one still has its connection for the
 * migrations.
 */
async function oneMigratorAtATime<T>(db: Knex, waitSeconds: number, job: (exclusive: boolean) => Promise<T>): Promise<T> {
  if (!isMysql(db)) return job(false);
  type Raw = { query(sql: string, values: unknown[], cb: (err: Error | null, rows: unknown) => void): void };
  const client = db.client as { acquireRawConnection(): Promise<Raw>; destroyRawConnection(c: Raw): Promise<void> };
  const holder = await client.acquireRawConnection();
  const one = <R>(sql: string, values: unknown[]) =>
    new Promise<R>((resolve, reject) => holder.query(sql, values, (err, rows) => (err ? reject(err) : resolve((rows as R[])[0]))));
  try {
    const { database } = await one<{ database: string | null }>('SELECT DATABASE() AS `database`', []);
    const name = `c360_oneid_migrate_${crypto
      .createHash('sha256')
      .update(database ?? '')
      .digest('hex')
      .slice(0, 40)}`;
    const { got } = await one<{ got: number | null }>('SELECT GET_LOCK(?, ?) AS got', [name, waitSeconds]);
    if (got !== 1) throw new MigrationBusyError(waitSeconds);
    return await job(true);
  } finally {
    await client.destroyRawConnection(holder); // releases the lock with it
  }
}

/** Reverts the last batch, or every migration with `{ all: true }`; answers the names reverted. */
export async function migrateDown(db: Knex, opts: { all?: boolean } = {}): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(migratorConfig, opts.all ?? false)) as [number, string[]];
  return reverted;
}

/** Names of the migrations applied so far, oldest first. */
export async function appliedMigrations(db: Knex): Promise<string[]> {
  const [done] = (await db.migrate.list(migratorConfig)) as [Array<{ name: string } | string>, unknown];
  return done.map((m) => (typeof m === 'string' ? m : m.name));
}
