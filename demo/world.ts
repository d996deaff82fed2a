/**
 * The demo world: a seeded population of people and the rows each one leaves in the four
 * existing systems (demo/schema.ts), in those systems' own formats, with the noise real
 * customer data has.
 *
 * Streaming: `generatePeople` yields one person with all their rows at a time. Only id
 * counters and keyed permutations live between people, so memory stays flat at any size.
 *
 * Deterministic: every draw comes from a PRNG seeded by (seed, household number); ids come
 * from counters passed through permutations keyed by the seed. Seed + people + asOf fix every row.
 *
 * Honest: the ground truth of a row is the person who produced it, nothing else. The noise
 * rates below describe people and staff (how often someone changes phone, how often a clerk
 * types `00000000000`); none is tuned against any resolver.
 */
import type { SourceStore } from './schema';

/** Bump whenever the same (seed, people, asOf) would produce different rows. */
export const GENERATOR_VERSION = 2;

/** Largest world the id spaces are laid out for (phones, member numbers and tokens never run out below it). */
export const MAX_PEOPLE = 5_000_000;

const SECOND = 1000;
const DAY = 86_400 * SECOND;
/** How far back the world's history reaches from `asOf`. */
export const HISTORY_DAYS = 3 * 365;

// ---------------------------------------------------------------------------------------------
// Rates. Each is a property of people or of how staff and systems capture data.
// ---------------------------------------------------------------------------------------------

/**
 * Presence targets per system (share of people with at least one record there). They are
 * realised through engagement segments so presence is correlated: engaged people show up
 * everywhere, casual ones in one or two systems. Every person is in at least one system.
 */
export const PRESENCE_TARGETS: Record<SourceStore, number> = { crm: 0.6, orders: 0.7, support: 0.25, scrm: 0.5 };

/** Engagement segments; per-system presence tuned so the marginals above hold after "at least one". */
const SEGMENTS = [
  { name: 'engaged', weight: 0.3, presence: { crm: 0.84, orders: 0.86, support: 0.52, scrm: 0.78 }, member: 0.6, email: 0.8, orderMean: 5 },
  { name: 'regular', weight: 0.45, presence: { crm: 0.49, orders: 0.57, support: 0.16, scrm: 0.4 }, member: 0.35, email: 0.65, orderMean: 2.5 },
  { name: 'casual', weight: 0.25, presence: { crm: 0.24, orders: 0.38, support: 0.05, scrm: 0.2 }, member: 0.1, email: 0.45, orderMean: 1.4 },
] as const;

export const NOISE = {
  /** CRM people re-entered as a second contact (another rep, another campaign import). */
  crmDuplicate: 0.03,
  /** Shop people with a second account (overall); see `secondAccountIfRebind`. */
  shopSecondAccount: 0.08,
  /** People who changed their mobile during the window lose the old login far more often. */
  secondAccountIfRebind: 0.6,
  /** People who share their mobile with a family member (both counted: pairs are ~1% of households). */
  householdShare: 0.02,
  /** People who changed their mobile number during the window. */
  rebind: 0.05,
  /** CRM contacts whose mobile field holds a placeholder typed by staff. */
  crmPhonePlaceholder: 0.05,
  /** CRM contacts with no real email that staff filled with a placeholder. */
  crmEmailPlaceholder: 0.08,
  /** Store-channel shop accounts registered by a clerk with a placeholder mobile. */
  storePhonePlaceholder: 0.15,
  /** Shop accounts with no real email where a clerk typed a placeholder. */
  shopEmailPlaceholder: 0.02,
  /** Support users whose phone field holds a placeholder typed by an agent. */
  supportPhonePlaceholder: 0.04,
  /** Support users with a placeholder email (agent-created users for phone tickets). */
  supportEmailPlaceholder: 0.03,
  /** Email holders with a second address they use in some systems. */
  secondEmail: 0.2,
  /** Share of a person's records written with the second address (when they have one). */
  secondEmailUse: 0.35,
  /** Emails typed with upper case somewhere / padded with spaces. */
  emailCase: 0.15,
  emailPadding: 0.03,
  /** Gmail users who write the address with different dots in different systems. */
  gmailDots: 0.15,
  /** SCRM followers who bound a phone in the mini program. */
  scrmBoundPhone: 0.55,
  /** SCRM followers who unfollowed. */
  scrmUnsubscribed: 0.01,
  /** SCRM followers whose unionid the SCRM never stored (imported before the open-platform binding). */
  scrmMissingUnionid: 0.02,
  /** SCRM people who also use the mini program: a second openid under the same unionid. */
  scrmSecondOpenid: 0.03,
  /** Support users with an email who left no phone (email- and chat-born users). */
  supportPhoneMissing: 0.65,
  /** Orders refunded after payment. */
  orderRefund: 0.05,
} as const;

/** Values staff type when the customer gives none; each recurs on many unrelated records. */
export const PLACEHOLDER_PHONES = ['00000000000', '13800000000', '11111111111', '12345678901', '400-820-8820', '400-810-5888', 'null', 'N/A'] as const;
const PHONE_PLACEHOLDER_WEIGHTS = [26, 18, 12, 6, 14, 8, 10, 6];
export const PLACEHOLDER_EMAILS = ['test@test.com', 'none@none.com', 'null', 'N/A', 'a@a.com', 'noemail@163.com'] as const;
const EMAIL_PLACEHOLDER_WEIGHTS = [35, 22, 14, 9, 12, 8];

// ---------------------------------------------------------------------------------------------
// PRNG: sfc32, seeded through murmur3's finalizer; nothing here draws unseeded randomness.
// ---------------------------------------------------------------------------------------------

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A cumulative-weight table, built once, for fast weighted picks. */
export class Weighted<T> {
  private readonly cum: number[] = [];
  private readonly total: number;
  constructor(
    readonly items: readonly T[],
    weights: readonly number[],
  ) {
    if (items.length !== weights.length || !items.length) throw new Error('Weighted: items and weights must be non-empty and the same length');
    let s = 0;
    for (const w of weights) this.cum.push((s += w));
    this.total = s;
  }
  pick(rng: Rng): T {
    const x = rng.next() * this.total;
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }
}

function weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): Weighted<T> {
  return new Weighted(
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
  );
}

/** sfc32: small, fast, passes PractRand; the key is any list of 32-bit words. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(key: readonly number[]) {
    let h = 0x2545f491;
    for (const k of key) h = fmix32(h ^ fmix32((k >>> 0) + 0x9e3779b9));
    this.a = fmix32(h ^ 0x243f6a88);
    this.b = fmix32(h ^ 0x85a308d3);
    this.c = fmix32(h ^ 0x13198a2e);
    this.d = fmix32(h ^ 0x03707344);
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** Uniform instant in [lo, hi), whole milliseconds. */
  between(lo: number, hi: number): number {
    return hi <= lo ? lo : lo + Math.floor(this.next() * (hi - lo));
  }
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

