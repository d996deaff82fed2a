/**
 * The second demo world profile, `noisy`: the people of a company that sells in China and
 * abroad, held in five systems of its own (a membership program, a web shop, a service desk,
 * a global store, event sign-ups), each a plain table read through the declarative SQL
 * source kind. Its noise is the kind identity resolution meets on data nobody here wrote:
 * - names: typed with a wrong character (homophones from the IME, a slipped key), written in
 *   pinyin instead of characters, in Western order, Latin names as nicknames or misspelt,
 *   German names with umlauts and ß written without them where a system keeps ASCII (`Muller`)
 *   or as German spells them then (`Mueller`, `Weiss`);
 * - birthdays: day and month swapped, a digit wrong, missing;
 * - addresses: people move house, so older records name another city;
 * - phones: full-width digits, `+86`/`0086`/spaces/dashes, foreign numbers in local or
 *   international format, households sharing one, numbers given up and reassigned to a
 *   stranger later (with the periods the membership program records);
 * - emails pasted with display names, `mailto:`, capitals; many records carry no phone or
 *   email at all (event sign-ups), so only names, birthdays and places can join them.
 * The ground truth is the person model itself (which person each row was written for),
 * written without looking at any identity rule.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { pinyin } from 'pinyin-pro';

export const NOISY_GENERATOR_VERSION = 3;

export const NOISY_SYSTEMS = ['members', 'webshop', 'service', 'global_store', 'events'] as const;
export type NoisySystem = (typeof NOISY_SYSTEMS)[number];

/** Share of people present in each system (Chinese residents / international customers). */
const PRESENCE: Record<NoisySystem, [number, number]> = {
  members: [0.55, 0.1],
  webshop: [0.6, 0.3],
  service: [0.3, 0.3],
  global_store: [0.05, 0.85],
  events: [0.35, 0.25],
};

/** Rates of each kind of noise, per record written. */
export const NOISY_NOISE = {
  international: 0.15,
  hanTypo: 0.08,
  pinyinInsteadOfHan: 0.3,
  westernOrder: 0.4,
  latinTypo: 0.08,
  nickname: 0.3,
  birthdaySwap: 0.05,
  birthdayDigit: 0.03,
  birthdayMissing: 0.25,
  movedHouse: 0.2,
  fullWidthPhone: 0.06,
  householdPhone: 0.08,
  secondRecord: 0.05,
  recycledNumber: 0.03,
  emailDisplayName: 0.15,
  noContactAtEvent: 0.6,
} as const;

export interface NoisyRow {
  id: string;
  updated_at: string;
  name: string | null;
  birthday: string | null;
  gender: string | null;
  city: string | null;
  province: string | null;
  phone: string | null;
  email: string | null;
  resident_id: string | null;
  passport: string | null;
}

export interface NoisyPerson {
  id: string;
  international: CountryCode | null;
  gender: 'M' | 'F';
  birthday: string;
  han: string | null;
  /** Latin name words, given name first (pinyin for Chinese people). */
  latin: [string, string];
  /** A German customer's name, which the records write instead of `latin` (`latin` still drives the world's other draws). */
  german: [string, string] | null;
  cities: Array<{ city: string; province: string }>;
  phones: string[];
  email: string | null;
}

export interface NoisyWorld {
  people: NoisyPerson[];
  rows: Record<NoisySystem, NoisyRow[]>;
  /** `system,record id,person id` */
  truth: Array<[NoisySystem, string, string]>;
}

