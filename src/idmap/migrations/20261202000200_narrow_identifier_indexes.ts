/**
 * SQLite: the identifiers' indexes back to the two columns of migration 20250601000200.
 * Migration 20261202000100 made them cover the link phase's reads on one pair of runs that did
 * not hold up: measured again, alternating on the million-record world's link phase alone
 * (`bench/link-phase.ts`, the same code, load 1.3-1.8), narrow 133.5 and 138.7 s (144.5 and
 * 151.5 s CPU) against covering 144.3 and 122.1 s (158.6 and 135.5 s CPU): no difference beyond
 * the machine's spread, for a store 146 MB larger and longer index builds after a first load.
 * Migrations are append-only, so this one undoes it. MariaDB was never changed.
 */
import type { Knex } from 'knex';

export const MATCH_INDEX = 'idmap_identifiers_match_idx';
export const RECORD_INDEX = 'idmap_identifiers_record_idx';
export const MATCH_INDEX_COLUMNS = '(kind, match_key)';
export const RECORD_INDEX_COLUMNS = '(source, record_id)';

async function recreate(knex: Knex, match: string, record: string): Promise<void> {
  if (knex.client.config.client === 'mysql2') return;
  await knex.raw('DROP INDEX IF EXISTS ??', [MATCH_INDEX]);
  await knex.raw(`CREATE INDEX ?? ON idmap_record_identifiers ${match}`, [MATCH_INDEX]);
  await knex.raw('DROP INDEX IF EXISTS ??', [RECORD_INDEX]);
  await knex.raw(`CREATE INDEX ?? ON idmap_record_identifiers ${record}`, [RECORD_INDEX]);
}

export const up = (knex: Knex) => recreate(knex, MATCH_INDEX_COLUMNS, RECORD_INDEX_COLUMNS);
export const down = (knex: Knex) => recreate(knex, '(kind, match_key, valid_to, id, source, record_id, value)', '(source, record_id, valid_to, id, kind, value, match_key)');
