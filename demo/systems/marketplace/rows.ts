/**
 * The rows one person leaves in a Tmall shop: a CRM buyer row, trades with their sub-orders,
 * and refunds, in TOP's own habits. Every draw comes from the rng handed in (the system's own
 * stream), so this system never changes another's rows.
 *
 * Rates, each a property of people or of the platform:
 *   - presence by segment (engaged 50%, regular 35%, casual 25%; ≈37% overall): the brand's
 *     flagship store is one channel among several, engaged customers shop everywhere;
 *   - shop membership (会员通) by segment (35% / 18% / 6% of buyers): joining hands the brand
 *     the member's own mobile, which only people who care about the brand's points bother with;
 *   - receiver phone per trade: 72% a privacy virtual number with a 4-digit extension (the
 *     platform's default since its privacy waybill), 20% masked (`138****8000`, older export
 *     views), 8% the plain number (buyers who switched the privacy option off);
 *   - refunds on 6% of paid trades older than 3 days, most of them in full.
 */
import type { DemoWorldContext } from '../../system';
import type { Person, Rng } from '../../world';

const SECOND = 1000;
const DAY = 86_400 * SECOND;
const HISTORY_MS = 3 * 365 * DAY;

export const PRESENCE: Record<Person['segment'], number> = { engaged: 0.5, regular: 0.35, casual: 0.25 };
export const MEMBER_RATE: Record<Person['segment'], number> = { engaged: 0.35, regular: 0.18, casual: 0.06 };
const ORDER_MEAN: Record<Person['segment'], number> = { engaged: 3, regular: 1.8, casual: 1.2 };
export const RECEIVER_SHARES = { virtual: 0.72, masked: 0.2, real: 0.08 } as const;
export const REFUND_RATE = 0.06;

/**
 * TOP category ids of the shop's leaf categories → the company's category names (those of the
 * demo world's catalogue). The gateway's instance options carry this map (`categories`).
 */
export const CATEGORY_BY_CID: Readonly<Record<string, string>> = {
  '16': 'apparel',
  '1801': 'beauty',
  '50008090': 'electronics',
  '50008164': 'home',
  '50002766': 'food',
  '35': 'baby',
  '50010728': 'sports',
  '33': 'books',
};

interface Product {
  sku: string;
  title: string;
  cid: number;
  cents: number;
}

/** The flagship store's own listing titles (marketplace titles are keyword-stuffed), in the world's category order. */
const CATALOGUE: Product[][] = [
  [
    { sku: 'TM-APP-001', title: '【官方旗舰】纯棉圆领短袖T恤男女同款', cid: 16, cents: 6900 },
    { sku: 'TM-APP-002', title: '轻薄羽绒服女短款立领2024新款', cid: 16, cents: 59900 },
    { sku: 'TM-APP-003', title: '加绒连帽卫衣宽松百搭', cid: 16, cents: 17900 },
  ],
  [
    { sku: 'TM-BEA-001', title: '玻尿酸补水保湿面膜10片装', cid: 1801, cents: 9900 },
    { sku: 'TM-BEA-002', title: '清爽防晒霜SPF50+ 军训户外', cid: 1801, cents: 14900 },
  ],
  [
    { sku: 'TM-ELE-001', title: '主动降噪蓝牙耳机 超长续航', cid: 50008090, cents: 35900 },
    { sku: 'TM-ELE-002', title: '20W快充充电宝10000毫安', cid: 50008090, cents: 12900 },
    { sku: 'TM-ELE-003', title: 'Type-C数据线1米 2条装', cid: 50008090, cents: 1990 },
  ],
  [
    { sku: 'TM-HOM-001', title: '慢回弹记忆棉枕头 单只装', cid: 50008164, cents: 12900 },
    { sku: 'TM-HOM-002', title: '全棉四件套 1.8m床', cid: 50008164, cents: 34900 },
  ],
  [
    { sku: 'TM-FOO-001', title: '每日坚果混合果仁30袋礼盒', cid: 50002766, cents: 11900 },
    { sku: 'TM-FOO-002', title: '挂耳咖啡黑咖啡50包', cid: 50002766, cents: 8900 },
  ],
  [
    { sku: 'TM-BAB-001', title: '婴儿纸尿裤L码 超薄透气', cid: 35, cents: 14900 },
    { sku: 'TM-BAB-002', title: '婴儿手口湿巾80抽*6包', cid: 35, cents: 4990 },
  ],
  [
    { sku: 'TM-SPO-001', title: '加厚防滑瑜伽垫 初学者', cid: 50010728, cents: 7900 },
    { sku: 'TM-SPO-002', title: '缓震透气跑步鞋', cid: 50010728, cents: 45900 },
  ],
  [
    { sku: 'TM-BOO-001', title: '三体全集 刘慈欣 正版', cid: 33, cents: 8300 },
    { sku: 'TM-BOO-002', title: '明朝那些事儿 全套', cid: 33, cents: 13800 },
  ],
];

