/**
 * What lets the WeCom scan tell what changed, though WeCom itself cannot: a fingerprint of the
 * contact listing (externalcontact/batch/get_by_user) as a pass saw it.
 *
 * WeCom has no change feed and no modified time, but its listing shows, per staff member, every
 * contact they follow with that follow's entry (createtime, remark_mobiles, …) and the contact's
 * own fields (unionid, gender, …): everything a contact's identity record is made of. Each listed
 * entry is hashed (MD5 of its canonical JSON, first 32 bits) into one of FINGERPRINT_BUCKETS
 * buckets chosen by its external_userid, and a bucket's value is the sum of its entries' hashes
 * (mod 2^32): independent of the order the listing comes in, and changed by any entry that
 * appears, disappears or changes (unless the sum collides, about 1 in 2^32 per change).
 *
 * A pass compares its walk's buckets with the last pass's and re-reads only the contacts of the
 * buckets that differ; an unchanged listing costs the listing calls and re-reads nothing. The
 * buckets travel in the scan cursor (4 bytes each, base64url).
 */
import crypto from 'node:crypto';
import type { JsonObject } from '../http';

/** Buckets of a fingerprint: a change re-reads the contacts of its bucket, about 1/1024 of them. */
export const FINGERPRINT_BUCKETS = 1024;

export type Fingerprint = Uint32Array;

export const emptyFingerprint = (): Fingerprint => new Uint32Array(FINGERPRINT_BUCKETS);

/** The bucket of a contact: every entry of one external_userid lands in the same one. */
export function bucketOf(externalUserId: string): number {
  return crypto.createHash('md5').update(externalUserId).digest().readUInt16BE(0) % FINGERPRINT_BUCKETS;
}

/** One listed entry's hash: its whole `{external_contact, follow_info}`, keys sorted at every level. */
export function entryHash(item: JsonObject): number {
  return crypto.createHash('md5').update(canonicalJson(item)).digest().readUInt32BE(0);
}

/** Adds an entry's hash to its bucket (Uint32Array wraps the sum mod 2^32). */
export function addEntry(f: Fingerprint, bucket: number, hash: number): void {
  f[bucket] += hash;
}

/** Buckets whose values differ. */
export function changedBuckets(a: Fingerprint, b: Fingerprint): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < FINGERPRINT_BUCKETS; i++) if (a[i] !== b[i]) out.add(i);
  return out;
}

export function encodeFingerprint(f: Fingerprint): string {
  const buf = Buffer.alloc(FINGERPRINT_BUCKETS * 4);
  for (let i = 0; i < FINGERPRINT_BUCKETS; i++) buf.writeUInt32BE(f[i], i * 4);
  return buf.toString('base64url');
}

/** Null for what is not a fingerprint of FINGERPRINT_BUCKETS buckets. */
export function decodeFingerprint(s: unknown): Fingerprint | null {
  if (typeof s !== 'string') return null;
  const buf = Buffer.from(s, 'base64url');
  if (buf.length !== FINGERPRINT_BUCKETS * 4) return null;
  const f = emptyFingerprint();
  for (let i = 0; i < FINGERPRINT_BUCKETS; i++) f[i] = buf.readUInt32BE(i * 4);
  return f;
}

/** A set of buckets as a bitmap (base64url), and back. */
export function encodeBuckets(set: ReadonlySet<number>): string {
  const buf = Buffer.alloc(FINGERPRINT_BUCKETS / 8);
  for (const b of set) buf[b >> 3] |= 1 << (b & 7);
  return buf.toString('base64url');
}

export function decodeBuckets(s: unknown): Set<number> | null {
  if (typeof s !== 'string') return null;
  const buf = Buffer.from(s, 'base64url');
  if (buf.length !== FINGERPRINT_BUCKETS / 8) return null;
  const out = new Set<number>();
  for (let b = 0; b < FINGERPRINT_BUCKETS; b++) if (buf[b >> 3] & (1 << (b & 7))) out.add(b);
  return out;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
