/**
 * The change feed's key: SSE event ids are positions in this store's link log, sealed with a key
 * the store keeps (src/feed/position.ts). Every replica and restart on the store reads the same
 * key, so an id resumes anywhere on it; an id from another store, or altered, does not open.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_feed_keys', (t) => {
    // No apostrophe: knex writes a table comment into the SQL unescaped, and MariaDB refused "feed's".
    t.comment('The change feed event-id key (one row)');
    t.string('name', 32).primary().comment('feed');
    t.string('secret', 64).notNullable().comment('hex, 32 random bytes: seals event ids; never leaves the store');
  });
  await knex('idmap_feed_keys').insert({ name: 'feed', secret: crypto.randomBytes(32).toString('hex') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_feed_keys');
}
