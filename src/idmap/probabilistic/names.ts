/**
 * Names as evidence for the probabilistic tier. A name is kept in a comparable form: Han names
 * as their characters plus toneless pinyin (surname reading for the first character: `曾` is
 * zeng, `单` shan), Latin names as lower-case ASCII words. Comparison answers a level, best
 * first: the same name; the same name in another writing (pinyin for characters, a homophone,
 * a nickname); a close spelling (Jaro-Winkler, one character typed wrong); a similar one (an
 * initial for the given name, or one part of the name only); a different one.
 */
import { pinyin } from 'pinyin-pro';
import { foldDiacritics, foldText } from '../../canonical';
import { diffCount, jaroWinkler, oneEditApart } from './strings';
import { compareHangul, compareHangulLatin } from './hangul';
import { EAST_ASIAN_SURNAMES } from './east-asian-surnames';
import { isEnglishGivenName, sameGivenName } from './nicknames';
import { isPinyin, pinyinReadings, readingsAgainstHan } from './pinyin';
import { isRomajiName, romajiSyllables } from './romaji';
import { compareJapaneseLatin, kanaNameWords, sameRomajiName } from './japanese';
import { surnamesSpelt } from './surname-spellings';
import { wadeGiles } from './wade-giles';
import { tongyong } from './tongyong';
import { cantoneseSpelt } from './cantonese';
import { fatherInitial, withoutPatronymicLink, withoutSlashLinks } from './patronymic';
import { compareThaiLatin, isThai, thaiSpellingsAgree, THAI_TITLES } from './thai';
import { middleNameAsInitial } from './middle-names';

/** Forms of address and stand-ins that name nobody in particular. */
const NOT_A_NAME = /^(先生|女士|小姐|客户|用户|会员|顾客|匿名|微信用户|unknown|anonymous|customer|user|guest|test|null|none|na|n\/a)$/;
const HONORIFIC = /(先生|女士|小姐|太太|老师|同学|总|经理)$/;

/** A lower-case folded name that is a form of address or a stand-in, not a person's name. */
export const isNotAName = (s: string): boolean => NOT_A_NAME.test(s) || HONORIFIC.test(s);

export interface NameForm {
  /** `h` Han, `l` Latin, `o` other scripts. */
  script: 'h' | 'l' | 'o';
  /** Han characters, or Latin words joined by one space, lower-case, without diacritics. */
  text: string;
  /** Pinyin syllables (Han), the words (Latin; Thai, which writes a space between given name and surname), in written order. */
  words: string[];
  /** A Latin name written with umlauts or ß: its words as German spells them without (`Müller` mueller, `Weiß` weiss). */
  spelt?: string[];
}

/** Compound surnames read as one surname when splitting a Han name. */
const COMPOUND_SURNAMES = new Set([
  '欧阳',
  '司马',
  '诸葛',
  '上官',
  '东方',
  '皇甫',
  '令狐',
  '慕容',
  '尉迟',
  '公孙',
  '长孙',
  '夏侯',
  '轩辕',
  '宇文',
  '司徒',
  '澹台',
  '端木',
  '申屠',
  '南宫',
  '西门',
]);

/** Forms already computed (read-only): staging asks for each record's name twice, and names repeat. Bounded. */
const forms = new Map<string, NameForm | null>();

/** The comparable form of a raw name, or null when it names nobody in particular. */
export function nameForm(raw: string | null | undefined): NameForm | null {
  if (raw == null || raw === '') return null;
  const known = forms.get(raw);
  if (known !== undefined) return known;
  if (forms.size >= 50_000) forms.clear();
  const form = computeNameForm(raw);
  forms.set(raw, form);
  return form;
}

function computeNameForm(raw: string): NameForm | null {
  const s = foldText(raw).toLowerCase();
  if (!s || isNotAName(s)) return null;
  // A pinyin ü keeps its letter before diacritics go: `Lü` is `lv`, not `lu` (吕, not 卢).
  const t = withoutSlashLinks(s.replace(PINYIN_U, '$1v$2').replace(MA_FOR_MARIA, 'maria'));
  const words = wordsOf(t);
  const joined = words.join('');
  if (!joined) return null;
  // A name in kana alone is its reading: compared in romaji, with other romaji and with its kanji.
  const reading = KANA_NAME.test(joined) ? kanaNameWords(words) : null;
  if (reading) return reading.join('').length < 3 ? null : { script: 'l', text: reading.join(' '), words: reading };
  if (/^\p{Script=Han}+$/u.test(joined)) {
    if (joined.length < 2) return null;
    return { script: 'h', text: joined, words: pinyin(joined, { toneType: 'none', type: 'array', surname: 'head', v: true }).map((x) => x.toLowerCase()) };
  }
  if (/^[a-z]+$/.test(joined)) {
    const named = oneNameTwice(withoutTitles(withoutPatronymicLink(words)));
    if (named.join('').length < 3) return null;
    const text = named.join(' ');
    const spelt = UMLAUT.test(t) ? withoutTitles(wordsOf(t.replace(UMLAUT_G, (c) => SPELT_OUT[c]))) : null;
    return spelt && spelt.join(' ') !== text ? { script: 'l', text, words: named, spelt } : { script: 'l', text, words: named };
  }
  // A Thai name keeps its words (given name, surname) to be read against Latin spellings; `text` stays joined, as other scripts'.
  if (isThai(words.join(' ')) && words.length > 1) {
    const named = THAI_TITLES.has(words[0]) ? words.slice(1) : words;
    return { script: 'o', text: named.join(''), words: named };
  }
  return { script: 'o', text: joined, words: [joined] };
}

