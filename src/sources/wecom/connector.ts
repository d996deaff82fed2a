/**
 * WeCom (企业微信) customer-contact connector: the corp's external contacts (客户联系) through
 * the WeCom server API at qyapi.weixin.qq.com (or the demo stand-in, demo/systems/wecom).
 *
 * Keys: external_userid (one WeChat user as a contact of this corp, whoever of the staff added
 * them); the OneID record is `<instance>` / external_userid. A contact added by two staff
 * members is ONE record with two follow entries.
 *
 * What one call costs:
 *   - `contactsByIds`, `scanRecords`, `eventsByRecordIds`: WeCom has no batch read by
 *     external_userid, only GET externalcontact/get for one contact (all its follow_user
 *     entries, paged past 500 followers). One operation call carries up to `maxBatch` ids
 *     (≤ 100, the limit every batch endpoint of the API shares) and fans out to one GET per id,
 *     at most `concurrency` GETs in flight per connector: WeCom answers errcode 45033 when a
 *     corp runs too many calls at once. The observer sees the operation call (one per chunk),
 *     so metrics and batching tests count what a resolver asked for; the GETs it costs are
 *     stated here.
 *   - `scan`: one POST externalcontact/batch/get_by_user per page (one staff member, cursor,
 *     limit ≤ 100), then a `scanRecords` call re-reading the page's contacts, because
 *     get_by_user's follow_info carries only that staff member's entry and a record's
 *     identifiers must be complete on every page (resolution ends identifiers a scan omits).
 *     A contact followed by k staff members is therefore listed k times per pass, each time
 *     whole, so the repeats stage as unchanged. A listing page that names no contact to
 *     re-read is followed by the next in the same scan page, up to WALK_CALLS_PER_PAGE calls.
 *     The staff list comes from GET externalcontact/get_follow_user_list (cached a minute).
 *   - every call carries an access token from GET cgi-bin/gettoken (corpid + corpsecret; its
 *     own observed call, operation `token`), cached until shortly before expires_in (7200 s).
 *
 * Errors arrive as HTTP 200 with a non-zero errcode: 40014/42001/41001 (and 40001, which
 * WeChat-style APIs also use for a bad credential) refresh the token once and retry once;
 * -1 (busy), 45009 (frequency limit) and 45033 (concurrency limit) are SOURCE_UNAVAILABLE;
 * 84061 (no such contact relationship) and 40096 (not an external_userid) answer the key
 * null; 60111 (userid not found) during a scan means the staff member left, and the walk
 * moves on (the contact listing, whose calls name up to 100 staff members, splits such a call
 * until only the one who left is dropped). Anything else is SOURCE_BAD_RESPONSE. errmsg is never repeated: WeCom puts hints
 * (sometimes ids) in it. Transport (deadline, retries, breaker): http.ts.
 *
 * WeCom has no change feed and no modified time: changes arrive by its change_external_contact
 * callback, which the gateway's webhook turns into `scanRecords`. `scan` therefore walks the
 * whole staff list's listing every pass, and tells what changed itself: the cursor carries a
 * fingerprint of the listing the last pass saw (fingerprint.ts). The first pass re-reads every
 * contact; a pass after it (a scan from the final cursor) walks the listing only, and re-reads
 * the contacts whose part of the fingerprint changed, in a second walk. An unchanged corp costs
 * one listing walk (⌈follows / limit⌉ get_by_user calls, no GET, no record read); a change costs
 * a second walk and one GET per listed follow of the contacts sharing its bucket (about
 * 1/1024 of them). A contact no staff member follows any more is no longer listed, so a scan
 * never reports it deleted (as before: the callback's `del_external_contact` does).
 */
import { badRow, SourceError, SourceRowError, unreadableRecord } from '../../errors';
import type { CountryCode } from 'libphonenumber-js';
import { canonicalText, DEFAULT_PHONE_REGION, instantFromSeconds, normalizeGender, normalizePhone } from '../../canonical';
import { badResponse, connectorTransport, type HttpConnectorOptions, type JsonObject, type Query } from '../http';
import { chunked, noneFailed, NONE_FAILED, type SourceObserver } from '../observe';
import type {
  Connector,
  EventKind,
  EventQuery,
  Gender,
  Instant,
  ListSlot,
  RawIdentifier,
  ScannedRecord,
  ScanPage,
  Slot,
  SourceAccount,
  SourceEvent,
  SourceName,
} from '../../vocabulary';
import { checkEventQuery, compareEvents, isAfter, kindsWanted } from '../../vocabulary/event-order';
import { AccessToken, busyBody, errcodeError, withToken } from '../tencent';
import {
  addEntry,
  bucketOf,
  changedBuckets,
  decodeBuckets,
  decodeFingerprint,
  emptyFingerprint,
  encodeBuckets,
  encodeFingerprint,
  entryHash,
  type Fingerprint,
} from './fingerprint';

