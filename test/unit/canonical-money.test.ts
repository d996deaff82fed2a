/**
 * Money in the canonical vocabulary (src/canonical.ts): exact decimal strings written with the
 * currency's ISO 4217 minor unit, from the integer minor units shops store and the decimal
 * strings marketplaces send.
 */
import { addMoney, currencyCode, minorDigits, moneyFromCents, moneyFromDecimal, toCents } from '../../src/canonical';

describe('Money: each currency with its own minor unit', () => {
  it('knows the currencies without two decimals', () => {
    expect(['CNY', 'USD', 'EUR', 'GBP', 'HKD'].map(minorDigits)).toEqual([2, 2, 2, 2, 2]);
    expect(['JPY', 'KRW', 'VND', 'CLP', 'ISK'].map(minorDigits)).toEqual([0, 0, 0, 0, 0]);
    expect(['KWD', 'BHD', 'OMR', 'JOD', 'TND'].map(minorDigits)).toEqual([3, 3, 3, 3, 3]);
  });

  it('writes integer minor units with the currency’s digits: 1500 is ¥1,500, 12345 is 12.345 KWD', () => {
    expect(moneyFromCents(1500, 'JPY')).toEqual({ amount: '1500', currency: 'JPY' });
    expect(moneyFromCents(-50000, 'KRW')).toEqual({ amount: '-50000', currency: 'KRW' });
    expect(moneyFromCents(12345, 'KWD')).toEqual({ amount: '12.345', currency: 'KWD' });
    expect(moneyFromCents(5, 'KWD')).toEqual({ amount: '0.005', currency: 'KWD' });
    expect(moneyFromCents(-5, 'CNY')).toEqual({ amount: '-0.05', currency: 'CNY' });
    expect(moneyFromCents(12345, 'CNY')).toEqual({ amount: '123.45', currency: 'CNY' });
  });

  it('gives the same person’s order the same money whether stored in minor units or sent as a decimal string', () => {
    const pairs: Array<[number, string, string]> = [
      [1500, '1500', 'JPY'],
      [1500, '1500.00', 'JPY'],
      [12345, '12.345', 'KWD'],
      [12300, '12.3', 'KWD'],
      [12345, '123.45', 'CNY'],
      [-2550, '-25.5', 'CNY'],
    ];
    for (const [cents, decimal, currency] of pairs) expect([decimal, moneyFromDecimal(decimal, currency)]).toEqual([decimal, moneyFromCents(cents, currency)]);
  });

  it('refuses a decimal with more digits than the currency has, rather than rounding it', () => {
    expect(moneyFromDecimal('1500.5', 'JPY')).toBeNull();
    expect(moneyFromDecimal('12.3456', 'KWD')).toBeNull();
    expect(moneyFromDecimal('19.999', 'CNY')).toBeNull();
    expect(moneyFromDecimal('19.990', 'CNY')).toEqual({ amount: '19.99', currency: 'CNY' });
  });

  it('reads a lower-case currency code as ISO 4217 writes it, and refuses symbols', () => {
    expect(currencyCode(' usd ')).toBe('USD');
    expect(moneyFromCents(1999, 'usd')).toEqual({ amount: '19.99', currency: 'USD' });
    expect(moneyFromDecimal('1500', 'jpy')).toEqual({ amount: '1500', currency: 'JPY' });
    expect(moneyFromDecimal('10', '¥')).toBeNull();
    expect(currencyCode('US$')).toBeNull();
  });

  it('refuses three letters ISO 4217 assigns to no currency: no one knows their minor unit', () => {
    // `XBT` (bitcoin) has eight digits, not two.
    expect(['XBT', 'BTC', 'XX', 'ABC', 'XXX', 'XTS', 'XAU'].map(currencyCode)).toEqual([null, null, null, null, null, null, null]);
    expect(moneyFromCents(123456789, 'XBT')).toBeNull();
  });

  it('reads RMB, what Chinese systems write for the yuan far more often than its code, as CNY', () => {
    expect(['RMB', 'rmb ', 'Rmb'].map(currencyCode)).toEqual(['CNY', 'CNY', 'CNY']);
    expect(moneyFromDecimal('19.99', 'RMB')).toEqual({ amount: '19.99', currency: 'CNY' });
    expect(moneyFromCents(1999, 'rmb')).toEqual({ amount: '19.99', currency: 'CNY' });
    // Current codes, the funds and newest ones ICU leaves out, and one lately withdrawn that old orders carry.
    expect(['CNY', 'EUR', 'JPY', 'KWD', 'CLF', 'UYW', 'VED', 'XCG', 'XOF', 'HRK'].map(currencyCode)).toEqual([
      'CNY',
      'EUR',
      'JPY',
      'KWD',
      'CLF',
      'UYW',
      'VED',
      'XCG',
      'XOF',
      'HRK',
    ]);
  });

  it('never sums money across currencies: dollars and yen added as dollars is a bug, not two dollars', () => {
    expect(() =>
      addMoney(
        [
          { amount: '1.00', currency: 'USD' },
          { amount: '100', currency: 'JPY' },
        ],
        'USD',
      ),
    ).toThrow(/JPY money summed as USD/);
  });

  it('counts minor units back exactly, so sums and refunds stay in the currency', () => {
    expect(toCents({ amount: '1500', currency: 'JPY' })).toBe(1500);
    expect(toCents({ amount: '-0.005', currency: 'KWD' })).toBe(-5);
    expect(toCents({ amount: '123.45', currency: 'CNY' })).toBe(12345);
    expect(
      addMoney(
        [
          { amount: '1500', currency: 'JPY' },
          { amount: '-300', currency: 'JPY' },
        ],
        'JPY',
      ),
    ).toEqual({ amount: '1200', currency: 'JPY' });
    expect(
      addMoney(
        [
          { amount: '12.345', currency: 'KWD' },
          { amount: '0.655', currency: 'KWD' },
        ],
        'KWD',
      ),
    ).toEqual({ amount: '13.000', currency: 'KWD' });
  });
});
