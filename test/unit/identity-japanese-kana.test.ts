/**
 * A Japanese name written only in its reading (a form's フリガナ or ふりがな, a call centre's name
 * as heard, a legacy system's half-width katakana) is the name its kanji and romaji are; and one
 * Japanese name in two romanizations (the passport's Hepburn, `oh`, macrons, the kana spelt out)
 * is one name, while pinyin and Cantonese spellings that fold alike stay two.
 */
import { compareNames, nameForm } from '../../src/idmap/probabilistic/names';
import { blockKeys, featuresOf } from '../../src/idmap/probabilistic/features';
import { kanaNameWords, sameRomajiName } from '../../src/idmap/probabilistic/japanese';
import { compareNameKeys, nameKey } from '../../src/idmap/evidence';

const level = (a: string, b: string) => compareNames(nameForm(a), nameForm(b));

describe('Names: Japanese in kana', () => {
  it.each([
    ['サトウ タロウ', '佐藤太郎'], // katakana, as a form's フリガナ
    ['さとう　たろう', '佐藤 太郎'], // hiragana with the full-width space an IME gives
    ['ｻﾄｳ ﾀﾛｳ', '佐藤　太郎'], // half-width katakana (a legacy system, a bank transfer's name)
    ['ｻﾄｳﾀﾛｳ', '佐藤太郎'], // run together: split after the surname read
    ['イノウエユウコ', '井上裕子'], // いの|うえ: no long o across the surname
    ['ワタナベ ヒロシ', '渡邊浩'], // the registered form of 辺
    ['サトウ タロウ', 'Taro Sato'], // the reading against the passport's romaji
    ['ｵｵﾉ ｼｮｳﾀ', 'Shota Ohno'],
  ])('%s and %s are one name', (kana, other) => {
    expect(level(kana, other)).toBe('alias');
  });

  it('reads ー, the long-vowel mark, as the passport does: left out', () => {
    expect(level('サトー タロー', 'SATO TARO')).toBe('exact');
  });

  it('tells two people of one family apart in kana as in kanji', () => {
    expect(level('サトウ タロウ', 'サトウ ハナコ')).not.toMatch(/exact|alias|close/);
    expect(level('サトウ タロウ', '佐藤花子')).toBe('different');
    expect(level('ｻﾄｳ ﾀﾛｳ', 'スズキ タロウ')).toBe('different');
  });

  it('reads kana as romaji words and splits a run-together name only after a surname it knows', () => {
    expect(kanaNameWords(['サトウ', 'タロウ'])).toEqual(['satou', 'tarou']);
    expect(kanaNameWords(['タカハシヒデキ'])).toEqual(['takahashi', 'hideki']);
    expect(kanaNameWords(['ンンンン'])).toEqual(['nnnn']); // no surname: one word
    expect(kanaNameWords(['サトウ', 'Taro'])).toBeNull();
    expect(nameForm('サトウ タロウ')).toEqual({ script: 'l', text: 'satou tarou', words: ['satou', 'tarou'] });
  });

  it('gives the rules a name in kana as its romaji: one with its romaji, two with a relative under one surname', () => {
    // Kept apart as another script before, a household's landline joined 佐藤花子 and サトウ タロウ.
    expect(compareNameKeys(nameKey('サトウ タロウ')!, nameKey('佐藤花子')!)).toBe('conflict');
    expect(compareNameKeys(nameKey('サトウ タロウ')!, nameKey('ｻﾄｳ ﾊﾅｺ')!)).toBe('conflict');
    expect(compareNameKeys(nameKey('サトウ タロウ')!, nameKey('Satou Tarou')!)).toBe('agree');
    expect(compareNameKeys(nameKey('サトウ タロウ')!, nameKey('ｻﾄｳ ﾀﾛｳ')!)).toBe('agree');
  });

  it('puts a name in kana in a block with its kanji and romaji', () => {
    const f = (name: string, birthday: string) => featuresOf('s', name, { name, birthday }, []);
    const shared = (x: string[], y: string[]) => x.some((k) => y.includes(k));
    // Birthdays apart: met by the name read.
    expect(shared(blockKeys(f('サトウ タロウ', '1985-05-12')), blockKeys(f('佐藤太郎', '1985-05-13')))).toBe(true);
    expect(shared(blockKeys(f('オオノ ショウタ', '1985-05-12')), blockKeys(f('Shota Ohno', '1985-05-13')))).toBe(true);
    expect(shared(blockKeys(f('サトウ タロウ', '1985-05-12')), blockKeys(f('佐藤花子', '1985-05-13')))).toBe(false);
  });
});

describe('Names: one Japanese name in two romanizations', () => {
  it.each([
    ['Satoh Taro', 'Taro Sato'], // oh for a long o, as the passport allows on request
    ['Oono Shouta', 'Ohno Shota'], // the kana spelt out against oh
    ['Ōno Shōta', 'Oono Shouta'], // macrons
    ["Shun'ichi Sato", 'Shunichi Satou'], // an apostrophe after a syllabic n
    ['Makoto Homma', 'Makoto Honma'], // m before b, m, p, as passports write it
    ['ITOH YOKO', 'Itou Youko'],
    ['Satou Tarou', 'Sato Taro'], // one side reads as pinyin too
  ])('%s and %s are one name', (a, b) => {
    expect(level(a, b)).toBe('alias');
  });

  it('keeps pinyin, Wade-Giles and Cantonese spellings that fold alike apart', () => {
    expect(sameRomajiName(['hou', 'min'], ['ho', 'min'])).toBe(false); // 侯 in pinyin, 何 in Cantonese
    expect(sameRomajiName(['chou', 'mei'], ['cho', 'mei'])).toBe(false); // 周 in Wade-Giles
    expect(sameRomajiName(['sato', 'taro'], ['sato', 'hanako'])).toBe(false);
    expect(level('Hou Min', 'Ho Min')).not.toBe('alias');
  });
});
