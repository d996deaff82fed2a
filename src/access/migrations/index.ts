/**
 * The access module's migrations, listed in code (so ts-jest, tsx and compiled JS run the same
 * list) and bookkept in their own table, `c360_access_migrations`, so they never collide with
 * the OneID store's in the same database. Append new ones; never edit one that has been applied.
 */
import type { Knex } from 'knex';
import { migrateLatestLocked } from '../../migrations';
import * as accessAudit from './20261122000000_access_audit';
import * as auditExactText from './20261204000000_audit_exact_text';
import * as auditPrincipalWidth from './20261206000000_audit_principal_width';

export const ACCESS_MIGRATIONS: ReadonlyArray<readonly [string, Knex.Migration]> = [
  ['20261122000000_access_audit', accessAudit],
  ['20261204000000_audit_exact_text', auditExactText],
  ['20261206000000_audit_principal_width', auditPrincipalWidth],
];

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => ACCESS_MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = ACCESS_MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`access migration ${name} is recorded in the database but not listed in src/access/migrations/index.ts`);
    return found[1];
  },
};

export const accessMigratorConfig: Knex.MigratorConfig = { migrationSource: source, tableName: 'c360_access_migrations' };

/** Applies every pending access migration; answers the names applied (replicas starting at once: src/migrations.ts). */
export function migrateAccessLatest(db: Knex): Promise<string[]> {
  return migrateLatestLocked(db, accessMigratorConfig);
}

/** Reverts every access migration (tests, and a clean uninstall); answers the names reverted. */
export async function migrateAccessDown(db: Knex): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(accessMigratorConfig, true)) as [number, string[]];
  return reverted;
}