class Rand {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0 || 1;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

const SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧阳司马';
const SURNAME_LIST = [...SURNAMES.slice(0, -4)].concat(['欧阳', '司马']);
const GIVEN_M = '伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣晨阳博文杰志国建峰海东亮成松德';
const GIVEN_F = '芳娜敏静丽艳娟霞秀玲桂英华慧巧美娇雪琳晶婷颖倩洁琴云莉兰凤梅红燕萍佳嘉怡雯欣悦诗';
/** Characters an IME offers for the same reading: the commonest wrong character in a typed name. */
const HOMOPHONE_GROUPS = [
  '伟玮炜维为',
  '强墙蔷',
  '磊垒',
  '军君均',
  '杰洁捷',
  '涛滔',
  '明鸣铭',
  '超潮',
  '平萍苹',
  '辉晖慧',
  '华桦',
  '飞菲非',
  '波博',
  '宇雨语',
  '浩皓昊',
  '俊骏峻',
  '芳方舫',
  '娜纳',
  '敏民闽',
  '静晶靖菁',
  '丽莉俪',
  '艳燕雁',
  '娟涓',
  '霞侠',
  '玲琳灵',
  '英瑛莹',
  '婷亭庭',
  '颖影',
  '倩茜',
  '洁杰婕',
  '琴勤芹',
  '云芸韵',
  '兰岚蓝',
  '红虹鸿',
  '佳嘉家',
  '怡仪宜',
  '雯文',
  '欣馨鑫',
  '悦月越',
  '王汪',
  '张章',
  '刘柳',
  '陈程',
  '杨阳',
  '黄皇',
  '徐许',
  '林琳',
  '何贺',
  '朱诸',
];
const HOMOPHONE_OF = new Map<string, string[]>();
for (const g of HOMOPHONE_GROUPS)
  for (const c of g)
    HOMOPHONE_OF.set(
      c,
      [...g].filter((x) => x !== c),
    );

const PLACES: Array<{ province: string; cities: string[] }> = [
  { province: '广东省', cities: ['广州市', '深圳市', '东莞市', '佛山市'] },
  { province: '浙江省', cities: ['杭州市', '宁波市', '温州市'] },
  { province: '江苏省', cities: ['南京市', '苏州市', '无锡市'] },
  { province: '北京市', cities: ['北京市'] },
  { province: '上海市', cities: ['上海市'] },
  { province: '四川省', cities: ['成都市', '绵阳市'] },
  { province: '湖北省', cities: ['武汉市', '宜昌市'] },
  { province: '山东省', cities: ['济南市', '青岛市', '烟台市'] },
  { province: '福建省', cities: ['福州市', '厦门市'] },
  { province: '河南省', cities: ['郑州市', '洛阳市'] },
];

const ABROAD: Array<{ country: CountryCode; cities: string[]; province: string }> = [
  { country: 'US', cities: ['Seattle', 'San Francisco', 'New York', 'Los Angeles'], province: 'USA' },
  { country: 'GB', cities: ['London', 'Manchester'], province: 'UK' },
  { country: 'AU', cities: ['Sydney', 'Melbourne'], province: 'Australia' },
  { country: 'SG', cities: ['Singapore'], province: 'Singapore' },
  { country: 'MY', cities: ['Kuala Lumpur', 'Penang'], province: 'Malaysia' },
  { country: 'DE', cities: ['Berlin', 'Munich'], province: 'Germany' },
];

const LATIN_GIVEN_M = [
  'Robert',
  'William',
  'James',
  'John',
  'Michael',
  'Thomas',
  'Daniel',
  'David',
  'Richard',
  'Joseph',
  'Christopher',
  'Matthew',
  'Andrew',
  'Anthony',
  'Steven',
  'Peter',
  'Samuel',
  'Benjamin',
  'Lukas',
  'Felix',
  'Ahmad',
  'Arjun',
];
const LATIN_GIVEN_F = [
  'Elizabeth',
  'Margaret',
  'Katherine',
  'Jennifer',
  'Sarah',
  'Rebecca',
  'Patricia',
  'Susan',
  'Victoria',
  'Samantha',
  'Emily',
  'Olivia',
  'Sophie',
  'Hannah',
  'Maria',
  'Siti',
  'Priya',
  'Anna',
];
const LATIN_SURNAMES = [
  'Smith',
  'Johnson',
  'Thompson',
  'Williams',
  'Brown',
  'Taylor',
  'Wilson',
  'Anderson',
  'Martin',
  'Clarke',
  'Walker',
  'Wright',
  'Mitchell',
  'Campbell',
  'Schneider',
  'Fischer',
  'Tan',
  'Lim',
  'Wong',
  'Ng',
  'Sentosa',
  'Abdullah',
  'Kumar',
  'Nguyen',
  'Murphy',
  'Kelly',
];
const NICKNAME: Record<string, string[]> = {
  Robert: ['Bob', 'Rob', 'Bobby'],
  William: ['Bill', 'Will'],
  James: ['Jim', 'Jimmy'],
  John: ['Jack', 'Johnny'],
  Michael: ['Mike'],
  Thomas: ['Tom'],
  Daniel: ['Dan', 'Danny'],
  David: ['Dave'],
  Richard: ['Rick', 'Dick'],
  Joseph: ['Joe'],
  Christopher: ['Chris'],
  Matthew: ['Matt'],
  Andrew: ['Andy', 'Drew'],
  Anthony: ['Tony'],
  Steven: ['Steve'],
  Peter: ['Pete'],
  Samuel: ['Sam'],
  Benjamin: ['Ben'],
  Elizabeth: ['Liz', 'Beth', 'Betty'],
  Margaret: ['Maggie', 'Peggy'],
  Katherine: ['Kate', 'Kathy'],
  Jennifer: ['Jen', 'Jenny'],
  Rebecca: ['Becky'],
  Patricia: ['Pat', 'Trish'],
  Susan: ['Sue'],
  Victoria: ['Vicky'],
  Samantha: ['Sam'],
};
const MOBILE_PREFIXES = [
  '130',
  '131',
  '132',
  '135',
  '136',
  '137',
  '138',
  '139',
  '150',
  '151',
  '152',
  '155',
  '157',
  '158',
  '159',
  '166',
  '176',
  '177',
  '180',
  '181',
  '186',
  '187',
  '188',
  '189',
  '191',
  '198',
  '199',
];
const EMAIL_DOMAINS_CN = ['qq.com', '163.com', '126.com', 'sina.com', 'gmail.com', 'outlook.com'];
const EMAIL_DOMAINS_ABROAD = ['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com', 'hotmail.com'];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function chineseMobile(r: Rand): string {
  return r.pick(MOBILE_PREFIXES) + pad(r.int(1e8), 8);
}

/** A valid number of `country` in national digits (drawn until libphonenumber calls it valid). */
function foreignNumber(r: Rand, country: CountryCode): string {
  for (let tries = 0; ; tries++) {
    if (tries > 1000) throw new Error(`foreignNumber: no valid ${country} number drawn`);
    let digits: string;
    if (country === 'US') digits = `${2 + r.int(8)}${pad(r.int(100))}${2 + r.int(8)}${pad(r.int(100))}${pad(r.int(1e4), 4)}`;
    else if (country === 'GB') digits = `07${pad(r.int(1e9), 9)}`;
    else if (country === 'AU') digits = `04${pad(r.int(1e8), 8)}`;
    else if (country === 'SG') digits = `${r.pick(['8', '9'])}${pad(r.int(1e7), 7)}`;
    else if (country === 'MY') digits = `01${r.int(10)}${pad(r.int(1e7), 7)}`;
    else digits = `0151${pad(r.int(1e8), 8)}`;
    const p = parsePhoneNumberFromString(digits, country);
    if (p?.isValid()) return p.number;
  }
}

/** A resident id with a valid ISO 7064 MOD 11-2 check character. */
function residentId(r: Rand, birthday: string, gender: 'M' | 'F'): string {
  const region = r.pick(['110105', '310104', '440106', '330106', '510107', '420106']);
  const seq = pad(r.int(100), 2) + String(r.int(5) * 2 + (gender === 'M' ? 1 : 0));
  const body = region + birthday.replace(/-/g, '') + seq;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body[i]) * weights[i];
  return body + '10X98765432'[sum % 11];
}

