/**
 * What the probabilistic tier compares about one source record, and the blocks it is put in.
 * Built at staging from the record's traits and normalized identifiers; kept in the store
 * (`idmap_match_features`, `idmap_match_blocks`) so a later run compares a changed record
 * with the rest without scanning every source again.
 */
import { pinyin } from 'pinyin-pro';
import { foldDiacritics, foldText, normalizeCountry, normalizeGender } from '../../canonical';
import { birthDate } from '../birth-date';
import type { IdentifierKind } from '../../vocabulary';
import { hash16 } from '../evidence';
import { nameForm, splitHanName, type NameForm } from './names';
import { foldRomaji, japaneseBlockForms, japaneseInitials } from './japanese';
import { formalNames } from './nicknames';
import { koreanBlockForms } from './hangul';
import { editsAtMost } from './strings';
import { wadeGiles } from './wade-giles';
import { tongyong } from './tongyong';
import { cantoneseInitials } from './cantonese';
import { thaiInitials } from './thai';
import { romajiSyllables } from './romaji';
import { oneHanWriting } from './han-variants';

/** A value the record carries (or carried), with the period the source says it was held (days, `YYYY-MM-DD`). */
export interface HeldValue {
  kind: IdentifierKind;
  key: string;
  from: string | null;
  to: string | null;
}

export interface MatchFeatures {
  source: string;
  recordId: string;
  name: NameForm | null;
  /** `YYYY-MM-DD`, or `YYYY` when only the year is known. */
  birth: string | null;
  gender: 'M' | 'F' | null;
  city: string | null;
  province: string | null;
  country: string | null;
  /** Postcode, upper-case without spaces or dashes (`streetOf`, `postcodeOf`). */
  postcode: string | null;
  /** Street address folded for comparison: lower-case words, usual street words abbreviated (`12 george st`). */
  street: string | null;
  values: HeldValue[];
}

export interface RawTraits {
  name?: string | null;
  birthday?: string | null;
  gender?: string | null;
  city?: string | null;
  province?: string | null;
  country?: string | null;
  postcode?: string | null;
  address?: string | null;
}

/** Kinds whose values the tier compares whole (shared) and in part (email local part, a phone one digit off). */
export const COMPARED_KINDS: readonly IdentifierKind[] = ['PHONE', 'EMAIL', 'MEMBER_NO', 'UNIONID', 'RESIDENT_ID', 'PASSPORT'];

export function featuresOf(
  source: string,
  recordId: string,
  traits: RawTraits | undefined,
  values: HeldValue[],
  isIgnoredBirthday: (d: string) => boolean = () => false,
): MatchFeatures {
  return featuresWith(source, recordId, comparedTraits(traits), values, isIgnoredBirthday);
}

/** A record's traits as the tier compares them, before the rules' ignored birthdays are applied (`featuresWith` applies them). */
export type ComparedTraits = Pick<MatchFeatures, 'name' | 'birth' | 'gender' | 'city' | 'province' | 'country' | 'postcode' | 'street'>;

export function comparedTraits(traits: RawTraits | undefined): ComparedTraits {
  const t = traits ?? {};
  const g = normalizeGender(t.gender);
  return {
    name: nameForm(t.name),
    birth: birthOf(t.birthday, () => false),
    gender: g === 'MALE' ? 'M' : g === 'FEMALE' ? 'F' : null,
    city: placeOf(t.city),
    province: placeOf(t.province),
    country: normalizeCountry(t.country),
    postcode: postcodeOf(t.postcode),
    street: streetOf(t.address),
  };
}

/** The features of a record from its compared traits; a full date the rules ignore is no birthday (a year alone is never one of them). */
export function featuresWith(source: string, recordId: string, t: ComparedTraits, values: HeldValue[], isIgnoredBirthday: (d: string) => boolean): MatchFeatures {
  return {
    source,
    recordId,
    name: t.name,
    birth: t.birth && t.birth.length === 10 && isIgnoredBirthday(t.birth) ? null : t.birth,
    gender: t.gender,
    city: t.city,
    province: t.province,
    country: t.country,
    postcode: t.postcode ?? null,
    street: t.street ?? null,
    values: values.filter((v) => COMPARED_KINDS.includes(v.kind)),
  };
}

