/** Where each source's identity feed was read up to: resolution resumes here. */
import type { Knex } from 'knex';
import { exactString, timeColumn } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_scan_cursors', (t) => {
    t.comment('Resume point of each source scan, saved with the page it follows');
    exactString(knex, t, 'source', 16).primary().comment('crm | orders | support | scrm');
    t.text('cursor').nullable().comment("the connector's opaque cursor after the last applied page");
    timeColumn(knex, t, 'updated_at').notNullable().comment('when it was saved (UTC)');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_scan_cursors');
}
