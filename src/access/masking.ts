/**
 * Mask styles for personal fields. Each masker is total: whatever it is given (a value of an
 * unexpected shape included) it answers a masked string or null and never throws, so a raw
 * value can never reach an error message or a log through masking.
 */
import crypto from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { MaskStyle } from './config';

export interface MaskOptions {
  /**
   * Key for the `hash` style (HMAC-SHA256). Hashes are stable pseudonyms: the same openid
   * hashes the same way in every response, so analysts can count and join without the raw
   * value. Set it from the environment in production; without it a fixed public key is used,
   * which still hides the value but lets anyone holding a candidate value test it.
   */
  hashKey?: string;
}

/** What a masked non-null field shows when its value cannot be masked meaningfully. */
export const REDACTED = '***';

const DEFAULT_HASH_KEY = 'c360-mask-v1';

const chars = (s: string) => Array.from(s);

/** Fewest national digits a masked phone hides: four leave 10,000 candidates, as China's `138****8000` does. */
const PHONE_HIDDEN_MIN = 4;

/**
 * `+8613800138000` → `+86 138****8000`. Numbers of 9 digits or more keep their last 4 and up to 3
 * leading digits, hiding at least PHONE_HIDDEN_MIN (`+1 41****2671`, `+886 9****5678`); shorter
 * ones keep their last 2.
 */
export function maskPhone(v: string): string {
  const parsed = parsePhoneNumberFromString(v.startsWith('+') ? v : `+${v}`);
  if (!parsed) return REDACTED;
  const national = String(parsed.nationalNumber);
  const lead = Math.min(3, national.length - 4 - PHONE_HIDDEN_MIN);
  const masked =
    national.length >= 9
      ? `${national.slice(0, lead)}${'*'.repeat(national.length - lead - 4)}${national.slice(-4)}`
      : `${'*'.repeat(Math.max(national.length - 2, 1))}${national.slice(-2)}`;
  return `+${parsed.countryCallingCode} ${masked}`;
}

/** `zhang.san@example.com` → `z***@example.com`. */
export function maskEmail(v: string): string {
  const at = v.lastIndexOf('@');
  if (at <= 0 || at === v.length - 1) return REDACTED;
  return `${chars(v.slice(0, at))[0]}***@${v.slice(at + 1)}`;
}

/** `张三丰` → `张**`, `Jane Doe` → `J**`. */
export function maskName(v: string): string {
  const c = chars(v.trim());
  return c.length ? `${c[0]}**` : REDACTED;
}

/** `1990-05-17` → `1990`. */
export function maskYearOnly(v: string): string {
  const m = /^(\d{4})-\d{2}-\d{2}/.exec(v);
  return m ? m[1] : REDACTED;
}

/** `M12345678` → `M******78`: first character and last two kept. */
export function maskPartial(v: string): string {
  const c = chars(v);
  if (c.length <= 3) return '*'.repeat(c.length || 3);
  return `${c[0]}${'*'.repeat(c.length - 3)}${c.slice(-2).join('')}`;
}

export function hashValue(v: string, key = DEFAULT_HASH_KEY): string {
  return `h_${crypto.createHmac('sha256', key).update(v, 'utf8').digest('hex').slice(0, 32)}`;
}

export type Masker = (value: unknown) => unknown;

/**
 * The function applying one style to a resolved value. Lists are masked item by item;
 * null stays null. `nonNull` decides what `redact` answers (null is not allowed there).
 */
export function masker(style: MaskStyle, opts: MaskOptions & { nonNull?: boolean } = {}): Masker {
  const one = stringMasker(style, opts);
  const apply = (v: unknown): unknown => {
    if (v === null || v === undefined) return v;
    if (Array.isArray(v)) return v.map(apply);
    if (style === 'none') return v;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint') return opts.nonNull ? REDACTED : null;
    return one(String(v));
  };
  return apply;
}

function stringMasker(style: MaskStyle, opts: MaskOptions & { nonNull?: boolean }): (v: string) => string | null {
  switch (style) {
    case 'none':
      return (v) => v;
    case 'phone':
      return maskPhone;
    case 'email':
      return maskEmail;
    case 'name':
      return maskName;
    case 'yearOnly':
      return maskYearOnly;
    case 'partial':
      return maskPartial;
    case 'hash': {
      const key = opts.hashKey ?? DEFAULT_HASH_KEY;
      return (v) => hashValue(v, key);
    }
    case 'redact':
      return () => (opts.nonNull ? REDACTED : null);
  }
}
