/**
 * Thai names in Thai script against their Latin spellings: a word read in the Royal Thai General
 * System of Transcription (RTGS), the spellings in use folded where they part from it, and the
 * name compared word by word in either order; the polite `khun` and Thai forms of address are not
 * part of a name; a Thai record meets its Latin spellings in the birthday block.
 */
import { compareNames, nameForm, nameFormOf } from '../../src/idmap/probabilistic/names';
import { blockKeys, featuresOf } from '../../src/idmap/probabilistic/features';
import { compareThaiLatin, foldThaiLatin, thaiReadings } from '../../src/idmap/probabilistic/thai';

const level = (a: string, b: string) => compareNames(nameForm(a), nameForm(b));
const reads = (thai: string) => thaiReadings(thai.normalize('NFKC'));

describe('Thai script in RTGS', () => {
  it.each([
    ['สมชาย', 'somchai'], // o between two consonants, -าย ai
    ['กนก', 'kanok'], // a before a closed syllable
    ['บุญมี', 'bunmi'],
    ['ทองดี', 'thongdi'], // อ as the vowel o
    ['ผ่องแผ้ว', 'phongphaeo'], // tone marks dropped, a final ว as o
    ['ใจดี', 'chaidi'],
    ['วนิดา', 'wanida'],
    ['ศิริพร', 'siriphon'], // a final ร as n
    ['ศรี', 'si'], // ร silent after ศ
    ['จันทร์', 'chan'], // ทร under the silencing sign
    ['กิตติศักดิ์', 'kittisak'], // ดิ์ silenced
    ['กนกวรรณ', 'kanokwan'], // รร as a
    ['รัตนา', 'rattana'], // ต read twice
    ['สมบัติ', 'sombat'], // a word-final ติ as the final t
    ['เจริญ', 'charoen'], // a Sanskrit word's a after จ
    ['ประเสริฐ', 'prasoet'], // a true cluster pr, ร silent after ส
    ['แซ่ตั้ง', 'saetang'],
    ['ชัยวัฒน์', 'chaiwat'],
    ['คำ', 'kham'], // ำ as NFKC decomposes it
  ])('reads %s as %s', (thai, latin) => {
    expect(reads(thai)).toContain(latin);
  });

  it('has no reading for text that is not Thai letters', () => {
    expect(thaiReadings('abc')).toEqual([]);
    expect(thaiReadings('สม1')).toEqual([]);
  });

  it.each([
    ['Boonmee', 'bunmi'],
    ['Pornthip', 'phonthip'],
    ['Jaidee', 'chaidi'],
    ['Srisawad', 'sisawat'],
    ['Phongphaew', 'phongphaeo'],
    ['Prasert', 'prasoet'],
    ['Nongnuch', 'nongnut'],
    ['Wongsuwannakul', 'wongsuwannakun'],
    ['Ratana', 'rattana'],
  ])('folds the spelling in use %s and RTGS %s to one form', (inUse, rtgs) => {
    expect(foldThaiLatin(inUse)).toBe(foldThaiLatin(rtgs));
  });
});