/** A name in hiragana or katakana only (ー the long-vowel mark). */
const KANA_NAME = /^[\u3041-\u3096\u30a1-\u30fa\u30fc]+$/;

/** Lower-case text as name words: diacritics dropped, split at spaces, punctuation, symbols and digits. */
function wordsOf(lower: string): string[] {
  return foldDiacritics(lower)
    .split(/[\s\p{P}\p{S}\d]+/u)
    .filter(Boolean)
    .map((w) => (w.length <= 4 && PASSPORT_U.test(w) ? w.replace(PASSPORT_U, '$1v$2') : w));
}

/**
 * A single name written twice (`Sukarno Sukarno`): many Indonesians have one name only, which a
 * form asking for a given name and a surname takes in both. Not where it may be a given name and
 * a surname that happen to be one word: a common English given name (`Benjamin Benjamin`), a
 * word that reads as pinyin (`Li Li` is 李丽), a surname's spelling or a word of three letters or
 * fewer (`Ho Ho`, 何浩 in Cantonese).
 */
function oneNameTwice(words: string[]): string[] {
  const [w, again] = words;
  return words.length === 2 && w === again && w.length >= 4 && !isPinyin(w) && !surnamesSpelt(w).length && !isEnglishGivenName(w) ? [w] : words;
}

/**
 * `Ma.` before another name is María, as Filipino names write it (`Ma. Theresa`, `Ma. Luisa Dela
 * Cruz`: the abbreviation Philippine civil registry and school forms use for the Marian first name
 * most Filipino women carry). Only with its full stop and a name after it: `Ma` alone is the
 * Chinese surname 马, and `Ma, Wai-chi` writes it first with a comma.
 */
const MA_FOR_MARIA = /(?<!\p{L})ma\.(?=\s*\p{L})/gu;

/** German umlauts and ß as German writes them without (also a passport's machine-readable line: MUELLER). */
const SPELT_OUT: Readonly<Record<string, string>> = { ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss' };
const UMLAUT = /[äöüß]/;
const UMLAUT_G = /[äöüß]/g;

/**
 * The syllables lü, nü, lüe and nüe as a word of their own, written with ü (NFKC composes a
 * combining diaeresis): written `lv`, as keyboards and the pinyin of Han names (`v: true`) do.
 */
const PINYIN_U = /(?<!\p{L})([ln])ü(e?)(?!\p{L})/gu;
/** The same syllables as Chinese passports spell them since 2012 (`LYU`, `NYU`): also `lv`, `nv`. */
const PASSPORT_U = /^([ln])yu(e?)$/;

/** Forms of address before a Latin name and generational or degree suffixes after it: not part of whose name it is. */
const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'madam', 'mme', 'mlle', 'herr', 'frau', 'sr', 'sra', 'srta', 'khun']);
const SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'phd', 'md', 'esq']);

function withoutTitles(words: string[]): string[] {
  let from = 0;
  let to = words.length;
  while (to - from > 1 && TITLES.has(words[from])) from++;
  while (to - from > 1 && SUFFIXES.has(words[to - 1])) to--;
  return from === 0 && to === words.length ? words : words.slice(from, to);
}

/**
 * A pinyin syllable with ü written the ways people write it: `lv` (keyboards), `lü`/`lu`
 * (diacritics dropped), `lyu` (passports since 2012), all as `lu` (and `lüe` as `lue`).
 * Only in spellings across scripts: two Han names keep 吕 (lv) and 卢 (lu) apart.
 */
const U_SPELLINGS = /^([ln])(?:v|yu)(e?)$/;
const foldsU = (w: string) => w.length <= 4 && (w[0] === 'l' || w[0] === 'n') && U_SPELLINGS.test(w);
export const foldU = (w: string) => (foldsU(w) ? w.replace(U_SPELLINGS, '$1u$2') : w);

/** Rebuilds the form from what the store keeps (`text`, and pinyin for Han names, German spelt out for a Latin one, a Thai name's words). */
export function nameFormOf(text: string | null, alt: string | null): NameForm | null {
  if (!text) return null;
  if (/^\p{Script=Han}+$/u.test(text)) return { script: 'h', text, words: (alt ?? '').split(' ').filter(Boolean) };
  if (/^[a-z ]+$/.test(text)) return alt ? { script: 'l', text, words: text.split(' '), spelt: alt.split(' ') } : { script: 'l', text, words: text.split(' ') };
  return { script: 'o', text, words: alt ? alt.split(' ') : [text] };
}

/** The surname and given name of a Han name (compound surnames kept whole). */
export function splitHanName(text: string): { surname: string; given: string } {
  const n = COMPOUND_SURNAMES.has(text.slice(0, 2)) && text.length > 2 ? 2 : 1;
  return { surname: text.slice(0, n), given: text.slice(n) };
}

export const NAME_LEVELS = ['exact', 'alias', 'close', 'similar', 'different'] as const;
export type NameLevel = (typeof NAME_LEVELS)[number];

