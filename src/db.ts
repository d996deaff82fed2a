/**
 * One way to open a SQL database, for the OneID store and the SQL source connectors alike.
 * SQLite (better-sqlite3, the embedded default) or MySQL/MariaDB (mysql2), chosen by config.
 * Secrets never live in config files: a MySQL URL comes from the environment (see config.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';

export type SqlConnection =
  | { client: 'sqlite'; filename: string }
  | { client: 'mysql'; url: string; pool?: { min?: number; max?: number } };

export function isMysql(db: Knex): boolean {
  return db.client.config.client === 'mysql2';
}

/** Opens a knex instance. SQLite files get WAL and a busy timeout so readers and one writer coexist. */
export function openDatabase(conn: SqlConnection): Knex {
  if (conn.client === 'sqlite') {
    if (conn.filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(conn.filename)), { recursive: true });
    return knex({
      client: 'better-sqlite3',
      connection: { filename: conn.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate: (raw: any, done: (err: Error | null, c: unknown) => void) => {
          try {
            raw.pragma('journal_mode = WAL');
            raw.pragma('busy_timeout = 5000');
            raw.pragma('synchronous = NORMAL');
            done(null, raw);
          } catch (e) {
            done(e as Error, raw);
          }
        },
      },
    });
  }
  return knex({
    client: 'mysql2',
    connection: {
      uri: conn.url,
      charset: 'utf8mb4',
      timezone: 'Z',
      // BIGINT/DECIMAL arrive as JS numbers when they fit; ids and money here stay well inside 2^53.
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: true,
    } as any,
    pool: { min: conn.pool?.min ?? 0, max: conn.pool?.max ?? 10 },
  });
}

/** Largest `IN (…)` list to send in one statement; well under MySQL's 65,535 placeholders and SQLite's 32,766. */
export const MAX_IN_LIST = 1000;
