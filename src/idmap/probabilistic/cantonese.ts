/**
 * A Han name read in Cantonese and spelt as Hong Kong writes names: the Hong Kong government's
 * romanization (the spelling on an HKID card and a passport: 陳大文 `CHAN Tai Man`, 黃永基 `WONG
 * Wing Kei`, 李小明 `LEE Siu Ming`). Its spellings are not a system but a habit of the registry
 * clerks, so a Jyutping syllable (`cantonese-readings.ts`) stands for the few ways it is written:
 * `zi` is `chi`, `tsz`, `tze` or `tsze`; `sam` is `sam`, `sum`, `sham` or `shum`; `jyun` is
 * `yuen` or `yun`. Only spelling: a given name read so agrees with its characters as its pinyin
 * does (`names.ts`).
 */
import { CANTONESE_READINGS } from './cantonese-readings';

const READINGS = new Map<string, string[]>();
for (const line of CANTONESE_READINGS.trim().split('\n')) {
  const [syllable, chars] = line.split(' ');
  for (const ch of chars) READINGS.set(ch, [...(READINGS.get(ch) ?? []), syllable]);
}

/** Every toneless Jyutping syllable the table reads some character as. */
export const cantoneseSyllables = (): readonly string[] => [...new Set([...READINGS.values()].flat())];

/** The toneless Jyutping readings of one character; none for a character outside the table. */
export function cantoneseReadings(ch: string): readonly string[] {
  return READINGS.get(ch) ?? [];
}

/** Initials as the Hong Kong government writes them. */
const INITIALS: Readonly<Record<string, readonly string[]>> = {
  b: ['p'],
  p: ['p'],
  d: ['t'],
  t: ['t'],
  g: ['k'],
  k: ['k'],
  gw: ['kw'],
  kw: ['kw'],
  z: ['ch', 'ts', 'tz'],
  c: ['ch', 'ts'],
  s: ['s', 'sh'],
  j: ['y'],
};

/** Finals as written (the first is the usual one): a long `aa` is `a`, `oeng` is `eung`, `eoi` is `ui`, `yu` is `u` or `ue`. */
const FINALS: Readonly<Record<string, readonly string[]>> = {
  aa: ['a', 'ah'],
  am: ['am', 'um'],
  an: ['an', 'un'],
  au: ['au', 'ow'],
  i: ['i', 'ee'],
  o: ['o', 'oh'],
  oi: ['oi', 'oy'],
  ou: ['o', 'ou'],
  oe: ['oe', 'euh'],
  oeng: ['eung'],
  oek: ['euk'],
  eoi: ['ui', 'eui'],
  eon: ['un', 'eun'],
  eot: ['ut', 'eut'],
  u: ['u', 'oo'],
  ui: ['ui', 'ooi'],
  un: ['un', 'oon'],
  yu: ['u', 'ue'],
  yun: ['uen', 'un'],
  yut: ['uet', 'ut'],
};

/** `si`, `zi`, `ci`: the apical vowel Hong Kong writes `sze`, `tsz`, `chi`. */
const WHOLE: Readonly<Record<string, readonly string[]>> = {
  si: ['sze', 'see', 'si', 'shi', 'sz'],
  zi: ['chi', 'tsz', 'tze', 'tsze'],
  ci: ['chi', 'tsz', 'tsze', 'chee', 'tze'],
  m: ['m'],
  ng: ['ng'],
};

const spelt = new Map<string, readonly string[]>();

/** The ways the Hong Kong government's romanization writes one toneless Jyutping syllable (`wing`: wing; `zoeng`: cheung, tseung). */
export function hkSpellings(syllable: string): readonly string[] {
  let known = spelt.get(syllable);
  if (known) return known;
  const whole = WHOLE[syllable];
  if (whole) known = whole;
  else {
    const [, initial, final] = /^(gw|kw|ng|[bpmfdtnlgkhwzcsj]?)(.*)$/.exec(syllable)!;
    // `j` before `yu`: the `y` is written once (`jyu` yu, `jyun` yuen).
    // A long `aa` before a consonant is written as the short one (`gaai` kai, `saan` shan).
    const finals = FINALS[final] ?? [final.startsWith('aa') ? final.slice(1) : final];
    const initials = INITIALS[initial] ?? [initial];
    const out = new Set<string>();
    for (const i of initials) for (const f of finals) out.add(initial === 'j' && final.startsWith('y') ? `y${f}` : i + f);
    known = [...out];
  }
  spelt.set(syllable, known);
  return known;
}

/** Every spelling of one character in Cantonese (each reading's), the longest first. */
function charSpellings(ch: string): readonly string[] {
  let known = byChar.get(ch);
  if (!known) byChar.set(ch, (known = [...new Set(cantoneseReadings(ch).flatMap(hkSpellings))].sort((a, b) => b.length - a.length)));
  return known;
}

const byChar = new Map<string, readonly string[]>();

/**
 * The Latin words spell the characters in Cantonese, one syllable a character: word by word when
 * there are as many words as characters (`Tai Man`, `Tai-man` for 大文), else as one string
 * (`Taiman`). A character without a reading spells nothing.
 */
export function cantoneseSpelt(chars: string, words: readonly string[]): boolean {
  const cs = [...chars];
  if (!cs.length || !words.length) return false;
  if (words.length === cs.length) return cs.every((c, i) => charSpellings(c).includes(words[i]));
  const text = words.join('');
  const from = (i: number, at: number): boolean =>
    i === cs.length ? at === text.length : charSpellings(cs[i]).some((s) => text.startsWith(s, at) && from(i + 1, at + s.length));
  return from(0, 0);
}

/** The first letters of a character's Cantonese spellings (陳: c; 子: c, t, j): a Han name's block initials as Hong Kong spells it. */
export function cantoneseInitials(ch: string): string[] {
  return [...new Set(charSpellings(ch).map((s) => s[0]))];
}