/** How alike two names are; null when either is missing or they cannot be compared (unlike or unread scripts; a Japanese name in romaji against kanji). */
export function compareNames(a: NameForm | null, b: NameForm | null): NameLevel | null {
  if (!a || !b) return null;
  if (a.script === 'o' || b.script === 'o') {
    if (a.text === b.text) return 'exact';
    if (a.script === b.script) return compareHangul(a.text, b.text);
    const [other, latin] = a.script === 'o' ? [a, b] : [b, a];
    if (latin.script !== 'l') return null;
    // A Japanese name in kanji and kana (井上くみ子) against its romaji.
    const japanese = compareJapaneseLatin(other.text, latin.words);
    if (japanese) return japanese;
    return other.words.length > 1 && isThai(other.words.join(' ')) ? compareThaiLatin(other.words, latin.words) : compareHangulLatin(other.text, latin.words);
  }
  if (a.text === b.text) return 'exact';
  if (a.script === 'l' && b.script === 'l' && latinForms(a)[0] === latinForms(b)[0]) return 'exact';
  if (a.script === 'h' && b.script === 'h') return compareHan(a, b);
  // Latin against Latin, or a Han name against its romanization.
  const ys = spellings(b);
  if (spellings(a).some((x) => ys.includes(x))) return 'alias';
  // A Japanese name in kanji against its romaji (佐藤桃子, `Sato Momoko`), which pinyin does not read.
  const japanese = a.script === b.script ? null : a.script === 'h' ? compareJapaneseLatin(a.text, b.words) : compareJapaneseLatin(b.text, a.words);
  if (japanese) return japanese;
  const spelt = surnameSpeltOutside(a, b) ?? surnameSpeltOutside(b, a);
  if (spelt === 'alias') return 'alias';
  if (givenNameAdded(a, b) || givenNameAdded(b, a)) return 'alias';
  if (wadeGilesSpelt(a, b) || wadeGilesSpelt(b, a)) return 'alias';
  if (cantoneseNameSpelt(a, b) || cantoneseNameSpelt(b, a)) return 'alias';
  if (a.script === 'l' && b.script === 'l') {
    if (nicknameMatch(a.words, b.words)) return 'alias';
    // One Japanese name in two romanizations (`Ohno Shota`, `Oono Shouta`; a reading in kana as its romaji).
    if (sameRomajiName(a.words, b.words)) return 'alias';
    if (pinyinInWadeGiles(a, b) || pinyinInWadeGiles(b, a)) return 'alias';
    // One Chinese surname in two romanizations, the rest the same (`Grace Yang`, `Grace Yeung`).
    if (surnameRomanizedApart(a.words, b.words)) return 'close';
    // One Thai name in two Latin spellings, in either order (`Pongsak Boonmee`, `Bunmi Pongsak`).
    if (thaiSpellingsAgree(a.words, b.words)) return 'close';
    // A middle initial written on one side only (`Sarah J Thompson`).
    const x = fullWords(a.words);
    const y = fullWords(b.words);
    if (x.length >= 2 && (x.length < a.words.length || y.length < b.words.length) && sorted(x) === sorted(y) && initialsCompatible(a.words, b.words)) return 'alias';
    // A middle name written in full and as its initial (`Jennifer Bautista Pascual`, `Pascual, Jennifer B.`).
    if (middleNameAsInitial(a.words, b.words)) return 'alias';
    // A middle name or a second surname one system keeps and another drops (`John Andrew Smith`, `Ana Garcia Lopez`).
    if (wordsLeftOut(a.words, b.words) || wordsLeftOut(b.words, a.words)) return 'alias';
    // `Siti`, `Nur` or `Nurul` before a Malay given name, one system keeping it (`Siti Amira Aziz`, `Amira Aziz`).
    if (malayPrefixLeftOut(a.words, b.words) || malayPrefixLeftOut(b.words, a.words)) return 'alias';
    // A Tamil father's name in full and as an initial (`Arun Suresh`, `S. Arun`): as close as one letter typed wrong, not a bare initial.
    if (fatherInitial(a.words, b.words)) return 'close';
  }
  const jw = bestJaroWinkler(a, b);
  // Names one word apart are close only when that word is: a string distance over the whole name
  // would call `Han Min` and `Han Minxiu` close for the surname they share. Two Latin names apart
  // in both words may be misspelt twice (`Sarah Tompson`, `Sahra Thompson`); the pinyin of
  // characters is not misspelt, so a Han name is close only to a romanization one word apart.
  const apart = oneWordApart(a, b);
  if (apart ? closeWords(apart[0], apart[1]) : a.script === 'l' && b.script === 'l' && jw >= 0.93) return 'close';
  // So too for similar when the word they share is the surname: it lifts any two names over 0.86
  // (`Riley Morrison`, `Max Morrison`; `Zhao Jun`, 赵晨), and one surname with two given names
  // is a family, as 赵晨 and 赵俊 are. The same given name under another surname is not (a name
  // taken at marriage, a surname misspelt twice), nor a shared first word whose role is unknown.
  if (apart && sharedSurname(a, b, apart) ? alikeWords(apart[0].text, apart[1].text) : jw >= 0.86 && (apart != null || !givenNamesApart(a, b))) return 'similar';
  // An initial for the given name (`J Smith`, `John Smith`): weak, but not a different name.
  if (a.script === 'l' && b.script === 'l' && initialsAgree(a.words, b.words)) return 'similar';
  // One part of the name only (`Neville`, `Samuel Neville`: a given name or surname left out): as weak, not a different name.
  if (a.script === 'l' && b.script === 'l' && (partOf(a.words, b.words) || partOf(b.words, a.words))) return 'similar';
  // The surname as Hong Kong, Singapore or Taiwan spell it with a given name read in no way known here (`陈大文`, `Chan Ka Ming`; Hokkien `Lim Ah Huat`): as weak, not a different name.
  if (spelt) return 'similar';
  // A Japanese name in romaji against kanji `japanese.ts` could not read, so read here as Chinese (田中欅 as tian zhongju, not Tanaka Keyaki): nothing to compare.
  if (a.script !== b.script && (isRomajiName((a.script === 'l' ? a : b).words) || japaneseInBoth(a.script === 'h' ? a : b, a.script === 'l' ? a : b))) return null;
  return 'different';
}

