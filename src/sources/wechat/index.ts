/**
 * Source kind `wechat`: a WeChat official account with the company's SCRM on top (followers,
 * coupons, group chats; WeChat-style HTTP JSON API with an access token, demo/SOURCES.md).
 * Provides `profile` (nickname, WeChat's gender and location, follow as consent),
 * `engagement` (following the account) and `events`; its own SDL adds `Customer.scrmFollowers`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineSourceKind } from '../kind';
import { httpSourceOptions } from '../options';
import { WECHAT_EVENTS, createWechatConnector } from './connector';
import { wechatResolvers } from './resolvers';
import type { ListSlot, Slot } from '../../vocabulary';
import type { Coupon, ScrmFollower, WechatConnector } from './types';

const options = z.object({ ...httpSourceOptions(100), appId: z.string().min(1), appSecret: z.string().min(1) }).strict();

/** UNKNOWN says nothing about a person: it is no candidate, so it never outvotes a known value. */
const known = (g: string) => (g === 'UNKNOWN' ? null : g);

/**
 * A list's unused coupons (the first malformed one, if any, instead; the call's error for a list
 * whose call failed). Module-level, not an arrow made per call: V8 holds a per-call closure's
 * optimized code only weakly, so it re-compiles after a major GC between requests; a
 * module-level function keeps its code.
 */
function unusedCount(list: ListSlot<Coupon>): Slot<number> {
  // A failed call (the openid's chunk) answers its error as the count.
  if (list instanceof Error) return list;
  let unused = 0;
  for (const c of list) {
    if (c instanceof Error) return c;
    if (c.status === 'unused' && !c.redeemedAt) unused++;
  }
  return unused;
}

export const kind = defineSourceKind<z.infer<typeof options>, WechatConnector>({
  kind: 'wechat',
  title: 'WeChat official account + SCRM (WeChat-style HTTP JSON API)',
  options,
  create: (name, o, observer) => createWechatConnector({ ...o, name }, observer),
  capabilities: (wechat) => ({
    profile: {
      fields: ['name', 'gender', 'city', 'province', 'registeredAt', 'registrationChannel', 'marketingConsent.wechat'],
      operation: 'followersByOpenids',
      records: (ids, account) => wechat.followersByOpenids(ids, account),
      // WeChat reports no update time for a follower: its candidates carry the (last) follow time.
      // Its sex and location are what the person set in their profile; nicknames are rarely names.
      view: (f: ScrmFollower) => ({
        recordId: f.openid,
        updatedAt: f.subscribedAt,
        createdAt: f.subscribedAt,
        values: {
          name: f.nickname,
          gender: known(f.gender),
          city: f.city,
          province: f.province,
          registeredAt: f.subscribedAt,
          registrationChannel: f.subscribedAt ? 'wechat' : null,
          // Following the official account is consent to its messages.
          'marketingConsent.wechat': f.subscribed,
        },
      }),
    },
    engagement: {
      operation: 'followersByOpenids',
      records: (ids, account) => wechat.followersByOpenids(ids, account),
      view: (f: ScrmFollower, source) => ({
        source,
        recordId: f.openid,
        channel: 'wechat_official_account',
        subscribed: f.subscribed,
        since: f.subscribedAt,
        staff: [],
        tags: f.tagIds.map(String),
      }),
      // The SCRM's own word: `unused` is issued, not redeemed and not expired.
      unusedCoupons: async (ids, account) => (await wechat.couponsByOpenids(ids, account)).map(unusedCount),
    },
    events: { kinds: WECHAT_EVENTS, eventsByRecordIds: (ids, q, account) => wechat.eventsByRecordIds(ids, q, account) },
  }),
  sdl: fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'),
  resolvers: wechatResolvers,
  eventFields: {
    coupon_received: { occurred: 'Coupon.receivedAt', title: 'Coupon.title', amount: 'Coupon.value' },
    coupon_redeemed: { occurred: 'Coupon.redeemedAt', title: 'Coupon.title', amount: 'Coupon.value' },
    group_joined: { occurred: 'GroupMembership.joinedAt', title: 'GroupMembership.chatName' },
    followed: { occurred: 'ScrmFollower.subscribedAt' },
    unfollowed: { occurred: 'ScrmFollower.subscribed' },
  },
  events: {
    followed: 'WeChat: the person followed the official account (the latest follow).',
    unfollowed: 'WeChat: the person unfollowed the official account.',
    coupon_received: 'WeChat: a coupon was issued to the person.',
    coupon_redeemed: 'WeChat: a coupon was redeemed.',
    group_joined: 'WeChat: the person joined a group chat.',
  },
});
