/**
 * Places written in Han characters and in Latin letters where the Latin name is not the pinyin
 * (`place-names.ts`): Hong Kong's districts in Cantonese romanization, Taiwan's cities as Taiwan
 * spells them, and one place in traditional and simplified characters.
 */
import { COMPARISONS, compareRecords } from '../../src/idmap/probabilistic/compare';
import { featuresOf, placeOf, samePlace } from '../../src/idmap/probabilistic/features';

const same = (x: string, y: string) => samePlace(placeOf(x)!, placeOf(y)!);
const placeLevel = (x: string, y: string) =>
  compareRecords(featuresOf('s', 'a', { city: x }, []), featuresOf('t', 'b', { city: y }, []))[COMPARISONS.findIndex((c) => c.name === 'place')];

describe('Places: Hong Kong and Taiwan in two writings', () => {
  it.each([
    ['沙田', 'Sha Tin'],
    ['深水埗', 'Sham Shui Po'],
    ['灣仔', 'Wan Chai'],
    ['湾仔', 'Wan Chai'],
    ['荃灣', 'Tsuen Wan'],
    ['觀塘', 'Kwun Tong'],
    ['观塘', 'Kwun Tong'],
    ['油尖旺', 'Yau Tsim Mong'],
    ['東區', 'Eastern'],
    ['东区', 'Eastern'],
    ['九龍', 'Kowloon'],
    ['臺北市', 'Taipei City'],
    ['新北市', 'New Taipei City'],
    ['高雄市', 'Kaohsiung'],
    ['臺中市', 'Taichung'],
    ['台北市', 'Taibei'], // the mainland's pinyin
  ])('%s is %s', (han, latin) => {
    expect(same(han, latin)).toBe(true);
    expect(same(latin, han)).toBe(true);
    expect(placeLevel(han, latin)).toBe('city');
  });

  it.each([
    ['荃灣', '荃湾'],
    ['臺北市', '台北市'],
    ['灣仔', '湾仔'],
  ])('%s and %s are one place in traditional and simplified characters', (x, y) => {
    expect(same(x, y)).toBe(true);
    expect(placeLevel(x, y)).toBe('city');
  });

  it.each([
    ['沙田', 'Tsuen Wan'],
    ['沙田', '荃灣'],
    ['陕西', '山西'], // Shaanxi and Shanxi: one pinyin without tones, two provinces
    ['臺北市', 'New Taipei City'],
    ['九龍', 'Hong Kong Island'],
    ['泰州', '台州'], // two Han names outside the table compared as written: one pinyin, two cities
  ])('%s and %s are two places', (x, y) => {
    expect(same(x, y)).toBe(false);
    expect(placeLevel(x, y)).toBe('different');
  });
});
