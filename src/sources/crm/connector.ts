/**
 * CRM connector: the sales CRM's own SQL tables, `crm_contacts` and `crm_tier_changes`.
 *
 * Keys: `contact_id` strings (`C0000001`), matched exactly; OneID record key `crm`/`contact_id`.
 * Cost: one indexed SELECT per chunk of at most `maxBatch` ids (default 500, at most
 * MAX_IN_LIST), `eventsByRecordIds` included (a UNION ALL of contact creations and tier
 * changes, ranked per contact); `scan` is one keyset SELECT per page on the `(updated_at, contact_id)` index.
 * The CRM's formats (Shanghai local-time strings, phones as typed, M/F/男/女, 1/0/NULL
 * opt-ins) are known here and nowhere else; everything leaves in the canonical vocabulary.
 */
import type { CountryCode } from 'libphonenumber-js';
import type { SqlConnection } from '../../db';
import { badRow, unreadableRecord } from '../../errors';
import { instantFromShanghaiLocal, isTimeNotDate, normalizeDate, shanghaiLocalText, normalizeEmail, normalizeGender, normalizePhone } from '../../canonical';
import type { SourceObserver } from '../observe';
import {
  batchByKey,
  everyKey,
  checkMaxBatch,
  createSqlSource,
  keysetScan,
  groupConverted,
  missingColumns,
  textOrNull,
  whereMatchesText,
  type BreakerOptions,
  type SqlSource,
} from '../sql';
import type { Knex } from 'knex';
import type { EventKind, EventQuery, RawIdentifier, ScannedRecord, Slot, SourceEvent, SourceName } from '../../vocabulary';
import type { CrmConnector, CrmContact, CrmTierChange } from './types';
import type { ProfileField } from '../../capabilities';
import { checkEventQuery, eventConditionSql, kindBound, kindRank, kindsWanted, sinceInUnit } from '../../vocabulary/event-order';

export interface CrmConnectorOptions {
  /** The instance name: OneID source, metrics and errors (default `crm`). */
  name?: SourceName;
  connection: SqlConnection;
  /** Per-statement timeout. */
  timeoutMs?: number;
  /** Ids per statement; default 500. */
  maxBatch?: number;
  /** Region for phones typed without a country code; default CN. */
  defaultRegion?: CountryCode;
  breaker?: Partial<BreakerOptions>;
}

/** A row of `crm_contacts`, as the CRM stores it. */
export interface CrmContactRow {
  contact_id: string;
  name: string | null;
  mobile: string | null;
  email: string | null;
  gender: string | null;
  birthday: string | null;
  province: string | null;
  city: string | null;
  member_no: string | null;
  tier: string | null;
  owner_rep: string | null;
  owner_team: string | null;
  sms_opt_in: number | null;
  email_opt_in: number | null;
  created_at: string;
  updated_at: string;
}

/** A row of `crm_tier_changes`. */
export interface CrmTierChangeRow {
  change_id: number;
  contact_id: string;
  from_tier: string | null;
  to_tier: string | null;
  changed_at: string;
}

/** One row of the events statement: both kinds in one shape; ids in the column of their type. */
interface CrmEventRow {
  contact_id: string;
  kind_rank: unknown;
  at: string;
  id_num: number | null;
  id_text: string | null;
  from_tier: string | null;
  to_tier: string | null;
}

/** The timeline event kinds this system emits. */
export const CRM_EVENTS: readonly EventKind[] = ['crm_created', 'tier_changed'];

/** The instance name when the options name none (the demo's). */
const DEFAULT_NAME = 'crm';

