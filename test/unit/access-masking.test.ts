/**
 * Access masking: each style's format, and that maskers never throw or echo what they cannot mask.
 */
import { hashValue, maskEmail, masker, maskName, maskPartial, maskPhone, maskYearOnly, REDACTED } from '../../src/access/masking';

describe('Access masking: styles', () => {
  it('masks a Chinese mobile as +86 138****8000', () => {
    expect(maskPhone('+8613800138000')).toBe('+86 138****8000');
  });

  it('masks other countries keeping 3 leading and 4 trailing national digits', () => {
    expect(maskPhone('+14155552671')).toBe('+1 415***2671');
    expect(maskPhone('+85251234567')).toBe('+852 ******67');
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
