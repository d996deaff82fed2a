/**
 * Salesforce connector: Contacts over Salesforce's REST API
 * (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/), the only code that talks to it.
 *
 * Keys: Contact ids, 18 characters (a 15-character one is read as its 18-character form; anything
 * else is no Contact, answered null without asking). One call = one SOQL query
 * (`GET /services/data/vXX.X/query?q=SELECT … FROM Contact WHERE Id IN (…)`) per chunk of
 * `maxBatch` ids, its `nextRecordsUrl` pages followed within the call. Timeline events come from
 * the same query shape with a Task subquery per Contact (`(SELECT … FROM Tasks … LIMIT n)`: the
 * limit holds per Contact), one call per chunk. The identity feed reads `queryAll` ordered by
 * `SystemModstamp`, so deleted Contacts (in the Recycle Bin) come with `IsDeleted = true`.
 *
 * Errors are Salesforce's: a refused request answers `[{ "message", "errorCode" }]`. 401
 * INVALID_SESSION_ID: the token is asked for again and the call made once more. 403
 * REQUEST_LIMIT_EXCEEDED (the org's daily API requests are spent): SOURCE_UNAVAILABLE, counted by
 * the breaker. Any other code: SOURCE_BAD_RESPONSE naming the code, never the message (it may quote
 * the query, and so the ids in it). Every answer's `Sforce-Limit-Info: api-usage=used/max` is
 * reported to the observer (`c360_source_quota`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CountryCode } from 'libphonenumber-js';
import { badRow, isSourceError, type SourceError, type SourceErrorCode, unreadableRecord } from '../../errors';
import { canonicalText, DEFAULT_PHONE_REGION, instantFromIso, normalizeDate, normalizeEmail, normalizePhone } from '../../canonical';
import { badResponse, connectorTransport, type HttpConnectorOptions, type HttpTransport, type JsonObject } from '../http';
import { chunked, listsOf, noneFailed, type SourceObserver } from '../observe';
import type { EventKind, EventQuery, ListSlot, RawIdentifier, ScanPage, ScannedRecord, Slot, SourceAccount, SourceEvent, SourceName } from '../../vocabulary';
import { checkEventQuery, compareEvents, isAfter, kindsWanted } from '../../vocabulary/event-order';
import { TokenSource, type SalesforceAuth } from './auth';
import { idsIn, salesforceId, soqlDateTime } from './soql';
import type { SalesforceConnector, SalesforceContact } from './types';

export interface SalesforceConnectorConfig extends HttpConnectorOptions {
  /** The instance name: OneID source, metrics and errors (default `salesforce`). */
  name?: SourceName;
  /** How the access token is obtained (from the environment). */
  auth: SalesforceAuth;
  /** Where tokens are asked for; default `baseUrl` (the org's My Domain, which the client credentials flow requires). */
  loginUrl?: string;
  /** The REST API version, `62.0`. */
  apiVersion: string;
  /** Region for phones typed without a country code; default CN. */
  defaultRegion?: CountryCode;
}

/** The timeline event kinds this system emits. */
export const SALESFORCE_EVENTS: readonly EventKind[] = ['salesforce_contact_created', 'salesforce_task_logged'];

const DEFAULT_NAME = 'salesforce';
/**
 * Ids per query. A GET carries the SOQL in its URL: each 18-character id costs 27 bytes there
 * (quoted, comma, percent-encoded), so 300 ids and the field list stay near 9 KB, within the
 * 16,384 bytes Salesforce takes for the URI and headers together (beyond: 414 or 431,
 * help.salesforce.com/s/articleView?id=000386264), and far within SOQL's 100,000 characters.
 * The default, 200, keeps it near 5.5 KB.
 */
