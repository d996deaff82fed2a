/**
 * The personal-data access audit: one row per (response, customer) that returned personal
 * fields unmasked. Names only (`CrmContact.phone`), never values. Append-only.
 */
import type { Knex } from 'knex';

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('c360_access_audit', (t) => {
    t.comment('Who read which personal fields of which customer, when; no personal values');
    t.string('id', 26).primary().comment('ULID: unique, sortable by write time');
    // DATETIME(3) UTC on MySQL; ISO-8601 text on SQLite (which has no time type).
    (isMysql(knex) ? t.datetime('at', { precision: 3 }) : t.string('at', 24)).notNullable().comment('when the response was sent (UTC)');
    t.string('request_id', 64).notNullable().comment('the request id, to join with the gateway logs');
    t.string('principal', 200).notNullable().comment('API key name or token subject');
    t.string('principal_kind', 16).nullable().comment('apiKey | jwt; null for built-in viewers');
    t.string('role', 64).notNullable().comment('the role the request ran as');
    t.string('operation_name', 200).nullable().comment('the GraphQL operation name, if the client gave one');
    t.string('customer_id', 64).nullable().comment('the customer whose personal fields were returned; null when not under a customer');
    t.text('fields').notNullable().comment('JSON array of Type.field names returned unmasked, sorted');
    t.index(['customer_id', 'at'], 'c360_access_audit_customer_idx');
    t.index(['principal', 'at'], 'c360_access_audit_principal_idx');
    t.index(['at'], 'c360_access_audit_at_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('c360_access_audit');
}