/**
 * Two names of one family, not one person's: `different` (as `compareNames` says), yet under one
 * surname (`Graciela Canton`, `Tania Canton`; 余涛, 余彬). Twins at one address agree on all else.
 * An English given name against a Chinese one under a Chinese surname (`David Wang`, `Wang Wei`)
 * may be one person's two names, as the rules read it too (`compareNameKeys`).
 */
export function familyNames(a: NameForm | null, b: NameForm | null): boolean {
  if (!a || !b || compareNames(a, b) !== 'different') return false;
  const apart = oneWordApart(a, b);
  if (!apart) return givenNamesApart(a, b);
  if (!sharedSurname(a, b, apart)) return false;
  const chinese = (p: NamePart) => Boolean(p.syllables) || isPinyin(p.text);
  const surname = namePartsOf(a).find((p) => p !== apart[0]);
  return !(surname && EAST_ASIAN_SURNAMES.has(surname.text) && chinese(apart[0]) !== chinese(apart[1]));
}

/**
 * Whether a lower-case Latin word may be the surname of this name: one of a Latin name's words
 * (its role is not known), or a Han name's surname in pinyin, in Wade-Giles, in a Cantonese
 * spelling or in a spelling of `surname-spellings.ts` (`Leung`, `Liang` and `Lee`, `Li` for 梁 and 李).
 */
export function spellsSurnameOf(name: NameForm, word: string): boolean {
  if (name.script === 'l') return name.words.includes(word);
  if (name.script !== 'h') return false;
  const [surname] = namePartsOf(name);
  if (!surname?.syllables) return false;
  return (
    word === surname.text ||
    surname.syllables.map(wadeGiles).join('') === word ||
    surnamesSpelt(word).includes(surname.text) ||
    cantoneseSpelt(splitHanName(name.text).surname, [word])
  );
}

/**
 * A Han name of four characters or more without a Chinese compound surname (山口春香, 佐藤英樹: a
 * Japanese surname and given name of two characters each; Chinese names are two or three) against
 * a Latin one whose every word is romaji: the reading of its kanji is unknown here, even where
 * the romaji also reads as pinyin (`Yamaguchi Haruka`), so there is nothing to compare.
 */
function japaneseInBoth(han: NameForm, latin: NameForm): boolean {
  return (
    han.script === 'h' && latin.script === 'l' && han.text.length >= 4 && splitHanName(han.text).surname.length === 1 && latin.words.every((w) => romajiSyllables(w) !== null)
  );
}

/**
 * How a Latin name holding the Han name's surname spelt outside pinyin (`surname-spellings.ts`)
 * compares with it: `alias` when the rest is the given name in pinyin (`Lim Wei Ming`, 林伟明),
 * else `similar`; null without such a surname.
 */
function surnameSpeltOutside(han: NameForm, latin: NameForm): 'alias' | 'similar' | null {
  if (han.script !== 'h' || latin.script !== 'l') return null;
  const [surname, given] = namePartsOf(han);
  const at = surname ? latin.words.findIndex((w) => surnamesSpelt(w).includes(surname.text)) : -1;
  if (at < 0) return null;
  const rest = latin.words.filter((_, i) => i !== at).map(foldU);
  return given && (rest.join('') === given.text || [...rest].reverse().join('') === given.text) ? 'alias' : 'similar';
}

/**
 * A Latin name spelling the Han name as Taiwan does: in Wade-Giles (`wade-giles.ts`), with `yi`
 * where Wade-Giles writes `i`, as Taiwanese passports do (怡 `Yi`), or in Tongyong pinyin
 * (`tongyong.ts`): the surname (so spelt, its pinyin, or a spelling of `surname-spellings.ts`)
 * and the rest the given name's characters, each in one of its readings so spelt, in either order
 * (`Chang Wei-ming`, `Chih-hao Lin`, `HSU Ya-hao`, `Chuang Yi-hui`, `Jhang Wei-ting`, `Syu
 * Ya-jyun`, `Kuo Po-wei` for 張偉明, 林志豪, 許雅浩, 莊宜慧, 張偉婷, 許雅君, 郭柏偉). Until
 * 2026-12-05 such a name was `similar` at best: its given name was read as pinyin (`chih` is
 * none); until 2026-12-06 a `Yi`, a Tongyong spelling and a character's other reading (柏 bo, not
 * only bai) were not read either.
 */