const REFUND_REASONS = ['七天无理由退换货', '商品质量问题', '尺码拍错/不喜欢/效果不好', '发货太慢', '与商品描述不符', '少件/漏发'];
const NICKS = ['小蜗牛', '平安是福', '岁月静好', '追梦人', '橙子', '糖糖', '晴天', '木子'];
const URLSAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DIGITS = '0123456789';

/**
 * The privacy number pool: a few dozen virtual-operator numbers (170/171 segments) the platform
 * hands out, each shared by thousands of receivers told apart by a 4-digit extension. A fixed
 * list, the same in every world: the numbers are the platform's, not the people's.
 */
export const VIRTUAL_POOL: readonly string[] = Array.from({ length: 40 }, (_, i) => `17${i % 2}${String(10_000_000 + ((i * 7_919_113) % 89_999_999)).slice(0, 8)}`);

/** `t**1`: the platform shows a buyer's nick by its first and last characters only. */
export function maskNick(nick: string): string {
  const cs = [...nick];
  return cs.length <= 1 ? `${cs[0] ?? ''}**` : `${cs[0]}**${cs[cs.length - 1]}`;
}

const maskMobile = (m: string) => `${m.slice(0, 3)}****${m.slice(7)}`;

function yuan(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** The person's own mobile at instant t (the last one in use then), or the household's. */
function phoneAt(p: Person, t: number): string | null {
  let current: string | null = null;
  for (const ph of p.phones) if (ph.from <= t) current = ph.number;
  return current ?? p.sharedPhone;
}

/** The phone a person types at t: a family member who shares the household phone often gives it. */
function givenPhone(rng: Rng, p: Person, t: number): string | null {
  if (p.sharedPhone && (!p.phones.length || rng.chance(0.5))) return p.sharedPhone;
  return phoneAt(p, t);
}

/** Six URL-safe characters spelling the person's index: makes ids unique without a shared counter. */
function indexCode(index: number): string {
  let s = '';
  for (let i = 0, n = index; i < 6; i++, n = Math.floor(n / 64)) s = URLSAFE[n % 64] + s;
  return s;
}

function orderCount(rng: Rng, mean: number): number {
  if (rng.chance(0.02)) return rng.range(12, 30);
  return 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(1 - 1 / mean));
}

function pickWeighted<T>(rng: Rng, pairs: ReadonlyArray<readonly [T, number]>): T {
  const total = pairs.reduce((s, p) => s + p[1], 0);
  let x = rng.next() * total;
  for (const [v, w] of pairs) if ((x -= w) < 0) return v;
  return pairs[pairs.length - 1][0];
}