/** A full date, or a year alone (`1990`, `1990-00-00`); form defaults are none. */
export function birthOf(raw: string | null | undefined, isIgnored: (d: string) => boolean): string | null {
  const d = birthDate(raw ?? undefined);
  if (d) return isIgnored(d) ? null : d;
  const y = /^(\d{4})(?:[-/]0{1,2}[-/]0{1,2})?$/.exec(foldText(raw));
  return y && +y[1] > 1900 && +y[1] < 2100 ? y[1] : null;
}

/** A postcode folded for comparison (`SW1A 1AA` = `sw1a1aa`, `100-0001` = `1000001`); null unless 3 to 10 letters and digits. */
export function postcodeOf(raw: string | null | undefined): string | null {
  const s = foldText(raw).toUpperCase().replace(/[\s-]/g, '');
  return /^[A-Z0-9]{3,10}$/.test(s) ? s : null;
}

/**
 * A folded street address's house number: its first number, wherever it stands (after the road in
 * `建国路88号`), but not a flat's, a floor's or a block's, which British, American and Hong Kong
 * addresses write first (`Flat 3, 27 North Road`, `Apt 4B, 350 Fifth Ave`, `Flat A, 12/F, Block 2,
 * 88 Nathan Road`: 27, 350, 88), and the one after `No.` where Taiwan's English form writes the
 * floor first (`5F., No. 100, Sec. 4, Zhongxiao E. Rd.`: 100); in a Chinese address, the one before
 * 号 where there is one. Null without one.
 */
export function houseNumber(street: string): string | null {
  // A Chinese address's house number is the one 号 follows, where one does: a section, lane or
  // alley comes before it in Taiwan (`忠孝东路4段271巷19弄29号`) and Shanghai (`100弄5号`).
  const numbered = HAN_CHAR.test(street) ? HAN_HOUSE_NUMBER.exec(street) : null;
  if (numbered) return numbered[1];
  const words = street.split(' ');
  let first: string | null = null;
  for (let i = 0; i < words.length; i++) {
    const n = /\d+/.exec(words[i])?.[0];
    if (!n) continue;
    first ??= n;
    if (words[i - 1] === 'no') return n;
    if (HAN_CHAR.test(street)) return first;
    if (UNIT_WORDS.has(words[i - 1]) || FLOOR.test(words[i]) || words[i + 1] === 'f' || words[i + 1] === 'fl' || words[i + 1] === 'floor') continue;
    return n;
  }
  return first;
}

/** Words a flat's, floor's or building's number follows in a folded Latin address (`streetOf` writes flat and unit as apt). */
const UNIT_WORDS = new Set(['apt', 'suite', 'ste', 'rm', 'room', 'floor', 'fl', 'level', 'lvl', 'block', 'blk', 'tower', 'twr', 'bldg', 'building', 'sec', 'section']);
const HAN_CHAR = /\p{Script=Han}/u;
const HAN_HOUSE_NUMBER = /(\d+) ?号/;

/**
 * A folded Latin street address's words in one order, a flat's, floor's and block's words written
 * one way (`Flat A, 12/F, Block 2, 88 Nathan Road` and `88 Nathan Road, Tower 2, Floor 12, Rm A`;
 * `Flat 3, 12 High Street` and `12 High Street, Flat 3`): one address whichever order a form or a
 * clerk put them in.
 */
export function addressWords(street: string): string {
  const words = street.split(' ');
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const next = words[i + 1];
    // `Tower 2 Floor 12`: the 2 is the tower's.
    if (/^\d+$/.test(w) && FLOOR_WORDS.has(next) && !UNIT_WORDS.has(words[i - 1])) {
      out.push(`${w}f`);
      i++;
    } else if (FLOOR_WORDS.has(w) && next && /^\d+$/.test(next)) {
      out.push(`${next}f`);
      i++;
    } else if (FLOOR.test(w) && FLOOR_WORDS.has(next)) {
      out.push(`${/\d+/.exec(w)![0]}f`);
      i++;
    } else if (/^\d+f$/.test(w)) out.push(w);
    else out.push(UNIT_AS[w] ?? w);
  }
  return out.sort().join(' ');
}

const FLOOR_WORDS = new Set(['f', 'fl', 'floor', 'level', 'lvl']);
const UNIT_AS: Readonly<Record<string, string>> = { rm: 'apt', room: 'apt', suite: 'apt', ste: 'apt', tower: 'block', twr: 'block', blk: 'block' };
/** A floor written as one word: `12f`, `3rd`, `12th` (before `floor`). */
const FLOOR = /^\d+(?:f|fl|st|nd|rd|th)$/;

