/**
 * The stand-in marketplace's store: what a Tmall/Taobao shop's data looks like behind the TOP
 * router, one table per TOP object (CRM member, trade, sub-order, refund). Money is kept as
 * TOP gives it (yuan strings with two decimals), times as unix milliseconds of whole seconds
 * (TOP's `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai is made by the server), ids as decimal text.
 */
import type { Knex } from 'knex';

/** Table → columns in insert order. */
export const TABLES = {
  /** The shop CRM's view of each buyer (taobao.crm.members.*): one row per buyer who ever traded. */
  tb_buyers: [
    'buyer_open_uid',
    'buyer_nick',
    'grade',
    'trade_count',
    'trade_amount',
    'first_trade_time',
    'last_trade_time',
    'join_time',
    'mobile',
    'relation_source',
    'modified',
  ],
  /** Trades (taobao.trades.sold.get): one per checkout. */
  tb_trades: ['tid', 'buyer_open_uid', 'status', 'payment', 'total_fee', 'post_fee', 'created', 'pay_time', 'end_time', 'modified', 'receiver_name', 'receiver_mobile'],
  /** Sub-orders (a trade's `orders.order`): one per item line. */
  tb_orders: ['oid', 'tid', 'title', 'outer_sku_id', 'cid', 'num', 'price', 'total_fee', 'payment', 'refund_id', 'refund_status'],
  /** Refunds (taobao.refunds.receive.get). */
  tb_refunds: ['refund_id', 'tid', 'oid', 'buyer_open_uid', 'refund_fee', 'reason', 'status', 'created', 'modified'],
} as const;

export async function createMarketplaceTables(db: Knex): Promise<void> {
  for (const t of ['tb_refunds', 'tb_orders', 'tb_trades', 'tb_buyers']) await db.schema.dropTableIfExists(t);
  await db.schema.createTable('tb_buyers', (t) => {
    t.string('buyer_open_uid', 64).primary().comment('Per-app opaque buyer id');
    t.string('buyer_nick', 64).nullable().comment('Masked by the platform: first and last character only');
    t.integer('grade').notNullable().comment('0 buyer, 1..4 member grades');
    t.integer('trade_count').notNullable();
    t.string('trade_amount', 24).notNullable().comment('Yuan, two decimals');
    t.bigInteger('first_trade_time').nullable();
    t.bigInteger('last_trade_time').nullable();
    t.bigInteger('join_time').nullable().comment('Joined the shop membership (会员通); null for plain buyers');
    t.string('mobile', 32).nullable().comment("Member's own mobile, shared with the brand on joining; null for non-members");
    t.integer('relation_source').notNullable().comment('1 traded, 3 joined the membership');
    t.bigInteger('modified').notNullable();
    t.index(['modified', 'buyer_open_uid'], 'tb_buyers_modified');
  });
  await db.schema.createTable('tb_trades', (t) => {
    t.string('tid', 20).primary();
    t.string('buyer_open_uid', 64).notNullable();
    t.string('status', 32).notNullable();
    t.string('payment', 24).notNullable().comment('Paid by the buyer, yuan');
    t.string('total_fee', 24).notNullable().comment('Goods at list price, yuan');
    t.string('post_fee', 24).notNullable();
    t.bigInteger('created').notNullable();
    t.bigInteger('pay_time').nullable();
    t.bigInteger('end_time').nullable();
    t.bigInteger('modified').notNullable();
    t.string('receiver_name', 64).nullable().comment('Masked');
    t.string('receiver_mobile', 32).nullable().comment('Mostly a privacy virtual number with extension, or masked');
    t.index(['buyer_open_uid', 'created'], 'tb_trades_buyer');
    t.index(['created', 'tid'], 'tb_trades_created');
  });
  await db.schema.createTable('tb_orders', (t) => {
    t.string('oid', 20).primary();
    t.string('tid', 20).notNullable();
    t.string('title', 128).notNullable();
    t.string('outer_sku_id', 64).nullable();
    t.integer('cid').notNullable();
    t.integer('num').notNullable();
    t.string('price', 24).notNullable();
    t.string('total_fee', 24).notNullable();
    t.string('payment', 24).notNullable();
    t.string('refund_id', 20).nullable();
    t.string('refund_status', 32).notNullable();
    t.index(['tid'], 'tb_orders_tid');
  });
  await db.schema.createTable('tb_refunds', (t) => {
    t.string('refund_id', 20).primary();
    t.string('tid', 20).notNullable();
    t.string('oid', 20).notNullable();
    t.string('buyer_open_uid', 64).notNullable();
    t.string('refund_fee', 24).notNullable();
    t.string('reason', 64).nullable();
    t.string('status', 32).notNullable();
    t.bigInteger('created').notNullable();
    t.bigInteger('modified').notNullable();
    t.index(['buyer_open_uid'], 'tb_refunds_buyer');
    t.index(['tid'], 'tb_refunds_tid');
  });
}
