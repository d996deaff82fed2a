/**
 * Evidence that two groups of records are different people: the pure part of resolution.
 *
 * A *profile* gathers what a group of records (one customer, or a record not yet resolved)
 * says about who it is: its values of the kinds evidence compares (exclusive kinds: a person
 * has one unionid, one member number; and kinds a rule compares for links through another,
 * like emails for a phone link) and its soft traits (name, birthday). Two profiles *conflict*
 * when, for some attribute both know and the link's rule compares, they share no value.
 * Names and birthdays are kept only as keys (hashes of the normalized form), enough to
 * compare and nothing to display.
 */
import crypto from 'node:crypto';
import { isFixedLine } from '../canonical';
import { birthDate } from './birth-date';
import { foldU, nameForm, splitHanName } from './probabilistic/names';
import { isPinyin, pinyinReadings } from './probabilistic/pinyin';
import { surnameSpellings } from './probabilistic/surname-spellings';
import { EAST_ASIAN_SURNAMES } from './probabilistic/east-asian-surnames';
import type { IdentifierKind } from '../vocabulary';
import type { IdentityRules, StrongKind } from './rules';

export interface Profile {
  /** Strong and evidence kinds → match keys (placeholders left out). */
  values: Map<IdentifierKind, Set<string>>;
  /** Name keys, prefixed by script (`h:` Han, `l:` Latin, `p:` Latin read as pinyin, `o:` other); only same-script keys compare. */
  names: Set<string>;
  birthdays: Set<string>;
}

export interface Conflict {
  /**
   * The identifier kind whose values differ, `name` / `birthday`, `decision` (a steward judged
   * them different), or `same-source` (two records of one system share the value, nothing else).
   */
  attribute: IdentifierKind | 'name' | 'birthday' | 'decision' | 'same-source';
  left: string[];
  right: string[];
}

export function emptyProfile(): Profile {
  return { values: new Map(), names: new Set(), birthdays: new Set() };
}

/** Adds what one record says to a profile (mutates and answers it). */
export function addToProfile(p: Profile, rec: { nameKey?: string | null; birthdayKey?: string | null; values?: Iterable<readonly [IdentifierKind, string]> }): Profile {
  if (rec.nameKey) p.names.add(rec.nameKey);
  if (rec.birthdayKey) p.birthdays.add(rec.birthdayKey);
  for (const [kind, key] of rec.values ?? []) {
    let s = p.values.get(kind);
    if (!s) p.values.set(kind, (s = new Set()));
    s.add(key);
  }
  return p;
}

/** Adds everything `from` knows to `into` (mutates and answers `into`). */
export function mergeProfileInto(into: Profile, from: Profile): Profile {
  for (const n of from.names) into.names.add(n);
  for (const d of from.birthdays) into.birthdays.add(d);
  for (const [k, s] of from.values) {
    const mine = into.values.get(k);
    if (mine) for (const v of s) mine.add(v);
    else into.values.set(k, new Set(s));
  }
  return into;
}

/**
 * What says these two profiles are different people, for a link through `via`: exclusive
 * kinds, the `refuseIfDiffer` kinds of the rule for `via`, and the conflict traits. Empty
 * when nothing does.
 */
export function conflictsBetween(a: Profile, b: Profile, via: StrongKind, rules: IdentityRules): Conflict[] {
  const out: Conflict[] = [];
  for (const kind of comparedKinds(via, rules)) {
    const l = a.values.get(kind);
    const r = b.values.get(kind);
    if (l?.size && r?.size && disjoint(l, r)) out.push({ attribute: kind, left: [...l], right: [...r] });
  }
  if (rules.conflictTraits.birthday && a.birthdays.size && b.birthdays.size && disjoint(a.birthdays, b.birthdays)) {
    out.push({ attribute: 'birthday', left: [...a.birthdays], right: [...b.birthdays] });
  }
  // A name spelled differently (a typo, a nickname, a new name) is outweighed by two strong
  // values in common (the one weighed and another; a landline never one of them), not by a shared birthday: a key cannot tell
  // a typo from another given name, and twins share a birthday and often the family's phone.
  // The tier, which reads the names, weighs such a pair again (a typo or a nickname links there).
  // Names compare as written within a script; a Han name and a Latin one by their pinyin:
  // the same full name agrees, a different surname conflicts (a household's pinyin-named
  // spouse), and so does the same surname with another given name in pinyin (付嘉 and `Fu
  // Jiehua`); with a given name that is not pinyin (an English name) it says nothing.
  if (rules.conflictTraits.name && a.names.size && b.names.size && sharedValues(a, b, 2) < 2) {
    const verdicts = [...a.names].flatMap((x) => [...b.names].map((y) => compareNameKeys(x, y)));
    if (!verdicts.includes('agree') && verdicts.includes('conflict') && !nameCutShortSpelled(a, b)) out.push({ attribute: 'name', left: [...a.names], right: [...b.names] });
  }
  return out;
}

