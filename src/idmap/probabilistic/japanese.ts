/**
 * Japanese names in kanji (and kana) read in romaji, so that 佐藤桃子 meets `Sato Momoko` and
 * 井上くみ子 `Kumiko Inoue`. Read as Chinese, such a name says nothing of its romaji (佐藤 is zuo
 * teng in pinyin), so until 2026-12-05 the two were not compared at all (`romaji.ts`).
 *
 * A name reads as a surname of `japanese-readings.ts` followed by a given name read character by
 * character (or whole, where it is read other than by its characters), kana as they are spelt.
 * Both sides are compared in one spelling: Hepburn, as passports write it, and Kunrei-shiki (ISO
 * 3602), as some forms do, fold to one (`shi`/`si`, `tsu`/`tu`, `fu`/`hu`, `ji`/`zi`), and a long
 * vowel to a short one however it is written (`Satou`, `Satoh`, `Sato`; `Yuuta`, `Yuta`), since
 * passports leave it out (`ITO` for いとう).
 */
import type { NameLevel } from './names';
import { oneEditApart } from './strings';
import { isRomajiName, romajiSyllables } from './romaji';
import { surnamesSpelt } from './surname-spellings';
import { GIVEN_CHAR_READINGS, GIVEN_NAME_READINGS, SURNAME_READINGS } from './japanese-readings';

function table(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.trim().split('\n')) {
    const words = line.trim().split(/\s+/);
    const readings = words.filter((w) => /^[a-z]+$/.test(w));
    for (const w of words) if (!/^[a-z]+$/.test(w)) out.set(w, [...new Set([...(out.get(w) ?? []), ...readings])]);
  }
  return out;
}

const SURNAMES = table(SURNAME_READINGS);
const GIVEN_CHARS = table(GIVEN_CHAR_READINGS);
const GIVEN_NAMES = table(GIVEN_NAME_READINGS);
/** The first characters of the surnames: most names begin with none, and are read no further. */
const SURNAME_STARTS = new Set([...SURNAMES.keys()].map((k) => k[0]));
const LONGEST_SURNAME = Math.max(...[...SURNAMES.keys()].map((k) => k.length));
const LONGEST_GIVEN_NAME = Math.max(...[...GIVEN_NAMES.keys()].map((k) => k.length));

/** Hiragana in Hepburn (katakana are read as the hiragana 0x60 below them); small ゃゅょ join the kana before. */
const KANA: Readonly<Record<string, string>> = Object.fromEntries(
  (
    'あa いi うu えe おo かka きki くku けke こko がga ぎgi ぐgu げge ごgo さsa しshi すsu せse そso ざza じji ずzu ぜze ぞzo ' +
    'たta ちchi つtsu てte とto だda ぢji づzu でde どdo なna にni ぬnu ねne のno はha ひhi ふfu へhe ほho ばba びbi ぶbu べbe ぼbo ' +
    'ぱpa ぴpi ぷpu ぺpe ぽpo まma みmi むmu めme もmo やya ゆyu よyo らra りri るru れre ろro わwa ゐi ゑe をo んn ぁa ぃi ぅu ぇe ぉo'
  )
    .split(' ')
    .map((p) => [p[0], p.slice(1)]),
);
const SMALL_Y: Readonly<Record<string, string>> = { ゃ: 'a', ゅ: 'u', ょ: 'o' };

/** A run of kana in Hepburn, or null when it holds anything else (ー lengthens the vowel before, as a long vowel it is folded away). */
export function kanaToRomaji(kana: string): string | null {
  let out = '';
  let double = false;
  for (const raw of kana) {
    const code = raw.codePointAt(0)!;
    const c = code >= 0x30a1 && code <= 0x30f6 ? String.fromCodePoint(code - 0x60) : raw;
    if (c === 'ー') continue;
    if (c === 'っ') {
      double = true;
      continue;
    }
    let r: string;
    if (c in SMALL_Y) {
      // きゃ kya, しゃ sha, ちゃ cha, じゃ ja: the i of the kana before gives way.
      if (!out.endsWith('i')) return null;
      const stem = out.slice(0, -1);
      out = /(sh|ch|j)$/.test(stem) ? stem + SMALL_Y[c] : stem + 'y' + SMALL_Y[c];
      continue;
    }
    r = KANA[c];
    if (r === undefined) return null;
    if (double) r = (r.startsWith('ch') ? 't' : r[0]) + r;
    double = false;
    out += r;
  }
  return out || null;
}

