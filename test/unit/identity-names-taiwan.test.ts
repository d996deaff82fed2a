import { compareNames, nameForm } from '../../src/idmap/probabilistic/names';
import { blockKeys, featuresOf } from '../../src/idmap/probabilistic/features';
import { tongyong } from '../../src/idmap/probabilistic/tongyong';

const names = (a: string, b: string) => compareNames(nameForm(a), nameForm(b));
const shareBlock = (a: string, b: string) => {
  const x = blockKeys(featuresOf('s', 'a', { name: a, birthday: '1994-02-18' }, []));
  const y = blockKeys(featuresOf('s', 'b', { name: b, birthday: '1994-02-18' }, []));
  return x.some((k) => y.includes(k));
};

describe('Names: Tongyong pinyin, as Taiwan wrote names from 2002 to 2008', () => {
  it('spells the syllables Tongyong writes apart from Hanyu pinyin', () => {
    expect(['zhi', 'zhang', 'xin', 'qiu', 'xu', 'jun', 'xuan', 'xiong', 'liu', 'hui', 'wen', 'feng', 'ci', 'si'].map(tongyong)).toEqual([
      'jhih',
      'jhang',
      'sin',
      'ciou',
      'syu',
      'jyun',
      'syuan',
      'syong',
      'liou',
      'huei',
      'wun',
      'fong',
      'cih',
      'sih',
    ]);
    expect(['lin', 'yu', 'yong', 'yuan', 'ting', 'wei', 'hao'].map(tongyong)).toEqual(['lin', 'yu', 'yong', 'yuan', 'ting', 'wei', 'hao']);
  });

  it('reads a Han name against its Tongyong spelling as one name, in either order, hyphenated or not', () => {
    expect(names('林志豪', 'Lin Jhih-Hao')).toBe('alias');
    expect(names('張偉婷', 'Jhang Wei-Ting')).toBe('alias');
    expect(names('許雅君', 'Syu Ya-Jyun')).toBe('alias');
    expect(names('邱心怡', 'Sin-Yi Ciou')).toBe('alias');
    expect(names('劉文雄', 'LIOU Wun Syong')).toBe('alias');
  });

  it('still keeps another given name apart', () => {
    expect(names('林志豪', 'Lin Jhih-Hong')).not.toBe('alias');
    expect(names('許雅君', 'Syu Ya-Ting')).not.toBe('alias');
  });

  it('puts a Han name and its Tongyong spelling in one birthday block', () => {
    expect(shareBlock('徐欣如', 'Syu Sin-Ju')).toBe(true);
  });
});

describe('Names: Wade-Giles as Taiwanese passports write it', () => {
  it('reads `Yi` where Wade-Giles writes `i`', () => {
    expect(names('莊宜慧', 'Chuang Yi-Hui')).toBe('alias');
    expect(names('陳怡君', 'CHEN, YI-CHUN')).toBe('alias');
    expect(names('莊宜慧', 'Chuang I-hui')).toBe('alias');
  });

  it("reads a character's other readings (柏 bo as well as bai)", () => {
    expect(names('郭柏偉', 'Kuo Po-Wei')).toBe('alias');
    expect(names('郭柏偉', 'Po Wei Kuo')).toBe('alias');
  });
});