const CONTACT_COLUMNS = [
  'contact_id',
  'name',
  'mobile',
  'email',
  'gender',
  'birthday',
  'province',
  'city',
  'member_no',
  'tier',
  'owner_rep',
  'owner_team',
  'sms_opt_in',
  'email_opt_in',
  'created_at',
  'updated_at',
] as const;
const SCAN_COLUMNS = ['contact_id', 'name', 'mobile', 'email', 'gender', 'birthday', 'member_no', 'updated_at'] as const;
const TIER_CHANGE_COLUMNS = ['change_id', 'contact_id', 'from_tier', 'to_tier', 'changed_at'] as const;
/** Every table and column this connector reads: the start-up check's list. */
const TABLES = { crm_contacts: CONTACT_COLUMNS, crm_tier_changes: TIER_CHANGE_COLUMNS };
type CrmScanRow = Pick<CrmContactRow, (typeof SCAN_COLUMNS)[number]>;

/** The contact columns `contactIdsWhere` searches, by profile field: text as `matchText` compares it (`whereMatchesText`), flags as 0/1. */
const SEARCH_TEXT: Partial<Record<ProfileField, string>> = { memberTier: 'tier', city: 'city', province: 'province' };
const SEARCH_FLAG: Partial<Record<ProfileField, string>> = { 'marketingConsent.sms': 'sms_opt_in', 'marketingConsent.email': 'email_opt_in' };
/** The profile fields `contactIdsWhere` answers in one statement. */
export const CONTACT_SEARCHABLE = [...Object.keys(SEARCH_TEXT), ...Object.keys(SEARCH_FLAG)] as ProfileField[];

