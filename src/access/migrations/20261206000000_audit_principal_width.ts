/**
 * The audit's principal held whole: an OpenID Connect subject may have 255 characters, the column
 * held 200 and the writer cut longer ones there, so two subjects alike in their first 200 characters
 * were one principal to `auditLog(principal:)`. Tokens naming a principal over 255 characters are
 * refused at authentication (src/principal.ts). SQLite does not enforce a VARCHAR's length: nothing
 * changes there. On MySQL/MariaDB the length bytes stay two, so InnoDB widens the column in place.
 */
import type { Knex } from 'knex';

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2';

const column = (length: number) => `VARCHAR(${length}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'API key name or token subject'`;

export async function up(knex: Knex): Promise<void> {
  if (!isMysql(knex)) return;
  await knex.raw(`ALTER TABLE c360_access_audit MODIFY principal ${column(255)}`);
}

export async function down(knex: Knex): Promise<void> {
  if (!isMysql(knex)) return;
  await knex('c360_access_audit')
    .whereRaw('CHAR_LENGTH(principal) > 200')
    .update({ principal: knex.raw('LEFT(principal, 200)') });
  await knex.raw(`ALTER TABLE c360_access_audit MODIFY principal ${column(200)}`);
}