function wadeGilesSpelt(han: NameForm, latin: NameForm): boolean {
  if (han.script !== 'h' || latin.script !== 'l') return false;
  const [surname, given] = namePartsOf(han);
  if (!surname?.syllables || !given?.syllables) return false;
  const chars = [...splitHanName(han.text).given];
  const surnames = [surname.text, surname.syllables.map(wadeGiles).join(''), surname.syllables.map(tongyong).join('')];
  return latin.words.some((w, at) => {
    if (!surnames.includes(w) && !surnamesSpelt(w).includes(surname.text)) return false;
    const rest = latin.words.filter((_, i) => i !== at);
    return speltInTaiwan(chars, rest.join('')) || speltInTaiwan(chars, [...rest].reverse().join(''));
  });
}

/** The characters, one after another, each in one of its Taiwanese spellings (`taiwanSpellings`), make up `text`. */
function speltInTaiwan(chars: readonly string[], text: string): boolean {
  const from = (i: number, at: number): boolean =>
    i === chars.length ? at === text.length : taiwanSpellings(chars[i]).some((s) => text.startsWith(s, at) && from(i + 1, at + s.length));
  return chars.length > 0 && from(0, 0);
}

/** A character's readings as Taiwan spells them: in Wade-Giles (and `yi` for its `i`) and in Tongyong pinyin. Kept per character, bounded. */
function taiwanSpellings(ch: string): readonly string[] {
  let known = taiwanSpelt.get(ch);
  if (!known) {
    if (taiwanSpelt.size >= 20_000) taiwanSpelt.clear();
    const readings = (pinyin(ch, { multiple: true, type: 'array', toneType: 'none', v: true }) as string[]).map((r) => foldU(r.toLowerCase()));
    const wg = readings.map(wadeGiles);
    known = [...new Set([...wg, ...(wg.includes('i') ? ['yi'] : []), ...readings.map(tongyong)])];
    taiwanSpelt.set(ch, known);
  }
  return known;
}

const taiwanSpelt = new Map<string, readonly string[]>();

/**
 * A Latin name spelling the Han name as Hong Kong does, in Cantonese (`cantonese.ts`): a word for
 * the surname (its Cantonese spelling, a spelling of `surname-spellings.ts` or its pinyin) and the
 * rest the given name's characters read in Cantonese, in written order (`Chan Tai Man`, `Tai-man
 * Chan`, `WONG Wing Kei` for 陳大文, 黃永基). Until 2026-12-05 such a name was `similar` at best:
 * only its surname was read.
 */
function cantoneseNameSpelt(han: NameForm, latin: NameForm): boolean {
  if (han.script !== 'h' || latin.script !== 'l' || latin.words.length < 2) return false;
  const { surname, given } = splitHanName(han.text);
  const [sn] = namePartsOf(han);
  if (!given || !sn) return false;
  return latin.words.some((w, at) => {
    const rest = latin.words.filter((_, i) => i !== at);
    if (!cantoneseSpelt(given, rest)) return false;
    // The surname in its pinyin, or in a Cantonese spelling that is its pinyin too (马 ma), with given
    // syllables that all read as pinyin is as likely a mainland name of other characters (张燕 `Zhang
    // Yan` is not 张欣, jan in Cantonese): only a word pinyin cannot read says Cantonese.
    if (w === sn.text) return rest.some((x) => !isPinyin(x));
    return surnamesSpelt(w).includes(sn.text) || cantoneseSpelt(surname, [w]);
  });
}

/**
 * Two Latin names of one Chinese name, one in pinyin and one in Wade-Giles as Taiwan writes it
 * (`Xu Liyong`, `Hsu Li-yung`; `Zeng Xinjin`, `Tseng Hsin-chin`): every word of the first reads as
 * pinyin and, each syllable spelt in Wade-Giles, the words give the other's letters, in written
 * order or with the surname moved to the other end. Syllables written apart or together are one.
 */
function pinyinInWadeGiles(py: NameForm, wg: NameForm): boolean {
  // Wade-Giles spells many syllables as pinyin spells others (`Chang Wei` is 张伟 in one and 常伟 in
  // the other): the second name must hold a word pinyin cannot read (`hsu`, `chih`, `tseng`).
  if (py.words.length < 2 || py.words.length > 3 || wg.words.length < 2 || wg.words.every(isPinyin)) return false;
  const spelt: string[][] = [];
  for (const w of py.words) {
    const readings = pinyinReadings(w);
    if (!readings) return false;
    spelt.push([...new Set(readings.map((r) => r.map(wadeGiles).join('')))]);
  }
  if (spelt.every((ws, i) => ws.length === 1 && ws[0] === py.words[i])) return false;
  const target = wg.words.join('');
  const joins = (parts: string[][]): boolean => {
    const from = (i: number, at: number): boolean =>
      i === parts.length ? at === target.length : parts[i].some((x) => target.startsWith(x, at) && from(i + 1, at + x.length));
    return from(0, 0);
  };
  return joins(spelt) || joins([...spelt.slice(1), spelt[0]]) || joins([spelt[spelt.length - 1], ...spelt.slice(0, -1)]);
}

/** A romanized part of a name: a Latin word, or a Han name's surname or given name in pinyin (with its syllables). */
interface NamePart {
  text: string;
  syllables?: readonly string[];
}

/** The parts of a name as compared across scripts: a Han name's surname and given name, a Latin name's words (ü folded). Kept per name. */
function namePartsOf(f: NameForm): readonly NamePart[] {
  let known = partsOf.get(f);
  if (!known) partsOf.set(f, (known = namePartsAnew(f)));
  return known;
}

