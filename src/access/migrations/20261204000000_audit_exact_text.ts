/**
 * The audit's principal, customer and request ids compared byte for byte on MySQL/MariaDB, as on
 * SQLite. The first migration left them to the database's default collation: under a
 * case-insensitive one (`utf8mb4_general_ci`, MariaDB's default), `auditLog(principal: "alice")`
 * also listed what a principal named `Alice` read, attributing one key's reads to another.
 * The change rebuilds the table (and its two indexes on these columns) once, when the gateway
 * first starts on this version: on an audit of millions of rows, a matter of minutes.
 */
import type { Knex } from 'knex';

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2';

const COLUMNS = [
  ['request_id', 'VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL', 'the request id, to join with the gateway logs'],
  ['principal', 'VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL', 'API key name or token subject'],
  ['customer_id', 'VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL', 'the customer whose personal fields were returned; null when not under a customer'],
] as const;

export async function up(knex: Knex): Promise<void> {
  // SQLite compares text byte for byte already.
  if (!isMysql(knex)) return;
  // One statement, one table rebuild. The comments are repeated: MODIFY redefines the whole column.
  const modify = COLUMNS.map(([name, type, comment]) => `MODIFY ${name} ${type} COMMENT '${comment}'`).join(', ');
  await knex.raw(`ALTER TABLE c360_access_audit ${modify}`);
}

export async function down(knex: Knex): Promise<void> {
  if (!isMysql(knex)) return;
  const modify = COLUMNS.map(([name, type, comment]) => `MODIFY ${name} ${type.replace(' CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', '')} COMMENT '${comment}'`).join(', ');
  await knex.raw(`ALTER TABLE c360_access_audit ${modify}`);
}
