import { nameForm } from '../../src/idmap/probabilistic/names';
import { givenNameReadApart } from '../../src/idmap/probabilistic/given-name-apart';

const apart = (a: string, b: string) => givenNameReadApart(nameForm(a), nameForm(b));

describe('a Han name and a Latin one under its surname with another given name (givenNameReadApart)', () => {
  it("reads a romanized given name that is not the characters' as a relative's, in either order of the two", () => {
    // Hong Kong 2026: one birthday, one address in Taipei; 倩惠 is Qian Hui, Chien Hui, Sin Wai.
    expect(apart('Ming Yu Hsieh', '謝倩惠')).toBe(true);
    expect(apart('謝倩惠', 'Ming Yu Hsieh')).toBe(true);
    expect(apart('CHAN Siu Ming', '陳大文')).toBe(true);
    expect(apart('Zhang Weiming', '張志豪')).toBe(true);
    // An English given name beside it is left out; the Chinese one still reads as another.
    expect(apart('Peter Chan Siu Ming', '陳大文')).toBe(true);
  });

  it("keeps one person's romanizations together: pinyin, Wade-Giles (Taiwan's yi), Cantonese, either order, syllables joined", () => {
    expect(apart('Chien Hui Hsieh', '謝倩惠')).toBe(false);
    expect(apart('Qianhui Xie', '谢倩惠')).toBe(false);
    expect(apart('CHAN Tai Man', '陳大文')).toBe(false);
    expect(apart('Tai-man Chan', '陳大文')).toBe(false);
    expect(apart('Chang Yi-Yung', '张仪咏')).toBe(false);
    // 柏 is bai and bo in pinyin: Taiwan writes Po.
    expect(apart('CHEN Ming-Po', '陳銘柏')).toBe(false);
    // hui spells 許 in Cantonese: with Hsu as the surname the rest is 瑩輝.
    expect(apart('Ying Hui Hsu', '許瑩輝')).toBe(false);
    expect(apart('CHAN Chun-san, Cecilia', '陈俊晨')).toBe(false);
    // A character left out on either side (default 7: 王晓 and `wang xiaoxin`, one birthday, one phone).
    expect(apart('wang xiaoxin', '王晓')).toBe(false);
    expect(apart('Wang Xiao', '王晓欣')).toBe(false);
    expect(apart('Wang Xin', '王晓欣')).toBe(false);
  });

  it('reads no given name in an English one, a nickname or an unread spelling: those stay similar, one person possibly', () => {
    expect(apart('Tony Leung', '梁秀明')).toBe(false);
    expect(apart('Kevin Wong', '黃天榮')).toBe(false);
    expect(apart('Cecilia Poon', '潘麗')).toBe(false);
    // Hokkien (`huat`) is not read here.
    expect(apart('Lim Ah Huat', '林發')).toBe(false);
  });

  it('answers only for a Han name against a Latin one holding its surname', () => {
    expect(apart('謝明宇', '謝倩惠')).toBe(false);
    expect(apart('Ming Yu Hsieh', 'Chien Hui Hsieh')).toBe(false);
    expect(apart('Ming Yu Wong', '謝倩惠')).toBe(false);
    expect(givenNameReadApart(null, nameForm('謝倩惠'))).toBe(false);
  });
});