const partsOf = new WeakMap<NameForm, readonly NamePart[]>();

function namePartsAnew(f: NameForm): NamePart[] {
  if (f.script !== 'h') return f.words.map((w) => ({ text: foldU(w) }));
  const sn = splitHanName(f.text).surname.length;
  const parts = [f.words.slice(0, sn), f.words.slice(sn)].filter((ws) => ws.length).map((ws) => ws.map(foldU));
  return parts.map((syllables) => ({ text: syllables.join(''), syllables }));
}

/** The one part each name has that the other lacks, all others the same; null when more or fewer differ. */
function oneWordApart(a: NameForm, b: NameForm): [NamePart, NamePart] | null {
  const xs = namePartsOf(a);
  const ys = [...namePartsOf(b)];
  if (xs.length < 2 || xs.length !== ys.length) return null;
  let left: NamePart | null = null;
  for (const x of xs) {
    const i = ys.findIndex((y) => y.text === x.text);
    if (i >= 0) ys.splice(i, 1);
    else if (left) return null;
    else left = x;
  }
  return left && ys.length === 1 ? [left, ys[0]] : null;
}

/**
 * Two words of a name one typing error apart. Words that both read as pinyin are compared as
 * characters are: one syllable of a given name of two or more differs (`jiahui`, `jiahua`), as
 * one character of 佳慧 and 佳华 does; two one-syllable names (`jia`, `jie`) are two names. Other
 * words (English names, misspellings that no longer read as pinyin) are close one edit apart or
 * at Jaro-Winkler ≥ 0.93.
 */
function closeWords(x: NamePart, y: NamePart): boolean {
  const read = x.syllables || y.syllables ? readingsAgainstHan : pinyinReadings;
  const rx = x.syllables ? [x.syllables] : read(x.text);
  const ry = y.syllables ? [y.syllables] : read(y.text);
  if (rx && ry) return rx.some((sx) => ry.some((sy) => sx.length >= 2 && sx.length === sy.length && sx.filter((s, i) => s !== sy[i]).length === 1));
  return oneEditApart(x.text, y.text) || jaroWinkler(x.text, y.text) >= 0.93;
}

/**
 * The part two names one word apart share is a surname: a Han name's, its given name being what
 * differs; both Latin names' last word (a given name first, as Western order writes it); or,
 * wherever it stands, a common Chinese, Vietnamese or Korean surname, which Latin letters often
 * write first (`Tran Linh`, `Tran Anh`).
 */
function sharedSurname(a: NameForm, b: NameForm, apart: [NamePart, NamePart]): boolean {
  if (a.script === 'h' || b.script === 'h') {
    const [han, differs] = a.script === 'h' ? [a, apart[0]] : [b, apart[1]];
    const parts = namePartsOf(han);
    return parts.length === 2 && parts[1] === differs;
  }
  const [xs, ys] = [namePartsOf(a), namePartsOf(b)];
  if (xs[xs.length - 1] !== apart[0] && xs[xs.length - 1].text === ys[ys.length - 1].text) return true;
  return xs.some((x) => x !== apart[0] && EAST_ASIAN_SURNAMES.has(x.text));
}

/**
 * Two Latin names of more words that share a surname of one or more words (`da Cunha`, the end
 * of one name and either end of the other: surname last or first) and have nothing else alike:
 * no word left of one is the other's in a nickname or spelling (`Emanuella da Cunha`, `Gael
 * Henrique da Cunha`). Two given names under one surname, as `sharedSurname` says for one word.
 * Names one word apart are left to that: their shared word, at opposite ends, may as well be a
 * given name written first in one and last in the other (`Kelsey Warrior`, `Waller Kelsey`).
 */
function givenNamesApart(a: NameForm, b: NameForm): boolean {
  if (a.script !== 'l' || b.script !== 'l') return false;
  const [x, y] = [a.words, b.words];
  for (let n = Math.min(x.length, y.length) - 1; n >= 1; n--) {
    for (const [xEnd, yEnd] of SURNAME_ENDS) {
      // Both first is Eastern order on both sides, told only by a common East Asian surname.
      if (!xEnd && !yEnd && !(n === 1 && EAST_ASIAN_SURNAMES.has(x[0]))) continue;
      const [sx, rx] = xEnd ? [x.slice(x.length - n), x.slice(0, x.length - n)] : [x.slice(0, n), x.slice(n)];
      const [sy, ry] = yEnd ? [y.slice(y.length - n), y.slice(0, y.length - n)] : [y.slice(0, n), y.slice(n)];
      if (sx.join(' ') !== sy.join(' ')) continue;
      return rx.every((w) => ry.every((v) => !alikeWords(w, v) && !sameGivenName(w, v) && !(w.length === 1 ? v[0] === w : v.length === 1 && w[0] === v)));
    }
  }
  return false;
}

/** Where each name's surname may stand: last in both, last in one and first in the other, or first in both. */
const SURNAME_ENDS: ReadonlyArray<readonly [boolean, boolean]> = [
  [true, true],
  [true, false],
  [false, true],
  [false, false],
];

/** Two words alike in letters (Jaro-Winkler ≥ 0.86) or in consonants (`Mohammed`, `Muhammad`). */
function alikeWords(x: string, y: string): boolean {
  return jaroWinkler(x, y) >= 0.86 || (consonants(x).length >= 3 && consonants(x) === consonants(y));
}

