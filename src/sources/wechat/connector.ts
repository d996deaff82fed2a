/**
 * SCRM connector (WeChat official-account style HTTP JSON API plus the SCRM's extensions,
 * demo/SOURCES.md).
 *
 * Keys: openids; the OneID record is `scrm` / openid. One call = one POST carrying up to
 * `maxBatch` openids (the API takes at most 100): user/info/batchget for followers, the SCRM's
 * coupons/groupchats/profiles/events batchget for the rest (events: timeline pages, cut per
 * openid by the SCRM). The identity feed is /scrm/v1/changes,
 * one GET per page of up to 1000 items. Every call carries an access token, fetched from
 * /cgi-bin/token (itself a source call, operation `token`) and cached until shortly before it
 * expires. Errors arrive as HTTP 200 with a non-zero errcode. Transport: http.ts.
 */
import { badRow, type SourceError, unreadableRecord } from '../../errors';
import { canonicalText, instantFromSeconds, moneyFromDecimal, normalizeGender } from '../../canonical';
import { badResponse, connectorTransport, type HttpConnectorOptions, type JsonObject, type Query } from '../http';
import { chunked, groupByKey, listsOf, noneFailed, NONE_FAILED, type SourceCall, type SourceObserver } from '../observe';
import type { EventKind, EventQuery, RawIdentifier, ScanPage, ScannedRecord, Slot, SourceAccount, SourceEvent, SourceName } from '../../vocabulary';
import type { Coupon, GroupMembership, ScrmFollower, WechatConnector } from './types';
import { checkEventQuery, isEventKind, kindsWanted, sinceInUnit } from '../../vocabulary/event-order';
import { AccessToken, busyBody, errcodeError, withToken } from '../tencent';

export interface WechatConnectorConfig extends HttpConnectorOptions {
  /** The instance name: OneID source, metrics and errors (default `scrm`). */
  name?: SourceName;
  appId: string;
  appSecret: string;
}

/** The timeline event kinds this system emits. */
export const WECHAT_EVENTS: readonly EventKind[] = ['coupon_received', 'coupon_redeemed', 'followed', 'group_joined', 'unfollowed'];

/** The instance name when the options name none (the demo's). */
const DEFAULT_NAME = 'scrm';
const API_MAX_IDS = 100;
const API_MAX_PAGE = 1000;
const CURSOR_PREFIX = 'wx1:';
const CURRENCY = 'CNY';

/** errcodes meaning "this access token is no good": invalid, expired, or superseded. */
const TOKEN_ERRCODES = new Set([40001, 42001, 40014]);
/**
 * The system will not serve us now: -1 system busy; 45009 daily API quota spent and 45011 calls
 * too frequent (developers.weixin.qq.com/doc/offiaccount/Message_Management/API_Call_Limits.html,
 * global return codes). Not our request's fault, so SOURCE_UNAVAILABLE, like WeCom's.
 */
const BUSY_ERRCODES = new Set([-1, 45009, 45011]);

const PATH = {
  token: '/cgi-bin/token',
  followers: '/cgi-bin/user/info/batchget',
  coupons: '/scrm/v1/coupons/batchget',
  groups: '/scrm/v1/groupchats/batchget',
  profiles: '/scrm/v1/profiles/batchget',
  events: '/scrm/v1/events/batchget',
  changes: '/scrm/v1/changes',
  ping: '/scrm/v1/ping',
} as const;

/** Openids the API can look up. Anything else answers unknown without asking: WeChat fails a whole batch on one bad openid. */
const isOpenid = (id: string) => /^[A-Za-z0-9_-]{1,64}$/.test(id);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null);

/** A unix-seconds field that may be absent: null when absent, undefined when present but unreadable. */
function optionalSeconds(v: unknown): string | null | undefined {
  if (v == null) return null;
  return instantFromSeconds(v) ?? undefined;
}

function toFollower(SOURCE: SourceName, u: JsonObject, openid: string): Slot<ScrmFollower> {
  if (u.subscribe === 0) {
    // WeChat tells us only that this person no longer follows; they are still the same person.
    return {
      openid,
      unionid: text(u.unionid),
      nickname: null,
      gender: 'UNKNOWN',
      city: null,
      province: null,
      country: null,
      subscribed: false,
      subscribedAt: null,
      tagIds: [],
    };
  }
  if (u.subscribe !== 1) return badRow(SOURCE, 'follower', 'subscribe is neither 0 nor 1');
  const subscribedAt = optionalSeconds(u.subscribe_time);
  if (subscribedAt === undefined) return badRow(SOURCE, 'follower', 'subscribe_time is not unix seconds');
  const tags = u.tagid_list ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => Number.isSafeInteger(t))) {
    return badRow(SOURCE, 'follower', 'tagid_list is not a list of integers');
  }
  return {
    openid,
    unionid: text(u.unionid),
    nickname: canonicalText(text(u.nickname)),
    gender: normalizeGender(u.sex),
    city: text(u.city),
    province: text(u.province),
    country: text(u.country),
    subscribed: true,
    subscribedAt,
    tagIds: tags as number[],
  };
}