export function createCrmConnector(opts: CrmConnectorOptions, observer: SourceObserver): CrmConnector {
  const SOURCE: SourceName = opts.name ?? DEFAULT_NAME;
  const maxBatch = checkMaxBatch(SOURCE, opts.maxBatch ?? 500);
  const region = opts.defaultRegion ?? 'CN';
  const sql = createSqlSource({ source: SOURCE, connection: opts.connection, timeoutMs: opts.timeoutMs, breaker: opts.breaker });

  function toContact(r: CrmContactRow): Slot<CrmContact> {
    const createdAt = instantFromShanghaiLocal(r.created_at);
    if (!createdAt) return badRow(SOURCE, 'contact', 'created_at is not a local date-time');
    const updatedAt = instantFromShanghaiLocal(r.updated_at);
    if (!updatedAt) return badRow(SOURCE, 'contact', 'updated_at is not a local date-time');
    const birthday = normalizeDate(r.birthday);
    // A unix time where YYYY-MM-DD belongs (or any time of day but midnight) is a machine's write in another unit: null would read as "no birthday given".
    if (birthday === null && isTimeNotDate(r.birthday)) return badRow(SOURCE, 'contact', 'birthday is a time, not a date');
    return {
      id: r.contact_id,
      name: textOrNull(r.name),
      phone: normalizePhone(r.mobile, region),
      email: normalizeEmail(r.email),
      gender: normalizeGender(r.gender),
      birthday,
      province: textOrNull(r.province),
      city: textOrNull(r.city),
      memberNo: textOrNull(r.member_no),
      tier: textOrNull(r.tier),
      ownerRep: textOrNull(r.owner_rep),
      ownerTeam: textOrNull(r.owner_team),
      smsOptIn: optIn(r.sms_opt_in),
      emailOptIn: optIn(r.email_opt_in),
      createdAt,
      updatedAt,
    };
  }

  function toTierChange(r: CrmTierChangeRow): Slot<CrmTierChange> {
    const changedAt = instantFromShanghaiLocal(r.changed_at);
    if (!changedAt) return badRow(SOURCE, 'tier change', 'changed_at is not a local date-time');
    const toTier = textOrNull(r.to_tier);
    if (!toTier) return badRow(SOURCE, 'tier change', 'to_tier is empty');
    return { contactId: r.contact_id, fromTier: textOrNull(r.from_tier), toTier, changedAt };
  }

  /** The identity view of a contact; null when its updated_at cannot be read (see `scan`). */
  function toScanned(r: CrmScanRow): ScannedRecord | null {
    const updatedAt = instantFromShanghaiLocal(r.updated_at);
    if (!updatedAt) return null;
    // Raw values: the resolver normalizes, and needs to see what the CRM actually holds.
    const identifiers: RawIdentifier[] = [];
    if (textOrNull(r.mobile)) identifiers.push({ kind: 'PHONE', value: r.mobile as string });
    if (textOrNull(r.email)) identifiers.push({ kind: 'EMAIL', value: r.email as string });
    if (textOrNull(r.member_no)) identifiers.push({ kind: 'MEMBER_NO', value: r.member_no as string });
    return {
      source: SOURCE,
      recordId: r.contact_id,
      updatedAt,
      identifiers,
      traits: { name: textOrNull(r.name), birthday: normalizeDate(r.birthday), gender: normalizeGender(r.gender) },
    };
  }

  return {
    name: SOURCE,
    maxBatch,

    /**
     * Filter pushdown: the contacts whose tier, city or province (trimmed, as `contactsByIds`
     * reads them) is one of `values`, or whose SMS/email opt-in is the flag asked. ONE statement;
     * null for a field the CRM cannot search so (its gender codes are normalized in code).
     */
    async contactIdsWhere(field, values, account) {
      const text = values.filter((v): v is string => typeof v === 'string');
      const flags = values.filter((v): v is boolean => typeof v === 'boolean');
      const column = SEARCH_TEXT[field] ?? SEARCH_FLAG[field];
      if (!column) return null;
      return observer.call({ source: SOURCE, operation: 'contactIdsWhere', batchSize: 0, account }, async () => {
        const rows = await sql.run<Array<{ contact_id: string }>>('contactIdsWhere', (db) => {
          const q = db('crm_contacts').select('contact_id');
          if (SEARCH_TEXT[field]) return text.length ? whereMatchesText(q, db, column, text) : q.whereRaw('1 = 0');
          const codes = flags.map((f) => (f ? 1 : 0));
          return codes.length ? q.whereIn(column, codes) : q.whereRaw('1 = 0');
        });
        return rows.map((r) => r.contact_id);
      });
    },

    contactsByIds(ids, account) {
      return batchByKey(observer, { source: SOURCE, operation: 'contactsByIds', account }, ids, maxBatch, fetchContacts.bind(null, sql, toContact), noRecord);
    },

    /**
     * One statement per chunk: a SELECT per wanted kind with its own position bound, UNION ALL,
     * ROW_NUMBER() per contact in the timeline's order, the newest `limit` kept. The CRM keeps
     * whole seconds of Shanghai local time as fixed-width text, whose text order is time order,
     * so bounds are converted to that text. crm_created ids are contact ids (fixed width, text
     * order = shortlex), tier_changed ids are change ids (integers, numeric order = shortlex).
     */
    async eventsByRecordIds(ids, query: EventQuery, account) {
      checkEventQuery(SOURCE, query);
      const kinds = kindsWanted(CRM_EVENTS, query.kinds);
      if (kinds.length === 0) return ids.map(() => []);
      return batchByKey(observer, { source: SOURCE, operation: 'eventsByRecordIds', account }, ids, maxBatch, fetchEvents.bind(null, sql, SOURCE, kinds, query), noRecords);
    },

    /** Oldest first per contact; `change_id` breaks ties within one second. */
    tierChangesByContactIds(ids, account) {
      return batchByKey(observer, { source: SOURCE, operation: 'tierChangesByContactIds', account }, ids, maxBatch, fetchTierChanges.bind(null, sql, toTierChange), noRecords);
    },

    /**
     * Keyset pagination on (updated_at, contact_id): the local-time strings are fixed-width,
     * so their text order is time order. A contact whose updated_at cannot be read still
     * moves the cursor but is left out of the page: the contract has no slot for a malformed
     * scanned record, and an invented time would mislead rebind ordering.
     */
    scan: (cursor, pageSize) =>
      keysetScan<CrmScanRow>(
        {
          source: SOURCE,
          sql,
          observer,
          table: 'crm_contacts',
          columns: SCAN_COLUMNS,
          // The local-time strings are fixed-width, so their text order is time order.
          updatedColumn: 'updated_at',
          idColumn: 'contact_id',
          position: (r) => [r.updated_at, r.contact_id],
          isPosition: (u, id) => typeof u === 'string' && typeof id === 'string',
          toScanned,
        },
        cursor,
        pageSize,
      ),

    /** Every key or none: a key answered null here is a record the CRM no longer has, never a chunk that failed. */
    async scanRecords(ids) {
      const answers = await batchByKey(
        observer,
        { source: SOURCE, operation: 'scanRecords' },
        ids,
        maxBatch,
        async (chunk) => {
          const rows = await sql.run<CrmScanRow[]>('scanRecords', (db) => db('crm_contacts').select(SCAN_COLUMNS).whereIn('contact_id', chunk));
          return new Map(rows.map((r) => [r.contact_id, toScanned(r) ?? unreadableRecord(SOURCE)]));
        },
        () => null,
      );
      return everyKey(answers);
    },

    missingSchema() {
      return observer.call({ source: SOURCE, operation: 'describeTables', batchSize: 0 }, () => missingColumns(sql, TABLES, 'crm'));
    },

    health() {
      return observer.call({ source: SOURCE, operation: 'health', batchSize: 0 }, () => sql.health());
    },

    close() {
      return sql.close();
    },
  };
}

