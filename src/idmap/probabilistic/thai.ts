/**
 * Thai names in Thai script against the same names in Latin letters (`พรทิพย์ บุญมี`, `Pornthip
 * Boonmee`, `Phonthip Bunmi`). A Thai word is read in the Royal Thai General System of
 * Transcription (RTGS, Royal Institute 1999/2000: the public standard road signs and government
 * documents use), syllable by syllable; the spellings people choose for their passports and
 * cards part from it in known ways (`Boonmee` for Bunmi, `Porn` for Phon, `Jaidee` for Chaidi,
 * `Phongphaew` for Phongphaeo, `Srisawat` for Sisawat, `Prasert` for Prasoet, `-kul` for -kun),
 * so both sides are compared folded where those spellings differ (`foldThaiLatin`).
 *
 * Thai writes no vowel for many syllables (`สมชาย` som-chai, `กนก` ka-nok) and reads some
 * consonants twice (`รัตนา` rat-ta-na) or not at all (`ศรี` si, `สมบัติ` som-bat): which is
 * which depends on the word, so a word has several readings and a Latin spelling matches when it
 * is one of them (`thaiReadings`). A reading is never a rule for one name.
 */
import type { NameLevel } from './names';
import { editsAtMost, jaroWinkler, oneEditApart } from './strings';

/** RTGS of each consonant as a syllable's initial and as its final (`''` where it cannot end one). */
const CONSONANTS: Readonly<Record<string, readonly [string, string]>> = {
  ก: ['k', 'k'],
  ข: ['kh', 'k'],
  ฃ: ['kh', 'k'],
  ค: ['kh', 'k'],
  ฅ: ['kh', 'k'],
  ฆ: ['kh', 'k'],
  ง: ['ng', 'ng'],
  จ: ['ch', 't'],
  ฉ: ['ch', ''],
  ช: ['ch', 't'],
  ซ: ['s', 't'],
  ฌ: ['ch', ''],
  ญ: ['y', 'n'],
  ฎ: ['d', 't'],
  ฏ: ['t', 't'],
  ฐ: ['th', 't'],
  ฑ: ['th', 't'],
  ฒ: ['th', 't'],
  ณ: ['n', 'n'],
  ด: ['d', 't'],
  ต: ['t', 't'],
  ถ: ['th', 't'],
  ท: ['th', 't'],
  ธ: ['th', 't'],
  น: ['n', 'n'],
  บ: ['b', 'p'],
  ป: ['p', 'p'],
  ผ: ['ph', ''],
  ฝ: ['f', ''],
  พ: ['ph', 'p'],
  ฟ: ['f', 'p'],
  ภ: ['ph', 'p'],
  ม: ['m', 'm'],
  ย: ['y', 'i'],
  ร: ['r', 'n'],
  ล: ['l', 'n'],
  ว: ['w', 'o'],
  ศ: ['s', 't'],
  ษ: ['s', 't'],
  ส: ['s', 't'],
  ห: ['h', ''],
  ฬ: ['l', 'n'],
  อ: ['', ''],
  ฮ: ['h', ''],
};

const isConsonant = (c: string | undefined): c is string => c !== undefined && c in CONSONANTS;
/** Vowels written before the consonant they follow in speech. */
const LEAD = new Set(['เ', 'แ', 'โ', 'ใ', 'ไ']);
/** Vowel signs written after or above or below their consonant (ํ is NFKC's half of ำ). */
const FOLLOWING = new Set(['ะ', 'ั', 'า', 'ํ', 'ิ', 'ี', 'ึ', 'ื', 'ุ', 'ู', '็']);
/** Consonants that form a true cluster with ร, ล or ว after them (`ประ` pra, `กล` kl, `ขวัญ` khwan). */
const CLUSTER_R = new Set(['ก', 'ข', 'ค', 'ต', 'ป', 'พ', 'ผ', 'บ', 'ด', 'ฟ']);
const CLUSTER_L = new Set(['ก', 'ข', 'ค', 'ป', 'พ', 'ผ', 'บ', 'ฟ']);
const CLUSTER_W = new Set(['ก', 'ข', 'ค']);
/** Consonants before which ร is silent in native words (`จริง` ching, `ศรี` si, `ทราย` sai: ทร reads s). */
const FALSE_CLUSTER_R = new Set(['จ', 'ซ', 'ศ', 'ส', 'ท']);
/** Consonants the leading ห makes high without being read (`หน่อย` noi, `หญิง` ying). */
const SONORANTS = new Set(['ง', 'ญ', 'น', 'ม', 'ย', 'ร', 'ล', 'ว']);

