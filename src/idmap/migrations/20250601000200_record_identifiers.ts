/**
 * Identifiers seen on source records, with their validity in time. A record that stops
 * carrying a value keeps the row with `valid_to` set: identifiers are ended, never rewritten.
 */
import type { Knex } from 'knex';
import { exactString, timeColumn } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_record_identifiers', (t) => {
    t.comment('Identifier values carried by source records, current (valid_to null) and past');
    t.bigIncrements('id').primary().comment('row id');
    exactString(knex, t, 'source', 16).notNullable().comment('source of the carrying record');
    exactString(knex, t, 'record_id', 64).notNullable().comment('the carrying record');
    t.string('kind', 16).notNullable().comment('PHONE | EMAIL | OPENID | UNIONID | MEMBER_NO | DEVICE_ID');
    exactString(knex, t, 'value', 255).notNullable().comment('normalized value: E.164 phone, lower-case email, trimmed id');
    exactString(knex, t, 'match_key', 255).notNullable().comment('what resolution compares: the value, with email provider aliases folded');
    timeColumn(knex, t, 'valid_from').notNullable().comment('source time the record was first seen carrying it (UTC)');
    timeColumn(knex, t, 'valid_to').nullable().comment('source time it stopped carrying it (UTC); null while current');
    t.index(['kind', 'value'], 'idmap_identifiers_value_idx');
    t.index(['kind', 'match_key'], 'idmap_identifiers_match_idx');
    t.index(['source', 'record_id'], 'idmap_identifiers_record_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_record_identifiers');
}
