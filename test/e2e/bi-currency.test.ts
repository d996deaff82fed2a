/**
 * BI lists: money is compared in one currency. A generated world whose shop holds one customer's
 * orders in USD (the shop keeps a currency per order): the `lifetimeValue` filter compares in
 * CNY unless it names another currency, and the lifetime-value orders sort CNY values, with a
 * customer whose value is in another currency after them, never its dollars among the yuan.
 */
import fs from 'node:fs';
import path from 'node:path';
import { apiKeyFor, startTestWorld, type TestWorld } from '../helpers/world';
import { tempDir } from '../helpers/tmp';

const CONFIG = path.resolve(__dirname, '../../config');
const SEGMENTS = ['champions', 'loyal', 'potential_loyalists', 'new_customers', 'promising', 'need_attention', 'about_to_sleep', 'cant_lose_them', 'at_risk', 'hibernating'];

let world: TestWorld;
/** The customer whose shop orders are all in USD, and their net spend in cents. */
let dollarCustomer: string;
let dollarCents: number;

const LIST = `query List($first: Int, $after: String, $filter: CustomerFilter, $orderBy: CustomerOrder) {
  customersConnection(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id orderSummary { lifetimeValue { amount currency } } } }
  }
}`;

type Node = { id: string; orderSummary: { lifetimeValue: { amount: string; currency: string } } | null };

async function walk(vars: { filter?: unknown; orderBy?: string }): Promise<{ nodes: Node[]; total: number }> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (;;) {
    const { body } = await world.query(LIST, { first: 37, after, ...vars });
    expect(body.errors).toBeUndefined();
    const c = body.data.customersConnection;
    nodes.push(...c.edges.map((e: { node: Node }) => e.node));
    if (!c.pageInfo.hasNextPage) return { nodes, total: c.totalCount };
    after = c.pageInfo.endCursor;
  }
}

const centsOf = (amount: string) => Math.round(Number(amount) * 100);

/** The shipped rules with one more tag, from the RFM segment. */
function rulesWithSegmentTag(): string {
  const dir = tempDir('rules');
  for (const f of ['lifecycle.json', 'survivorship.json', 'tags.json']) fs.copyFileSync(path.join(CONFIG, f), path.join(dir, f));
  const tags = JSON.parse(fs.readFileSync(path.join(CONFIG, 'tags.json'), 'utf8'));
  tags.tags.push({ id: 'rfm-valuable', tag: 'valuable', description: 'In a top RFM segment.', when: { rfmSegment: { in: SEGMENTS.slice(0, 3) } } });
  fs.writeFileSync(path.join(dir, 'tags.json'), JSON.stringify(tags));
  return dir;
}

beforeAll(async () => {
  const rulesDir = rulesWithSegmentTag();
  world = await startTestWorld({
    people: 150,
    seed: 7,
    demoSystems: false,
    configPatch: (raw) => {
      raw.insights = { rulesDir };
    },
  });
  // The customer with the highest lifetime value: in yuan it would head a descending walk.
  const { body } = await world.query(LIST, { first: 1, orderBy: 'LIFETIME_VALUE_DESC' });
  expect(body.errors).toBeUndefined();
  const top: Node = body.data.customersConnection.edges[0].node;
  dollarCustomer = top.id;
  dollarCents = centsOf(top.orderSummary!.lifetimeValue.amount);
  expect(dollarCents).toBeGreaterThan(0);
  const accounts = (await world.gw.oneidDb('idmap_source_records').where({ source: 'orders', customer_id: dollarCustomer }).select('record_id')).map(
    (r: { record_id: string }) => Number(r.record_id),
  );
  await world.dbs.orders.db('orders').whereIn('account_id', accounts).update({ currency: 'USD' });
});

afterAll(async () => {
  await world?.close();
});