export const API_MAX_IDS = 300;
export const DEFAULT_MAX_BATCH = 200;
/** Records a query page holds at most (Salesforce's: 2,000). */
const API_MAX_PAGE = 2000;
/** Pages one chunk's query follows at most; a Contact query of ≤ 300 ids takes one. */
const MAX_PAGES = 20;
/**
 * Tasks a Contact's subquery reads beyond the page's `limit`: a timeline page that ends inside a
 * second skips the events of that second already shown, client-side, and these stand in for them.
 */
const TIE_SLACK = 50;
const CONTACT_PREFIX = '003';
const CURSOR_PREFIX = 'sf1:';

const CONTACT_FIELDS = ['Id', 'Name', 'Email', 'Phone', 'MobilePhone', 'Birthdate', 'CreatedDate', 'LastModifiedDate'];
const SCAN_FIELDS = [...CONTACT_FIELDS, 'SystemModstamp', 'IsDeleted'];

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** Salesforce's error codes are upper snake case constants; anything else in that place is not one of its answers. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * A refused request's verdict from Salesforce's error body (`[{ message, errorCode }]`), for the
 * transport: null for a body that is not one (the transport answers its plain SOURCE_BAD_RESPONSE).
 */
export function salesforceRefusal(status: number, body: unknown): { code: SourceErrorCode; what: string; errorCode: string; systemFailure: boolean } | null {
  if (!Array.isArray(body) || body.length === 0) return null;
  const first = body[0] as { errorCode?: unknown } | null;
  const errorCode = first && typeof first === 'object' ? first.errorCode : undefined;
  if (typeof errorCode !== 'string' || !ERROR_CODE.test(errorCode)) return null;
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED')
    return { code: 'SOURCE_UNAVAILABLE', what: 'refused the request: the org has spent its API requests (REQUEST_LIMIT_EXCEEDED)', errorCode, systemFailure: true };
  // Not the system's failure: the connector asks for a new token and calls again once.
  if (errorCode === 'INVALID_SESSION_ID') return { code: 'SOURCE_UNAVAILABLE', what: 'refused the access token (INVALID_SESSION_ID)', errorCode, systemFailure: false };
  return { code: 'SOURCE_BAD_RESPONSE', what: `rejected the request (${errorCode})`, errorCode, systemFailure: false };
}

/** `api-usage=used/max` from a Sforce-Limit-Info header, or null. */
export function apiUsage(header: string | string[] | undefined): { used: number; limit: number } | null {
  const v = Array.isArray(header) ? header[0] : header;
  const m = v ? /(?:^|[,;\s])api-usage=(\d{1,12})\/(\d{1,12})/.exec(v) : null;
  return m ? { used: Number(m[1]), limit: Number(m[2]) } : null;
}

/** One Contact in the canonical vocabulary; a row error naming the field it could not read. */
function toContact(SOURCE: SourceName, region: CountryCode, r: JsonObject, id: string): Slot<SalesforceContact> {
  const createdAt = instantFromIso(r.CreatedDate);
  const updatedAt = instantFromIso(r.LastModifiedDate);
  if (!createdAt) return badRow(SOURCE, 'Contact', 'CreatedDate is not an ISO-8601 time');
  if (!updatedAt) return badRow(SOURCE, 'Contact', 'LastModifiedDate is not an ISO-8601 time');
  let birthday: string | null = null;
  if (r.Birthdate != null) {
    birthday = typeof r.Birthdate === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(r.Birthdate) ? normalizeDate(r.Birthdate) : null;
    if (!birthday) return badRow(SOURCE, 'Contact', 'Birthdate is not a YYYY-MM-DD date');
  }
  return {
    id,
    name: canonicalText(text(r.Name)),
    email: normalizeEmail(text(r.Email)),
    phone: normalizePhone(text(r.Phone), region),
    mobilePhone: normalizePhone(text(r.MobilePhone), region),
    birthday,
    createdAt,
    updatedAt,
  };
}

