/**
 * China's wall clock, one rule for every kind: `crm` and `marketplace` read their Shanghai times with
 * `instantFromShanghaiLocal`, a `sql-table` mapping in `Asia/Shanghai` with `wallClockToUtc`; both
 * follow tzdata, which has China on UTC+9 in the summers of 1986–1991.
 */
import { instantFromShanghaiLocal, shanghaiLocalText, wallClockToUtc } from '../../src/canonical';
import { convert } from '../../src/sources/sql-table/mapping';
import { topTime } from '../../src/sources/marketplace/connector';

const asShanghaiMapping = (wall: string) => {
  const c = convert({ type: 'time', format: 'local', zone: 'Asia/Shanghai' }, wall);
  return c.ok ? c.value : c.reason;
};

describe('Shanghai wall time: one rule for every kind', () => {
  it('reads a time of a daylight-saving summer (1986–1991) at +09:00, as a sql-table mapping in Asia/Shanghai does', () => {
    // The crm and marketplace kinds read +08:00 all year: this noon was 04:00Z there and 03:00Z in a sql-table.
    expect(instantFromShanghaiLocal('1988-07-01 12:00:00')).toBe('1988-07-01T03:00:00.000Z');
    expect(asShanghaiMapping('1988-07-01 12:00:00')).toBe('1988-07-01T03:00:00.000Z');
    expect(instantFromShanghaiLocal('1991-08-01 08:30:00')).toBe('1991-07-31T23:30:00.000Z');
  });

  it('reads +08:00 outside those summers', () => {
    expect(instantFromShanghaiLocal('1988-12-01 12:00:00')).toBe('1988-12-01T04:00:00.000Z');
    expect(instantFromShanghaiLocal('1992-07-01 12:00:00')).toBe('1992-07-01T04:00:00.000Z');
    expect(instantFromShanghaiLocal('2024-07-01 12:00:00')).toBe('2024-07-01T04:00:00.000Z');
  });

  it('reads the changes as the sql-table zones do: the first of a repeated time, a skipped one at the offset before', () => {
    // 1988-09-11 02:00 +09 went back to 01:00 +08; 1988-04-17 02:00 +08 forward to 03:00 +09.
    for (const wall of ['1988-09-11 01:30:00', '1988-04-17 02:30:00', '1988-04-17 03:30:00']) expect(instantFromShanghaiLocal(wall)).toBe(asShanghaiMapping(wall));
    expect(instantFromShanghaiLocal('1988-09-11 01:30:00')).toBe('1988-09-10T16:30:00.000Z');
    expect(instantFromShanghaiLocal('1988-04-17 02:30:00')).toBe('1988-04-16T18:30:00.000Z');
  });

  it('writes an instant as the wall time it reads back, every hour of 1988 but the repeated one', () => {
    // The crm's event bounds and the marketplace's TOP request times are written with it: a since of
    // 1988-07-01T03:00Z must ask for 12:00, not 11:00.
    expect(shanghaiLocalText(Date.parse('1988-07-01T03:00:00Z'))).toBe('1988-07-01 12:00:00');
    expect(topTime(Date.parse('1988-07-01T03:00:00Z'))).toBe('1988-07-01 12:00:00');
    expect(topTime(Date.parse('2024-07-01T04:00:00Z'))).toBe('2024-07-01 12:00:00');
    const differ: string[] = [];
    for (let t = Date.UTC(1987, 11, 31, 16); t < Date.UTC(1988, 11, 31, 16); t += 3_600_000) {
      const text = shanghaiLocalText(t);
      if (instantFromShanghaiLocal(text) !== new Date(t).toISOString()) differ.push(text);
    }
    // The second 01:00 of 11 September reads back as the first.
    expect(differ).toEqual(['1988-09-11 01:00:00']);
  });

  it('leaves fixed offsets fixed: a table whose clock stayed at +08:00 maps its zone so', () => {
    expect(new Date(wallClockToUtc(Date.UTC(1988, 6, 1, 12), '+08:00')).toISOString()).toBe('1988-07-01T04:00:00.000Z');
  });
});