/**
 * A Chinese address without the divisions it opens with (province, city, district, county, town),
 * which records write in full, in part or not at all: `北京市朝阳区建国路88号` and `朝阳区建国路88号` name
 * one house; divisions alone (`北京市朝阳区`) name none. City and province are compared on their
 * own. A division goes only while a name (two characters or more) follows: `阳光小区3栋` keeps its
 * compound, which `区` also ends, or every compound's building 3 would be one address. A division
 * written without its suffix (`北京朝阳建国路88号`) stays, and `sameStreet` reads the shorter address
 * at the end of the longer.
 */
function withoutDivisions(s: string): string {
  for (let m = CN_DIVISION.exec(s); m; m = CN_DIVISION.exec(s)) {
    const rest = s.slice(m[0].length);
    // Divisions and nothing else: a district is no street address.
    if (!rest) return '';
    if (!HAN_NAME.test(rest)) break;
    s = rest;
  }
  return s;
}

/** A Chinese address in one writing: its characters (`oneHanWriting`), a section's number in digits, a floor's `f` as 楼. */
function hanAddressWritten(s: string): string {
  if (!HAN_CHAR.test(s)) return s;
  return oneHanWriting(s)
    .replace(HAN_SECTION, (_, n: string) => `${hanNumber(n)}段`)
    .replace(HAN_FLOOR_F, '$1楼');
}

/** A road's section in Chinese numerals (`四段`, `十二段`). */
const HAN_SECTION = /([一二三四五六七八九十]{1,3})段/g;
/** A floor written `5f` (folded from `5F`, `5F.`) after a house number's 号 or among Han characters. */
const HAN_FLOOR_F = /(?<=[\p{Script=Han}\s])(\d+) ?f\b\.?/gu;
const NUMERALS = '一二三四五六七八九';

/** 1–99 written in Chinese numerals (`四` 4, `十二` 12, `二十` 20). */
function hanNumber(n: string): number {
  const ten = n.indexOf('十');
  if (ten < 0) return NUMERALS.indexOf(n) + 1;
  const tens = ten === 0 ? 1 : NUMERALS.indexOf(n[0]) + 1;
  const units = ten === n.length - 1 ? 0 : NUMERALS.indexOf(n[ten + 1]) + 1;
  return tens * 10 + units;
}

const CN_DIVISION = /^\p{Script=Han}{2,}?(?:特别行政区|自治区|自治州|省|市|地区|盟|区|县|旗|镇|乡|街道)/u;
const HAN_NAME = /^\p{Script=Han}{2}/u;

/** Usual street words and their abbreviations, written one way. */
const STREET_WORDS: Readonly<Record<string, string>> = {
  street: 'st',
  str: 'st',
  road: 'rd',
  avenue: 'ave',
  av: 'ave',
  drive: 'dr',
  place: 'pl',
  court: 'ct',
  crescent: 'cres',
  circuit: 'cct',
  close: 'cl',
  lane: 'ln',
  boulevard: 'blvd',
  parade: 'pde',
  terrace: 'tce',
  highway: 'hwy',
  square: 'sq',
  grove: 'gr',
  way: 'wy',
  apartment: 'apt',
  flat: 'apt',
  unit: 'apt',
  north: 'n',
  south: 's',
  east: 'e',
  west: 'w',
};

/**
 * A street address folded for comparison: lower-case letters and digits as words, street words
 * abbreviated one way, the divisions a Chinese address opens with left out; null under 3 characters.
 * A Chinese address is read in one writing of its characters (`oneHanWriting`: 臺北市大安區 and
 * 台北市大安区 are one), its section in digits (`四段` 4段, as Taiwan writes it both ways) and a floor
 * written `5F` as `5楼` (Taiwan's forms take either).
 */
export function streetOf(raw: string | null | undefined): string | null {
  const words = withoutDivisions(hanAddressWritten(foldDiacritics(foldText(raw).toLowerCase())))
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => STREET_WORDS[w] ?? w);
  const s = words.join(' ').slice(0, 128);
  return s.replace(/ /g, '').length >= 3 ? s : null;
}

const PLACE_SUFFIX = /(特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|省|市|区|县|city|province)$/;

