import { isoFromMillis, millisFromIso } from '../../src/iso-time';

describe('isoFromMillis: what toISOString writes, without a Date', () => {
  it('writes every kind of date as toISOString does: epoch, leap days, month and year ends, the last millisecond before 10000', () => {
    const times = [
      0,
      1,
      999,
      86_399_999,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(1900 + 200, 1, 28, 12),
      Date.UTC(2024, 11, 31, 23, 59, 59, 999),
      Date.UTC(2025, 0, 1),
      Date.UTC(2100, 2, 1),
      Date.UTC(2400, 1, 29),
      253_402_300_799_999,
    ];
    for (const t of times) expect(isoFromMillis(t)).toBe(new Date(t).toISOString());
  });

  it('agrees with toISOString on a hundred thousand times across 1970–9999, fractions of a millisecond clipped as Date clips them', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const differ: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const t = next() * 253_402_300_800_000;
      const ms = i % 2 ? Math.floor(t) : t;
      if (isoFromMillis(ms) !== new Date(ms).toISOString()) differ.push(ms);
    }
    expect(differ).toEqual([]);
  });

  it('leaves times before 1970 and from 10000 on to toISOString, its RangeError included', () => {
    for (const t of [-1, -86_400_001, Date.UTC(1969, 11, 31, 23, 59, 59, 500), 253_402_300_800_000, 8.64e15]) expect(isoFromMillis(t)).toBe(new Date(t).toISOString());
    expect(() => isoFromMillis(8.64e15 + 1)).toThrow(RangeError);
  });
});

describe('millisFromIso: what Date.parse answers', () => {
  it('reads the canonical form as Date.parse does, and leaves every other string to it (invalid dates NaN)', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const strings = Array.from({ length: 20_000 }, () => isoFromMillis(Math.floor(next() * 253_402_300_800_000)));
    strings.push(
      '1970-01-01T00:00:00.000Z',
      '2024-02-29T23:59:59.999Z',
      '2023-02-29T00:00:00.000Z',
      '2024-02-30T00:00:00.000Z',
      '2024-13-01T00:00:00.000Z',
      '2024-01-01T24:00:00.000Z',
      '2024-01-01T00:00:60.000Z',
      '1969-12-31T23:59:59.999Z',
      '2024-01-01T00:00:00Z',
      '2024-01-01T08:00:00.000+08:00',
      'abcd-01-01T00:00:00.000Z',
      '',
    );
    const differ = strings.filter((s) => !Object.is(millisFromIso(s), Date.parse(s)));
    expect(differ).toEqual([]);
  });
});
