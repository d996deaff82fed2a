/**
 * The probabilistic tier's inputs: per source record, the comparable form of its name,
 * birthday, gender and place, and the identifier values it holds with their periods; and the
 * hashed block keys that decide which records are compared at all.
 */
import type { Knex } from 'knex';
import { exactString } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_match_features', (t) => {
    t.comment('What the probabilistic tier compares about each live source record');
    exactString(knex, t, 'source', 32).notNullable().comment('source instance name');
    exactString(knex, t, 'record_id', 64).notNullable().comment("the source's own key for the record");
    t.string('name', 128).nullable().comment('name folded for comparison (Han characters, or lower-case Latin words); null when unknown');
    t.string('name_alt', 255).nullable().comment('toneless pinyin of a Han name, surname first');
    t.string('birth', 10).nullable().comment('YYYY-MM-DD, or YYYY when only the year is known');
    t.string('gender', 1).nullable().comment('M | F');
    t.string('city', 64).nullable().comment('city folded for comparison');
    t.string('province', 64).nullable().comment('province folded for comparison');
    t.string('country', 2).nullable().comment('ISO 3166 alpha-2');
    t.text('held').nullable().comment('JSON: identifier values compared, with the period each was held');
    t.boolean('scored').notNullable().defaultTo(false).comment('false while the record waits to be compared by the probabilistic tier');
    t.primary(['source', 'record_id'], 'idmap_match_features_pk');
    t.index(['scored', 'source', 'record_id'], 'idmap_match_features_scored_idx');
  });
  await knex.schema.createTable('idmap_match_blocks', (t) => {
    t.comment('Block keys (hashed): the probabilistic tier compares two records only when they share one');
    t.string('block_key', 16).notNullable().comment('hash of the block (birthday and initial, name, identifier, email local part)');
    exactString(knex, t, 'source', 32).notNullable().comment('source instance name');
    exactString(knex, t, 'record_id', 64).notNullable().comment("the source's own key for the record");
    t.primary(['block_key', 'source', 'record_id'], 'idmap_match_blocks_pk');
    t.index(['source', 'record_id'], 'idmap_match_blocks_record_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_match_blocks');
  await knex.schema.dropTable('idmap_match_features');
}
