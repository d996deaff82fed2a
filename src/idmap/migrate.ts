/**
 * Runs the OneID migrations (listed in `migrations/index.ts`) on SQLite or MySQL/MariaDB.
 * The store keeps its own migration bookkeeping tables so it can share a database with others.
 * Replicas starting at once on one store: src/migrations.ts.
 */
import type { Knex } from 'knex';
import { migrateLatestLocked } from '../migrations';
import { MIGRATIONS } from './migrations';
import { finishIdentifierBulkLoad, forgetWholeIndexes } from './bulk-load';

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

/** Applies every pending migration; answers the names applied (empty when up to date, or when another process just applied them). */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const applied = await migrateLatestLocked(db, migratorConfig);
  forgetWholeIndexes(db); // read afresh at every start (bulk-load.ts)
  await finishIdentifierBulkLoad(db, false); // what a stopped first resolution left out (bulk-load.ts); one may be running elsewhere
  return applied;
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
