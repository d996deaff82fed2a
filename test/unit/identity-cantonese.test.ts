import { cantoneseInitials, cantoneseReadings, cantoneseSpelt, hkSpellings } from '../../src/idmap/probabilistic/cantonese';

describe('Cantonese readings of Han characters (Unihan kCantonese)', () => {
  it('reads a character in Jyutping without tones, its simplified form alike, none for what the table lacks', () => {
    expect(cantoneseReadings('陳')).toEqual(['can']);
    expect(cantoneseReadings('陈')).toEqual(['can']);
    expect(cantoneseReadings('永')).toEqual(['wing']);
    expect(cantoneseReadings('瑋')).toEqual(['wai']);
    expect(cantoneseReadings('a')).toEqual([]);
  });

  it('spells a Jyutping syllable the ways the Hong Kong government romanization writes it', () => {
    expect(hkSpellings('can')).toEqual(expect.arrayContaining(['chan']));
    expect(hkSpellings('daai')).toEqual(['tai']);
    expect(hkSpellings('gei')).toEqual(['kei']);
    expect(hkSpellings('zoeng')).toEqual(expect.arrayContaining(['cheung', 'tseung']));
    expect(hkSpellings('zi')).toEqual(expect.arrayContaining(['chi', 'tsz']));
    expect(hkSpellings('si')).toEqual(expect.arrayContaining(['sze']));
    expect(hkSpellings('jyun')).toEqual(expect.arrayContaining(['yuen']));
    expect(hkSpellings('jyu')).toEqual(expect.arrayContaining(['yu', 'yue']));
    expect(hkSpellings('gwok')).toEqual(['kwok']);
    expect(hkSpellings('sam')).toEqual(expect.arrayContaining(['sam', 'sum', 'shum']));
    expect(hkSpellings('seoi')).toEqual(expect.arrayContaining(['shui']));
    expect(hkSpellings('hou')).toEqual(expect.arrayContaining(['ho']));
    expect(hkSpellings('ng')).toEqual(['ng']);
  });

  it('tells whether Latin words spell characters one syllable each, written apart or together', () => {
    expect(cantoneseSpelt('大文', ['tai', 'man'])).toBe(true);
    expect(cantoneseSpelt('大文', ['taiman'])).toBe(true);
    expect(cantoneseSpelt('小明', ['siu', 'ming'])).toBe(true);
    expect(cantoneseSpelt('大文', ['man', 'tai'])).toBe(false);
    expect(cantoneseSpelt('大文', ['tai'])).toBe(false);
    expect(cantoneseSpelt('大文', ['tai', 'man', 'wing'])).toBe(false);
    expect(cantoneseSpelt('大文', ['da', 'wen'])).toBe(false);
  });

  it('gives the initials a character is spelt with', () => {
    expect(cantoneseInitials('黃')).toEqual(['w']);
    expect(cantoneseInitials('子').sort()).toEqual(['c', 't']);
  });
});