function toCoupon(SOURCE: SourceName, c: JsonObject, openid: string): Slot<Coupon> {
  const id = str(c.coupon_id);
  if (!id) return badRow(SOURCE, 'coupon', 'coupon_id is missing');
  const value = moneyFromDecimal(c.value, CURRENCY);
  if (!value) return badRow(SOURCE, 'coupon', 'value is not a yuan amount');
  // A coupon takes money off: a minus sign is a broken row, not a coupon worth less than nothing.
  if (value.amount.startsWith('-')) return badRow(SOURCE, 'coupon', 'value is negative');
  const receivedAt = instantFromSeconds(c.received_at);
  if (!receivedAt) return badRow(SOURCE, 'coupon', 'received_at is not unix seconds');
  const redeemedAt = optionalSeconds(c.redeemed_at);
  if (redeemedAt === undefined) return badRow(SOURCE, 'coupon', 'redeemed_at is not unix seconds');
  const status = text(c.status);
  if (!status) return badRow(SOURCE, 'coupon', 'status is missing');
  return { id, openid, title: typeof c.title === 'string' ? c.title : '', value, status, receivedAt, redeemedAt };
}

function toMembership(SOURCE: SourceName, m: JsonObject, openid: string): Slot<GroupMembership> {
  const chatId = str(m.chat_id);
  if (!chatId) return badRow(SOURCE, 'group membership', 'chat_id is missing');
  const joinedAt = instantFromSeconds(m.join_time);
  if (!joinedAt) return badRow(SOURCE, 'group membership', 'join_time is not unix seconds');
  return { openid, chatId, chatName: typeof m.chat_name === 'string' ? m.chat_name : '', joinedAt };
}

/**
 * The events-batchget body for one query, less the openids. The SCRM keeps whole unix seconds
 * and orders events the timeline's way (see SOURCES.md), so a position falling inside a second
 * becomes "everything of that second" (type and id ''); a whole-second one passes unchanged.
 */
function eventsBody(q: EventQuery, kinds: string[]) {
  let after = null;
  if (q.after) {
    const ms = Date.parse(q.after.at);
    const whole = ms % 1000 === 0;
    after = { time: Math.floor(ms / 1000), type: whole ? q.after.kind : '', id: whole ? q.after.id : '' };
  }
  return { limit: q.limit, types: kinds, since: sinceInUnit(q.since, 1000), after };
}

function toEvent(SOURCE: SourceName, e: JsonObject, openid: string): Slot<SourceEvent> {
  const kind = e.type;
  if (!isEventKind(kind) || !kindsWanted(WECHAT_EVENTS, null).includes(kind)) return badRow(SOURCE, 'event', 'type is not an SCRM event type');
  const at = instantFromSeconds(e.time);
  if (!at) return badRow(SOURCE, 'event', 'time is not unix seconds');
  const id = str(e.id);
  if (!id) return badRow(SOURCE, 'event', 'id is missing');
  let amount = null;
  if (e.value != null) {
    amount = moneyFromDecimal(e.value, CURRENCY);
    if (!amount) return badRow(SOURCE, 'event', 'value is not a yuan amount');
    if (amount.amount.startsWith('-')) return badRow(SOURCE, 'event', 'value is negative');
  }
  return {
    kind,
    at,
    id,
    recordId: openid,
    refId: str(e.coupon_id) ?? str(e.chat_id),
    title: text(e.title) ?? text(e.chat_name),
    amount,
  };
}

/** The identity view of one feed item; null when it cannot be placed (no openid or no updated_at). */
function toScanned(SOURCE: SourceName, item: JsonObject): ScannedRecord | null {
  const openid = typeof item.openid === 'string' && isOpenid(item.openid) ? item.openid : null;
  const updatedAt = instantFromSeconds(item.updated_at);
  if (!openid || !updatedAt) return null;
  const identifiers: RawIdentifier[] = [{ kind: 'OPENID', value: openid }];
  const unionid = text(item.unionid);
  const phone = text(item.bound_phone);
  const memberNo = text(item.member_no);
  if (unionid) identifiers.push({ kind: 'UNIONID', value: unionid });
  if (phone) identifiers.push({ kind: 'PHONE', value: phone });
  if (memberNo) identifiers.push({ kind: 'MEMBER_NO', value: memberNo });
  // Unfollowing is not deletion: the openid still names the same person, so `deleted` stays unset.
  return { source: SOURCE, recordId: openid, updatedAt, identifiers };
}