/** Readings kept per word: more would only add chance matches. */
const MAX_READINGS = 48;

/** A syllable read: its Latin letters and where the next one starts. */
type Syllable = readonly [string, number];

/**
 * The RTGS readings of one Thai word (tone marks, the repetition sign and a silenced consonant
 * `์` dropped): several where the script leaves vowels or a consonant's double reading to the
 * word. Empty when the word holds anything but Thai letters.
 */
export function thaiReadings(word: string): string[] {
  const s = [...silenced(word.replace(/[\u0e48-\u0e4b\u0e46\u0e2f]/g, ''))];
  if (!s.length || s.some((c) => !isConsonant(c) && !LEAD.has(c) && !FOLLOWING.has(c) && c !== 'ฤ')) return [];
  const memo = new Map<number, string[]>();
  const from = (i: number): string[] => {
    if (i === s.length) return [''];
    const known = memo.get(i);
    if (known) return known;
    const out = new Set<string>();
    for (const [latin, next] of syllablesAt(s, i)) {
      for (const rest of from(next)) {
        out.add(latin + rest);
        if (out.size >= MAX_READINGS) break;
      }
      if (out.size >= MAX_READINGS) break;
    }
    const list = [...out];
    memo.set(i, list);
    return list;
  };
  return from(0);
}

/** A word without the letters the silencing sign `์` mutes: the consonant under it, with its vowel (`ดิ์`) or the ร of ทร/ตร (`จันทร์` chan). */
function silenced(word: string): string {
  return word.replace(/(?:[ทต]ร|[\u0e01-\u0e2e])[ิุ]?\u0e4c/g, '');
}

/** Every way a syllable may be read from position `i`. */
function syllablesAt(s: string[], i: number): Syllable[] {
  if (s[i] === 'ฤ')
    return [
      ['rue', i + 1],
      ['ri', i + 1],
    ];
  const lead = LEAD.has(s[i]) ? s[i] : null;
  const at = lead ? i + 1 : i;
  if (!isConsonant(s[at])) return [];
  const out: Syllable[] = [];
  for (const [initial, j] of initialsAt(s, at, lead !== null)) {
    if (lead) out.push(...withLead(s, lead, initial, j));
    else out.push(...withoutLead(s, initial, j));
  }
  // ร after จ, ซ, ศ, ส with a vowel: silent in native words, read with the consonant's own a in
  // words of Sanskrit (`เจริญ` cha-roen): the consonant alone, and the vowel written round ร.
  if (lead && s[at + 1] === 'ร' && FALSE_CLUSTER_R.has(s[at]) && s[at] !== 'ท') {
    for (const [latin, j] of withLead(s, lead, 'r', at + 2)) out.push([CONSONANTS[s[at]][0] + 'a' + latin, j]);
  }
  return out;
}