/** German customers' names: most carry an umlaut or ß, which systems keeping ASCII drop or spell out. */
const GERMAN_GIVEN_M = ['Jürgen', 'Jörg', 'Björn', 'Sören', 'Günter', 'Uwe', 'Lukas', 'Matthias', 'Jonas', 'Stefan'];
const GERMAN_GIVEN_F = ['Bärbel', 'Dörte', 'Käthe', 'Jutta', 'Anja', 'Lena', 'Sophie', 'Hannah', 'Jülide', 'Brigitte'];
const GERMAN_SURNAMES = [
  'Müller',
  'Schäfer',
  'Weiß',
  'Groß',
  'Köhler',
  'Krüger',
  'Schröder',
  'Böhm',
  'Jäger',
  'Schmidt',
  'Fischer',
  'Wagner',
  'Hoffmann',
  'Meißner',
  'Günther',
];

/** A draw of its own for `key`, so what it decides moves no other draw of the world. */
const drawFor = (seed: number, key: string) => new Rand(hashOf(`${seed}:${key}`));

/** German without umlauts and ß as German writes it (`Müller` Mueller, `Weiß` Weiss). */
const spellOutUmlauts = (s: string) => s.replace(/[äöüÄÖÜß]/g, (c) => ({ ä: 'ae', ö: 'oe', ü: 'ue', Ä: 'Ae', Ö: 'Oe', Ü: 'Ue', ß: 'ss' })[c]!);
/** What a system that keeps ASCII makes of it (`Müller` Muller, `Weiß` Weiss). */
const dropUmlauts = (s: string) => s.replace(/ß/g, 'ss').normalize('NFD').replace(/\p{M}/gu, '');

