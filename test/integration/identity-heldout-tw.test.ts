/**
 * The Taiwanese held-out world (`demo/heldout/tw-world.py`): one seed writes one file, the loader
 * takes it as it is (its Republic of China era birthdays included), and its records carry the
 * writing, phone, address and date conventions the world exists to measure (docs/identity.md,
 * held-out worlds). A change to the generator that dropped one of them would leave its figures
 * measuring less than they say.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseWorldCsv } from '../../demo/world-csv';
import { tempDir } from '../helpers/tmp';

const SCRIPT = path.join(__dirname, '../../demo/heldout/tw-world.py');

describe('the Taiwanese held-out world', () => {
  let dir: string;
  let text: string;
  beforeAll(() => {
    dir = tempDir('tw-world');
    const write = (out: string, env: NodeJS.ProcessEnv = {}) =>
      spawnSync('python3', [SCRIPT, '600', '3', out], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
    const run = write(path.join(dir, 'a.csv'));
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^600 people, \d+ records\n$/);
    expect(write(path.join(dir, 'b.csv')).status).toBe(0);
    expect(write(path.join(dir, 'greg.csv'), { TW_WORLD_ROC: '0' }).status).toBe(0);
    text = fs.readFileSync(path.join(dir, 'a.csv'), 'utf8');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the same file for the same seed, and the world-CSV loader reads every line of it, ROC dates as their Gregorian ones', () => {
    expect(fs.readFileSync(path.join(dir, 'b.csv'), 'utf8')).toBe(text);
    const world = parseWorldCsv(text, 'tw.csv');
    expect(new Set(world.truth.map(([, , person]) => person)).size).toBe(600);
    const greg = parseWorldCsv(fs.readFileSync(path.join(dir, 'greg.csv'), 'utf8'), 'tw-greg.csv');
    expect(world.rows).toEqual(greg.rows);
  });

  it('carries Taiwan’s writings, romanizations, phones, addresses, postcodes and dates as written there', () => {
    const rows = text.split('\n').slice(1);
    const has = (re: RegExp) => rows.filter((r) => re.test(r)).length;
    expect(has(/臺(北|中|南)/)).toBeGreaterThan(0); // the standard form
    expect(has(/台(北|中|南)/)).toBeGreaterThan(0); // and the everyday one
    expect(has(/\b(Jh|Sy|Ci|Si)[a-z]+\b/)).toBeGreaterThan(0); // Tongyong pinyin
    expect(has(/\b(Hs|Ch|Ts)[a-z]+-[A-Za-z]+/)).toBeGreaterThan(0); // Wade-Giles, a hyphenated given name
    expect(has(/,09\d\d-\d{3}-\d{3},/)).toBeGreaterThan(0); // a mobile as written at home
    expect(has(/,\+886 9\d\d \d{3} \d{3},/)).toBeGreaterThan(0); // and abroad
    expect(has(/,\(0[2-8]\) ?\d{3,4}-\d{4}/)).toBeGreaterThan(0); // a landline with its area code in brackets
    expect(has(/[一二三四五]段\d+.*號/)).toBeGreaterThan(0); // an address largest-first in characters
    expect(has(/No\. \d+, .*Dist\./)).toBeGreaterThan(0); // and smallest-first in English
    expect(has(/,\d{3},/)).toBeGreaterThan(0); // a three-digit postcode
    expect(has(/,\d{6},/)).toBeGreaterThan(0); // and 3+3
    expect(has(/民國\d+年|,0\d\d\/\d\d\/\d\d,|,[01]\d{6},/)).toBeGreaterThan(0); // ROC-era birthdays (民國80年 = 1991)
  });
});
