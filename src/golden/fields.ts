/**
 * The golden fields of a Customer and where each can come from: for every (field, source) pair
 * that makes sense, how to read the value off that source's canonical record. Which of these
 * sources a field actually uses, and how it chooses among them, is data (config/survivorship.json,
 * src/golden/rules.ts); what a source's record *means* for a field is code, here.
 *
 * Pure: no I/O.
 */
import type { CrmContact, Gender, Instant, ScrmFollower, ShopAccount, SourceName, SupportRequester } from '../sources/types';

export const GOLDEN_FIELDS = [
  'name',
  'phone',
  'email',
  'gender',
  'birthday',
  'city',
  'province',
  'memberTier',
  'registeredAt',
  'registrationChannel',
  'marketingConsent.sms',
  'marketingConsent.email',
  'marketingConsent.wechat',
] as const;
export type GoldenField = (typeof GOLDEN_FIELDS)[number];

export const isGoldenField = (f: string): f is GoldenField => (GOLDEN_FIELDS as readonly string[]).includes(f);

/** A golden value: text (names, E.164 phones, dates, instants, enum names) or a consent flag. */
export type GoldenValue = string | boolean;

/** The records one customer has in each source (those that answered). */
export interface SourceRecords {
  crm: CrmContact[];
  orders: ShopAccount[];
  support: SupportRequester[];
  scrm: ScrmFollower[];
}

/** One source record's say on one field. */
export interface Candidate {
  value: GoldenValue;
  source: SourceName;
  recordId: string;
  /** When the source last changed the record; null when the source does not say. Used by `mostRecent`. */
  updatedAt: Instant | null;
  /** When the record came to be (created, registered, followed). Used by `earliest`. */
  createdAt: Instant | null;
}

type Read<R> = (r: R) => GoldenValue | null | undefined;
interface Readers {
  crm?: Read<CrmContact>;
  orders?: Read<ShopAccount>;
  support?: Read<SupportRequester>;
  scrm?: Read<ScrmFollower>;
}

/** UNKNOWN says nothing about a person: it is no candidate, so it never outvotes a known value. */
const known = (g: Gender) => (g === 'UNKNOWN' ? null : g);

/**
 * Field → source → reader. A source absent here cannot feed the field (the rules loader refuses
 * to configure it). Notes on meaning:
 * - gender: the CRM's is recorded by staff (M/F/男/女); WeChat's `sex` is what the person set in
 *   their WeChat profile (often unset, sometimes a joke). Both map to one enum; the rules say
 *   which to believe.
 * - city/province: the CRM's is an address given to a rep; WeChat's is the profile location.
 *   Both as written ("广东省" and "广东" are different candidates; `compare: "place"` counts them
 *   as one for `mostFrequent`).
 * - registeredAt/registrationChannel: when and where the person first signed up in a system that
 *   has a sign-up: a shop account (its channel), or following the official account ("wechat").
 * - marketingConsent.wechat: following the official account is consent to its messages.
 * - The SCRM API reports no update time for a follower: its candidates carry `subscribedAt`
 *   as their time (the profile as of when they last followed).
 */
export const READERS: Record<GoldenField, Readers> = {
  name: { crm: (c) => c.name, support: (r) => r.name, scrm: (f) => f.nickname },
  phone: { crm: (c) => c.phone, orders: (a) => a.phone, support: (r) => r.phone },
  email: { crm: (c) => c.email, orders: (a) => a.email, support: (r) => r.email },
  gender: { crm: (c) => known(c.gender), scrm: (f) => known(f.gender) },
  birthday: { crm: (c) => c.birthday },
  city: { crm: (c) => c.city, scrm: (f) => f.city },
  province: { crm: (c) => c.province, scrm: (f) => f.province },
  memberTier: { crm: (c) => c.tier },
  registeredAt: { crm: (c) => c.createdAt, orders: (a) => a.registeredAt, support: (r) => r.createdAt, scrm: (f) => f.subscribedAt },
  registrationChannel: { orders: (a) => a.channel, scrm: (f) => (f.subscribedAt ? 'wechat' : null) },
  'marketingConsent.sms': { crm: (c) => c.smsOptIn },
  'marketingConsent.email': { crm: (c) => c.emailOptIn },
  'marketingConsent.wechat': { scrm: (f) => f.subscribed },
};

/** The sources a field can be read from at all. */
export function sourcesFor(field: GoldenField): SourceName[] {
  return (Object.keys(READERS[field]) as SourceName[]).filter((s) => READERS[field][s] !== undefined);
}

const present = (v: GoldenValue | null | undefined): v is GoldenValue => typeof v === 'boolean' || (typeof v === 'string' && v.trim() !== '');

/** Every non-empty value the given sources' records hold for `field`, in source order then record order. */
export function candidatesFor(field: GoldenField, records: Partial<SourceRecords>, sources: readonly SourceName[]): Candidate[] {
  const out: Candidate[] = [];
  const readers = READERS[field];
  for (const source of sources) {
    if (source === 'crm' && readers.crm)
      for (const c of records.crm ?? []) push(readers.crm(c), source, c.id, c.updatedAt, c.createdAt);
    if (source === 'orders' && readers.orders)
      for (const a of records.orders ?? []) push(readers.orders(a), source, a.id, a.updatedAt, a.registeredAt);
    if (source === 'support' && readers.support)
      for (const r of records.support ?? []) push(readers.support(r), source, r.id, r.updatedAt, r.createdAt);
    if (source === 'scrm' && readers.scrm)
      for (const f of records.scrm ?? []) push(readers.scrm(f), source, f.openid, f.subscribedAt, f.subscribedAt);
  }
  return out;

  function push(value: GoldenValue | null | undefined, source: SourceName, recordId: string, updatedAt: Instant | null, createdAt: Instant | null) {
    if (present(value)) out.push({ value: typeof value === 'string' ? value.trim() : value, source, recordId, updatedAt, createdAt });
  }
}

/** A value as provenance shows it: text as is, flags as "true"/"false". */
export const displayValue = (v: GoldenValue): string => (typeof v === 'boolean' ? String(v) : v);
