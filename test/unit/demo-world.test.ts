/**
 * The demo world generator: deterministic, streaming, and as noisy as real customer data.
 * Noise is checked on the rows (what a resolver sees), the person model only says who is who.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import knex from 'knex';
import { normalizeEmail, normalizePhone } from '../../src/canonical';
import { PLACEHOLDER_EMAILS, PLACEHOLDER_PHONES, PRESENCE_TARGETS, TABLE_NAMES, generatePeople, type Person, type TableRows } from '../../demo/world';
import { generateWorld } from '../../demo/generate';
import { tempDir } from '../helpers/tmp';

const AS_OF = '2026-11-01';
const AS_OF_MS = Date.parse('2026-11-01T00:00:00Z');
const START_MS = AS_OF_MS - 3 * 365 * 86_400_000;

function digest(people: number, seed: number, asOf: string = AS_OF): string {
  const h = crypto.createHash('sha256');
  for (const { person, rows } of generatePeople({ people, seed, asOf })) h.update(JSON.stringify([person, rows]));
  return h.digest('hex');
}

interface Collected {
  people: Person[];
  rowsOf: Map<string, TableRows>;
  all: TableRows;
}

function collect(people: number, seed: number): Collected {
  const out: Collected = { people: [], rowsOf: new Map(), all: Object.fromEntries(TABLE_NAMES.map((t) => [t, []])) as unknown as TableRows };
  for (const { person, rows } of generatePeople({ people, seed, asOf: AS_OF })) {
    out.people.push(person);
    out.rowsOf.set(person.id, rows);
    for (const t of TABLE_NAMES) (out.all[t] as unknown[]).push(...rows[t]);
  }
  return out;
}

/** Every phone-ish field of one person's records, as typed. */
function phoneFields(rows: TableRows): Array<string | null> {
  return [
    ...rows.crm_contacts.map((r) => r.mobile),
    ...rows.shop_accounts.map((r) => r.mobile),
    ...rows.support_users.map((r) => r.phone),
    ...rows.scrm_followers.map((r) => r.bound_phone),
  ];
}
function emailFields(rows: TableRows): Array<string | null> {
  return [...rows.crm_contacts.map((r) => r.email), ...rows.shop_accounts.map((r) => r.email), ...rows.support_users.map((r) => r.email)];
}

const PLACEHOLDER_PHONE_SET = new Set<string>(PLACEHOLDER_PHONES);
const PLACEHOLDER_EMAIL_SET = new Set<string>(PLACEHOLDER_EMAILS);

