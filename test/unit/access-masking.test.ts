/**
 * Access masking: each style's format, and that maskers never throw or echo what they cannot mask.
 */
import { hashValue, maskEmail, masker, maskName, maskPartial, maskPhone, maskYearOnly, REDACTED } from '../../src/access/masking';

describe('Access masking: styles', () => {
  it('masks a Chinese mobile as +86 138****8000', () => {
    expect(maskPhone('+8613800138000')).toBe('+86 138****8000');
  });

  it('masks other countries keeping the last 4 national digits and at most 3 leading ones, hiding at least 4', () => {
    expect(maskPhone('+14155552671')).toBe('+1 41****2671');
    // Nine-digit mobiles (Taiwan, France) showed seven digits and hid two: a hundred candidates to try.
    expect(maskPhone('+886912345678')).toBe('+886 9****5678');
    expect(maskPhone('+33612345678')).toBe('+33 6****5678');
    expect(maskPhone('+447911123456')).toBe('+44 79****3456');
    expect(maskPhone('+85251234567')).toBe('+852 ******67');
    for (const p of ['+8613800138000', '+14155552671', '+886912345678', '+85251234567', '+6591234567', '+447911123456']) {
      expect(
        maskPhone(p)
          .replace(/^\+\d+ /, '')
          .replace(/[^*]/g, '').length,
      ).toBeGreaterThanOrEqual(4);
    }
  });

  it('masks an email as its first letter and domain', () => {
    expect(maskEmail('zhang.san@example.com')).toBe('z***@example.com');
    expect(maskEmail('not-an-email')).toBe(REDACTED);
  });

  it('keeps the first character of a name, Chinese or not', () => {
    expect(maskName('张三丰')).toBe('张**');
    expect(maskName('Jane Doe')).toBe('J**');
  });

  it('keeps the year of a birthday', () => {
    expect(maskYearOnly('1990-05-17')).toBe('1990');
  });

  it('keeps the first character and last two of a member number', () => {
    expect(maskPartial('M12345678')).toBe('M******78');
  });

  it('hashes to a stable pseudonym that depends on the key', () => {
    expect(hashValue('o-follower-1')).toMatch(/^h_[0-9a-f]{32}$/);
    expect(hashValue('o-follower-1')).toBe(hashValue('o-follower-1'));
    expect(hashValue('o-follower-1', 'k1')).not.toBe(hashValue('o-follower-1', 'k2'));
  });
});

describe('Access masking: maskers are total', () => {
  it('keeps null, masks lists item by item', () => {
    const m = masker('phone');
    expect(m(null)).toBeNull();
    expect(m(['+8613800138000', null])).toEqual(['+86 138****8000', null]);
  });

  it('answers a placeholder (never the value) for what it cannot understand', () => {
    expect(masker('phone')('garbage 12')).toBe(REDACTED);
    expect(masker('email', { nonNull: true })({ secret: 'x' })).toBe(REDACTED);
    expect(masker('email')({ secret: 'x' })).toBeNull();
  });

  it('redacts to null, or to a placeholder where null is not allowed', () => {
    expect(masker('redact')('张三')).toBeNull();
    expect(masker('redact', { nonNull: true })('张三')).toBe(REDACTED);
  });
});
