/**
 * An external world for `eval:identity --world-csv FILE`: records written by somebody else
 * (another generator, a public benchmark such as FEBRL, a labelled sample of your own data),
 * loaded into the `noisy` profile's systems in those systems' own storage format (the tables
 * demo/world-noisy.ts writes, read through the declarative SQL source kind) and resolved with
 * the configured rules, so that they are scored exactly like the generated worlds.
 *
 * The file is CSV (RFC 4180: comma-separated, fields with commas, quotes or line breaks in
 * double quotes, `""` for a quote), UTF-8, a header line naming the columns in any order:
 *
 * | column | required | meaning |
 * | --- | --- | --- |
 * | `record_id` | yes | the record's key in its system (unique per system, at most 64 characters) |
 * | `person_id` | yes | the truth: records with the same person id are one person |
 * | `system` | yes | one of `members`, `webshop`, `service`, `global_store`, `events` |
 * | `updated_at` | no | ISO time the record last changed (default 2026-11-01T00:00:00Z) |
 * | `name` | no | the name as the system holds it; or `given_name` and `surname`, joined with a space |
 * | `birthday` | no | a date as resolution reads one (`YYYY-MM-DD`, `YYYYMMDD`, `YYYY/M/D`, `4 March 1990`, `04.03.1990` day first, `1990-03-04T00:00:00Z`; `04/03/1990` only when day and month cannot be read the other way round) or a year alone `YYYY`; a date that does not exist or could be two is an error |
 * | `gender` | no | a gender as resolution reads one (`M`/`F`, `male`/`female`, `男`/`女`, `1`/`2`, `Mr`/`Mrs`, `Herr`/`Frau`, …); `U`, `unknown`, `other`, `X`, `0`, `未知` are "not known"; anything else is an error |
 * | `phone`, `email` | no | as typed; resolution normalizes them (a phone without a country code is read in the record's `country`, else CN, US for `global_store`) |
 * | `city`, `province` | no | as written (for an Australian record: suburb and state) |
 * | `resident_id`, `passport`, `member_no` | no | identifiers; `member_no` is a `MEMBER_NO` (exclusive: two different numbers say two people) |
 * | `country` | no | ISO 3166 alpha-2 or alpha-3 code, or the country's name in English or Chinese: the record's phones without a country code are read there |
 * | `postcode`, `address` | no | postcode and street address (house number and street), compared by the probabilistic tier |
 *
 * Empty fields are "not known". Any other column, a missing required column, an unknown
 * system, a repeated record id or an impossible date is an error naming the line.
 */
import fs from 'node:fs';
import { normalizeDate, normalizeGender } from '../src/canonical';
import { noisySourcesConfig, writeNoisyTables } from './generate';
import { NOISY_SYSTEMS, type NoisySystem } from './world-noisy';

export const WORLD_CSV_REQUIRED = ['record_id', 'person_id', 'system'] as const;
export const WORLD_CSV_OPTIONAL = [
  'updated_at',
  'name',
  'given_name',
  'surname',
  'birthday',
  'gender',
  'phone',
  'email',
  'city',
  'province',
  'country',
  'postcode',
  'address',
  'resident_id',
  'passport',
  'member_no',
] as const;

/** Columns of a system's table, as demo/world-noisy.ts writes them, then the external world's extra ones. */
const TABLE_COLUMNS = ['id', 'updated_at', 'name', 'birthday', 'gender', 'city', 'province', 'phone', 'email', 'resident_id', 'passport'] as const;
const EXTRA_COLUMNS = ['member_no', 'country', 'postcode', 'address'] as const;

export type WorldCsvRow = Record<(typeof TABLE_COLUMNS)[number] | (typeof EXTRA_COLUMNS)[number], string | null>;

export interface WorldCsv {
  rows: Record<NoisySystem, WorldCsvRow[]>;
  /** `[system, record id, person id]` per record. */
  truth: Array<[NoisySystem, string, string]>;
  /** The optional columns the file has. */
  columns: string[];
}

export class WorldCsvError extends Error {}

