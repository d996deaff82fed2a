/**
 * When a claimed webhook event was applied (../webhook-events.ts): a claim without it is a
 * delivery still applying its events (a concurrent retry is told to come back, not that the
 * event was applied) or one that died or could not give its claim back (taken over once stale).
 * Rows from before this column were recorded only once applied.
 */
import type { Knex } from 'knex';
import { timeColumn } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_webhook_events', (t) => {
    timeColumn(knex, t, 'applied_at').nullable().comment('when its records were applied (UTC); null while a delivery is applying it');
  });
  await knex('idmap_webhook_events').update({ applied_at: knex.ref('received_at') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_webhook_events', (t) => {
    t.dropColumn('applied_at');
  });
}
