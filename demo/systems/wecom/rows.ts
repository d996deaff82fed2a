/**
 * The rows one person leaves in the company's WeCom (企业微信客户联系): at most one external
 * contact (WeCom gives one WeChat user one external_userid per company, whichever staff member
 * adds them) and one follow row per staff member who added them, each with that staff
 * member's own remark, noted mobiles and tags.
 *
 * Every rate below is a property of people, staff or WeCom itself, never tuned against a
 * resolver. Draws come only from the rng handed in, in a fixed order, so a person's rows are
 * the same for the same stream.
 */
import type { DemoWorldContext } from '../../system';
import type { Person, Rng } from '../../world';

const SECOND = 1000;
const DAY = 86_400 * SECOND;
const HISTORY_MS = 3 * 365 * DAY;
const URLSAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

type Segment = Person['segment'];

/**
 * Share of people with a WeChat account who are a staff member's WeCom contact. Staff add the
 * customers they serve one to one (store visits, consultations, after-sales), and engaged
 * customers meet staff far more often than casual buyers. With the world's segment mix
 * (30/45/25) and WeChat users among them, about a quarter of all people end up contacts.
 */
export const PRESENCE: Record<Segment, number> = { engaged: 0.6, regular: 0.45, casual: 0.35 };

/**
 * How many staff members follow one contact: a salesperson first; a service colleague after a
 * purchase, or a successor when the contact is reassigned. Engaged customers meet more staff.
 */
const FOLLOWERS: Record<Segment, readonly number[]> = {
  engaged: [60, 30, 10],
  regular: [75, 20, 5],
  casual: [88, 10, 2],
};

/**
 * Share of contacts whose unionid WeCom discloses. The company's WeCom runs through a service
 * provider's app authorised after WeCom's 2021 ID upgrade: such an app gets a contact's
 * unionid only once it has matched it through the unionid↔external_userid conversion, which
 * needs the person to have signed in to one of the brand's own WeChat apps (mini program,
 * official-account pages) that the provider serves. Engaged customers do that far more often;
 * overall it is about half of the contacts.
 */
export const UNIONID_DISCLOSED: Record<Segment, number> = { engaged: 0.62, regular: 0.5, casual: 0.38 };

/** Staff note a mobile when they need one (delivery, appointment, after-sales callback). */
const NOTES_MOBILE = 0.45;
/** A person without a mobile of their own gives the household's when staff ask. */
const GIVES_HOUSEHOLD_PHONE = 0.5;
/** Contacts who hid their gender in WeChat (WeCom then says 0). */
const GENDER_HIDDEN = 0.12;

/** The sales and service staff with customer-contact permission (userid, name, role). */
export const STAFF: ReadonlyArray<{ userid: string; name: string; role: 'store' | 'sales' | 'service' }> = [
  ...[
    ['zhangwei', '张伟'],
    ['wangfang', '王芳'],
    ['lina', '李娜'],
    ['liuyang', '刘洋'],
    ['chenjing', '陈静'],
    ['yangli', '杨丽'],
    ['zhaolei', '赵磊'],
    ['huangmin', '黄敏'],
  ].map(([userid, name]) => ({ userid, name, role: 'store' as const })),
  ...Array.from({ length: 24 }, (_, i) => ({ userid: `sales_${String(i + 1).padStart(3, '0')}`, name: `销售${i + 1}`, role: 'sales' as const })),
  ...Array.from({ length: 12 }, (_, i) => ({ userid: `service_${String(i + 1).padStart(3, '0')}`, name: `客服${i + 1}`, role: 'service' as const })),
];

/** The corp's tag catalogue (tag ids are `et` + 30 url-safe characters, as WeCom's are). */
export const TAGS: ReadonlyArray<{ tag_id: string; tag_name: string; group_name: string }> = [
  ['普通客户', '客户等级'],
  ['VIP客户', '客户等级'],
  ['高意向', '客户等级'],
  ['门店', '来源'],
  ['直播', '来源'],
  ['朋友推荐', '来源'],
  ['已购', '跟进状态'],
  ['待回访', '跟进状态'],
].map(([tag_name, group_name], i) => ({ tag_id: `etDemoWecomTag${String(i + 1).padStart(18, '0')}`, tag_name, group_name }));

const NICKNAMES = ['小鱼儿', 'Sunny', '阳光', '静待花开', 'Lucky', '木木', '一路向北', 'Coco', '微笑', '岁月静好', 'Tina', '晴天'];
const DESCRIPTIONS = ['老客户', '关注新品', '对价格敏感', '门店到店客户', '需要回访', '送礼需求'];
const STATES = ['store_qr', 'live_room', 'poster_a', 'counter_card'];

/** add_way: 1 QR code, 2 phone search, 3 card share, 0 unknown, 201 shared by a colleague, 202 assigned by an admin. */
const FIRST_ADD_WAYS: ReadonlyArray<readonly [number, number]> = [
  [1, 55],
  [2, 18],
  [3, 12],
  [0, 5],
  [202, 10],
];
const LATER_ADD_WAYS: ReadonlyArray<readonly [number, number]> = [
  [1, 30],
  [2, 10],
  [201, 35],
  [202, 25],
];

function weightedPick<T>(rng: Rng, pairs: ReadonlyArray<readonly [T, number]>): T {
  const total = pairs.reduce((s, p) => s + p[1], 0);
  let x = rng.next() * total;
  for (const [item, w] of pairs) if ((x -= w) < 0) return item;
  return pairs[pairs.length - 1][0];
}