/** A syllable's initial: one consonant, a cluster, a silent leading ห or a silent ร after some consonants. */
function initialsAt(s: string[], i: number, lead: boolean): Array<[string, number]> {
  const c = s[i];
  const next = s[i + 1];
  const vowelAfter = (k: number) => FOLLOWING.has(s[k]) || (s[k] === 'อ' && !FOLLOWING.has(s[k + 1]) && isConsonant(s[k]));
  const out: Array<[string, number]> = [[CONSONANTS[c][0], i + 1]];
  if (!isConsonant(next)) return out;
  const joined = lead || vowelAfter(i + 2);
  if (!joined) return out;
  if (c === 'ห' && SONORANTS.has(next)) return [[CONSONANTS[next][0], i + 2]];
  if (next === 'ร' && c === 'ท') return [['s', i + 2], ...out];
  if (next === 'ร' && FALSE_CLUSTER_R.has(c)) return [[CONSONANTS[c][0], i + 2], ...out];
  if ((next === 'ร' && CLUSTER_R.has(c)) || (next === 'ล' && CLUSTER_L.has(c)) || (next === 'ว' && CLUSTER_W.has(c))) {
    return [[CONSONANTS[c][0] + CONSONANTS[next][0], i + 2], ...out];
  }
  return out;
}

/** A final consonant at `i` (not one that begins the next syllable with its own vowel), and a word-final `-ติ` read as a final (`สมบัติ` som-bat). */
function finalsAt(s: string[], i: number): Array<[string, number]> {
  const c = s[i];
  if (!isConsonant(c) || FOLLOWING.has(s[i + 1]) || (s[i + 1] === 'ร' && s[i + 2] === 'ร')) {
    if (isConsonant(c) && s[i + 1] === 'ิ' && i + 2 === s.length && CONSONANTS[c][1]) return [[CONSONANTS[c][1], i + 2]];
    return [];
  }
  if (s[i + 1] === 'อ' && !FOLLOWING.has(s[i + 2]) && isConsonant(s[i + 2])) return [];
  const fin = CONSONANTS[c][1];
  return fin || c === 'อ' ? [[fin, i + 1]] : [];
}

/** A closed syllable, also read with its final again as the next syllable's initial with a (`รัตนา` rat-ta-na, `วัฒนา` wat-tha-na) where more follows. */
function closed(s: string[], head: string, i: number, short: boolean): Syllable[] {
  const out: Syllable[] = [];
  for (const [fin, j] of finalsAt(s, i)) {
    out.push([head + fin, j]);
    if (short && j < s.length && isConsonant(s[j]) && /^[ktp]$/.test(fin)) out.push([head + fin + CONSONANTS[s[i]][0] + 'a', j]);
  }
  return out;
}

function withoutLead(s: string[], init: string, i: number): Syllable[] {
  const v = s[i];
  if (v === 'ั') {
    if (s[i + 1] === 'ว') return [...closed(s, init + 'ua', i + 2, false), [init + 'ua', i + 2]];
    if (s[i + 1] === 'ย' && !FOLLOWING.has(s[i + 2])) return [[init + 'ai', i + 2]];
    return closed(s, init + 'a', i + 1, true);
  }
  if (v === 'ะ') return [[init + 'a', i + 1]];
  if (v === 'ํ' && s[i + 1] === 'า') return [[init + 'am', i + 2]];
  if (v === 'า') return [...closed(s, init + 'a', i + 1, false), [init + 'a', i + 1]];
  if (v === 'ิ' || v === 'ี' || v === 'ุ' || v === 'ู' || v === 'ึ' || v === 'ื') {
    const vowel = v === 'ิ' || v === 'ี' ? 'i' : v === 'ุ' || v === 'ู' ? 'u' : 'ue';
    const j = v === 'ื' && s[i + 1] === 'อ' ? i + 2 : i + 1;
    return [...closed(s, init + vowel, j, v === 'ิ' || v === 'ุ' || v === 'ึ'), [init + vowel, j]];
  }
  if (v === '็') return closed(s, init + 'o', i + 1, true);
  // อ as the vowel o (`ทอง` thong), unless a vowel sign makes it the next syllable's initial.
  if (v === 'อ' && !FOLLOWING.has(s[i + 1])) return [...closed(s, init + 'o', i + 1, false), [init + 'o', i + 1]];
  // รร is a with a final (`สรรพ` sap), or an with none (`วรรณ` wan: ณ is its final).
  if (v === 'ร' && s[i + 1] === 'ร') return [...closed(s, init + 'a', i + 2, true), [init + 'an', i + 2]];
  const out: Syllable[] = [];
  // ว between two consonants is the vowel ua (`สวน` suan).
  if (v === 'ว' && isConsonant(s[i + 1]) && !FOLLOWING.has(s[i + 2]) && s[i + 1] !== 'ร') out.push(...closed(s, init + 'ua', i + 1, false));
  // No vowel written: o between two consonants (`สม` som, `พร` phon), or a before the next syllable (`ก-นก` ka-nok).
  out.push(...closed(s, init + 'o', i, false));
  if (isConsonant(s[i]) || LEAD.has(s[i]) || s[i] === 'ฤ') out.push([init + 'a', i]);
  return out;
}

