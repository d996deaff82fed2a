/**
 * c360's canonical vocabulary, and the normalizers that turn each source's own formats into it.
 * Pure functions: no I/O. Each answers `null` for a value that cannot be understood, never throws,
 * so callers decide whether null means "absent" or "malformed".
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { Gender, Money } from './vocabulary';

export const DEFAULT_PHONE_REGION: CountryCode = 'CN';

/**
 * A phone in E.164 (`+8613800138000`), or null when it is not a possible number.
 * Numbers without a country code are read in `region`; `86…` without a plus is read as
 * the Chinese country code when the rest is a valid Chinese mobile (`8613800138000`).
 */
export function normalizePhone(raw: string | null | undefined, region: CountryCode = DEFAULT_PHONE_REGION): string | null {
  if (raw == null) return null;
  const s = String(raw).trim();
  if (!s) return null;
  const compact = s.replace(/[\s\-().]/g, '');
  if (!/^\+?\d{5,17}$/.test(compact)) return null;
  let candidate = compact;
  if (!candidate.startsWith('+') && candidate.startsWith('00')) candidate = '+' + candidate.slice(2);
  if (!candidate.startsWith('+') && region === 'CN' && /^861[3-9]\d{9}$/.test(candidate)) candidate = '+' + candidate;
  const parsed = parsePhoneNumberFromString(candidate, region);
  if (!parsed || !parsed.isPossible()) return null;
  return parsed.number;
}

/** Lower-case trimmed email, or null when it does not look like one address. */
export function normalizeEmail(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  const s = String(raw).trim().toLowerCase();
  if (!/^[^\s@,;<>]+@[^\s@,;<>]+\.[a-z0-9-]{2,}$/.test(s)) return null;
  return s;
}

/**
 * A match key for an email that folds provider aliases (Gmail dots and +tags).
 * Used only to find candidates; the stored and displayed value stays the canonical email.
 */
export function emailMatchKey(email: string): string {
  const [local, domain] = email.split('@');
  const d = domain === 'googlemail.com' ? 'gmail.com' : domain;
  if (d === 'gmail.com') return `${local.split('+')[0].replace(/\./g, '')}@${d}`;
  return `${local.split('+')[0]}@${d}`;
}

/** CRM `M`/`F`/`男`/`女`, WeChat `1`/`2`/`0`, and the obvious spellings; anything else is UNKNOWN. */
export function normalizeGender(raw: unknown): Gender {
  if (raw == null) return 'UNKNOWN';
  const s = String(raw).trim().toLowerCase();
  if (['m', 'male', '男', '1'].includes(s)) return 'MALE';
  if (['f', 'female', '女', '2'].includes(s)) return 'FEMALE';
  return 'UNKNOWN';
}

/** Integer minor units (cents/fen) to Money. Null for anything that is not a safe integer. */
export function moneyFromCents(cents: unknown, currency: string): Money | null {
  const n = typeof cents === 'string' && /^-?\d+$/.test(cents) ? Number(cents) : cents;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || !/^[A-Z]{3}$/.test(currency)) return null;
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  return { amount: `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`, currency };
}

/** A decimal string in major units (`"20"`, `"20.5"`, `"20.00"`) to Money with two decimals. */
export function moneyFromDecimal(raw: unknown, currency: string): Money | null {
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  const s = String(raw).trim();
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  return moneyFromCents(Number(`${m[1]}${m[2]}${(m[3] ?? '').padEnd(2, '0')}`), currency);
}

/** Sum of Money values in one currency (exact, in minor units). */
export function addMoney(values: Money[], currency: string): Money {
  const cents = values.reduce((sum, v) => sum + toCents(v), 0);
  return moneyFromCents(cents, currency) as Money;
}

export function toCents(m: Money): number {
  const neg = m.amount.startsWith('-');
  const [whole, frac = '00'] = m.amount.replace('-', '').split('.');
  const v = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  return neg ? -v : v;
}

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000; // China has no DST

/** `YYYY-MM-DD HH:mm:ss` in Asia/Shanghai local time to ISO UTC. */
export function instantFromShanghaiLocal(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(raw.trim());
  if (!m) return null;
  const utc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - SHANGHAI_OFFSET_MS;
  return isoOrNull(utc);
}

/** Unix milliseconds (number or numeric string) to ISO UTC. */
export function instantFromMillis(raw: unknown): string | null {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? isoOrNull(n) : null;
}

/** Unix seconds to ISO UTC. */
export function instantFromSeconds(raw: unknown): string | null {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? isoOrNull(n * 1000) : null;
}

/** An ISO-8601 string with a zone to canonical ISO UTC. */
export function instantFromIso(raw: unknown): string | null {
  if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(raw)) return null;
  return isoOrNull(Date.parse(raw));
}

/** A calendar date `YYYY-MM-DD` (also `YYYY/MM/DD`), validated; null otherwise. */
export function normalizeDate(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(raw.trim());
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  if (d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3]) return null;
  return d.toISOString().slice(0, 10);
}

function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