/** The seed's 53 bits as two words, so seeds above 2^32 still differ. */
function seedWords(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

/**
 * A keyed bijection of [0, size): a 4-round Feistel network on the next even bit width,
 * cycle-walked back into range. Turns a counter into ids that are unique by construction
 * yet carry no trace of generation order (so neighbouring ids are not neighbouring people).
 */
export class KeyedPermutation {
  private readonly half: number;
  private readonly mask: number;
  private readonly keys: number[];
  constructor(
    readonly size: number,
    rng: Rng,
  ) {
    let bits = 2;
    while (2 ** bits < size) bits++;
    if (bits % 2) bits++;
    if (bits > 32) throw new Error(`KeyedPermutation: size ${size} exceeds 2^32`);
    this.half = bits / 2;
    this.mask = 2 ** this.half - 1;
    this.keys = [rng.u32(), rng.u32(), rng.u32(), rng.u32()];
  }
  at(i: number): number {
    if (!(i >= 0 && i < this.size && Number.isInteger(i))) throw new Error(`KeyedPermutation: index ${i} outside [0, ${this.size})`);
    let x = i;
    do x = this.round(x);
    while (x >= this.size);
    return x;
  }
  private round(x: number): number {
    let l = Math.floor(x / 2 ** this.half);
    let r = x & this.mask;
    for (const k of this.keys) {
      const t = (l ^ fmix32(r ^ k)) & this.mask;
      l = r;
      r = t;
    }
    return l * 2 ** this.half + r;
  }
}

/** A counter whose values come out permuted; throws past its capacity rather than repeat. */
class IdSpace {
  private next = 0;
  private readonly perm: KeyedPermutation;
  constructor(
    private readonly name: string,
    capacity: number,
    rng: Rng,
  ) {
    this.perm = new KeyedPermutation(capacity, rng);
  }
  take(): number {
    if (this.next >= this.perm.size) throw new Error(`demo world: ${this.name} id space (${this.perm.size}) exhausted`);
    return this.perm.at(this.next++);
  }
}

// ---------------------------------------------------------------------------------------------
// Reference data
// ---------------------------------------------------------------------------------------------

/** Common surnames with approximate shares (per mille) of China's population. */
const SURNAMES = weighted<readonly [string, string]>([
  [['王', 'wang'], 71],
  [['李', 'li'], 70],
  [['张', 'zhang'], 67],
  [['刘', 'liu'], 54],
  [['陈', 'chen'], 45],
  [['杨', 'yang'], 31],
  [['黄', 'huang'], 22],
  [['赵', 'zhao'], 20],
  [['吴', 'wu'], 20],
  [['周', 'zhou'], 19],
  [['徐', 'xu'], 15],
  [['孙', 'sun'], 15],
  [['马', 'ma'], 13],
  [['朱', 'zhu'], 13],
  [['胡', 'hu'], 12],
  [['郭', 'guo'], 12],
  [['何', 'he'], 11],
  [['高', 'gao'], 11],
  [['林', 'lin'], 11],
  [['罗', 'luo'], 9],
  [['郑', 'zheng'], 9],
  [['梁', 'liang'], 9],
  [['谢', 'xie'], 8],
  [['宋', 'song'], 8],
  [['唐', 'tang'], 8],
  [['许', 'xu'], 7],
  [['韩', 'han'], 7],
  [['冯', 'feng'], 7],
  [['邓', 'deng'], 7],
  [['曹', 'cao'], 7],
  [['彭', 'peng'], 6],
  [['曾', 'zeng'], 6],
  [['肖', 'xiao'], 6],
  [['田', 'tian'], 6],
  [['董', 'dong'], 5],
  [['袁', 'yuan'], 5],
  [['潘', 'pan'], 5],
  [['于', 'yu'], 5],
  [['蒋', 'jiang'], 5],
  [['蔡', 'cai'], 5],
  [['余', 'yu'], 5],
  [['杜', 'du'], 5],
  [['叶', 'ye'], 4],
  [['程', 'cheng'], 4],
  [['苏', 'su'], 4],
  [['魏', 'wei'], 4],
  [['吕', 'lv'], 4],
  [['丁', 'ding'], 4],
  [['任', 'ren'], 4],
  [['沈', 'shen'], 4],
  [['姚', 'yao'], 4],
  [['卢', 'lu'], 4],
  [['姜', 'jiang'], 3],
  [['崔', 'cui'], 3],
  [['钟', 'zhong'], 3],
  [['谭', 'tan'], 3],
  [['陆', 'lu'], 3],
  [['汪', 'wang'], 3],
  [['范', 'fan'], 3],
  [['金', 'jin'], 3],
  [['石', 'shi'], 3],
  [['廖', 'liao'], 3],
  [['贾', 'jia'], 3],
  [['夏', 'xia'], 3],
  [['韦', 'wei'], 3],
  [['付', 'fu'], 3],
  [['方', 'fang'], 3],
  [['白', 'bai'], 3],
  [['邹', 'zou'], 3],
  [['孟', 'meng'], 3],
  [['熊', 'xiong'], 3],
  [['秦', 'qin'], 3],
  [['邱', 'qiu'], 3],
  [['江', 'jiang'], 3],
  [['尹', 'yin'], 3],
  [['薛', 'xue'], 2],
  [['闫', 'yan'], 2],
  [['段', 'duan'], 2],
  [['雷', 'lei'], 2],
  [['侯', 'hou'], 2],
  [['龙', 'long'], 2],
  [['史', 'shi'], 2],
  [['陶', 'tao'], 2],
  [['黎', 'li'], 2],
  [['贺', 'he'], 2],
  [['顾', 'gu'], 2],
  [['毛', 'mao'], 2],
  [['郝', 'hao'], 2],
  [['龚', 'gong'], 2],
  [['邵', 'shao'], 2],
  [['万', 'wan'], 2],
  [['钱', 'qian'], 2],
  [['严', 'yan'], 2],
  [['武', 'wu'], 2],
  [['戴', 'dai'], 2],
  [['欧阳', 'ouyang'], 0.5],
  [['司马', 'sima'], 0.1],
  [['上官', 'shangguan'], 0.1],
  [['诸葛', 'zhuge'], 0.1],
]);

/** Given-name characters by gender, each with its pinyin; frequent characters weigh more. */
const GIVEN_MALE = weighted<readonly [string, string]>([
  [['伟', 'wei'], 9],
  [['强', 'qiang'], 5],
  [['磊', 'lei'], 5],
  [['军', 'jun'], 5],
  [['洋', 'yang'], 4],
  [['勇', 'yong'], 4],
  [['杰', 'jie'], 5],
  [['涛', 'tao'], 4],
  [['明', 'ming'], 5],
  [['超', 'chao'], 4],
  [['刚', 'gang'], 3],
  [['平', 'ping'], 3],
  [['辉', 'hui'], 4],
  [['鹏', 'peng'], 3],
  [['华', 'hua'], 4],
  [['飞', 'fei'], 3],
  [['鑫', 'xin'], 3],
  [['波', 'bo'], 3],
  [['斌', 'bin'], 3],
  [['宇', 'yu'], 4],
  [['浩', 'hao'], 4],
  [['凯', 'kai'], 3],
  [['健', 'jian'], 3],
  [['俊', 'jun'], 3],
  [['帆', 'fan'], 2],
  [['帅', 'shuai'], 2],
  [['旭', 'xu'], 2],
  [['宁', 'ning'], 2],
  [['龙', 'long'], 3],
  [['林', 'lin'], 2],
  [['阳', 'yang'], 3],
  [['建', 'jian'], 4],
  [['国', 'guo'], 4],
  [['志', 'zhi'], 4],
  [['文', 'wen'], 4],
  [['博', 'bo'], 2],
  [['子', 'zi'], 3],
  [['轩', 'xuan'], 2],
  [['晨', 'chen'], 2],
  [['睿', 'rui'], 2],
  [['泽', 'ze'], 2],
  [['天', 'tian'], 2],
  [['一', 'yi'], 2],
  [['嘉', 'jia'], 2],
  [['思', 'si'], 1],
  [['振', 'zhen'], 2],
  [['海', 'hai'], 3],
  [['峰', 'feng'], 3],
  [['亮', 'liang'], 3],
  [['成', 'cheng'], 2],
  [['东', 'dong'], 3],
  [['永', 'yong'], 2],
  [['庆', 'qing'], 2],
  [['德', 'de'], 2],
  [['毅', 'yi'], 2],
  [['豪', 'hao'], 2],
  [['铭', 'ming'], 2],
  [['皓', 'hao'], 2],
  [['然', 'ran'], 2],
  [['航', 'hang'], 2],
]);
const GIVEN_FEMALE = weighted<readonly [string, string]>([
  [['芳', 'fang'], 6],
  [['娜', 'na'], 5],
  [['敏', 'min'], 5],
  [['静', 'jing'], 6],
  [['丽', 'li'], 6],
  [['艳', 'yan'], 4],
  [['娟', 'juan'], 4],
  [['霞', 'xia'], 4],
  [['秀', 'xiu'], 3],
  [['英', 'ying'], 3],
  [['玲', 'ling'], 4],
  [['桂', 'gui'], 2],
  [['兰', 'lan'], 3],
  [['萍', 'ping'], 3],
  [['红', 'hong'], 4],
  [['燕', 'yan'], 4],
  [['梅', 'mei'], 4],
  [['莉', 'li'], 3],
  [['婷', 'ting'], 5],
  [['雪', 'xue'], 4],
  [['琳', 'lin'], 3],
  [['慧', 'hui'], 4],
  [['颖', 'ying'], 3],
  [['洁', 'jie'], 3],
  [['倩', 'qian'], 3],
  [['佳', 'jia'], 4],
  [['欣', 'xin'], 4],
  [['悦', 'yue'], 3],
  [['怡', 'yi'], 3],
  [['琪', 'qi'], 3],
  [['晶', 'jing'], 2],
  [['丹', 'dan'], 3],
  [['蕾', 'lei'], 2],
  [['薇', 'wei'], 3],
  [['雯', 'wen'], 2],
  [['璐', 'lu'], 2],
  [['瑶', 'yao'], 3],
  [['妍', 'yan'], 2],
  [['涵', 'han'], 3],
  [['梓', 'zi'], 2],
  [['萱', 'xuan'], 2],
  [['诗', 'shi'], 2],
  [['雨', 'yu'], 3],
  [['思', 'si'], 3],
  [['晓', 'xiao'], 4],
  [['文', 'wen'], 2],
  [['春', 'chun'], 2],
  [['月', 'yue'], 2],
  [['美', 'mei'], 2],
  [['淑', 'shu'], 2],
  [['玉', 'yu'], 3],
  [['珍', 'zhen'], 2],
  [['凤', 'feng'], 2],
  [['彤', 'tong'], 2],
  [['宁', 'ning'], 2],
  [['楠', 'nan'], 2],
  [['可', 'ke'], 2],
  [['馨', 'xin'], 2],
  [['一', 'yi'], 1],
  [['琴', 'qin'], 2],
]);

/** Characters staff mistype for a same-sounding one (homophones picked from the IME list). */
const HOMOPHONES: string[][] = [
  ['伟', '玮', '炜', '薇'],
  ['丽', '莉', '力', '立'],
  ['静', '婧', '晶', '敬'],
  ['杰', '洁', '婕', '捷'],
  ['军', '君', '俊', '峻'],
  ['敏', '民', '闵'],
  ['涛', '韬', '滔'],
  ['明', '铭', '鸣'],
  ['华', '桦', '骅'],
  ['红', '虹', '宏', '鸿'],
  ['英', '颖', '莹', '瑛'],
  ['玲', '琳', '林', '凌'],
  ['燕', '艳', '彦', '妍'],
  ['辉', '晖', '慧', '惠'],
  ['磊', '蕾', '雷'],
  ['超', '潮'],
  ['鹏', '朋'],
  ['斌', '彬', '滨'],
  ['洋', '阳', '扬', '杨'],
  ['强', '蔷'],
  ['平', '萍', '苹'],
  ['霞', '侠'],
  ['娟', '鹃'],
  ['婷', '亭', '庭'],
  ['雪', '学'],
  ['倩', '茜'],
  ['佳', '嘉', '家'],
  ['欣', '鑫', '新', '馨'],
  ['悦', '越', '月'],
  ['怡', '宜', '仪'],
  ['琪', '琦', '奇', '棋'],
  ['宇', '雨', '羽', '语', '玉'],
  ['浩', '昊', '皓', '豪'],
  ['凯', '恺'],
  ['健', '建', '剑'],
  ['帆', '凡'],
  ['旭', '煦'],
  ['宁', '凝'],
  ['龙', '隆'],
  ['国', '果'],
  ['芳', '方'],
  ['梅', '玫', '媚'],
  ['涵', '晗', '含'],
];
const HOMOPHONE_OF = new Map<string, string[]>();
for (const group of HOMOPHONES)
  for (const c of group)
    HOMOPHONE_OF.set(
      c,
      group.filter((x) => x !== c),
    );

/** Province → cities, weighted roughly by population. Municipalities name themselves twice. */
const PLACES = weighted<{ province: string; suffix: string; cities: readonly string[] }>([
  [{ province: '广东', suffix: '省', cities: ['广州', '深圳', '东莞', '佛山'] }, 12],
  [{ province: '江苏', suffix: '省', cities: ['南京', '苏州', '无锡', '常州'] }, 8],
  [{ province: '山东', suffix: '省', cities: ['济南', '青岛', '烟台'] }, 7],
  [{ province: '浙江', suffix: '省', cities: ['杭州', '宁波', '温州'] }, 7],
  [{ province: '河南', suffix: '省', cities: ['郑州', '洛阳'] }, 6],
  [{ province: '四川', suffix: '省', cities: ['成都', '绵阳'] }, 6],
  [{ province: '河北', suffix: '省', cities: ['石家庄', '唐山', '保定'] }, 5],
  [{ province: '湖北', suffix: '省', cities: ['武汉', '宜昌'] }, 4.5],
  [{ province: '湖南', suffix: '省', cities: ['长沙', '株洲'] }, 4.5],
  [{ province: '安徽', suffix: '省', cities: ['合肥', '芜湖'] }, 4],
  [{ province: '福建', suffix: '省', cities: ['福州', '厦门', '泉州'] }, 3.5],
  [{ province: '上海', suffix: '市', cities: ['上海'] }, 3],
  [{ province: '北京', suffix: '市', cities: ['北京'] }, 3],
  [{ province: '陕西', suffix: '省', cities: ['西安', '咸阳'] }, 3],
  [{ province: '辽宁', suffix: '省', cities: ['沈阳', '大连'] }, 3],
  [{ province: '江西', suffix: '省', cities: ['南昌', '赣州'] }, 3],
  [{ province: '广西', suffix: '壮族自治区', cities: ['南宁', '柳州'] }, 3],
  [{ province: '云南', suffix: '省', cities: ['昆明', '大理'] }, 3],
  [{ province: '贵州', suffix: '省', cities: ['贵阳'] }, 2.7],
  [{ province: '重庆', suffix: '市', cities: ['重庆'] }, 2.5],
  [{ province: '山西', suffix: '省', cities: ['太原'] }, 2.5],
  [{ province: '黑龙江', suffix: '省', cities: ['哈尔滨'] }, 2.3],
  [{ province: '新疆', suffix: '维吾尔自治区', cities: ['乌鲁木齐'] }, 1.8],
  [{ province: '甘肃', suffix: '省', cities: ['兰州'] }, 1.8],
  [{ province: '吉林', suffix: '省', cities: ['长春'] }, 1.7],
  [{ province: '内蒙古', suffix: '自治区', cities: ['呼和浩特'] }, 1.7],
  [{ province: '天津', suffix: '市', cities: ['天津'] }, 1.5],
  [{ province: '海南', suffix: '省', cities: ['海口', '三亚'] }, 0.7],
  [{ province: '宁夏', suffix: '回族自治区', cities: ['银川'] }, 0.5],
  [{ province: '青海', suffix: '省', cities: ['西宁'] }, 0.4],
  [{ province: '西藏', suffix: '自治区', cities: ['拉萨'] }, 0.2],
]);

/** Mobile number-segment prefixes in use (China Mobile, Unicom, Telecom, Broadnet), old ones commoner. */
const MOBILE_PREFIXES = weighted<string>([
  ['134', 3],
  ['135', 5],
  ['136', 5],
  ['137', 5],
  ['138', 6],
  ['139', 6],
  ['130', 3],
  ['131', 3],
  ['132', 3],
  ['133', 3],
  ['150', 3],
  ['151', 3],
  ['152', 3],
  ['153', 2],
  ['155', 2],
  ['156', 2],
  ['157', 2],
  ['158', 3],
  ['159', 3],
  ['170', 0.5],
  ['171', 0.5],
  ['173', 1],
  ['175', 1],
  ['176', 1],
  ['177', 1],
  ['178', 1],
  ['180', 2],
  ['181', 2],
  ['182', 2],
  ['183', 2],
  ['184', 1],
  ['185', 2],
  ['186', 3],
  ['187', 3],
  ['188', 2],
  ['189', 3],
  ['191', 1],
  ['192', 0.5],
  ['193', 1],
  ['195', 0.5],
  ['198', 1],
  ['199', 1.5],
]);

type EmailKind = 'qq' | 'mobile' | 'pinyin';
const EMAIL_PROVIDERS = weighted<{ domain: string; kind: EmailKind }>([
  [{ domain: 'qq.com', kind: 'qq' }, 33],
  [{ domain: '163.com', kind: 'pinyin' }, 20],
  [{ domain: '126.com', kind: 'pinyin' }, 7],
  [{ domain: 'gmail.com', kind: 'pinyin' }, 6],
  [{ domain: 'sina.com', kind: 'pinyin' }, 4],
  [{ domain: 'hotmail.com', kind: 'pinyin' }, 4],
  [{ domain: 'outlook.com', kind: 'pinyin' }, 4],
  [{ domain: 'foxmail.com', kind: 'pinyin' }, 3],
  [{ domain: '139.com', kind: 'mobile' }, 3],
  [{ domain: 'yeah.net', kind: 'pinyin' }, 2],
  [{ domain: 'sohu.com', kind: 'pinyin' }, 2],
  [{ domain: 'aliyun.com', kind: 'pinyin' }, 1],
  [{ domain: 'huaxin-tech.com', kind: 'pinyin' }, 2],
  [{ domain: 'dongfang-steel.com.cn', kind: 'pinyin' }, 1.5],
  [{ domain: 'zhongyuan-bank.cn', kind: 'pinyin' }, 1.5],
  [{ domain: 'lingxi.io', kind: 'pinyin' }, 1],
  [{ domain: 'cn.acme-corp.com', kind: 'pinyin' }, 1.5],
  [{ domain: 'jinghua-edu.cn', kind: 'pinyin' }, 1],
  [{ domain: 'sz-gov.cn', kind: 'pinyin' }, 0.5],
]);

export const TIERS = ['bronze', 'silver', 'gold', 'platinum'] as const;
const TIER_TARGET = [new Weighted([0, 1, 2, 3], [10, 25, 40, 25]), new Weighted([0, 1, 2, 3], [50, 35, 13, 2]), new Weighted([0, 1, 2, 3], [88, 10, 2, 0])];
export const OWNER_TEAMS = ['team_north', 'team_south', 'team_east', 'team_west', 'team_central'] as const;
const REPS_PER_TEAM = 8;

export const SHOP_CHANNELS = ['tmall', 'jd', 'miniprogram', 'store'] as const;
const SHOP_CHANNEL = new Weighted(SHOP_CHANNELS, [35, 25, 25, 15]);

interface Product {
  sku: string;
  name: string;
  category: string;
  cents: number;
}
const CATALOG_SOURCE: Record<string, Array<[string, number]>> = {
  apparel: [
    ['纯棉圆领T恤', 7900],
    ['修身牛仔裤', 25900],
    ['轻薄羽绒服', 69900],
    ['加绒连帽卫衣', 19900],
    ['真丝衬衫', 45900],
    ['羊毛围巾', 15900],
  ],
  beauty: [
    ['玻尿酸保湿面膜10片', 12900],
    ['氨基酸洁面乳', 8900],
    ['清爽防晒霜SPF50', 16800],
    ['丝绒哑光口红', 32000],
    ['修护精华液30ml', 59000],
  ],
  electronics: [
    ['降噪蓝牙耳机', 39900],
    ['快充充电宝10000mAh', 14900],
    ['智能运动手环', 22900],
    ['机械键盘', 49900],
    ['27英寸4K显示器', 219900],
    ['Type-C数据线', 2900],
  ],
  home: [
    ['记忆棉枕头', 15900],
    ['纯棉四件套', 39900],
    ['不粘炒锅', 26900],
    ['收纳箱三件套', 8900],
    ['香薰蜡烛', 6900],
    ['电动牙刷', 19900],
  ],
  food: [
    ['每日坚果30袋', 13900],
    ['挂耳咖啡50包', 9900],
    ['东北有机大米5kg', 7990],
    ['纯牛奶250ml*24', 8900],
    ['手工牛轧糖', 4500],
  ],
  baby: [
    ['纸尿裤L码', 16900],
    ['婴儿湿巾80抽*6', 5990],
    ['婴幼儿配方奶粉3段', 35800],
    ['儿童保温杯', 12900],
    ['宝宝米粉', 6800],
  ],
  sports: [
    ['加厚瑜伽垫', 9900],
    ['缓震跑步鞋', 54900],
    ['速干运动T恤', 12900],
    ['可调节哑铃', 25900],
    ['碳素羽毛球拍', 18900],
  ],
  books: [
    ['三体全集', 9300],
    ['人类简史', 6800],
    ['小王子', 2980],
    ['活着', 3950],
    ['明朝那些事儿', 15800],
  ],
};
const CATEGORIES = Object.keys(CATALOG_SOURCE);
const CATALOG: Record<string, Product[]> = {};
for (const [category, items] of Object.entries(CATALOG_SOURCE)) {
  const code = category.slice(0, 3).toUpperCase();
  CATALOG[category] = items.map(([name, cents], i) => ({ sku: `${code}-${10001 + i * 37}`, name, category, cents }));
}

const REFUND_REASONS = ['七天无理由退货', '商品质量问题', '发错货', '尺码不合适', '物流太慢', '重复下单', '与描述不符'];

const TICKET_SUBJECTS = [
  '订单还没收到',
  '申请退货退款',
  '退款进度查询',
  '发票怎么开',
  '商品有质量问题',
  '修改收货地址',
  '会员积分没到账',
  '优惠券无法使用',
  '尺码不合适想换货',
  '物流信息不更新',
  '账号无法登录',
  '想注销账号',
  '咨询商品使用方法',
  '投诉快递服务',
  '重复扣款',
  '会员等级疑问',
  '赠品没有收到',
  '电子产品保修咨询',
  'Where is my order?',
  'Refund request',
];
const TICKET_CHANNEL = new Weighted(['email', 'web', 'chat', 'phone', 'wechat'], [25, 20, 25, 15, 15]);
const TICKET_PRIORITY = new Weighted<string | null>(['low', 'normal', 'high', 'urgent', null], [15, 55, 18, 4, 8]);
const SATISFACTION = new Weighted([5, 4, 3, 2, 1], [45, 25, 12, 8, 10]);

const NICKNAMES = [
  '阳光',
  '平安是福',
  '岁月静好',
  '小蜗牛',
  'Lucky',
  'Jason',
  'momo',
  'Cherry',
  '一路向北',
  '大白',
  '静待花开',
  '🍀微笑',
  '守望幸福',
  '简单',
  '追梦人',
  'A-小王',
  '花开半夏',
  '海阔天空',
  'Kevin',
  'Amy',
  '知足常乐',
  '清风徐来',
  '橙子',
  '小鱼儿',
  'Sunny',
  '夏天',
  '随遇而安',
  '奔跑吧',
  '🌸',
  'Tina',
  '木子',
  '糖糖',
  '老张',
  '晴天',
];
const SCRM_TAGS = new Weighted([2, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110], [8, 10, 9, 7, 7, 6, 6, 5, 4, 4, 3, 3]);
const COUPONS = new Weighted<readonly [string, string]>(
  [
    ['新人礼券', '10.00'],
    ['满199减20', '20.00'],
    ['满399减50', '50.00'],
    ['会员日专享券', '30.00'],
    ['生日礼券', '50.00'],
    ['免运费券', '8.00'],
    ['满99减5', '5.00'],
  ],
  [20, 25, 12, 12, 8, 15, 8],
);
const GROUP_CHAT_NAMES = [
  '会员福利群1',
  '会员福利群2',
  '会员福利群3',
  '北京粉丝群',
  '上海粉丝群',
  '广州粉丝群',
  '深圳粉丝群',
  '成都粉丝群',
  '宝妈交流群',
  '数码发烧友群',
  '运动打卡群',
  '美妆种草群',
  '新品内测群',
  '读书会',
  '吃货福利群',
  'VIP尊享群',
  '杭州粉丝群',
  '武汉粉丝群',
  '南京粉丝群',
  '秒杀预告群',
  '家居好物群',
  '跑步俱乐部',
  '老客回馈群',
  '直播预告群',
];

const URLSAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// ---------------------------------------------------------------------------------------------
// Rows, one interface per table, columns exactly as demo/schema.ts declares them.
// ---------------------------------------------------------------------------------------------

export interface CrmContactRow {
  contact_id: string;
  name: string | null;
  mobile: string | null;
  email: string | null;
  gender: string | null;
  birthday: string | null;
  province: string | null;
  city: string | null;
  member_no: string | null;
  tier: string | null;
  owner_rep: string | null;
  owner_team: string | null;
  sms_opt_in: number | null;
  email_opt_in: number | null;
  created_at: string;
  updated_at: string;
}
export interface CrmTierChangeRow {
  change_id: number;
  contact_id: string;
  from_tier: string | null;
  to_tier: string;
  changed_at: string;
}
export interface ShopAccountRow {
  account_id: number;
  mobile: string | null;
  member_no: string | null;
  email: string | null;
  channel: string;
  registered_at: number;
  updated_at: number;
}
export interface OrderRow {
  order_id: number;
  account_id: number;
  status: string;
  channel: string;
  total_cents: number;
  currency: string;
  placed_at: number;
  paid_at: number | null;
}
export interface OrderLineRow {
  line_id: number;
  order_id: number;
  sku: string;
  name: string;
  category: string;
  qty: number;
  unit_price_cents: number;
}
export interface RefundRow {
  refund_id: number;
  order_id: number;
  amount_cents: number;
  reason: string | null;
  refunded_at: number;
}
export interface SupportUserRow {
  id: number;
  name: string | null;
  email: string | null;
  phone: string | null;
  created_at: string;
  updated_at: string;
}
export interface SupportTicketRow {
  id: number;
  requester_id: number;
  subject: string;
  status: string;
  priority: string | null;
  channel: string;
  satisfaction_score: number | null;
  created_at: string;
  updated_at: string;
  solved_at: string | null;
}
export interface ScrmFollowerRow {
  openid: string;
  unionid: string | null;
  nickname: string | null;
  sex: number;
  city: string | null;
  province: string | null;
  country: string | null;
  subscribe: number;
  subscribe_time: number | null;
  unsubscribe_time: number | null;
  tagid_list: string;
  bound_phone: string | null;
  member_no: string | null;
  updated_at: number;
}
export interface ScrmCouponRow {
  coupon_id: string;
  openid: string;
  title: string;
  value: string;
  status: string;
  received_at: number;
  redeemed_at: number | null;
}
export interface ScrmGroupMemberRow {
  id: number;
  openid: string;
  chat_id: string;
  chat_name: string;
  join_time: number;
}

export interface TableRows {
  crm_contacts: CrmContactRow[];
  crm_tier_changes: CrmTierChangeRow[];
  shop_accounts: ShopAccountRow[];
  orders: OrderRow[];
  order_lines: OrderLineRow[];
  refunds: RefundRow[];
  support_users: SupportUserRow[];
  support_tickets: SupportTicketRow[];
  scrm_followers: ScrmFollowerRow[];
  scrm_coupons: ScrmCouponRow[];
  scrm_group_members: ScrmGroupMemberRow[];
}
export type TableName = keyof TableRows;

/** Every table, its store and its columns in insert order. */
export const TABLES: { [T in TableName]: { store: SourceStore; columns: ReadonlyArray<keyof TableRows[T][number]> } } = {
  crm_contacts: {
    store: 'crm',
    columns: [
      'contact_id',
      'name',
      'mobile',
      'email',
      'gender',
      'birthday',
      'province',
      'city',
      'member_no',
      'tier',
      'owner_rep',
      'owner_team',
      'sms_opt_in',
      'email_opt_in',
      'created_at',
      'updated_at',
    ],
  },
  crm_tier_changes: { store: 'crm', columns: ['change_id', 'contact_id', 'from_tier', 'to_tier', 'changed_at'] },
  shop_accounts: { store: 'orders', columns: ['account_id', 'mobile', 'member_no', 'email', 'channel', 'registered_at', 'updated_at'] },
  orders: { store: 'orders', columns: ['order_id', 'account_id', 'status', 'channel', 'total_cents', 'currency', 'placed_at', 'paid_at'] },
  order_lines: { store: 'orders', columns: ['line_id', 'order_id', 'sku', 'name', 'category', 'qty', 'unit_price_cents'] },
  refunds: { store: 'orders', columns: ['refund_id', 'order_id', 'amount_cents', 'reason', 'refunded_at'] },
  support_users: { store: 'support', columns: ['id', 'name', 'email', 'phone', 'created_at', 'updated_at'] },
  support_tickets: {
    store: 'support',
    columns: ['id', 'requester_id', 'subject', 'status', 'priority', 'channel', 'satisfaction_score', 'created_at', 'updated_at', 'solved_at'],
  },
  scrm_followers: {
    store: 'scrm',
    columns: [
      'openid',
      'unionid',
      'nickname',
      'sex',
      'city',
      'province',
      'country',
      'subscribe',
      'subscribe_time',
      'unsubscribe_time',
      'tagid_list',
      'bound_phone',
      'member_no',
      'updated_at',
    ],
  },
  scrm_coupons: { store: 'scrm', columns: ['coupon_id', 'openid', 'title', 'value', 'status', 'received_at', 'redeemed_at'] },
  scrm_group_members: { store: 'scrm', columns: ['id', 'openid', 'chat_id', 'chat_name', 'join_time'] },
};
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** The table holding each source's OneID records, and how to read the record id off a row. */
export const RECORD_TABLES = {
  crm: { table: 'crm_contacts', id: (r: CrmContactRow) => r.contact_id },
  orders: { table: 'shop_accounts', id: (r: ShopAccountRow) => String(r.account_id) },
  support: { table: 'support_users', id: (r: SupportUserRow) => String(r.id) },
  scrm: { table: 'scrm_followers', id: (r: ScrmFollowerRow) => r.openid },
} as const;

// ---------------------------------------------------------------------------------------------
// People
// ---------------------------------------------------------------------------------------------

export type HouseholdRole = 'spouse' | 'parent' | 'child';

/** The truth about one person: what they are, not what any system recorded. */
export interface Person {
  id: string;
  name: string;
  surname: string;
  given: string;
  /** Pinyin syllables: surname, then the given name's characters. */
  pinyin: { surname: string; given: string[] };
  gender: 'M' | 'F';
  birthday: string;
  province: string;
  city: string;
  segment: (typeof SEGMENTS)[number]['name'];
  /** When the person first dealt with the brand (unix ms). */
  since: number;
  /** Own mobile numbers (11 digits), oldest first, each in use from `from` (unix ms; 0 for the first); empty when they have none. */
  phones: Array<{ number: string; from: number }>;
  /** A family member's mobile this person also gives (household phone), or null. */
  sharedPhone: string | null;
  /** The person whose mobile is shared, and this person's relation to them. */
  household: { with: string; role: HouseholdRole } | null;
  /** Primary address first; a second one some systems got instead. */
  emails: string[];
  unionid: string | null;
  memberNo: string | null;
  presence: Record<SourceStore, boolean>;
  /** Favourite product categories (indices into the catalogue's categories). */
  favourites: number[];
  /** Which noise this person carries, for statistics; the rows are the evidence. */
  noise: {
    crmDuplicate: boolean;
    secondAccount: 'oldPhone' | 'emailOnly' | 'otherChannel' | null;
    rebind: boolean;
    scrmSecondOpenid: boolean;
  };
}

export interface PersonRecords {
  person: Person;
  rows: TableRows;
}

export interface WorldOptions {
  people: number;
  seed: number;
  /** The world's "now": every time lies in the 3 years before it. Default: today 00:00 UTC. */
  asOf?: Date | string | number;
}

/** Today at 00:00 UTC: stable for a whole day, so a world generated twice in a day is the same. */
export function defaultAsOf(now: number = Date.now()): number {
  return Math.floor(now / DAY) * DAY;
}

/** Reads asOf as a Date, unix ms, `YYYY-MM-DD` (00:00 UTC) or an ISO instant; throws on anything else. */
export function parseAsOf(asOf: Date | string | number | undefined): number {
  if (asOf === undefined) return defaultAsOf();
  let ms = NaN;
  if (asOf instanceof Date) ms = asOf.getTime();
  else if (typeof asOf === 'number') ms = asOf;
  else if (/^\d{4}-\d{2}-\d{2}(T.*)?$/.test(asOf)) {
    ms = Date.parse(asOf.length === 10 ? `${asOf}T00:00:00Z` : asOf);
    // Date.parse rolls 2026-02-31 over into March; a calendar date must name itself.
    if (Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) !== asOf.slice(0, 10) && asOf.length === 10) ms = NaN;
  }
  if (!Number.isFinite(ms) || ms < Date.UTC(2000, 0, 1) || ms > Date.UTC(2200, 0, 1)) throw new Error(`asOf must be a date such as 2026-11-01 (got ${JSON.stringify(asOf)})`);
  return Math.floor(ms / SECOND) * SECOND;
}

