/**
 * A Han name against a Latin one under its surname whose given name reads as another Chinese
 * given name: 謝倩惠 and `Ming Yu Hsieh`. `compareNames` calls such a pair `similar` (the surname
 * agrees, the given name is not this one's spelling), as it does `Tony Leung` against 梁秀明, one
 * person's English and Chinese names. The two are not alike: `Tony` is no reading of any
 * characters, while `Ming Yu` is one (pinyin, Wade-Giles and Cantonese spell given names from
 * closed sets of syllables) and not 倩惠's (`Qian Hui`, `Chien Hui`, `Sin Wai`). A given name read
 * and found another is a relative's, as a `different` name under one surname is (`familyNames`):
 * with a birthday and an address in common, the spouse or the twin at home.
 */
import { pinyin } from 'pinyin-pro';
import { foldU, spellsSurnameOf, splitHanName, type NameForm } from './names';
import { pinyinReadings, pinyinSyllables } from './pinyin';
import { wadeGiles } from './wade-giles';
import { cantoneseReadings, cantoneseSyllables, hkSpellings } from './cantonese';
import { isEnglishGivenName } from './nicknames';

/**
 * Whether `a` and `b` are a Han name and a Latin name holding its surname in a spelling the tier
 * reads, whose other words (English given names left out, at least one left) each read as one
 * syllable, or two run together, of pinyin, Wade-Giles or Hong Kong's Cantonese spelling, and
 * spell the Han given name's characters in no reading of theirs (every pinyin reading of a
 * character, 柏 bai and bo; its Wade-Giles, `yi` as Taiwan writes it for `i`; its Cantonese),
 * in either order. A Han given name with a character whose Cantonese reading is not known is
 * read only against words that are pinyin or Wade-Giles.
 */
export function givenNameReadApart(a: NameForm | null, b: NameForm | null): boolean {
  if (!a || !b) return false;
  const [han, latin] = a.script === 'h' ? [a, b] : [b, a];
  if (han.script !== 'h' || latin.script !== 'l') return false;
  const { given } = splitHanName(han.text);
  if (!given) return false;
  const surnames = latin.words.flatMap((w, i) => (spellsSurnameOf(han, w) ? [i] : []));
  // Each word that may spell the surname is tried as it (`Ying Hui Hsu` for 許瑩輝: hui is 許 in Cantonese too).
  return surnames.length > 0 && surnames.every((at) => readApart([...given], latin.words.filter((w, i) => i !== at && !isEnglishGivenName(w)).map(foldU)));
}

/** The words read as given-name syllables and spell the characters in none of their readings. */
function readApart(chars: readonly string[], rest: readonly string[]): boolean {
  if (!rest.length || !rest.every((w) => mandarin(w) || CANTONESE.has(w))) return false;
  if (chars.some((ch) => !cantoneseReadings(ch).length) && !rest.every(mandarin)) return false;
  return ![rest, [...rest].reverse()].some((ws) => spelt(chars, ws.join('')) || oneHoldsTheOther(chars, ws.join('')));
}

/**
 * A character left out on one side (王晓 / `Wang Xiaoxin`, 王晓欣 / `Wang Xiao`): the characters
 * spell the words' beginning or end, or some of them in a row spell the words. Such a given name is
 * one name written short (`compareNames`: similar), not another.
 */
function oneHoldsTheOther(chars: readonly string[], text: string): boolean {
  for (let i = 0; i < chars.length; i++) for (let j = i + 1; j <= chars.length; j++) if ((i > 0 || j < chars.length) && spelt(chars.slice(i, j), text)) return true;
  for (let at = 1; at < text.length; at++) if (spelt(chars, text.slice(at)) || spelt(chars, text.slice(0, at))) return true;
  return false;
}

/** One pinyin syllable or two run together (a given name's two characters, `Weiming`), or a Wade-Giles syllable. */
function mandarin(word: string): boolean {
  const readings = pinyinReadings(word);
  return (readings != null && readings[0].length <= 2) || WADE_GILES.has(word);
}

/** The characters, one after another, each in one of its spellings, make up `text`. */
function spelt(chars: readonly string[], text: string): boolean {
  const from = (i: number, at: number): boolean =>
    i === chars.length ? at === text.length : spellingsOf(chars[i]).some((s) => text.startsWith(s, at) && from(i + 1, at + s.length));
  return from(0, 0);
}

/** A character's spellings in every romanization read here. */
function spellingsOf(ch: string): readonly string[] {
  let known = byChar.get(ch);
  if (!known) {
    if (byChar.size >= 20_000) byChar.clear();
    const readings = (pinyin(ch, { multiple: true, type: 'array', toneType: 'none', v: true }) as string[]).map((r) => foldU(r.toLowerCase()));
    const wg = readings.map(wadeGiles);
    known = [...new Set([...readings, ...wg, ...wg.filter((s) => s === 'i').map(() => 'yi'), ...cantoneseReadings(ch).flatMap(hkSpellings)])];
    byChar.set(ch, known);
  }
  return known;
}

const byChar = new Map<string, readonly string[]>();
const WADE_GILES = new Set(pinyinSyllables().map(wadeGiles));
const CANTONESE = new Set(cantoneseSyllables().flatMap(hkSpellings));
