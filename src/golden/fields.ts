/**
 * The golden fields of a Customer and their candidates. What a source's record *means* for a
 * field is its kind's business (the profile capability's `view`, in src/sources/<kind>/);
 * which sources a field uses and how it chooses among them is data (config/survivorship.json,
 * src/golden/rules.ts). Here: the candidates of one field from the views of a customer's records.
 *
 * Pure: no I/O.
 */
import { PROFILE_FIELDS, type ProfileField, type ProfileValue, type ProfileView } from '../capabilities';
import type { Instant, SourceName } from '../vocabulary';

export const GOLDEN_FIELDS = PROFILE_FIELDS;
export type GoldenField = ProfileField;
export type GoldenValue = ProfileValue;

export const isGoldenField = (f: string): f is GoldenField => (GOLDEN_FIELDS as readonly string[]).includes(f);

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

/** A customer's records in one source, as that source's profile views. */
export interface SourceViews {
  source: SourceName;
  views: readonly ProfileView[];
}

/** A visible character: what `trim` leaves of pasted text is not enough (it keeps zero-width spaces and the BOM). */
const VISIBLE = /[^\s\u200B-\u200D\u2060\uFEFF]/u;
/** Blank or invisible characters at either end, which `trim` leaves: `王芳\u200B` is `王芳`. */
const EDGES = /^[\s\u200B-\u200D\u2060\uFEFF]+|[\s\u200B-\u200D\u2060\uFEFF]+$/gu;
const present = (v: GoldenValue | null | undefined): v is GoldenValue => typeof v === 'boolean' || (typeof v === 'string' && VISIBLE.test(v));

/** Every non-empty value the given sources' views hold for `field`, in the order of `sources`, then record order. */
export function candidatesFor(field: GoldenField, views: readonly SourceViews[], sources: readonly SourceName[]): Candidate[] {
  const out: Candidate[] = [];
  for (const source of sources) {
    const of = views.find((s) => s.source === source);
    if (of) pushCandidates(out, field, source, of.views);
  }
  return out;
}

/** Appends the non-empty values one source's views hold for `field`, in record order. */
export function pushCandidates(out: Candidate[], field: GoldenField, source: SourceName, views: readonly ProfileView[]): void {
  for (let i = 0; i < views.length; i++) {
    const v = views[i];
    const value = v.values[field];
    if (present(value))
      out.push({ value: typeof value === 'string' ? value.replace(EDGES, '') : value, source, recordId: v.recordId, updatedAt: v.updatedAt, createdAt: v.createdAt });
  }
}

/** A value as provenance shows it: text as is, flags as "true"/"false". */
export const displayValue = (v: GoldenValue): string => (typeof v === 'boolean' ? String(v) : v);
