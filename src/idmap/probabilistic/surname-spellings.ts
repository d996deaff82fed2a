/**
 * Chinese surnames as they are spelt outside Mandarin pinyin: Cantonese (Hong Kong, Macau: 陈
 * `Chan`, 张 `Cheung`), Hokkien and Teochew (Singapore, Malaysia: 林 `Lim`, 黄 `Ng`), Wade-Giles
 * (Taiwan, older passports: 许 `Hsu`, 蔡 `Tsai`). A customer whose characters one system keeps
 * and whose passport spelling another does is not another person because `Chan` is not `chen`.
 *
 * Only the surname is read here (a given name's Cantonese spelling, `Tai Man` for 大文, is read
 * character by character in `cantonese.ts`; Hokkien and Teochew given names are not read): a
 * surname that matches this way says the names may be one, not that they are. A spelling that is itself the pinyin of a Mandarin surname (`Tan` is 谭 as well
 * as Hokkien 陈, `Wong`'s neighbour `Wang` is 王) is left to pinyin: a household's two surnames must
 * still tell two people apart.
 *
 * One line per pinyin surname (its common characters after it), then its spellings elsewhere:
 * the ones most often seen in Hong Kong, Singapore, Malaysian and Taiwanese names, not a complete
 * table (a spelling missing here compares as it did, as another surname).
 */
const TABLE = `
chen 陈: chan chin
li 李: lee lei
huang 黄: wong ng wee oei hwang
wang 王: wong ong
zhang 张: cheung chang teo teoh chong tiong
liu 刘: lau low lao
lin 林: lam lim
wu 吴: ng goh woo gouw
yang 杨: yeung yeo yeoh yong young
zhou 周: chow chew chou chau
zheng 郑: cheng tay teh tee
liang 梁: leung leong neo
he 何: ho hoe hor
guo 郭: kwok kuek quek kuo kok
xu 许徐: hui koh khoo hsu tsui chee
xie 谢: tse chia hsieh seah sia
cai 蔡: choi choy chua tsai
ye 叶: yip yap yeh yeap
luo 罗: law lo loh lor
deng 邓: teng
feng 冯: fung foong
zeng 曾: tsang tseng
peng 彭: phang
su 苏: so soh soo
lu 卢陆: lo lou loo luk
zhu 朱: chu choo
hu 胡: hoo oh
gao 高: ko koh kao
ma 马: mah
sun 孙: suen sng soon
xiao 萧: siu siow seow hsiao
zhao 赵: chiu chao teo chew
jiang 江蒋: chiang cheung tseung
zhong 钟: chung cheong chong
qiu 邱: yau khoo chiu hiew
ding 丁: ting
wei 魏: ngai gwee ngui
pan 潘: poon phua
yuan 袁: yuen
shao 邵: shiu
tang 唐汤: tong
fang 方: fong
guan 关: kwan kuan
jin 金: kam kim
wen 温: woon
mo 莫: mok
hou 侯: hau
shi 石: shek shih
liao 廖: leow liau
du 杜: to toh
lei 雷: lui
fu 傅: foo
shen 沈: sham sim shum
yao 姚: yiu
qian 钱: chien
gan 甘: kam
hong 洪: hung ang
tan 谭: tam
pang 庞: pong
yu 余于: yue yee
han 韩: hon
gong 龚: kung
yan 严: yim
cao 曹: tso tsao cho
song 宋: sung soong
tian 田: tin tien
dong 董: tung
xiong 熊: hung
`;

/** Pinyin of common Mandarin surnames a dialect spelling may coincide with (besides the table's own). */
const ALSO_MANDARIN = 'chang chai chu dang kang lao lou ling man quan tong tu wan yue'.split(' ');

const READINGS = new Map<string, string[]>();
{
  const lines = TABLE.trim()
    .split('\n')
    .map((line) => {
      const [head, rest] = line.split(':');
      return { pinyin: head.split(' ')[0], spellings: rest.trim().split(/\s+/) };
    });
  const mandarin = new Set([...lines.map((l) => l.pinyin), ...ALSO_MANDARIN]);
  for (const { pinyin, spellings } of lines) for (const s of spellings) if (!mandarin.has(s)) READINGS.set(s, [...(READINGS.get(s) ?? []), pinyin]);
}

/** The pinyin surnames a lower-case Latin word spells outside Mandarin pinyin (`wong`: huang, wang); none for a pinyin spelling. */
export function surnamesSpelt(word: string): readonly string[] {
  return READINGS.get(word) ?? [];
}

/** Every spelling of the table with the pinyin surnames it stands for. */
export function surnameSpellings(): ReadonlyMap<string, readonly string[]> {
  return READINGS;
}
