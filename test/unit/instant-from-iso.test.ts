/**
 * instantFromIso (src/canonical.ts): every instant a client sends (the DateTime scalar, filters,
 * timeline cursors) and the helpdesk's times pass here.
 */
import { instantFromIso, instantFromMillis, instantFromSeconds, instantFromShanghaiLocal } from '../../src/canonical';

describe('instantFromIso', () => {
  it('refuses a date no calendar has, which Date.parse would roll into the next month', () => {
    for (const s of ['2026-02-30T00:00:00Z', '2026-02-31T00:00:00Z', '2023-02-29T00:00:00Z', '2100-02-29T00:00:00Z', '2026-04-31T12:00:00+08:00', '2026-00-10T00:00:00Z'])
      expect([s, instantFromIso(s)]).toEqual([s, null]);
    expect(instantFromIso('2000-02-29T00:00:00Z')).toBe('2000-02-29T00:00:00.000Z');
  });

  it('refuses an instant outside years 0001–9999 once in UTC, and takes their first and last', () => {
    for (const s of ['9999-12-31T23:59:59-12:00', '9999-12-31T23:00:00-01:00', '0001-01-01T00:00:00+01:00', '0000-06-01T00:00:00Z'])
      expect([s, instantFromIso(s)]).toEqual([s, null]);
    expect(instantFromIso('9999-12-31T23:59:59.999Z')).toBe('9999-12-31T23:59:59.999Z');
    expect(instantFromIso('9999-12-31T23:59:59+12:00')).toBe('9999-12-31T11:59:59.000Z');
    expect(instantFromIso('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000Z');
    expect(instantFromIso('0000-12-31T23:00:00-02:00')).toBe('0001-01-01T01:00:00.000Z');
  });
});

describe('instantFromSeconds and instantFromMillis: epoch times from sources', () => {
  it('reads seconds and milliseconds, as numbers or digit strings', () => {
    expect(instantFromSeconds(1382694957)).toBe('2013-10-25T09:55:57.000Z');
    expect(instantFromSeconds('1382694957')).toBe('2013-10-25T09:55:57.000Z');
    expect(instantFromMillis(1382694957123)).toBe('2013-10-25T09:55:57.123Z');
    expect(instantFromMillis('1382694957123')).toBe('2013-10-25T09:55:57.123Z');
  });

  it('refuses milliseconds sent as seconds, which would be a time past year 10000', () => {
    expect(instantFromSeconds(1382694957123)).toBeNull();
    expect(instantFromSeconds('1382694957123')).toBeNull();
    expect(instantFromMillis(1382694957123 * 1000)).toBeNull();
    expect(instantFromSeconds(Infinity)).toBeNull();
    // The last second and millisecond of 9999 still are times.
    expect(instantFromSeconds(253_402_300_799)).toBe('9999-12-31T23:59:59.000Z');
    expect(instantFromMillis(253_402_300_799_999)).toBe('9999-12-31T23:59:59.999Z');
    expect(instantFromSeconds(253_402_300_800)).toBeNull();
  });
});

describe('instantFromShanghaiLocal: the CRM and TOP local times', () => {
  it('reads Asia/Shanghai wall-clock time (UTC+8 all year) as UTC', () => {
    expect(instantFromShanghaiLocal('2024-03-01 16:15:00')).toBe('2024-03-01T08:15:00.000Z');
    expect(instantFromShanghaiLocal('2024-01-01 00:30:00')).toBe('2023-12-31T16:30:00.000Z');
    expect(instantFromShanghaiLocal('2024-02-29 23:59:59')).toBe('2024-02-29T15:59:59.000Z');
  });

  it('refuses a day or time of day no clock shows, which would roll over into the next', () => {
    for (const s of [
      '2024-02-30 10:00:00',
      '2023-02-29 10:00:00',
      '2024-04-31 10:00:00',
      '2024-13-01 10:00:00',
      '2024-03-01 24:00:00',
      '2024-03-01 10:60:00',
      '2024-03-01 10:00:60',
    ])
      expect([s, instantFromShanghaiLocal(s)]).toEqual([s, null]);
  });
});