/** RFC 4180 records of `text`, each with the line it starts on. */
export function csvRecords(text: string): Array<{ line: number; fields: string[] }> {
  const out: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let any = false;
  const endField = () => {
    fields.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    if (any || fields.length > 1 || fields[0] !== '') out.push({ line: start, fields });
    fields = [];
    any = false;
  };
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      any = true;
    } else if (c === ',') {
      endField();
      any = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw new WorldCsvError(`line ${start}: a quoted field is not closed`);
  if (field !== '' || fields.length) endRecord();
  return out;
}

/** Genders a file may write for "not known" (no error, no value). */
const UNKNOWN_GENDERS = new Set(['u', 'unknown', 'other', 'x', 'n/a', 'na', '0', '9', '-', '?', '未知', '不详', '保密']);

/** `M`, `F` or null for a gender as the file writes it; throws for a value that is no gender (a column out of place). */
export function genderOf(raw: string): 'M' | 'F' | null {
  const s = raw.trim();
  if (!s || UNKNOWN_GENDERS.has(s.toLowerCase())) return null;
  const g = normalizeGender(s);
  if (g === 'UNKNOWN') throw new Error(`gender "${s}" is not read as a gender (M, F, male, female, 男, 女, 1, 2, Mr, Mrs, …; U, unknown or other for not known)`);
  return g === 'MALE' ? 'M' : 'F';
}

/** `YYYY-MM-DD` (or `YYYY`) for a birthday as the file writes it; null for an empty one; throws for one that cannot be one date. */
export function birthdayOf(raw: string): string | null {
  const s = raw.trim();
  if (!s) return null;
  if (/^\d{4}$/.test(s)) return s;
  const date = normalizeDate(s);
  if (date) return date;
  // Say why: a date that does not exist, or day and month that could be either.
  const m = /^(\d{1,2})[-/](\d{1,2})[-/](\d{4})$/.exec(s);
  if (m && +m[1] <= 12 && +m[2] <= 12) throw new Error(`birthday "${s}" could be day/month or month/day: write YYYY-MM-DD`);
  throw new Error(`birthday "${s}" is not a date`);
}

