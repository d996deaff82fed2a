/**
 * Japanese names in kanji and kana against their romaji: one name in two writings, which pinyin
 * cannot read, and never a reading that makes two people's names one.
 */
import { compareNames, nameForm } from '../../src/idmap/probabilistic/names';
import { blockKeys, featuresOf } from '../../src/idmap/probabilistic/features';
import { foldRomaji, kanaToRomaji, spellsJapaneseName } from '../../src/idmap/probabilistic/japanese';

const level = (a: string, b: string) => compareNames(nameForm(a), nameForm(b));

describe('Names: Japanese in kanji against romaji', () => {
  it.each([
    ['佐藤桃子', 'Sato Momoko'], // surname first, as Japanese writes it
    ['佐藤桃子', 'Momoko Sato'], // given name first, as Western forms ask
    ['小林陽一', 'KOBAYASHI Yoichi'],
    ['高橋晃', 'Akira Takahashi'], // three characters, which pinyin read as a Chinese name (gao qiao huang)
    ['山口治', 'Osamu Yamaguchi'], // romaji that also reads as pinyin (o sa mu, ya ma gu chi)
    ['井上くみ子', 'Kumiko Inoue'], // kana in the given name
    ['佐々木陽子', 'Yoko Sasaki'], // 々 repeats the character before
    ['伊藤裕太', 'Yuuta Itou'], // long vowels written out
    ['大野太郎', 'Taro Ohno'], // oh for a long o, as passports allow
    ['佐藤一平', 'Ippei Sato'], // ichi + hei as one word: a doubled consonant, h as p
    ['近藤涼平', 'Ryohei Kondo'],
    ['鈴木美加子', 'Mikako Suzuki'],
    ['本間真', 'Makoto Honma'],
    ['本間真', 'Makoto Homma'], // m before b, m or p in traditional Hepburn
    ['中村知実', 'Nakamura Satomi'],
    ['渡邉裕樹', 'Yuki Watanabe'], // the old form of 辺
  ])('%s and %s are one name', (han, latin) => {
    expect(level(han, latin)).toBe('alias');
    expect(level(latin, han)).toBe('alias');
  });

  it.each([
    ['佐藤桃子', 'Sato Taro'], // another given name under the surname
    ['佐藤桃子', 'Momoko Suzuki'], // the given name under another surname
    ['小林陽一', 'Yoichi'], // one word: a given name alone says nothing of the surname
    ['林志明', 'Lin Zhiming'], // a Chinese name whose first character is a Japanese surname too, in pinyin
    ['王伟', 'Wang Wei'],
  ])('%s and %s are not read as one Japanese name', (han, latin) => {
    expect(spellsJapaneseName(nameForm(han)!.text, nameForm(latin)!.words)).toBe(false);
  });

  it('calls another given name under the surname read different, so that twins are not one person', () => {
    // Twins born one day at one address: until the name was read they shared no block, and once
    // they did, a name left uncompared let the birthday and the address join them.
    expect(level('佐々木浩', 'Taichi Sasaki')).toBe('different');
    expect(level('佐藤桃子', 'Sato Taro')).toBe('different');
    expect(level('佐藤桃子', 'Sato Momoka')).toBe('close');
    // Not read as romaji, so not said to differ here: Cantonese.
    expect(level('菅志明', 'Kan Chi Ming')).not.toBe('different');
  });

  it('still reads a Chinese name against its pinyin, and a romaji name it cannot read as not compared', () => {
    expect(level('林志明', 'Lin Zhiming')).toBe('alias');
    expect(level('田中欅', 'Keyaki Tanaka')).toBeNull();
  });

  it('spells kana in Hepburn and folds Hepburn, Kunrei-shiki and long vowels to one spelling', () => {
    expect([kanaToRomaji('くみ'), kanaToRomaji('しょうた'), kanaToRomaji('チャット'), kanaToRomaji('ゆうこ'), kanaToRomaji('abc')]).toEqual([
      'kumi',
      'shouta',
      'chatto',
      'yuuko',
      null,
    ]);
    expect(['shouta', 'syota', 'shota', 'syouta'].map(foldRomaji)).toEqual(['syota', 'syota', 'syota', 'syota']);
    expect(['tsuji', 'tuzi', 'fujii', 'huzii', 'satoh', 'satou', 'ohashi'].map(foldRomaji)).toEqual(['tuzi', 'tuzi', 'huzii', 'huzii', 'sato', 'sato', 'ohasi']);
  });

  it('puts a Japanese name in a block with its romaji, by birthday and initial and by the name read', () => {
    const f = (name: string, birthday: string) => featuresOf('s', name, { name, birthday }, []);
    const shared = (x: string[], y: string[]) => x.some((k) => y.includes(k));
    // 佐藤桃子 in pinyin is zuo teng tao zi (z, t): Sato Momoko (s, m) met it in no block.
    expect(shared(blockKeys(f('佐藤桃子', '1962-09-09')), blockKeys(f('Sato Momoko', '1962-09-09')))).toBe(true);
    // Birthdays apart: the name read.
    expect(shared(blockKeys(f('山田里佳', '1950-01-19')), blockKeys(f('Yamada Rika', '1950-01-17')))).toBe(true);
    expect(shared(blockKeys(f('井上くみ子', '1983-06-13')), blockKeys(f('Kumiko Inoue', '1983-06-15')))).toBe(true);
    expect(shared(blockKeys(f('山田里佳', '1950-01-19')), blockKeys(f('Yamada Taro', '1950-01-17')))).toBe(false);
  });
});