// ---------- canonical records ----------

/** One staff member's relationship with a contact (WeCom's follow_user / follow_info entry). */
export interface WecomFollow {
  /** The staff member's WeCom userid. */
  staffId: string;
  /** The name the staff member gave the contact (often the real name, sometimes with notes). */
  remark: string | null;
  description: string | null;
  /** The company the staff member noted for the contact. */
  remarkCorpName: string | null;
  /** Phones the staff member noted, E.164; what could not be read as a phone is left out. */
  remarkMobiles: string[];
  /** Tag names the staff member (or the corp) gave the contact. */
  tags: string[];
  /** When this staff member added the contact. */
  addedAt: Instant;
  /** WeCom's add_way code (1 QR code, 2 phone search, 3 card share, 201/202 shared or assigned, …); null when absent. */
  addWay: number | null;
  /** The `state` of the "contact me" channel the contact came through, when set. */
  state: string | null;
}

/** One external contact: one WeChat (or WeCom) user as a contact of this corp. */
export interface WecomContact {
  /** The instance the record lives in. */
  source: SourceName;
  externalUserId: string;
  /** WeChat nickname, or the WeCom user's name. */
  name: string | null;
  /** WeChat unionid; only when the corp's app may see it (bound open platform, or converted). */
  unionid: string | null;
  gender: Gender;
  /** 1: a WeChat user; 2: a WeCom user of another company. */
  type: 'WECHAT' | 'WECOM';
  /** The contact's company (WeCom users only). */
  corpName: string | null;
  /** Every staff member following the contact, earliest first. */
  follows: WecomFollow[];
}

