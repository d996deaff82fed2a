/**
 * The mapping of a `sql-table` source: which table, which key, which column feeds which
 * canonical profile field and how its values convert, as zod schemas (config is data,
 * checked at start-up) and the pure conversions those schemas name.
 *
 * Nothing here touches a database. `connector.ts` reads rows and hands each value to
 * `convert`; `check.ts` compares the mapping with the real table using `COLUMN_CLASSES_FOR`.
 *
 * Identifiers (table and column names) are config too: they must match IDENTIFIER_PATTERN and
 * are only ever handed to knex as identifiers, never written into SQL text. Row filters are
 * data (`{ column, equals | in | isNull }`), compiled to bound parameters.
 *
 * Which failures are a malformed row and which a null value: values people type (phones,
 * emails, birthdays, gender codes, free text) answer null when they cannot be read, as the
 * hand-written connectors do; values machines write (times, flags, money) that cannot be read
 * mean the mapping or the row is wrong, and the record answers `badRow` in its slot.
 */
import { z } from 'zod';
import { sqlConnection } from '../options';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import { PROFILE_FIELDS, type ProfileField, type ProfileValue } from '../../capabilities';
import { IDENTIFIER_KINDS, type Gender, type Money } from '../../vocabulary';
import {
  canonicalText,
  currencyCode,
  dateFromTime,
  isTimeNotDate,
  DEFAULT_PHONE_REGION,
  instantFromMillis,
  instantFromSeconds,
  moneyFromCents,
  moneyFromDecimal,
  normalizeDate,
  normalizeEmail,
  normalizeGender,
  normalizePhone,
  offsetMinutes,
  wallClockToUtc,
  DATE_ORDERS,
  type DateOrder,
} from '../../canonical';
import { MAX_IN_LIST } from '../../db';

// ---------- names ----------

/** What a table or column name from config may look like: a plain SQL identifier. */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const sqlName = z.string().regex(IDENTIFIER_PATTERN, 'must be a plain SQL name (letters, digits, _; not starting with a digit)').max(64);

// ---------- conversions ----------

