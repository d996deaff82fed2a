/**
 * `eval:identity --world-csv`: an external world in the documented CSV format, loaded into the
 * noisy profile's systems in their own table format, resolved and scored end to end; and the
 * errors bad input gets (each naming its line).
 */
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../src/db';
import { NOISY_DB_FILE } from '../../demo/generate';
import { birthdayOf, csvRecords, genderOf, parseWorldCsv, WorldCsvError } from '../../demo/world-csv';
import { convertFebrl } from '../../demo/febrl';
import { tempDir } from '../helpers/tmp';
import { evalIdentity } from '../helpers/eval-identity';

const FIXTURE = path.join(__dirname, '../fixtures/world-small.csv');
const ROOT = path.join(__dirname, '../..');

describe('external world CSV: parsing', () => {
  const head = 'record_id,person_id,system,name,birthday';
  const parseError = (text: string) => {
    try {
      parseWorldCsv(text, 'w.csv');
    } catch (e) {
      expect(e).toBeInstanceOf(WorldCsvError);
      return (e as Error).message;
    }
    throw new Error('parsed');
  };

  it('reads quoted fields, CRLF lines and a byte-order mark', () => {
    expect(csvRecords('\ufeffa,b\r\n"x, y","say ""hi"""\r\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
    ]);
  });

  it('reads the fixture: records per system, truth, given and family names, dates in several spellings', () => {
    const w = parseWorldCsv(fs.readFileSync(FIXTURE, 'utf8'));
    expect(w.truth).toHaveLength(8);
    expect(Object.fromEntries(Object.entries(w.rows).map(([s, r]) => [s, r.length]))).toEqual({ members: 2, webshop: 2, service: 1, global_store: 1, events: 2 });
    expect(w.rows.service[0]).toMatchObject({ id: 's1', name: 'Robert Smith', birthday: '1970-07-02', gender: 'M', address: '4 Collins St' });
    expect(w.rows.webshop[1]).toMatchObject({ birthday: '1990-05-01', phone: '138 0013 8000' });
    expect(w.rows.global_store[0].birthday).toBe('1979');
    expect(w.rows.members[0].address).toBe('12 George Street, Sydney');
    const split = parseWorldCsv('record_id,person_id,system,given_name,surname\nr1,p1,events,Ann,Lee\nr2,p1,events,,Lee\n');
    expect(split.rows.events.map((r) => r.name)).toEqual(['Ann Lee', 'Lee']);
  });

  it('refuses bad input, naming the line', () => {
    expect(parseError(`${head}\nr1,p1,crm,A B,1990-01-01\n`)).toBe('w.csv: line 2: unknown system "crm" (systems: members, webshop, service, global_store, events)');
    expect(parseError('record_id,system,name\nr1,events,A\n')).toBe('w.csv: line 1: missing column(s) person_id');
    expect(parseError(`${head},nickname\n`)).toMatch(/^w\.csv: line 1: unknown column\(s\) nickname/);
    expect(parseError(`${head}\nr1,p1,events,A B,1990-02-30\n`)).toBe('w.csv: line 2: birthday "1990-02-30" is not a date');
    expect(parseError(`${head}\nr1,p1,events,A B,04/03/1990\n`)).toBe('w.csv: line 2: birthday "04/03/1990" could be day/month or month/day: write YYYY-MM-DD');
    expect(parseError(`${head}\nr1,p1,events,A B,yesterday\n`)).toBe('w.csv: line 2: birthday "yesterday" is not a date');
    expect(parseError(`${head}\nr1,p1,events,A B,\nr1,p2,events,C D,\n`)).toBe('w.csv: line 3: record_id "r1" appears twice in events');
    expect(parseError(`${head}\nr1,,events,A B,\n`)).toBe('w.csv: line 2: person_id is empty');
    expect(parseError(`${head}\nr1,p1,events,A B\n`)).toBe('w.csv: line 2: 4 fields, the header has 5');
    expect(parseError(`${head},gender\nr1,p1,events,A B,,Sydney\n`)).toMatch(/^w\.csv: line 2: gender "Sydney" is not read as a gender/);
    expect(parseError(head + '\n')).toBe('w.csv: no records after the header');
    expect(birthdayOf('19151111')).toBe('1915-11-11');
  });

  it('reads dates and genders written the ways other systems export them, as resolution reads them', () => {
    const dates = ['1990-2-3', '1990/2/3', '3 February 1990', 'Feb 3, 1990', '03.02.1990', '1990-02-03T00:00:00Z', '03/13/1990'];
    expect(dates.map(birthdayOf)).toEqual(['1990-02-03', '1990-02-03', '1990-02-03', '1990-02-03', '1990-02-03', '1990-02-03', '1990-03-13']);
    expect(['M', 'male', 'Male', 'MALE', '男', '1', 'Mr', 'Herr'].map(genderOf)).toEqual(Array(8).fill('M'));
    expect(['F', 'female', 'Female', '女', '2', 'Mrs', 'Frau', 'woman'].map(genderOf)).toEqual(Array(8).fill('F'));
    expect(['', 'U', 'unknown', 'Other', 'X', '0', '未知'].map(genderOf)).toEqual(Array(7).fill(null));
    const w = parseWorldCsv(`${head},gender\nr1,p1,events,A B,4 March 1990,Female\nr2,p1,members,A B,,unknown\n`, 'w.csv');
    expect(w.rows.events[0]).toMatchObject({ birthday: '1990-03-04', gender: 'F' });
    expect(w.rows.members[0]).toMatchObject({ birthday: null, gender: null });
  });
});

