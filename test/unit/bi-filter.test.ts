/**
 * The BI filter grammar's checks (src/bi/filter.ts), without a world: what `parseFilter` refuses,
 * and the path it names. The answers a filter gives are test/e2e/bi-filters.test.ts's.
 */
import { GraphQLError } from 'graphql';
import { insightNames, MAX_WITHIN_DAYS, parseFilter } from '../../src/bi/filter';

/** The BAD_USER_INPUT `parseFilter` throws for `raw`: its field and message. */
function refusal(raw: unknown): { field: unknown; message: string } {
  try {
    parseFilter(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(GraphQLError);
    expect((e as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    return { field: (e as GraphQLError).extensions.field, message: (e as GraphQLError).message };
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
}

describe('parseFilter: keys named after Object.prototype properties', () => {
  it.each([
    ['{"constructor":"x"}', 'filter.constructor'],
    ['{"toString":"x"}', 'filter.toString'],
    ['{"__proto__":"x"}', 'filter.__proto__'],
    ['{"valueOf":1}', 'filter.valueOf'],
    ['{"hasOwnProperty":["a"]}', 'filter.hasOwnProperty'],
    ['{"not":{"isPrototypeOf":"x"}}', 'filter.not.isPrototypeOf'],
  ])('%s is an unknown filter field naming %s, as any other unknown key is', (json, path) => {
    const { field, message } = refusal(JSON.parse(json));
    expect(field).toBe(path);
    expect(message).toContain('unknown filter field');
  });
});

describe('parseFilter: a 100 KB key', () => {
  it('is named by its first 64 characters, in the field and the message', () => {
    const key = 'k'.repeat(100_000);
    for (const raw of [{ [key]: 1 }, { orders: { [key]: 1 } }]) {
      const { field, message } = refusal(raw);
      expect(field).toBe(`filter.${'orders' in raw ? 'orders.' : ''}${'k'.repeat(64)}…`);
      expect(message.length).toBeLessThan(500);
    }
  });
});

describe('parseFilter: orders.withinDays', () => {
  it.each([3_000_000, 1_000_000_000])('refuses %d days (a window before year 1, or no date at all), naming filter.orders.withinDays', (days) => {
    expect(refusal({ orders: { withinDays: days } }).field).toBe('filter.orders.withinDays');
  });

  it('takes 1 to 36,500 days (100 years) and refuses 0 or a day more, saying the range it takes', () => {
    expect(MAX_WITHIN_DAYS).toBe(36_500);
    for (const days of [1, MAX_WITHIN_DAYS]) expect(parseFilter({ orders: { withinDays: days } })).toMatchObject({ op: 'leaf', leaf: { withinDays: days } });
    for (const days of [0, MAX_WITHIN_DAYS + 1]) {
      const { field, message } = refusal({ orders: { withinDays: days } });
      expect(field).toBe('filter.orders.withinDays');
      expect(message).toContain('from 1 to 36500');
    }
  });
});

describe('parseFilter: instants', () => {
  it.each([
    [{ lastOrderAt: { after: '9999-12-31T23:59:59-12:00' } }, 'filter.lastOrderAt.after'],
    [{ lastOrderAt: { before: '0001-01-01T00:00:00+00:01' } }, 'filter.lastOrderAt.before'],
    [{ orders: { since: '2026-02-30T00:00:00Z' } }, 'filter.orders.since'],
    [{ orders: { before: '2025-02-29T00:00:00+08:00' } }, 'filter.orders.before'],
  ])('%j is refused naming %s: no calendar date, or outside years 0001–9999 in UTC', (raw, path) => {
    expect(refusal(raw).field).toBe(path);
  });
});

describe('parseFilter: lifetimeValue in the currency’s own minor unit', () => {
  // Commerce sources sum integer minor units (a yen is a yen, a dinar is 1000 fils); the bounds must be counted the same way.
  it('counts yen, dinars and yuan as their sources do', () => {
    expect(parseFilter({ lifetimeValue: { min: 1000, currency: 'JPY' } })).toMatchObject({ leaf: { minCents: 1000, currency: 'JPY' } });
    expect(parseFilter({ lifetimeValue: { min: '12.345', currency: 'KWD' } })).toMatchObject({ leaf: { minCents: 12345 } });
    expect(parseFilter({ lifetimeValue: { min: '128.50', max: 128.5 } })).toMatchObject({ leaf: { minCents: 12850, maxCents: 12850, currency: 'CNY' } });
  });

  it('refuses an amount with more decimals than its currency has, naming the currency', () => {
    expect(refusal({ lifetimeValue: { min: '1000.5', currency: 'JPY' } })).toEqual({
      field: 'filter.lifetimeValue.min',
      message: expect.stringContaining('an amount in JPY with at most 0 decimals'),
    });
    expect(refusal({ lifetimeValue: { max: '12.3456', currency: 'KWD' } }).field).toBe('filter.lifetimeValue.max');
  });

  it('refuses a currency ISO 4217 does not assign as the currency, with the code the sources give it', () => {
    // XBT (bitcoin) has no minor unit anyone agrees on: it is no currency, not one with two decimals.
    expect(refusal({ lifetimeValue: { min: '100', currency: 'XBT' } })).toEqual({
      field: 'filter.lifetimeValue.currency',
      message: expect.stringContaining('an ISO 4217 code such as "CNY"'),
    });
    expect(refusal({ lifetimeValue: { min: '100', currency: 'XXX' } }).field).toBe('filter.lifetimeValue.currency');
    expect(refusal({ lifetimeValue: { min: '100', currency: 12 } }).field).toBe('filter.lifetimeValue.currency');
  });

  it('reads a currency as the sources read theirs: any case, and RMB as CNY', () => {
    expect(parseFilter({ lifetimeValue: { min: '10', currency: 'usd' } })).toMatchObject({ leaf: { minCents: 1000, currency: 'USD' } });
    expect(parseFilter({ lifetimeValue: { min: '10', currency: 'RMB' } })).toMatchObject({ leaf: { minCents: 1000, currency: 'CNY' } });
  });
});

describe('parseFilter: a range whose ends are the wrong way round', () => {
  it.each([
    [{ orders: { min: 3, max: 1 } }, 'filter.orders'],
    [{ orders: { since: '2026-06-01T00:00:00Z', before: '2026-01-01T00:00:00Z' } }, 'filter.orders'],
    [{ lifetimeValue: { min: '1000', max: 999.99 } }, 'filter.lifetimeValue'],
    [{ lastOrderAt: { after: '2026-12-01T00:00:00Z', before: '2020-01-01T00:00:00+08:00' } }, 'filter.lastOrderAt'],
    [{ openTickets: { min: 2, max: 1 } }, 'filter.openTickets'],
    [{ not: { lastSatisfaction: { min: 5, max: 1 } } }, 'filter.not.lastSatisfaction'],
  ])('%j matches nobody: refused, naming %s', (raw, path) => {
    const { field, message } = refusal(raw);
    expect(field).toBe(path);
    expect(message).toMatch(/is above .*nothing can match/);
  });

  it('takes a range of one value, and instants compared as instants (+08:00 is earlier than the same wall time in UTC)', () => {
    expect(parseFilter({ orders: { min: 2, max: 2 } })).toMatchObject({ leaf: { range: { min: 2, max: 2 } } });
    expect(parseFilter({ lastOrderAt: { after: '2026-01-01T07:00:00+08:00', before: '2026-01-01T00:00:00Z' } })).toMatchObject({ leaf: { kind: 'lastOrderAt' } });
  });
});

describe('parseFilter: lastSatisfaction on the one scale of every service source', () => {
  it.each([
    [{ lastSatisfaction: { min: 9 } }, 'filter.lastSatisfaction.min'],
    [{ lastSatisfaction: { max: 0 } }, 'filter.lastSatisfaction.max'],
    [{ or: [{ lastSatisfaction: { min: 1, max: 70 } }] }, 'filter.or[0].lastSatisfaction.max'],
  ])('%j is off 1 to 5 (a 0-to-10 or percentage habit that matched nobody, or everybody rated): refused, naming %s', (raw, path) => {
    const { field, message } = refusal(raw);
    expect(field).toBe(path);
    expect(message).toMatch(/an integer from 1 to 5/);
  });

  it('takes 1 to 5', () => {
    expect(parseFilter({ lastSatisfaction: { min: 1, max: 5 } })).toMatchObject({ leaf: { range: { min: 1, max: 5 } } });
  });
});

describe('parseFilter: names an insight condition may take', () => {
  const names = insightNames(['vip', 'prefers_{category}', 'high_activity'], ['champions', 'cant_lose_them']);
  const refusedWith = (raw: unknown) => {
    try {
      parseFilter(raw, 'filter', names);
    } catch (e) {
      return { code: (e as GraphQLError).extensions.code, field: (e as GraphQLError).extensions.field, message: (e as GraphQLError).message };
    }
    throw new Error(`${JSON.stringify(raw)} was accepted`);
  };

  it('refuses an RFM segment, tag or lifecycle stage no rule gives, listing those that exist', () => {
    expect(refusedWith({ rfmSegment: ['champions', 'champion'] })).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'filter.rfmSegment',
      message: 'filter.rfmSegment: no RFM segment is named "champion"; they are champions, cant_lose_them',
    });
    expect(refusedWith({ or: [{ tag: 'VIP' }] })).toMatchObject({
      field: 'filter.or[0].tag',
      message: expect.stringContaining('no tag is named "VIP"; they are vip, prefers_{category}, high_activity'),
    });
    expect(refusedWith({ tag: 'prefers_' })).toMatchObject({ field: 'filter.tag' });
    expect(refusedWith({ lifecycleStage: 'active' })).toMatchObject({
      field: 'filter.lifecycleStage',
      message: expect.stringContaining('NEW, ACTIVE, AT_RISK, CHURNED, PROSPECT'),
    });
    // Stages are a closed set: checked without the rules too.
    expect(refusal({ lifecycleStage: 'churned' }).field).toBe('filter.lifecycleStage');
  });

  it('takes every name a rule gives, a category tag for any category', () => {
    expect(
      parseFilter({ tag: ['vip', 'prefers_beauty', 'high_activity'], rfmSegment: 'cant_lose_them', lifecycleStage: ['ACTIVE', 'AT_RISK'] }, 'filter', names),
    ).toMatchObject({ op: 'and' });
  });
});
