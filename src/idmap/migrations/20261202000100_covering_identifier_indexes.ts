/**
 * SQLite: the identifiers' two indexes carry every column the link phase reads through them, so
 * a lookup by value (a batch's carriers) or by record (a batch's own identifiers, a customer's
 * records) answers from the index alone instead of fetching each row from the table, whose rows
 * lie in the order staging appended them: a random page per identifier once the store outgrows
 * its page cache. Measured on the million-record demo world's link phase alone
 * (`bench/link-phase.ts`): 181 -> 149 s of CPU, the same map. `id` follows the equality columns
 * so rows still come back per key in id order, as the narrow indexes answered them. MariaDB is
 * left as it is (InnoDB secondary indexes already hold the primary key; not measured there).
 * Undone by 20261202000200: measured again, alternating, the gain did not hold.
 */
import type { Knex } from 'knex';

export const MATCH_INDEX = 'idmap_identifiers_match_idx';
export const RECORD_INDEX = 'idmap_identifiers_record_idx';
export const MATCH_INDEX_COLUMNS = '(kind, match_key, valid_to, id, source, record_id, value)';
export const RECORD_INDEX_COLUMNS = '(source, record_id, valid_to, id, kind, value, match_key)';

/** Drops and builds the identifiers' value and record indexes with these columns (SQLite; MariaDB keeps its own). */
export async function recreate(knex: Knex, match: string, record: string): Promise<void> {
  if (knex.client.config.client === 'mysql2') return;
  await knex.raw('DROP INDEX IF EXISTS ??', [MATCH_INDEX]);
  await knex.raw(`CREATE INDEX ?? ON idmap_record_identifiers ${match}`, [MATCH_INDEX]);
  await knex.raw('DROP INDEX IF EXISTS ??', [RECORD_INDEX]);
  await knex.raw(`CREATE INDEX ?? ON idmap_record_identifiers ${record}`, [RECORD_INDEX]);
}

export const up = (knex: Knex) => recreate(knex, MATCH_INDEX_COLUMNS, RECORD_INDEX_COLUMNS);
export const down = (knex: Knex) => recreate(knex, '(kind, match_key)', '(source, record_id)');