function objects(SOURCE: SourceName, body: JsonObject, key: string, request: string): JsonObject[] {
  const list = body[key];
  if (!Array.isArray(list)) throw badResponse(SOURCE, request, `"${key}" is not an array`);
  return list.map(asObject);
}

/** An element of a body's array as an object; anything else reads as an empty one. */
function asObject(item: unknown): JsonObject {
  return item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as JsonObject) : {};
}

// The work of the batch reads is in module-level functions that take what a closure would have
// captured: V8 holds a function's optimized code only weakly while no closure of it is alive, so
// a closure written inside a connector method loses it at any major GC between requests and
// re-compiles on the next ones; module-level functions keep theirs. Per call they are bound to
// what they need (the chunk comes last) rather than wrapped in an arrow: a bound function has no
// code of its own, while a forwarding arrow gets optimized with its callee inlined, async ones
// too, and loses that code again.

/** The connector's `api`: one call with the current token. */
type Api = (method: 'GET' | 'POST', path: string, query: Query, body?: unknown, account?: SourceAccount) => Promise<JsonObject>;

/** One batch POST of a chunk: its `key` array, as one page for `chunked`. */
async function postPage(
  SOURCE: SourceName,
  api: Api,
  path: string,
  key: string,
  body: (chunk: string[]) => unknown,
  account: SourceAccount | undefined,
  chunk: string[],
): Promise<JsonObject[][]> {
  return [objects(SOURCE, await api('POST', path, {}, body(chunk), account), key, `POST ${path}`)];
}

/** The followers call's body: each openid with the language WeChat answers in. */
function followersBody(chunk: string[]): unknown {
  const userList: Array<{ openid: string; lang: string }> = [];
  for (const openid of chunk) userList.push({ openid, lang: 'zh_CN' });
  return { user_list: userList };
}

function openidsBody(chunk: string[]): unknown {
  return { openids: chunk };
}

/** Each openid's follower, null for one the SCRM does not have, its chunk's error for one whose chunk failed. */
function followersOf(
  SOURCE: SourceName,
  openids: readonly string[],
  byOpenid: Map<string, JsonObject>,
  failed: ReadonlyMap<string, SourceError>,
): Array<Slot<ScrmFollower> | null> {
  const answers: Array<Slot<ScrmFollower> | null> = [];
  for (const openid of openids) {
    const u = byOpenid.get(openid);
    answers.push(failed.get(openid) ?? (u ? toFollower(SOURCE, u, openid) : null));
  }
  return answers;
}

/** A row's openid, the key it is placed under (never its position); a row without one belongs to no key. */
const openidOf = (row: JsonObject) => (typeof row.openid === 'string' ? row.openid : null);

