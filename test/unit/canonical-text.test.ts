/**
 * Free text as c360 answers it (src/canonical.ts `canonicalText`): the one form of a name, a city or
 * a nickname, whichever system and keyboard wrote it.
 */
import { canonicalText } from '../../src/canonical';
import { textOrNull } from '../../src/sources/sql';

describe('Canonical text', () => {
  it('writes combining marks precomposed (NFC): José typed as e and an accent is the José typed at once', () => {
    expect(canonicalText('Jose\u0301')).toBe('Jos\u00e9');
    expect(canonicalText('Nguye\u0302\u0303n')).toBe('Nguy\u1ec5n');
    // Hangul typed as jamo is the syllable.
    expect(canonicalText('\u1112\u1161\u11ab')).toBe('\ud55c');
  });

  it('drops the half of an emoji or astral character a length limit cut off, and keeps whole ones', () => {
    // `Anna🎉` cut at five UTF-16 units, as a VARCHAR(5) in UTF-16 or a JavaScript slice leaves it.
    expect(canonicalText('Anna🎉'.slice(0, 5))).toBe('Anna');
    expect(canonicalText('Anna🎉')).toBe('Anna🎉');
    expect(canonicalText('𠮷野家')).toBe('𠮷野家');
    expect(canonicalText('\udf89x')).toBe('x');
    expect(canonicalText('\ud83c')).toBeNull();
  });

  it('trims, keeps right-to-left and full-width text as written, and answers null for blanks', () => {
    expect(canonicalText('  王伟 ')).toBe('王伟');
    expect(canonicalText('\u3000李娜\u3000')).toBe('李娜');
    expect(canonicalText('محمد علي')).toBe('محمد علي');
    expect(canonicalText('ＡＢＣ')).toBe('ＡＢＣ');
    expect([null, undefined, '', '  ', '\u3000'].map(canonicalText)).toEqual([null, null, null, null, null]);
    expect(canonicalText(42)).toBe('42');
  });

  it('is what SQL sources answer for their text columns', () => {
    expect(textOrNull(' Jose\u0301 ')).toBe('Jos\u00e9');
    expect(textOrNull('')).toBeNull();
  });
});
