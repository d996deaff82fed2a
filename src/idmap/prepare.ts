/**
 * What staging computes about a scanned record before it looks at the store: its identifiers
 * normalized (parsing phones is most of it), its name and birthday keys, and the traits the
 * probabilistic tier compares. None of it depends on the identity rules beyond the source's
 * phone region (placeholders, ignored birthdays and strong kinds are applied after, by the
 * stage), so a full scan computes it on a worker thread (`prepare-thread.ts`) while the store
 * writes the page before; anything not prepared there is prepared here, the same way.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { foldText, phoneRegionOf } from '../canonical';
import { birthDate } from './birth-date';
import type { IdentifierKind, ScannedRecord } from '../vocabulary';
import { birthdayHash, nameKey } from './evidence';
import { comparedTraits, type ComparedTraits } from './probabilistic/features';
import { normalizeWithMatchKey, type IdentityRules, type NormalizedIdentifier } from './rules';

/** A normalized identifier with the period its source says it was held (null: not said). */
export interface HeldIdentifier extends NormalizedIdentifier {
  since: string | null;
  until: string | null;
}

export interface PreparedRecord {
  /** The source's phone region it was prepared with (a record's own country comes first). */
  sourceRegion: CountryCode;
  /** Normalized, de-duplicated identifiers; `unusable` values (a phone no region assigns included) are counted and dropped. */
  identifiers: HeldIdentifier[];
  unusable: number;
  /** `updatedAt` as an ISO instant, null when it is not one. */
  updatedAt: string | null;
  nameKey: string | null;
  /** The birthday as a date, and its key, before the rules' ignored birthdays are applied. */
  birthday: string | null;
  birthdayKey: string | null;
  traits: ComparedTraits;
}

/** Where a record's phones without a country code are read: its own country when it says one, else its source's region. */
export function regionOf(r: Pick<ScannedRecord, 'traits'>, sourceRegion: CountryCode): CountryCode {
  return phoneRegionOf(r.traits?.country, sourceRegion);
}

export function prepareRecord(r: ScannedRecord, sourceRegion: CountryCode): PreparedRecord {
  const region = regionOf(r, sourceRegion);
  const out = new Map<string, HeldIdentifier>();
  let unusable = 0;
  for (const raw of r.identifiers ?? []) {
    if (raw?.value == null || foldText(raw.value) === '') continue;
    const n = normalizeWithMatchKey(raw.kind, String(raw.value), region);
    for (const v of n ? [n] : listedValues(raw.kind, String(raw.value), region)) {
      if (!v) {
        unusable++;
        continue;
      }
      out.set(identityOf(v), { ...v, since: validInstant(raw.since), until: validInstant(raw.until) });
    }
  }
  const birthday = birthDate(r.traits?.birthday);
  return {
    sourceRegion,
    identifiers: [...out.values()],
    unusable,
    updatedAt: validInstant(r.updatedAt),
    nameKey: nameKey(r.traits?.name),
    birthday,
    birthdayKey: birthday ? birthdayHash(birthday) : null,
    traits: comparedTraits(r.traits ?? undefined),
  };
}

/** Between values of one field that holds several (`13800138000 / 13900139000`, `a@x.com; b@y.com`). */
const LIST_SEPARATOR = /\s*(?:[,;，；、|/]|\s(?:or|或)\s)\s*/i;

/** Each value of a phone or email field that holds several, normalized (null for one that is not usable); a field that holds one value that is not usable answers [null]. */
function listedValues(kind: IdentifierKind, raw: string, region: CountryCode): Array<NormalizedIdentifier | null> {
  const parts = kind === 'PHONE' || kind === 'EMAIL' ? raw.split(LIST_SEPARATOR).filter((x) => x.trim() !== '') : [];
  return parts.length > 1 ? parts.map((p) => normalizeWithMatchKey(kind, p, region)) : [null];
}

const prepared = new WeakMap<ScannedRecord, PreparedRecord>();

/** The record prepared for these rules: remembered (from the worker, or an earlier call), else prepared now. */
export function preparedOf(r: ScannedRecord, rules: IdentityRules): PreparedRecord {
  const sourceRegion = rules.regionOf(r.source);
  let p = prepared.get(r);
  if (!p || p.sourceRegion !== sourceRegion) prepared.set(r, (p = prepareRecord(r, sourceRegion)));
  return p;
}

/** Remembers what another thread prepared for `records` (same order). */
export function rememberPrepared(records: readonly ScannedRecord[], list: readonly PreparedRecord[]): void {
  for (let i = 0; i < records.length; i++) prepared.set(records[i], list[i]);
}

export const identityOf = (i: { kind: string; value: string }) => `${i.kind}\u0000${i.value}`;

export function validInstant(s: string | null | undefined): string | null {
  if (!s) return null;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
