/**
 * The South-East Asian held-out world (`demo/heldout/sea-world.py`): one seed writes one file, the
 * loader takes it as it is, and its records carry the naming, phone and birthday conventions the
 * world exists to measure (docs/identity.md, held-out worlds). A change to the generator that
 * dropped one of them would leave its figures measuring less than they say.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseWorldCsv } from '../../demo/world-csv';
import { tempDir } from '../helpers/tmp';

const SCRIPT = path.join(__dirname, '../../demo/heldout/sea-world.py');

describe('the South-East Asian held-out world', () => {
  let dir: string;
  let text: string;
  beforeAll(() => {
    dir = tempDir('sea-world');
    const write = (out: string) => spawnSync('python3', [SCRIPT, '600', '3', out], { encoding: 'utf8', timeout: 120_000 });
    const run = write(path.join(dir, 'a.csv'));
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^600 people, \d+ records\n$/);
    expect(write(path.join(dir, 'b.csv')).status).toBe(0);
    text = fs.readFileSync(path.join(dir, 'a.csv'), 'utf8');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the same file for the same seed, and the world-CSV loader reads every line of it', () => {
    expect(fs.readFileSync(path.join(dir, 'b.csv'), 'utf8')).toBe(text);
    const world = parseWorldCsv(text, 'sea.csv');
    expect(new Set(world.truth.map(([, , person]) => person)).size).toBe(600);
  });

  it('carries each country’s names, phones and birthdays as written there', () => {
    const rows = text.split('\n').slice(1);
    const has = (re: RegExp) => rows.filter((r) => re.test(r)).length;
    expect(has(/ (bin|b\.|binti|bte|binte|bt\.) /i)).toBeGreaterThan(0); // Malay patronymics
    expect(has(/ (s\/o|d\/o|a\/l|a\/p) /i)).toBeGreaterThan(0); // Indian Singaporean and Malaysian
    expect(has(/Nguyễn|Trần|Phạm/)).toBeGreaterThan(0); // Vietnamese with diacritics
    expect(has(/\bNguyen\b|\bTran\b|\bPham\b/)).toBeGreaterThan(0); // and without
    expect(has(/[\u0e00-\u0e7f]{3}/)).toBeGreaterThan(0); // Thai script
    expect(has(/\bMa\. /)).toBeGreaterThan(0); // Filipino Maria
    expect(has(/,(\+60 0|\+62 0|\+63 0|\+66 0)/)).toBeGreaterThan(0); // an international prefix keeping the trunk 0
    expect(has(/,\+65 [89]\d{3} \d{4},/)).toBeGreaterThan(0); // Singapore's eight digits
    expect(has(/,(24|25|26)\d\d-\d\d-\d\d,|\/(24|25|26)\d\d,| (24|25|26)\d\d,/)).toBeGreaterThan(0); // Thai Buddhist-era years (2530 = 1987)
  });
});