/**
 * One Han name cut short (`马艳` for `马艳丽`: the surname and the first syllables of the given
 * name), where an email of either side spells the whole name in pinyin (`mayanli3738@163.com`,
 * surname and given name in either order; digits, dots and other separators left out). A name
 * cut short alone is no evidence: siblings share the first character of their given names, and
 * a short name may be a sister's (docs/identity-history.md, session 35). An address chosen for
 * the whole name says whose the record is, so the short form on it is that person's name written
 * in part, and the two are one name. Read on keys only: the whole name's surname and given-name
 * hashes against the address's letters split in two, the short name's given-name hash against the
 * given name's first syllables (`pinyinReadings`).
 */
export function nameCutShortSpelled(a: Profile, b: Profile): boolean {
  const emails = [...(a.values.get('EMAIL') ?? []), ...(b.values.get('EMAIL') ?? [])];
  if (!emails.length) return false;
  for (const [ours, theirs] of [
    [a.names, b.names],
    [b.names, a.names],
  ] as const)
    for (const whole of ours) {
      const w = partsOf(whole);
      if (w.script !== 'h' || !w.a) continue;
      // The other side's Han names under this surname with another given name: the addresses are
      // read (two hashes a split of their letters) only where there is one, which is seldom.
      const shorts = [...theirs].map(partsOf).filter((c) => c.script === 'h' && c.a === w.a && c.b !== w.b);
      if (!shorts.length) continue;
      for (const email of emails) {
        const given = givenSpelt(email, w.a, w.b);
        if (!given) continue;
        const syllables = pinyinReadings(given)?.[0];
        if (!syllables || syllables.length < 2) continue;
        for (const c of shorts) for (let k = 1; k < syllables.length; k++) if (partHash(syllables.slice(0, k).join('')) === c.b) return true;
      }
    }
  return false;
}

/**
 * A side that carries no name, whose own email spells the other side's name whole (surname and
 * given name, or a Latin name's first and last words, in either order; digits, dots and other
 * separators left out: `chunlei.wang49473@126.com` for 王春蕾, `yin_ting91269@163.com` for 尹婷),
 * where the other side's names are one person's (none in conflict with the one spelt). An address
 * a person chose for their own name says whose the record carrying it is, as it does for a name
 * cut short (`nameCutShortSpelled`); the household guard is unsure whose a phone two shop accounts
 * carry, and an account whose address is the named holder's name is that holder's, where a
 * household's second person uses an address of their own. Not an address the named side carries
 * too: that one is weighed by the email rule, and where it refused it, it is a household's.
 * Initials (`wangtq`, `ljh`) spell nothing: a family's initials often agree. Read on keys only,
 * as `nameCutShortSpelled` reads them; the addresses are read only where the other side has a name.
 */
export function emailSpellsNameOf(nameless: Profile, named: Profile): boolean {
  if (nameless.names.size || !named.names.size) return false;
  const own = nameless.values.get('EMAIL');
  if (!own?.size) return false;
  const theirs = named.values.get('EMAIL');
  const emails = [...own].filter((e) => !theirs?.has(e));
  if (!emails.length) return false;
  for (const key of named.names) {
    const p = partsOf(key);
    if ((p.script !== 'h' && p.script !== 'l') || !p.a || !p.b) continue;
    if (!emails.some((e) => givenSpelt(e, p.a, p.b) != null)) continue;
    if ([...named.names].every((other) => other === key || compareNameKeys(other, key) !== 'conflict')) return true;
  }
  return false;
}

/** The given name an address's local part spells with the name whose part hashes are `surname` and `given`, or null. */
function givenSpelt(email: string, surname: string, given: string): string | null {
  const at = email.lastIndexOf('@');
  const letters = (at < 0 ? email : email.slice(0, at)).toLowerCase().replace(/[^a-z]/g, '');
  for (let i = 1; i < letters.length; i++) {
    const [head, tail] = [letters.slice(0, i), letters.slice(i)];
    if (partHash(head) === surname && partHash(tail) === given) return tail;
    if (partHash(head) === given && partHash(tail) === surname) return head;
  }
  return null;
}

const compared = new WeakMap<StrongKind, { rules: IdentityRules; kinds: IdentifierKind[] }>();

/** The kinds compared for a link through `via` (exclusive ones, then the rule's own), made once per rule. */
function comparedKinds(via: StrongKind, rules: IdentityRules): IdentifierKind[] {
  const known = compared.get(via);
  if (known && known.rules === rules) return known.kinds;
  const kinds = [...new Set([...rules.exclusiveKinds, ...via.refuseIfDiffer])];
  compared.set(via, { rules, kinds });
  return kinds;
}