/** The records of an external-world CSV, checked; throws `WorldCsvError` naming the file's line. */
export function parseWorldCsv(text: string, file = 'world CSV'): WorldCsv {
  const records = csvRecords(text);
  if (!records.length) throw new WorldCsvError(`${file}: empty (a header line is required: ${WORLD_CSV_REQUIRED.join(',')},...)`);
  const header = records[0].fields.map((h) => h.trim().toLowerCase());
  const known = new Set<string>([...WORLD_CSV_REQUIRED, ...WORLD_CSV_OPTIONAL]);
  const unknown = header.filter((h) => !known.has(h));
  if (unknown.length) throw new WorldCsvError(`${file}: line 1: unknown column(s) ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  const missing = WORLD_CSV_REQUIRED.filter((c) => !header.includes(c));
  if (missing.length) throw new WorldCsvError(`${file}: line 1: missing column(s) ${missing.join(', ')}`);
  const repeated = header.filter((h, i) => header.indexOf(h) !== i);
  if (repeated.length) throw new WorldCsvError(`${file}: line 1: column(s) named twice: ${[...new Set(repeated)].join(', ')}`);
  if (header.includes('name') && (header.includes('given_name') || header.includes('surname')))
    throw new WorldCsvError(`${file}: line 1: give either name or given_name/surname, not both`);
  const at = Object.fromEntries(header.map((h, i) => [h, i])) as Record<string, number>;
  const rows = Object.fromEntries(NOISY_SYSTEMS.map((s) => [s, [] as WorldCsvRow[]])) as Record<NoisySystem, WorldCsvRow[]>;
  const truth: WorldCsv['truth'] = [];
  const seen = new Set<string>();
  for (const { line, fields } of records.slice(1)) {
    const fail = (why: string): never => {
      throw new WorldCsvError(`${file}: line ${line}: ${why}`);
    };
    if (fields.length !== header.length) fail(`${fields.length} fields, the header has ${header.length}`);
    const get = (c: string): string | null => {
      const v = at[c] === undefined ? '' : fields[at[c]].trim();
      return v === '' ? null : v;
    };
    const id = get('record_id') ?? fail('record_id is empty');
    if (id.length > 64) fail(`record_id is longer than 64 characters`);
    const person = get('person_id') ?? fail('person_id is empty');
    if (/[,\s]/.test(id) || /[,\s]/.test(person)) fail('record_id and person_id may not hold commas or spaces');
    const system = (get('system') ?? fail('system is empty')) as NoisySystem;
    if (!NOISY_SYSTEMS.includes(system)) fail(`unknown system "${system}" (systems: ${NOISY_SYSTEMS.join(', ')})`);
    if (seen.has(`${system}\u0000${id}`)) fail(`record_id "${id}" appears twice in ${system}`);
    seen.add(`${system}\u0000${id}`);
    let updated = '2026-11-01T00:00:00.000Z';
    const u = get('updated_at');
    if (u) {
      const t = Date.parse(u);
      if (!/^\d{4}-\d{2}-\d{2}/.test(u) || Number.isNaN(t)) fail(`updated_at "${u}" is not an ISO time`);
      updated = new Date(t).toISOString();
    }
    let birthday: string | null = null;
    try {
      birthday = birthdayOf(get('birthday') ?? '');
    } catch (e) {
      fail((e as Error).message);
    }
    let gender: 'M' | 'F' | null = null;
    try {
      gender = genderOf(get('gender') ?? '');
    } catch (e) {
      fail((e as Error).message);
    }
    const name = at.name !== undefined ? get('name') : [get('given_name'), get('surname')].filter(Boolean).join(' ') || null;
    rows[system].push({
      id,
      updated_at: updated,
      name,
      birthday,
      gender,
      city: get('city'),
      province: get('province'),
      phone: get('phone'),
      email: get('email'),
      resident_id: get('resident_id'),
      passport: get('passport'),
      member_no: get('member_no'),
      country: get('country'),
      postcode: get('postcode'),
      address: get('address'),
    });
    truth.push([system, id, person]);
  }
  if (!truth.length) throw new WorldCsvError(`${file}: no records after the header`);
  return { rows, truth, columns: header.filter((h) => (WORLD_CSV_OPTIONAL as readonly string[]).includes(h)) };
}

/**
 * Writes an external world into `dataDir` as the noisy world is written (one SQLite file, a
 * table per system, replacing any there) and its truth CSV; answers the records per system.
 */
export async function loadWorldCsv(opts: { file: string; dataDir: string; truthFile: string }): Promise<{ records: Record<string, number>; world: WorldCsv }> {
  let text: string;
  try {
    text = fs.readFileSync(opts.file, 'utf8');
  } catch (e) {
    throw new WorldCsvError(`${opts.file}: cannot read: ${(e as Error).message}`);
  }
  const world = parseWorldCsv(text, opts.file);
  await writeNoisyTables({ dataDir: opts.dataDir, truthFile: opts.truthFile, columns: [...TABLE_COLUMNS, ...EXTRA_COLUMNS], rows: world.rows, truth: world.truth });
  const records = Object.fromEntries(NOISY_SYSTEMS.filter((s) => world.rows[s].length).map((s) => [s, world.rows[s].length]));
  return { records, world };
}

/** The sources config for an external world: the noisy systems that have records, mapped as the noisy world's, with country, postcode and address as identity traits and `member_no` as a MEMBER_NO. */
export function worldCsvSourcesConfig(dataDir: string, world: Pick<WorldCsv, 'rows' | 'columns'>) {
  const memberNo = world.columns.includes('member_no');
  return noisySourcesConfig(dataDir)
    .filter((s) => world.rows[s.name as NoisySystem].length > 0)
    .map((s) => ({
      ...s,
      traits: { country: 'country', postcode: 'postcode', address: 'address' },
      identifiers: [
        ...s.identifiers.filter((i) => i.kind !== 'RESIDENT_ID' && i.kind !== 'PASSPORT'),
        { kind: 'RESIDENT_ID', column: 'resident_id' },
        { kind: 'PASSPORT', column: 'passport' },
        ...(memberNo ? [{ kind: 'MEMBER_NO', column: 'member_no' }] : []),
      ],
    }));
}