/** Throws with the contract when options cannot make a world. */
export function assertWorldOptions(o: WorldOptions): void {
  if (!Number.isSafeInteger(o.people) || o.people < 1 || o.people > MAX_PEOPLE) throw new Error(`people must be an integer in 1..${MAX_PEOPLE} (got ${o.people})`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new Error(`seed must be a non-negative integer (got ${o.seed})`);
}

/** World-wide state: id spaces and fixed app prefixes. Nothing here grows with the world. */
class WorldContext {
  readonly asOf: number;
  readonly start: number;
  readonly contactIds: IdSpace;
  readonly accountIds: IdSpace;
  readonly supportIds: IdSpace;
  readonly phoneSuffixes: IdSpace;
  readonly emailTokens: IdSpace;
  readonly qqNumbers: IdSpace;
  readonly memberNos: IdSpace;
  readonly contactWidth: number;
  /** WeChat ids of one app share their first characters; each app (and the open platform) has its own. */
  readonly openidPrefix: string;
  readonly miniOpenidPrefix: string;
  readonly unionidPrefix: string;
  readonly chats: Array<{ id: string; name: string }>;
  readonly rebindShare: number;
  nextOrder = 1;
  nextLine = 1;
  nextRefund = 1;
  nextTicket = 1;
  nextCoupon = 1;
  nextTierChange = 1;
  nextGroupMember = 1;

  constructor(seed: number, people: number, asOf: number) {
    this.asOf = asOf;
    this.start = asOf - HISTORY_DAYS * DAY;
    // Key lengths differ from the per-household keys, so no household ever replays this stream.
    const k = new Rng([...seedWords(seed)]);
    // Each person has at most 2 contacts, 2 accounts, 1 support user, 2 phones, 2 emails.
    const cap = 2 * people + 16;
    this.contactIds = new IdSpace('crm contact', cap, k);
    this.contactWidth = Math.max(7, String(cap).length);
    this.accountIds = new IdSpace('shop account', cap, k);
    this.supportIds = new IdSpace('support user', people + 16, k);
    this.phoneSuffixes = new IdSpace('mobile', 1e8, k);
    this.emailTokens = new IdSpace('email', 10 ** Math.max(4, String(cap).length), k);
    this.qqNumbers = new IdSpace('qq', 9e8, k);
    this.memberNos = new IdSpace('member', 1e8, k);
    this.openidPrefix = 'o' + k.chars(URLSAFE, 5);
    this.miniOpenidPrefix = 'o' + k.chars(URLSAFE, 5);
    this.unionidPrefix = 'o' + k.chars(URLSAFE, 4);
    this.chats = GROUP_CHAT_NAMES.map((name) => ({ id: 'wr' + k.chars(ALNUM, 28), name }));
    // Rebinds need time on both sides of the change; scale so ~NOISE.rebind of everyone rebinds.
    this.rebindShare = NOISE.rebind / ((HISTORY_DAYS - 120) / HISTORY_DAYS);
  }

  newMobile(rng: Rng): string {
    for (;;) {
      let s = this.phoneSuffixes.take();
      // A suffix of zeros would make 13800000000, a placeholder: never give it to a person.
      if (s === 0) s = this.phoneSuffixes.take();
      const number = MOBILE_PREFIXES.pick(rng) + String(s).padStart(8, '0');
      if (number !== SHOWCASE_MOBILE) return number; // reserved for the showcase person alone
    }
  }
  contactId(): string {
    return 'C' + String(this.contactIds.take() + 1).padStart(this.contactWidth, '0');
  }
  accountId(): number {
    return 10_000_000 + this.accountIds.take();
  }
  supportUserId(): number {
    return 360_000_000_000 + this.supportIds.take() * 7;
  }
  memberNo(): string {
    return 'M' + String(this.memberNos.take()).padStart(8, '0');
  }
}

function capitalize(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

function drawAge(rng: Rng): number {
  // Retail customers: most between 22 and 45, a long tail to 75.
  const a = 31 + rng.normal() * 9 + (rng.chance(0.2) ? rng.int(25) : 0);
  return Math.max(18, Math.min(75, Math.round(a)));
}

function birthdayFor(rng: Rng, asOf: number, age: number): string {
  const d = new Date(asOf - age * 365.25 * DAY - rng.int(365) * DAY);
  return d.toISOString().slice(0, 10);
}

function drawGiven(rng: Rng, gender: 'M' | 'F', age: number): Array<readonly [string, string]> {
  const table = gender === 'M' ? GIVEN_MALE : GIVEN_FEMALE;
  // Single-character given names were common for people born before the 1990s.
  const single = rng.chance(age > 35 ? 0.3 : 0.12);
  const first = table.pick(rng);
  if (single) return [first];
  let second = table.pick(rng);
  while (second[0] === first[0]) second = table.pick(rng);
  return [first, second];
}

/** Draws presence per system for a segment; everybody is somewhere (a person in no system is nobody's customer). */
function drawPresence(rng: Rng, segment: (typeof SEGMENTS)[number]): Record<SourceStore, boolean> {
  for (;;) {
    const p = {
      crm: rng.chance(segment.presence.crm),
      orders: rng.chance(segment.presence.orders),
      support: rng.chance(segment.presence.support),
      scrm: rng.chance(segment.presence.scrm),
    };
    if (p.crm || p.orders || p.support || p.scrm) return p;
  }
}

const SEGMENT_TABLE = new Weighted(
  SEGMENTS.map((_, i) => i),
  SEGMENTS.map((s) => s.weight),
);

function makeEmail(ctx: WorldContext, rng: Rng, p: Pick<Person, 'pinyin' | 'phones'>, avoidDomain: string | null): string {
  let provider = EMAIL_PROVIDERS.pick(rng);
  while (provider.domain === avoidDomain) provider = EMAIL_PROVIDERS.pick(rng);
  if (provider.kind === 'mobile' && !p.phones.length) provider = { domain: '163.com', kind: 'pinyin' };
  if (provider.kind === 'mobile') return `${p.phones[0].number}@${provider.domain}`;
  if (provider.kind === 'qq' && rng.chance(0.7)) return `${100_000_000 + ctx.qqNumbers.take()}@${provider.domain}`;
  // The token (unique per address) keeps two different people from ever owning one mailbox.
  const token = String(ctx.emailTokens.take());
  const sur = p.pinyin.surname;
  const given = p.pinyin.given.join('');
  const initials = p.pinyin.given.map((g) => g[0]).join('');
  const style = rng.int(100);
  const local =
    style < 40
      ? `${sur}${given}${token}`
      : style < 55
        ? `${given}.${sur}${token}`
        : style < 65
          ? `${sur}_${given}${token}`
          : style < 80
            ? `${sur}${initials}${token}`
            : style < 90
              ? `${sur[0]}${initials}${token}`
              : `${given}${sur}${token}`;
  return `${local}@${provider.domain}`;
}

const HOUSEHOLD_ROLE = new Weighted<HouseholdRole>(['spouse', 'parent', 'child'], [60, 25, 15]);

/**
 * The README's and the example customer: the first person of every world is present in
 * all four systems with mobile 138 0013 8000 (each system writes it its own way) and no other
 * number. Planted so the documented queries answer someone; the ground truth lists this person
 * like any other, and nothing else about the world changes.
 */
export const SHOWCASE_MOBILE = '13800138000';

function plantShowcase(ctx: WorldContext, rng: Rng, p: Person): void {
  p.presence = { crm: true, orders: true, support: true, scrm: true };
  p.phones = [{ number: SHOWCASE_MOBILE, from: 0 }];
  p.noise.rebind = false;
  if (!p.unionid) p.unionid = ctx.unionidPrefix + rng.chars(URLSAFE, 27 - ctx.unionidPrefix.length + 1);
}

function makePerson(ctx: WorldContext, rng: Rng, index: number, head: Person | null): Person {
  const segmentIndex = SEGMENT_TABLE.pick(rng);
  const segment = SEGMENTS[segmentIndex];
  let role: HouseholdRole | null = null;
  let gender: 'M' | 'F';
  let age: number;
  let surname: readonly [string, string];
  if (head) {
    role = HOUSEHOLD_ROLE.pick(rng);
    const headAge = ctx.asOf - Date.parse(`${head.birthday}T00:00:00Z`);
    const headYears = Math.floor(headAge / (365.25 * DAY));
    age = role === 'spouse' ? headYears + Math.round(rng.normal() * 3) : role === 'parent' ? headYears + rng.range(22, 32) : headYears - rng.range(22, 32);
    if (role === 'spouse' && headYears < 22) {
      role = 'parent';
      age = headYears + rng.range(22, 32);
    }
    if (age < 18 || age > 85) {
      role = 'spouse';
      age = Math.max(20, headYears + Math.round(rng.normal() * 3));
    }
    gender = role === 'spouse' ? (head.gender === 'M' ? 'F' : 'M') : rng.chance(0.5) ? 'M' : 'F';
    // Chinese wives keep their own surname; children and (paternal) parents share the head's often.
    surname = role !== 'spouse' && rng.chance(0.7) ? [head.surname, head.pinyin.surname] : SURNAMES.pick(rng);
  } else {
    gender = rng.chance(0.56) ? 'F' : 'M';
    age = drawAge(rng);
    surname = SURNAMES.pick(rng);
  }
  const given = drawGiven(rng, gender, age);
  const place = head ? null : PLACES.pick(rng);
  const since = rng.between(ctx.start, ctx.asOf - DAY);
  const presence = drawPresence(rng, segment);
  // A family member who gives the household phone gives it where deliveries and contacts are kept.
  if (head && !presence.crm && !presence.orders) presence.orders = true;

  const p: Person = {
    id: `P${String(index + 1).padStart(7, '0')}`,
    name: surname[0] + given.map((g) => g[0]).join(''),
    surname: surname[0],
    given: given.map((g) => g[0]).join(''),
    pinyin: { surname: surname[1], given: given.map((g) => g[1]) },
    gender,
    birthday: birthdayFor(rng, ctx.asOf, age),
    province: head ? head.province : place!.province,
    city: head ? head.city : rng.pick(place!.cities),
    segment: segment.name,
    since,
    phones: [],
    sharedPhone: null,
    household: head ? { with: head.id, role: role! } : null,
    emails: [],
    unionid: null,
    memberNo: null,
    presence,
    favourites: [],
    noise: { crmDuplicate: false, secondAccount: null, rebind: false, scrmSecondOpenid: false },
  };

  if (head) {
    p.sharedPhone = head.phones[head.phones.length - 1].number;
    // An older parent or a dependent often has no mobile of their own on any record.
    if (rng.chance(role === 'parent' ? 0.3 : 0.5)) p.phones.push({ number: ctx.newMobile(rng), from: 0 });
  } else {
    p.phones.push({ number: ctx.newMobile(rng), from: 0 });
    const span = ctx.asOf - since;
    if (span > 120 * DAY && rng.chance(ctx.rebindShare)) {
      const from = since + Math.floor(span * (0.2 + 0.7 * rng.next()));
      p.phones.push({ number: ctx.newMobile(rng), from });
      p.noise.rebind = true;
    }
  }
  if (rng.chance(role === 'parent' ? 0.3 : segment.email)) {
    p.emails.push(makeEmail(ctx, rng, p, null));
    if (rng.chance(NOISE.secondEmail)) p.emails.push(makeEmail(ctx, rng, p, p.emails[0].split('@')[1]));
  }
  if (rng.chance(segment.member)) p.memberNo = ctx.memberNo();
  if (presence.scrm) p.unionid = ctx.unionidPrefix + rng.chars(URLSAFE, 27 - ctx.unionidPrefix.length + 1);
  const nFav = rng.range(1, 3);
  while (p.favourites.length < nFav) {
    const c = rng.int(CATEGORIES.length);
    if (!p.favourites.includes(c)) p.favourites.push(c);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Formats: how each system writes times, phones, names and emails
// ---------------------------------------------------------------------------------------------

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000; // China has no DST

/** `YYYY-MM-DD HH:mm:ss`, Asia/Shanghai local time (the CRM's format). */
export function shanghaiLocal(ms: number): string {
  const iso = new Date(ms + SHANGHAI_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}
/** `2024-03-01T08:15:00Z` (the helpdesk's format: seconds, UTC). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}
function unixSeconds(ms: number): number {
  return Math.floor(ms / SECOND);
}

type PhoneFormat = (m: string) => string;
const bare: PhoneFormat = (m) => m;
const dashed: PhoneFormat = (m) => `${m.slice(0, 3)}-${m.slice(3, 7)}-${m.slice(7)}`;
const spaced: PhoneFormat = (m) => `${m.slice(0, 3)} ${m.slice(3, 7)} ${m.slice(7)}`;
const plus86Space: PhoneFormat = (m) => `+86 ${m}`;
const plus86Spaced: PhoneFormat = (m) => `+86 ${spaced(m)}`;
const cc86: PhoneFormat = (m) => `86${m}`;
const plus86: PhoneFormat = (m) => `+86${m}`;

/** Typed by reps into a free-text field. */
const CRM_PHONE = new Weighted([bare, dashed, spaced, plus86Space, cc86, plus86Spaced], [44, 16, 14, 17, 6, 3]);
/** Platform exports carry the country code without a plus. */
const ORDERS_PHONE = new Weighted([cc86, bare, plus86], [85, 10, 5]);
const SUPPORT_PHONE = new Weighted([plus86Spaced, bare], [55, 45]);
/** WeChat's phone binding answers the pure number, some integrations keep the +86. */
const SCRM_PHONE = new Weighted([bare, plus86], [85, 15]);

const PHONE_PLACEHOLDER = new Weighted<string>(PLACEHOLDER_PHONES, PHONE_PLACEHOLDER_WEIGHTS);
const EMAIL_PLACEHOLDER = new Weighted<string>(PLACEHOLDER_EMAILS, EMAIL_PLACEHOLDER_WEIGHTS);

/** The mobile a person would give at instant t: their number then, or the household's. */
function phoneAt(p: Person, t: number): string | null {
  let current: string | null = null;
  for (const ph of p.phones) if (ph.from <= t) current = ph.number;
  return current ?? p.sharedPhone;
}

/** Which phone a family member gives on one record: the household's, or sometimes their own. */
function givenPhone(rng: Rng, p: Person, t: number, preferShared: boolean): string | null {
  if (p.sharedPhone && (preferShared || !p.phones.length || rng.chance(0.5))) return p.sharedPhone;
  return phoneAt(p, t);
}

/** An email as a person or clerk types it: case drift, stray spaces, Gmail dots moved. */
function typedEmail(rng: Rng, email: string, caseRate: number = NOISE.emailCase, padRate: number = NOISE.emailPadding): string {
  const [first, domain] = email.split('@');
  let local = first;
  if (domain === 'gmail.com' && rng.chance(NOISE.gmailDots)) {
    local = local.includes('.') ? local.replace(/\./g, '') : insertDot(rng, local);
  }
  let e = `${local}@${domain}`;
  if (rng.chance(caseRate)) {
    const k = rng.int(3);
    e = k === 0 ? capitalize(e) : k === 1 ? e.toUpperCase() : `${capitalize(local)}@${domain.toUpperCase()}`;
  }
  if (rng.chance(padRate)) e = rng.chance(0.5) ? ` ${e}` : `${e}  `;
  return e;
}

function insertDot(rng: Rng, local: string): string {
  const letters = /^[a-z]+/.exec(local)?.[0] ?? '';
  if (letters.length < 3) return local;
  const at = 1 + rng.int(letters.length - 1);
  return local.slice(0, at) + '.' + local.slice(at);
}

/** The email a record carries: usually the primary, sometimes the person's other address. */
function pickEmail(rng: Rng, p: Person): string | null {
  if (!p.emails.length) return null;
  return p.emails.length > 1 && rng.chance(NOISE.secondEmailUse) ? p.emails[1] : p.emails[0];
}

function pinyinName(p: Person, westernOrder: boolean): string {
  const given = capitalize(p.pinyin.given.join(''));
  const sur = capitalize(p.pinyin.surname);
  return westernOrder ? `${given} ${sur}` : `${sur} ${given}`;
}

/** A name as a hurried rep re-types it: a homophone from the IME list, a dropped character, or pinyin. */
function typoName(rng: Rng, p: Person): string {
  const chars = [...p.given];
  const typoable = chars.map((c, i) => (HOMOPHONE_OF.has(c) ? i : -1)).filter((i) => i >= 0);
  if (typoable.length && rng.chance(0.7)) {
    const i = rng.pick(typoable);
    chars[i] = rng.pick(HOMOPHONE_OF.get(chars[i])!);
    return p.surname + chars.join('');
  }
  if (chars.length === 2 && rng.chance(0.5)) return p.surname + chars[0];
  return pinyinName(p, false);
}

function crmGender(rng: Rng, g: 'M' | 'F'): string | null {
  const r = rng.int(100);
  if (r < 50) return g;
  if (r < 85) return g === 'M' ? '男' : '女';
  return r < 97 ? '' : null;
}

// ---------------------------------------------------------------------------------------------
// Records per system
// ---------------------------------------------------------------------------------------------

function emptyRows(): TableRows {
  return {
    crm_contacts: [],
    crm_tier_changes: [],
    shop_accounts: [],
    orders: [],
    order_lines: [],
    refunds: [],
    support_users: [],
    support_tickets: [],
    scrm_followers: [],
    scrm_coupons: [],
    scrm_group_members: [],
  };
}

type Variant = 'original' | 'reentered' | 'typo' | 'emailOnly';

function crmContact(ctx: WorldContext, rng: Rng, p: Person, out: TableRows, created: number, updated: number, variant: Variant): void {
  const contactId = ctx.contactId();
  const seg = SEGMENTS.findIndex((s) => s.name === p.segment);
  const phoneTime = rng.chance(0.5) ? updated : created;

  let mobile: string | null = null;
  if (variant !== 'emailOnly') {
    const m = givenPhone(rng, p, phoneTime, !p.phones.length || !p.presence.orders);
    if (rng.chance(NOISE.crmPhonePlaceholder)) mobile = PHONE_PLACEHOLDER.pick(rng);
    else if (m && !rng.chance(0.03)) mobile = CRM_PHONE.pick(rng)(m);
  }
  let email: string | null = null;
  if (variant === 'reentered') email = p.emails.length > 1 ? p.emails[1] : null;
  else if (variant === 'emailOnly' || rng.chance(0.6)) email = pickEmail(rng, p);
  if (email) email = typedEmail(rng, email);
  else if (rng.chance(NOISE.crmEmailPlaceholder)) email = EMAIL_PLACEHOLDER.pick(rng);

  const withSuffix = rng.chance(0.3);
  const place = PLACES.items.find((x) => x.province === p.province)!;
  const hasPlace = rng.chance(0.8);

  // Tier history: bronze on creation, upgrades towards the segment's likely tier, an occasional downgrade.
  const target = variant === 'original' ? TIER_TARGET[seg].pick(rng) : 0;
  const changes: Array<[number, number]> = [[0, created]];
  let t = created;
  for (let tier = 1; tier <= target; tier++) {
    t = rng.between(t, Math.max(t + 1, t + (updated - t) * 0.6));
    changes.push([tier, t]);
  }
  if (target > 0 && rng.chance(0.08)) changes.push([target - 1, rng.between(t, updated + 1)]);
  let prev: number | null = null;
  for (const [tier, at] of changes) {
    out.crm_tier_changes.push({
      change_id: ctx.nextTierChange++,
      contact_id: contactId,
      from_tier: prev === null ? null : TIERS[prev],
      to_tier: TIERS[tier],
      changed_at: shanghaiLocal(at),
    });
    prev = tier;
  }

  const rep = rng.int(OWNER_TEAMS.length * REPS_PER_TEAM);
  const birthday = rng.chance(0.005) ? '1900-01-01' : rng.chance(0.65) ? p.birthday : null;
  const optIn = (r: number, yes: number, no: number) => (r < yes ? 1 : r < yes + no ? 0 : null);
  out.crm_contacts.push({
    contact_id: contactId,
    name: variant === 'typo' ? typoName(rng, p) : rng.chance(0.03) ? pinyinName(p, false) : rng.chance(0.02) ? `${p.name} ` : p.name,
    mobile,
    email,
    gender: crmGender(rng, p.gender),
    birthday,
    province: hasPlace ? (withSuffix ? p.province + place.suffix : p.province) : null,
    city: hasPlace ? (withSuffix ? p.city + '市' : p.city) : null,
    member_no: p.memberNo && rng.chance(variant === 'original' ? 0.85 : 0.3) ? p.memberNo : null,
    tier: TIERS[prev!],
    owner_rep: rng.chance(0.9) ? `rep_${String(rep + 1).padStart(3, '0')}` : null,
    owner_team: rng.chance(0.9) ? OWNER_TEAMS[Math.floor(rep / REPS_PER_TEAM)] : null,
    sms_opt_in: optIn(rng.int(100), 55, 25),
    email_opt_in: email ? optIn(rng.int(100), 40, 30) : optIn(rng.int(100), 0, 20),
    created_at: shanghaiLocal(created),
    updated_at: shanghaiLocal(Math.max(updated, changes[changes.length - 1][1])),
  });
}

function crmRecords(ctx: WorldContext, rng: Rng, p: Person, out: TableRows): void {
  const created = rng.between(p.since, Math.min(ctx.asOf - SECOND, p.since + 120 * DAY));
  const updated = rng.chance(0.25) ? created : rng.between(created, ctx.asOf);
  crmContact(ctx, rng, p, out, created, updated, 'original');
  if (rng.chance(NOISE.crmDuplicate)) {
    p.noise.crmDuplicate = true;
    const r = rng.int(100);
    const variant: Variant = r < 45 ? 'reentered' : r < 80 || !p.emails.length ? 'typo' : 'emailOnly';
    const dupCreated = rng.between(created, ctx.asOf);
    crmContact(ctx, rng, p, out, dupCreated, rng.between(dupCreated, ctx.asOf), variant);
  }
}

function orderCount(rng: Rng, mean: number): number {
  if (rng.chance(0.08)) return 0;
  // A few heavy buyers; the rest geometric around the segment's mean.
  if (rng.chance(0.03)) return rng.range(20, 60);
  return 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(1 - 1 / mean));
}

const STATUS_TODAY = new Weighted(['created', 'paid', 'shipped', 'cancelled'], [30, 40, 20, 10]);
const STATUS_THIS_WEEK = new Weighted(['paid', 'shipped', 'completed', 'cancelled'], [10, 45, 35, 10]);
const LINES_PER_ORDER = new Weighted([1, 2, 3, 4], [50, 30, 13, 7]);

/** Status by the order's age: recent orders are still moving, old ones settled. */
function orderStatus(rng: Rng, age: number): string {
  if (age < DAY) return STATUS_TODAY.pick(rng);
  if (age < 10 * DAY) return STATUS_THIS_WEEK.pick(rng);
  return rng.chance(0.93) ? 'completed' : 'cancelled';
}

function shopOrders(ctx: WorldContext, rng: Rng, p: Person, out: TableRows, accountId: number, channel: string, from: number, to: number, count: number): number {
  let last = from;
  for (let i = 0; i < count; i++) {
    const orderId = ctx.nextOrder++;
    const placed = rng.between(from, to);
    last = Math.max(last, placed);
    let total = 0;
    const nLines = LINES_PER_ORDER.pick(rng);
    for (let l = 0; l < nLines; l++) {
      const cat = rng.chance(0.7) ? CATEGORIES[rng.pick(p.favourites)] : rng.pick(CATEGORIES);
      const product = rng.pick(CATALOG[cat]);
      const qty = rng.chance(0.8) ? 1 : rng.range(2, 4);
      // Promotions: list price, or 10/20% off, rounded to the fen.
      const unit = Math.round(product.cents * rng.pick([1, 1, 1, 0.9, 0.8]));
      total += unit * qty;
      out.order_lines.push({ line_id: ctx.nextLine++, order_id: orderId, sku: product.sku, name: product.name, category: product.category, qty, unit_price_cents: unit });
    }
    const age = ctx.asOf - placed;
    let status = orderStatus(rng, age);
    const paid = status === 'created' || status === 'cancelled' ? null : Math.min(ctx.asOf - 1, placed + rng.range(10, 1800) * SECOND);
    if (paid !== null && age > 3 * DAY && status !== 'cancelled' && rng.chance(NOISE.orderRefund / 0.93)) {
      status = 'refunded';
      const refundedAt = Math.min(ctx.asOf - 1, paid + rng.range(1, 20) * DAY + rng.int(DAY));
      const amount = rng.chance(0.85) ? total : Math.round((total * rng.range(30, 80)) / 100);
      out.refunds.push({
        refund_id: ctx.nextRefund++,
        order_id: orderId,
        amount_cents: amount,
        reason: rng.chance(0.9) ? rng.pick(REFUND_REASONS) : null,
        refunded_at: refundedAt,
      });
    }
    out.orders.push({
      order_id: orderId,
      account_id: accountId,
      status,
      channel: rng.chance(0.9) ? channel : SHOP_CHANNEL.pick(rng),
      total_cents: total,
      currency: 'CNY',
      placed_at: placed,
      paid_at: paid,
    });
  }
  return last;
}

interface AccountPlan {
  kind: 'primary' | 'oldPhone' | 'emailOnly' | 'otherChannel';
  channel: string;
  registered: number;
  /** Orders stop after this instant (an abandoned old account). */
  activeUntil: number;
}

function orderRecords(ctx: WorldContext, rng: Rng, p: Person, out: TableRows): void {
  const seg = SEGMENTS.find((s) => s.name === p.segment)!;
  const rebindAt = p.phones.length > 1 ? p.phones[1].from : null;
  const plans: AccountPlan[] = [];
  const primaryChannel = SHOP_CHANNEL.pick(rng);
  const regFrom = rebindAt ?? p.since;
  const primaryReg = rng.between(regFrom, Math.min(ctx.asOf - SECOND, regFrom + 90 * DAY));
  plans.push({ kind: 'primary', channel: primaryChannel, registered: primaryReg, activeUntil: ctx.asOf });

  // Losing the old number often means losing the old login: rebinders open a new account.
  const otherRate = (NOISE.shopSecondAccount - NOISE.rebind * NOISE.secondAccountIfRebind) / (1 - NOISE.rebind);
  if (rebindAt !== null) {
    if (rng.chance(NOISE.secondAccountIfRebind)) {
      const reg = rng.between(p.since, rebindAt);
      plans.push({ kind: 'oldPhone', channel: SHOP_CHANNEL.pick(rng), registered: reg, activeUntil: Math.min(ctx.asOf, rebindAt + 30 * DAY) });
    } else {
      // No second account: the one account predates the change and lives on through it.
      plans[0].registered = rng.between(p.since, rebindAt);
    }
  } else if (rng.chance(otherRate)) {
    const reg = rng.between(p.since, ctx.asOf);
    if (p.emails.length && rng.chance(0.45)) plans.push({ kind: 'emailOnly', channel: rng.chance(0.5) ? 'jd' : 'store', registered: reg, activeUntil: ctx.asOf });
    else plans.push({ kind: 'otherChannel', channel: SHOP_CHANNELS.filter((c) => c !== primaryChannel)[rng.int(3)], registered: reg, activeUntil: ctx.asOf });
  }
  if (plans.length > 1) p.noise.secondAccount = plans[1].kind as Person['noise']['secondAccount'];

  for (const plan of plans) {
    const accountId = ctx.accountId();
    let mobile: string | null = null;
    if (plan.kind !== 'emailOnly') {
      const at = plan.kind === 'oldPhone' ? plan.registered : rng.chance(0.7) ? plan.registered : ctx.asOf - SECOND;
      const m = givenPhone(rng, p, at, true);
      if (plan.channel === 'store' && rng.chance(NOISE.storePhonePlaceholder)) mobile = PHONE_PLACEHOLDER.pick(rng);
      else if (m) mobile = ORDERS_PHONE.pick(rng)(m);
    }
    let email: string | null = plan.kind === 'emailOnly' ? pickEmail(rng, p) : rng.chance(0.15) ? pickEmail(rng, p) : null;
    if (email) email = typedEmail(rng, email);
    else if (rng.chance(NOISE.shopEmailPlaceholder)) email = EMAIL_PLACEHOLDER.pick(rng);
    const n = plan.kind === 'primary' ? orderCount(rng, seg.orderMean) : rng.range(0, 3);
    const until = Math.min(plan.activeUntil, ctx.asOf);
    const lastOrder = shopOrders(ctx, rng, p, out, accountId, plan.channel, plan.registered, until, n);
    out.shop_accounts.push({
      account_id: accountId,
      mobile,
      member_no: p.memberNo && plan.kind !== 'emailOnly' && rng.chance(0.5) ? p.memberNo : null,
      email,
      channel: plan.channel,
      registered_at: plan.registered,
      updated_at: rng.chance(0.6) ? lastOrder : rng.between(plan.registered, until),
    });
  }
}

const TICKETS_PER_USER = new Weighted([0, 1, 2, 3, 4, 5], [15, 45, 20, 10, 6, 4]);
const TICKET_STATUS_NEW = new Weighted(['new', 'open', 'pending', 'solved'], [35, 35, 15, 15]);
const TICKET_STATUS_RECENT = new Weighted(['open', 'pending', 'hold', 'solved', 'closed'], [15, 15, 5, 45, 20]);
const TICKET_STATUS_OLD = new Weighted(['solved', 'closed', 'pending', 'hold'], [25, 70, 3, 2]);

function supportRecords(ctx: WorldContext, rng: Rng, p: Person, out: TableRows): void {
  const id = ctx.supportUserId();
  const created = rng.between(p.since, ctx.asOf);
  let email: string | null = rng.chance(0.85) ? pickEmail(rng, p) : null;
  email = email ? typedEmail(rng, email, 0.05, 0.01) : rng.chance(NOISE.supportEmailPlaceholder) ? EMAIL_PLACEHOLDER.pick(rng) : null;
  let phone: string | null = null;
  if (!email || !rng.chance(NOISE.supportPhoneMissing)) {
    const m = givenPhone(rng, p, created, false);
    if (rng.chance(NOISE.supportPhonePlaceholder)) phone = PHONE_PLACEHOLDER.pick(rng);
    else if (m) phone = SUPPORT_PHONE.pick(rng)(m);
  }
  const r = rng.int(100);
  const name =
    r < 60 ? p.name : r < 75 ? pinyinName(p, true) : r < 88 && email ? email.trim().split('@')[0] : r < 95 ? null : p.surname + (p.gender === 'M' ? '先生' : '女士');

  let updated = created;
  const nTickets = TICKETS_PER_USER.pick(rng);
  for (let i = 0; i < nTickets; i++) {
    const tCreated = rng.between(created, ctx.asOf);
    const age = ctx.asOf - tCreated;
    const status = (age < 2 * DAY ? TICKET_STATUS_NEW : age < 14 * DAY ? TICKET_STATUS_RECENT : TICKET_STATUS_OLD).pick(rng);
    const done = status === 'solved' || status === 'closed';
    const solved = done ? Math.min(ctx.asOf - 1, tCreated + rng.range(10, 72 * 60) * 60 * SECOND) : null;
    const tUpdated = Math.min(ctx.asOf - 1, solved ?? rng.between(tCreated, ctx.asOf));
    updated = Math.max(updated, tUpdated);
    out.support_tickets.push({
      id: ctx.nextTicket++,
      requester_id: id,
      subject: rng.pick(TICKET_SUBJECTS),
      status,
      priority: TICKET_PRIORITY.pick(rng),
      channel: TICKET_CHANNEL.pick(rng),
      satisfaction_score: done && rng.chance(0.45) ? SATISFACTION.pick(rng) : null,
      created_at: isoSeconds(tCreated),
      updated_at: isoSeconds(tUpdated),
      solved_at: solved === null ? null : isoSeconds(solved),
    });
  }
  out.support_users.push({ id, name, email, phone, created_at: isoSeconds(created), updated_at: isoSeconds(updated) });
}

const TAGS_PER_FOLLOWER = new Weighted([0, 1, 2, 3, 4], [30, 30, 20, 12, 8]);
const COUPONS_PER_FOLLOWER = new Weighted([0, 1, 2, 3, 4], [35, 25, 20, 12, 8]);
const CHATS_PER_FOLLOWER = new Weighted([0, 1, 2, 3], [50, 30, 15, 5]);

function scrmFollower(ctx: WorldContext, rng: Rng, p: Person, out: TableRows, openid: string, nickname: string, mini: boolean): void {
  const subscribed = rng.between(p.since, ctx.asOf);
  let updated = subscribed;
  let boundPhone: string | null = null;
  // The showcase person bound their phone, so the README's example joins all four systems.
  if (rng.chance(mini ? 0.8 : NOISE.scrmBoundPhone) || p.phones[0]?.number === SHOWCASE_MOBILE) {
    const boundAt = rng.between(subscribed, ctx.asOf);
    // Rebinding in WeChat updates the stored phone; most bindings are recent enough to be current.
    const m = givenPhone(rng, p, rng.chance(0.6) ? ctx.asOf - SECOND : boundAt, false);
    if (m) boundPhone = SCRM_PHONE.pick(rng)(m);
    updated = Math.max(updated, boundAt);
  }
  const unsubscribed = !mini && rng.chance(NOISE.scrmUnsubscribed) ? rng.between(subscribed, ctx.asOf) : null;
  if (unsubscribed !== null) updated = Math.max(updated, unsubscribed);
  const tags: number[] = [];
  const nTags = mini ? 0 : TAGS_PER_FOLLOWER.pick(rng);
  while (tags.length < nTags) {
    const tag = SCRM_TAGS.pick(rng);
    if (!tags.includes(tag)) tags.push(tag);
  }
  const showPlace = rng.chance(0.7);
  out.scrm_followers.push({
    openid,
    unionid: rng.chance(NOISE.scrmMissingUnionid) ? null : p.unionid,
    nickname,
    sex: rng.chance(0.8) ? (p.gender === 'M' ? 1 : 2) : 0,
    city: showPlace ? p.city : '',
    province: showPlace ? p.province : '',
    country: showPlace ? '中国' : '',
    subscribe: unsubscribed === null ? 1 : 0,
    subscribe_time: unixSeconds(subscribed),
    unsubscribe_time: unsubscribed === null ? null : unixSeconds(unsubscribed),
    tagid_list: tags.join(','),
    bound_phone: boundPhone,
    member_no: p.memberNo && rng.chance(0.6) ? p.memberNo : null,
    updated_at: unixSeconds(updated),
  });
  if (mini) return;

  const nCoupons = COUPONS_PER_FOLLOWER.pick(rng);
  for (let i = 0; i < nCoupons; i++) {
    const [title, value] = COUPONS.pick(rng);
    const received = rng.between(subscribed, ctx.asOf);
    const used = rng.chance(0.35);
    const redeemed = used ? Math.min(ctx.asOf - 1, received + rng.int(25 * DAY)) : null;
    const status = used ? 'used' : received + 30 * DAY < ctx.asOf ? 'expired' : 'unused';
    out.scrm_coupons.push({
      coupon_id: 'CPN' + String(ctx.nextCoupon++).padStart(12, '0'),
      openid,
      title,
      value,
      status,
      received_at: unixSeconds(received),
      redeemed_at: redeemed === null ? null : unixSeconds(redeemed),
    });
  }
  const nChats = CHATS_PER_FOLLOWER.pick(rng);
  const chats = new Set<number>();
  while (chats.size < nChats) chats.add(rng.int(ctx.chats.length));
  for (const c of chats) {
    out.scrm_group_members.push({
      id: ctx.nextGroupMember++,
      openid,
      chat_id: ctx.chats[c].id,
      chat_name: ctx.chats[c].name,
      join_time: unixSeconds(rng.between(subscribed, ctx.asOf)),
    });
  }
}

function scrmRecords(ctx: WorldContext, rng: Rng, p: Person, out: TableRows): void {
  const r = rng.int(100);
  // WeChat has answered "微信用户" for every nickname since late 2021.
  const nickname = r < 20 ? '微信用户' : r < 35 ? p.name : r < 42 ? pinyinName(p, true) : rng.pick(NICKNAMES);
  scrmFollower(ctx, rng, p, out, ctx.openidPrefix + rng.chars(URLSAFE, 28 - ctx.openidPrefix.length), nickname, false);
  if (rng.chance(NOISE.scrmSecondOpenid)) {
    p.noise.scrmSecondOpenid = true;
    scrmFollower(ctx, rng, p, out, ctx.miniOpenidPrefix + rng.chars(URLSAFE, 28 - ctx.miniOpenidPrefix.length), nickname, true);
  }
}

function recordsFor(ctx: WorldContext, rng: Rng, p: Person): PersonRecords {
  const rows = emptyRows();
  if (p.presence.crm) crmRecords(ctx, rng, p, rows);
  if (p.presence.orders) orderRecords(ctx, rng, p, rows);
  if (p.presence.support) supportRecords(ctx, rng, p, rows);
  if (p.presence.scrm) scrmRecords(ctx, rng, p, rows);
  return { person: p, rows };
}

const INVERSE_ROLE: Record<HouseholdRole, HouseholdRole> = { spouse: 'spouse', parent: 'child', child: 'parent' };

/**
 * The people of a world, one at a time, each with every row they left in the four systems.
 * A household that shares a phone is drawn together (head first, then the family member), so
 * the second person can borrow the first one's number without the generator remembering anyone.
 */
export function* generatePeople(options: WorldOptions): Generator<PersonRecords> {
  assertWorldOptions(options);
  const ctx = new WorldContext(options.seed, options.people, parseAsOf(options.asOf));
  const [lo, hi] = seedWords(options.seed);
  // Pairs of people per household drawn: fraction of people in pairs = 2q / (1 + q).
  const pairRate = NOISE.householdShare / (2 - NOISE.householdShare);
  let emitted = 0;
  for (let household = 0; emitted < options.people; household++) {
    const rng = new Rng([lo, hi, 1, household]);
    const pair = emitted + 2 <= options.people && rng.chance(pairRate) && household !== 0;
    const head = makePerson(ctx, rng, emitted++, null);
    if (household === 0) plantShowcase(ctx, rng, head);
    // The head's number must stay put for the family to share it.
    if (pair && head.phones.length > 1) {
      head.phones.length = 1;
      head.noise.rebind = false;
    }
    const member = pair ? makePerson(ctx, rng, emitted++, head) : null;
    if (member) head.household = { with: member.id, role: INVERSE_ROLE[member.household!.role] };
    yield recordsFor(ctx, rng, head);
    if (member) yield recordsFor(ctx, rng, member);
  }
}