/** Store staff add the most (they meet walk-in customers), then sales, then service. */
function pickStaff(rng: Rng, taken: readonly string[]): string {
  const pool = STAFF.filter((s) => !taken.includes(s.userid)).map((s) => [s.userid, s.role === 'store' ? 3 : s.role === 'sales' ? 2 : 1] as const);
  return weightedPick(rng, pool);
}

/** The mobile the person used at `t`: staff note what the customer says that day, and seldom update it later. */
function phoneAt(person: Person, t: number): string | null {
  let current: string | null = null;
  for (const p of person.phones) if (p.from <= t) current = p.number;
  return current;
}

/** As staff type a mobile into WeCom's remark field. */
function typed(rng: Rng, number: string): string {
  const r = rng.next();
  if (r < 0.85) return number;
  if (r < 0.95) return `${number.slice(0, 3)} ${number.slice(3, 7)} ${number.slice(7)}`;
  return `+86 ${number}`;
}

function remarkFor(rng: Rng, person: Person): string {
  const r = rng.next();
  const note = rng.pick(DESCRIPTIONS);
  if (r < 0.55) return person.name;
  if (r < 0.7) return person.surname + (person.gender === 'F' ? '女士' : '先生');
  if (r < 0.8) return `${person.name}-${note}`;
  if (r < 0.9) return [person.pinyin.surname, ...person.pinyin.given].join('');
  // No remark: WeCom answers an empty string.
  return '';
}

function nicknameFor(rng: Rng, person: Person): string {
  const r = rng.next();
  const made = rng.pick(NICKNAMES);
  if (r < 0.35) return person.name;
  if (r < 0.5) return person.given;
  if (r < 0.65) return person.pinyin.given.join('').replace(/^./, (c) => c.toUpperCase());
  return made;
}

/** Whether the person is any staff member's WeCom contact. One draw, whatever the answer. */
export function present(person: Person, rng: Rng): boolean {
  const r = rng.next();
  // External contacts are WeChat users; a person without a WeChat account (no unionid in the world) cannot be one.
  if (!person.unionid) return false;
  return r < PRESENCE[person.segment];
}

export type WecomContactRow = {
  external_userid: string;
  name: string;
  type: number;
  gender: number;
  unionid: string | null;
  avatar: string;
  corp_name: string | null;
};

export type WecomFollowRow = {
  external_userid: string;
  userid: string;
  remark: string;
  description: string;
  createtime: number;
  tag_ids: string;
  remark_corp_name: string;
  remark_mobiles: string;
  add_way: number;
  oper_userid: string;
  state: string;
};

/** The contact row and its follow rows for one present person. */
export function rowsFor(person: Person, rng: Rng, ctx: DemoWorldContext): { wecom_contacts: WecomContactRow[]; wecom_follows: WecomFollowRow[] } {
  const externalUserId = 'wm' + rng.chars(URLSAFE, 30);
  const contact: WecomContactRow = {
    external_userid: externalUserId,
    name: nicknameFor(rng, person),
    type: 1,
    gender: rng.chance(GENDER_HIDDEN) ? 0 : person.gender === 'M' ? 1 : 2,
    unionid: rng.chance(UNIONID_DISCLOSED[person.segment]) ? person.unionid : null,
    avatar: `http://wx.qlogo.cn/mmhead/${rng.chars(URLSAFE, 40)}/0`,
    corp_name: null,
  };
  const count =
    1 +
    weightedPick(
      rng,
      FOLLOWERS[person.segment].map((w, i) => [i, w] as const),
    );
  const lo = Math.max(person.since, ctx.asOf - HISTORY_MS);
  const hi = ctx.asOf - SECOND;
  const follows: WecomFollowRow[] = [];
  const taken: string[] = [];
  let t = rng.between(lo, hi);
  for (let i = 0; i < count; i++) {
    // Later staff add the contact after the first (a purchase, a hand-over), never before.
    if (i > 0) t = Math.min(hi, rng.between(t + SECOND, hi));
    const userid = pickStaff(rng, taken);
    taken.push(userid);
    const remark = remarkFor(rng, person);
    const description = rng.chance(0.15) ? rng.pick(DESCRIPTIONS) : '';
    const mobiles: string[] = [];
    if (rng.chance(NOTES_MOBILE)) {
      const own = phoneAt(person, t);
      const household = person.sharedPhone && rng.chance(GIVES_HOUSEHOLD_PHONE) ? person.sharedPhone : null;
      const number = own ?? household;
      if (number) mobiles.push(typed(rng, number));
    }
    const tags: string[] = [];
    for (let n = rng.range(0, 2); tags.length < n;) {
      const tag = rng.pick(TAGS).tag_id;
      if (!tags.includes(tag)) tags.push(tag);
    }
    const addWay = weightedPick(rng, i === 0 ? FIRST_ADD_WAYS : LATER_ADD_WAYS);
    // The customer starts a QR-code or card add; staff start the rest.
    const operUserid = addWay === 1 || addWay === 3 ? externalUserId : userid;
    const state = addWay === 1 && rng.chance(0.4) ? rng.pick(STATES) : '';
    follows.push({
      external_userid: externalUserId,
      userid,
      remark,
      description,
      createtime: Math.floor(t / SECOND),
      tag_ids: JSON.stringify(tags),
      remark_corp_name: '',
      remark_mobiles: JSON.stringify(mobiles),
      add_way: addWay,
      oper_userid: operUserid,
      state,
    });
  }
  return { wecom_contacts: [contact], wecom_follows: follows };
}
