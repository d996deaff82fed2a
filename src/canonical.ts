/**
 * c360's canonical vocabulary, and the normalizers that turn each source's own formats into it.
 * Pure functions: no I/O. Each answers `null` for a value that cannot be understood, never throws,
 * so callers decide whether null means "absent" or "malformed".
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import countries from 'i18n-iso-countries';
import countryNamesEn from 'i18n-iso-countries/langs/en.json';
import countryNamesZh from 'i18n-iso-countries/langs/zh.json';
import countryNamesJa from 'i18n-iso-countries/langs/ja.json';
import countryNamesKo from 'i18n-iso-countries/langs/ko.json';
import type { Gender, Money } from './vocabulary';
import { isoFromMillis } from './iso-time';
import { countryAlias, simplifiedCountryName } from './country-names';

export const DEFAULT_PHONE_REGION: CountryCode = 'CN';

/**
 * Unicode NFKC (full-width digits and letters to ASCII, `＋８６` to `+86`, ideographic spaces
 * to spaces), zero-width characters dropped, and every run of whitespace folded to one space.
 * Every normalizer runs it first: form input in Chinese IMEs is often full-width.
 */
export function foldText(raw: unknown): string {
  if (raw == null) return '';
  return String(raw)
    .normalize('NFKC')
    .replace(/[\u200B-\u200D\u2060\uFEFF]/g, '')
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * Text as a BI filter compares it (`city`, `province`, `memberTier`, `registrationChannel`):
 * `foldText` (NFKC: full-width letters as ASCII; whitespace runs as one space) in lower case, so
 * `shanghai`, `Shanghai` and `ＳＨＡＮＧＨＡＩ` are one city and `Gold` is the `gold` tier, on every
 * engine (a MariaDB column with a `_ci` collation already compared so, SQLite byte for byte).
 */
export const matchText = (raw: unknown): string => foldText(raw).toLowerCase();

/**
 * Text as c360 answers a name, a city or any other free text a source holds: trimmed; in Unicode
 * NFC, so that `José` typed as `e` and a combining accent is the same string as the precomposed
 * one (sources keep what the keyboard sent, and clients compare code units); without a lone
 * surrogate, the half of an emoji a length limit counted in UTF-16 units cut off (`Anna🎉` kept as
 * `Anna\uD83C`), which no UTF-8 encoder can write. Null for null and blank. Not NFKC: full-width
 * letters in a name stay as typed (identifiers and comparisons fold them, `foldText`).
 */
export function canonicalText(raw: unknown): string | null {
  if (raw == null) return null;
  const s = String(raw).trim();
  if (s === '') return null;
  // Most text is ASCII or Han, which NFC leaves as it is: one test instead of a normalization (every text of every row passes here).
  if (!MAY_CHANGE.test(s)) return s;
  const nfc = s.normalize('NFC').replace(LONE_SURROGATE, '').trim();
  return nfc === '' ? null : nfc;
}

/** Characters outside ASCII, the CJK unified ideographs and kana: where NFC or a lone surrogate may change the text. */
const MAY_CHANGE = /[^\t-\u007f\u3000-\u30ff\u4e00-\u9fff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Lower-case text with its diacritics dropped, for comparing names and places written with and
 * without them (`Sören`, `Soren`; `Zürich`, `Zurich`; `Nguyễn`, `Nguyen`). The Latin letters
 * Unicode does not decompose are written as ASCII folding writes them (`ø` o, `ł` l, `ß` ss, `æ` ae,
 * `đ` d, `ı` i, `þ` th), so `Søren` and `Łukasz` compare with their plain spellings too. Marks go
 * only from Latin, Greek and Cyrillic letters (`ё` е): in other scripts they are letters of their
 * own (a Devanagari vowel sign), and dropping them would make two different names one.
 */
export function foldDiacritics(lower: string): string {
  // Most text has nothing to fold (ASCII, Han): a test, not two normalizations (golden fields call this per candidate).
  if (!FOLDABLE.test(lower)) return lower;
  return lower
    .normalize('NFKD')
    .replace(MARKS_ON_LETTERS, '')
    .replace(UNDECOMPOSED, (c) => UNDECOMPOSED_AS[c])
    .normalize('NFC');
}

/** Latin letters beyond ASCII, combining marks, Greek, Cyrillic: what can carry a diacritic or be folded. Callers pass NFKC text. */
const FOLDABLE = /[\u00c0-\u036f\u0370-\u052f\u1e00-\u1fff\u2c60-\u2c7f\ua720-\ua7ff]/u;
const MARKS_ON_LETTERS = /(?<=[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]\p{M}*)\p{M}+/gu;
/** Lucene's ASCIIFoldingFilter spellings of the lower-case Latin letters without a decomposition. */
const UNDECOMPOSED_AS: Readonly<Record<string, string>> = {
  ø: 'o',
  ł: 'l',
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
  ƒ: 'f',
  ĸ: 'q',
};
const UNDECOMPOSED = new RegExp(`[${Object.keys(UNDECOMPOSED_AS).join('')}]`, 'gu');

countries.registerLocale(countryNamesEn);
countries.registerLocale(countryNamesZh);
countries.registerLocale(countryNamesJa);
countries.registerLocale(countryNamesKo);

/**
 * A country as its ISO 3166 alpha-2 code, however a record writes it: the code (`de`), its
 * alpha-3 (`DEU`), or its name in English, Chinese (simplified or traditional), Japanese or
 * Korean with the usual short forms (`Germany`, `USA`, `U.K.`, `德国`, `中國`, `台灣`, `韓国`,
 * `대한민국`), and the names people write that the standard's lists lack (`England`, `Hong Kong
 * SAR`, `Macau`, `Korea`, `PRC`, `Taiwan, ROC`, `中国香港`, `澳洲`); null when it names no country.
 * Taking the first two letters instead made `China` Switzerland and `Germany` Georgia; a name
 * not read leaves the record's phones to its source's region, where a Hong Kong or Taiwanese
 * number is no number.
 */
export function normalizeCountry(raw: unknown): CountryCode | null {
  const s = foldText(raw);
  if (!s) return null;
  let code = knownCountries.get(s);
  if (code === undefined) {
    if (knownCountries.size >= 1000) knownCountries.clear();
    knownCountries.set(s, (code = countryCodeOf(s)));
  }
  return code;
}

const knownCountries = new Map<string, CountryCode | null>();

/**
 * Where a record's phones without a country code are read: its own country when it names one
 * with a phone plan, else `fallback` (its source's region). OneID and the connectors both read
 * so, so that a record's phone is one number everywhere.
 */
export function phoneRegionOf(country: unknown, fallback: CountryCode): CountryCode {
  const c = normalizeCountry(country);
  return c && isSupportedCountry(c) ? c : fallback;
}

function countryCodeOf(raw: string): CountryCode | null {
  // `U.K.`, `Taiwan, ROC`, `P.R. China`: the dots and commas are no part of the name.
  const s = raw.replace(/\./g, '');
  const upper = s.toUpperCase();
  const han = simplifiedCountryName(s);
  const code =
    (upper.length === 2 && countries.isValid(upper) ? upper : undefined) ??
    (upper.length === 3 ? countries.alpha3ToAlpha2(upper) : undefined) ??
    countries.getAlpha2Code(s, 'en') ??
    countryAlias(s.replace(/\s*,\s*/g, ' ').toLowerCase()) ??
    countryAlias(han) ??
    countries.getAlpha2Code(han, 'zh') ??
    countries.getAlpha2Code(han, 'ja') ??
    countries.getAlpha2Code(s, 'ko');
  return code ? (code as CountryCode) : null;
}

/** Why a phone was not accepted: not a number at all, or a number no region assigns (a mistyped mobile). */
export type PhoneProblem = 'malformed' | 'not-valid';

/**
 * A phone parsed for OneID: E.164 for a number valid in its region, or the problem. Numbers
 * without a country code are read in `region` (the record's country when known, else its
 * source's default region); `00…` is an international prefix; digits that are invalid in
 * `region` but valid once read as a country code (`8613800138000`, `14155552671`) are read so.
 * A number that is only "possible" (right length, unassigned range: `1380013800`, `1380013`)
 * is refused: stored, it would answer like an unknown customer.
 */
export function parsePhone(raw: string | null | undefined, region: CountryCode = DEFAULT_PHONE_REGION): ParsedPhone {
  if (typeof raw !== 'string') return parsePhoneText(raw, region);
  const key = `${region}\u0000${raw}`;
  let parsed = recentPhones.get(key);
  if (parsed === undefined) {
    parsed = olderPhones.get(key) ?? Object.freeze(parsePhoneText(raw, region));
    if (recentPhones.size >= PARSED_PHONES / 2) [olderPhones, recentPhones] = [recentPhones, new Map()];
    recentPhones.set(key, parsed);
  }
  return parsed;
}

type ParsedPhone = Readonly<{ e164: string } | { problem: PhoneProblem }>;

/**
 * Phones parsed lately, by region and text. libphonenumber compiles its patterns anew on every
 * call (about 10 µs a phone), and the request path parses every source record's phone on every
 * read of it: a customer read again (an agent's screen, a list paged twice) finds them here.
 * Bounded, in two generations of PARSED_PHONES / 2: a phone found in the older is carried into
 * the newer, and the older is dropped whole when the newer fills. (Deleting the oldest entry one
 * at a time cost more than parsing: a Map's first live entry is found by walking past the holes
 * earlier deletions left, about 2 s of a 236,816-record resolution, whose phones rarely repeat.)
 */
const PARSED_PHONES = 20_000;
let recentPhones = new Map<string, ParsedPhone>();
let olderPhones = new Map<string, ParsedPhone>();

/** A label before the number (`手机：`, `Mobile:`, `tel:`). */
const PHONE_LABEL = /^[^\d+]{1,12}[:：]\s*/;
/**
 * A note after it, in brackets (`（微信同号）`, `(home)`), or an extension (`ext. 12`, `ext: 12`, `extn 12`,
 * `x12`, `转8001`, `分机 8001`; in traditional characters as Hong Kong and Taiwan write it, `轉 123`, `分機 123`,
 * `內線 12`; RFC 3966's `;ext=12`), also after a comma or in brackets (`(415) 555-2671, ext. 12`,
 * `…(ext. 12)`, `010-65529988，转8001`): unread, such a phone answered null from a source while OneID,
 * which splits a field at its commas, had linked its number.
 */
const PHONE_NOTE = /\s*\([^\d()]*\)$/;
const PHONE_EXTENSION = /\s*[,;]?\s*\(?\s*(?:ext(?:ension|n)?\s*[.:=]?|x\.?|#|转|轉|分机|分機|内线|內線)\s*\d{1,6}\s*\)?$/i;
/** A Chinese landline's extension after a last dash (`010-65529988-8001`): tried only when the whole does not parse. */
const DASH_EXTENSION = /^(0\d{2,3}-\d{7,8})-\d{1,5}$/;

function parsePhoneText(raw: string | null | undefined, region: CountryCode): { e164: string } | { problem: PhoneProblem } {
  const s = foldText(raw).replace(PHONE_LABEL, '').replace(PHONE_NOTE, '').replace(PHONE_EXTENSION, '');
  if (!s) return { problem: 'malformed' };
  const dashExtension = DASH_EXTENSION.exec(s);
  if (dashExtension) return parsePhoneText(dashExtension[1], region);
  const compact = s.replace(/[\s\-()./]/g, '');
  if (!/^\+?\d{5,17}$/.test(compact)) return { problem: 'malformed' };
  let candidate = compact;
  if (!candidate.startsWith('+') && candidate.startsWith('00')) candidate = '+' + candidate.slice(2);
  const parsed = parsePhoneNumberFromString(candidate, region);
  if (parsed?.isValid()) return { e164: parsed.number };
  if (!candidate.startsWith('+') && candidate.length >= 10) {
    const international = parsePhoneNumberFromString('+' + candidate);
    if (international?.isValid()) return { e164: international.number };
  }
  return { problem: parsed?.isPossible() ? 'not-valid' : 'malformed' };
}

/**
 * A phone in E.164 is a fixed line (a home's or an office's, not a mobile): libphonenumber's type
 * `FIXED_LINE`. Numbers that may be either (the US and Canada's `FIXED_LINE_OR_MOBILE`) are not.
 */
export function isFixedLine(e164: string): boolean {
  let fixed = fixedLines.get(e164);
  if (fixed === undefined) {
    if (fixedLines.size >= PARSED_PHONES) fixedLines.clear();
    fixed = parsePhoneNumberFromString(e164)?.getType() === 'FIXED_LINE';
    fixedLines.set(e164, fixed);
  }
  return fixed;
}

const fixedLines = new Map<string, boolean>();

/** A phone in E.164 (`+8613800138000`, `+17029191300`), or null when it is not a valid number (see `parsePhone`). */
export function normalizePhone(raw: string | null | undefined, region: CountryCode = DEFAULT_PHONE_REGION): string | null {
  const p = parsePhone(raw, region);
  return 'e164' in p ? p.e164 : null;
}

/**
 * Lower-case email, or null when it does not look like one address. Accepts what forms and
 * mail clients paste: `Name <a@b.com>`, `"a@b.com"`, `mailto:a@b.com`, a quoted simple local part.
 * An internationalized domain is written in Unicode however it came (`Bücher.DE`,
 * `xn--bcher-kva.de`: `bücher.de`), as UTS #46 maps it, so both spellings are one address; the
 * local part is kept (plus tags included), only lower-cased.
 */
export function normalizeEmail(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  let s = foldText(raw);
  const angle = /<([^<>]*)>\s*$/.exec(s);
  if (angle) s = angle[1].trim();
  const quoted = /^(["'])(.*)\1$/.exec(s);
  if (quoted) s = quoted[2].trim();
  s = s.replace(/^mailto:/i, '');
  s = s.replace(/^"([^"\s@]+)"@/, '$1@').toLowerCase();
  const at = s.lastIndexOf('@');
  // Most domains are plain ASCII (qq.com, 163.com): checked as they are, without the IDNA round trip.
  const ascii = at < 0 || /^[a-z0-9.-]*$/.test(s.slice(at + 1)) ? s : `${s.slice(0, at)}@${domainToASCII(s.slice(at + 1))}`;
  if (!/^[^\s@,;<>"]+@[^\s@,;<>"]+\.[a-z0-9-]{2,}$/.test(ascii)) return null;
  const domain = ascii.slice(at + 1);
  if (!domain.includes('xn--')) return ascii;
  // '' for a label that is no valid punycode (`xn--zz`).
  const unicode = domainToUnicode(domain);
  return unicode ? `${s.slice(0, at)}@${unicode}` : null;
}

/** ISO 7064 MOD 11-2 weights and check characters of the 18-character Chinese resident id. */
const RID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RID_CHECK = '10X98765432';

/**
 * A Chinese resident identity number (18 characters: region, birth date, sequence, ISO 7064
 * MOD 11-2 check character), upper-cased, or null when the length, the birth date or the
 * check character is wrong. The old 15-digit form has no check character and is not accepted.
 */
export function normalizeResidentId(raw: string | null | undefined): string | null {
  const s = foldText(raw).replace(/[\s-]/g, '').toUpperCase();
  if (!/^\d{17}[\dX]$/.test(s)) return null;
  if (!normalizeDate(`${s.slice(6, 10)}-${s.slice(10, 12)}-${s.slice(12, 14)}`)) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * RID_WEIGHTS[i];
  return RID_CHECK[sum % 11] === s[17] ? s : null;
}

/**
 * A passport number, upper-case without spaces or dashes, optionally prefixed by its issuing
 * country (`CHN:E12345678`, ISO 3166 alpha-3): numbers are unique per issuer only.
 */
export function normalizePassport(raw: string | null | undefined): string | null {
  const s = foldText(raw).toUpperCase().replace(/[\s-]/g, '');
  const m = /^(?:([A-Z]{3})[:/])?([A-Z0-9]{6,20})$/.exec(s);
  if (!m || !/\d/.test(m[2])) return null;
  return m[1] ? `${m[1]}:${m[2]}` : m[2];
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

/**
 * CRM `M`/`F`/`男`/`女`, WeChat `1`/`2`/`0`, forms' 先生/女士/小姐 and 男性/女性, salutations (`Mr`, `Mrs`,
 * `Ms`, `Herr`, `Frau`) and the words of the languages international records come in (`woman`,
 * `weiblich`/`W`, `masculino`, `femme`; Korean `남`/`여`, Vietnamese `Nam`/`Nữ`, Thai `ชาย`/`หญิง`,
 * Indonesian and Malay `Laki-laki`/`Perempuan`, Filipino `Lalaki`/`Babae`); anything else (`Mx`, `X`, `0`) is UNKNOWN. `H` and `M` stay
 * as English reads them: Spanish forms write `M` for mujer, which no value alone can tell.
 */
export function normalizeGender(raw: unknown): Gender {
  if (raw == null) return 'UNKNOWN';
  const s = foldText(raw).toLowerCase();
  // The codes sources store (M, 男, 1) first, as they are: every profile read passes here.
  if (MALE.has(s)) return 'MALE';
  if (FEMALE.has(s)) return 'FEMALE';
  const w = foldDiacritics(s).replace(/\.$/, '');
  return MALE.has(w) ? 'MALE' : FEMALE.has(w) ? 'FEMALE' : 'UNKNOWN';
}

const MALE = new Set([
  'm',
  'male',
  'man',
  '男',
  '男性',
  '男士',
  '先生',
  '1',
  'mr',
  'herr',
  'mannlich',
  'masculino',
  'masculin',
  'homme',
  'hombre',
  // Korean, Vietnamese, Thai, Indonesian, Malay, Filipino forms.
  '남',
  '남성',
  '남자',
  'nam',
  'ชาย',
  'laki-laki',
  'pria',
  'lelaki',
  'lalaki',
]);
const FEMALE = new Set([
  'f',
  'female',
  'woman',
  '女',
  '女性',
  '女士',
  '小姐',
  '2',
  'mrs',
  'ms',
  'miss',
  'frau',
  'weiblich',
  'w',
  'femenino',
  'feminino',
  'feminin',
  'femme',
  'mujer',
  '여',
  '여성',
  '여자',
  'nữ',
  'หญิง',
  'perempuan',
  'wanita',
  'babae',
]);

/**
 * The digits after the decimal point of a currency: its ISO 4217 minor unit. Two, except for the
 * currencies listed (ISO 4217 list one): no minor unit (yen, won, …) or three (dinars, rial).
 * Stripe, Shopify and most shops store an amount as an integer count of this unit: `1500` is
 * ¥1,500, not ¥15.00, and `12345` is 12.345 KWD.
 */
export function minorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? 2;
}

const MINOR_DIGITS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'].map((c) => [c, 0])),
  ...Object.fromEntries(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'].map((c) => [c, 3])),
  CLF: 4,
  UYW: 4,
};

/**
 * A currency code as ISO 4217 writes it (`usd`, as Stripe stores it, is `USD`; `RMB`, which Chinese
 * systems write for the yuan far more often than its code, is `CNY`); null for anything else: a
 * symbol (`¥` is two currencies), and three letters ISO 4217 does not assign (`XBT`, `XX`), whose
 * minor unit no one knows, so that an amount in them is never written with a guessed two.
 */
export function currencyCode(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const s = raw.trim().toUpperCase();
  const code = CURRENCY_ALIASES[s] ?? s;
  return CURRENCIES.has(code) ? code : null;
}

/** Names in common use that stand for exactly one ISO 4217 code. */
const CURRENCY_ALIASES: Readonly<Record<string, string>> = { RMB: 'CNY' };

/**
 * The currencies money may be in: ICU's list of ISO 4217 codes (with those withdrawn lately that
 * old orders still carry, `HRK`), and the list-one codes it leaves out (funds, the newest). Not the
 * codes of no currency (`XXX`, `XTS`), metals or bond units.
 */
const CURRENCIES: ReadonlySet<string> = new Set([
  ...Intl.supportedValuesOf('currency').filter((c) => !/^X(A[GU]|B[A-D]|P[DT]|TS|XX)$/.test(c)),
  ...['HRK', 'BOV', 'CHE', 'CHW', 'CLF', 'COU', 'MXV', 'USN', 'UYI', 'UYW', 'VED', 'XCG', 'ZWG', 'SLE', 'STN', 'MRU', 'VES'],
]);

/**
 * An integer count of the currency's minor unit (cents, fen; yen for JPY, fils for KWD: see
 * `minorDigits`) to Money. Null for anything that is not a safe integer, or not a currency code.
 */
export function moneyFromCents(cents: unknown, currency: string): Money | null {
  const n = typeof cents === 'string' && /^-?\d+$/.test(cents) ? Number(cents) : cents;
  const code = currencyCode(currency);
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || code === null) return null;
  const digits = minorDigits(code);
  const sign = n < 0 ? '-' : '';
  const abs = String(Math.abs(n));
  if (digits === 0) return { amount: `${sign}${abs}`, currency: code };
  const padded = abs.padStart(digits + 1, '0');
  return { amount: `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`, currency: code };
}

/**
 * A decimal string in major units (`"20"`, `"20.5"`, `"1500"` yen, `"12.345"` dinars) to Money
 * written with the currency's digits (`"20.50"`, `"1500"`, `"12.345"`). Exact: digits past the
 * currency's minor unit are refused unless they are zeros (`"1500.00"` yen is `"1500"`), never rounded.
 */
export function moneyFromDecimal(raw: unknown, currency: string): Money | null {
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  const s = String(raw).trim();
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  const code = currencyCode(currency);
  if (!m || code === null) return null;
  const digits = minorDigits(code);
  const frac = m[3] ?? '';
  if (/[1-9]/.test(frac.slice(digits))) return null;
  return moneyFromCents(`${m[1]}${m[2]}${frac.slice(0, digits).padEnd(digits, '0')}`, code);
}

/** Sum of Money values in one currency (exact, in minor units). Money in another is a caller's bug: money is never summed across currencies. */
export function addMoney(values: Money[], currency: string): Money {
  for (const v of values) if (v.currency !== currency) throw new Error(`addMoney: ${v.currency} money summed as ${currency}; money is never summed across currencies`);
  const cents = values.reduce((sum, v) => sum + toCents(v), 0);
  return moneyFromCents(cents, currency) as Money;
}

/** Money as an integer count of its currency's minor unit (`moneyFromCents` inverted). */
export function toCents(m: Money): number {
  const digits = minorDigits(m.currency);
  const neg = m.amount.startsWith('-');
  const [whole, frac = ''] = m.amount.replace('-', '').split('.');
  const v = Number(whole) * 10 ** digits + (digits === 0 ? 0 : Number(frac.slice(0, digits).padEnd(digits, '0')));
  return neg ? -v : v;
}

/**
 * China's clocks: UTC+8, and UTC+9 in the summers of 1986–1991 (and of some years in the 1940s),
 * as tzdata's `Asia/Shanghai` has them. A wall time of those summers is read as the clocks then
 * showed it, by every kind: the CRM's and the marketplace's kinds read `+08:00` all year, a SQL-table
 * mapping in `Asia/Shanghai` read `+09:00`, so one `1988-07-01 12:00:00` was two instants an hour apart.
 * What tzdata says is also what java.time, PostgreSQL, MySQL's named zones and ICU write for such
 * a time; a table whose clock was fixed at +08:00 all year maps its zone as `+08:00`.
 */
const SHANGHAI = 'Asia/Shanghai';
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;
/** 1992-01-01T00:00:00+08:00: from here on China has kept UTC+8 all year (tzdata's last change is 1991-09-15). */
const SHANGHAI_FIXED_FROM_MS = Date.UTC(1991, 11, 31, 16);

/** `YYYY-MM-DD HH:mm:ss` in Asia/Shanghai local time to ISO UTC; null for a day or time of day no clock shows (`2024-02-30`, `24:00:00`), which Date.UTC would roll over into the next. */
export function instantFromShanghaiLocal(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(raw.trim());
  if (!m || !isCalendarDay(+m[1], +m[2], +m[3]) || +m[4] > 23 || +m[5] > 59 || +m[6] > 59) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  // Every time of the last thirty years is at +08:00: the zone is looked up only for older ones (every row's times pass here).
  const utc = +m[1] >= 1992 ? wall - SHANGHAI_OFFSET_MS : wallClockToUtc(wall, SHANGHAI);
  return isoOrNull(utc);
}

/** An instant (unix ms) as Asia/Shanghai wall-clock text `YYYY-MM-DD HH:mm:ss`: `instantFromShanghaiLocal` inverted, for the systems that take their times so in requests and SQL. */
export function shanghaiLocalText(ms: number): string {
  const offset = ms >= SHANGHAI_FIXED_FROM_MS ? SHANGHAI_OFFSET_MS : zoneOffsetMs(ms, SHANGHAI);
  const iso = isoFromMillis(ms + offset);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/**
 * Unix milliseconds (number or numeric string) to ISO UTC; null unless from 1973-03-03 (10^11 ms)
 * and before year 10000, as `instantFromIso` (a later instant is written `+010000-…`, which sorts
 * before every four-digit year as text and wins every `mostRecent`). Below 10^11 lie the seconds
 * of every time from 1973 to the year 5138 sent where milliseconds belong (`placed_at:
 * 1700000000`): read as milliseconds they were all 20 January 1970, the order "two thousand weeks
 * ago"; no system stored a time of 1970–1972 in milliseconds.
 */
export function instantFromMillis(raw: unknown): string | null {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && n >= FIRST_MILLIS && n < END_INSTANT_MS ? isoFromMillis(n) : null;
}

/** 1973-03-03T09:46:40Z: the first unix time in milliseconds that is not also seconds of a year before 5138. */
const FIRST_MILLIS = 1e11;

/**
 * Unix seconds to ISO UTC, in the range of `instantFromMillis`. Milliseconds sent where seconds
 * belong (`subscribe_time: 1700000000123`) land past year 50000: null, so the record answers a
 * row error instead of a time no one lived in.
 */
export function instantFromSeconds(raw: unknown): string | null {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && n > 0 && n * 1000 < END_INSTANT_MS ? isoFromMillis(n * 1000) : null;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/;
/** 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the instants ISO-8601's four-digit years write. */
const FIRST_INSTANT_MS = -62_135_596_800_000;
const END_INSTANT_MS = 253_402_300_800_000;

/**
 * An ISO-8601 string with a zone to canonical ISO UTC; null unless its date is a calendar day
 * (Date.parse reads 30 February as 2 March) and, once in UTC, it falls in years 0001–9999: later
 * instants are written `+010000-…`, which no four-digit time compares with, and no source takes.
 * Every instant a client sends passes here (the DateTime scalar, filters, timeline cursors).
 */
export function instantFromIso(raw: unknown): string | null {
  if (typeof raw !== 'string' || !ISO_WITH_ZONE.test(raw)) return null;
  // The pattern made these digits.
  const digit = (i: number) => raw.charCodeAt(i) - 48;
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  if (!isCalendarDay(year, digit(5) * 10 + digit(6), digit(8) * 10 + digit(9))) return null;
  const ms = Date.parse(raw);
  // NaN (an impossible time of day, zone) fails both.
  return ms >= FIRST_INSTANT_MS && ms < END_INSTANT_MS ? isoFromMillis(ms) : null;
}

/** Which of day and month comes first in a date written `04/03/1990`: the source's convention, when it has one. */
export const DATE_ORDERS = ['dmy', 'mdy'] as const;
export type DateOrder = (typeof DATE_ORDERS)[number];

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
/** A month by its English name or abbreviation (`mar`, `mar.`, `sept`) → 1-12. */
const monthOf = (name: string) => MONTHS.findIndex((full) => full.startsWith(name.replace('.', '')) && name.length >= 3) + 1;
const MONTH_NAME = `(${MONTHS.join('|')}|sept\\.?|(?:${MONTHS.map((x) => x.slice(0, 3)).join('|')})\\.?)`;
const YMD = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/;
const COMPACT = /^(19|20)(\d{2})(\d{2})(\d{2})$/;
const NUMERIC_YEAR_LAST = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/;
const DOTTED = /^\d{1,2}\.\d{1,2}\.\d{4}$/;
const DAY_MONTH_NAME = new RegExp(`^(\\d{1,2})(?:st|nd|rd|th)?[ -]${MONTH_NAME}[ ,-]+(\\d{4})$`);
const MONTH_NAME_DAY = new RegExp(`^${MONTH_NAME}[ -](\\d{1,2})(?:st|nd|rd|th)?,?[ -](\\d{4})$`);
/**
 * A date in the Republic of China's era, as Taiwan's government forms, National Health Insurance
 * cards and household registers write it (year 1 is 1912: 民國80年 is 1991): with the era named
 * (`民國80年5月12日`, `民国80/5/12`), or with a year of three digits (`080/05/12`, `101-05-12`,
 * `080.05.12`) or seven digits run together (`0800512`), which no Gregorian birthday is written
 * with. A two-digit year first (`80/05/12`) is left unread: a Gregorian `YY/MM/DD` looks the same.
 */
const ROC_NAMED = /^(?:中華民國|中华民国|民國|民国)\s*(\d{1,3})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/;
const ROC_YEAR3 = /^(\d{3})[-/.](\d{1,2})[-/.](\d{1,2})$/;
const ROC_COMPACT = /^(0\d{2}|1[01]\d)(\d{2})(\d{2})$/;
/** Years the Republic of China's era counts behind the common era. */
export const ROC_ERA_OFFSET = 1911;
/**
 * A date in a Japanese era (元号), as Japanese forms, health insurance cards and resident records
 * write it: the era named (`昭和60年5月12日`, `平成元年1月8日`, 元年 its first year) or by the initial
 * JIS X 0301 gives it (`S60.05.12`, `H1.1.8`, `h01/01/08`). An era's first year is the year it
 * began in, and a date outside its era (平成1年1月1日: 平成 began on 8 January 1989) is none.
 */
const ERA_NAMED = /^(明治|大正|昭和|平成|令和)\s*(元|\d{1,2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/;
const ERA_INITIAL = /^([mtshr])\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{1,2})$/;
/** Each era's first day, latest last; an era ends where the next begins. */
const JAPANESE_ERAS: ReadonlyArray<readonly [name: string, initial: string, start: string]> = [
  ['明治', 'm', '1868-01-25'],
  ['大正', 't', '1912-07-30'],
  ['昭和', 's', '1926-12-25'],
  ['平成', 'h', '1989-01-08'],
  ['令和', 'r', '2019-05-01'],
];

/** `YYYY-MM-DD` for the `year`th year of a Japanese era (by name or initial), or null when that day is not in the era. */
function japaneseEraDate(era: string, year: number, month: number, day: number): string | null {
  const i = JAPANESE_ERAS.findIndex(([name, initial]) => era === name || era === initial);
  if (i < 0 || year < 1) return null;
  const [, , start] = JAPANESE_ERAS[i];
  const date = calendarDate(+start.slice(0, 4) + year - 1, month, day);
  const end = JAPANESE_ERAS[i + 1]?.[2];
  return date && date >= start && (!end || date < end) ? date : null;
}
/** A midnight after a date (a DATETIME or timestamp column holding a birthday), with or without a zone: the date as written. */
const MIDNIGHT = /[ t]00:00(?::00(?:\.0+)?)?(?: ?(?:z|utc|[+-]\d{2}:?\d{2}))?$/;

/**
 * A calendar date as `YYYY-MM-DD`, validated; null when it is not one date for certain.
 * Read: `YYYY-MM-DD` with `-`, `/`, `.` or 年月日 (full-width too), optionally followed by a
 * midnight (`1990-03-04 00:00:00`, `1990-03-04T00:00:00Z`); `19900304`; a Republic of China or
 * Japanese era date (`民國80年5月12日`, `080/05/12`; `昭和60年5月12日`, `S60.5.12`); an English month name
 * (`4 March 1990`, `Mar 4, 1990`, `04-Mar-1990`); and day and month before a four-digit year
 * (`04/03/1990`) in `order` when given, else day first when written with dots (`04.03.1990`, as
 * Europe writes it; no one writes the month first so), else only when they cannot be read the
 * other way round (`13/04/1990`, `04/13/1990`, `04/04/1990`). A time other than midnight is an instant, not a date.
 */
export function normalizeDate(raw: unknown, order?: DateOrder): string | null {
  if (typeof raw !== 'string') return null;
  // Most dates are already canonical (every read of a profile passes here): checked without folding.
  let m = CANONICAL_DATE.exec(raw);
  if (m) return calendarDate(+m[1], +m[2], +m[3]);
  const s = foldText(raw).toLowerCase().replace(MIDNIGHT, '');
  m = YMD.exec(s);
  if (m) return calendarDate(+m[1], +m[2], +m[3]);
  if ((m = COMPACT.exec(s))) return calendarDate(+(m[1] + m[2]), +m[3], +m[4]);
  if ((m = ROC_NAMED.exec(s) ?? ROC_YEAR3.exec(s) ?? ROC_COMPACT.exec(s))) return calendarDate(+m[1] + ROC_ERA_OFFSET, +m[2], +m[3]);
  if ((m = ERA_NAMED.exec(s) ?? ERA_INITIAL.exec(s))) return japaneseEraDate(m[1], m[2] === '元' ? 1 : +m[2], +m[3], +m[4]);
  if ((m = DAY_MONTH_NAME.exec(s))) return calendarDate(+m[3], monthOf(m[2]), +m[1]);
  if ((m = MONTH_NAME_DAY.exec(s))) return calendarDate(+m[3], monthOf(m[1]), +m[2]);
  if ((m = NUMERIC_YEAR_LAST.exec(s))) {
    const [a, b, y] = [+m[1], +m[2], +m[3]];
    // Dots between day, month and year are the European way (`04.03.1990`, DIN 5008): day first.
    const dmy = order ? order === 'dmy' : a > 12 || DOTTED.test(s) ? true : b > 12 ? false : a === b ? true : null;
    return dmy === null ? null : dmy ? calendarDate(y, b, a) : calendarDate(y, a, b);
  }
  return null;
}

/**
 * A value in a date column that is a time, not a date anyone wrote: a unix time (a number, or text of
 * six or more digits, a minus before for a birthday before 1970) or an ISO date-time at another time
 * of day than midnight (`1990-03-03T16:00:00.000Z`, a birthday a JavaScript client wrote at midnight
 * in Shanghai), that `normalizeDate` does not read (`19900304` is a date, and so is a midnight). Read
 * as null, a stored birthday looked like a customer who never gave one; its reader answers a row
 * error instead, or reads it in the unit and zone a mapping names (`dateFromTime`).
 */
export function isTimeNotDate(raw: unknown): boolean {
  if (typeof raw === 'number' || typeof raw === 'bigint') return normalizeDate(String(raw)) === null;
  if (typeof raw !== 'string') return false;
  const s = raw.trim();
  return (/^-?\d{6,}$/.test(s) || /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(s)) && normalizeDate(s) === null;
}

/**
 * A date stored as a time (unix seconds or milliseconds, negative before 1970; or ISO-8601 with an
 * offset): the day of which it is the midnight in `zone` (`UTC`, `+08:00`, an IANA zone), or null.
 * A time that is no midnight there is refused, not cut to its day: a birthday written at midnight in
 * Shanghai is 16:00 the day before in UTC, and a mapping in the wrong zone would move every birthday
 * by one. The unit's guard as the times have it: seconds past year 9999 are milliseconds;
 * milliseconds under 5·10^9 in magnitude (58 days either side of 1970-01-01) are the seconds of a
 * date from 1811 to 2128 sent in the wrong unit, so a birthday of those days stored in milliseconds
 * is refused too.
 */
export function dateFromTime(raw: unknown, format: 'unixSeconds' | 'unixMillis' | 'iso', zone: string): string | null {
  let ms: number;
  if (format === 'iso') {
    const iso = instantFromIso(typeof raw === 'string' ? raw.trim() : raw);
    if (iso === null) return null;
    ms = Date.parse(iso);
  } else {
    const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : typeof raw === 'bigint' ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) return null;
    if (format === 'unixMillis' && Math.abs(n) < SECONDS_OF_DATES) return null;
    ms = format === 'unixSeconds' ? n * 1000 : n;
  }
  if (!(ms >= FIRST_INSTANT_MS && ms < END_INSTANT_MS)) return null;
  const wall = ms + utcOffsetMs(ms, zone);
  if (wall % DAY_MS !== 0) return null;
  const iso = new Date(wall).toISOString();
  return calendarDate(+iso.slice(0, 4), +iso.slice(5, 7), +iso.slice(8, 10));
}

/** 5·10^9: every date from 1811 to 2128 in unix seconds is under it in magnitude. */
const SECONDS_OF_DATES = 5e9;

const CANONICAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether the day exists in the proleptic Gregorian calendar (29 February in leap years only). */
function isCalendarDay(y: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return day <= DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0);
}

/** `YYYY-MM-DD` for a day that exists, from year 1000, else null. */
function calendarDate(y: number, month: number, day: number): string | null {
  if (y < 1000 || y > 9999 || !isCalendarDay(y, month, day)) return null;
  return `${y}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) ? isoFromMillis(ms) : null;
}

/** `Z`, `+08:00`, `+0800` → minutes east of UTC. */
export function offsetMinutes(o: string): number {
  if (o === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(o) as RegExpExecArray;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * A wall-clock time (as if UTC, in ms) in `zone` → the real UTC ms. A wall time the clocks show
 * twice (the hour after daylight saving ends) is the first of the two; one they skip (the hour
 * daylight saving starts) is read with the offset before the skip, so `02:30` in New York on the
 * day clocks go forward is 03:30 EDT. RFC 5545 (§3.3.5), Temporal's `compatible`, java.time and
 * PostgreSQL read them so. (Correcting a guess made with the offset at the wall time instead
 * answered the second of the two times east of Greenwich and the first west of it, and moved a
 * skipped time back an hour west of it: 02:30 in New York was 01:30 EST, before 01:59.)
 */
export function wallClockToUtc(wallMs: number, zone: string): number {
  if (zone === 'UTC') return wallMs;
  if (zone.startsWith('+') || zone.startsWith('-')) return wallMs - offsetMinutes(zone) * 60_000;
  // The zone's offsets a day either side: one offset unless the clocks change near this wall time
  // (zones change at most once in two days).
  const before = zoneOffsetMs(wallMs - DAY_MS, zone);
  const after = zoneOffsetMs(wallMs + DAY_MS, zone);
  if (before === after) return wallMs - before;
  const early = wallMs - Math.max(before, after);
  const late = wallMs - Math.min(before, after);
  // Each reading holds if the zone has that offset at the instant it gives.
  if (zoneOffsetMs(early, zone) === Math.max(before, after)) return early;
  if (zoneOffsetMs(late, zone) === Math.min(before, after)) return late;
  return wallMs - before; // skipped: no instant shows this wall time
}

const DAY_MS = 86_400_000;

/** The offset of `zone` (`UTC`, `+08:00`, an IANA zone) from UTC at the instant `utcMs`, in ms. */
function utcOffsetMs(utcMs: number, zone: string): number {
  if (zone === 'UTC') return 0;
  if (zone.startsWith('+') || zone.startsWith('-')) return offsetMinutes(zone) * 60_000;
  return zoneOffsetMs(utcMs, zone);
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
function zoneOffsetMs(utcMs: number, zone: string): number {
  let f = zoneFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(utcMs)).map((x) => [x.type, x.value]));
  const local = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return local - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}