describe('Demo world: determinism', () => {
  it('produces identical people and rows for the same seed, people and asOf', () => {
    expect(digest(1500, 42)).toBe(digest(1500, 42));
  });

  it('produces a different world for another seed or another asOf', () => {
    const base = digest(500, 42);
    expect(digest(500, 43)).not.toBe(base);
    expect(digest(500, 42, '2026-10-01')).not.toBe(base);
  });

  it('uses no unseeded randomness', () => {
    for (const f of ['world.ts', 'generate.ts', 'seed.ts']) {
      expect(fs.readFileSync(path.join(__dirname, '../../demo', f), 'utf8')).not.toMatch(/Math\.random\s*\(/);
    }
  });

  it('rejects options that cannot make a world', () => {
    expect(() => generatePeople({ people: 0, seed: 1 }).next()).toThrow(/people must be an integer/);
    expect(() => generatePeople({ people: 10, seed: -1 }).next()).toThrow(/seed must be a non-negative integer/);
    expect(() => generatePeople({ people: 10, seed: 1, asOf: '2026-02-31' }).next()).toThrow(/asOf must be a date/);
  });
});

describe('Demo world: 5,000 people', () => {
  let w: Collected;
  beforeAll(() => {
    w = collect(5000, 42);
  });

  it('yields exactly the people asked for, with unique ids', () => {
    expect(w.people).toHaveLength(5000);
    expect(new Set(w.people.map((p) => p.id)).size).toBe(5000);
  });

  it('gives every source record a unique key in its system', () => {
    const keys = [
      ...w.all.crm_contacts.map((r) => `crm:${r.contact_id}`),
      ...w.all.shop_accounts.map((r) => `orders:${r.account_id}`),
      ...w.all.support_users.map((r) => `support:${r.id}`),
      ...w.all.scrm_followers.map((r) => `scrm:${r.openid}`),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    for (const t of ['orders', 'order_lines', 'refunds', 'support_tickets', 'scrm_coupons', 'crm_tier_changes', 'scrm_group_members'] as const) {
      const ids = (w.all[t] as unknown as Array<Record<string, unknown>>).map((r) => r[Object.keys(r)[0]]);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('puts people in each system at about the target rates, correlated so many are in all four', () => {
    const n = w.people.length;
    const present = (t: keyof TableRows) => w.people.filter((p) => w.rowsOf.get(p.id)![t].length > 0).length / n;
    expect(Math.abs(present('crm_contacts') - PRESENCE_TARGETS.crm)).toBeLessThan(0.04);
    expect(Math.abs(present('shop_accounts') - PRESENCE_TARGETS.orders)).toBeLessThan(0.04);
    expect(Math.abs(present('support_users') - PRESENCE_TARGETS.support)).toBeLessThan(0.04);
    expect(Math.abs(present('scrm_followers') - PRESENCE_TARGETS.scrm)).toBeLessThan(0.04);
    const inAll = w.people.filter((p) => {
      const r = w.rowsOf.get(p.id)!;
      return r.crm_contacts.length && r.shop_accounts.length && r.support_users.length && r.scrm_followers.length;
    }).length;
    expect(inAll / n).toBeGreaterThanOrEqual(0.08);
    expect(w.people.every((p) => phoneFields(w.rowsOf.get(p.id)!).length + w.rowsOf.get(p.id)!.scrm_followers.length > 0)).toBe(true);
  });

  it('writes keys, ids and times in each system’s own format, inside the 3 years before asOf', () => {
    const bad: unknown[] = [];
    const check = (ok: unknown, row: unknown) => {
      if (!ok) bad.push(row);
    };
    const within = (ms: number) => ms >= START_MS && ms < AS_OF_MS;
    const fromShanghai = (s: string) => Date.parse(s.replace(' ', 'T') + '+08:00');
    for (const r of w.all.crm_contacts) {
      check(/^C\d{7}$/.test(r.contact_id) && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(r.created_at), r);
      check(within(fromShanghai(r.created_at)) && within(fromShanghai(r.updated_at)) && r.updated_at >= r.created_at, r);
      check(r.member_no === null || /^M\d{8}$/.test(r.member_no), r);
    }
    for (const r of w.all.shop_accounts) check(within(r.registered_at) && within(r.updated_at), r);
    for (const r of w.all.orders) check(within(r.placed_at) && (r.paid_at === null || r.paid_at >= r.placed_at), r);
    for (const r of w.all.support_users) check(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(r.created_at) && within(Date.parse(r.updated_at)), r);
    for (const r of w.all.support_tickets) check(r.solved_at === null || r.solved_at >= r.created_at, r);
    for (const r of w.all.scrm_followers) {
      check(/^o[A-Za-z0-9_-]{27}$/.test(r.openid) && (r.unionid === null || /^o[A-Za-z0-9_-]{27}$/.test(r.unionid)), r);
      check([0, 1, 2].includes(r.sex) && within(r.subscribe_time! * 1000) && within(r.updated_at * 1000), r);
    }
    for (const r of w.all.scrm_coupons) check(/^\d+\.\d{2}$/.test(r.value), r);
    expect(bad).toEqual([]);
    const genders = new Set(w.all.crm_contacts.map((r) => r.gender));
    for (const g of ['M', 'F', '男', '女', '']) expect(genders).toContain(g);
  });

  it('gives people valid Chinese mobiles, each owned by one household', () => {
    const owners = new Map<string, Set<string>>();
    const bad: string[] = [];
    for (const p of w.people) {
      for (const ph of p.phones) {
        if (!/^1(3\d|5[0-35-9]|7[013-8]|8\d|9[1-35-9])\d{8}$/.test(ph.number) || normalizePhone(ph.number) !== `+86${ph.number}`) bad.push(ph.number);
      }
      for (const raw of phoneFields(w.rowsOf.get(p.id)!)) {
        if (raw == null || PLACEHOLDER_PHONE_SET.has(raw)) continue;
        const e164 = normalizePhone(raw);
        if (!e164) bad.push(raw);
        if (!owners.has(e164!)) owners.set(e164!, new Set());
        owners.get(e164!)!.add(p.id);
      }
    }
    expect(bad).toEqual([]);
    const byId = new Map(w.people.map((p) => [p.id, p]));
    const shared = [...owners.values()].filter((s) => s.size > 1);
    expect(shared.length).toBeGreaterThanOrEqual(10);
    // A real number on two people's records only ever belongs to one family.
    for (const s of shared) {
      const [a, b, ...rest] = [...s];
      expect(rest).toEqual([]);
      expect(byId.get(a)!.household?.with).toBe(b);
      const pa = byId.get(a)!;
      const pb = byId.get(b)!;
      expect(pa.name === pb.name && pa.birthday === pb.birthday).toBe(false);
    }
  });

  it('writes phones in several formats per system', () => {
    const shape = (s: string) => s.replace(/\d/g, '9');
    const crmShapes = new Set(
      w.all.crm_contacts
        .map((r) => r.mobile)
        .filter((m): m is string => !!m && !PLACEHOLDER_PHONE_SET.has(m))
        .map(shape),
    );
    for (const s of ['99999999999', '999-9999-9999', '999 9999 9999', '+99 99999999999', '9999999999999']) expect(crmShapes).toContain(s);
    const orderMobiles = w.all.shop_accounts.map((r) => r.mobile).filter((m): m is string => !!m && !PLACEHOLDER_PHONE_SET.has(m));
    expect(orderMobiles.filter((m) => /^861\d{10}$/.test(m)).length / orderMobiles.length).toBeGreaterThan(0.75);
    const support = w.all.support_users;
    expect(support.filter((r) => r.phone === null).length / support.length).toBeGreaterThan(0.3);
    expect(
      new Set(
        support
          .map((r) => r.phone)
          .filter((m): m is string => !!m && !PLACEHOLDER_PHONE_SET.has(m))
          .map(shape),
      ),
    ).toEqual(new Set(['+99 999 9999 9999', '99999999999']));
    const bound = w.all.scrm_followers.filter((r) => r.bound_phone).length / w.all.scrm_followers.length;
    expect(bound).toBeGreaterThan(0.45);
    expect(bound).toBeLessThan(0.65);
  });

  it('repeats each staff placeholder on many unrelated people’s records', () => {
    const holders = new Map<string, Set<string>>();
    for (const p of w.people) {
      const rows = w.rowsOf.get(p.id)!;
      for (const v of [...phoneFields(rows), ...emailFields(rows)]) {
        if (v == null || !(PLACEHOLDER_PHONE_SET.has(v) || PLACEHOLDER_EMAIL_SET.has(v))) continue;
        if (!holders.has(v)) holders.set(v, new Set());
        holders.get(v)!.add(p.id);
      }
    }
    for (const v of ['00000000000', '13800000000', '11111111111', '400-820-8820', 'test@test.com', 'none@none.com', 'null', 'N/A']) {
      expect(holders.get(v)?.size ?? 0).toBeGreaterThanOrEqual(15);
    }
    // 13800000000 passes for a real number: exactly the trap a resolver must not fall into.
    expect(normalizePhone('13800000000')).toBe('+8613800000000');
  });

  it('re-enters about 3% of CRM people as a second contact', () => {
    const crmPeople = w.people.filter((p) => w.rowsOf.get(p.id)!.crm_contacts.length > 0);
    const dups = crmPeople.filter((p) => w.rowsOf.get(p.id)!.crm_contacts.length > 1);
    expect(dups.length / crmPeople.length).toBeGreaterThan(0.015);
    expect(dups.length / crmPeople.length).toBeLessThan(0.05);
    // Some duplicates carry a mistyped name, some no phone at all.
    const names = dups.filter((p) => new Set(w.rowsOf.get(p.id)!.crm_contacts.map((c) => c.name)).size > 1);
    expect(names.length).toBeGreaterThan(0);
  });

  it('gives about 8% of shop people a second account, often on an older number or only an email', () => {
    const shop = w.people.filter((p) => w.rowsOf.get(p.id)!.shop_accounts.length > 0);
    const two = shop.filter((p) => w.rowsOf.get(p.id)!.shop_accounts.length > 1);
    expect(two.length / shop.length).toBeGreaterThan(0.05);
    expect(two.length / shop.length).toBeLessThan(0.11);
    const oldNumber = two.filter((p) => p.phones.length > 1 && w.rowsOf.get(p.id)!.shop_accounts.some((a) => a.mobile?.endsWith(p.phones[0].number)));
    const emailOnly = two.filter((p) => w.rowsOf.get(p.id)!.shop_accounts.some((a) => a.mobile === null && a.email));
    expect(oldNumber.length).toBeGreaterThan(20);
    expect(emailOnly.length).toBeGreaterThan(5);
  });

  it('keeps the old number on older records of people who changed phone', () => {
    const rebinders = w.people.filter((p) => p.phones.length > 1);
    expect(rebinders.length / w.people.length).toBeGreaterThan(0.03);
    expect(rebinders.length / w.people.length).toBeLessThan(0.07);
    let both = 0;
    for (const p of rebinders) {
      const seen = new Set(phoneFields(w.rowsOf.get(p.id)!).map((v) => normalizePhone(v)));
      if (seen.has(`+86${p.phones[0].number}`) && seen.has(`+86${p.phones[1].number}`)) both++;
    }
    expect(both).toBeGreaterThan(30);
  });

  it('types emails with stray case and spaces, and gives some people a different address per system', () => {
    const emails = w.all.crm_contacts.map((r) => r.email).filter((e): e is string => !!e && !PLACEHOLDER_EMAIL_SET.has(e));
    expect(emails.some((e) => e !== e.toLowerCase())).toBe(true);
    expect(emails.some((e) => e !== e.trim())).toBe(true);
    expect(emails.every((e) => normalizeEmail(e) !== null)).toBe(true);
    const domains = new Set(emails.map((e) => e.trim().toLowerCase().split('@')[1]));
    for (const d of ['qq.com', '163.com', 'gmail.com']) expect(domains).toContain(d);
    const multi = w.people.filter((p) => {
      const seen = new Set(
        emailFields(w.rowsOf.get(p.id)!)
          .map((e) => normalizeEmail(e))
          .filter((e) => e && !PLACEHOLDER_EMAIL_SET.has(e)),
      );
      return seen.size > 1;
    });
    expect(multi.length).toBeGreaterThan(20);
  });

  it('has about 1% of followers unsubscribed, with the time they left', () => {
    const f = w.all.scrm_followers;
    const gone = f.filter((r) => r.subscribe === 0);
    expect(gone.length).toBeGreaterThan(0);
    expect(gone.length / f.length).toBeLessThan(0.03);
    expect(f.filter((r) => (r.subscribe === 0) !== (r.unsubscribe_time !== null))).toEqual([]);
  });

  it('keeps orders consistent: totals add up, refunded orders have refunds, and buying is skewed', () => {
    const lineTotal = new Map<number, number>();
    for (const l of w.all.order_lines) lineTotal.set(l.order_id, (lineTotal.get(l.order_id) ?? 0) + l.qty * l.unit_price_cents);
    expect(w.all.orders.filter((o) => o.total_cents !== lineTotal.get(o.order_id))).toEqual([]);
    const refunded = new Set(w.all.orders.filter((o) => o.status === 'refunded').map((o) => o.order_id));
    expect(new Set(w.all.refunds.map((r) => r.order_id))).toEqual(refunded);
    expect(refunded.size / w.all.orders.length).toBeGreaterThan(0.03);
    expect(refunded.size / w.all.orders.length).toBeLessThan(0.07);
    const perAccount = new Map<number, number>();
    for (const o of w.all.orders) perAccount.set(o.account_id, (perAccount.get(o.account_id) ?? 0) + 1);
    const counts = [...perAccount.values()];
    expect(counts.filter((c) => c <= 3).length / counts.length).toBeGreaterThan(0.5);
    expect(counts.filter((c) => c >= 20).length).toBeGreaterThan(10);
    expect(new Set(w.all.order_lines.map((l) => l.category)).size).toBe(8);
    expect(new Set(w.all.orders.map((o) => o.channel))).toEqual(new Set(['tmall', 'jd', 'miniprogram', 'store']));
  });

  it('gives CRM contacts a tier history ending in their tier', () => {
    const last = new Map<string, string>();
    for (const c of w.all.crm_tier_changes) last.set(c.contact_id, c.to_tier);
    expect(w.all.crm_contacts.filter((r) => last.get(r.contact_id) !== r.tier)).toEqual([]);
    expect(new Set(w.all.crm_contacts.map((r) => r.tier))).toEqual(new Set(['bronze', 'silver', 'gold', 'platinum']));
  });
});

describe('Demo world: ground truth', () => {
  it('lists every generated source record exactly once, under the person who made it', async () => {
    const dir = tempDir('world');
    try {
      const conn = (s: string) => ({ client: 'sqlite' as const, filename: path.join(dir, `${s}.sqlite`) });
      const truthFile = path.join(dir, 'truth.csv');
      const stats = await generateWorld({
        people: 1000,
        seed: 9,
        asOf: AS_OF,
        connections: { crm: conn('crm'), orders: conn('orders'), support: conn('support'), scrm: conn('scrm') },
        truthFile,
      });
      const lines = fs.readFileSync(truthFile, 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe('source,record_id,person_id');
      const truth = lines.slice(1).map((l) => l.split(','));
      const keys = truth.map(([s, r]) => `${s}:${r}`);
      expect(new Set(keys).size).toBe(keys.length);

      const expected = new Map<string, string>();
      for (const { person, rows } of generatePeople({ people: 1000, seed: 9, asOf: AS_OF })) {
        for (const r of rows.crm_contacts) expected.set(`crm:${r.contact_id}`, person.id);
        for (const r of rows.shop_accounts) expected.set(`orders:${r.account_id}`, person.id);
        for (const r of rows.support_users) expected.set(`support:${r.id}`, person.id);
        for (const r of rows.scrm_followers) expected.set(`scrm:${r.openid}`, person.id);
      }
      expect(new Map(truth.map(([s, r, p]) => [`${s}:${r}`, p]))).toEqual(expected);
      expect(stats.records.crm + stats.records.orders + stats.records.support + stats.records.scrm).toBe(keys.length);
      const db = knex({ client: 'better-sqlite3', connection: { filename: conn('crm').filename }, useNullAsDefault: true });
      try {
        const [{ n }] = await db('crm_contacts').count({ n: '*' });
        expect(Number(n)).toBe(stats.records.crm);
      } finally {
        await db.destroy();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
