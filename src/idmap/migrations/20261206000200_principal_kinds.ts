/**
 * Principals recorded whole, with their kind. A segment recorded only the name of the principal that
 * made it, in VARCHAR(128) under the database's default collation, and its owner was whoever bore that
 * name: a token whose subject was an API key's name (or, on MySQL/MariaDB's case- and trailing-space-
 * insensitive default, `Test-Marketing` or `test-marketing ` against `test-marketing`) changed and
 * deleted that key's segments, and a subject over 128 characters could not save one (MySQL refused the
 * row). Now each segment records the kind of its creator and of its last writer beside their names,
 * names of up to 255 characters compared byte for byte. A steward's actor was `user:<principal>`, cut
 * at 64 characters in the link log and the decisions; it is now `user:<kind>:<principal>`
 * (`user:apiKey:…`, `user:jwt:…`, src/idmap/stewardship.ts), held whole.
 *
 * Rows written before keep their names; their kind is null until the gateway attributes them from its
 * config at start (src/idmap/bi-store.ts, `attributeSegments`). SQLite neither enforces a VARCHAR's
 * length nor compares text but byte for byte: there only the kind columns are added. On MySQL/MariaDB
 * the widening keeps each column's length bytes (two already), so InnoDB does it in place, without
 * copying the link log.
 */
import type { Knex } from 'knex';

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2';

/** `user:apiKey:` and a principal of 255 characters, with room to spare. */
const ACTOR_WIDTH = 300;

const ACTORS = [
  ['idmap_link_events', 'rule:<name>, or a person: user:apiKey:<name> or user:jwt:<subject> (user:<name> before 2026-12-06)'],
  ['idmap_manual_decisions', 'user:apiKey:<name> or user:jwt:<subject> (user:<name> before 2026-12-06)'],
] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('c360_segments', (t) => {
    t.string('created_by_kind', 16).nullable().comment('apiKey | jwt: how its creator authenticated; null for rows from before kinds were recorded, not yet attributed');
    t.string('updated_by_kind', 16).nullable().comment('apiKey | jwt: how its last writer authenticated; null as created_by_kind');
  });
  if (!isMysql(knex)) return;
  await knex.raw(
    `ALTER TABLE c360_segments
       MODIFY created_by VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'principal that created it (API key name or token subject), compared byte for byte',
       MODIFY updated_by VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'principal of the last change'`,
  );
  for (const [table, comment] of ACTORS) await knex.raw(`ALTER TABLE ?? MODIFY actor VARCHAR(${ACTOR_WIDTH}) NOT NULL COMMENT '${comment}'`, [table]);
}

export async function down(knex: Knex): Promise<void> {
  if (isMysql(knex)) {
    // Back to the old widths: a longer value stored meanwhile would be refused (strict mode), so cut it as the old code did.
    for (const [table, comment] of ACTORS) {
      await knex(table)
        .whereRaw('CHAR_LENGTH(actor) > 64')
        .update({ actor: knex.raw('LEFT(actor, 64)') });
      await knex.raw(`ALTER TABLE ?? MODIFY actor VARCHAR(64) NOT NULL COMMENT '${comment}'`, [table]);
    }
    await knex('c360_segments')
      .whereRaw('CHAR_LENGTH(created_by) > 128')
      .update({ created_by: knex.raw('LEFT(created_by, 128)') });
    await knex('c360_segments')
      .whereRaw('CHAR_LENGTH(updated_by) > 128')
      .update({ updated_by: knex.raw('LEFT(updated_by, 128)') });
    await knex.raw(
      `ALTER TABLE c360_segments
         MODIFY created_by VARCHAR(128) NOT NULL COMMENT 'principal that created it (API key name or token subject)',
         MODIFY updated_by VARCHAR(128) NOT NULL COMMENT 'principal of the last change'`,
    );
  }
  await knex.schema.alterTable('c360_segments', (t) => {
    t.dropColumn('created_by_kind');
    t.dropColumn('updated_by_kind');
  });
}
