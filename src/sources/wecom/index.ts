/**
 * Source kind `wecom`: WeCom (企业微信) customer contact, the external contacts the company's
 * sales and service staff added (WeCom server API: gettoken, externalcontact/*). Provides
 * `profile` (the staff's remark name and noted mobiles, WeChat's gender), `engagement`
 * (contact of staff since the first add, with their tags) and `events` (one
 * `wecom_contact_added` per staff member); its own SDL adds `Customer.wecomContacts`.
 * Identity feed: unionid (when WeCom discloses it) and the mobiles staff noted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ProfileView } from '../../capabilities';
import { baseUrl, maxResponseBytes } from '../options';
import { defineSourceKind } from '../kind';
import { API_MAX_IDS, WECOM_EVENTS, createWecomConnector, nameOfRemark, type WecomConnector, type WecomContact } from './connector';
import { CONTACTS_OPERATION, wecomResolvers } from './resolvers';

export type { WecomConnector, WecomContact, WecomFollow } from './connector';

const options = z
  .object({
    /** Scheme, host and port of the API (https://qyapi.weixin.qq.com in production). */
    baseUrl,
    /** The corp's id (企业ID). */
    corpId: z.string().min(1),
    /** The secret of the app allowed to call customer contact (客户联系 secret or a self-built app's). */
    corpSecret: z.string().min(1),
    timeoutMs: z.number().int().min(10).max(120_000).default(2000),
    /** Ids per operation call, ≤ 100 like every id list of the API. */
    maxBatch: z.number().int().min(1).max(API_MAX_IDS).optional(),
    /** Extra attempts after a transient transport failure (default 1). */
    retries: z.number().int().min(0).max(5).optional(),
    breaker: z
      .object({ failureThreshold: z.number().int().min(1), cooldownMs: z.number().int().min(100) })
      .partial()
      .strict()
      .optional(),
    /** Contacts per scan page (get_by_user's limit, ≤ 100). */
    scanPageSize: z.number().int().min(1).max(100).optional(),
    /** Largest response body accepted (src/sources/options.ts). */
    maxResponseBytes,
    /** externalcontact/get calls in flight at most (WeCom answers 45033 to a corp running too many at once). */
    concurrency: z.number().int().min(1).max(32).default(8),
  })
  .strict();

export type WecomOptions = z.infer<typeof options>;

/** UNKNOWN says nothing about a person: it is no candidate, so it never outvotes a known value. */
const known = (g: string) => (g === 'UNKNOWN' ? null : g);

/**
 * What one contact says about the person. The name is the name a staff member's remark holds
 * (staff note the name the customer gave them; the WeChat nickname is rarely a name) from the
 * earliest follow whose remark names the person, as the identity feed reads it (`remarkedName`),
 * else the nickname. Never the remark whole: its note (`贾磊伟-对价格敏感`) is the staff's word
 * about the customer, and the golden name is shown to roles that may not read remarks. The phone
 * is the one noted by the most recent follow that noted any: a later note more likely holds the
 * number in use now.
 */
export function profileView(c: WecomContact): ProfileView {
  const remark = c.follows.map((f) => nameOfRemark(f.remark)).find((n) => n !== null) ?? null;
  const phone = [...c.follows].reverse().find((f) => f.remarkMobiles.length)?.remarkMobiles[0] ?? null;
  return {
    recordId: c.externalUserId,
    // WeCom reports no update time for a contact.
    updatedAt: null,
    createdAt: c.follows[0]?.addedAt ?? null,
    values: { name: remark ?? c.name, phone, gender: known(c.gender) },
  };
}

export const kind = defineSourceKind<WecomOptions, WecomConnector>({
  kind: 'wecom',
  title: 'WeCom customer contact (企业微信客户联系, WeCom server API)',
  options,
  create: (name, o, observer, settings) => createWecomConnector({ ...o, name, defaultRegion: settings?.phoneRegion }, observer),
  capabilities: (wecom) => ({
    profile: {
      fields: ['name', 'phone', 'gender'],
      operation: CONTACTS_OPERATION,
      records: (ids, account) => wecom.contactsByIds(ids, account),
      view: profileView,
    },
    engagement: {
      operation: CONTACTS_OPERATION,
      records: (ids, account) => wecom.contactsByIds(ids, account),
      recordIdsWhere: (_condition, account) => wecom.contactIds(account),
      recordIdsWhereCalls: () => wecom.contactIdsCalls(),
      // WeCom answers only contacts some staff member still follows, so a record answered is subscribed.
      view: (c: WecomContact, source) => ({
        source,
        recordId: c.externalUserId,
        channel: 'wecom',
        subscribed: c.follows.length > 0,
        since: c.follows[0]?.addedAt ?? null,
        staff: c.follows.map((f) => f.staffId),
        tags: [...new Set(c.follows.flatMap((f) => f.tags))],
      }),
    },
    events: { kinds: WECOM_EVENTS, eventsByRecordIds: (ids, q, account) => wecom.eventsByRecordIds(ids, q, account) },
  }),
  sdl: fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'),
  resolvers: wecomResolvers,
  // The channel is the kind's own constant ('wecom'), not a record's data.
  eventFields: { wecom_contact_added: { occurred: 'WecomFollow.addedAt', channel: null } },
  events: {
    wecom_contact_added: 'WeCom: a staff member added the person as a customer contact (one event per staff member).',
  },
});
