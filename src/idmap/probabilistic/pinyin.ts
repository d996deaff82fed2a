/**
 * Latin words read as Mandarin pinyin. A romanized Chinese name (`Zhang Jiahui`) is spelt from a
 * closed set of about 400 toneless syllables, so a word either reads as a sequence of them or is
 * not pinyin (an English name, a misspelling). That tells two things apart that look alike to a
 * string distance: `jiahui` against `jiahua` is another given name (two valid readings, as 佳慧 and
 * 佳华 are two names), `jiahiu` against `jiahui` is a typing error.
 */
import { isEnglishGivenName } from './nicknames';

/**
 * The toneless syllables of Mandarin as the pinyin of Han names is written here (ü as `v`, as
 * `nameForm` writes it; `lue`/`nue` as keyboards and passports drop it), from every character of
 * the CJK block read by pinyin-pro. Interjections written with a bare consonant (m, n, ng, hng)
 * are left out: no name is spelt with them, and they would let almost any word read as pinyin.
 */
const SYLLABLES = new Set(
  (
    'a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce cen ceng cha chai chan chang chao ' +
    'che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den ' +
    'deng di dia dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng fo fou fu ga gai gan gang gao ge ' +
    'gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ' +
    'ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun ' +
    'kuo la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lue lun luo lv lve ma mai man mang mao me ' +
    'mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu ' +
    'nuan nue nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong ' +
    'qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao ' +
    'she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te tei teng ti ' +
    'tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan ' +
    'xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei ' +
    'zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo'
  ).split(' '),
);

/** The longest syllable (`zhuang`, `shuang`, …). */
const LONGEST = 6;
/** More readings than this of one word are not kept: a name's given part is two or three syllables. */
const MAX_READINGS = 8;

/**
 * The ways a lower-case word reads as the fewest syllables (`xian` as xian, not xi an: a name's
 * syllables are written apart only where they would run together, and reading `jia` as ji a would
 * make `jia` and `jie` one syllable apart), or null when it does not read as pinyin at all, or is
 * an English given name that happens to (`dan`, `ben`: a person named so in Latin letters is not
 * written in pinyin).
 */
export function pinyinReadings(word: string): string[][] | null {
  const known = readings.get(word);
  if (known !== undefined) return known;
  if (readings.size >= 50_000) readings.clear();
  const found = word && !isEnglishGivenName(word) ? fewestSyllables(word) : [];
  const answer = found.length ? found : null;
  readings.set(word, answer);
  return answer;
}

const readings = new Map<string, string[][] | null>();

/**
 * As `pinyinReadings`, but an English given name that reads as pinyin reads too: a word compared
 * with the characters of a Han name is their romanization before it is an English name (`Li Dan`
 * against 李燕 is dan against yan, two names, not `Dan` one letter from `yan`).
 */
export function readingsAgainstHan(word: string): string[][] | null {
  if (!isEnglishGivenName(word)) return pinyinReadings(word);
  const found = fewestSyllables(word);
  return found.length ? found : null;
}

/** The readings of `word` with the fewest syllables (at most `MAX_READINGS`), none when it has no reading. */
function fewestSyllables(word: string): string[][] {
  // fewest[i]: the fewest syllables `word` from i reads as (Infinity: none).
  const fewest = new Array<number>(word.length + 1).fill(Infinity);
  fewest[word.length] = 0;
  for (let i = word.length - 1; i >= 0; i--)
    for (let len = 1; len <= LONGEST && i + len <= word.length; len++) if (syllableAt(word, i, len)) fewest[i] = Math.min(fewest[i], 1 + fewest[i + len]);
  const out: string[][] = [];
  const walk = (i: number, so: string[]) => {
    if (out.length >= MAX_READINGS) return;
    if (i === word.length) return void out.push(so);
    for (let len = Math.min(LONGEST, word.length - i); len >= 1; len--)
      if (syllableAt(word, i, len) && fewest[i + len] === fewest[i] - 1) walk(i + len, [...so, word.slice(i, i + len)]);
  };
  if (fewest[0] !== Infinity) walk(0, []);
  return out;
}

/**
 * A syllable of `word` at `i`. One that opens with a vowel (an, e, ou, …) opens the word: within
 * it pinyin writes an apostrophe before one (Xi'an), and a name written without it reads the other
 * way (`fangan` is fan gan), so `waang` (wa'ang) or `meeili` are misspellings, not names.
 */
function syllableAt(word: string, i: number, len: number): boolean {
  return (i === 0 || !VOWEL.has(word[i])) && SYLLABLES.has(word.slice(i, i + len));
}

const VOWEL = new Set(['a', 'e', 'o']);

/** The toneless syllables, as above. */
export const pinyinSyllables = (): readonly string[] => [...SYLLABLES];

/** Whether a lower-case string is one toneless pinyin syllable (`zhuang`, `a`). */
export const isPinyinSyllable = (s: string): boolean => SYLLABLES.has(s);

/** Whether a lower-case word reads as pinyin (see `pinyinReadings`). */
export const isPinyin = (word: string): boolean => pinyinReadings(word) !== null;