export const TIME_FORMATS = ['iso', 'local', 'unixSeconds', 'unixMillis'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

export type Conversion =
  | { type: 'text' }
  | { type: 'phone'; region?: CountryCode }
  | { type: 'email' }
  | { type: 'gender'; codes?: Record<string, Gender> }
  | { type: 'time'; format: TimeFormat; zone: string }
  | { type: 'date'; order?: DateOrder; format?: DateTime; zone?: string }
  | { type: 'boolean' }
  | { type: 'money'; unit: 'cents' | 'yuan'; currency: string };
export type ConversionType = Conversion['type'];

/** The times a date column may hold instead of written dates (a birthday as unix seconds or milliseconds, or an ISO instant). */
export const DATE_TIMES = ['unixSeconds', 'unixMillis', 'iso'] as const;
export type DateTime = (typeof DATE_TIMES)[number];

/** `UTC`, a fixed offset `+08:00`, or an IANA zone the runtime knows (`Asia/Shanghai`). */
export function isTimeZone(zone: string): boolean {
  if (zone === 'UTC' || /^[+-](0\d|1[0-4]):[0-5]\d$/.test(zone)) return true;
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const region = z
  .string()
  .refine((r) => isSupportedCountry(r), 'must be an ISO 3166 alpha-2 region with a phone plan, e.g. CN')
  .transform((r) => r as CountryCode);
const zone = z.string().refine(isTimeZone, 'must be UTC, a fixed offset like +08:00, or an IANA zone like Asia/Shanghai');
const gender = z.enum(['MALE', 'FEMALE', 'UNKNOWN']);

/** A conversion written out (`{ "type": "time", "format": "local", "zone": "Asia/Shanghai" }`). */
const conversionObject = z.discriminatedUnion('type', [
  /** Trimmed text; blank is null. */
  z.object({ type: z.literal('text') }).strict(),
  /**
   * A phone as typed → E.164; `region` reads numbers without a country code. Without it, the
   * row's `traits.country`, else the source's region in the identity rules (CN by default): where
   * OneID reads the row's phones, so the golden phone is the number OneID linked.
   */
  z.object({ type: z.literal('phone'), region: region.optional() }).strict(),
  /** An email → trimmed, lower-case; null when it is not one address. */
  z.object({ type: z.literal('email') }).strict(),
  /**
   * A gender code → MALE/FEMALE/UNKNOWN. `codes` maps the table's own codes (`"M"`, `"女"`, `"1"`),
   * matched after trimming, then case-insensitively; unmapped codes are UNKNOWN. Without
   * `codes`, the usual spellings (M/F, male/female, 男/女, 1/2) are understood.
   */
  z.object({ type: z.literal('gender'), codes: z.record(z.string(), gender).optional() }).strict(),
  /**
   * An instant → ISO-8601 UTC. `format`: `iso` (text, with or without an offset), `local`
   * (text `YYYY-MM-DD HH:MM:SS`, or a DATETIME column), `unixSeconds`, `unixMillis` (integers).
   * `zone` (default UTC) reads times written without an offset.
   */
  z.object({ type: z.literal('time'), format: z.enum(TIME_FORMATS).default('iso'), zone: zone.default('UTC') }).strict(),
  /**
   * A calendar date → `YYYY-MM-DD` (see `normalizeDate`: year first, `19900304`, English month
   * names, a DATE column, a midnight DATETIME); null when not one real date. `order` (`dmy` or
   * `mdy`) reads `04/03/1990` as the table writes it; without it, only dates that cannot be
   * read the other way round are read. A time in such a column (a unix time, an ISO instant
   * at another time of day than midnight) is a row error, unless `format` says the column holds
   * times (`unixSeconds`, `unixMillis`, `iso` with an offset): then it is the date of which it is the
   * midnight in `zone` (default UTC; a time that is no midnight there is a row error).
   */
  z
    .object({ type: z.literal('date'), order: z.enum(DATE_ORDERS).optional(), format: z.enum(DATE_TIMES).optional(), zone: zone.optional() })
    .strict()
    .refine((c) => c.zone === undefined || c.format !== undefined, { message: 'zone applies to a date stored as unixSeconds or unixMillis', path: ['zone'] })
    .refine((c) => c.order === undefined || c.format === undefined, { message: 'order applies to dates written as text, not to unix times', path: ['order'] }),
  /** A flag: 1/0, Y/N, yes/no, true/false, T/F; NULL is "not known". */
  z.object({ type: z.literal('boolean') }).strict(),
  /** An amount → `{ amount: "12.50", currency }`; `unit` says whether the column holds cents (the currency's minor unit: fen, yen for JPY) or major units. */
  z
    .object({
      type: z.literal('money'),
      unit: z.enum(['cents', 'yuan']),
      currency: z.string().refine((c) => currencyCode(c) === c, 'must be an ISO 4217 code like CNY'),
    })
    .strict(),
]);

/** The conversions that need no parameters may be named alone: `"convert": "email"`. */
const SHORTHANDS = ['text', 'phone', 'email', 'gender', 'time', 'date', 'boolean'] as const;
export const conversionSchema = z.preprocess(
  (v) => (typeof v === 'string' && (SHORTHANDS as readonly string[]).includes(v) ? { type: v } : v),
  conversionObject.transform((c) => c as Conversion),
);

/** The conversion a profile field takes when its mapping names none, and the types it may take. */
export const FIELD_CONVERSIONS: Readonly<Record<ProfileField, readonly ConversionType[]>> = {
  name: ['text'],
  phone: ['phone'],
  email: ['email'],
  gender: ['gender'],
  birthday: ['date'],
  city: ['text'],
  province: ['text'],
  memberTier: ['text'],
  registeredAt: ['time'],
  registrationChannel: ['text'],
  'marketingConsent.sms': ['boolean'],
  'marketingConsent.email': ['boolean'],
  'marketingConsent.wechat': ['boolean'],
};

const DEFAULT_CONVERSION: Readonly<Record<ConversionType, Conversion | null>> = {
  text: { type: 'text' },
  phone: { type: 'phone' },
  email: { type: 'email' },
  gender: { type: 'gender' },
  time: { type: 'time', format: 'iso', zone: 'UTC' },
  date: { type: 'date' },
  boolean: { type: 'boolean' },
  money: null,
};

// ---------- the mapping ----------

/** One column and how its values convert. */
export interface ColumnMapping {
  column: string;
  convert: Conversion;
}

/**
 * A time column: its name alone (ISO text; text without an offset read as UTC) or
 * `{ column, convert: { type: 'time', format, zone } }`.
 */
const timeColumn = z.preprocess(
  (v) => (typeof v === 'string' ? { column: v } : v),
  z
    .object({ column: sqlName, convert: conversionSchema.optional() })
    .strict()
    .transform((m, ctx): ColumnMapping => {
      const convert = m.convert ?? (DEFAULT_CONVERSION.time as Conversion);
      if (convert.type !== 'time') {
        ctx.addIssue({ code: 'custom', path: ['convert'], message: `a time column takes a time conversion, not ${convert.type}` });
        return z.NEVER;
      }
      return { column: m.column, convert };
    }),
);

const filterValue = z.union([z.string(), z.number().finite()]);

/**
 * One condition on the rows the source may see, exactly one of `equals` (`column = value`),
 * `in` (`column IN (values)`) or `isNull` (`IS NULL` when true, `IS NOT NULL` when false).
 * All conditions hold together (AND).
 */
const rowFilter = z
  .object({
    column: sqlName,
    equals: filterValue.optional(),
    in: z.array(filterValue).min(1).max(MAX_IN_LIST).optional(),
    isNull: z.boolean().optional(),
  })
  .strict()
  .refine((f) => [f.equals, f.in, f.isNull].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of equals, in, isNull',
  })
  .transform((f): { column: string; equals: string | number } | { column: string; in: Array<string | number> } | { column: string; isNull: boolean } =>
    f.equals !== undefined ? { column: f.column, equals: f.equals } : f.in !== undefined ? { column: f.column, in: f.in } : { column: f.column, isNull: f.isNull as boolean },
  );
export type RowFilter = z.infer<typeof rowFilter>;

/** A profile field's column: `{ column, convert? }`, the conversion defaulting by field (phone → phone, …). */
const fieldColumn = z.object({ column: sqlName, convert: conversionSchema.optional() }).strict();

const profileFields = z
  .object(Object.fromEntries(PROFILE_FIELDS.map((f) => [f, fieldColumn.optional()])) as Record<ProfileField, z.ZodOptional<typeof fieldColumn>>)
  .strict()
  .transform((fields, ctx) => {
    const out: Partial<Record<ProfileField, ColumnMapping>> = {};
    for (const f of PROFILE_FIELDS) {
      const m = fields[f];
      if (!m) continue;
      const allowed = FIELD_CONVERSIONS[f];
      const convert = m.convert ?? (DEFAULT_CONVERSION[allowed[0]] as Conversion);
      if (!allowed.includes(convert.type)) {
        ctx.addIssue({ code: 'custom', path: [f, 'convert'], message: `${f} takes a ${allowed.join(' or ')} conversion, not ${convert.type}` });
        continue;
      }
      out[f] = { column: m.column, convert };
    }
    if (PROFILE_FIELDS.every((f) => fields[f] === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: `map at least one profile field (${PROFILE_FIELDS.join(', ')})` });
    return out;
  });

export const profileMappingSchema = z
  .object({
    /** The table holding one row per record. */
    table: sqlName,
    /** The column whose value is the record id (OneID `(source, record id)`); primary key or indexed. */
    key: sqlName,
    /** When the row last changed: the identity feed pages on (updatedAt, key), survivorship weighs by it. */
    updatedAt: timeColumn,
    /** When the record came to be (optional): survivorship's `earliest`. */
    createdAt: timeColumn.optional(),
    /** Conditions every row the source may see must meet (a tenant, a status); none: every row. */
    filter: z.array(rowFilter).max(16).default([]),
    /** Canonical profile field → the column that feeds it. */
    fields: profileFields,
  })
  .strict();
export type ProfileMapping = z.infer<typeof profileMappingSchema>;

/** One identifier column of the identity feed; values go out raw (resolution normalizes them). */
export const identifierMappingSchema = z
  .object({
    /** The OneID identifier kind. */
    kind: z.enum(IDENTIFIER_KINDS),
    /** The column holding it. */
    column: sqlName,
    /** PHONE only: the region of numbers written without a country code; given, phones are sent as E.164. */
    region: region.optional(),
  })
  .strict()
  .refine((m) => m.region === undefined || m.kind === 'PHONE', { message: 'region applies to PHONE identifiers only', path: ['region'] });
export type IdentifierMapping = z.infer<typeof identifierMappingSchema>;

/** The options of one `sql-table` instance (besides name, kind, webhookSecret). */
export const optionsSchema = z
  .object({
    /** Where the table lives. */
    /** The source database, as the gateway's other SQL connections (a MySQL URL from the environment). */
    connection: sqlConnection,
    /** Per-statement limit in milliseconds (default 2000). */
    timeoutMs: z.number().int().min(10).max(120_000).default(2000),
    /** Keys per `IN (…)` statement (default 500, at most 1000). */
    maxBatch: z.number().int().min(1).max(MAX_IN_LIST).default(500),
    /** Circuit breaker: consecutive failures that open it, and how long it stays open. */
    breaker: z
      .object({ failureThreshold: z.number().int().min(1), cooldownMs: z.number().int().min(100) })
      .strict()
      .optional(),
    /** The table → the profile capability. */
    profile: profileMappingSchema,
    /** Identifier columns for identity resolution; none: the source's records are linked by nothing. */
    identifiers: z.array(identifierMappingSchema).max(16).default([]),
    /**
     * Columns identity resolution reads as evidence beyond the profile fields (no profile field
     * holds them): the record's country (an ISO 3166 code or the country's name in English or Chinese; its phones without a country code are
     * read there), postcode and street address (compared by the probabilistic tier).
     */
    traits: z.object({ country: sqlName, postcode: sqlName, address: sqlName }).partial().strict().default({}),
  })
  .strict();
export type SqlTableOptions = z.infer<typeof optionsSchema>;

// ---------- running a conversion ----------

export type Converted = { ok: true; value: ProfileValue | Money | null } | { ok: false; reason: string };
const value = (v: ProfileValue | Money | null): Converted => ({ ok: true, value: v });
const fail = (reason: string): Converted => ({ ok: false, reason });

/** Converts one column value as the mapping says. Never throws; reasons carry no values (no PII in logs). */
/** `phoneRegion`: where a phone conversion without a `region` reads (the row's country, else the source's region). */
export function convert(c: Conversion, raw: unknown, phoneRegion: CountryCode = DEFAULT_PHONE_REGION): Converted {
  // NULL and blank text are "not given" whatever the conversion (sources store '' for it).
  if (raw == null || (typeof raw === 'string' && raw.trim() === '')) return value(null);
  switch (c.type) {
    case 'text':
      return value(textOf(raw));
    case 'phone':
      return value(normalizePhone(textOf(raw), c.region ?? phoneRegion));
    case 'email':
      return value(normalizeEmail(textOf(raw)));
    case 'gender':
      return value(genderOf(raw, c.codes));
    case 'date': {
      if (raw instanceof Date) return value(dateOfDateColumn(raw));
      if (c.format) {
        const d = dateFromTime(raw, c.format, c.zone ?? 'UTC');
        return d === null ? fail(`is not a ${c.format} midnight in ${c.zone ?? 'UTC'}`) : value(d);
      }
      const d = normalizeDate(typeof raw === 'number' || typeof raw === 'bigint' ? String(raw) : raw, c.order);
      // A time is no typo of a person's: null would read as "no birthday given".
      if (d === null && isTimeNotDate(raw)) return fail('is a time, not a date (a column of times takes format unixSeconds, unixMillis or iso)');
      return value(d);
    }
    case 'boolean': {
      const b = booleanOf(raw);
      return b === undefined ? fail('is not a recognised flag (1/0, Y/N, true/false)') : value(b);
    }
    case 'time': {
      const t = instantOf(raw, c.format, c.zone);
      return t === null ? fail(`is not a ${c.format} time`) : value(t);
    }
    case 'money': {
      const m = c.unit === 'cents' ? moneyFromCents(raw, c.currency) : moneyFromDecimal(typeof raw === 'number' ? String(raw) : raw, c.currency);
      return m === null ? fail(`is not an amount in ${c.unit}`) : value(m);
    }
  }
}

function textOf(raw: unknown): string | null {
  if (raw instanceof Date || Buffer.isBuffer(raw) || typeof raw === 'object') return null;
  return canonicalText(raw);
}

function genderOf(raw: unknown, codes: Record<string, Gender> | undefined): Gender {
  if (!codes) return normalizeGender(raw);
  const s = String(raw).trim();
  if (Object.prototype.hasOwnProperty.call(codes, s)) return codes[s];
  const lower = s.toLowerCase();
  for (const [code, g] of Object.entries(codes)) if (code.trim().toLowerCase() === lower) return g;
  return 'UNKNOWN';
}

const TRUE_FLAGS = new Set(['1', 'y', 'yes', 'true', 't']);
const FALSE_FLAGS = new Set(['0', 'n', 'no', 'false', 'f']);
function booleanOf(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'number') return raw === 1 ? true : raw === 0 ? false : undefined;
  if (typeof raw === 'bigint') return raw === 1n ? true : raw === 0n ? false : undefined;
  if (typeof raw === 'string') {
    const s = raw.trim().toLowerCase();
    return TRUE_FLAGS.has(s) ? true : FALSE_FLAGS.has(s) ? false : undefined;
  }
  if (Buffer.isBuffer(raw) && raw.length === 1) return raw[0] === 1 ? true : raw[0] === 0 ? false : undefined; // BIT(1)
  return undefined;
}