describe('BI lists: money in several currencies', () => {
  it('the customer answers its lifetime value in USD', async () => {
    const { body } = await world.query(`query ($ids: [ID!]!) { customers(ids: $ids) { orderSummary { lifetimeValue { amount currency } } } }`, { ids: [dollarCustomer] });
    expect(body.errors).toBeUndefined();
    expect(body.data.customers[0].orderSummary.lifetimeValue).toEqual({ amount: (dollarCents / 100).toFixed(2), currency: 'USD' });
  });

  it('a lifetimeValue filter compares in CNY by default: dollars are neither above nor below a yuan bound', async () => {
    const above = await walk({ filter: { lifetimeValue: { min: '0.01' } } });
    const below = await walk({ filter: { lifetimeValue: { max: '0' } } });
    for (const r of [above, below]) {
      expect(r.nodes.map((n) => n.id)).not.toContain(dollarCustomer);
      expect(r.total).toBe(r.nodes.length);
      for (const n of r.nodes) if (n.orderSummary) expect(n.orderSummary.lifetimeValue.currency).toBe('CNY');
    }
  });

  it('a lifetimeValue filter in a named currency compares in it', async () => {
    const amount = (dollarCents / 100).toFixed(2);
    const usd = await walk({ filter: { lifetimeValue: { min: amount, max: amount, currency: 'USD' } } });
    expect(usd.nodes.map((n) => n.id)).toEqual([dollarCustomer]);
  });

  it('keeps RFM for the yuan customers of the shop: only the dollar customer, whose money the base cannot compare, fails', async () => {
    const { nodes } = await walk({ filter: { lifetimeValue: { min: '0.01' } } });
    const yuan = nodes.slice(0, 5).map((n) => n.id);
    expect(yuan).toHaveLength(5);
    const { body } = await world.query(`query ($ids: [ID!]!) { customers(ids: $ids) { id rfm { segment monetary { currency } } } }`, { ids: [dollarCustomer, ...yuan] });
    expect(body.errors.map((e: { path: unknown[]; extensions: unknown }) => [e.path, e.extensions])).toEqual([
      [['customers', 0, 'rfm'], { code: 'SOURCE_BAD_RESPONSE', source: 'commerce' }],
    ]);
    for (const c of body.data.customers.slice(1)) expect(c.rfm).toMatchObject({ monetary: { currency: 'CNY' } });
  });

  it('tags the dollar customer by every rule but an RFM segment one, which it meets no more than a yuan threshold', async () => {
    const { nodes } = await walk({ filter: { lifetimeValue: { min: '0.01' } } });
    const { body } = await world.query(`query ($ids: [ID!]!) { customers(ids: $ids) { id rfm { segment } tags { name rule } } }`, {
      ids: [dollarCustomer, ...nodes.map((n) => n.id)],
    });
    // Only the dollar customer's rfm fails; its tags answer, without the segment's.
    expect(body.errors.map((e: { path: unknown[] }) => e.path)).toEqual([['customers', 0, 'rfm']]);
    const [dollar, ...yuan] = body.data.customers;
    expect(dollar.tags).not.toBeNull();
    expect(dollar.tags.map((t: { rule: string }) => t.rule)).not.toContain('rfm-valuable');
    // The rule itself works: the yuan customers in its segments have the tag, the others not.
    const top = SEGMENTS.slice(0, 3);
    for (const c of yuan)
      expect({ id: c.id, tagged: c.tags.some((t: { rule: string }) => t.rule === 'rfm-valuable') }).toEqual({ id: c.id, tagged: top.includes(c.rfm.segment) });
    expect(yuan.some((c: { rfm: { segment: string } }) => top.includes(c.rfm.segment))).toBe(true);
  });

  it.each(['LIFETIME_VALUE_DESC', 'LIFETIME_VALUE_ASC'])('%s sorts yuan by value, each customer once, and the dollar customer after them', async (orderBy) => {
    const { nodes, total } = await walk({ orderBy });
    const ids = nodes.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(total).toBe(ids.length);
    expect(ids[ids.length - 1]).toBe(dollarCustomer);
    const yuan = nodes.slice(0, -1).map((n) => (n.orderSummary ? centsOf(n.orderSummary.lifetimeValue.amount) : 0));
    const sorted = [...yuan].sort((a, b) => (orderBy === 'LIFETIME_VALUE_DESC' ? b - a : a - b));
    expect(yuan).toEqual(sorted);
  });
});

