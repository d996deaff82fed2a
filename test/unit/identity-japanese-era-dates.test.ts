/**
 * Birthdays in a Japanese era (昭和60年 = 1985, 平成元年 = 1989), as Japanese forms, health insurance
 * cards and resident records write them, named or by the initial JIS X 0301 gives the era, are
 * the same birthdays as their Gregorian spelling: for a source's date column, the rules' birthday
 * keys, the tier and an external world's file alike.
 */
import { normalizeDate } from '../../src/canonical';
import { birthDate } from '../../src/idmap/birth-date';
import { birthOf } from '../../src/idmap/probabilistic/features';
import { convert } from '../../src/sources/sql-table/mapping';
import { birthdayOf } from '../../demo/world-csv';

describe('Dates: the Japanese eras', () => {
  it('reads a date with the era named, its first year written 元年, digits full-width or not', () => {
    for (const s of ['昭和60年5月12日', '昭和60年05月12日', '昭和 60年 5月 12日', '昭和６０年５月１２日', '昭和60/5/12']) expect(normalizeDate(s)).toBe('1985-05-12');
    expect(normalizeDate('平成元年1月8日')).toBe('1989-01-08');
    expect(normalizeDate('平成1年1月8日')).toBe('1989-01-08');
    expect(normalizeDate('平成12年2月29日')).toBe('2000-02-29');
    expect(normalizeDate('令和2年3月4日')).toBe('2020-03-04');
    expect(normalizeDate('大正15年12月24日')).toBe('1926-12-24');
  });

  it("reads the era's initial (JIS X 0301) in either case with dots, slashes or dashes", () => {
    for (const s of ['S60.5.12', 'S60.05.12', 's60.5.12', 'S60/05/12', 'S60-05-12', 'Ｓ６０．５．１２']) expect(normalizeDate(s)).toBe('1985-05-12');
    expect(normalizeDate('H1.1.8')).toBe('1989-01-08');
    expect(normalizeDate('H01.01.08')).toBe('1989-01-08');
    expect(normalizeDate('R1.5.1')).toBe('2019-05-01');
  });

  it('reads no day outside its era: an era begins and ends on a day, not with the year', () => {
    expect(normalizeDate('昭和64年1月7日')).toBe('1989-01-07');
    expect(normalizeDate('昭和64年1月8日')).toBeNull(); // 平成元年1月8日
    expect(normalizeDate('平成元年1月7日')).toBeNull(); // still 昭和64年
    expect(normalizeDate('H31.4.30')).toBe('2019-04-30');
    expect(normalizeDate('H31.5.1')).toBeNull(); // 令和元年5月1日
    expect(normalizeDate('S0.1.1')).toBeNull();
    expect(normalizeDate('X60.5.12')).toBeNull();
    expect(normalizeDate('S60.2.30')).toBeNull();
  });

  it('gives one customer the same birthday for a source column, the rules, the tier and a world file', () => {
    expect(convert({ type: 'date' }, 'S60.5.12')).toEqual(convert({ type: 'date' }, '1985-05-12'));
    expect(birthDate('昭和60年5月12日')).toBe('1985-05-12');
    expect(birthOf('H1.1.8', () => false)).toBe('1989-01-08');
    expect(birthdayOf('平成元年1月8日')).toBe('1989-01-08');
  });
});