/** A Date for a DATE column: UTC midnight of that day (mysql2 with timezone 'Z'; source databases answer DATE as text, src/db.ts `dateText`). */
function dateOfDateColumn(d: Date): string | null {
  return Number.isFinite(d.getTime()) ? d.toISOString().slice(0, 10) : null;
}

// ---------- times ----------

const LOCAL_TEXT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const ISO_TEXT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * An instant from a column value, as ISO-8601 UTC; null when it cannot be read. Wall-clock
 * values (local text, ISO text without an offset, DATETIME columns) are read in `zone`.
 * mysql2 (timezone 'Z') answers a DATETIME as a Date whose UTC fields are the stored wall clock.
 */
export function instantOf(raw: unknown, format: TimeFormat, zone: string): string | null {
  switch (format) {
    case 'unixSeconds':
    case 'unixMillis': {
      const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : typeof raw === 'bigint' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) return null;
      return format === 'unixSeconds' ? instantFromSeconds(n) : instantFromMillis(n);
    }
    case 'local':
    case 'iso': {
      // mysql2 answers a DATETIME no calendar has (`0000-00-00 00:00:00`, MySQL's "no time") as an Invalid Date.
      if (raw instanceof Date) return Number.isFinite(raw.getTime()) ? iso(wallClockToUtc(raw.getTime(), zone)) : null;
      if (typeof raw !== 'string') return null;
      const m = (format === 'local' ? LOCAL_TEXT : ISO_TEXT).exec(raw.trim());
      if (!m) return null;
      const [y, mo, d, h, mi, s = '0', frac = '0'] = m.slice(1, 8);
      const ms = Number(frac.padEnd(3, '0').slice(0, 3));
      const wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms);
      // Date.UTC rolls 2024-02-30 over to March: a date that changes on the way is not a date.
      const back = new Date(wall);
      if (back.getUTCFullYear() !== +y || back.getUTCMonth() !== +mo - 1 || back.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59) return null;
      const offset = format === 'iso' ? m[8] : undefined;
      if (offset) return iso(wall - offsetMinutes(offset) * 60_000);
      return iso(wallClockToUtc(wall, zone));
    }
  }
}