/**
 * How one record writes a name with umlauts or ß: as written in most, without them in some
 * (systems that keep ASCII drop the dots), spelt out in others (`Mueller`, as Germans type it
 * on a keyboard without them).
 */
function umlautSpelling(d: Rand, name: string): string {
  if (!/[äöüÄÖÜß]/.test(name)) return name;
  const x = d.next();
  return x < 0.6 ? name : x < 0.85 ? dropUmlauts(name) : spellOutUmlauts(name);
}

function makePerson(r: Rand, i: number, seed: number): NoisyPerson {
  const gender = r.chance(0.5) ? 'M' : 'F';
  const year = 1950 + r.int(55);
  const birthday = `${year}-${pad(1 + r.int(12))}-${pad(1 + r.int(28))}`;
  const abroad = r.chance(NOISY_NOISE.international) ? r.pick(ABROAD) : null;
  let han: string | null = null;
  let latin: [string, string];
  if (!abroad || r.chance(0.35)) {
    // Chinese people, at home or abroad.
    const surname = r.pick(SURNAME_LIST);
    const pool = gender === 'M' ? GIVEN_M : GIVEN_F;
    const given = r.chance(0.7) ? r.pick([...pool]) + r.pick([...pool]) : r.pick([...pool]);
    han = surname + given;
    const sp = pinyin(surname, { toneType: 'none', type: 'array', surname: 'head', v: true }).join('');
    const gp = pinyin(given, { toneType: 'none', type: 'array', v: true }).join('');
    latin = [cap(gp), cap(sp)];
  } else {
    latin = [r.pick(gender === 'M' ? LATIN_GIVEN_M : LATIN_GIVEN_F), r.pick(LATIN_SURNAMES)];
  }
  // A German customer has a German name, drawn apart so that the rest of the world stays as it was.
  const d = abroad?.country === 'DE' && !han ? drawFor(seed, `de:${i}`) : null;
  const german: [string, string] | null = d ? [d.pick(gender === 'M' ? GERMAN_GIVEN_M : GERMAN_GIVEN_F), d.pick(GERMAN_SURNAMES)] : null;
  const home = abroad ? { city: r.pick(abroad.cities), province: abroad.province } : pickPlace(r);
  const cities = [home];
  if (r.chance(NOISY_NOISE.movedHouse)) cities.push(abroad ? { city: r.pick(abroad.cities), province: abroad.province } : pickPlace(r));
  const phones = [abroad ? foreignNumber(r, abroad.country) : `+86${chineseMobile(r)}`];
  // An email address is ASCII: `juergen.mueller`, or the dots dropped (`jurgen.muller`), one way per person.
  const ascii = german && /[äöüÄÖÜß]/.test(german.join('')) ? (drawFor(seed, `mail:${i}`).chance(0.7) ? spellOutUmlauts : dropUmlauts) : (w: string) => w;
  const local = (german ?? latin).map((w) => ascii(w).toLowerCase());
  const email = r.chance(0.6)
    ? `${r.chance(0.5) ? local.join('.') : local[0][0] + local[1]}${r.chance(0.5) ? r.int(100) : ''}@${r.pick(abroad ? EMAIL_DOMAINS_ABROAD : EMAIL_DOMAINS_CN)}`
    : null;
  return { id: `P${pad(i, 7)}`, international: abroad?.country ?? null, gender, birthday, han, latin, german, cities, phones, email };
}

function pickPlace(r: Rand) {
  const p = r.pick(PLACES);
  return { city: r.pick(p.cities), province: p.province };
}

const cap = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);

// ---------- how each record writes what it knows ----------

