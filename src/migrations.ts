/**
 * Runs a knex migrator's pending migrations safely when several processes start on one database.
 *
 * Several gateway replicas (and a `c360 resolve` job) start on one store at once. knex's own
 * bookkeeping does not stand that: two processes on an empty database both try to create its tables
 * (`Table 'idmap_migrations' already exists`), and a second process finding a migration under way
 * fails at once (`Migration table is already locked`) instead of waiting for it; a process killed
 * mid-migration leaves that lock set for good. On MySQL/MariaDB the migrations therefore run under
 * a named lock of the server's (GET_LOCK, held by a connection of its own and dropped with it if
 * the process dies): the others wait for it, then find nothing left to do; knex's lock row is
 * cleared first, since under the named lock a set one can only be a dead migrator's. SQLite (one
 * file, one process migrating it) runs knex's migrator as it is.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { isMysql } from './db';

/** How long a process waits for another one's migrations to finish (a large table's new index may take minutes). */
export const MIGRATION_WAIT_SECONDS = 600;

/** Another process held the migration lock for longer than we were willing to wait. */
export class MigrationBusyError extends Error {
  readonly code = 'MIGRATION_BUSY';
  constructor(table: string, waitedSeconds: number) {
    super(`another process has been running the migrations bookkept in ${table} for over ${waitedSeconds} s`);
    this.name = 'MigrationBusyError';
  }
}

/** Applies every pending migration of `config`; answers the names applied (empty when up to date, or when another process just applied them). */
export async function migrateLatestLocked(db: Knex, config: Knex.MigratorConfig, opts: { waitSeconds?: number } = {}): Promise<string[]> {
  const table = config.tableName ?? 'knex_migrations';
  return oneMigratorAtATime(db, table, opts.waitSeconds ?? MIGRATION_WAIT_SECONDS, async (exclusive) => {
    await refuseNewerStore(db, config, table);
    if (exclusive && (await knexLockSet(db, `${table}_lock`))) await db.migrate.forceFreeMigrationsLock(config);
    const [, names] = (await db.migrate.latest(config)) as [number, string[]];
    return names;
  });
}

/** The store holds migrations this version does not know: a newer version of c360 migrated it. */
export class NewerStoreError extends Error {
  readonly code = 'STORE_NEWER_THAN_GATEWAY';
  constructor(
    table: string,
    readonly unknown: readonly string[],
  ) {
    super(`a newer version of c360 migrated this database (${table} records ${unknown.join(', ')}, which this version does not know): run that version or a later one`);
    this.name = 'NewerStoreError';
  }
}

/**
 * During a rolling upgrade an old replica that restarts after a new one migrated the store would
 * fail on knex's check with "The migration directory is corrupt": say what happened instead.
 */
async function refuseNewerStore(db: Knex, config: Knex.MigratorConfig, table: string): Promise<void> {
  if (!config.migrationSource || !(await db.schema.hasTable(table))) return;
  const known = new Set((await config.migrationSource.getMigrations([])).map((m) => config.migrationSource!.getMigrationName(m)));
  const recorded: Array<{ name: string }> = await db(table).select('name');
  const unknown = recorded.map((r) => r.name).filter((name) => !known.has(name));
  if (unknown.length) throw new NewerStoreError(table, unknown);
}

/** Whether knex's lock row says a migration is under way. */
async function knexLockSet(db: Knex, lockTable: string): Promise<boolean> {
  if (!(await db.schema.hasTable(lockTable))) return false;
  return Boolean(await db(lockTable).where('is_locked', 1).first());
}

/**
 * Runs `job` holding the migration lock of `table` (MySQL/MariaDB; `exclusive` true), or as it is
 * where there is none to take (SQLite). The lock is named after the database and the table:
 * GET_LOCK names are server-wide, one server may hold several stores, and one database two migrators. It is held
 * by a connection of its own, outside the pool, so a pool of one still has its connection for the
 * migrations.
 */
async function oneMigratorAtATime<T>(db: Knex, table: string, waitSeconds: number, job: (exclusive: boolean) => Promise<T>): Promise<T> {
  if (!isMysql(db)) return job(false);
  type Raw = { query(sql: string, values: unknown[], cb: (err: Error | null, rows: unknown) => void): void };
  const client = db.client as { acquireRawConnection(): Promise<Raw>; destroyRawConnection(c: Raw): Promise<void> };
  const holder = await client.acquireRawConnection();
  const one = <R>(sql: string, values: unknown[]) =>
    new Promise<R>((resolve, reject) => holder.query(sql, values, (err, rows) => (err ? reject(err) : resolve((rows as R[])[0]))));
  try {
    const { database } = await one<{ database: string | null }>('SELECT DATABASE() AS `database`', []);
    const name = `c360_migrate_${crypto
      .createHash('sha256')
      .update(`${database ?? ''}\0${table}`)
      .digest('hex')
      .slice(0, 40)}`;
    const { got } = await one<{ got: number | null }>('SELECT GET_LOCK(?, ?) AS got', [name, waitSeconds]);
    if (got !== 1) throw new MigrationBusyError(table, waitSeconds);
    return await job(true);
  } finally {
    await client.destroyRawConnection(holder); // releases the lock with it
  }
}