function withLead(s: string[], lead: string, init: string, i: number): Syllable[] {
  const v = s[i];
  if (lead === 'ใ' || lead === 'ไ') return s[i] === 'ย' ? [[init + 'ai', i + 1]] : [[init + 'ai', i]];
  if (lead === 'โ') return v === 'ะ' ? [[init + 'o', i + 1]] : [...closed(s, init + 'o', i, false), [init + 'o', i]];
  if (lead === 'แ') {
    if (v === 'ะ') return [[init + 'ae', i + 1]];
    if (v === '็') return closed(s, init + 'ae', i + 1, true);
    return [...closed(s, init + 'ae', i, false), [init + 'ae', i]];
  }
  // เ
  if (v === 'า') return s[i + 1] === 'ะ' ? [[init + 'o', i + 2]] : [[init + 'ao', i + 1]];
  if (v === 'ี' && s[i + 1] === 'ย') return [...closed(s, init + 'ia', i + 2, false), [init + 'ia', i + 2]];
  if (v === 'ื' && s[i + 1] === 'อ') return [...closed(s, init + 'uea', i + 2, false), [init + 'uea', i + 2]];
  if (v === 'ิ') return closed(s, init + 'oe', i + 1, false);
  if (v === 'อ') return [[init + 'oe', i + 1]];
  if (v === 'ะ') return [[init + 'e', i + 1]];
  if (v === '็') return closed(s, init + 'e', i + 1, true);
  if (v === 'ย') return [[init + 'oei', i + 1]];
  return [...closed(s, init + 'e', i, false), [init + 'e', i]];
}

/**
 * A Latin spelling of a Thai word folded where RTGS and the spellings in use part: aspirates
 * written or not (ph, th, kh), ch and j (`Jaidee`), oo/ee for u/i (`Boonmee`), oe/er (`Prasert`),
 * ue/eu, a final r or l as RTGS's n (`Porn`, `-kul`), a final w as o (`Phongphaew`), a final
 * d, b, g, ch as t, p, k, t (`Srisawad`, `Nongnuch`), sr as s (`Sri`), y after a vowel as i, and
 * doubled letters once (`Rattana`, `Ratana`).
 */
export function foldThaiLatin(word: string): string {
  return word
    .toLowerCase()
    .replace(/[^a-z]/g, '')
    .replace(/ph/g, 'p')
    .replace(/th/g, 't')
    .replace(/kh/g, 'k')
    .replace(/ch|j/g, 'c')
    .replace(/sh/g, 's')
    .replace(/sr/g, 's')
    .replace(/oo|ou/g, 'u')
    .replace(/ee/g, 'i')
    .replace(/ue|eu/g, 'u')
    .replace(/oe|er(?![aeiou])/g, 'e')
    .replace(/r(?![aeiouy])/g, 'n')
    .replace(/l$/, 'n')
    .replace(/w(?![aeiou])/g, 'o')
    .replace(/([aeiou])y(?![aeiou])/g, '$1i')
    .replace(/d(?![aeiou])/g, 't')
    .replace(/b(?![aeiou])/g, 'p')
    .replace(/(?<!n)g(?![aeiou])/g, 'k')
    .replace(/c(?![aeiou])/g, 't')
    .replace(/(.)\1+/g, '$1');
}

/** Whether the text is written in Thai script (letters and vowel and tone signs only, spaces between words). */
export const isThai = (text: string): boolean => /^[\u0e01-\u0e4e]+(?: [\u0e01-\u0e4e]+)*$/.test(text);