describe('Thai names against Latin spellings', () => {
  it('reads a Thai-script name as its Latin spelling: alias, in either order, with a nickname beside it', () => {
    expect(level('พรทิพย์ บุญมี', 'Pornthip Boonmee')).toBe('alias');
    expect(level('Phonthip Bunmi', 'พรทิพย์ บุญมี')).toBe('alias');
    expect(level('พรทิพย์ บุญมี', 'BOONMEE Pornthip')).toBe('alias');
    expect(level('สมชาย ศรีสวัสดิ์', 'Somchai "Chai" Srisawat')).toBe('alias');
    expect(level('ชัยวัฒน์ กิตติคุณวัฒนา', 'Kittikhunwatthana Chaiwat')).toBe('alias');
  });

  it('tells another given name or another surname apart, as two Latin names', () => {
    expect(level('รัตนา ศรีสวัสดิ์', 'Lek Srisawat')).toBe('different');
    expect(level('วนิดา ผ่องแผ้ว', 'Wanida Chaiyaporn')).toBe('different');
    expect(level('สมชาย ศรีสวัสดิ์', 'Somchai Srisawat Boonmee Lek')).toBe('different');
  });

  it('calls a Latin word one letter off the reading close', () => {
    expect(compareThaiLatin(['สมชาย', 'ศรีสวัสดิ์'], ['somchai', 'srisawaat'])).toBe('alias');
    expect(compareThaiLatin(['สมชาย', 'ศรีสวัสดิ์'], ['somchai', 'srisawet'])).toBe('close');
  });

  it('keeps a Korean name in Hangul read as before', () => {
    expect(level('이은지', 'Eunji Lee')).toBe('alias');
    expect(nameForm('이은지')!.words).toEqual(['이은지']);
  });

  it('keeps the Thai words through the store (text joined, the words beside it)', () => {
    const f = nameForm('พรทิพย์ บุญมี')!;
    expect(f).toEqual({ script: 'o', text: 'พรทิพย์บุญมี', words: ['พรทิพย์', 'บุญมี'] });
    expect(compareNames(nameFormOf(f.text, f.words.join(' ')), nameForm('Pornthip Boonmee'))).toBe('alias');
    // Records written with and without the space are one name.
    expect(level('พรทิพย์ บุญมี', 'พรทิพย์บุญมี')).toBe('exact');
  });

  it('drops a form of address: Khun in Latin letters, นาย, นาง, นางสาว and คุณ in Thai', () => {
    expect(level('Khun Prasert Rattanakosin', 'Prasert Rattanakosin')).toBe('exact');
    expect(level('นางสาว พรทิพย์ บุญมี', 'พรทิพย์ บุญมี')).toBe('exact');
    expect(level('คุณ พรทิพย์ บุญมี', 'Pornthip Boonmee')).toBe('alias');
  });

  it('puts a Thai-script record in a birthday block with its Latin spelling (จ as Ch or J)', () => {
    const f = (name: string, birthday: string) => featuresOf('s', name, { name, birthday }, []);
    const shared = (x: string[], y: string[]) => x.some((k) => y.includes(k));
    expect(shared(blockKeys(f('พรทิพย์ บุญมี', '1994-03-07')), blockKeys(f('Pornthip Boonmee', '1994-03-07')))).toBe(true);
    expect(shared(blockKeys(f('จินตนา ทองดี', '1958-04-18')), blockKeys(f('Jintana Thongdee', '1958-04-18')))).toBe(true);
    expect(shared(blockKeys(f('พรทิพย์ บุญมี', '1994-03-07')), blockKeys(f('Wanida Chaiyaporn', '1994-03-07')))).toBe(false);
  });
});

describe('Thai names in two Latin spellings', () => {
  it.each([
    ['Pongsak Boonmee', 'Bunmi Pongsak'], // oo/ee against RTGS's u/i, the surname first
    ['Natthaphong Kongkaew', 'Nattapong Khongkaeo'], // aspirates written or not, a final w as o
    ['Pornthip Jantarasombat', 'Chantharasombat Pornthip'], // j for ch
    ['Prasoet Phongphaew', 'Pongpaew Prasert'], // oe as er
  ])('%s and %s are one name, close', (a, b) => {
    expect(level(a, b)).toBe('close');
  });

  it.each([
    ['Somchai Boonmee', 'Somsak Boonmee'], // another given name under the surname
    ['Pongsak Boonmee', 'Pongsak Jaidee'],
    ['Jurgen Muller', 'Juergen Mueller'], // German umlauts dropped and spelt out: one letter a word, not a Thai spelling
  ])('%s and %s stay apart', (a, b) => {
    expect(['exact', 'alias', 'close']).not.toContain(level(a, b));
  });
});
