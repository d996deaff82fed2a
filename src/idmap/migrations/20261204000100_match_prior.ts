/**
 * The probabilistic tier's prior counted on the store (`probabilistic/prior.ts`): the share of
 * matches among all pairs of its records, counted with u (`idmap_match_chance`) and kept while u is.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_match_prior', (t) => {
    t.comment('the share of matches among all pairs of records in this store, counted with idmap_match_chance');
    t.tinyint('id').notNullable().primary().comment('always 1: one row');
    t.double('lambda').nullable().comment('matches over all pairs; null when too few matches were found to count (the weights file prior applies)');
    t.integer('pairs').notNullable().comment('pairs of the sampled records the blocks compared');
    t.double('matches').notNullable().comment('matches EM expects among those pairs');
    t.integer('sample').notNullable().comment('records sampled');
    t.integer('records').notNullable().comment('records with features when counted');
    t.string('counted_at', 24).notNullable().comment('ISO time of the count');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_match_prior');
}