function typedName(r: Rand, p: NoisyPerson, system: NoisySystem): string | null {
  if (p.han && system !== 'global_store' && !(system === 'webshop' && r.chance(NOISY_NOISE.pinyinInsteadOfHan))) {
    if (!r.chance(NOISY_NOISE.hanTypo)) return p.han;
    const chars = [...p.han];
    const at = chars.length > 1 ? 1 + r.int(chars.length - 1) : 0;
    const alts = HOMOPHONE_OF.get(chars[at]);
    chars[at] = alts ? r.pick(alts) : r.pick([...(p.gender === 'M' ? GIVEN_M : GIVEN_F)]);
    return chars.join('');
  }
  let [given, surname] = p.latin;
  if (!p.han && NICKNAME[given] && r.chance(NOISY_NOISE.nickname)) given = r.pick(NICKNAME[given]);
  if (r.chance(NOISY_NOISE.latinTypo)) {
    if (r.chance(0.5)) given = latinTypo(r, given);
    else surname = latinTypo(r, surname);
  }
  const western = !p.han || r.chance(NOISY_NOISE.westernOrder);
  const text = western ? `${given} ${surname}` : `${surname} ${given}`;
  return r.chance(0.2) ? text.toUpperCase() : r.chance(0.2) ? text.toLowerCase() : text;
}

/** One slip: two letters swapped, one dropped, or one doubled. */
function latinTypo(r: Rand, w: string): string {
  if (w.length < 4) return w;
  const i = 1 + r.int(w.length - 2);
  const k = r.int(3);
  if (k === 0) return w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2);
  if (k === 1) return w.slice(0, i) + w.slice(i + 1);
  return w.slice(0, i) + w[i] + w.slice(i);
}

function typedBirthday(r: Rand, p: NoisyPerson, system: NoisySystem): string | null {
  if (system === 'service' || system === 'webshop' ? r.chance(0.7) : r.chance(NOISY_NOISE.birthdayMissing)) return null;
  const [y, m, d] = p.birthday.split('-');
  if (+d <= 12 && m !== d && r.chance(NOISY_NOISE.birthdaySwap)) return `${y}-${d}-${m}`;
  if (r.chance(NOISY_NOISE.birthdayDigit)) {
    const y2 = String(+y + (r.chance(0.5) ? 1 : -1));
    return `${y2}-${m}-${d}`;
  }
  return r.chance(0.3) ? `${y}/${+m}/${+d}` : p.birthday;
}

/** How a phone is typed into a form: the E.164 number in one of the spellings people use. */
function typedPhone(r: Rand, e164: string, system: NoisySystem): string {
  if (e164.startsWith('+86')) {
    const m = e164.slice(3);
    const forms = [m, `+86 ${m}`, `${m.slice(0, 3)}-${m.slice(3, 7)}-${m.slice(7)}`, `${m.slice(0, 3)} ${m.slice(3, 7)} ${m.slice(7)}`, `0086${m}`, `86${m}`];
    const s = r.pick(forms);
    return r.chance(NOISY_NOISE.fullWidthPhone) ? toFullWidth(s) : s;
  }
  const p = parsePhoneNumberFromString(e164)!;
  // The global store is set up for the US: its US customers type national numbers.
  if (system === 'global_store' && p.country === 'US') return r.chance(0.5) ? p.formatNational() : String(p.nationalNumber);
  return r.chance(0.5) ? p.formatInternational() : p.number;
}

const toFullWidth = (s: string) => s.replace(/[0-9+\- ]/g, (c) => (c === ' ' ? '\u3000' : String.fromCharCode(c.charCodeAt(0) + 0xfee0)));

function typedEmail(r: Rand, p: NoisyPerson, email: string): string {
  if (r.chance(NOISY_NOISE.emailDisplayName)) return `${(p.german ?? p.latin).join(' ')}<${email}>`;
  if (r.chance(0.03)) return `mailto:${email}`;
  return r.chance(0.2) ? email.toUpperCase() : email;
}

