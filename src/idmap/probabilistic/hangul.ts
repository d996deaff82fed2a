/**
 * Korean names in Hangul, against each other as written (`compareHangul`) and against the same
 * names in Latin letters (`김민준`, `Kim Minjun`, `Minjun Kim`, `Min-Jun Kim`). A syllable is
 * romanized by the Revised Romanization's letters, without the sound changes between syllables
 * (names are written so: 한복남 is Han Boknam), and both sides are folded where spellings in use
 * part from it: `eo`/`u` (Hyun, Young), `oo`/`u` (Soo, Hoon), `ee`/`i`, voiced and voiceless
 * consonants (Kyung, gyeong), `sh`/`s` (Shin), `wu`/`u` (Hyunwoo, hyeonu). Surnames have
 * spellings of their own (이 Lee, 박 Park, 최 Choi), listed below for the common ones.
 */
import type { NameLevel } from './names';
import { isEnglishGivenName } from './nicknames';
import { diffCount, oneEditApart } from './strings';

/** Revised Romanization of a syllable's lead consonant, vowel and final (in the final position, as written at a name's syllable end). */
const LEADS = ['g', 'kk', 'n', 'd', 'tt', 'r', 'm', 'b', 'pp', 's', 'ss', '', 'j', 'jj', 'ch', 'k', 't', 'p', 'h'];
const VOWELS = ['a', 'ae', 'ya', 'yae', 'eo', 'e', 'yeo', 'ye', 'o', 'wa', 'wae', 'oe', 'yo', 'u', 'wo', 'we', 'wi', 'yu', 'eu', 'ui', 'i'];
const FINALS = ['', 'k', 'k', 'k', 'n', 'n', 'n', 't', 'l', 'k', 'm', 'l', 'l', 'l', 'p', 'l', 'm', 'p', 'p', 't', 't', 'ng', 't', 't', 'k', 't', 'p', 't'];

const SYLLABLE = /^[\uac00-\ud7a3]+$/;

/** Each Hangul syllable of `text` in Revised Romanization, or null when it is not all syllables. */
export function romanizeHangul(text: string): string[] | null {
  if (!SYLLABLE.test(text)) return null;
  return [...text].map((ch) => {
    const i = ch.charCodeAt(0) - 0xac00;
    return LEADS[Math.floor(i / 588)] + VOWELS[Math.floor((i % 588) / 28)] + FINALS[i % 28];
  });
}

/**
 * Spellings of common Korean surnames besides their Revised Romanization (Statistics Korea's most
 * frequent, with the spellings passports and people use most).
 */
const SURNAME_SPELLINGS: Readonly<Record<string, readonly string[]>> = {
  김: ['kim'],
  이: ['lee', 'yi', 'rhee', 'rhie', 'ri'],
  박: ['park', 'pak'],
  최: ['choi', 'choe'],
  정: ['jung', 'chung', 'jeong'],
  강: ['kang'],
  조: ['cho', 'jo'],
  윤: ['yoon', 'yun'],
  장: ['jang', 'chang'],
  임: ['lim', 'im', 'rim'],
  한: ['han'],
  오: ['oh'],
  서: ['seo', 'suh'],
  신: ['shin'],
  권: ['kwon'],
  황: ['hwang'],
  안: ['ahn'],
  송: ['song'],
  류: ['ryu', 'yoo', 'yu', 'ryoo'],
  유: ['yoo', 'yu'],
  전: ['jeon', 'jun', 'chun'],
  홍: ['hong'],
  고: ['ko', 'koh'],
  문: ['moon', 'mun'],
  양: ['yang'],
  손: ['son', 'sohn'],
  배: ['bae'],
  백: ['baek', 'baik', 'paik'],
  허: ['heo', 'huh', 'hur'],
  노: ['noh', 'roh', 'ro'],
  심: ['shim'],
  곽: ['kwak'],
  성: ['sung'],
  주: ['joo', 'ju', 'choo'],
  우: ['woo'],
  구: ['koo', 'ku'],
  엄: ['eom', 'um', 'uhm'],
  채: ['chae'],
  천: ['cheon', 'chun'],
  변: ['byun'],
  염: ['yeom', 'yum'],
  여: ['yeo', 'yuh'],
  추: ['choo', 'chu'],
  도: ['do', 'doh'],
  석: ['seok', 'suk'],
  선: ['sun', 'seon'],
  설: ['seol', 'sul'],
  길: ['gil', 'kil'],
  위: ['wi', 'wee'],
  명: ['myung'],
  금: ['keum'],
  육: ['yook', 'yuk'],
  나: ['na', 'ra'],
  남궁: ['namgoong', 'namkung'],
  황보: ['hwangbo'],
  제갈: ['jegal'],
  선우: ['sunwoo'],
  독고: ['dokgo'],
};