/**
 * A romaji word in the one spelling both sides are compared in: Kunrei-shiki's consonants, long
 * vowels short (`ou`, `oo`, `oh` before a consonant, `uu`, `aa`), `m` before b, m or p as `n`
 * (`Homma`, `Honma`).
 */
export function foldRomaji(word: string): string {
  return word
    .replace(/tch/g, 'tt')
    .replace(/sh([aeiou])/g, (_, v: string) => (v === 'i' ? 'si' : `sy${v}`))
    .replace(/ch([aeiou])/g, (_, v: string) => (v === 'i' ? 'ti' : `ty${v}`))
    .replace(/j([aeiou])/g, (_, v: string) => (v === 'i' ? 'zi' : `zy${v}`))
    .replace(/tsu/g, 'tu')
    .replace(/fu/g, 'hu')
    .replace(/oh(?![aeiouy])/g, 'o')
    .replace(/o[ou]/g, 'o')
    .replace(/uu/g, 'u')
    .replace(/aa/g, 'a')
    .replace(/m(?=[bmp])/g, 'n');
}

/** Every reading of the surname table, folded (`foldRomaji`): where a name in kana run together is split. */
const SURNAME_READINGS_FOLDED: ReadonlySet<string> = new Set([...SURNAMES.values()].flat().map(foldRomaji));

/**
 * A name written wholly in kana (a form's フリガナ or ふりがな, or a system that keeps only the
 * reading, half-width katakana folded to full by NFKC before) as its romaji words, in written
 * order: サトウ タロウ is `satou tarou`. Run together (サトウタロウ, as a legacy system or a bank
 * transfer's name field holds it), it is split after the longest beginning that reads as a surname
 * here, so that it meets the name's kanji and romaji as two words; left one word when none does.
 * Null when a word is not all kana.
 */
export function kanaNameWords(words: readonly string[]): string[] | null {
  const romaji = words.map(kanaToRomaji);
  if (!romaji.length || romaji.some((w) => w === null)) return null;
  const out = romaji as string[];
  if (out.length > 1) return out;
  const [w] = out;
  for (let n = w.length - 2; n >= 2; n--) if (SURNAME_READINGS_FOLDED.has(foldRomaji(w.slice(0, n))) && romajiSyllables(w.slice(n))) return [w.slice(0, n), w.slice(n)];
  return out;
}

/**
 * Two Japanese names in Latin letters that are one name in two romanizations: the passport's
 * Hepburn (`Ono Shota`), its `oh` for a long o (`Ohno`), macrons (`Ōno Shōta`, folded before),
 * the kana spelt out (`Oono Shouta`), `m` or `n` before b, m, p (`Homma`, `Honma`), in either
 * order, an apostrophe after a syllabic n or not (`Shun'ichi`, `Shunichi`). Both all romaji and
 * one a Japanese name (`isRomajiName`; `Satou Tarou` alone also reads as pinyin); the other spelling
 * no Chinese surname's, and no word shorter than three letters folded: `Hou Min` (侯) and `Ho Min`
 * (何, in Cantonese), `Chou Mei` (周) and `Cho Mei`, are two names.
 */