/** Two name keys (see `nameKey`): one name, two names, or nothing to tell. */
export function compareNameKeys(x: string, y: string): 'agree' | 'conflict' | 'unknown' {
  const [px, py] = [partsOf(x), partsOf(y)];
  if (px.script === py.script) {
    if (px.exact === py.exact) return 'agree';
    // Characters typed for the same reading (an IME's homophone): one name.
    if (px.script === 'h' && px.a && px.a === py.a && px.b === py.b) return 'agree';
    // Latin words alike but for a `lv` against a `lu` (lü with its diacritics dropped, or 卢): nothing to tell.
    if (px.script === 'l' && px.a && py.a && px.a + px.b !== py.a + py.b && partsWithoutU(px) === partsWithoutU(py)) return 'unknown';
    return 'conflict';
  }
  const han = px.script === 'h' ? px : py.script === 'h' ? py : null;
  const latin = px.script === 'l' ? px : py.script === 'l' ? py : null;
  if (!han || !latin || !han.a || !latin.a) return 'unknown';
  const words = [latin.a, latin.b];
  const same = han.a === han.b ? latin.a === han.a && latin.b === han.b : words.includes(han.a) && words.includes(han.b);
  if (same) return 'agree';
  if (words.includes(han.a)) return latin.pinyin ? 'conflict' : 'unknown';
  // The surname as Hong Kong, Singapore or Taiwan spell it (`Lim` for 林) and the given name in pinyin: one name
  // (`Lim Weiming`, 林伟明). With another given name (`Maria Lim`, `Chan Tai Man`) the rules refuse as before: a
  // surname shared by millions is no bridge for a number that changed hands; the tier weighs the pair again.
  if (words.includes(han.b) && words.some((w) => speltSurnames().get(w)?.has(han.a))) return 'agree';
  // `lu` may be lü with its diacritics dropped: not the same spelling, but not another surname either.
  return words.includes(withoutU(han.a)) ? 'unknown' : 'conflict';
}

/** Part hashes of surnames spelt outside pinyin (`surname-spellings.ts`), each with the part hashes of the pinyin surnames it spells. */
function speltSurnames(): ReadonlyMap<string, ReadonlySet<string>> {
  spelt ??= new Map([...surnameSpellings()].map(([w, surnames]) => [partHash(w), new Set(surnames.map(partHash))]));
  return spelt;
}
let spelt: Map<string, Set<string>> | undefined;

/** A part hash with a pinyin ü's diacritics dropped (`lv` as `lu`), for comparing spellings that may have lost them. */
function withoutU(part: string): string {
  return U_DROPPED.get(part) ?? part;
}

/** Both part hashes of a key without ü's diacritics, in one order whatever the dropping did to theirs. */
function partsWithoutU(p: { a: string; b: string }): string {
  const [a, b] = [withoutU(p.a), withoutU(p.b)];
  return a < b ? a + b : b + a;
}

/** `h:` exact hash, surname and given-name pinyin hashes; `l:` (and `p:`, pinyin) exact hash, first and last words' hashes. */
function partsOf(key: string) {
  return {
    script: key[0] === 'p' ? 'l' : key[0],
    pinyin: key[0] === 'p',
    exact: key.slice(2, 2 + KEY_HASH),
    a: key.slice(2 + KEY_HASH, 2 + KEY_HASH + PART_HASH),
    b: key.slice(2 + KEY_HASH + PART_HASH),
  };
}

/**
 * Values the two profiles have in common, counted up to `enough`; a landline not at all: it is a
 * household's, and a couple sharing the home number and a family email are two people, where
 * one person's second account shares a mobile and an email.
 */
function sharedValues(a: Profile, b: Profile, enough: number): number {
  let n = 0;
  let phones: string[] | null = null;
  for (const [kind, l] of a.values) {
    const r = b.values.get(kind);
    if (!r) continue;
    for (const v of l) {
      if (!r.has(v)) continue;
      if (kind === 'PHONE') (phones ??= []).push(v);
      else if (++n >= enough) return n;
    }
  }
  // Phones last, and typed only when they could make up the count (short of it, landlines or not,
  // the answer is under `enough`): most links share one value, and parsing a number for its type
  // costs more than the rest of the check.
  if (!phones || n + phones.length < enough) return n + (phones?.length ?? 0);
  for (const v of phones) if (!isFixedLine(v) && ++n >= enough) return n;
  return n;
}

function disjoint(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const x of a) if (b.has(x)) return false;
  return true;
}

/**
 * A comparable key for a person's name, or null when the name cannot tell two people apart
 * (missing, a form of address like `王先生`, a stand-in like `微信用户`, or too short).
 * The key holds two short hashes: the name as written (Han characters; Latin words as a set, so
 * `Wei Zhang` and `zhang wei` agree) and its romanization (pinyin syllables or words, as a
 * set), so `张伟` and `Zhang Wei` agree too, and a homophone typed for a character (`张玮`).
 */