export interface WecomConnector extends Connector {
  /** The contacts, in the order of `ids`; null for an id WeCom does not know (or no staff member follows any more). */
  contactsByIds(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<WecomContact> | null>>;
  /** `wecom_contact_added` per follow, per id, as `EventQuery` asks. */
  eventsByRecordIds(ids: readonly string[], query: EventQuery, account?: SourceAccount): Promise<Array<ListSlot<SourceEvent>>>;
  /** Every current contact's id, listed by staff member (engagement filter pushdown); kept CONTACT_IDS_TTL_MS. A listing's calls (its token's and staff list's included) are booked to `account`, the request that started it. */
  contactIds(account?: SourceAccount): Promise<string[]>;
  /** The calls `contactIds` would make now: 0 while its answer is kept, else the last listing's (null: never listed). */
  contactIdsCalls(): number | null;
}

export interface WecomConnectorConfig extends HttpConnectorOptions {
  /** The instance name: OneID source, metrics and errors. */
  name: SourceName;
  corpId: string;
  corpSecret: string;
  /** GET externalcontact/get calls in flight at most, per connector (default 8). */
  concurrency?: number;
  /** Region for noted mobiles written without a country code; default CN. */
  defaultRegion?: CountryCode;
}

/** The timeline event kinds this system emits. */
export const WECOM_EVENTS: readonly EventKind[] = ['wecom_contact_added'];

/** userid_list and every other id list of the API take at most 100; get_by_user's limit too. */
export const API_MAX_IDS = 100;
const API_MAX_PAGE = 100;
const DEFAULT_CONCURRENCY = 8;
const STAFF_CACHE_MS = 60_000;
/**
 * The contact listing (filter pushdown) is kept this long, so the first pages of walks within it
 * share one listing; dropped early by a change callback (`scanRecords`), never kept above
 * CONTACT_IDS_MAX ids.
 */
export const CONTACT_IDS_TTL_MS = 60_000;
const CONTACT_IDS_MAX = 1_000_000;
const CURSOR_PREFIX = 'wc1:';
/** Listing calls one scan page makes at most while they name no contact to re-read (a check walk, or an emit walk between changes). */
const WALK_CALLS_PER_PAGE = 10;

/** errcodes meaning "this access token is no good": invalid, expired, missing (40001: WeChat-style bad credential). */
const TOKEN_ERRCODES = new Set([40001, 40014, 41001, 42001]);
/** System busy, frequency limit, concurrency limit: the system is there but will not serve us now. */
const BUSY_ERRCODES = new Set([-1, 45009, 45033]);
/** The contact is unknown to the corp (no staff member follows it), or the id is not an external_userid. */
const NO_CONTACT_ERRCODES = new Set([84061, 40096]);
const USERID_NOT_FOUND = 60111;

const PATH = {
  token: '/cgi-bin/gettoken',
  staff: '/cgi-bin/externalcontact/get_follow_user_list',
  byUser: '/cgi-bin/externalcontact/batch/get_by_user',
  contact: '/cgi-bin/externalcontact/get',
} as const;

/** external_userids look like `wm…`/`wo…` of url-safe characters; anything else answers null without asking. */
const isExternalUserId = (id: string) => /^[A-Za-z0-9_-]{6,64}$/.test(id);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

class ErrcodeFailure {
  constructor(readonly errcode: number) {}
}

// ---------- scan cursor ----------

/**
 * Where a scan stands: staff member `s` (their userid; the walk goes in userid order; '' = before
 * the first) at WeCom's own cursor `c` ('' = their first page), or `s: null` = a pass has ended
 * and the next scan starts a new one. A userid, not a position, so staff joining or leaving
 * between runs cannot shift the walk onto someone else's page.
 *
 * `walk` says what the pass does (fingerprint.ts):
 * - `emit`: re-reads the contacts listed in `buckets` (all when null: a first pass, or no
 *   fingerprint known) and sums their entries into `fingerprint`, which holds the last pass's
 *   values for the other buckets;
 * - `check`: reads the listing only, summing every entry into `seen`, to compare with `last`
 *   (the last pass's) at the end: equal, the pass ends having re-read nothing; else an `emit`
 *   walk of the buckets that differ follows;
 * - `ended`: the pass is over; `fingerprint` is what it saw (null: a cursor of before
 *   fingerprints, so the next pass re-reads everything once).
 */
type Walk =
  | { mode: 'emit'; fingerprint: Fingerprint; buckets: Set<number> | null }
  | { mode: 'check'; last: Fingerprint; seen: Fingerprint }
  | { mode: 'ended'; fingerprint: Fingerprint | null };

interface ScanState {
  s: string | null;
  c: string;
  walk: Walk;
}

function encodeCursor(state: ScanState): string {
  const w = state.walk;
  const json =
    w.mode === 'ended'
      ? { s: null, c: '', ...(w.fingerprint ? { f: encodeFingerprint(w.fingerprint) } : {}) }
      : w.mode === 'check'
        ? { s: state.s, c: state.c, m: 'check', f: encodeFingerprint(w.last), a: encodeFingerprint(w.seen) }
        : { s: state.s, c: state.c, m: 'emit', f: encodeFingerprint(w.fingerprint), ...(w.buckets ? { x: encodeBuckets(w.buckets) } : {}) };
  return CURSOR_PREFIX + Buffer.from(JSON.stringify(json), 'utf8').toString('base64url');
}

function decodeCursor(source: SourceName, cursor: string | null): ScanState | null {
  if (cursor == null) return null;
  const bad = () => new Error(`${source} scan: the cursor was not made by this connector`);
  if (!cursor.startsWith(CURSOR_PREFIX)) throw bad();
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!isObject(state) || !(state.s === null || typeof state.s === 'string') || typeof state.c !== 'string') throw bad();
  const fingerprint = (v: unknown) => {
    const f = decodeFingerprint(v);
    if (!f) throw bad();
    return f;
  };
  const s = state.s as string | null;
  const c = state.c;
  if (s === null) return { s, c: '', walk: { mode: 'ended', fingerprint: state.f === undefined ? null : fingerprint(state.f) } };
  if (state.m === 'check') return { s, c, walk: { mode: 'check', last: fingerprint(state.f), seen: fingerprint(state.a) } };
  if (state.m === 'emit') {
    const buckets = state.x === undefined ? null : decodeBuckets(state.x);
    if (state.x !== undefined && !buckets) throw bad();
    return { s, c, walk: { mode: 'emit', fingerprint: fingerprint(state.f), buckets } };
  }
  if (state.m !== undefined) throw bad();
  // A cursor of before fingerprints, within a pass: it goes on re-reading everything.
  return { s, c, walk: { mode: 'emit', fingerprint: emptyFingerprint(), buckets: null } };
}

/** The first position of a new pass: a check of the listing when the last pass left a fingerprint, else a pass re-reading everything. */
function passAfter(fingerprint: Fingerprint | null): ScanState {
  return {
    s: '',
    c: '',
    walk: fingerprint ? { mode: 'check', last: fingerprint, seen: emptyFingerprint() } : { mode: 'emit', fingerprint: emptyFingerprint(), buckets: null },
  };
}

/** What follows the end of a walk: the pass ends, or (a check that found changes) an emit walk of the buckets that changed. */
function afterWalk(walk: Exclude<Walk, { mode: 'ended' }>): ScanState {
  if (walk.mode === 'emit') return { s: null, c: '', walk: { mode: 'ended', fingerprint: walk.fingerprint } };
  const changed = changedBuckets(walk.seen, walk.last);
  if (!changed.size) return { s: null, c: '', walk: { mode: 'ended', fingerprint: walk.seen } };
  // The unchanged buckets keep what the check saw; the changed ones are summed again by the walk that re-reads them.
  const fingerprint = Uint32Array.from(walk.seen);
  for (const b of changed) fingerprint[b] = 0;
  return { s: '', c: '', walk: { mode: 'emit', fingerprint, buckets: changed } };
}