export function sameRomajiName(a: readonly string[], b: readonly string[]): boolean {
  const [ra, rb] = [isRomajiName(a), isRomajiName(b)];
  if (!(ra || rb) || ![...a, ...b].every((w) => romajiSyllables(w) && foldRomaji(w).length >= 3)) return false;
  if (!(ra && rb) && (ra ? b : a).some((w) => surnamesSpelt(w).length)) return false;
  const key = (w: readonly string[]) => w.map(foldRomaji).sort().join(' ');
  const [more, fewer] = a.length >= b.length ? [a, b] : [b, a];
  if (more.length === fewer.length) return key(a) === key(b);
  if (more.length !== fewer.length + 1) return false;
  // `shun ichi sato` (the apostrophe splits a word) against `shunichi sato`.
  return more.slice(1).some((_, i) => key([...more.slice(0, i), more[i] + more[i + 1], ...more.slice(i + 2)]) === key(fewer));
}

/** Voiced forms of a syllable's consonant in a compound (rendaku: 田 ta in 山田 yamada, 子 ko in 美加子 but ga in 長谷川). */
function voiced(r: string): string | null {
  const m = /^(sh|ch|ts|k|s|t|h|f)/.exec(r);
  if (!m) return null;
  const v = { sh: 'j', ch: 'j', ts: 'z', k: 'g', s: 'z', t: 'd', h: 'b', f: 'b' }[m[1]]!;
  return v + r.slice(m[1].length);
}

/**
 * The readings of two parts of a compound in turn: as written; the second voiced (rendaku); the
 * first's last syllable (`tsu`, `chi`, `ku`, `ki`) doubling the second's consonant (一 ichi + 平
 * hei: ippei; 哲 tetsu + 平: teppei); h as p after a doubled consonant or n (信 shin + 平: shinpei).
 */
function joined(a: string, b: string): string[] {
  const out = [a + b];
  const v = voiced(b);
  if (v) out.push(a + v);
  const half = /^[hf]/.test(b) ? 'p' + b.slice(1) : b;
  if (a.endsWith('n') && half !== b) out.push(a + half);
  const stem = /(tsu|chi|ku|ki)$/.exec(a);
  if (stem && /^(ch|sh|ts|[kstphf])/.test(b)) {
    const start = a.slice(0, -stem[1].length);
    out.push(start + (half.startsWith('ch') ? 't' : half[0]) + half);
  }
  return out;
}

/** Readings kept per given name: a name of three characters with many readings each would give hundreds. */
const MAX_GIVEN = 160;

/** The readings of a given name in kanji, kana or both (in Hepburn), or an empty list where a character has none here. */
function givenReadings(given: string): string[] {
  const chars = [...given];
  const memo = new Map<number, string[]>();
  const from = (i: number): string[] => {
    if (i === chars.length) return [''];
    const known = memo.get(i);
    if (known) return known;
    const heads: string[] = [];
    for (let n = Math.min(LONGEST_GIVEN_NAME, chars.length - i); n >= 2; n--)
      heads.push(...(GIVEN_NAMES.get(chars.slice(i, i + n).join('')) ?? []).map((r) => `${r}|${i + n}`));
    // A run of kana reads as spelt.
    let k = i;
    while (k < chars.length && /[\u3041-\u3096\u30a1-\u30fc]/.test(chars[k])) k++;
    if (k > i) {
      const r = kanaToRomaji(chars.slice(i, k).join(''));
      if (r) heads.push(`${r}|${k}`);
    } else if (chars[i] === '々' && i > 0) {
      for (const r of GIVEN_CHARS.get(chars[i - 1]) ?? []) heads.push(`${r}|${i + 1}`);
    } else for (const r of GIVEN_CHARS.get(chars[i]) ?? []) heads.push(`${r}|${i + 1}`);
    const out = new Set<string>();
    for (const h of heads) {
      const [r, next] = h.split('|');
      for (const rest of from(Number(next))) {
        for (const w of rest ? joined(r, rest) : [r]) out.add(w);
        if (out.size >= MAX_GIVEN) break;
      }
      if (out.size >= MAX_GIVEN) break;
    }
    const list = [...out];
    memo.set(i, list);
    return list;
  };
  return from(0);
}

