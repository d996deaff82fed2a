/**
 * Birthdays in the Republic of China's era (Taiwan: 民國80年 = 1991), as government forms, National
 * Health Insurance cards and household registers write them, are the same birthdays as their
 * Gregorian spelling: for a source's date column, the rules' birthday keys and the tier alike.
 */
import { isTimeNotDate, normalizeDate } from '../../src/canonical';
import { birthDate } from '../../src/idmap/birth-date';
import { birthOf } from '../../src/idmap/probabilistic/features';
import { convert } from '../../src/sources/sql-table/mapping';
import { birthdayOf } from '../../demo/world-csv';

describe('Dates: the Republic of China era', () => {
  it('reads a date with the era named, in traditional or simplified characters', () => {
    for (const s of ['民國80年5月12日', '民国80年5月12日', '中華民國80年05月12日', '民國 80/05/12', '民國080.05.12']) expect(normalizeDate(s)).toBe('1991-05-12');
    expect(normalizeDate('民國101年2月29日')).toBe('2012-02-29');
  });

  it('reads a three-digit year first and seven digits run together, which no Gregorian birthday is written with', () => {
    for (const s of ['080/05/12', '080-05-12', '080.05.12', '0800512']) expect(normalizeDate(s)).toBe('1991-05-12');
    expect(normalizeDate('1010229')).toBe('2012-02-29');
    expect(normalizeDate('1000229')).toBeNull(); // 2011 has no 29 February
  });

  it('leaves a two-digit year first unread (a Gregorian YY/MM/DD looks the same), and Gregorian dates as they were', () => {
    expect(normalizeDate('80/05/12')).toBeNull();
    expect(normalizeDate('1991-05-12')).toBe('1991-05-12');
    expect(normalizeDate('19910512')).toBe('1991-05-12');
    expect(normalizeDate('1991年5月12日')).toBe('1991-05-12');
  });

  it('takes a seven-digit date for a date, not a unix time, in a source date column', () => {
    expect(isTimeNotDate('0800512')).toBe(false);
    expect(convert({ type: 'date' }, '0800512')).toEqual(convert({ type: 'date' }, '1991-05-12'));
    expect(convert({ type: 'date' }, '民國80年5月12日')).toEqual(convert({ type: 'date' }, '1991-05-12'));
  });

  it('gives one customer the same birthday for the rules and the tier whichever calendar a system keeps', () => {
    expect(birthDate('民國80年5月12日')).toBe('1991-05-12');
    expect(birthOf('080/05/12', () => false)).toBe('1991-05-12');
    expect(birthdayOf('民國80年5月12日')).toBe('1991-05-12');
  });
});