/** TOP status by the trade's age: recent trades still move, old ones are settled. */
function tradeStatus(rng: Rng, age: number): string {
  if (age < DAY)
    return pickWeighted(rng, [
      ['WAIT_BUYER_PAY', 25],
      ['WAIT_SELLER_SEND_GOODS', 40],
      ['WAIT_BUYER_CONFIRM_GOODS', 20],
      ['TRADE_CLOSED_BY_TAOBAO', 15],
    ]);
  if (age < 10 * DAY)
    return pickWeighted(rng, [
      ['WAIT_SELLER_SEND_GOODS', 10],
      ['WAIT_BUYER_CONFIRM_GOODS', 45],
      ['TRADE_FINISHED', 35],
      ['TRADE_CLOSED_BY_TAOBAO', 10],
    ]);
  return rng.chance(0.93) ? 'TRADE_FINISHED' : 'TRADE_CLOSED_BY_TAOBAO';
}

export type Rows = Record<'tb_buyers' | 'tb_trades' | 'tb_orders' | 'tb_refunds', Array<Record<string, unknown>>>;

export function marketplaceRows(p: Person, rng: Rng, ctx: DemoWorldContext): Rows {
  const out: Rows = { tb_buyers: [], tb_trades: [], tb_orders: [], tb_refunds: [] };
  const asOf = Math.floor(ctx.asOf / SECOND) * SECOND;
  const last = asOf - SECOND;
  const index = Number(p.id.replace(/\D/g, '')) || 0;
  const idx7 = String(index).padStart(7, '0');
  const uid = `AA${rng.chars(URLSAFE, 6)}${indexCode(index)}${rng.chars(URLSAFE, 10)}`;
  const rawNick = rng.chance(0.6) ? `${p.pinyin.surname}${p.pinyin.given.join('')}${rng.range(1, 9999)}` : `${rng.pick(NICKS)}${rng.range(1, 99)}`;

  const from = Math.max(p.since, asOf - HISTORY_MS);
  const sec = (ms: number) => Math.min(last, Math.floor(ms / SECOND) * SECOND);
  const n = Math.min(999, orderCount(rng, ORDER_MEAN[p.segment]));
  let counted = 0;
  let countedCents = 0;
  let first: number | null = null;
  let latest: number | null = null;
  let modifiedMax = 0;

  for (let i = 0; i < n; i++) {
    const seq = String(i).padStart(3, '0');
    const tid = `3${rng.chars(DIGITS, 4)}${idx7}${seq}`;
    const created = sec(rng.between(from, asOf));
    const age = asOf - created;
    let status = tradeStatus(rng, age);
    const paid = status === 'WAIT_BUYER_PAY' || status === 'TRADE_CLOSED_BY_TAOBAO' ? null : sec(created + rng.range(10, 1800) * SECOND);
    const lines: Array<Record<string, unknown>> = [];
    const nLines = pickWeighted(rng, [
      [1, 60],
      [2, 28],
      [3, 12],
    ]);
    let payment = 0;
    let listTotal = 0;
    for (let l = 0; l < nLines; l++) {
      const cat = rng.chance(0.7) && p.favourites.length ? rng.pick(p.favourites) % CATALOGUE.length : rng.int(CATALOGUE.length);
      const product = rng.pick(CATALOGUE[cat]);
      const num = rng.chance(0.8) ? 1 : rng.range(2, 3);
      // Shop coupons and 88VIP: list price, or 5/10/15% off, rounded to the fen.
      const unit = Math.round(product.cents * rng.pick([1, 1, 0.95, 0.9, 0.85]));
      payment += unit * num;
      listTotal += product.cents * num;
      lines.push({
        oid: `4${rng.chars(DIGITS, 4)}${idx7}${seq}${l}`,
        tid,
        title: product.title,
        outer_sku_id: product.sku,
        cid: product.cid,
        num,
        price: yuan(unit),
        total_fee: yuan(product.cents * num),
        payment: yuan(unit * num),
        refund_id: null,
        refund_status: 'NO_REFUND',
      });
    }
    let modified = paid ?? created;
    let endTime: number | null = null;
    if (status === 'TRADE_FINISHED') endTime = sec((paid ?? created) + rng.range(3, 15) * DAY);
    if (status === 'TRADE_CLOSED_BY_TAOBAO') endTime = sec(created + rng.range(1, 72) * 3600 * SECOND);
    if (paid !== null && age > 3 * DAY && (status === 'TRADE_FINISHED' || status === 'WAIT_BUYER_CONFIRM_GOODS') && rng.chance(REFUND_RATE)) {
      const full = rng.chance(0.8);
      const reason = rng.chance(0.92) ? rng.pick(REFUND_REASONS) : null;
      const appliedAt = sec(paid + rng.range(1, 15) * DAY + rng.int(DAY));
      const succeededAt = sec(appliedAt + rng.range(600, 3 * 86_400) * SECOND);
      // Taobao refunds per sub-order: a full refund is one refund per line; a partial one returns part of one line.
      const refunded = full ? lines : [rng.pick(lines)];
      for (const line of refunded) {
        const lineCents = Math.round(Number(line.payment) * 100);
        const fee = full ? lineCents : Math.max(1, Math.round((lineCents * rng.range(20, 80)) / 100));
        const refundId = `5${rng.chars(DIGITS, 4)}${String(line.oid).slice(5)}`;
        line.refund_id = refundId;
        line.refund_status = 'SUCCESS';
        out.tb_refunds.push({
          refund_id: refundId,
          tid,
          oid: line.oid,
          buyer_open_uid: uid,
          refund_fee: yuan(fee),
          reason,
          status: 'SUCCESS',
          created: appliedAt,
          modified: succeededAt,
        });
      }
      if (full) {
        status = 'TRADE_CLOSED';
        endTime = succeededAt;
      }
      modified = Math.max(modified, succeededAt);
    }
    if (endTime !== null) modified = Math.max(modified, endTime);
    modified = Math.min(last, modified);

    const kind = pickWeighted(rng, [
      ['virtual', RECEIVER_SHARES.virtual],
      ['masked', RECEIVER_SHARES.masked],
      ['real', RECEIVER_SHARES.real],
    ] as const);
    const phone = givenPhone(rng, p, created);
    const receiverMobile = kind === 'virtual' || !phone ? `${rng.pick(VIRTUAL_POOL)}-${rng.range(1000, 9999)}` : kind === 'masked' ? maskMobile(phone) : phone;
    out.tb_trades.push({
      tid,
      buyer_open_uid: uid,
      status,
      payment: yuan(payment),
      total_fee: yuan(listTotal),
      post_fee: '0.00',
      created,
      pay_time: paid,
      end_time: endTime,
      modified,
      receiver_name: `${p.surname}**`,
      receiver_mobile: receiverMobile,
    });
    out.tb_orders.push(...lines);
    if (status !== 'TRADE_CLOSED_BY_TAOBAO') {
      counted += 1;
      countedCents += payment;
    }
    first = first === null ? created : Math.min(first, created);
    latest = latest === null ? created : Math.max(latest, created);
    modifiedMax = Math.max(modifiedMax, modified);
  }

  let joinTime: number | null = null;
  let mobile: string | null = null;
  if (first !== null && rng.chance(MEMBER_RATE[p.segment])) {
    const at = sec(rng.between(first, asOf));
    const m = givenPhone(rng, p, at);
    // Joining asks for a mobile; someone with none to give does not join.
    if (m) {
      joinTime = at;
      mobile = m;
    }
  }
  out.tb_buyers.push({
    buyer_open_uid: uid,
    buyer_nick: maskNick(rawNick),
    grade:
      joinTime === null
        ? 0
        : pickWeighted(rng, [
            [1, 55],
            [2, 30],
            [3, 12],
            [4, 3],
          ]),
    trade_count: counted,
    trade_amount: yuan(countedCents),
    first_trade_time: first,
    last_trade_time: latest,
    join_time: joinTime,
    mobile,
    relation_source: joinTime === null ? 1 : 3,
    modified: Math.max(modifiedMax, joinTime ?? 0),
  });
  return out;
}