/** Forms of address written before a Thai name (Mr, Mrs, Miss, the polite khun): not part of it. */
export const THAI_TITLES = new Set(['นาย', 'นาง', 'นางสาว', 'คุณ']);

/** The folded readings of each word of a Thai name (kept per name: a record's name meets many others). */
const readingsOf = new Map<string, readonly (readonly string[])[]>();

function foldedReadings(words: readonly string[]): readonly (readonly string[])[] {
  const key = words.join(' ');
  let known = readingsOf.get(key);
  if (!known) {
    if (readingsOf.size >= 20_000) readingsOf.clear();
    known = words.map((w) => [...new Set(thaiReadings(w).map(foldThaiLatin))]);
    readingsOf.set(key, known);
  }
  return known;
}

/**
 * How a Thai name (its words, given name first) compares with a Latin one: `alias` when every Thai
 * word is spelt by a word of the Latin name, in either order, with at most one word more (a
 * nickname written with the name: `Somchai "Chai" Srisawat`); `close` when one of them is one
 * letter off (folded) and the rest spelt; `different` otherwise (another given name under the
 * surname, the same given name under another: as two Latin names compare); null when a word has
 * no reading here.
 */
export function compareThaiLatin(thaiWords: readonly string[], latinWords: readonly string[]): NameLevel | null {
  const readings = foldedReadings(thaiWords);
  if (readings.some((r) => !r.length)) return null;
  const latin = latinWords.map(foldThaiLatin);
  if (latin.length < thaiWords.length || latin.length > thaiWords.length + 1) return 'different';
  const used = new Set<number>();
  let off: number | null = null;
  readings.forEach((rs, t) => {
    const j = latin.findIndex((w, k) => !used.has(k) && rs.includes(w));
    if (j >= 0) used.add(j);
    else off = t;
  });
  if (used.size === thaiWords.length) return 'alias';
  if (used.size !== thaiWords.length - 1 || off === null) return 'different';
  const rs = readings[off];
  const close = latin.some((w, k) => !used.has(k) && w.length >= 4 && rs.some((r) => oneEditApart(r, w) || jaroWinkler(r, w) >= 0.93));
  return close ? 'close' : 'different';
}

/** The letters a Thai name's Latin spellings may start with, for the birthday block (`จ` is Ch or J, `ศ` S). */
export function thaiInitials(words: readonly string[]): string[] {
  const out = new Set<string>();
  for (const w of words) {
    for (const r of thaiReadings(w)) {
      if (!r) continue;
      out.add(r[0] === 'c' ? 'c' : r[0]);
      if (r.startsWith('ch')) out.add('j');
    }
  }
  return [...out];
}

/**
 * Two Latin names that are one Thai name in two spellings: the same words, in any order (a
 * surname first or last), each pair equal once folded where the spellings in use part from RTGS
 * (`foldThaiLatin`: `Pongsak Boonmee` and `Bunmi Pongsak`, `Natthaphong Kongkaew` and `Nattapong
 * Khongkaeo`), one pair at least two letters apart (names one letter apart a word are the
 * typo's to weigh, and `Jurgen Muller` is `Jürgen Müller` with the umlauts dropped, not a Thai
 * spelling of `Juergen Mueller`). Two or three words of three letters or more: the fold is loose,
 * and a short word folded says little. As close as one letter typed wrong, not an alias.
 */
export function thaiSpellingsAgree(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.length < 2 || a.length > 3 || a.some((w) => w.length < 3) || b.some((w) => w.length < 3)) return false;
  const folded = b.map(foldThaiLatin);
  const used = new Set<number>();
  let apart = false;
  for (const w of a) {
    const f = foldThaiLatin(w);
    const j = folded.findIndex((v, k) => !used.has(k) && v === f);
    if (j < 0) return false;
    used.add(j);
    if (!editsAtMost(w, b[j], 1)) apart = true;
  }
  return apart;
}
