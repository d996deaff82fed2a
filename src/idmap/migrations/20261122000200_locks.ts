/** Leases that keep one resolution at a time per OneID store across processes (see lock.ts). */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_locks', (t) => {
    t.comment('Named leases: who holds each, and until when');
    t.string('name', 64).primary().comment('what the lease guards, e.g. resolution');
    t.string('holder', 128).notNullable().comment("host:pid:nonce of the holding process; '' when free");
    t.bigInteger('expires_at').notNullable().comment('unix ms after which the lease is free to take');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_locks');
}
