/**
 * How a stand-in opens its own store: a SQLite file or a MySQL URL. The stand-ins are other
 * companies' systems, so they keep their own database code and import nothing of the gateway.
 */
import knex, { type Knex } from 'knex';

export type StoreConnection = { client: 'sqlite'; filename: string } | { client: 'mysql'; url: string; pool?: { min?: number; max?: number } };

export function openStore(c: StoreConnection): Knex {
  if (c.client === 'sqlite') {
    return knex({
      client: 'better-sqlite3',
      connection: { filename: c.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        // WAL lets the gateway's read-only connection read while the seeder or a test writes.
        afterCreate: (raw: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
          raw.pragma('journal_mode = WAL');
          raw.pragma('busy_timeout = 5000');
          done(null, raw);
        },
      },
    });
  }
  return knex({ client: 'mysql2', connection: { uri: c.url, timezone: 'Z', supportBigNumbers: true } as never, pool: { min: c.pool?.min ?? 0, max: c.pool?.max ?? 4 } });
}