export function nameKey(raw: string | null | undefined): string | null {
  const f = nameForm(raw);
  if (!f) return null;
  const words = f.script === 'l' && f.words.length === 1 ? (pinyinRunTogether(f.words[0]) ?? f.words) : f.words;
  const exact = f.script === 'l' ? [...words].sort().join(' ') : f.text;
  let parts = '';
  if (f.script === 'h' && words.length >= 2) {
    const sn = splitHanName(f.text).surname.length;
    parts = partHash(words.slice(0, sn).join('')) + partHash(words.slice(sn).join(''));
  } else if (f.script === 'l' && words.length >= 2 && words.every((w) => w.length >= 2)) {
    // Only a name of two or more real words is compared with characters: a handle or an email's local part is not.
    parts = [partHash(words[0]), partHash(words[words.length - 1])].sort().join('');
  }
  // Two Latin words that both read as pinyin are a romanized Chinese name, surname and given name (`compareNameKeys`).
  // Three or more (`Zhang Jia Hui`) may split a given name into syllables: its last word alone is not the given name.
  const script = f.script === 'l' && parts && words.length === 2 && words.every(isPinyin) ? 'p' : f.script;
  return `${script}:${hash16(exact).slice(0, KEY_HASH)}${parts}`;
}

/**
 * A Chinese name written in pinyin as one word, surname first (`houshuxia` for 侯淑霞, `jinjieyan`
 * for 金洁艳), as its surname and given name: how staff often type a customer's name where a form
 * or a WeCom remark takes one word. The national rules for Chinese names in pinyin (GB/T
 * 28039-2011) put the surname first and write the surname and the given name as two words; run
 * together, the surname is still the first syllable or two. Read only where the word is three
 * syllables or more and one split alone gives a Chinese surname (`EAST_ASIAN_SURNAMES`, read as
 * pinyin) and a given name of one or two syllables: a word of two syllables may be a given name
 * alone (`liyan`: 丽艳, or 李艳), and a word that splits two ways says neither. Otherwise null: the
 * word stays one word, a handle for all the rules can tell.
 */
function pinyinRunTogether(word: string): [string, string] | null {
  const whole = pinyinReadings(word);
  if (!whole || whole[0].length < 3) return null;
  let found: [string, string] | null = null;
  for (let i = 1; i < word.length; i++) {
    const head = word.slice(0, i);
    if (!EAST_ASIAN_SURNAMES.has(head) || !pinyinReadings(head)) continue;
    const given = pinyinReadings(word.slice(i));
    if (!given || given[0].length > 2) continue;
    if (found) return null;
    found = [head, word.slice(i)];
  }
  return found;
}

/** The short hash of one romanized part of a name (a pinyin surname or given name, a Latin word). */
function partHash(x: string): string {
  return hash16(`w:${x}`).slice(0, PART_HASH);
}

/** Hex digits of the written form's hash, and of each romanized part's: `h:` + 8 + 5 + 5 fits the 20-character column. */
const KEY_HASH = 8;
const PART_HASH = 5;

/**
 * A comparable key for a birthday, or null when absent, malformed or a form default. Day and
 * month are keyed in either order (`1990-03-04` and `1990-04-03` agree): a swap is a common
 * form error, and two people sharing a strong value and swapped birthdays are rarer still.
 */
export function birthdayKey(raw: string | null | undefined, rules: IdentityRules): string | null {
  const d = birthDate(raw);
  return !d || rules.isIgnoredBirthday(d) ? null : birthdayHash(d);
}

/** The key of a normalized date (`YYYY-MM-DD`), form defaults not considered: see `birthdayKey`. */
export function birthdayHash(d: string): string {
  const [y, m, day] = d.split('-');
  return hash16(m <= day ? d : `${y}-${day}-${m}`);
}

/** A short stable hash for keys and candidate dedupe (not a secret: equality only). */
export function hash16(s: string): string {
  return sha256Hex(s).slice(0, 16);
}

/**
 * One-shot `crypto.hash` where Node has it (20.12+): the same SHA-256 without a Hash object per
 * call, about 4x faster on short keys, and staging hashes several keys a record.
 */
const sha256Hex: (s: string) => string =
  typeof crypto.hash === 'function' ? (s) => crypto.hash('sha256', s, 'hex') : (s) => crypto.createHash('sha256').update(s).digest('hex');

/** The part hash of a pinyin syllable with ü (`lv`, see nameForm) → that of its spelling without the diacritics (`lu`, foldU). */
const U_DROPPED = new Map(['lv', 'nv', 'lve', 'nve'].map((w) => [partHash(w), partHash(foldU(w))] as const));
