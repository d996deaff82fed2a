/** Source records: `(source, record id)` belongs to at most one customer at a time. */
import type { Knex } from 'knex';
import { exactString, timeColumn } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_source_records', (t) => {
    t.comment('One row per record seen in a source, and the customer it belongs to now');
    exactString(knex, t, 'source', 16).notNullable().comment('crm | orders | support | scrm');
    exactString(knex, t, 'record_id', 64).notNullable().comment("the source's own key for the record");
    t.string('customer_id', 26).nullable().comment('owning customer (always active); null while awaiting resolution or once deleted');
    timeColumn(knex, t, 'source_updated_at').nullable().comment("the source's last update time, as last scanned (UTC)");
    timeColumn(knex, t, 'linked_at').nullable().comment('when the record was linked to its current customer (UTC)');
    t.boolean('pending').notNullable().defaultTo(false).comment('true while its identifiers changed and it awaits resolution');
    t.string('name_key', 20).nullable().comment('hash of the normalized name, for conflict checks only; null when unknown or not comparable');
    t.string('birthday_key', 20).nullable().comment('hash of the birthday, for conflict checks only');
    timeColumn(knex, t, 'deleted_at').nullable().comment('when the source reported the record deleted (UTC)');
    t.primary(['source', 'record_id'], 'idmap_source_records_pk');
    t.index(['customer_id'], 'idmap_source_records_customer_idx');
    t.index(['pending', 'source', 'record_id'], 'idmap_source_records_pending_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_source_records');
}