/**
 * A place name folded for comparison: `上海市` and `上海` agree, as do `Shanghai` and `shanghai city`,
 * and a Han name in one writing of its characters (`oneHanWriting`): `臺中市`, `台中市` and `台中`,
 * `荃灣` and `荃湾`, `臺東縣` and `台东县` (its suffix then left out too).
 */
export function placeOf(raw: string | null | undefined): string | null {
  const s = oneHanWriting(foldDiacritics(foldText(raw).toLowerCase()));
  const out = s.replace(PLACE_SUFFIX, '').trim();
  return out || null;
}

/**
 * Two folded place names (`placeOf`) name the same place, also across scripts: one system
 * writes 广州 and 广东, another (WeChat's English profile) Guangzhou and Guangdong. A Han name is
 * read as its toneless pinyin, or as the English name where that is not the pinyin.
 */
export function samePlace(x: string, y: string): boolean {
  if (x === y) return true;
  const hx = x.charCodeAt(0) >= 0x3400;
  if (hx === y.charCodeAt(0) >= 0x3400) return false;
  return latinPlaces(hx ? x : y).includes((hx ? y : x).replace(/[\s-]/g, ''));
}

/**
 * Two folded city names (`placeOf`) name one city: `samePlace`, or both in Latin letters and a
 * typo apart (one edit in five letters or more, two in nine or more: `lodon`, `sunderlnd`,
 * `lpveriool`), as forms typed by hand misspell them. Two cities that far apart also agree
 * (Kensington, Kennington): u, counted on the store's own pairs, says how often.
 */
export function sameCity(x: string, y: string): boolean {
  if (samePlace(x, y)) return true;
  if (x.charCodeAt(0) >= 0x3400 || y.charCodeAt(0) >= 0x3400) return false;
  const [a, b] = [x.replace(/[\s-]/g, ''), y.replace(/[\s-]/g, '')];
  const shorter = Math.min(a.length, b.length);
  if (shorter < 5 || !LATIN_WORD.test(a) || !LATIN_WORD.test(b)) return false;
  return editsAtMost(a, b, shorter >= 9 ? 2 : 1);
}

