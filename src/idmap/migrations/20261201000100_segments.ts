/** Segments: named, saved customer filters for BI lists and exports, evaluated on demand (src/bi/). */
import type { Knex } from 'knex';
import { exactString, timeColumn } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('c360_segments', (t) => {
    t.comment('Named, saved customer filters (BI segments); evaluated on demand, never a copy of the customers');
    exactString(knex, t, 'name', 64).primary().comment('the segment name, lower snake case, unique');
    t.string('description', 500).nullable().comment('what the segment is for');
    t.text('filter').notNullable().comment('the filter as JSON, in the grammar of docs/bi.md');
    t.integer('size').nullable().comment('customers matching when last evaluated');
    timeColumn(knex, t, 'computed_at').nullable().comment('when size was last computed (UTC)');
    t.string('created_by', 128).notNullable().comment('principal that created it (API key name or token subject)');
    t.string('updated_by', 128).notNullable().comment('principal of the last change');
    timeColumn(knex, t, 'created_at').notNullable().comment('creation time (UTC)');
    timeColumn(knex, t, 'updated_at').notNullable().comment('last change (UTC)');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('c360_segments');
}
