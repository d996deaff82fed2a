/**
 * The probabilistic tier's u counted on the store's own records (`probabilistic/store-chance.ts`):
 * one row per comparison level, with what it was counted on, so that later runs use the same
 * weights until the store has grown or shrunk enough to count again.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_match_chance', (t) => {
    t.comment('u per comparison level, counted on random pairs of the records in this store');
    t.string('comparison', 32).notNullable().comment('comparison name (name, birthday, place, ...)');
    t.string('level', 32).notNullable().comment('level of the comparison');
    t.double('u').notNullable().comment('share of random pairs of different people agreeing at this level');
    t.integer('pairs').notNullable().comment('random pairs drawn for the comparison (both sides known)');
    t.integer('hits').notNullable().comment('of them, pairs at this level (too few: the weights file u applies)');
    t.integer('records').notNullable().comment('records with features when counted');
    t.string('counted_at', 24).notNullable().comment('ISO time of the count');
    t.primary(['comparison', 'level'], 'idmap_match_chance_pk');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_match_chance');
}
