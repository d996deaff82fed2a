/**
 * Lookups by identifier go through `(kind, match_key)` (a value's match key is a function of
 * the value), so the `(kind, value)` index only cost writes: a third random-order B-tree
 * updated for every identifier the resolution job stages.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_record_identifiers', (t) => {
    t.dropIndex(['kind', 'value'], 'idmap_identifiers_value_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_record_identifiers', (t) => {
    t.index(['kind', 'value'], 'idmap_identifiers_value_idx');
  });
}
