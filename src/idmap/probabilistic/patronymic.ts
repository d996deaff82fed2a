/**
 * Patronymic links in Malaysian, Singaporean and Indian names: `Ahmad bin Ismail` (son of
 * Ismail), `Siti binti Hassan` (daughter of), and the Tamil `Ramesh s/o Suppiah`, `Malathi d/o
 * Krishnan`, `Gopal a/l Anand`, `Devi a/p Muthu` (anak lelaki / anak perempuan). One person's
 * name is written with the link in full, abbreviated (`bte`, `bt.`, `bn`) or without it, by
 * different systems; the link itself says nothing about who the person is, so a name is compared
 * without it. (Malaysian national registration and Singapore's ICA write these forms; public
 * naming conventions, not any evaluation world.)
 *
 * Only forms that cannot be another name's word are dropped: the slash forms, the daughter's links
 * (`binti`, `binte`, `bte`, `bt`, `bint`), and `bin`/`bn` between two words of a name that does not
 * read as pinyin (`Wang Bin Hui` keeps 斌). A bare `b` is left: it is as often a middle initial
 * (`Jennifer B Pascual`).
 */
import { isPinyin } from './pinyin';

/** `s/o`, `d/o`, `a/l`, `a/p` between words, in lower-case text, with any spacing round the slash. */
const SLASH_LINK = /(?<=\s)(?:s|d)\s*\/\s*o(?=\s)|(?<=\s)a\s*\/\s*[lp](?=\s)/g;

/** The daughter's link as written in full or shortened (`bt.` is `bt` once punctuation is gone). */
const DAUGHTER_OF = new Set(['binti', 'binte', 'bte', 'bt', 'bint']);
const SON_OF = new Set(['bin', 'bn']);

/** Lower-case name text with its slash-written links (`s/o`) taken out; they are punctuation to the word splitter. */
export function withoutSlashLinks(lower: string): string {
  return lower.includes('/') ? lower.replace(SLASH_LINK, ' ') : lower;
}

/** A Latin name's words without a patronymic link between two of them (see the module's note). */
export function withoutPatronymicLink(words: string[]): string[] {
  if (words.length < 3) return words;
  for (let i = 1; i < words.length - 1; i++) {
    const w = words[i];
    if (DAUGHTER_OF.has(w) || (SON_OF.has(w) && !words.every(isPinyin))) return [...words.slice(0, i), ...words.slice(i + 1)];
  }
  return words;
}

/**
 * One Tamil name written with the father's given name in full and as an initial (`Arun Suresh`,
 * `Arun s/o Suresh` read without the link, `S. Arun`, `Arun S.`): two words each, the person's
 * own given name first in the full form and whole in both, the other word of one the initial of
 * the other's. Tamil names carry no surname, so the initial is the father's name, not a family's
 * (Singapore's and Malaysia's registration write it so; public naming conventions). The given
 * name stands first in the full form: a father's initial with his own name (`K. Suresh`) against
 * his son's (`Arun Suresh`) has it last.
 */
export function fatherInitial(a: readonly string[], b: readonly string[]): boolean {
  return initialOf(a, b) || initialOf(b, a);
}

function initialOf(short: readonly string[], full: readonly string[]): boolean {
  if (short.length !== 2 || full.length !== 2) return false;
  const [own, father] = full;
  if (own.length < 3 || father.length < 2 || own === father) return false;
  const i = short.indexOf(own);
  return i >= 0 && short[1 - i] === father[0];
}
