/**
 * A restage under way (`resolve --restage`): written with the reset of the scan cursors, removed
 * when the run that brought every record up to this version ends. A run stopped in between leaves
 * it, and the next plain run goes on restaging from the cursors the stopped one had reached instead
 * of reading on as if nothing were half done.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_restages', (t) => {
    t.comment('A restage under way: one row while it is, none otherwise');
    t.tinyint('id').notNullable().primary().comment('always 1: one row');
    t.string('started_at', 24).notNullable().comment('ISO time the restage began (its cursors were reset)');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_restages');
}