describe('BI lists: insight filters over a marketplace in USD', () => {
  let usdWorld: TestWorld;
  const RFM = `query ($f: CustomerFilter, $a: String) { customersConnection(first: 200, after: $a, filter: $f) { pageInfo { hasNextPage endCursor } edges { node { id rfm { segment } } } } }`;

  beforeAll(async () => {
    usdWorld = await startTestWorld({
      people: 150,
      seed: 7,
      configPatch: (raw) => {
        for (const s of raw.sources) if (s.kind === 'marketplace') s.currency = 'USD';
      },
    });
  });
  afterAll(async () => {
    await usdWorld?.close();
  });

  async function rfmWalk(filter: unknown) {
    const rows: Array<{ id: string; segment: string | null; failed: boolean }> = [];
    let after: string | null = null;
    for (;;) {
      const { body } = await usdWorld.query(RFM, { f: filter, a: after });
      expect(body.data?.customersConnection).toBeTruthy();
      const failed = new Set((body.errors ?? []).map((e: { path: Array<string | number> }) => e.path[2]));
      const c = body.data.customersConnection;
      c.edges.forEach((e: { node: { id: string; rfm: { segment: string } | null } }, i: number) =>
        rows.push({ id: e.node.id, segment: e.node.rfm?.segment ?? null, failed: failed.has(i) }),
      );
      if (!c.pageInfo.hasNextPage) return rows;
      after = c.pageInfo.endCursor;
    }
  }

  it('leaves out the customers whose money the RFM base cannot compare (dollars against a yuan base), and answers for the others', async () => {
    const everyone = await rfmWalk({ orders: { min: 1 } });
    const incomparable = everyone.filter((r) => r.failed).map((r) => r.id);
    const scored = everyone.filter((r) => r.segment !== null).map((r) => r.id);
    expect(incomparable.length).toBeGreaterThan(0);
    expect(scored.length).toBeGreaterThan(0);
    const listed = await rfmWalk({ rfmSegment: SEGMENTS });
    expect(listed.map((r) => r.id).sort()).toEqual([...scored].sort());
  });
});

describe('BI lists: ordered by a measure of the orders a BI user sorts by', () => {
  const ORDERED = `query ($first: Int, $after: String, $orderBy: CustomerOrder) {
    customersConnection(first: $first, after: $after, orderBy: $orderBy) { totalCount pageInfo { hasNextPage endCursor } edges { node { id orderSummary { orderCount lastOrderAt } } } }
  }`;
  type Row = { id: string; v: number | null };

  it.each([
    ['ORDER_COUNT_DESC', 'orderCount', true],
    ['ORDER_COUNT_ASC', 'orderCount', false],
    ['LAST_ORDER_AT_DESC', 'lastOrderAt', true],
    ['LAST_ORDER_AT_ASC', 'lastOrderAt', false],
  ] as const)('%s walks every customer once, by %s, ties and customers without a value (never ordered) after, by id', async (orderBy, measure, desc) => {
    const rows: Row[] = [];
    let after: string | null = null;
    let total: number;
    for (;;) {
      const { body } = await world.query(ORDERED, { first: 37, after, orderBy });
      expect(body.errors).toBeUndefined();
      const c = body.data.customersConnection;
      total = c.totalCount;
      for (const { node } of c.edges as Array<{ node: { id: string; orderSummary: { orderCount: number; lastOrderAt: string | null } | null } }>) {
        const s = node.orderSummary;
        rows.push({ id: node.id, v: measure === 'orderCount' ? (s?.orderCount ?? 0) : s?.lastOrderAt ? Date.parse(s.lastOrderAt) : null });
      }
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows).toHaveLength(total);
    const byValue = (a: number | null, b: number | null) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : desc ? b - a : a - b);
    expect(rows).toEqual([...rows].sort((a, b) => byValue(a.v, b.v) || (a.id < b.id ? -1 : 1)));
    // The order has something to sort: several values, and (for the last order) customers who never ordered.
    expect(new Set(rows.map((r) => r.v)).size).toBeGreaterThan(3);
    if (measure === 'lastOrderAt') expect(rows[rows.length - 1].v).toBeNull();
  });

  it('exports in the order a walk lists: every customer once, by their last order', async () => {
    const res = await fetch(`${world.url}/export/customers.ndjson?orderBy=LAST_ORDER_AT_DESC&fields=id`, { headers: { 'x-api-key': apiKeyFor('analyst') } });
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const rows = lines.filter((l) => l._cursor).map((l) => l.id);
    const walked: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { body } = await world.query(ORDERED, { first: 100, after, orderBy: 'LAST_ORDER_AT_DESC' });
      const c = body.data.customersConnection;
      walked.push(...c.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(rows).toEqual(walked);
    expect(lines[lines.length - 1]._end).toMatchObject({ code: 'EXPORT_COMPLETE', rows: walked.length });
  });
});
