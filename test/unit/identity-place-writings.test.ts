import { compareRecords, COMPARISONS, sameStreet } from '../../src/idmap/probabilistic/compare';
import { featuresOf, houseNumber, placeOf, sameCity, samePlace, streetOf } from '../../src/idmap/probabilistic/features';
import { oneHanWriting } from '../../src/idmap/probabilistic/han-variants';

const city = (a: string, b: string) => sameCity(placeOf(a)!, placeOf(b)!);
const street = (a: string, b: string) => sameStreet(streetOf(a)!, streetOf(b)!);
const placeLevel = (a: { city?: string; address?: string; postcode?: string }, b: { city?: string; address?: string; postcode?: string }) => {
  const i = COMPARISONS.findIndex((c) => c.name === 'place');
  return compareRecords(featuresOf('s', 'a', a, []), featuresOf('s', 'b', b, []))[i];
};

describe('Places: a Han name in its traditional, simplified and variant characters', () => {
  it('reads 臺 and 台, traditional and simplified, as one writing, and Big5 variants as Big5 writes them', () => {
    expect(oneHanWriting('臺中市西屯區')).toBe(oneHanWriting('台中市西屯区'));
    expect(oneHanWriting('荃灣')).toBe('荃湾');
    expect(oneHanWriting('張峯')).toBe(oneHanWriting('張峰'));
    expect(oneHanWriting('Taichung 407')).toBe('Taichung 407');
  });

  it('takes 臺中市, 台中市 and 台中 for one city, and a county in either writing with its suffix left out', () => {
    expect([city('臺中市', '台中'), city('臺中市', '台中市'), city('臺北', '台北市')]).toEqual([true, true, true]);
    expect(placeOf('臺東縣')).toBe(placeOf('台東縣'));
    expect(placeOf('臺東縣')).toBe(placeOf('台东'));
    expect(city('荃灣', '荃湾')).toBe(true);
    expect(city('廣州', '广州')).toBe(true);
  });

  it('still reads a Han city against its pinyin, and keeps two cities of one reading apart', () => {
    expect(samePlace(placeOf('廣州市')!, placeOf('Guangzhou')!)).toBe(true);
    expect(city('泰州', '台州')).toBe(false);
    expect(city('臺中', '臺南')).toBe(false);
  });
});

describe('Places: a Taiwanese street address written two ways', () => {
  it('reads a section in Chinese numerals or digits, a floor as 樓 or F, and the divisions in either writing as one address', () => {
    const a = '臺北市大安區忠孝東路四段100號5樓';
    expect(streetOf(a)).toBe(streetOf('大安區忠孝東路4段100號5F'));
    expect(streetOf(a)).toBe(streetOf('台北市大安区忠孝东路四段100号5楼'));
    expect(street(a, '忠孝東路四段100號5樓')).toBe(true);
    expect(streetOf('八德路十二段3號')).toBe('八德路12段3号');
  });

  it('keeps two houses, floors and sections apart', () => {
    const a = '臺北市大安區忠孝東路四段100號5樓';
    expect(street(a, '臺北市大安區忠孝東路四段102號5樓')).toBe(false);
    expect(street(a, '臺北市大安區忠孝東路三段100號5樓')).toBe(false);
    expect(street(a, '臺北市大安區忠孝東路四段100號6樓')).toBe(false);
  });

  it('takes the number 號 follows for the house number, after a section, lane and alley', () => {
    expect(houseNumber(streetOf('新北市淡水區和平東路4段271巷19弄29號12樓')!)).toBe('29');
    expect(houseNumber(streetOf('北京市朝阳区建国路88号')!)).toBe('88');
    expect(houseNumber(streetOf('阳光小区3栋2单元')!)).toBe('3');
  });

  it('compares two records of one Taichung home as one address, where the city names had said two places', () => {
    expect(placeLevel({ city: '臺中市', address: '臺中市西屯區文化路2段12號3樓' }, { city: '台中', address: '西屯區文化路二段12號3F' })).toBe('address');
    expect(placeLevel({ city: '臺中市' }, { city: '台中' })).toBe('city');
    expect(placeLevel({ city: '臺中市' }, { city: '臺南市' })).toBe('different');
  });
});

describe('Places: a postcode written in full and in its first part', () => {
  it('takes a ZIP and its ZIP+4, and Taiwan’s three digits and 3+3, for neither one postcode nor two', () => {
    expect(placeLevel({ postcode: '106', address: '忠孝東路四段100號5樓' }, { postcode: '106017', address: '忠孝東路4段100號5F' })).toBe('address');
    expect(placeLevel({ postcode: '94105', address: '12 Market St' }, { postcode: '94105-1234', address: '12 Market Street' })).toBe('address');
    expect(placeLevel({ postcode: '106' }, { postcode: '10657' })).toBeNull();
    expect(placeLevel({ postcode: '106', city: '台北市' }, { postcode: '10657', city: '臺北' })).toBe('city');
  });

  it('still takes two postcodes that differ for two places', () => {
    expect(placeLevel({ postcode: '106' }, { postcode: '110' })).toBe('different');
    expect(placeLevel({ postcode: '106', address: '忠孝東路四段100號5樓' }, { postcode: '110017', address: '忠孝東路四段100號5樓' })).toBe('different');
    expect(placeLevel({ postcode: '106017', address: '忠孝東路四段100號5樓' }, { postcode: '106018', address: '忠孝東路四段100號5樓' })).toBe('different');
  });
});
