/**
 * Column builders the migrations share, where the engines differ.
 * A migration file, once applied, is never edited: change these only in ways that leave
 * the columns they already built unchanged.
 */
import type { Knex } from 'knex';

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2';

/** DATETIME(3) UTC on MySQL; ISO-8601 text on SQLite (which has no time type). */
export function timeColumn(knex: Knex, t: Knex.TableBuilder, name: string): Knex.ColumnBuilder {
  return isMysql(knex) ? t.datetime(name, { precision: 3 }) : t.string(name, 24);
}

/**
 * A string compared byte for byte (ids, identifier values): case-sensitive on every engine,
 * whatever the MySQL database's default collation is.
 */
export function exactString(knex: Knex, t: Knex.CreateTableBuilder, name: string, length: number): Knex.ColumnBuilder {
  const c = t.string(name, length);
  return isMysql(knex) ? c.collate('utf8mb4_bin') : c;
}
