/**
 * A shop that stores its currency codes in lower case, as Stripe does (`cny`): every figure the
 * gateway derives from its orders reads them as the ISO code, as the orders themselves read. The
 * base-wide statements (RFM boundaries, BI's order facts) compared the stored text, so the base
 * was "not all in CNY" and a yuan filter matched no one.
 */
import { startTestWorld, type TestWorld } from '../helpers/world';

let world: TestWorld;
/** Customers the shop's orders give a positive lifetime value, as `orderSummary` answers it. */
let spenders: string[];

const ALL = `{ customersConnection(first: 100) { totalCount pageInfo { hasNextPage } edges { node { id orderSummary { lifetimeValue { amount currency } } } } } }`;
type Node = { id: string; orderSummary: { lifetimeValue: { amount: string; currency: string } } | null };

beforeAll(async () => {
  world = await startTestWorld({ people: 60, seed: 7, demoSystems: false });
  await world.dbs.orders.db('orders').update({ currency: 'cny' });
  const { body } = await world.query(ALL);
  expect(body.errors).toBeUndefined();
  expect(body.data.customersConnection.pageInfo.hasNextPage).toBe(false);
  const nodes: Node[] = body.data.customersConnection.edges.map((e: { node: Node }) => e.node);
  spenders = nodes.filter((n) => n.orderSummary && Number(n.orderSummary.lifetimeValue.amount) > 0).map((n) => n.id);
  for (const n of nodes) if (n.orderSummary) expect(n.orderSummary.lifetimeValue.currency).toBe('CNY');
});

afterAll(async () => {
  await world?.close();
});

describe('Shop: currency codes stored in lower case', () => {
  it('a lifetimeValue filter in yuan finds every customer whose orderSummary says they spent yuan', async () => {
    expect(spenders.length).toBeGreaterThan(10);
    const { body } = await world.query(
      `{ customersConnection(first: 100, filter: { lifetimeValue: { min: "0.01", currency: "CNY" } }) { totalCount edges { node { id } } } }`,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.customersConnection.edges.map((e: { node: { id: string } }) => e.node.id).sort()).toEqual([...spenders].sort());
    expect(body.data.customersConnection.totalCount).toBe(spenders.length);
  });

  it('scores RFM in CNY: the base is all in yuan', async () => {
    const { body } = await world.query(`query ($ids: [ID!]!) { customers(ids: $ids) { rfm { segment monetary { currency } } } }`, { ids: spenders.slice(0, 5) });
    expect(body.errors).toBeUndefined();
    for (const c of body.data.customers) expect(c.rfm).toMatchObject({ monetary: { currency: 'CNY' } });
  });
});