/** A Contact as the identity feed reads it: its email and phones raw (OneID reads them in the source's region), its name and birthday as traits. */
function toScanned(SOURCE: SourceName, r: JsonObject): ScannedRecord | null {
  const recordId = salesforceId(r.Id, CONTACT_PREFIX);
  const updatedAt = instantFromIso(r.SystemModstamp);
  if (!recordId || !updatedAt) return null;
  const identifiers: RawIdentifier[] = [];
  const email = text(r.Email);
  if (email) identifiers.push({ kind: 'EMAIL', value: email });
  for (const p of [text(r.Phone), text(r.MobilePhone)]) if (p) identifiers.push({ kind: 'PHONE', value: p });
  const birthday = typeof r.Birthdate === 'string' ? normalizeDate(r.Birthdate) : null;
  const record: ScannedRecord = { source: SOURCE, recordId, updatedAt, identifiers, traits: { name: canonicalText(text(r.Name)), birthday } };
  // A deleted Contact (Recycle Bin, or merged into another) is still answered by queryAll: its links end.
  if (r.IsDeleted === true) record.deleted = true;
  return record;
}

/** A query answer's records, and where the next page is (a path under the API, checked), or null. */
function queryPage(SOURCE: SourceName, request: string, body: JsonObject, version: string): { records: JsonObject[]; next: string | null } {
  const records = body.records;
  if (!Array.isArray(records) || records.some((r) => r === null || typeof r !== 'object' || Array.isArray(r)))
    throw badResponse(SOURCE, request, '"records" is not an array of objects');
  if (typeof body.done !== 'boolean') throw badResponse(SOURCE, request, '"done" is not a boolean');
  if (body.done) return { records: records as JsonObject[], next: null };
  const next = locatorOf(body.nextRecordsUrl, version);
  if (!next) throw badResponse(SOURCE, request, '"nextRecordsUrl" is not a query locator of this API version');
  return { records: records as JsonObject[], next };
}

/** The locator (`01gRO0000016PIAYA2-2000`) of a `nextRecordsUrl` of this API version, or null. */
function locatorOf(url: unknown, version: string): string | null {
  if (typeof url !== 'string') return null;
  const m = /^\/services\/data\/v(\d{2,3}\.\d)\/query(?:All)?\/([A-Za-z0-9]{15,18}-\d{1,9})$/.exec(url);
  return m && m[1] === version ? m[2] : null;
}

/** The scan's position: the pass's start (whole seconds) and the Contacts of that second already read; within a pass, its next page and the newest second read. */
interface ScanCursor {
  t: number | null;
  seen: string[];
  next: string | null;
  max: number | null;
  atMax: string[];
}

