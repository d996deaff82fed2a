/**
 * The probabilistic tier compares where records live down to the street: a postcode and a
 * street address per record's features (null for sources that map neither).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_match_features', (t) => {
    t.string('postcode', 10).nullable().comment('postcode folded for comparison (upper-case, no spaces or dashes)');
    t.string('street', 128).nullable().comment('street address folded for comparison (lower-case words, street words abbreviated)');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_match_features', (t) => {
    t.dropColumn('postcode');
    t.dropColumn('street');
  });
}
