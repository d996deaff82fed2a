/** OneID customers: the unified id every source record hangs off. Ids are never reused or deleted. */
import type { Knex } from 'knex';
import { timeColumn } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_customers', (t) => {
    t.comment('OneID customers: one row per unified id, active or merged into another');
    t.string('id', 26).primary().comment('ULID: opaque, stable, sortable by creation time');
    t.string('status', 8).notNullable().comment('active | merged');
    t.string('merged_into', 26).nullable().comment('the surviving customer when status = merged; always an active one');
    timeColumn(knex, t, 'created_at').notNullable().comment('when the customer was created (UTC)');
    timeColumn(knex, t, 'updated_at').notNullable().comment('last status change (UTC)');
    t.index(['merged_into'], 'idmap_customers_merged_into_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_customers');
}