// ---------- batch reads ----------
// The work of each batch read is in module-level functions that take what a closure would have
// captured: V8 holds a function's optimized code only weakly while no closure of it is alive, so
// a closure written inside a connector method loses it at any major GC between requests and
// re-compiles on the next ones; module-level functions keep theirs. Per call they are bound to
// what they need (the chunk comes last) rather than wrapped in an arrow: a bound function has no
// code of its own, while a forwarding arrow gets optimized with its callee inlined, async ones
// too, and loses that code again.

function noRecord(): null {
  return null;
}

function noRecords(): never[] {
  return [];
}

function contactKey(r: { contact_id: string }): string {
  return r.contact_id;
}

async function fetchContacts(sql: SqlSource, toContact: (r: CrmContactRow) => Slot<CrmContact>, chunk: string[]): Promise<Map<string, Slot<CrmContact>>> {
  const rows = await sql.runShaped<CrmContactRow[]>('contactsByIds', String(chunk.length), chunk, contactsStatement);
  const answers = new Map<string, Slot<CrmContact>>();
  for (const r of rows) answers.set(r.contact_id, toContact(r));
  return answers;
}

function contactsStatement(db: Knex, ids: readonly unknown[]) {
  return db('crm_contacts')
    .select(CONTACT_COLUMNS)
    .whereIn('contact_id', ids as string[]);
}

async function fetchEvents(sql: SqlSource, SOURCE: SourceName, kinds: readonly EventKind[], query: EventQuery, chunk: string[]): Promise<Map<string, Slot<SourceEvent>[]>> {
  const rows = await sql.run<CrmEventRow[]>('eventsByRecordIds', (db) => eventsStatement(SOURCE, db, kinds, chunk, query));
  return groupConverted(rows, contactKey, SOURCE, toCrmEvent);
}

function eventsStatement(SOURCE: SourceName, db: Knex, kinds: readonly EventKind[], chunk: string[], query: EventQuery) {
  const parts = [];
  for (const kind of kinds) parts.push(crmEventSelect(SOURCE, db, kind, chunk, query));
  const union = parts.length === 1 ? parts[0] : parts[0].unionAll(parts.slice(1), false);
  const ranked = db.from(union.as('e')).select('*', db.raw('row_number() over (partition by contact_id order by at desc, kind_rank asc, id_num asc, id_text asc) as rn'));
  return db
    .from(ranked.as('r'))
    .select('contact_id', 'kind_rank', 'at', 'id_num', 'id_text', 'from_tier', 'to_tier')
    .where('rn', '<=', query.limit)
    .orderBy([{ column: 'contact_id' }, { column: 'at', order: 'desc' }, { column: 'kind_rank' }, { column: 'id_num' }, { column: 'id_text' }]);
}

