/** Stewardship: links resolution refused to make (review candidates), and people's decisions on them. */
import type { Knex } from 'knex';
import { exactString, timeColumn } from './columns';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idmap_review_candidates', (t) => {
    t.comment('Would-be links resolution did not make on its own, for a person to review');
    t.increments('id').primary().comment('candidate id');
    t.string('dedupe_key', 128).notNullable().comment('reason, kind, value hash and customers: one candidate per finding');
    t.string('reason', 16).notNullable().comment('blocked | over_shared | conflict | orphan');
    t.string('status', 16).notNullable().comment('open | accepted | rejected');
    t.string('rule', 64).notNullable().comment('the rule that refused the link');
    t.string('kind', 16).nullable().comment('identifier kind involved');
    exactString(knex, t, 'value', 255).nullable().comment('normalized identifier value involved');
    t.string('customer_id', 26).nullable().comment('one customer involved');
    t.string('other_customer_id', 26).nullable().comment('the other customer involved, for a pair');
    t.text('evidence', 'mediumtext').nullable().comment('JSON: records and conflicting attributes');
    timeColumn(knex, t, 'created_at').notNullable().comment('when found (UTC)');
    timeColumn(knex, t, 'updated_at').notNullable().comment('last status change (UTC)');
    t.unique(['dedupe_key'], { indexName: 'idmap_candidates_dedupe_uq' });
    t.index(['status', 'id'], 'idmap_candidates_status_idx');
    t.index(['customer_id'], 'idmap_candidates_customer_idx');
    t.index(['other_customer_id'], 'idmap_candidates_other_idx');
  });
  await knex.schema.createTable('idmap_manual_decisions', (t) => {
    t.comment('Verdicts of data stewards on pairs of customers; resolution never links a pair judged different');
    t.increments('id').primary().comment('decision id');
    timeColumn(knex, t, 'at').notNullable().comment('when decided (UTC)');
    t.string('actor', 64).notNullable().comment('user:<login>');
    t.string('verdict', 16).notNullable().comment('same | different');
    t.string('customer_id', 26).notNullable().comment('one customer, as it was when decided');
    t.string('other_customer_id', 26).notNullable().comment('the other customer, as it was when decided');
    t.integer('candidate_id').nullable().comment('the review candidate it settles, if any');
    t.string('reason', 255).notNullable().comment('why');
    t.index(['customer_id'], 'idmap_decisions_customer_idx');
    t.index(['other_customer_id'], 'idmap_decisions_other_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idmap_manual_decisions');
  await knex.schema.dropTable('idmap_review_candidates');
}
