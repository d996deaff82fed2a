/**
 * Webhook event ids already applied, per source: a notification delivered again (a sender's
 * retry, or a replayed request inside the signature's tolerance window) is answered without
 * being applied twice. Rows older than the retention are pruned (see ../webhook-events.ts).
 */
import type { Knex } from 'knex';
import { exactString, timeColumn } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_webhook_events', (t) => {
    t.comment('Ids of webhook events applied, per source, kept for the retention window');
    exactString(knex, t, 'source', 32).notNullable().comment('the source instance that sent the event (its configured name)');
    exactString(knex, t, 'event_id', 128).notNullable().comment("the sender's id for the event, unique per source");
    timeColumn(knex, t, 'received_at').notNullable().comment('when the event was applied (UTC); pruning goes by it');
    t.primary(['source', 'event_id'], 'idmap_webhook_events_pk');
    t.index(['received_at'], 'idmap_webhook_events_received_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_webhook_events');
}