async function fetchTierChanges(sql: SqlSource, toTierChange: (r: CrmTierChangeRow) => Slot<CrmTierChange>, chunk: string[]): Promise<Map<string, Slot<CrmTierChange>[]>> {
  const rows = await sql.run<CrmTierChangeRow[]>('tierChangesByContactIds', (db) => tierChangesStatement(db, chunk));
  const groups = new Map<string, Slot<CrmTierChange>[]>();
  for (const r of rows) {
    const item = toTierChange(r);
    const g = groups.get(r.contact_id);
    if (g) g.push(item);
    else groups.set(r.contact_id, [item]);
  }
  return groups;
}

function tierChangesStatement(db: Knex, chunk: string[]) {
  return db('crm_tier_changes')
    .select('change_id', 'contact_id', 'from_tier', 'to_tier', 'changed_at')
    .whereIn('contact_id', chunk)
    .orderBy([{ column: 'changed_at' }, { column: 'change_id' }]);
}

const SECOND_MS = 1000;

/** Unix seconds as the CRM's own time text (`YYYY-MM-DD HH:mm:ss`, Asia/Shanghai, as its times are read). */
const crmTimeText = (seconds: number) => shanghaiLocalText(seconds * SECOND_MS);

/** One kind's SELECT for the events UNION, with the position and `since` bound applied to it. */
function crmEventSelect(SOURCE: SourceName, db: Knex, kind: EventKind, contacts: string[], q: EventQuery) {
  const bound = q.after ? kindBound(kind, q.after, SECOND_MS) : null;
  const since = sinceInUnit(q.since, SECOND_MS);
  const rank = db.raw('? as kind_rank', [kindRank(CRM_EVENTS, kind)]);
  if (kind === 'crm_created') {
    const c = eventConditionSql(bound, since, 'created_at', 'contact_id', 'text', crmTimeText);
    return db('crm_contacts')
      .select('contact_id', rank, 'created_at as at', db.raw('null as id_num'), 'contact_id as id_text', db.raw('null as from_tier'), db.raw('null as to_tier'))
      .whereIn('contact_id', contacts)
      .whereRaw(c.sql, c.bindings);
  }
  if (kind === 'tier_changed') {
    const c = eventConditionSql(bound, since, 'changed_at', 'change_id', 'integer', crmTimeText);
    return db('crm_tier_changes')
      .select('contact_id', rank, 'changed_at as at', 'change_id as id_num', db.raw('null as id_text'), 'from_tier', 'to_tier')
      .whereIn('contact_id', contacts)
      .whereRaw(c.sql, c.bindings);
  }
  throw new Error(`${SOURCE} events: ${kind} is not a CRM kind`);
}

const CRM_KINDS_BY_RANK = new Map(kindsWanted(CRM_EVENTS, null).map((k) => [kindRank(CRM_EVENTS, k), k]));

function toCrmEvent(SOURCE: SourceName, r: CrmEventRow): Slot<SourceEvent> {
  const rank = Number(r.kind_rank);
  const kind = CRM_KINDS_BY_RANK.get(rank);
  if (!kind) return badRow(SOURCE, 'event', 'unknown kind');
  const at = instantFromShanghaiLocal(r.at);
  if (!at) return badRow(SOURCE, 'event', 'time is not a local date-time');
  const id = kind === 'crm_created' ? textOrNull(r.id_text) : r.id_num == null ? null : String(r.id_num);
  if (!id) return badRow(SOURCE, 'event', 'id is missing');
  if (kind === 'tier_changed') {
    const toTier = textOrNull(r.to_tier);
    if (!toTier) return badRow(SOURCE, 'tier change', 'to_tier is empty');
    return { kind, at, id, recordId: r.contact_id, fromTier: textOrNull(r.from_tier), toTier };
  }
  return { kind, at, id, recordId: r.contact_id };
}

/** CRM opt-in columns: 1 yes, 0 no, NULL (or anything else) unknown. */
function optIn(v: unknown): boolean | null {
  if (v === 1 || v === '1') return true;
  if (v === 0 || v === '0') return false;
  return null;
}