const LATIN_WORD = /^[a-z']+$/;

/** Places whose usual Latin name is not (only) their pinyin; 陕西 is Shaanxi so that it is not 山西's Shanxi. */
const PLACE_NAMES: Readonly<Record<string, readonly string[]>> = {
  香港: ['hongkong', 'xianggang'],
  澳门: ['macau', 'macao', 'aomen'],
  陕西: ['shaanxi'],
  内蒙古: ['innermongolia', 'neimenggu', 'neimongol'],
  西藏: ['tibet', 'xizang'],
  台湾: ['taiwan'],
};

/** Latin forms of Han place names read lately (a bounded few: places repeat). */
const latinForms = new Map<string, readonly string[]>();

function latinPlaces(han: string): readonly string[] {
  let forms = latinForms.get(han);
  if (!forms) {
    if (latinForms.size >= 5_000) latinForms.clear();
    forms = PLACE_NAMES[han] ?? [pinyin(han, { toneType: 'none', type: 'array', v: true }).join('').toLowerCase()];
    latinForms.set(han, forms);
  }
  return forms;
}

/**
 * Block keys: two records are compared only when they share one. Birthday (day and month in
 * either order) with a surname initial catches typos in names; the name in any writing
 * catches birthdays mistyped or missing; postcode and house number catch both at once; a
 * shared identifier or email local part catches refused and near links. Keys are hashed (after a one-letter family): the blocks table holds
 * no personal data.
 */
export function blockKeys(f: MatchFeatures): string[] {
  const keys = new Set<string>();
  // A Korean name also meets its Latin spellings: by the letters they start with, and as they write it.
  const korean = f.name?.script === 'o' ? koreanBlockForms(f.name.text) : null;
  const initials = korean ? [f.name!.text[0], ...korean.initials] : nameInitials(f.name);
  if (f.birth && f.birth.length === 10) {
    const [y, m, d] = f.birth.split('-');
    const md = m < d ? `${m}${d}` : `${d}${m}`;
    for (const i of initials.length ? initials : ['?']) keys.add(`b:${y}${md}${i}`);
  }
  if (f.name) for (const n of [...nameBlockForms(f.name), ...(korean?.names ?? [])]) keys.add(`n:${n}`);
  // Postcode and house number: survives a typo in the name and a birthday mistyped or missing.
  const number = f.street && houseNumber(f.street);
  if (f.postcode && number) keys.add(`a:${f.country ?? ''}${f.postcode} ${number}`);
  for (const v of f.values) {
    keys.add(`i:${v.kind}:${v.key}`);
    if (v.kind === 'EMAIL') {
      const local = v.key.split('@')[0];
      if (local.length >= 5 && !/^\d+$/.test(local)) keys.add(`e:${local}`);
    }
  }
  return [...keys].map(blockKey);
}

/** A block key as stored: its family (`b` birthday, `n` name, `a` address, `i` identifier, `e` email local part) and a hash of the rest. */
export const blockKey = (k: string): string => `${k[0]}${hash16(k).slice(0, 15)}`;

/** The family of a stored block key. */
export const blockFamily = (key: string): string => key[0];

/**
 * The letters a name's parts start with, for the birthday block. A Han name's are its surname's
 * and given name's in pinyin, and also as Taiwan (Wade-Giles) and Hong Kong (Cantonese) spell
 * them: 黃永基 is `WONG Wing Kei` (w, k) to pinyin's huang yongji (h, y), 張志明 `Chang Chih-ming`,
 * and in Tongyong pinyin (許欣怡 `Syu Sin-yi`, s and s to pinyin's x and x);
 * without them two records of one person written so never met in a block.
 */
function nameInitials(n: NameForm | null): string[] {
  if (!n) return [];
  // A Japanese name in kanji and kana also meets its romaji (`japanese.ts`): 佐藤桃子 as s and m.
  const japanese = n.script !== 'l' ? japaneseInitials(n.text) : [];
  if (n.script === 'o' && japanese.length) return [n.text[0], ...japanese];
  if (n.script === 'h') {
    const { surname, given } = splitHanName(n.text);
    const sn = surname.length;
    const initials = new Set([n.words.slice(0, sn).join('')[0] ?? '?', n.words.slice(sn).join('')[0] ?? '?', ...japanese]);
    // A Chinese given name is one or two characters; a longer one, or one written with 々, is Japanese, which neither spelling reads.
    if (given.length > 2 || n.text.includes('々')) return [...initials];
    for (const syllable of [n.words[0], n.words[sn]]) if (syllable) initials.add(wadeGiles(syllable)[0]).add(tongyong(syllable)[0]);
    for (const ch of [surname[0], given[0]]) if (ch) for (const i of cantoneseInitials(ch)) initials.add(i);
    return [...initials];
  }
  // A Thai name also meets its Latin spellings (`thai.ts`): by the letters they may start with.
  if (n.script === 'o' && n.words.length > 1) return [...new Set([...n.words.map((w) => w[0]), ...thaiInitials(n.words)])];
  return [...new Set(n.words.map((w) => w[0]))];
}

/** The name as words in sorted order: one form for `张伟`, `Zhang Wei` and `wei zhang`. */
function nameBlockForms(n: NameForm): string[] {
  if (n.script === 'o') return [n.text, ...japaneseBlockForms(n.text)];
  const sorted = [...n.words].sort().join(' ');
  if (n.script === 'h' && n.words.length > 1) {
    const sn = splitHanName(n.text).surname.length;
    return [...new Set([sorted, [n.words.slice(0, sn).join(''), n.words.slice(sn).join('')].sort().join(' '), ...japaneseBlockForms(n.text)])];
  }
  // `Müller` meets `Mueller` in a block too, and `Joe Watkins` meets `Joseph Watkins`: a
  // nickname's formal names stand in for it (another birthday and no postcode met in no block).
  const forms = [sorted, ...(n.spelt ? [[...n.spelt].sort().join(' ')] : [])];
  // A Japanese name in any romanization meets the others and its kanji (`sameRomajiName`): `ohno shota`,
  // `ono shota`, a reading in kana `satou tarou` (romaji all, which pinyin may also read).
  if (n.words.every((w) => romajiSyllables(w))) forms.push(n.words.map(foldRomaji).sort().join(' '));
  n.words.forEach((w, i) => {
    for (const formal of formalNames(w).slice(1))
      forms.push(
        n.words
          .map((x, j) => (j === i ? formal : x))
          .sort()
          .join(' '),
      );
  });
  return [...new Set(forms)];
}