export interface JapaneseReading {
  /** The surname's readings in Hepburn. */
  surnames: readonly string[];
  /** The given name's readings in Hepburn. */
  given: readonly string[];
  /** Both folded (`foldRomaji`), as compared. */
  folded: { surnames: ReadonlySet<string>; given: ReadonlySet<string> };
}

const readingsOf = new Map<string, readonly JapaneseReading[]>();

/**
 * The ways a name in kanji and kana reads as a Japanese surname and given name; empty when it begins with no surname of the table or its given name has a
 * character read nowhere here. Kept per name (bounded).
 */
export function japaneseReadings(text: string): readonly JapaneseReading[] {
  if (!SURNAME_STARTS.has(text[0])) return [];
  let known = readingsOf.get(text);
  if (known) return known;
  if (readingsOf.size >= 20_000) readingsOf.clear();
  const out: JapaneseReading[] = [];
  for (let n = Math.min(LONGEST_SURNAME, text.length - 1); n >= 1; n--) {
    const surnames = SURNAMES.get(text.slice(0, n));
    if (!surnames) continue;
    const given = givenReadings(text.slice(n));
    if (given.length) out.push({ surnames, given, folded: { surnames: new Set(surnames.map(foldRomaji)), given: new Set(given.map(foldRomaji)) } });
  }
  readingsOf.set(text, (known = out));
  return known;
}

/**
 * How Latin words compare with a Japanese name in kanji: `alias` when one word is a reading of its
 * surname and the others, together in written order, a reading of its given name (`Sato Momoko`,
 * `Momoko Sato` for 佐藤桃子); `close` when that given name is one letter off; `different` when the
 * surname is read but the given name, in romaji, is none of the readings of its characters (佐々木浩,
 * `Taichi Sasaki`: twins at one address had nothing else to tell them apart); null when no word
 * is the surname's reading (not read, as before: another writing, an English name).
 */
export function compareJapaneseLatin(text: string, latinWords: readonly string[]): NameLevel | null {
  if (latinWords.length < 2) return null;
  const readings = japaneseReadings(text);
  if (!readings.length) return null;
  const folded = latinWords.map(foldRomaji);
  let level: NameLevel | null = null;
  for (const r of readings) {
    for (let at = 0; at < folded.length; at++) {
      if (!r.folded.surnames.has(folded[at])) continue;
      const rest = latinWords.filter((_, i) => i !== at);
      const given = [rest.map(foldRomaji).join(''), foldRomaji(rest.join(''))];
      if (given.some((g) => r.folded.given.has(g))) return 'alias';
      // Only romaji says another given name: `Kan Chi Ming` is Cantonese, which these tables do not read.
      if (!latinWords.every((w) => romajiSyllables(w) !== null)) continue;
      if (level !== 'close') level = given.some((g) => g.length >= 4 && [...r.folded.given].some((x) => oneEditApart(x, g))) ? 'close' : 'different';
    }
  }
  return level;
}

/** Whether Latin words spell the Japanese name in kanji (`compareJapaneseLatin` says alias). */
export const spellsJapaneseName = (text: string, latinWords: readonly string[]): boolean => compareJapaneseLatin(text, latinWords) === 'alias';

/** The letters a Japanese name's romaji may start with (surname and given name), for the birthday block. */
export function japaneseInitials(text: string): string[] {
  const out = new Set<string>();
  for (const r of japaneseReadings(text)) for (const w of [...r.surnames, ...r.given]) out.add(w[0]);
  return [...out];
}

/** Block forms of a Japanese name: its surname and given name in romaji (folded), sorted, a bounded few. */
export function japaneseBlockForms(text: string, limit = 12): string[] {
  const out = new Set<string>();
  for (const r of japaneseReadings(text))
    for (const g of r.given)
      for (const s of r.surnames) {
        if (out.size >= limit) return [...out];
        out.add([s, g].sort().join(' '));
        // As the romaji of another convention meets it (`sameRomajiName`): `ohno shota`, `oono shouta`.
        out.add([foldRomaji(s), foldRomaji(g)].sort().join(' '));
      }
  return [...out];
}
