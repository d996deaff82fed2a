/**
 * Birthdays written in the Buddhist era (Thailand: B.E. 2530 = 1987 C.E.) are the same
 * birthdays as their common-era spelling, for the rules' birthday keys and for the
 * probabilistic tier's birthday comparison alike.
 */
import path from 'node:path';
import { birthDate } from '../../src/idmap/birth-date';
import { birthdayKey } from '../../src/idmap/evidence';
import { prepareRecord } from '../../src/idmap/prepare';
import { birthOf } from '../../src/idmap/probabilistic/features';
import { loadIdentityRules } from '../../src/idmap/rules';
import { rec } from '../helpers/feeds';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));

describe('birthdays in the Buddhist era', () => {
  it('reads a year from 2400 as the Buddhist era, in every spelling a date is read in', () => {
    for (const s of ['2530-03-15', '15/03/2530', '15.03.2530', '15 March 2530']) expect(birthDate(s)).toBe('1987-03-15');
    expect(birthDate('2400-01-01')).toBe('1857-01-01');
    expect(birthDate('2699-12-31')).toBe('2156-12-31');
  });

  it('reads 29 February of a leap year, though its Buddhist-era number is no leap year', () => {
    expect(birthDate('2531-02-29')).toBe('1988-02-29'); // 2531 is not divisible by 4; 1988 is
    expect(birthDate('29/02/2531')).toBe('1988-02-29');
    expect(birthDate('2532-02-29')).toBeNull(); // 1989 has no 29 February
  });

  it('leaves common-era dates, and what is no date, as they were', () => {
    expect(birthDate('1987-03-15')).toBe('1987-03-15');
    expect(birthDate('2024-02-29')).toBe('2024-02-29');
    expect(birthDate('2399-01-01')).toBe('2399-01-01');
    expect(birthDate('2700-01-01')).toBe('2700-01-01');
    for (const s of ['2530-02-30', 'unit 2530', '', null, undefined, 2530]) expect(birthDate(s)).toBeNull();
  });

  it('gives one birthday key and one compared birthday to one day written in either era', () => {
    expect(birthdayKey('15/03/2530', rules)).toBe(birthdayKey('1987-03-15', rules));
    expect(birthOf('2530-03-15', () => false)).toBe('1987-03-15');
    const thai = prepareRecord(rec('members', 'T1', { phone: '+66 81 234 5678' }, { name: 'Somchai Srisawat', birthday: '2530-03-15' }), 'TH');
    const web = prepareRecord(rec('webshop', 'W1', { phone: '081-234-5678' }, { name: 'Somchai Srisawat', birthday: '1987-03-15' }), 'TH');
    expect(thai.birthday).toBe('1987-03-15');
    expect(thai.birthdayKey).toBe(web.birthdayKey);
  });
});