/** A word's consonants, doubled ones once: a transliteration's vowels vary more than its consonants. */
function consonants(w: string): string {
  return w.replace(/[aeiouy]/g, '').replace(/(.)\1+/g, '$1');
}

/** `one` is a single word of at least 3 letters, the same as a word of `other` (or, from 5 letters, one typo away: a letter left out, added, changed or two swapped). */
function partOf(one: readonly string[], other: readonly string[]): boolean {
  if (one.length !== 1 || other.length < 2) return false;
  const w = one[0];
  return w.length >= 3 && other.some((x) => x === w || (w.length >= 5 && oneEditApart(w, x)));
}

const fullWords = (ws: readonly string[]) => ws.filter((w) => w.length > 1);

/**
 * `short` is `long` with words left out after its first, in written order or reversed (`John
 * Smith` of `John Andrew Smith`, `Ana Garcia` of `Ana Garcia Lopez`, `An Nguyen` of `Nguyen Van
 * An`): two whole words at least, the first one kept, in full or by a short form of it (`Charo
 * Rivera` of `Rosario Manalo Rivera`, `Pepe Bautista` of `Jose Mendoza Bautista`: a Filipino
 * name's middle name, the mother's surname, is the word most often left out). Not syllables of
 * pinyin written apart (`Zhang Jia Hui`): `Zhang Hui` is another given name.
 */
function wordsLeftOut(long: readonly string[], short: readonly string[]): boolean {
  if (short.length < 2 || long.length <= short.length || short.some((w) => w.length < 2) || long.every(isPinyin)) return false;
  const within = (ws: readonly string[]) => {
    if (ws[0] !== long[0] && !sameGivenName(ws[0], long[0])) return false;
    let i = 1;
    for (let j = 1; j < long.length && i < ws.length; j++) if (long[j] === ws[i]) i++;
    return i === ws.length;
  };
  return within(short) || within([...short].reverse());
}

/**
 * The first words of many Malay and Indonesian given names: `Siti` (from Arabic sayyidati, for
 * women), `Nur`, `Nurul`, `Noor`, `Nor` (light, "light of"): `Siti Nurhaliza`, `Nurul Izzah`.
 * Everyday use and many forms drop it, and a record keeps the name by which its holder goes
 * (`Amira Aziz` for `Siti Amira Aziz`).
 */
const MALAY_NAME_PREFIXES = new Set(['siti', 'nur', 'nurul', 'noor', 'nor']);

/**
 * `long` is `short` with such a first word before it, the rest the same words in the same order
 * (`Nur Siti Simanjuntak`, `Siti Simanjuntak`): two words of `short` at least, as one given name
 * alone says too little.
 */
function malayPrefixLeftOut(long: readonly string[], short: readonly string[]): boolean {
  return long.length === short.length + 1 && short.length >= 2 && MALAY_NAME_PREFIXES.has(long[0]) && long.slice(1).every((w, i) => w === short[i]);
}

/**
 * `long` is `other` with a given name of its own before or after it: an English name written with
 * a romanized Chinese one, as Hong Kong, Taiwan and Singapore customers give theirs (`Kenneth Pang
 * Ka Ming` and `Pang Ka-ming`; `Chan Tai Man, Peter` and `Tai-man Chan`), or a first of three
 * given names one system drops. The rest must be the other name (exact or alias) and at
 * least three words, a surname and a given name written in syllables (`Pang Ka Ming`): of two
 * (`John Andrew Smith`, `Andrew Smith`) the rest may be a son's whole name. A word that reads as
 * pinyin is not taken for such a name (`Zhang Jia Hui`: the surname, not an added name).
 */
function givenNameAdded(long: NameForm, other: NameForm): boolean {
  const ws = long.words;
  // Against characters, a surname and a given name of one syllable are enough (`Yeung Yan Mary`,
  // 楊欣): the rest must then read as the whole Han name, which no son's or daughter's name does.
  if (long.script !== 'l' || ws.length < (other.script === 'h' ? 3 : 4) || long.spelt) return false;
  for (const at of [0, ws.length - 1]) {
    if (ws[at].length < 3 || isPinyin(ws[at])) continue;
    const rest = ws.filter((_, i) => i !== at);
    const level = compareNames({ script: 'l', text: rest.join(' '), words: rest }, other);
    if (level === 'exact' || level === 'alias') return true;
  }
  return false;
}

/**
 * Two Latin names of the same words but one, and that one a Chinese surname in two
 * romanizations: pinyin and Cantonese (`Yang`, `Yeung` for 杨), Wade-Giles (`Cai`, `Tsai`), Hokkien
 * (`Lin`, `Lim`), or two such spellings of one (`Cheung`, `Teo` for 张), as `surname-spellings.ts`
 * reads them; the other words the same (a nickname allowed), one of them whole. As close as one
 * letter typed wrong, not an alias: `Wong` is 黄 and 王, and a spelling says the surnames may be
 * one, not that they are. A spelling that is a Mandarin surname's pinyin too is that surname
 * (`Chang` 常, not 张's Wade-Giles), as the table reads it.
 */