// ---------- reading WeCom's shapes ----------

function toFollow(source: SourceName, region: CountryCode, f: JsonObject): Slot<WecomFollow> {
  const staffId = text(f.userid);
  if (!staffId) return badRow(source, 'external contact', 'follow_user.userid is missing');
  const addedAt = instantFromSeconds(f.createtime);
  if (!addedAt) return badRow(source, 'external contact', 'follow_user.createtime is not unix seconds');
  const mobiles = f.remark_mobiles ?? [];
  if (!Array.isArray(mobiles)) return badRow(source, 'external contact', 'follow_user.remark_mobiles is not a list');
  const tags = f.tags ?? [];
  if (!Array.isArray(tags)) return badRow(source, 'external contact', 'follow_user.tags is not a list');
  const remarkMobiles: string[] = [];
  for (const m of mobiles) {
    // Free text typed by staff: what is not a phone is no phone, not a broken record.
    const e164 = typeof m === 'string' || typeof m === 'number' ? normalizePhone(String(m), region) : null;
    if (e164 && !remarkMobiles.includes(e164)) remarkMobiles.push(e164);
  }
  return {
    staffId,
    remark: canonicalText(text(f.remark)),
    description: text(f.description),
    remarkCorpName: text(f.remark_corp_name),
    remarkMobiles,
    tags: tags.map((t) => (isObject(t) ? text(t.tag_name) : null)).filter((t): t is string => t !== null),
    addedAt,
    addWay: typeof f.add_way === 'number' && Number.isInteger(f.add_way) ? f.add_way : null,
    state: text(f.state),
  };
}

/** The canonical contact from an externalcontact/get answer (its follow_user pages already joined). */
function toContact(source: SourceName, region: CountryCode, id: string, contact: unknown, followUsers: unknown[]): Slot<WecomContact> {
  if (!isObject(contact)) return badRow(source, 'external contact', 'external_contact is not an object');
  if (contact.external_userid !== id) return badRow(source, 'external contact', 'external_userid is not the one asked for');
  const type = contact.type === 1 ? 'WECHAT' : contact.type === 2 ? 'WECOM' : null;
  if (!type) return badRow(source, 'external contact', 'type is neither 1 nor 2');
  const follows: WecomFollow[] = [];
  for (const f of followUsers) {
    if (!isObject(f)) return badRow(source, 'external contact', 'follow_user holds a non-object');
    const follow = toFollow(source, region, f);
    if (follow instanceof Error) return follow;
    // One entry per staff member: WeCom pages follow_user, and a page boundary must not duplicate one.
    if (!follows.some((x) => x.staffId === follow.staffId)) follows.push(follow);
  }
  follows.sort((a, b) => (a.addedAt < b.addedAt ? -1 : a.addedAt > b.addedAt ? 1 : a.staffId < b.staffId ? -1 : 1));
  return {
    source,
    externalUserId: id,
    name: canonicalText(text(contact.name)),
    unionid: text(contact.unionid),
    gender: normalizeGender(contact.gender),
    type,
    corpName: text(contact.corp_name),
    follows,
  };
}

/** The identity view of a contact: its unionid and every phone any staff member noted (raw; the resolver normalizes). */
function toScanned(source: SourceName, contact: JsonObject, followUsers: unknown[]): ScannedRecord | null {
  const id = text(contact.external_userid);
  if (!id) return null;
  const identifiers: RawIdentifier[] = [];
  const unionid = text(contact.unionid);
  if (unionid) identifiers.push({ kind: 'UNIONID', value: unionid });
  let latest = 0;
  for (const f of followUsers) {
    if (!isObject(f)) continue;
    const t = typeof f.createtime === 'number' ? f.createtime : Number(f.createtime);
    if (Number.isFinite(t)) latest = Math.max(latest, t);
    // A staff member notes a mobile on a contact they follow: the contact carries it from the earliest such follow.
    const since = Number.isFinite(t) ? instantFromSeconds(t) : null;
    for (const m of Array.isArray(f.remark_mobiles) ? f.remark_mobiles : []) {
      const value = typeof m === 'string' ? m.trim() : typeof m === 'number' ? String(m) : '';
      if (!value) continue;
      const known = identifiers.find((i) => i.kind === 'PHONE' && i.value === value);
      if (!known) identifiers.push({ kind: 'PHONE', value, since });
      else if (since && (!known.since || since < known.since)) known.since = since;
    }
  }
  // WeCom says nothing about when a contact changed; the latest follow is the nearest it has.
  const updatedAt = instantFromSeconds(latest);
  if (!updatedAt) return null;
  // The nickname is left out of traits: a WeChat nickname is rarely a name and would raise false conflicts.
  const traits = { name: remarkedName(followUsers), gender: normalizeGender(contact.gender) };
  return { source, recordId: id, updatedAt, identifiers, traits };
}

