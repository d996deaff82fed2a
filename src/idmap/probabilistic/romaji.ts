/**
 * Japanese names written in Latin letters (Hepburn romaji, as passports and most forms write
 * them): `Taro Tanaka`, `Sayuri Yamada`. Their kanji (田中太郎, 山田さゆり) read as pinyin say
 * nothing of them: 田中 is tian zhong in Chinese, Tanaka in Japanese. Kanji are read in Japanese
 * only as far as `japanese.ts` has readings for them; a Han name it cannot read and a romaji one
 * are not compared (nothing to tell either way) instead of being called two people for surnames
 * that differ only by language.
 *
 * Many Japanese names also read as pinyin (`Sayuri Yamada`: sa yu ri, ya ma da): those are
 * not compared with kanji of four characters (`names.ts`, `japaneseInBoth`), and are compared as
 * Chinese with shorter ones, where a kanji name still differs from them as the surnames do.
 */
import { isPinyin, isPinyinSyllable } from './pinyin';

/**
 * The syllables of Japanese as Hepburn writes them (native ones only: `she`, `je`, `ti`, `fa`
 * spell loanwords, not names, and are what a misspelt pinyin word looks like: `Jeijie`, `Sheen`).
 */
const KANA = (
  'kya kyu kyo gya gyu gyo sha shu sho shi cha chu cho chi tsu nya nyu nyo hya hyu hyo bya byu byo pya pyu pyo mya myu myo rya ryu ryo ' +
  'ka ki ku ke ko ga gi gu ge go sa su se so za ji zu ze zo ja ju jo ta te to da de do na ni nu ne no ha hi fu he ho ba bi bu be bo ' +
  'pa pi pu pe po ma mi mu me mo ya yu yo ra ri ru re ro wa wo a i u e o'
).split(' ');

/**
 * One syllable at a time: a doubled consonant before one (Hattori, Matcha), `oh` for a long o
 * (Satoh), or a syllabic n after a vowel, written m before b, m or p as passports write it (the
 * Ministry of Foreign Affairs' Hepburn: `Homma`, `Namba`).
 */
const UNIT = new RegExp(`(?:kk|ss|tt|pp|t(?=ch))?(?:${KANA.join('|')})(?:(?<=o)h(?![aeiou]))?|(?<=[aeiou])n(?![aeiouy])|(?<=[aeiou])m(?=[bmp])`, 'y');

/** The syllables of a lower-case word as romaji (diacritics folded: ō as o), or null when it is not romaji. */
export function romajiSyllables(word: string): string[] | null {
  if (word.length < 2) return null;
  const out: string[] = [];
  UNIT.lastIndex = 0;
  while (UNIT.lastIndex < word.length) {
    const m = UNIT.exec(word);
    if (!m) return null;
    out.push(m[0]);
  }
  return out;
}

/** A syllable pinyin has no such (`ro`, `ki`, `to`), or a doubled consonant: Japanese, not Mandarin. */
function japaneseOnly(syllable: string): boolean {
  if (syllable === 'n') return false;
  if (syllable.length > 2 && syllable[0] === syllable[1]) return true;
  return !isPinyinSyllable(syllable.endsWith('oh') ? syllable.slice(0, -1) : syllable);
}

/**
 * A name of two or more words, all romaji, one of them no pinyin and spelt with a syllable only
 * Japanese has (so that a misspelt pinyin word, `Sheen` for Shen, is not taken for one), none an
 * English given name that romaji could spell (`Jane`, `Kate`, `Mike`): a Japanese name in Latin
 * letters.
 */
export function isRomajiName(words: readonly string[]): boolean {
  const syllables = words.map(romajiSyllables);
  if (words.length < 2 || syllables.some((s) => s === null) || words.some((w) => ENGLISH_SPELT_AS_ROMAJI.has(w))) return false;
  return words.some((w, i) => !isPinyin(w) && (syllables[i] as string[]).some(japaneseOnly));
}

/**
 * English given names that romaji could spell, from the US Social Security Administration's baby
 * names (as `english-given.ts` reads them: given to at least 2,000 babies of one sex in some year),
 * kept where `romajiSyllables` reads them. A few are Japanese names too (`Naomi`, `Kai`): those are
 * compared as before.
 */
const ENGLISH_SPELT_AS_ROMAJI: ReadonlySet<string> = new Set(
  `
aaron aidan aiden aimee amanda amaya ana anita anna anne annette annie antonio aria ariana arianna
arya aurora beau benjamin bessie bonnie chase dakota damian damien damon dan dana darin dean deanna
debora denise don donna dora doreen eden enzo erika erin eugene gage gene gianna gina hope ian ida
irene jada jade jaden jaiden jaime jake jameson jamie jan jane jase jason jo joan joanna joanne joe
jon jose joshua josue juan juanita jude june kaden kai kaiden kara karen kari karina kate keira
kiara mae maria marian mariana marianne marie mario marion marisa marissa mason mateo matteo mattie
maureen maya meagan megan mia mike minnie miranda mya naomi natasha nora paige patti ramona reagan
reese regina remi renee rita robin roman ronnie rosa rose rowan ryan sara sean shane shannon shari
sharon shaun sonya sue susan suzanne tamara tami tamika tanya tara tasha teagan teresa teri toni
tonya tori wanda zane zoe
`
    .trim()
    .split(/\s+/),
);
