/**
 * SQLite only: source records become a WITHOUT ROWID table, stored in `(source, record_id)`
 * order, as InnoDB already stores them on MySQL/MariaDB.
 *
 * Linking walks pending records in record-id order. In a rowid table their rows, and their
 * entries in the customer index while still unlinked, sit in the order they were scanned, so
 * every record linked dirtied two random pages; clustered by key, linking a batch touches
 * neighbouring pages. At a million records that was most of the link phase's write volume.
 * MySQL/MariaDB have no partial indexes and already cluster by key: nothing changes there.
 */
import type { Knex } from 'knex';

const TABLE = 'idmap_source_records';
const INDEXES = [
  'CREATE INDEX `idmap_source_records_customer_idx` on `idmap_source_records` (`customer_id`)',
  'CREATE INDEX `idmap_source_records_pending_idx` on `idmap_source_records` (`pending`, `source`, `record_id`)',
];
/**
 * The same two indexes, partial: reads only ever look up records of a customer (`customer_id =
 * / IN`, which implies NOT NULL) and records still pending (`pending = 1`), so unlinked and
 * settled records need no entries, and staging or linking a record moves none.
 */
const PARTIAL_INDEXES = [
  'CREATE INDEX `idmap_source_records_customer_idx` on `idmap_source_records` (`customer_id`) WHERE `customer_id` IS NOT NULL',
  // Covering what the job reads of a pending record, so the planner prefers it to walking the
  // primary key (which would visit every settled record too).
  'CREATE INDEX `idmap_source_records_pending_idx` on `idmap_source_records` (`pending`, `source`, `record_id`, `customer_id`, `name_key`, `birthday_key`) WHERE `pending` = 1',
];

/** Rebuilds the table from its own DDL, with or without rowids, keeping every row and index. */
async function rebuild(knex: Knex, withoutRowid: boolean): Promise<void> {
  if (knex.client.config.client === 'mysql2') return;
  const row = await knex('sqlite_master').where({ type: 'table', name: TABLE }).first('sql');
  const ddl = String(row.sql).replace(/\s*WITHOUT ROWID\s*$/i, '');
  const tmp = `${TABLE}_rebuild`;
  const create = ddl.replace(/^CREATE TABLE\s+[`"]?idmap_source_records[`"]?/i, `CREATE TABLE \`${tmp}\``);
  if (create === ddl) throw new Error(`Unexpected DDL for ${TABLE}: ${ddl}`);
  await knex.raw(withoutRowid ? `${create} WITHOUT ROWID` : create);
  await knex.raw(`INSERT INTO \`${tmp}\` SELECT * FROM \`${TABLE}\``);
  await knex.raw(`DROP TABLE \`${TABLE}\``);
  await knex.raw(`ALTER TABLE \`${tmp}\` RENAME TO \`${TABLE}\``);
  for (const sql of withoutRowid ? PARTIAL_INDEXES : INDEXES) await knex.raw(sql);
}

export async function up(knex: Knex): Promise<void> {
  await rebuild(knex, true);
}

export async function down(knex: Knex): Promise<void> {
  await rebuild(knex, false);
}
