/**
 * Two Latin names that differ only in how they romanize one Chinese surname (`Grace Yang`, `Grace
 * Yeung`): one person's names as a mainland and a Hong Kong system spell them, close; two
 * surnames stay two.
 */
import { compareNames, nameForm } from '../../src/idmap/probabilistic/names';

const level = (a: string, b: string) => compareNames(nameForm(a), nameForm(b));

describe('Names: one Chinese surname in two romanizations', () => {
  it.each([
    ['Grace Yang', 'Grace Yeung'], // 杨: pinyin, Cantonese
    ['Calvin Chan', 'Calvin Chen'], // 陈
    ['Tony Tsai', 'Tony Cai'], // 蔡: Wade-Giles, pinyin
    ['Lim Wei Ming', 'Lin Wei Ming'], // 林: Hokkien, pinyin
    ['Kevin Wong', 'Wang Kevin'], // 王, in either order
    ['Kenny Cheung', 'Kenneth Teo'], // 张 in Cantonese and Teochew, a nickname beside it
  ])('%s and %s are close', (a, b) => {
    expect(level(a, b)).toBe('close');
  });

  it.each([
    ['Chang Wei', 'Zhang Wei'], // Chang is 常 in pinyin as well as 张 in Wade-Giles
    ['Huang Wei', 'Wang Wei'], // two pinyin surnames
    ['Tan Wei', 'Chen Wei'], // Tan is 谭 in pinyin
    ['Grace Yang', 'Mary Yeung'], // the surname alone
    ['Grace Yeung Mei', 'Grace Yang Ling'], // a second word apart
  ])('%s and %s are not', (a, b) => {
    expect(level(a, b)).not.toBe('close');
    expect(level(a, b)).not.toBe('alias');
  });
});