/** A word romanized Korean syllables can spell, as Revised Romanization or the spellings in use write them. */
const KOREAN_WORD = /^(?:(?:kk|tt|pp|ss|jj|ch|sh|[gkndtrlmbpsjh])?(?:yae|wae|yeo|you|ae|ya|eo|ye|wa|oe|yo|wo|we|wi|yu|eu|ui|oo|ou|ee|a|e|o|u|i)(?:ng|[kntlmpgbd])?)+$/;

/** Two-syllable surnames: the rest is the given name. */
const COMPOUND = new Set(Object.keys(SURNAME_SPELLINGS).filter((s) => s.length === 2));

/** A romanized word folded where spellings in use part from Revised Romanization (see the module's comment). */
export function foldKorean(word: string): string {
  return word
    .toLowerCase()
    .replace(/[^a-z]/g, '')
    .replace(/eo|oo|ou|eu/g, 'u')
    .replace(/ee/g, 'i')
    .replace(/wu/g, 'u')
    .replace(/sh/g, 's')
    .replace(/ch/g, 'j')
    .replace(/g/g, 'k')
    .replace(/d/g, 't')
    .replace(/b/g, 'p')
    .replace(/r/g, 'l')
    .replace(/(.)\1+/g, '$1');
}

/** A Hangul name's surname and given name, romanized: the surname's spellings (as written, and folded) and the given name's syllables. */
export function koreanName(text: string): { spellings: readonly string[]; surnames: ReadonlySet<string>; given: string[] } | null {
  const syllables = romanizeHangul(text);
  if (!syllables || syllables.length < 2) return null;
  const n = COMPOUND.has(text.slice(0, 2)) && text.length > 2 ? 2 : 1;
  const surname = text.slice(0, n);
  const spellings = [...new Set([syllables.slice(0, n).join(''), ...(SURNAME_SPELLINGS[surname] ?? [])])];
  return { spellings, surnames: new Set(spellings.map(foldKorean)), given: syllables.slice(n) };
}

/**
 * What a Hangul name adds to the blocks, so that it meets its Latin spellings: the initials those
 * may start with (the surname's spellings' and the given name's, voiced or not), and the name as
 * the Latin side's block writes it (words sorted) for each surname spelling. Null for other text.
 */
export function koreanBlockForms(text: string): { initials: string[]; names: string[] } | null {
  const ko = koreanName(text);
  if (!ko) return null;
  const given = ko.given.join('');
  const initials = new Set([...ko.spellings, given].map((w) => w[0]));
  for (const [voiced, voiceless] of VOICING) if (initials.has(voiced)) initials.add(voiceless);
  return { initials: [...initials], names: ko.spellings.map((s) => [s, given].sort().join(' ')) };
}

/** Lead consonants Revised Romanization voices where older spellings do not (gyeong, Kyung). */
const VOICING = [
  ['g', 'k'],
  ['d', 't'],
  ['b', 'p'],
  ['j', 'c'],
] as const;

/**
 * How a Hangul name compares with a Latin one: `alias` when a word is its surname's spelling and
 * the rest its given name (spaced, hyphenated or not, folded as above); `close` one letter off;
 * `different` for another given name under the surname or a name without it; null when the rest is
 * an English given name (Jennifer Kim) or there is nothing to read.
 */
export function compareHangulLatin(hangul: string, latinWords: readonly string[]): NameLevel | null {
  const ko = koreanName(hangul);
  if (!ko || latinWords.length < 2) return null;
  const at = latinWords.findIndex((w) => ko.surnames.has(foldKorean(w)));
  if (at < 0) return 'different';
  const rest = latinWords.filter((_, i) => i !== at);
  // An English name beside the Korean one (`Eunji Sarah Lee`), or instead of it (`Jennifer Lee`):
  // a word Korean syllables cannot spell, or a common English given name they can (`Sam`).
  const korean = rest.filter((w) => KOREAN_WORD.test(w) && !isEnglishGivenName(w));
  if (!korean.length) return null;
  const given = foldKorean(ko.given.join(''));
  const written = [rest, korean].map((ws) => foldKorean(ws.join('')));
  if (written.includes(given)) return 'alias';
  return written.some((w) => oneEditApart(given, w)) ? 'close' : 'different';
}

/**
 * Two Korean names in Hangul, as written (surname the first syllable, given name the rest, as the
 * rules read them): one syllable of the given name apart, or the given name under another
 * surname, is similar (weak: siblings often share a syllable of their given names, and a typo in
 * Hangul changes a whole syllable too); anything else different. Null when either is not Hangul
 * (another script kept as written: no reading of it here).
 */
export function compareHangul(a: string, b: string): NameLevel | null {
  if (!HANGUL.test(a) || !HANGUL.test(b)) return null;
  if (a.length === b.length && a.length >= 3 && (a.slice(1) === b.slice(1) || (a[0] === b[0] && diffCount(a.slice(1), b.slice(1)) === 1))) return 'similar';
  return 'different';
}
const HANGUL = /^\p{Script=Hangul}{2,}$/u;
