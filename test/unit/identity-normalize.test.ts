import fs from 'node:fs';
import path from 'node:path';
import {
  foldDiacritics,
  foldText,
  normalizeCountry,
  normalizeDate,
  normalizeEmail,
  normalizeGender,
  normalizePassport,
  normalizePhone,
  normalizeResidentId,
  parsePhone,
  phoneRegionOf,
} from '../../src/canonical';
import { normalizeIdentifier } from '../../src/identifiers';
import { loadIdentityRules, parseIdentityRules } from '../../src/idmap/rules';
import { recordRegion, stagePage } from '../../src/idmap/stage';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));

/** A resident id with its ISO 7064 MOD 11-2 check character computed the long way. */
function residentId(first17: string): string {
  const weights = first17.split('').map((_, i) => 2 ** (17 - i) % 11);
  const sum = first17.split('').reduce((s, d, i) => s + Number(d) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

describe('text folding before any parsing', () => {
  it('turns full-width digits, letters and ideographic spaces into ASCII and folds whitespace', () => {
    expect(foldText('１５０３５６９８１０１')).toBe('15035698101');
    expect(foldText('\u3000Ｚｈａｎｇ\u00a0\u00a0Wei\u200b ')).toBe('Zhang Wei');
  });

  it('drops diacritics from Latin, Greek and Cyrillic letters and spells the undecomposed Latin letters as ASCII folding does', () => {
    expect(foldDiacritics('nguyễn đức')).toBe('nguyen duc');
    expect(foldDiacritics('søren æbeltoft weiß łódź ışık þór œuvre')).toBe('soren aebeltoft weiss lodz isik thor oeuvre');
    expect(foldDiacritics('ёлкин άννα')).toBe('елкин αννα');
    // Han, Hangul and kana come back as they were (composed), a Devanagari vowel sign stays.
    expect(foldDiacritics('张伟 김민준 が सीता')).toBe('张伟 김민준 が सीता');
  });

  it('reads full-width phone digits as the number they spell', () => {
    expect(normalizePhone('１５０３５６９８１０１')).toBe('+8615035698101');
    expect(normalizePhone('＋８６ １５０-３５６９-８１０１')).toBe('+8615035698101');
  });

  it('reads full-width and Chinese-style dates', () => {
    expect(normalizeDate('１９９０－０３－０７')).toBe('1990-03-07');
    expect(normalizeDate('1990年3月7日')).toBe('1990-03-07');
  });

  it('reads a birthday written the other ways systems write it, and refuses what is not one date for certain', () => {
    for (const d of [
      '19900307',
      '7 March 1990',
      'March 7, 1990',
      'Mar. 7 1990',
      '07-Mar-1990',
      '7th Mar 1990',
      '1990-03-07 00:00:00',
      '1990-03-07T00:00:00Z',
      '1990-03-07T00:00:00.000+08:00',
    ]) {
      expect(normalizeDate(d)).toBe('1990-03-07');
    }
    // Day and month before the year: read one way only when the other is impossible, else as the source says.
    expect(normalizeDate('13/03/1990')).toBe('1990-03-13');
    expect(normalizeDate('03/13/1990')).toBe('1990-03-13');
    expect(normalizeDate('07/07/1990')).toBe('1990-07-07');
    expect(normalizeDate('07/03/1990')).toBeNull();
    expect(normalizeDate('07/03/1990', 'dmy')).toBe('1990-03-07');
    expect(normalizeDate('03/07/1990', 'mdy')).toBe('1990-03-07');
    expect(normalizeDate('13/03/1990', 'mdy')).toBeNull();
    // Dots are Europe's way, day first (no one writes the month first with dots); a source's order still decides.
    expect(normalizeDate('07.03.1990')).toBe('1990-03-07');
    expect(normalizeDate('7.3.1990')).toBe('1990-03-07');
    expect(normalizeDate('03.13.1990')).toBeNull();
    expect(normalizeDate('03.07.1990', 'mdy')).toBe('1990-03-07');
    expect(normalizeDate('07-03-1990')).toBeNull();
    // An instant is not a date; two-digit years, month-like words and impossible dates are nothing.
    expect(normalizeDate('1990-03-06T16:00:00Z')).toBeNull();
    expect(normalizeDate('90-03-07')).toBeNull();
    expect(normalizeDate('Mayday 7 1990')).toBeNull();
    expect(normalizeDate('30 February 1990')).toBeNull();
    expect(normalizeDate('12345678')).toBeNull();
  });

  it('reads the gender words of Chinese forms', () => {
    expect(['先生', '男性', '男士'].map(normalizeGender)).toEqual(['MALE', 'MALE', 'MALE']);
    expect(['女士', '女性'].map(normalizeGender)).toEqual(['FEMALE', 'FEMALE']);
  });

  it('reads salutations and the gender words of the languages international records come in', () => {
    expect(['Mr', 'Mr.', 'Herr', 'man', 'männlich', 'Masculino', 'homme', 'hombre'].map(normalizeGender)).toEqual(Array(8).fill('MALE'));
    expect(['Mrs', 'Ms.', 'Miss', 'Frau', 'woman', 'weiblich', 'W', 'Femenino', 'féminin', 'femme', 'mujer', '小姐'].map(normalizeGender)).toEqual(Array(12).fill('FEMALE'));
    // Not a gender, or not one a value alone can tell (a Spanish form's M is mujer, an English one's male).
    expect(['Mx', 'X', 'H', 'boy', 'diverse', '0', 'unknown'].map(normalizeGender)).toEqual(Array(7).fill('UNKNOWN'));
  });

  it('reads the gender words of the forms of Korea, Vietnam, Thailand, Indonesia, Malaysia and the Philippines', () => {
    expect(['남', '남성', '남자', 'Nam', 'ชาย', 'Laki-laki', 'Pria', 'Lelaki', 'Lalaki'].map(normalizeGender)).toEqual(Array(9).fill('MALE'));
    // Nữ in either normal form (n, u with horn, combining hook; or precomposed).
    expect(['여', '여성', '여자', 'Nữ', 'Nu\u031b\u0303', 'หญิง', 'Perempuan', 'Wanita', 'Babae'].map(normalizeGender)).toEqual(Array(9).fill('FEMALE'));
  });
});

describe('phones: true E.164 in every region', () => {
  it('stores a number written without country code in the region it is read in', () => {
    expect(normalizePhone('702-919-1300', 'US')).toBe('+17029191300');
    expect(normalizePhone('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(normalizePhone('03-1234-5678', 'JP')).toBe('+81312345678');
    expect(normalizePhone('0412 345 678', 'AU')).toBe('+61412345678');
    expect(normalizePhone('(800) 222-1234', 'US')).toBe('+18002221234');
  });

  it('never files a foreign number under +86: invalid in CN, it is refused, not stored as +867029191300', () => {
    expect(normalizePhone('702-919-1300')).toBeNull();
    expect(parsePhone('702-919-1300', 'CN')).toEqual({ problem: 'not-valid' });
  });

  it('reads an explicit country code or international prefix whatever the region', () => {
    expect(normalizePhone('+1 (415) 555-2671')).toBe('+14155552671');
    expect(normalizePhone('0049 30 901820')).toBe('+4930901820');
    expect(normalizePhone('+44 20 7946 0958', 'US')).toBe('+442079460958');
    expect(normalizePhone('8613800138000')).toBe('+8613800138000');
  });

  it('refuses possible-but-not-valid numbers: a mistyped mobile, a bare 7-digit local number', () => {
    for (const raw of ['1380013', '138 0013 800', '3213212', '1380013800']) {
      expect(normalizePhone(raw)).toBeNull();
      expect(normalizeIdentifier('PHONE', raw)).toBeNull();
    }
    expect(parsePhone('1380013', 'CN')).toEqual({ problem: 'not-valid' });
    expect(parsePhone('phone?', 'CN')).toEqual({ problem: 'malformed' });
  });

  it('reads the number out of a label, a note in brackets or an extension, and still refuses masked or several numbers', () => {
    for (const raw of ['手机：138 0013 8000', 'Tel: +86 138 0013 8000', '13800138000（微信同号）', '138-0013-8000 (home)', '13800138000 ext. 12']) {
      expect(normalizePhone(raw)).toBe('+8613800138000');
    }
    for (const raw of ['010-65529988-8001', '010-65529988 转8001', '(010) 6552 9988 分机 12']) expect(normalizePhone(raw)).toBe('+861065529988');
    expect(normalizePhone('Mobile: (415) 555-2671 x123', 'US')).toBe('+14155552671');
    for (const raw of ['138****8000', '13800138000 / 13900139000', 'x123', 'phone: none']) expect(normalizePhone(raw)).toBeNull();
  });

  it('leaves out an extension written as Hong Kong and Taiwan write it, or as RFC 3966 does', () => {
    for (const raw of ['02-2345-6789 轉 123', '(02) 2345-6789 分機 123', '+886 2 2345 6789 內線 12']) expect(normalizePhone(raw, 'TW')).toBe('+886223456789');
    expect(normalizePhone('2123 4567 內線 88', 'HK')).toBe('+85221234567');
    expect(normalizePhone('+1-415-555-2671;ext=204', 'US')).toBe('+14155552671');
  });

  it('leaves out an extension after a comma, in brackets, or spelled ext:, extn', () => {
    // OneID splits a field at its commas and linked (415) 555-2671; the source's own phone answered null.
    for (const raw of [
      '(415) 555-2671, ext. 12',
      '+1 415 555 2671, x12',
      '+1 415 555 2671; ext 12',
      '+1 415-555-2671 (ext. 12)',
      '+1 415 555 2671 ext: 12',
      '+1 415 555 2671 extn. 12',
      '+1 415 555 2671 Extension 12',
    ])
      expect(normalizePhone(raw, 'US')).toBe('+14155552671');
    expect(normalizePhone('010-65529988，转8001')).toBe('+861065529988');
    // Still no number: an extension alone, or one longer than any switchboard's.
    for (const raw of ['ext. 12', '+1 415 555 2671, ext 12345678']) expect(normalizePhone(raw, 'US')).toBeNull();
  });

  it('answers a phone parsed before the same way, per region (parsed phones are remembered)', () => {
    for (let i = 0; i < 3; i++) {
      expect(normalizePhone('702-919-1300', 'US')).toBe('+17029191300');
      expect(normalizePhone('702-919-1300', 'CN')).toBeNull();
      expect(parsePhone('702-919-1300', 'CN')).toEqual({ problem: 'not-valid' });
      expect(normalizePhone('＋８６ １３８ ００１３ ８０００')).toBe('+8613800138000');
    }
  });

  it('blocks Chinese hotlines but not a US toll-free number: the hotline rule is per country', () => {
    const cnHotline = rules.normalize('PHONE', '400-820-8820') as { value: string };
    expect(rules.blockedBy('PHONE', cnHotline.value)).not.toBeNull();
    const cnTollFree = rules.normalize('PHONE', '800-222-1234', 'CN') as { value: string };
    expect(cnTollFree.value).toBe('+868002221234');
    expect(rules.blockedBy('PHONE', cnTollFree.value)).not.toBeNull();
    const usTollFree = rules.normalize('PHONE', '800-222-1234', 'US') as { value: string };
    expect(usTollFree.value).toBe('+18002221234');
    expect(rules.blockedBy('PHONE', usTollFree.value)).toBeNull();
  });
});

describe('the region a record is read in', () => {
  it('is the record country when it gives one, else the source region, else the default', () => {
    const file = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../config/identity-rules.json'), 'utf8'));
    const r = parseIdentityRules({ ...file, sourceRegions: { us_shop: 'US' } }, 'test rules');
    expect(recordRegion({ source: 'us_shop' }, r)).toBe('US');
    expect(recordRegion({ source: 'other' }, r)).toBe('CN');
    expect(recordRegion({ source: 'other', traits: { country: 'gb' } }, r)).toBe('GB');
    expect(recordRegion({ source: 'other', traits: { country: 'Narnia' } }, r)).toBe('CN');
    // A country written as a name or an alpha-3 code: not its first two letters (Switzerland, Georgia).
    expect(recordRegion({ source: 'other', traits: { country: 'United States' } }, r)).toBe('US');
    expect(recordRegion({ source: 'us_shop', traits: { country: 'China' } }, r)).toBe('CN');
    expect(recordRegion({ source: 'other', traits: { country: 'Germany' } }, r)).toBe('DE');
  });

  it('reads a country as its code, its alpha-3 code or its name in English or Chinese', () => {
    expect(['de', ' DE ', 'DEU', 'Germany', 'germany', '德国'].map(normalizeCountry)).toEqual(['DE', 'DE', 'DE', 'DE', 'DE', 'DE']);
    expect(['USA', 'U.S.A.', 'United States', '美国', 'US'].map(normalizeCountry)).toEqual(['US', 'US', 'US', 'US', 'US']);
    expect(['UK', 'United Kingdom', 'GBR', 'GB'].map(normalizeCountry)).toEqual(['GB', 'GB', 'GB', 'GB']);
    expect(['China', '中国', 'CHN', 'cn'].map(normalizeCountry)).toEqual(['CN', 'CN', 'CN', 'CN']);
    expect(['Narnia', 'ZZ', 'XYZ', '', null, 42].map(normalizeCountry)).toEqual([null, null, null, null, null, null]);
  });

  it('reads a country as Hong Kong, Taiwan, Japan, Korea and the UK write it, so that their phones are read there', () => {
    expect(['台灣', '臺灣', '台湾', 'Taiwan, ROC', 'Taiwan, Province of China', '中華民國'].map(normalizeCountry)).toEqual(Array(6).fill('TW'));
    expect(['Hong Kong SAR', 'HKSAR', '中國香港', '香港特別行政區', '香港'].map(normalizeCountry)).toEqual(Array(5).fill('HK'));
    expect(['Macau', '澳門', 'Macao SAR'].map(normalizeCountry)).toEqual(['MO', 'MO', 'MO']);
    expect(['中國', 'PRC', 'P.R. China', 'Mainland China', "People's Republic of China"].map(normalizeCountry)).toEqual(Array(5).fill('CN'));
    expect(['England', 'Scotland', 'Wales', 'Northern Ireland', 'U.K.'].map(normalizeCountry)).toEqual(Array(5).fill('GB'));
    expect(['Korea', '韓國', '韓国', '대한민국', '한국', '大韓民國'].map(normalizeCountry)).toEqual(Array(6).fill('KR'));
    expect(['日本', '澳洲', '德國'].map(normalizeCountry)).toEqual(['JP', 'AU', 'DE']);
    expect(['constructor', 'toString', '__proto__'].map(normalizeCountry)).toEqual([null, null, null]);
    // A Hong Kong number on a record saying `中國香港` is read in Hong Kong, not in the source's region.
    expect(normalizePhone('6123 4567', phoneRegionOf('中國香港', 'CN'))).toBe('+85261234567');
    expect(normalizePhone('0912-345-678', phoneRegionOf('臺灣', 'CN'))).toBe('+886912345678');
  });

  it('is what staging uses: a US record and a Chinese record with the same digits do not collide', () => {
    const ch = stagePage(
      'src_a',
      [
        { source: 'src_a', recordId: '1', updatedAt: '2026-01-01T00:00:00Z', identifiers: [{ kind: 'PHONE', value: '702-919-1300' }], traits: { country: 'US' } },
        { source: 'src_a', recordId: '2', updatedAt: '2026-01-01T00:00:00Z', identifiers: [{ kind: 'PHONE', value: '702-919-1300' }] },
      ],
      new Map(),
      rules,
      '2026-01-02T00:00:00Z',
    );
    expect(ch.addIdentifiers.map((i) => [i.recordId, i.value])).toEqual([['1', '+17029191300']]);
  });
});

describe('emails as people paste them', () => {
  it('accepts display names, quotes and mailto:', () => {
    expect(normalizeEmail('Maria Sentosa<msentosa@example.org>')).toBe('msentosa@example.org');
    expect(normalizeEmail('"Maria Sentosa" <MSentosa@Example.org>')).toBe('msentosa@example.org');
    expect(normalizeEmail('"a.b@x.com"')).toBe('a.b@x.com');
    expect(normalizeEmail('mailto:A@B.com')).toBe('a@b.com');
    expect(normalizeEmail('<mailto:z@y.cn>')).toBe('z@y.cn');
    expect(normalizeEmail('"john"@x.com')).toBe('john@x.com');
    expect(normalizeEmail('ｔｅｓｔ＠ｑｑ．ｃｏｍ')).toBe('test@qq.com');
  });

  it('writes an internationalized domain one way, however it was stored (Unicode or punycode, any case)', () => {
    for (const raw of ['User@Bücher.DE', 'user@xn--bcher-kva.de', 'USER@XN--BCHER-KVA.DE', 'user@ｂüｃｈｅｒ.de'])
      expect([raw, normalizeEmail(raw)]).toEqual([raw, 'user@bücher.de']);
    expect(normalizeEmail('Li@例子.中国')).toBe('li@例子.中国');
    expect(normalizeEmail('li@xn--fsqu00a.xn--fiqs8s')).toBe('li@例子.中国');
    // The local part is the mailbox's own: plus tags and dots stay (emailMatchKey folds them only to find candidates).
    expect(normalizeEmail('Li.Na+shop@Gmail.com')).toBe('li.na+shop@gmail.com');
    expect(normalizeEmail('a@xn--zz.com')).toBeNull();
  });

  it('still refuses what is not one address', () => {
    for (const raw of ['a@b', 'Maria <>', 'a@b.com, c@d.com', 'not an email']) expect(normalizeEmail(raw)).toBeNull();
  });
});

describe('resident ids and passports', () => {
  const valid = residentId('11010519491231002');

  it('accepts an 18-character resident id whose MOD 11-2 check character is right, in any width or case', () => {
    expect(normalizeResidentId(valid)).toBe(valid);
    const x = residentId('44030419900101002');
    expect(normalizeIdentifier('RESIDENT_ID', x.toLowerCase())).toBe(x);
    expect(normalizeIdentifier('RESIDENT_ID', foldWide(valid))).toBe(valid);
  });

  it('refuses a wrong check character, an impossible birth date, and the old 15-digit form', () => {
    const wrong = valid.slice(0, 17) + (valid[17] === '1' ? '2' : '1');
    expect(normalizeResidentId(wrong)).toBeNull();
    expect(normalizeResidentId(residentId('11010519491331002'))).toBeNull();
    expect(normalizeResidentId('110105491231002')).toBeNull();
  });

  it('normalizes passports with or without their issuing country', () => {
    expect(normalizePassport('e 1234 5678')).toBe('E12345678');
    expect(normalizePassport('chn:E12345678')).toBe('CHN:E12345678');
    expect(normalizePassport('ABCDEFGH')).toBeNull();
  });

  it('links on a resident id as a strong, exclusive kind', () => {
    expect(rules.strongKind('RESIDENT_ID')?.maxPeople).toBe(1);
    expect(rules.isExclusive('RESIDENT_ID')).toBe(true);
    expect(rules.strongKind('PASSPORT')).toBeDefined();
  });
});

function foldWide(s: string): string {
  return s.replace(/[0-9A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}
