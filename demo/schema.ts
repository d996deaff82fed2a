/**
 * The stand-in existing systems' own storage, as each system would have it.
 *
 * These tables belong to the *sources*, not to c360: the generator fills them, the demo
 * HTTP servers read the support and SCRM ones, and the SQL connectors query the CRM and
 * order ones. Formats are deliberately the systems' own (local-time strings in the CRM,
 * unix milliseconds and cents in the shop, unix seconds in the SCRM); the connectors
 * convert to c360's canonical vocabulary. The wire formats are in `demo/SOURCES.md`.
 *
 * Every function works on SQLite and MySQL/MariaDB through knex.
 */
import type { Knex } from 'knex';

export type SourceStore = 'crm' | 'orders' | 'support' | 'scrm';

async function recreate(db: Knex, table: string, build: (t: Knex.CreateTableBuilder) => void): Promise<void> {
  await db.schema.dropTableIfExists(table);
  await db.schema.createTable(table, build);
}

/** CRM: one row per contact; a person may have duplicate contacts. Times are Asia/Shanghai local strings. */
export async function createCrmTables(db: Knex): Promise<void> {
  await recreate(db, 'crm_tier_changes', (t) => {
    t.increments('change_id').primary();
    t.string('contact_id', 20).notNullable();
    t.string('from_tier', 16).nullable();
    t.string('to_tier', 16).notNullable();
    t.string('changed_at', 19).notNullable().comment('local time, YYYY-MM-DD HH:mm:ss, Asia/Shanghai');
    t.index(['contact_id'], 'crm_tier_changes_contact_idx');
  });
  await recreate(db, 'crm_contacts', (t) => {
    t.string('contact_id', 20).primary().comment('e.g. C0000001');
    t.string('name', 64).nullable();
    t.string('mobile', 32).nullable().comment('free text as typed: 138-0013-8000, +86 13800138000, 8613800138000');
    t.string('email', 128).nullable().comment('as typed, mixed case, sometimes padded');
    t.string('gender', 4).nullable().comment("M, F, 男, 女, or ''");
    t.string('birthday', 10).nullable().comment('YYYY-MM-DD');
    t.string('province', 32).nullable();
    t.string('city', 32).nullable();
    t.string('member_no', 20).nullable().comment('loyalty member number, M + 8 digits');
    t.string('tier', 16).nullable().comment('bronze | silver | gold | platinum');
    t.string('owner_rep', 32).nullable().comment('owning sales rep id');
    t.string('owner_team', 32).nullable().comment('owning sales team id');
    t.integer('sms_opt_in').nullable().comment('1 yes, 0 no, NULL unknown');
    t.integer('email_opt_in').nullable().comment('1 yes, 0 no, NULL unknown');
    t.string('created_at', 19).notNullable().comment('local time, YYYY-MM-DD HH:mm:ss, Asia/Shanghai');
    t.string('updated_at', 19).notNullable().comment('local time, YYYY-MM-DD HH:mm:ss, Asia/Shanghai');
    t.index(['updated_at', 'contact_id'], 'crm_contacts_updated_idx');
  });
}

/** Order system: shop accounts, orders, lines, refunds. Money in integer cents, times in unix milliseconds (UTC). */
export async function createOrderTables(db: Knex): Promise<void> {
  for (const t of ['refunds', 'order_lines', 'orders', 'shop_accounts']) await db.schema.dropTableIfExists(t);
  await db.schema.createTable('shop_accounts', (t) => {
    t.bigInteger('account_id').primary();
    t.string('mobile', 32).nullable().comment('usually 86 + 11 digits, no plus');
    t.string('member_no', 20).nullable();
    t.string('email', 128).nullable();
    t.string('channel', 16).notNullable().comment('tmall | jd | miniprogram | store');
    t.bigInteger('registered_at').notNullable().comment('unix ms');
    t.bigInteger('updated_at').notNullable().comment('unix ms');
    t.index(['updated_at', 'account_id'], 'shop_accounts_updated_idx');
  });
  await db.schema.createTable('orders', (t) => {
    t.bigInteger('order_id').primary();
    t.bigInteger('account_id').notNullable();
    t.string('status', 16).notNullable().comment('created | paid | shipped | completed | cancelled | refunded');
    t.string('channel', 16).notNullable();
    t.bigInteger('total_cents').notNullable();
    t.string('currency', 3).notNullable();
    t.bigInteger('placed_at').notNullable().comment('unix ms');
    t.bigInteger('paid_at').nullable().comment('unix ms');
    t.index(['account_id', 'placed_at'], 'orders_account_placed_idx');
  });
  await db.schema.createTable('order_lines', (t) => {
    t.bigInteger('line_id').primary();
    t.bigInteger('order_id').notNullable();
    t.string('sku', 32).notNullable();
    t.string('name', 128).notNullable();
    t.string('category', 32).notNullable();
    t.integer('qty').notNullable();
    t.bigInteger('unit_price_cents').notNullable();
    t.index(['order_id'], 'order_lines_order_idx');
  });
  await db.schema.createTable('refunds', (t) => {
    t.bigInteger('refund_id').primary();
    t.bigInteger('order_id').notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('reason', 64).nullable();
    t.bigInteger('refunded_at').notNullable().comment('unix ms');
    t.index(['order_id'], 'refunds_order_idx');
  });
}

