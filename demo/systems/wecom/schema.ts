/**
 * The WeCom stand-in's SQLite store: what WeCom keeps about the corp's external contacts, in
 * WeCom's own shapes (unix seconds, 0/1/2 gender, JSON lists as the API returns them).
 *
 *   wecom_contacts   one row per external contact (the OneID record: external_userid)
 *   wecom_follows    one row per (contact, staff member): that staff member's remark, notes, tags
 *   wecom_staff      reference: staff with customer-contact permission (filled here, not per person)
 *   wecom_tags       reference: the corp's tag catalogue (filled here, not per person)
 */
import type { Knex } from 'knex';
import { STAFF, TAGS } from './rows';

/** The per-person tables, columns in insert order. */
export const TABLES = {
  wecom_contacts: ['external_userid', 'name', 'type', 'gender', 'unionid', 'avatar', 'corp_name'],
  wecom_follows: ['external_userid', 'userid', 'remark', 'description', 'createtime', 'tag_ids', 'remark_corp_name', 'remark_mobiles', 'add_way', 'oper_userid', 'state'],
} as const;

/** Creates (replacing) the tables and fills the reference ones. */
export async function createTables(db: Knex): Promise<void> {
  for (const t of ['wecom_follows', 'wecom_contacts', 'wecom_staff', 'wecom_tags']) await db.schema.dropTableIfExists(t);
  await db.schema.createTable('wecom_contacts', (t) => {
    t.string('external_userid', 64).primary().comment("'wm' + 30 url-safe characters: the contact within this corp");
    t.string('name', 64).notNullable().comment('WeChat nickname');
    t.integer('type').notNullable().comment('1 WeChat user, 2 WeCom user of another company');
    t.integer('gender').notNullable().comment('0 unknown, 1 male, 2 female');
    t.string('unionid', 64).nullable().comment('only when WeCom discloses it to the corp app');
    t.string('avatar', 255).notNullable();
    t.string('corp_name', 64).nullable().comment('WeCom users only');
  });
  await db.schema.createTable('wecom_follows', (t) => {
    t.string('external_userid', 64).notNullable();
    t.string('userid', 64).notNullable().comment('the staff member');
    t.string('remark', 64).notNullable().comment("the staff member's name for the contact; '' when none");
    t.string('description', 255).notNullable();
    t.bigInteger('createtime').notNullable().comment('unix seconds: when this staff member added the contact');
    t.text('tag_ids').notNullable().comment('JSON list of wecom_tags.tag_id');
    t.string('remark_corp_name', 64).notNullable();
    t.text('remark_mobiles').notNullable().comment('JSON list of mobiles as the staff member typed them');
    t.integer('add_way').notNullable();
    t.string('oper_userid', 64).notNullable().comment('who started the add: the contact or a staff member');
    t.string('state', 64).notNullable().comment("contact-me channel state; '' when none");
    t.primary(['external_userid', 'userid']);
    // get_by_user pages one staff member's contacts in external_userid order.
    t.index(['userid', 'external_userid'], 'wecom_follows_userid_idx');
  });
  await db.schema.createTable('wecom_staff', (t) => {
    t.string('userid', 64).primary();
    t.string('name', 64).notNullable();
    t.string('role', 16).notNullable().comment('store | sales | service');
  });
  await db.schema.createTable('wecom_tags', (t) => {
    t.string('tag_id', 64).primary();
    t.string('tag_name', 64).notNullable();
    t.string('group_name', 64).notNullable();
  });
  await db('wecom_staff').insert(STAFF.map((s) => ({ ...s })));
  await db('wecom_tags').insert(TAGS.map((t) => ({ ...t })));
}
