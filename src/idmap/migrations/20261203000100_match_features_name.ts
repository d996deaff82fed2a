/**
 * The probabilistic tier weighs an exact name by how many records carry it as written: counted
 * through an index on the features' name.
 */
import type { Knex } from 'knex';

export const FEATURES_NAME_INDEX = 'idmap_match_features_name_idx';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_match_features', (t) => {
    t.index(['name'], FEATURES_NAME_INDEX);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_match_features', (t) => {
    t.dropIndex(['name'], FEATURES_NAME_INDEX);
  });
}