export function createWechatConnector(config: WechatConnectorConfig, observer: SourceObserver): WechatConnector {
  const SOURCE: SourceName = config.name ?? DEFAULT_NAME;
  const { transport, maxBatch, defaultPage } = connectorTransport(SOURCE, config, {
    maxIds: API_MAX_IDS,
    maxPage: API_MAX_PAGE,
    overloaded: busyBody(BUSY_ERRCODES),
    observer,
  });

  const token = new AccessToken({
    source: SOURCE,
    request: `GET ${PATH.token}`,
    fetch: (account) =>
      observer.call({ source: SOURCE, operation: 'token', batchSize: 0, account }, () =>
        transport.getJson(PATH.token, { grant_type: 'client_credential', appid: config.appId, secret: config.appSecret }),
      ),
    refused: (code) => errcodeError(SOURCE, code, `GET ${PATH.token}`, BUSY_ERRCODES),
  });
  /** `account`: the request that needs the token books its call (one in flight serves every request waiting). */
  const accessToken = (account?: SourceAccount) => token.get(account);

  /**
   * One API call with the current token. When the answer says the token is no good, the token
   * is refreshed once and the call repeated once; a second refusal is an error.
   */
  async function api(method: 'GET' | 'POST', path: string, query: Query, body?: unknown, account?: SourceAccount): Promise<JsonObject> {
    const request = `${method} ${path}`;
    const answer = await withToken(SOURCE, token, TOKEN_ERRCODES, { transport, method, path, query, body }, account);
    if (typeof answer === 'number') throw errcodeError(SOURCE, answer, request, BUSY_ERRCODES);
    return answer;
  }

  /**
   * One batch POST per chunk of unique valid openids; answers the rows under `key`, all chunks
   * together, and the openids whose chunk failed (see `chunked`). A token that cannot be had fails
   * every openid: no chunk could be sent.
   */
  async function batch(
    { operation, account }: Pick<SourceCall, 'operation' | 'account'>,
    path: string,
    key: string,
    openids: readonly string[],
    body: (chunk: string[]) => unknown,
  ): Promise<{ rows: JsonObject[]; failed: ReadonlyMap<string, SourceError> }> {
    const wanted = [...new Set(openids.filter(isOpenid))];
    if (wanted.length === 0) return { rows: [], failed: NONE_FAILED };
    // Fetched before the chunks go out, so concurrent chunks share one token request.
    await accessToken(account);
    const { answers, failed } = await chunked(
      observer,
      { source: SOURCE, operation, account },
      wanted,
      maxBatch,
      postPage.bind(null, SOURCE, api, path, key, body, account) as (chunk: string[]) => Promise<JsonObject[][]>,
    );
    return { rows: answers.flat(), failed };
  }

  return {
    name: SOURCE,
    maxBatch,

    async followersByOpenids(openids, account) {
      const { rows, failed } = await batch({ operation: 'followersByOpenids', account }, PATH.followers, 'user_info_list', openids, followersBody);
      const byOpenid = new Map<string, JsonObject>();
      for (const u of rows) if (typeof u.openid === 'string') byOpenid.set(u.openid, u);
      return followersOf(SOURCE, openids, byOpenid, failed);
    },

    async couponsByOpenids(openids, account) {
      const { rows, failed } = await batch({ operation: 'couponsByOpenids', account }, PATH.coupons, 'coupons', openids, openidsBody);
      return listsOf(openids, groupByKey(rows, openidOf, toCoupon.bind(null, SOURCE)), failed);
    },

    async groupsByOpenids(openids, account) {
      const { rows, failed } = await batch({ operation: 'groupsByOpenids', account }, PATH.groups, 'memberships', openids, openidsBody);
      return listsOf(openids, groupByKey(rows, openidOf, toMembership.bind(null, SOURCE)), failed);
    },

    /** One POST per chunk of openids; the SCRM cuts each openid's list to `limit` after the position. */
    async eventsByRecordIds(openids, query: EventQuery, account) {
      checkEventQuery(SOURCE, query);
      const kinds = kindsWanted(WECHAT_EVENTS, query.kinds);
      if (kinds.length === 0) return openids.map(() => []);
      const body = eventsBody(query, kinds);
      const { rows, failed } = await batch({ operation: 'eventsByRecordIds', account }, PATH.events, 'events', openids, (chunk) => ({ openids: chunk, ...body }));
      return listsOf(openids, groupByKey(rows, openidOf, toEvent.bind(null, SOURCE)), failed);
    },

    async scan(cursor, pageSize) {
      const limit = Math.min(API_MAX_PAGE, Math.max(1, Math.floor(pageSize ?? defaultPage)));
      let serverCursor: string | null = null;
      if (cursor != null) {
        if (!cursor.startsWith(CURSOR_PREFIX)) throw new Error('scrm scan: the cursor was not made by this connector');
        serverCursor = cursor.slice(CURSOR_PREFIX.length);
      }
      const request = `GET ${PATH.changes}`;
      await accessToken();
      const body = await observer.call({ source: SOURCE, operation: 'scan', batchSize: limit }, () =>
        api('GET', PATH.changes, serverCursor ? { cursor: serverCursor, limit } : { since: 0, limit }),
      );
      const items = objects(SOURCE, body, 'items', request);
      if (typeof body.has_more !== 'boolean') throw badResponse(SOURCE, request, '"has_more" is not a boolean');
      const next = body.next_cursor;
      if (next != null && typeof next !== 'string') throw badResponse(SOURCE, request, '"next_cursor" is not a string');
      // An item that cannot be placed (no openid, no updated_at) is skipped: the feed cursor moves past it regardless.
      const records = items.map((x) => toScanned(SOURCE, x)).filter((r): r is ScannedRecord => r !== null);
      const resumeAt = next ?? serverCursor;
      return { records, cursor: resumeAt ? CURSOR_PREFIX + resumeAt : null, done: !body.has_more, malformed: items.length - records.length } satisfies ScanPage;
    },

    /** Every key or none: a key answered null here is an openid the SCRM no longer has, never a chunk that failed. */
    async scanRecords(recordIds) {
      const { rows, failed } = await batch({ operation: 'scanRecords' }, PATH.profiles, 'items', recordIds, openidsBody);
      noneFailed(failed);
      const byOpenid = new Map<string, JsonObject>();
      for (const item of rows) if (typeof item.openid === 'string') byOpenid.set(item.openid, item);
      return recordIds.map((openid) => {
        const item = byOpenid.get(openid);
        return item ? (toScanned(SOURCE, item) ?? unreadableRecord(SOURCE)) : null;
      });
    },

    async health() {
      await accessToken();
      await observer.call({ source: SOURCE, operation: 'health', batchSize: 0 }, () => api('GET', PATH.ping, {}));
    },

    async close() {
      token.clear();
    },
  };
}
