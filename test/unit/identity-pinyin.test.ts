import { isPinyin, pinyinReadings } from '../../src/idmap/probabilistic/pinyin';

describe('Latin words read as pinyin', () => {
  it('reads a romanized given name as its fewest syllables', () => {
    expect(pinyinReadings('jiahui')).toEqual([['jia', 'hui']]);
    expect(pinyinReadings('xian')).toEqual([['xian']]);
    expect(pinyinReadings('xiangan')).toEqual([['xian', 'gan']]);
    // A syllable opening with a vowel opens the word: inside it pinyin writes Xi'an, so fangan is fan gan, and waang no name.
    expect(pinyinReadings('fangan')).toEqual([['fan', 'gan']]);
    expect(pinyinReadings('waang')).toBeNull();
    expect(pinyinReadings('anqi')).toEqual([['an', 'qi']]);
    expect(pinyinReadings('zhuang')).toContainEqual(['zhuang']);
    expect(isPinyin('lv')).toBe(true);
    expect(isPinyin('lue')).toBe(true);
  });

  it('does not read a misspelling, an English name or a bare consonant as pinyin', () => {
    expect(pinyinReadings('jiahiu')).toBeNull();
    expect(isPinyin('sunny')).toBe(false);
    expect(isPinyin('michael')).toBe(false);
    // English given names that happen to read as syllables (dan, ben) are English names.
    expect(isPinyin('dan')).toBe(false);
    expect(isPinyin('ben')).toBe(false);
    // Common English names that read as two or more syllables (SSA baby names): English, not pinyin.
    for (const w of ['linda', 'lisa', 'angela', 'susan', 'julie', 'anna']) expect(isPinyin(w)).toBe(false);
    // Romanized Chinese given names are still pinyin, one syllable or two.
    for (const w of ['kai', 'juan', 'lina', 'jiahui', 'anqi']) expect(isPinyin(w)).toBe(true);
    expect(isPinyin('mng')).toBe(false);
    expect(isPinyin('')).toBe(false);
  });
});