/** Helpdesk store behind the support HTTP API (Zendesk-like). Times are ISO-8601 UTC strings. */
export async function createSupportTables(db: Knex): Promise<void> {
  for (const t of ['support_tickets', 'support_users']) await db.schema.dropTableIfExists(t);
  await db.schema.createTable('support_users', (t) => {
    t.bigInteger('id').primary();
    t.string('name', 64).nullable();
    t.string('email', 128).nullable();
    t.string('phone', 32).nullable();
    t.string('created_at', 20).notNullable();
    t.string('updated_at', 20).notNullable();
    t.boolean('active').notNullable().defaultTo(true).comment('false once deleted (Zendesk keeps a deleted user, inactive)');
    t.index(['updated_at', 'id'], 'support_users_updated_idx');
  });
  await db.schema.createTable('support_tickets', (t) => {
    t.bigInteger('id').primary();
    t.bigInteger('requester_id').notNullable();
    t.string('subject', 200).notNullable();
    t.string('status', 10).notNullable().comment('new | open | pending | hold | solved | closed');
    t.string('priority', 10).nullable().comment('low | normal | high | urgent');
    t.string('channel', 10).notNullable().comment('email | web | chat | phone | wechat');
    t.integer('satisfaction_score').nullable().comment('1..5, NULL when not rated');
    t.string('created_at', 20).notNullable();
    t.string('updated_at', 20).notNullable();
    t.string('solved_at', 20).nullable();
    t.index(['requester_id'], 'support_tickets_requester_idx');
  });
}

/** SCRM store behind the WeChat-style HTTP API. Times are unix seconds; coupon values are yuan strings. */
export async function createScrmTables(db: Knex): Promise<void> {
  for (const t of ['scrm_group_members', 'scrm_coupons', 'scrm_followers']) await db.schema.dropTableIfExists(t);
  await db.schema.createTable('scrm_followers', (t) => {
    t.string('openid', 64).primary();
    t.string('unionid', 64).nullable();
    t.string('nickname', 64).nullable();
    t.integer('sex').notNullable().comment('0 unknown, 1 male, 2 female');
    t.string('city', 32).nullable();
    t.string('province', 32).nullable();
    t.string('country', 32).nullable();
    t.integer('subscribe').notNullable().comment('1 following, 0 unfollowed');
    t.bigInteger('subscribe_time').nullable().comment('unix seconds');
    t.bigInteger('unsubscribe_time').nullable().comment('unix seconds');
    t.string('tagid_list', 200).notNullable().comment('comma-separated tag ids');
    t.string('bound_phone', 32).nullable().comment('phone the follower bound in the mini program, as entered');
    t.string('member_no', 20).nullable();
    t.bigInteger('updated_at').notNullable().comment('unix seconds');
    t.index(['updated_at', 'openid'], 'scrm_followers_updated_idx');
  });
  await db.schema.createTable('scrm_coupons', (t) => {
    t.string('coupon_id', 32).primary();
    t.string('openid', 64).notNullable();
    t.string('title', 64).notNullable();
    t.string('value', 16).notNullable().comment('yuan as a decimal string, e.g. "20.00"');
    t.string('status', 10).notNullable().comment('unused | used | expired');
    t.bigInteger('received_at').notNullable().comment('unix seconds');
    t.bigInteger('redeemed_at').nullable().comment('unix seconds');
    t.index(['openid'], 'scrm_coupons_openid_idx');
  });
  await db.schema.createTable('scrm_group_members', (t) => {
    t.increments('id').primary();
    t.string('openid', 64).notNullable();
    t.string('chat_id', 32).notNullable();
    t.string('chat_name', 64).notNullable();
    t.bigInteger('join_time').notNullable().comment('unix seconds');
    t.index(['openid'], 'scrm_group_members_openid_idx');
  });
}

export const createTables: Record<SourceStore, (db: Knex) => Promise<void>> = {
  crm: createCrmTables,
  orders: createOrderTables,
  support: createSupportTables,
  scrm: createScrmTables,
};