describe('FEBRL-shaped files into the world CSV (demo/febrl.ts)', () => {
  // Hand-written lines in FEBRL's layout, not FEBRL data.
  const HEAD = 'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id';
  const a = `${HEAD}\nrec-7-org, ann, lee, 3, king street, , newtown, 2042, nsw, 19800230, 1234567\nrec-8-org, bo, tan, , , , , , , 19790101, \n`;
  const b = `${HEAD}\nrec-7-dup-0, anne, lee, 3, king st, , newtown, 2042, nsw, 19800203, 1234576\n`;

  it('one system per file, the person from rec-N across a and b, impossible dates left out and counted', () => {
    const out = convertFebrl([
      { name: 'x/dataset9a.csv', text: a },
      { name: 'x/dataset9b.csv', text: b },
    ]);
    expect(out).toMatchObject({ records: 3, people: 2, truePairs: 1, badBirthdays: 1, perSystem: { members: 2, webshop: 1 } });
    const w = parseWorldCsv(out.csv);
    expect(w.truth).toEqual([
      ['members', 'rec-7-org', 'dataset9-7'],
      ['members', 'rec-8-org', 'dataset9-8'],
      ['webshop', 'rec-7-dup-0', 'dataset9-7'],
    ]);
    expect(w.rows.webshop[0]).toMatchObject({
      name: 'anne lee',
      birthday: '1980-02-03',
      city: 'newtown',
      province: 'nsw',
      postcode: '2042',
      address: '3 king st',
      member_no: null,
    });
    expect(w.rows.members[0].birthday).toBeNull();
  });

  it('soc_sec_id only with memberNo; one file spread over systems by a seeded hash, the same every time', () => {
    const one = convertFebrl([{ name: 'dataset9a.csv', text: a }], { memberNo: true, seed: 5 });
    expect(parseWorldCsv(one.csv).columns).toContain('member_no');
    expect(convertFebrl([{ name: 'dataset9a.csv', text: a }], { memberNo: true, seed: 5 }).csv).toBe(one.csv);
    expect(() => convertFebrl([{ name: 'n.csv', text: 'a,b\n1,2\n' }])).toThrow(/not a FEBRL file/);
  });
});

