/** The WeChat official-account (SCRM) kind's records and what its connector answers. */
import type { Connector, EventQuery, Gender, Instant, ListSlot, Money, Slot, SourceAccount, SourceEvent } from '../../vocabulary';

export interface ScrmFollower {
  openid: string;
  unionid: string | null;
  nickname: string | null;
  gender: Gender;
  city: string | null;
  province: string | null;
  country: string | null;
  subscribed: boolean;
  subscribedAt: Instant | null;
  tagIds: number[];
}

export interface Coupon {
  id: string;
  openid: string;
  title: string;
  value: Money;
  status: string;
  receivedAt: Instant;
  redeemedAt: Instant | null;
}

export interface GroupMembership {
  openid: string;
  chatId: string;
  chatName: string;
  joinedAt: Instant;
}

export interface WechatConnector extends Connector {
  /** `account`, here and below: the request's, which every call made for it (its token's included) is booked to (`SourceCall.account`). */
  followersByOpenids(openids: readonly string[], account?: SourceAccount): Promise<Array<Slot<ScrmFollower> | null>>;
  couponsByOpenids(openids: readonly string[], account?: SourceAccount): Promise<Array<ListSlot<Coupon>>>;
  groupsByOpenids(openids: readonly string[], account?: SourceAccount): Promise<Array<ListSlot<GroupMembership>>>;
  /** followed, unfollowed, coupon_received, coupon_redeemed and group_joined events, per openid, as `EventQuery` asks. */
  eventsByRecordIds(openids: readonly string[], query: EventQuery, account?: SourceAccount): Promise<Array<ListSlot<SourceEvent>>>;
}
