/** The append-only link log: every create, link, merge, split, bind and decision, with why. */
import type { Knex } from 'knex';
import { exactString, timeColumn } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_link_events', (t) => {
    t.comment('Append-only log of identity changes; any merge can be explained and undone from it');
    t.bigIncrements('id').primary().comment('order of events');
    timeColumn(knex, t, 'at').notNullable().comment('when it happened (UTC)');
    t.string('actor', 64).notNullable().comment('rule:<name> or user:<login>');
    t.string('action', 16).notNullable().comment('create | link | unlink | merge | split | bind | unbind | candidate | decision');
    t.string('customer_id', 26).nullable().comment('customer acted on (the survivor of a merge)');
    t.string('other_customer_id', 26).nullable().comment('the other customer: merged away, split off, or compared with');
    exactString(knex, t, 'source', 16).nullable().comment('source record involved, if one');
    exactString(knex, t, 'record_id', 64).nullable().comment('source record involved, if one');
    t.string('reason', 255).notNullable().comment('human-readable why');
    t.text('evidence', 'mediumtext').nullable().comment('JSON: identifier kind and value, records compared, conflicts found');
    t.index(['customer_id', 'id'], 'idmap_link_events_customer_idx');
    t.index(['other_customer_id', 'id'], 'idmap_link_events_other_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_link_events');
}