/** The world for `people` people and `seed`; the same arguments always give the same world. */
export function generateNoisyWorld(people: number, seed: number, asOf = Date.UTC(2026, 10, 1)): NoisyWorld {
  const r = new Rand(seed * 2654435761 + 7);
  const persons: NoisyPerson[] = [];
  for (let i = 0; i < people; i++) persons.push(makePerson(r, i, seed));
  // Households: a spouse carries the other's phone too.
  for (let i = 1; i < persons.length; i++) if (r.chance(NOISY_NOISE.householdPhone)) persons[i].phones.push(persons[i - 1].phones[0]);
  const rows: Record<NoisySystem, NoisyRow[]> = { members: [], webshop: [], service: [], global_store: [], events: [] };
  const truth: NoisyWorld['truth'] = [];
  const counters: Record<NoisySystem, number> = { members: 0, webshop: 0, service: 0, global_store: 0, events: 0 };
  const DAY = 86_400_000;
  /** How a record writes the person's name; a German's, typed by a draw of its own, umlauts as that record keeps them. */
  const nameOf = (p: NoisyPerson, system: NoisySystem, id: string) => {
    const typed = typedName(r, p, system);
    if (!p.german) return typed;
    const d = drawFor(seed, `name:${id}`);
    const name = typedName(d, { ...p, latin: p.german }, system);
    return name && umlautSpelling(d, name);
  };
  /**
   * A person's one resident id (drawn from a stream of the person's own). Until version 3 each
   * record drew an id of its own, so one person's two membership rows held two valid ids, which
   * no one has. The record's own draws are still taken, so every other row is as before.
   */
  const residentIdOf = (r: Rand, p: NoisyPerson) => {
    residentId(r, p.birthday, p.gender); // the record's own draws, as version 2 took them
    return residentId(drawFor(seed, `resident:${p.id}`), p.birthday, p.gender);
  };
  const write = (system: NoisySystem, p: NoisyPerson, at: number, over: Partial<NoisyRow> = {}) => {
    const id = `${system.slice(0, 2).toUpperCase()}${pad(++counters[system], 7)}`;
    const late = at > asOf - 365 * DAY;
    const place = p.cities[late ? p.cities.length - 1 : 0];
    const noContact = system === 'events' && r.chance(NOISY_NOISE.noContactAtEvent);
    const phone = noContact || r.chance(0.1) ? null : r.pick(p.phones);
    const row: NoisyRow = {
      id,
      updated_at: new Date(at).toISOString(),
      name: nameOf(p, system, id),
      birthday: typedBirthday(r, p, system),
      gender: r.chance(0.7) ? (p.gender === 'M' ? (r.chance(0.5) ? 'M' : '男') : r.chance(0.5) ? 'F' : '女') : null,
      city: r.chance(0.85) ? place.city : null,
      province: r.chance(0.7) ? place.province : null,
      phone: phone ? typedPhone(r, phone, system) : null,
      email: !noContact && p.email && r.chance(system === 'events' ? 0.3 : 0.6) ? typedEmail(r, p, p.email) : null,
      resident_id: system === 'members' && !p.international && r.chance(0.6) ? residentIdOf(r, p) : null,
      passport: system === 'global_store' && r.chance(0.3) ? `${p.international ? p.international : 'CN'}${pad(Math.abs(hashOf(p.id)) % 1e8, 8)}` : null,
      ...over,
    };
    rows[system].push(row);
    truth.push([system, id, p.id]);
  };
  for (const p of persons) {
    const abroad = p.international ? 1 : 0;
    for (const system of NOISY_SYSTEMS) {
      if (!r.chance(PRESENCE[system][abroad])) continue;
      write(system, p, asOf - r.int(3 * 365) * DAY);
      if (r.chance(NOISY_NOISE.secondRecord)) write(system, p, asOf - r.int(3 * 365) * DAY);
    }
  }
  // Recycled numbers: a member gave a number up (the membership row still shows it: nobody
  // told the program) and the operator later gave it to a stranger, who signs up at the web
  // shop with it.
  const members = rows.members.filter((m) => m.phone);
  for (let k = 0; k < Math.round(members.length * NOISY_NOISE.recycledNumber); k++) {
    const old = members[r.int(members.length)];
    const stranger = persons[r.int(persons.length)];
    const ownerOf = truth.find(([s, id]) => s === 'members' && id === old.id)![2];
    if (stranger.id === ownerOf || stranger.international) continue;
    const gaveUp = Date.parse(old.updated_at) + (30 + r.int(300)) * DAY;
    write('webshop', stranger, gaveUp + (100 + r.int(200)) * DAY, { phone: old.phone });
  }
  return { people: persons, rows, truth };
}

function hashOf(s: string): number {
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return h;
}
