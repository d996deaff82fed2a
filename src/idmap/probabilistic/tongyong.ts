/**
 * A pinyin syllable as Tongyong pinyin writes it: Taiwan's official romanization from 2002 to
 * 2008, which the Ministry of Foreign Affairs still lets a passport holder choose, and so the
 * spelling of many Taiwanese born since about 1990 (志豪 `Jhih-hao`, 欣怡 `Sin-yi`, 邱 `Ciou`, 許
 * `Syu`, 文雄 `Wun-syong`). It differs from Hanyu pinyin in the initials zh, q and x (jh, c, s),
 * in zhi, chi, shi, ri, zi, ci, si (jhih, chih, shih, rih, zih, cih, sih), in ü after j, q, x and
 * y as yu (`jyun`, `syuan`), and in a few finals (`iong` yong, `eng` after b, p, m, f, w as ong,
 * `wen` wun, `iu` iou, `ui` uei). Only spelling, without tone marks, as passports write it.
 */
export function tongyong(syllable: string): string {
  const whole = WHOLE[syllable];
  if (whole) return whole;
  const [, initial, rest] = /^(zh|ch|sh|[bpmfdtnlgkhjqxrzcswy]?)(.*)$/.exec(syllable)!;
  let final = rest;
  // ü: written v or u after j, q, x, y in pinyin; yu in Tongyong (jyun, cyu, syuan); lü, nü as lyu, nyu.
  if ('jqxy'.includes(initial) && initial && /^(u|v)/.test(final)) final = (initial === 'y' ? '' : 'y') + 'u' + final.slice(1);
  else if (final.startsWith('v')) final = 'yu' + final.slice(1);
  if (/^iong$/.test(final)) final = 'yong';
  else if (final === 'eng' && 'bpmfw'.includes(initial) && initial) final = 'ong';
  else if (final === 'iu') final = 'iou';
  else if (final === 'ui') final = 'uei';
  else if (final === 'en' && initial === 'w') final = 'un';
  return (INITIALS[initial] ?? initial) + final;
}

const INITIALS: Readonly<Record<string, string>> = { zh: 'jh', q: 'c', x: 's' };

/** Syllables Tongyong writes whole. */
const WHOLE: Readonly<Record<string, string>> = {
  zhi: 'jhih',
  chi: 'chih',
  shi: 'shih',
  ri: 'rih',
  zi: 'zih',
  ci: 'cih',
  si: 'sih',
};
