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
import { MATCH_INDEX_COLUMNS as COVERING_MATCH, RECORD_INDEX_COLUMNS as COVERING_RECORD, recreate } from './20261202000100_covering_identifier_indexes';

export { MATCH_INDEX, RECORD_INDEX } from './20261202000100_covering_identifier_indexes';
export const MATCH_INDEX_COLUMNS = '(kind, match_key)';
export const RECORD_INDEX_COLUMNS = '(source, record_id)';

export const up = (knex: Knex) => recreate(knex, MATCH_INDEX_COLUMNS, RECORD_INDEX_COLUMNS);
export const down = (knex: Knex) => recreate(knex, COVERING_MATCH, COVERING_RECORD);
