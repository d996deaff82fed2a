/**
 * The marketplace demo system's rows: deterministic from the rng, plausible shares, and only
 * the platform's masked and virtual forms where the platform hides people.
 */
import { generatePeople, Rng, type Person } from '../../demo/world';
import { system } from '../../demo/systems/marketplace';
import { maskNick, VIRTUAL_POOL } from '../../demo/systems/marketplace/rows';

const ctx = { seed: 7, people: 2000, asOf: Date.UTC(2026, 0, 1) };

function world(): Person[] {
  return [...generatePeople({ people: ctx.people, seed: ctx.seed, asOf: ctx.asOf })].map((r) => r.person);
}

function draw(people: Person[]) {
  return people.map((p, i) => {
    const rng = new Rng([ctx.seed, 0x6d6b74, i]);
    return system.present(p, rng) ? { person: p, rows: system.rowsFor(p, rng, ctx) } : null;
  });
}

describe('Demo marketplace: rows', () => {
  const people = world();
  const drawn = draw(people);
  const present = drawn.filter((d): d is NonNullable<typeof d> => d !== null);
  const trades = present.flatMap((d) => d.rows.tb_trades);
  const buyers = present.flatMap((d) => d.rows.tb_buyers);

  it('is deterministic: the same people and rng give the same rows', () => {
    expect(JSON.stringify(draw(people))).toEqual(JSON.stringify(drawn));
  });

  it('has about a third of people buying, more of the engaged than of the casual', () => {
    const share = present.length / people.length;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.45);
    const rate = (seg: string) => drawn.filter((d, i) => d && people[i].segment === seg).length / people.filter((p) => p.segment === seg).length;
    expect(rate('engaged')).toBeGreaterThan(rate('casual'));
  });

  it('keeps ids unique and every table consistent with its trades', () => {
    expect(new Set(buyers.map((b) => b.buyer_open_uid)).size).toBe(buyers.length);
    expect(new Set(trades.map((t) => t.tid)).size).toBe(trades.length);
    const orders = present.flatMap((d) => d.rows.tb_orders);
    expect(new Set(orders.map((o) => o.oid)).size).toBe(orders.length);
    const tids = new Set(trades.map((t) => t.tid));
    expect(orders.every((o) => tids.has(o.tid))).toBe(true);
    for (const t of trades) expect(Number.isSafeInteger(Number(t.tid))).toBe(true);
    for (const t of trades) expect(Number(t.created)).toBeLessThan(ctx.asOf);
  });

  it('masks nicks and mostly hides receiver phones, with a minority of real member mobiles', () => {
    expect(maskNick('tb1234561')).toBe('t**1');
    expect(buyers.every((b) => /^.\*\*.?$/u.test(String(b.buyer_nick)))).toBe(true);
    const virtual = trades.filter((t) => /^\d{11}-\d{4}$/.test(String(t.receiver_mobile))).length / trades.length;
    const masked = trades.filter((t) => String(t.receiver_mobile).includes('*')).length / trades.length;
    expect(virtual).toBeGreaterThan(0.6);
    expect(masked).toBeGreaterThan(0.1);
    expect(trades.every((t) => !/^\d{11}-/.test(String(t.receiver_mobile)) || VIRTUAL_POOL.includes(String(t.receiver_mobile).slice(0, 11)))).toBe(true);
    const members = buyers.filter((b) => b.join_time != null);
    expect(members.length / buyers.length).toBeGreaterThan(0.08);
    expect(members.length / buyers.length).toBeLessThan(0.35);
    expect(members.every((m) => /^1\d{10}$/.test(String(m.mobile)))).toBe(true);
    expect(buyers.filter((b) => b.join_time == null).every((b) => b.mobile == null)).toBe(true);
  });

  it('gives members the phone the person has, or the household one', () => {
    for (const d of present) {
      const b = d.rows.tb_buyers[0];
      if (b.mobile == null) continue;
      const own = d.person.phones.map((p) => p.number);
      expect([...own, d.person.sharedPhone]).toContain(b.mobile);
    }
  });

  it('refunds a small share of trades, with the trade closed after a full refund', () => {
    const refunds = present.flatMap((d) => d.rows.tb_refunds);
    const refundedTids = new Set(refunds.map((r) => r.tid));
    expect(refundedTids.size / trades.length).toBeGreaterThan(0.01);
    expect(refundedTids.size / trades.length).toBeLessThan(0.1);
    for (const t of trades.filter((x) => x.status === 'TRADE_CLOSED')) expect(refundedTids.has(t.tid)).toBe(true);
  });
});
