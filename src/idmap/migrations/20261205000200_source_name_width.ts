/**
 * Source columns as wide as a source name may be. Config allows names of up to 32 characters
 * (`SOURCE_NAME_PATTERN`, docs/sources.md), and the later tables keep 32, but the first four were
 * built with 16: on MySQL/MariaDB an instance named `orders_outlet_store` failed its first staging
 * with "Data too long for column 'source'" (and without strict mode would be cut to 16, merging two
 * such instances into one). SQLite does not enforce a VARCHAR's length: nothing changes there.
 */
import type { Knex } from 'knex';

/** Table → whether its `source` may be null. */
const COLUMNS: ReadonlyArray<readonly [string, boolean]> = [
  ['idmap_source_records', false],
  ['idmap_record_identifiers', false],
  ['idmap_link_events', true],
  ['idmap_scan_cursors', false],
];

async function width(knex: Knex, length: number): Promise<void> {
  if (knex.client.config.client !== 'mysql2') return;
  // The columns keep their exact (binary) collation and their keys; MODIFY restates the whole column.
  for (const [table, nullable] of COLUMNS)
    await knex.raw(`ALTER TABLE ?? MODIFY ?? VARCHAR(${length}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin ${nullable ? 'NULL' : 'NOT NULL'}`, [table, 'source']);
}

export async function up(knex: Knex): Promise<void> {
  await width(knex, 32);
}

export async function down(knex: Knex): Promise<void> {
  await width(knex, 16);
}