/**
 * The contact's name as staff noted it: the remark of the earliest follow (by createtime, then
 * staff id, as the contact's follows are ordered) whose remark names the person. A remark is
 * what a staff member calls the contact in WeCom (externalcontact/get `follow_user.remark`); in
 * sales teams it is the customer's name, often with a note after a dash or in brackets
 * (`贾磊伟-对价格敏感`, `张瑶（老客户）`: the name alone is kept), or only a surname and a form of
 * address (`金女士`, `陈先生`), which names no one and gives way to a later follow's remark. The
 * resolver weighs it as it weighs any source's name: a key that cannot tell people apart (a
 * handle, a word) says nothing.
 */
export function remarkedName(followUsers: readonly unknown[]): string | null {
  const follows = followUsers
    .filter(isObject)
    .map((f) => ({ at: Number(f.createtime), staff: text(f.userid) ?? '', name: remarkName(canonicalText(text(f.remark))) }))
    .filter((f) => f.name !== null);
  follows.sort((a, b) => a.at - b.at || (a.staff < b.staff ? -1 : a.staff > b.staff ? 1 : 0));
  return follows[0]?.name ?? null;
}

/**
 * The name a remark holds (`贾磊伟-对价格敏感` → `贾磊伟`), or null when it holds only a form of
 * address. The note after the name is a staff member's word about the customer (`WecomFollow.remark`),
 * never a name: wherever a remark serves as the contact's name, only this part may.
 */
export function nameOfRemark(remark: string | null | undefined): string | null {
  return remarkName(canonicalText(remark ?? null));
}

/** The name a remark holds, or null when it holds only a form of address. */
function remarkName(remark: string | null): string | null {
  if (!remark || FORM_OF_ADDRESS.test(remark)) return null;
  const noted = NAME_WITH_NOTE.exec(remark);
  return noted ? noted[1] : remark;
}

/**
 * A Han surname (one or two characters) and a form of address or a title alone (`金女士`,
 * `张经理`, `李工` for an engineer, `王姐`), or the familiar `老`/`小` before a surname (`老王`):
 * how staff address a contact, shared by everyone of that surname.
 */