function surnameRomanizedApart(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.length < 2 || a.length > 3) return false;
  const used = new Set<number>();
  let spelt = 0;
  let whole = 0;
  for (const w of a) {
    let j = b.findIndex((v, k) => !used.has(k) && v === w);
    if (j < 0) j = b.findIndex((v, k) => !used.has(k) && sameGivenName(w, v));
    if (j >= 0) {
      if (w.length > 1) whole++;
    } else {
      j = b.findIndex((v, k) => !used.has(k) && oneSurnameSpelt(w, v));
      if (j < 0 || ++spelt > 1) return false;
    }
    used.add(j);
  }
  return spelt === 1 && whole >= 1;
}

function oneSurnameSpelt(x: string, y: string): boolean {
  if (x === y) return false;
  const sx = surnamesSpelt(x);
  const sy = surnamesSpelt(y);
  return sx.includes(y) || sy.includes(x) || sx.some((s) => sy.includes(s));
}

/** Initials on both sides are the same ones (`John A Smith` and `John B Smith` may be father and son). */
function initialsCompatible(a: readonly string[], b: readonly string[]): boolean {
  const x = sorted(a.filter((w) => w.length === 1));
  const y = sorted(b.filter((w) => w.length === 1));
  return !x || !y || x === y;
}

/** Same number of words, at least one whole word in common, each other word an initial of its counterpart (in written order or reversed). */
function initialsAgree(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.length < 2) return false;
  const agree = (ys: readonly string[]) => {
    let whole = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = ys[i];
      if (x === y && x.length > 1) whole++;
      else if (!((x.length === 1 && y[0] === x) || (y.length === 1 && x[0] === y))) return false;
    }
    return whole > 0;
  };
  return agree(b) || agree([...b].reverse());
}

function compareHan(a: NameForm, b: NameForm): NameLevel {
  if (a.words.join('') === b.words.join('')) return 'alias';
  const x = splitHanName(a.text);
  const y = splitHanName(b.text);
  // One character of the given name typed wrong (a near homophone, a slip of the IME), surname kept.
  if (x.surname === y.surname && x.given.length === y.given.length && x.given.length >= 2 && diffCount(x.given, y.given) === 1) return 'close';
  // Surname typed wrong, given name kept: rarer in input, but the given name carries most of the identity.
  if (x.given === y.given && x.given.length >= 2 && a.words[0]?.[0] === b.words[0]?.[0]) return 'similar';
  // A character of the given name left out (何晨 for 何晨文, a hurried entry), surname kept: as weak as one part of a Latin name alone.
  if (x.surname === y.surname && x.given && y.given && x.given.length !== y.given.length && (x.given.startsWith(y.given) || y.given.startsWith(x.given))) return 'similar';
  const jw = jaroWinkler(a.words.join(' '), b.words.join(' '));
  return jw >= 0.95 && x.surname === y.surname ? 'similar' : 'different';
}

const sorted = (ws: readonly string[]) => [...ws].sort().join(' ');

/** Ways the name may be written in Latin letters: words in either order, spaced or not (kept per name: a record's name meets many others). */
function spellings(f: NameForm): string[] {
  let known = spellingsOf.get(f);
  if (!known) spellingsOf.set(f, (known = spellingsAnew(f)));
  return known;
}

const spellingsOf = new WeakMap<NameForm, string[]>();

/**
 * A key every two names `compareNames` calls `exact` share: the words in any order (a Han name's
 * pinyin, so its homophones and its romanization in the same order share it too), or the text of
 * a name in another script.
 */
export function nameGroupKey(f: NameForm): string {
  return f.script === 'l' ? latinForms(f)[0] : f.script === 'h' ? sorted(f.words) : f.text;
}

/** A Latin name's words sorted, then as written (kept per name, as `spellings`). */
function latinForms(f: NameForm): string[] {
  let known = latinFormsOf.get(f);
  if (!known) latinFormsOf.set(f, (known = [sorted(f.words), f.words.join(' ')]));
  return known;
}

const latinFormsOf = new WeakMap<NameForm, string[]>();

function spellingsAnew(f: NameForm): string[] {
  const ws = f.words.some(foldsU) ? f.words.map(foldU) : f.words;
  if (!ws.length) return [];
  const out = new Set([sorted(ws), ws.join(''), [...ws].reverse().join('')]);
  // `Müller` is also `Mueller`.
  if (f.spelt)
    out
      .add(sorted(f.spelt))
      .add(f.spelt.join(''))
      .add([...f.spelt].reverse().join(''));
  if (f.script === 'h' && ws.length > 1) {
    const [sn, given] = namePartsOf(f).map((p) => p.text);
    out.add(`${given} ${sn}`).add(`${sn} ${given}`).add(`${given}${sn}`).add(`${sn}${given}`);
    out.add(sorted([sn, given]));
  }
  return [...out];
}

/** Same number of words, each word of one side the same name as a distinct word of the other (nicknames allowed). */
function nicknameMatch(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.length > 4) return false;
  const used = new Set<number>();
  return a.every((w) => {
    const j = b.findIndex((v, k) => !used.has(k) && sameGivenName(w, v));
    if (j < 0) return false;
    used.add(j);
    return true;
  });
}

function bestJaroWinkler(a: NameForm, b: NameForm): number {
  const xs = a.script === 'l' ? latinForms(a) : spellings(a);
  const ys = b.script === 'l' ? latinForms(b) : spellings(b);
  let best = 0;
  for (const x of xs) for (const y of ys) best = Math.max(best, jaroWinkler(x, y));
  return best;
}