describe('eval:identity --world-csv, end to end', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('world-csv');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads the records into the systems, reads the truth and computes the figures', async () => {
    const missed = path.join(dir, 'missed-name-birth.tsv');
    const missedShared = path.join(dir, 'missed-shared.tsv');
    const run = evalIdentity(['--world-csv', FIXTURE, '--data-dir', dir, '--missed-name-birth', missed, '--missed-shared', missedShared]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout.trimEnd().split('\n');
    expect(out[0]).toMatch(/^identity resolution on the external world \(--world-csv .*world-small\.csv/);
    const figures = JSON.parse(out[out.length - 1]);
    // Every record loaded and resolved; the truth's 5 people and 3 true pairs.
    expect(figures).toMatchObject({
      profile: 'csv',
      records: 8,
      people: 5,
      truePairs: 3,
      unknownRecords: 0,
      sources: ['members', 'webshop', 'service', 'global_store', 'events'],
    });
    expect(figures.precision).toBe(1);
    // 张伟 / Zhang Wei share a phone written two ways: the rules link them.
    expect(figures.deterministic.recall).toBeCloseTo(1 / 3, 6);
    expect(figures.recall).toBeGreaterThanOrEqual(1 / 3);
    // Robert Smith / Bob Smith share no identifier, only a name and a birthday.
    expect(figures.tiers.nameBirth.truePairs).toBe(1);
    expect(figures.tiers.nameBirth.ifAccepted.truePairs).toBe(1);
    expect(figures.tiers.nameBirth.ifAccepted.found).toBeGreaterThanOrEqual(figures.tiers.nameBirth.found);
    // --missed-name-birth lists exactly the pairs of that set left apart, with their names and level.
    const [header, ...pairs] = fs.readFileSync(missed, 'utf8').trimEnd().split('\n');
    expect(header.split('\t')).toEqual(['person', 'a', 'b', 'name_a', 'name_b', 'birth_a', 'birth_b', 'level', 'blocked_together']);
    expect(pairs).toHaveLength(figures.tiers.nameBirth.truePairs - figures.tiers.nameBirth.found);
    for (const line of pairs)
      expect(line).toMatch(
        /^p2\t(service:s1|events:e1)\t(service:s1|events:e1)\t(robert smith|bob smith)\t(robert smith|bob smith)\t1970-07-02\t1970-07-02\talias\t(yes|no)$/,
      );
    // --missed-shared lists the pairs inside the identifier ceiling left apart, as many as the report's classes count.
    const [sharedHeader, ...sharedPairs] = fs.readFileSync(missedShared, 'utf8').trimEnd().split('\n');
    expect(sharedHeader.split('\t')).toEqual(['person', 'a', 'b', 'class', 'shared', 'named_a', 'named_b', 'dated_a', 'dated_b']);
    expect(sharedPairs).toHaveLength(figures.missedByPairClass.reduce((n: number, c: { pairs: number }) => n + c.pairs, 0));
    expect(figures.bySystem.map((s: { system: string }) => s.system).sort()).toEqual(['events', 'global_store', 'members', 'service', 'webshop']);
    // Stored in the systems' own tables, as the noisy world stores its rows.
    const db = openDatabase({ client: 'sqlite', filename: path.join(dir, NOISY_DB_FILE) }, { readOnly: true });
    try {
      expect(await db('members').orderBy('id').select('id', 'name', 'birthday', 'member_no', 'postcode')).toEqual([
        { id: 'm1', name: 'Sarah Thompson', birthday: '1985-03-14', member_no: 'M100234', postcode: '2000' },
        { id: 'm2', name: '张伟', birthday: '1990-05-01', member_no: 'M100777', postcode: null },
      ]);
    } finally {
      await db.destroy();
    }
    expect(fs.readFileSync(path.join(dir, 'truth.csv'), 'utf8').trim().split('\n')).toHaveLength(9);
    // Country, postcode and street address reach the probabilistic tier's features through the sql-table mapping's traits.
    const oneid = openDatabase({ client: 'sqlite', filename: path.join(dir, 'oneid-eval.sqlite') }, { readOnly: true });
    try {
      expect(await oneid('idmap_match_features').where({ source: 'members', record_id: 'm1' }).first('country', 'postcode', 'street', 'city')).toEqual({
        country: 'AU',
        postcode: '2000',
        street: '12 george st sydney',
        city: 'sydney',
      });
    } finally {
      await oneid.destroy();
    }
  });

  it('with --estimate, resolves with weights estimated on the world, levels it never shows kept from the weights file', () => {
    const out = path.join(dir, 'estimate');
    const run = evalIdentity(['--world-csv', FIXTURE, '--estimate', '--data-dir', out]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const estimated = JSON.parse(fs.readFileSync(path.join(out, 'identity-weights.estimated.json'), 'utf8'));
    const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/identity-weights.json'), 'utf8'));
    // Eight records show few levels: each one they never show is the shipped file's, and says so.
    const unseen: string[] = estimated.estimated.unseen;
    expect(unseen.length).toBeGreaterThan(0);
    for (const level of unseen) {
      const [comparison, name] = level.split('.');
      expect(estimated.comparisons[comparison][name]).toEqual(shipped.comparisons[comparison][name]);
      expect(estimated.estimated.kept[level]).toEqual(expect.any(String));
    }
  });

  it('exits 2 with the line when the file is bad', () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'record_id,person_id,system,birthday\nr1,p1,events,19701302\n');
    const run = evalIdentity(['--world-csv', bad, '--data-dir', path.join(dir, 'bad')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`eval:identity: --world-csv: ${bad}: line 2: birthday "19701302" is not a date\n`);
  });
});