const FORM_OF_ADDRESS = /^(?:[\u3400-\u9fff]{1,2}(?:先生|女士|小姐|太太|夫人|总|老师|经理|老板|主任|医生|律师|工|姐|哥|阿姨|叔叔|同学)|[老小][\u3400-\u9fff])$/;
/** A Han name (two to five characters, `·` in a transcribed name) and a note after a dash, a colon or a bracket. */
const NAME_WITH_NOTE = /^([\u3400-\u9fff·]{2,5})\s*[-－—–_|/:：(（[【]/;

/** A bound on GETs in flight, shared by every call of one connector. */
function limiter(max: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (active < max) active++;
    // A released slot is handed straight to the next waiter, so `active` never overshoots.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** A raw contact as externalcontact/get answers it, follow_user pages joined. */
interface RawContact {
  contact: JsonObject;
  followUsers: unknown[];
}

export function createWecomConnector(config: WecomConnectorConfig, observer: SourceObserver): WecomConnector {
  const SOURCE = config.name;
  const region = config.defaultRegion ?? DEFAULT_PHONE_REGION;
  const { transport, maxBatch, defaultPage } = connectorTransport(SOURCE, config, {
    maxIds: API_MAX_IDS,
    maxPage: API_MAX_PAGE,
    overloaded: busyBody(BUSY_ERRCODES),
    observer,
  });
  const concurrency = config.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`${SOURCE} connector: concurrency must be an integer ≥ 1, got ${concurrency}`);
  const bounded = limiter(concurrency);

  const token = new AccessToken({
    source: SOURCE,
    request: `GET ${PATH.token}`,
    /** `account`, here and below: the request a call is made for (`SourceCall.account`); a token fetch in flight serves every request waiting. */
    fetch: (account) =>
      observer.call({ source: SOURCE, operation: 'token', batchSize: 0, account }, () =>
        transport.getJson(PATH.token, { corpid: config.corpId, corpsecret: config.corpSecret }),
      ),
    refused: (code) => {
      const request = `GET ${PATH.token}`;
      if (BUSY_ERRCODES.has(code)) return errcodeError(SOURCE, code, request, BUSY_ERRCODES);
      // 40013 (corpid) / 40001 (secret) and kin: a configuration fault, said without the values.
      return new SourceError(SOURCE, 'SOURCE_BAD_RESPONSE', `${SOURCE} refused the credentials (errcode ${code}, ${request}): check corpId and corpSecret`, {
        request,
        errcode: code,
      });
    },
  });
  const accessToken = (account?: SourceAccount) => token.get(account);

  /**
   * One API request with the current token. A token errcode drops the token (only if it is
   * still the one used: concurrent requests share one refresh) and repeats the request once.
   * Other non-zero errcodes reject with ErrcodeFailure, for the caller to read or map.
   */
  async function api(method: 'GET' | 'POST', path: string, query: Query, body: unknown, account: SourceAccount | undefined): Promise<JsonObject> {
    const answer = await withToken(SOURCE, token, TOKEN_ERRCODES, { transport, method, path, query, body }, account);
    if (typeof answer === 'number') throw new ErrcodeFailure(answer);
    return answer;
  }

  /** `api`, with every errcode turned into a SourceError except those `keep` names (answered as ErrcodeFailure). */
  async function call(
    method: 'GET' | 'POST',
    path: string,
    query: Query,
    body: unknown,
    keep: ReadonlySet<number>,
    account?: SourceAccount,
  ): Promise<JsonObject | ErrcodeFailure> {
    try {
      return await api(method, path, query, body, account);
    } catch (e) {
      if (!(e instanceof ErrcodeFailure)) throw e;
      if (keep.has(e.errcode)) return e;
      throw errcodeError(SOURCE, e.errcode, `${method} ${path}`, BUSY_ERRCODES);
    }
  }

  /** One contact with all its follow_user pages (WeCom pages them past 500 followers); null when WeCom does not know it. */
  async function getContact(id: string, account: SourceAccount | undefined): Promise<RawContact | null> {
    const request = `GET ${PATH.contact}`;
    const followUsers: unknown[] = [];
    let contact: JsonObject | null = null;
    let cursor: string | null = null;
    for (let pages = 0; ; pages++) {
      const answer = await bounded(() =>
        call('GET', PATH.contact, cursor ? { external_userid: id, cursor } : { external_userid: id }, undefined, NO_CONTACT_ERRCODES, account),
      );
      if (answer instanceof ErrcodeFailure) return null;
      if (!isObject(answer.external_contact)) throw badResponse(SOURCE, request, '"external_contact" is not an object');
      if (!Array.isArray(answer.follow_user)) throw badResponse(SOURCE, request, '"follow_user" is not an array');
      contact ??= answer.external_contact;
      followUsers.push(...answer.follow_user);
      const next = answer.next_cursor;
      if (next != null && typeof next !== 'string') throw badResponse(SOURCE, request, '"next_cursor" is not a string');
      if (!next || next === cursor) break;
      // A contact with more than 100 pages of followers (50,000 staff) is a server loop, not a customer.
      if (pages >= 100) throw badResponse(SOURCE, request, '"next_cursor" does not end');
      cursor = next;
    }
    // The loop ran at least once and returned early unless the first page set `contact`.
    return { contact: contact!, followUsers };
  }

  /**
   * One observed operation call per chunk of ≤ maxBatch unique ids, each chunk fanned out to
   * per-id GETs; answers by id, and the ids whose chunk failed (one GET that failed fails its
   * chunk: the chunk is the call metrics and the breaker count). A token that cannot be had fails
   * every id: no chunk could be sent.
   */
  async function readContacts(
    operation: string,
    ids: readonly string[],
    account?: SourceAccount,
  ): Promise<{ found: Map<string, RawContact>; failed: ReadonlyMap<string, SourceError> }> {
    const wanted = [...new Set(ids.filter(isExternalUserId))];
    const found = new Map<string, RawContact>();
    if (wanted.length === 0) return { found, failed: NONE_FAILED };
    // Fetched before the chunks go out, so concurrent chunks share one token request.
    await accessToken(account);
    const { answers, failed } = await chunked(observer, { source: SOURCE, operation, account }, wanted, maxBatch, async (chunk) => [
      await Promise.all(chunk.map(async (id) => [id, await getContact(id, account)] as const)),
    ]);
    for (const [id, raw] of answers.flat()) if (raw) found.set(id, raw);
    return { found, failed };
  }

  /** Each id's contact, null for one WeCom does not know, its chunk's error for one whose chunk failed. */
  async function contactsFor(operation: string, ids: readonly string[], account: SourceAccount | undefined): Promise<Array<Slot<WecomContact> | null>> {
    const { found, failed } = await readContacts(operation, ids, account);
    return ids.map((id) => {
      const raw = found.get(id);
      return failed.get(id) ?? (raw ? toContact(SOURCE, region, id, raw.contact, raw.followUsers) : null);
    });
  }

  let staffCache: { list: string[]; at: number } | null = null;

  /** The staff members with customer-contact permission, in userid order (the scan's walk order). */
  async function staffList(account?: SourceAccount): Promise<string[]> {
    if (staffCache && Date.now() - staffCache.at < STAFF_CACHE_MS) return staffCache.list;
    await accessToken(account);
    const body = await observer.call({ source: SOURCE, operation: 'staff', batchSize: 0, account }, () => call('GET', PATH.staff, {}, undefined, new Set(), account));
    const list = (body as JsonObject).follow_user;
    if (!Array.isArray(list) || !list.every((u) => typeof u === 'string')) {
      throw badResponse(SOURCE, `GET ${PATH.staff}`, '"follow_user" is not a list of userids');
    }
    const sorted = [...new Set(list as string[])].sort();
    staffCache = { list: sorted, at: Date.now() };
    return sorted;
  }

  let listed: { ids: string[]; at: number } | null = null;
  let listing: Promise<string[]> | null = null;
  let listedCalls: number | null = null;

  async function listContacts(account: SourceAccount | undefined): Promise<string[]> {
    const staff = await staffList(account);
    const ids = new Set<string>();
    const request = `POST ${PATH.byUser}`;
    const runs = Math.max(1, Math.min(concurrency, staff.length));
    const per = Math.ceil(staff.length / runs);
    const groups: string[][] = [];
    for (let i = 0; i < staff.length; i += Math.min(per, API_MAX_IDS)) groups.push(staff.slice(i, i + Math.min(per, API_MAX_IDS)));
    let calls = 0;
    /** Every contact of one group of staff, paged; a group naming a staff member who left is split until only they are left out. */
    const walkGroup = async (userids: string[]): Promise<void> => {
      let cursor = '';
      for (let pages = 0; ; pages++) {
        if (pages > 100_000) throw badResponse(SOURCE, request, 'next_cursor never ends');
        calls++;
        const answer = await observer.call({ source: SOURCE, operation: 'contactIds', batchSize: userids.length, account }, () =>
          call('POST', PATH.byUser, {}, { userid_list: userids, cursor, limit: API_MAX_PAGE }, new Set([USERID_NOT_FOUND]), account),
        );
        // 60111: a staff member left between listing and paging; the next listing of staff drops them.
        // It refuses the whole userid_list, so the others' contacts are read in halves (a Set drops repeats).
        if (answer instanceof ErrcodeFailure) {
          if (userids.length === 1) return;
          const half = Math.ceil(userids.length / 2);
          await Promise.all([walkGroup(userids.slice(0, half)), walkGroup(userids.slice(half))]);
          return;
        }
        const list = answer.external_contact_list;
        if (!Array.isArray(list)) throw badResponse(SOURCE, request, '"external_contact_list" is not an array');
        for (const item of list) {
          const id = isObject(item) && isObject(item.external_contact) ? text(item.external_contact.external_userid) : null;
          if (id) ids.add(id);
        }
        const next = answer.next_cursor ?? '';
        if (typeof next !== 'string') throw badResponse(SOURCE, request, '"next_cursor" is not a string');
        if (!next || next === cursor) return;
        cursor = next;
      }
    };
    await Promise.all(groups.map(walkGroup));
    listedCalls = calls;
    const out = [...ids];
    if (out.length <= CONTACT_IDS_MAX) listed = { ids: out, at: Date.now() };
    return out;
  }

  const connector: WecomConnector = {
    name: SOURCE,
    maxBatch,

    contactsByIds: (ids, account) => contactsFor('contactsByIds', ids, account),

    async eventsByRecordIds(ids, query, account) {
      checkEventQuery(SOURCE, query);
      const kinds = kindsWanted(WECOM_EVENTS, query.kinds);
      if (kinds.length === 0) return ids.map(() => []);
      const since = query.since == null ? null : Date.parse(query.since);
      const contacts = await contactsFor('eventsByRecordIds', ids, account);
      return contacts.map((c) => {
        if (c === null) return [];
        // A malformed contact is one bad row among the key's events; a failed chunk fails the key.
        if (c instanceof SourceRowError) return [c];
        if (c instanceof Error) return c;
        const events: SourceEvent[] = c.follows.map((f) => ({
          kind: 'wecom_contact_added',
          at: f.addedAt,
          // A contact is added by a staff member at most once at a time, so (contact, staff) names the event.
          id: `${c.externalUserId}:${f.staffId}`,
          recordId: c.externalUserId,
          refId: f.staffId,
          channel: 'wecom',
        }));
        return events
          .filter((e) => (since == null || Date.parse(e.at) >= since) && (!query.after || isAfter(e, query.after)))
          .sort(compareEvents)
          .slice(0, query.limit);
      });
    },

    /**
     * Every current contact's external_userid: batch/get_by_user over the staff list, paged 100
     * contacts at a time. The staff list is cut into `concurrency` runs of consecutive members,
     * each paged in turn and the runs at once (a run's pages follow one cursor). Filter pushdown
     * for engagement: a contact answered here is followed by some staff member now, so it is
     * both subscribed and a staff contact.
     */
    async contactIds(account) {
      if (listed && Date.now() - listed.at < CONTACT_IDS_TTL_MS) return listed.ids;
      return (listing ??= listContacts(account).finally(() => {
        listing = null;
      }));
    },

    contactIdsCalls() {
      if (listed && Date.now() - listed.at < CONTACT_IDS_TTL_MS) return 0;
      // The last listing's pages, and the staff list it reads first when that is not kept (kept as long as a listing: both expire together).
      return listedCalls === null ? null : listedCalls + (staffCache && Date.now() - staffCache.at < STAFF_CACHE_MS ? 0 : 1);
    },

    async scan(cursor, pageSize) {
      const decoded = decodeCursor(SOURCE, cursor);
      let state = !decoded || decoded.walk.mode === 'ended' ? passAfter(decoded?.walk.mode === 'ended' ? decoded.walk.fingerprint : null) : decoded;
      const limit = Math.min(API_MAX_PAGE, Math.max(1, Math.floor(pageSize ?? defaultPage)));
      const staff = await staffList();
      const request = `POST ${PATH.byUser}`;
      const ids: string[] = [];
      // A page is one listing call, or up to WALK_CALLS_PER_PAGE while they name no contact to re-read.
      for (let calls = 0; ;) {
        const walk = state.walk as Exclude<Walk, { mode: 'ended' }>;
        // Resume at the named staff member, or the next one in order if they left since.
        const at = staff.findIndex((s) => s >= state.s!);
        if (at < 0) {
          state = afterWalk(walk);
          break;
        }
        const staffId = staff[at];
        const serverCursor = state.s === staffId ? state.c : '';
        const answer = await observer.call({ source: SOURCE, operation: 'scan', batchSize: limit }, () =>
          call('POST', PATH.byUser, {}, { userid_list: [staffId], cursor: serverCursor, limit }, new Set([USERID_NOT_FOUND])),
        );
        calls++;
        let next = '';
        if (!(answer instanceof ErrcodeFailure)) {
          const list = answer.external_contact_list;
          if (!Array.isArray(list)) throw badResponse(SOURCE, request, '"external_contact_list" is not an array');
          const nc = answer.next_cursor ?? '';
          if (typeof nc !== 'string') throw badResponse(SOURCE, request, '"next_cursor" is not a string');
          next = nc === serverCursor ? '' : nc;
          for (const item of list) {
            const id = isObject(item) && isObject(item.external_contact) ? text(item.external_contact.external_userid) : null;
            // An entry that names no contact cannot be placed; the cursor moves past it regardless.
            if (!id) continue;
            const bucket = bucketOf(id);
            if (walk.mode === 'check') addEntry(walk.seen, bucket, entryHash(item as JsonObject));
            else if (!walk.buckets || walk.buckets.has(bucket)) {
              addEntry(walk.fingerprint, bucket, entryHash(item as JsonObject));
              if (!ids.includes(id)) ids.push(id);
            }
          }
        } // else 60111: the staff member left between listing and paging; their contacts were handed over or are gone.
        if (next) state = { ...state, s: staffId, c: next };
        else if (at + 1 < staff.length) state = { ...state, s: staff[at + 1], c: '' };
        else {
          state = afterWalk(walk);
          break;
        }
        if (ids.length || calls >= WALK_CALLS_PER_PAGE) break;
      }
      // The page's contacts, re-read whole: get_by_user's follow_info is only this staff member's entry.
      const read = ids.length ? await connector.scanRecords(ids) : [];
      const records = read.filter((r): r is ScannedRecord => r !== null && !(r instanceof SourceError));
      return { records, cursor: encodeCursor(state), done: state.walk.mode === 'ended', malformed: read.filter((r) => r instanceof SourceError).length } satisfies ScanPage;
    },

    /** Every key or none: a key answered null here is a contact WeCom no longer has, never a chunk that failed. */
    async scanRecords(recordIds) {
      // Asked by a change callback: the kept contact listing may be out of date.
      listed = null;
      const { found, failed } = await readContacts('scanRecords', recordIds);
      noneFailed(failed);
      return recordIds.map((id) => {
        const raw = found.get(id);
        return raw ? (toScanned(SOURCE, raw.contact, raw.followUsers) ?? unreadableRecord(SOURCE)) : null;
      });
    },

    async health() {
      await accessToken();
      await observer.call({ source: SOURCE, operation: 'health', batchSize: 0 }, () => call('GET', PATH.staff, {}, undefined, new Set()));
    },

    async close() {
      token.clear();
      staffCache = null;
      listed = null;
    },
  };
  return connector;
}
