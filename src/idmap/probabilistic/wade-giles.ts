/**
 * A pinyin syllable as Wade-Giles writes it, the way Taiwanese passports and most Taiwanese
 * customers spell their names: without the apostrophes and umlauts (`ch'iang` is `chiang`, `hsü`
 * is `hsu`). 志明 is `Chih-ming`, 家豪 `Chia-hao`, 淑芬 `Shu-fen`, 國華 `Kuo-hua`. Only spelling:
 * a given name read so agrees with its characters as its pinyin does (`names.ts`).
 */
export function wadeGiles(syllable: string): string {
  const whole = WHOLE[syllable];
  if (whole) return whole;
  const [, initial, rest] = /^(zh|ch|sh|[bpmfdtnlgkhjqxrzcswy]?)(.*)$/.exec(syllable)!;
  // After j, q, x and y a written u is ü; the passports drop the umlaut.
  let final = rest.replace(/v/g, 'u');
  if (final === 'e' && (initial === 'g' || initial === 'k' || initial === 'h')) final = 'o';
  else if (final === 'uo' && !'gkh'.includes(initial) && initial !== 'sh') final = 'o';
  final = final.replace(/ong$/, 'ung').replace(/ian$/, 'ien').replace(/ie$/, 'ieh').replace(/ue$/, 'ueh');
  return (INITIALS[initial] ?? initial) + final;
}

const INITIALS: Readonly<Record<string, string>> = { b: 'p', d: 't', g: 'k', z: 'ts', c: 'ts', zh: 'ch', r: 'j', j: 'ch', q: 'ch', x: 'hs' };

/** Syllables Wade-Giles writes whole, not initial and final apart. */
const WHOLE: Readonly<Record<string, string>> = {
  zhi: 'chih',
  chi: 'chih',
  shi: 'shih',
  ri: 'jih',
  zi: 'tzu',
  ci: 'tzu',
  si: 'ssu',
  er: 'erh',
  yi: 'i',
  you: 'yu',
  yan: 'yen',
  ye: 'yeh',
  yue: 'yueh',
  yve: 'yueh',
};