function encodeCursor(c: ScanCursor): string {
  return CURSOR_PREFIX + Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(SOURCE: SourceName, raw: string): ScanCursor {
  const refuse = () => new Error(`${SOURCE} scan: the cursor was not made by this connector`);
  if (!raw.startsWith(CURSOR_PREFIX)) throw refuse();
  let c: ScanCursor;
  try {
    c = JSON.parse(Buffer.from(raw.slice(CURSOR_PREFIX.length), 'base64url').toString('utf8')) as ScanCursor;
  } catch {
    throw refuse();
  }
  const second = (v: unknown) => v === null || (Number.isSafeInteger(v) && (v as number) >= 0);
  const ids = (v: unknown) => Array.isArray(v) && v.every((id) => salesforceId(id, CONTACT_PREFIX) === id);
  if (c === null || typeof c !== 'object' || !second(c.t) || !second(c.max) || !ids(c.seen) || !ids(c.atMax)) throw refuse();
  if (c.next !== null && (typeof c.next !== 'string' || !/^[A-Za-z0-9]{15,18}-\d{1,9}$/.test(c.next))) throw refuse();
  return c;
}

const secondOf = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function createSalesforceConnector(config: SalesforceConnectorConfig, observer: SourceObserver): SalesforceConnector {
  const SOURCE: SourceName = config.name ?? DEFAULT_NAME;
  const region = config.defaultRegion ?? DEFAULT_PHONE_REGION;
  const version = config.apiVersion;
  const PATH = {
    query: `/services/data/v${version}/query`,
    queryAll: `/services/data/v${version}/queryAll`,
    more: `/services/data/v${version}/query/{locator}`,
    limits: `/services/data/v${version}/limits`,
  };
  let bearer = '';
  const answered = (headers: IncomingHttpHeaders) => {
    const usage = apiUsage(headers['sforce-limit-info']);
    if (usage) observer.quota?.(SOURCE, usage.used, usage.limit);
  };
  const { transport, maxBatch } = connectorTransport(SOURCE, config, { maxIds: API_MAX_IDS, maxPage: API_MAX_PAGE, observer, refusal: salesforceRefusal, answered }, () => ({
    authorization: `Bearer ${bearer}`,
  }));
  // Tokens on a transport of their own: the login host may be another, and a refused token request must not open the API's circuit.
  const login = connectorTransport(SOURCE, { ...config, baseUrl: config.loginUrl ?? config.baseUrl }, { maxIds: API_MAX_IDS, maxPage: API_MAX_PAGE, observer }).transport;
  const tokens = new TokenSource(SOURCE, login, config.auth, observer);

  /** One request with the current token; a token Salesforce refuses (INVALID_SESSION_ID) is replaced once and the request made again. */
  async function authed(run: (t: HttpTransport) => Promise<JsonObject>): Promise<JsonObject> {
    let token = await tokens.token();
    for (let attempt = 0; ; attempt++) {
      bearer = token;
      try {
        return await run(transport);
      } catch (e) {
        if (attempt > 0 || !isSourceError(e) || e.detail?.errorCode !== 'INVALID_SESSION_ID') throw e;
        token = await tokens.refresh(token);
      }
    }
  }

  /** Every record of one SOQL query, its pages followed (at most MAX_PAGES). */
  async function queryAllPages(soql: string, path: string, firstLocator: string | null = null): Promise<{ records: JsonObject[] }> {
    const records: JsonObject[] = [];
    let next = firstLocator;
    for (let page = 0; page < MAX_PAGES; page++) {
      const request = next ? `GET ${PATH.more}` : `GET ${path}`;
      const locator = next;
      const body = await authed((t) => (locator ? t.getJson(PATH.more, undefined, { locator }) : t.getJson(path, { q: soql })));
      const answer = queryPage(SOURCE, request, body, version);
      records.push(...answer.records);
      if (!answer.next) return { records };
      next = answer.next;
    }
    throw badResponse(SOURCE, `GET ${path}`, `the query did not end within ${MAX_PAGES} pages`);
  }

  /** The Contacts of unique valid keys, by 18-character id, and the keys whose chunk failed; `path` query or queryAll (deleted ones too). */
  async function readContacts(operation: string, ids: readonly string[], fields: readonly string[], path: string, account?: SourceAccount) {
    const wanted = [...new Set(ids.map((id) => salesforceId(id, CONTACT_PREFIX)).filter((id): id is string => id !== null))];
    const { answers, failed } = await chunked(observer, { source: SOURCE, operation, account }, wanted, maxBatch, async (chunk: string[]) => {
      const { records } = await queryAllPages(`SELECT ${fields.join(', ')} FROM Contact WHERE ${idsIn('Id', chunk)}`, path);
      return records;
    });
    const byId = new Map<string, JsonObject>();
    for (const r of answers) {
      // Placed by its Id, never by position; a record without one answers nowhere.
      const id = salesforceId(r.Id, CONTACT_PREFIX);
      if (id) byId.set(id, r);
    }
    return { byId, failed };
  }

  /** A Contact's events: its creation and its Tasks (the subquery's records), as the query asks, newest first. */
  function eventsOf(r: JsonObject, contactId: string, query: EventQuery, kinds: readonly EventKind[]): Array<Slot<SourceEvent>> {
    const since = query.since == null ? null : Date.parse(query.since);
    const events: SourceEvent[] = [];
    const errors: SourceError[] = [];
    const keep = (e: SourceEvent) => kinds.includes(e.kind) && (since === null || Date.parse(e.at) >= since) && (!query.after || isAfter(e, query.after));
    const created = instantFromIso(r.CreatedDate);
    if (!created) errors.push(badRow(SOURCE, 'Contact', 'CreatedDate is not an ISO-8601 time'));
    else {
      const e: SourceEvent = { kind: 'salesforce_contact_created', at: created, id: contactId, recordId: contactId };
      if (keep(e)) events.push(e);
    }
    const tasks = r.Tasks as { records?: unknown } | null | undefined;
    if (tasks != null && !Array.isArray(tasks.records)) errors.push(badRow(SOURCE, 'Contact', 'Tasks is not a query result'));
    for (const t of (tasks?.records as JsonObject[] | undefined) ?? []) {
      const id = salesforceId(t?.Id);
      const at = instantFromIso(t?.CreatedDate);
      if (!id || !at) {
        errors.push(badRow(SOURCE, 'Task', !id ? 'Id is missing' : 'CreatedDate is not an ISO-8601 time'));
        continue;
      }
      const e: SourceEvent = { kind: 'salesforce_task_logged', at, id, recordId: contactId, title: text(t.Subject), status: text(t.Status) };
      if (keep(e)) events.push(e);
    }
    events.sort(compareEvents);
    return [...events.slice(0, query.limit), ...errors];
  }

  /** The Task subquery for one events page: whole seconds, newest first, `limit` and the tie slack per Contact. */
  function taskSubquery(query: EventQuery): string {
    const where: string[] = [];
    if (query.since != null) where.push(`CreatedDate >= ${soqlDateTime(Date.parse(query.since))}`);
    // Salesforce keeps whole seconds: the position's second and older; the second's events already shown are dropped above.
    if (query.after) where.push(`CreatedDate <= ${soqlDateTime(Date.parse(query.after.at))}`);
    const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    return `(SELECT Id, Subject, Status, CreatedDate FROM Tasks${filter} ORDER BY CreatedDate DESC, Id ASC LIMIT ${query.limit + TIE_SLACK})`;
  }

  return {
    name: SOURCE,
    maxBatch,

    async contactsByIds(ids, account) {
      const { byId, failed } = await readContacts('contactsByIds', ids, CONTACT_FIELDS, PATH.query, account);
      return ids.map((key) => {
        const id = salesforceId(key, CONTACT_PREFIX);
        if (!id) return null;
        const r = byId.get(id);
        return failed.get(id) ?? (r ? toContact(SOURCE, region, r, key) : null);
      });
    },

    async eventsByRecordIds(ids, query, account) {
      checkEventQuery(SOURCE, query);
      const kinds = kindsWanted(SALESFORCE_EVENTS, query.kinds);
      if (kinds.length === 0) return ids.map(() => []);
      const fields = kinds.includes('salesforce_task_logged') ? ['Id', 'CreatedDate', taskSubquery(query)] : ['Id', 'CreatedDate'];
      const { byId, failed } = await readContacts('eventsByRecordIds', ids, fields, PATH.query, account);
      const lists = new Map<string, Array<Slot<SourceEvent>>>();
      const idOf = new Map<string, string>();
      for (const key of ids) {
        const id = salesforceId(key, CONTACT_PREFIX);
        if (!id) continue;
        idOf.set(key, id);
        const r = byId.get(id);
        if (r) lists.set(key, eventsOf(r, key, query, kinds));
      }
      const failedByKey = new Map<string, SourceError>();
      for (const [key, id] of idOf) {
        const e = failed.get(id);
        if (e) failedByKey.set(key, e);
      }
      return listsOf(ids, lists, failedByKey) as Array<ListSlot<SourceEvent>>;
    },

    async scan(cursor) {
      const c: ScanCursor = cursor == null ? { t: null, seen: [], next: null, max: null, atMax: [] } : decodeCursor(SOURCE, cursor);
      const where = c.t === null ? '' : ` WHERE SystemModstamp >= ${soqlDateTime(c.t * 1000)}`;
      const soql = `SELECT ${SCAN_FIELDS.join(', ')} FROM Contact${where} ORDER BY SystemModstamp ASC, Id ASC`;
      const request = `GET ${c.next ? PATH.more : PATH.queryAll}`;
      let body: JsonObject;
      try {
        body = await observer.call({ source: SOURCE, operation: 'scan', batchSize: 0 }, () =>
          authed((t) => (c.next ? t.getJson(PATH.more, undefined, { locator: c.next }) : t.getJson(PATH.queryAll, { q: soql }))),
        );
      } catch (e) {
        // A locator Salesforce no longer keeps (idle for 15 minutes): the pass starts again from its start, re-reading what it read.
        if (!c.next || !isSourceError(e) || e.detail?.errorCode !== 'INVALID_QUERY_LOCATOR') throw e;
        body = await observer.call({ source: SOURCE, operation: 'scan', batchSize: 0 }, () => authed((t) => t.getJson(PATH.queryAll, { q: soql })));
        c.max = null;
        c.atMax = [];
      }
      const page = queryPage(SOURCE, request, body, version);
      const seen = new Set(c.seen);
      const records: ScannedRecord[] = [];
      let malformed = 0;
      let max = c.max;
      let atMax = c.atMax;
      for (const r of page.records) {
        // A Contact without an id or SystemModstamp cannot be placed: skipped, the query moves past it regardless.
        const s = toScanned(SOURCE, r);
        if (!s) {
          malformed++;
          continue;
        }
        const second = secondOf(s.updatedAt);
        if (second === max) atMax.push(s.recordId);
        else if (max === null || second > max) {
          max = second;
          atMax = [s.recordId];
        }
        // What the last pass read in its newest second is read again (the query is in whole seconds): not told again.
        if (second === c.t && seen.has(s.recordId)) continue;
        records.push(s);
      }
      if (page.next) return { records, cursor: encodeCursor({ t: c.t, seen: c.seen, next: page.next, max, atMax }), done: false, malformed } satisfies ScanPage;
      // The pass is over: the next one starts at the newest second read, knowing which Contacts of it it has.
      const next: ScanCursor =
        max === null
          ? { t: c.t, seen: c.seen, next: null, max: null, atMax: [] }
          : { t: max, seen: max === c.t ? [...new Set([...c.seen, ...atMax])] : atMax, next: null, max: null, atMax: [] };
      return { records, cursor: encodeCursor(next), done: true, malformed } satisfies ScanPage;
    },

    /** Every key or none, deleted Contacts too (queryAll): null is a Contact Salesforce no longer has at all, a row error one it has but cannot read. */
    async scanRecords(recordIds) {
      const { byId, failed } = await readContacts('scanRecords', recordIds, SCAN_FIELDS, PATH.queryAll);
      noneFailed(failed);
      return recordIds.map((key) => {
        const id = salesforceId(key, CONTACT_PREFIX);
        const r = id ? byId.get(id) : undefined;
        if (!r) return null;
        const s = toScanned(SOURCE, r);
        return s ? { ...s, recordId: key } : unreadableRecord(SOURCE);
      });
    },

    async health() {
      // The org's limits: answers whenever the API and the token do (one API request of the day's quota).
      const body = await observer.call({ source: SOURCE, operation: 'health', batchSize: 0 }, () => authed((t) => t.getJson(PATH.limits)));
      const daily = body.DailyApiRequests as { Max?: unknown; Remaining?: unknown } | undefined;
      if (!daily || typeof daily.Max !== 'number' || typeof daily.Remaining !== 'number') throw badResponse(SOURCE, `GET ${PATH.limits}`, '"DailyApiRequests" is not a limit');
    },

    async close() {},
  };
}