function iso(ms: number): string | null {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

// ---------- column types ----------

/** What a column holds, as far as conversions care. `any`: a SQLite column declared without a type. */
export type ColumnClass = 'text' | 'integer' | 'decimal' | 'real' | 'boolean' | 'date' | 'datetime' | 'blob' | 'any' | 'other';

/** The column classes a conversion can read. */
export function columnClassesFor(c: Conversion): readonly ColumnClass[] {
  switch (c.type) {
    case 'text':
      return ['text', 'integer', 'decimal', 'any'];
    case 'phone':
      return ['text', 'integer', 'decimal', 'any'];
    case 'email':
      return ['text', 'any'];
    case 'gender':
      return ['text', 'integer', 'boolean', 'any'];
    case 'date':
      return c.format === 'iso' ? ['text', 'any'] : c.format ? ['integer', 'decimal', 'text', 'any'] : ['text', 'date', 'any'];
    case 'boolean':
      return ['boolean', 'integer', 'text', 'any'];
    case 'money':
      // Never floating point: a REAL column cannot hold cents exactly.
      return c.unit === 'cents' ? ['integer', 'decimal', 'any'] : ['decimal', 'integer', 'text', 'any'];
    case 'time':
      switch (c.format) {
        case 'iso':
          return ['text', 'datetime', 'any'];
        case 'local':
          return ['text', 'datetime', 'any'];
        case 'unixSeconds':
        case 'unixMillis':
          return ['integer', 'any'];
      }
  }
}

/** Describes a conversion for messages: `time (unixSeconds)`. */
export function describeConversion(c: Conversion): string {
  if (c.type === 'time') return `time (${c.format})`;
  if (c.type === 'money') return `money (${c.unit})`;
  if (c.type === 'date' && c.format) return `date (${c.format})`;
  return c.type;
}

/**
 * A SQLite declared type's class: a few names first (BOOLEAN, DATE, DATETIME, TIMESTAMP, which
 * SQLite itself treats as NUMERIC), then SQLite's own affinity rules (INT, CHAR/CLOB/TEXT,
 * BLOB, REAL/FLOA/DOUB, else NUMERIC).
 */
export function sqliteColumnClass(declared: string): ColumnClass {
  const t = declared.trim().toUpperCase();
  if (t === '') return 'any';
  if (t.startsWith('BOOL')) return 'boolean';
  if (t.startsWith('DATETIME') || t.startsWith('TIMESTAMP')) return 'datetime';
  if (t === 'DATE') return 'date';
  if (t.includes('INT')) return 'integer';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'text';
  if (t.includes('BLOB')) return 'blob';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'real';
  return 'decimal';
}

/** A MySQL/MariaDB column's class from information_schema `DATA_TYPE` and `COLUMN_TYPE`. */
export function mysqlColumnClass(dataType: string, columnType: string): ColumnClass {
  const t = dataType.toLowerCase();
  if (t === 'tinyint' && /^tinyint\(1\)/i.test(columnType)) return 'boolean';
  if (t === 'bit' && /^bit\(1\)/i.test(columnType)) return 'boolean';
  if (['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint'].includes(t)) return 'integer';
  if (['decimal', 'numeric'].includes(t)) return 'decimal';
  if (['float', 'double', 'real'].includes(t)) return 'real';
  if (['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set'].includes(t)) return 'text';
  if (t === 'date') return 'date';
  if (t === 'datetime' || t === 'timestamp') return 'datetime';
  if (t.includes('blob') || t.includes('binary')) return 'blob';
  return 'other';
}
