/**
 * BI budget: what a gateway's first lists over the order base are charged. The RFM boundaries are
 * kept across requests and the marketplace's whole-base listing for a minute, so the first list
 * reading them makes their calls: the estimate (the plan's, and the role's budget) says so before
 * it runs, from the boundary cache's state and the listing's size as the marketplace gives it, so a
 * list over budget is refused instead of running past it. A fresh generated world (nothing read
 * yet); calls are counted at the connector boundary.
 */
import { apiKeyFor, startTestWorld, type TestWorld } from '../helpers/world';

let world: TestWorld;
/** An analyst whose budget is under one source call: every filter is refused, its estimate in the message. */
const TIGHT_KEY = 'test-tight-analyst-key';

beforeAll(async () => {
  world = await startTestWorld({
    people: 400,
    seed: 29,
    extraRoles: { tight_analyst: { role: { extends: 'analyst', description: 'analyst with a budget under one source call', limits: { maxCost: 999 } }, keys: [TIGHT_KEY] } },
  });
});
afterAll(async () => {
  await world?.close();
});

const LIST = `query ($filter: CustomerFilter) {
  customersConnection(first: 10, filter: $filter) { totalCount plan { estimatedCalls actualCalls steps { filter sources { source estimatedCalls actualCalls } } } }
}`;

/** The estimate the tight analyst is refused with. */
async function refusedAt(filter: unknown): Promise<number> {
  const { body } = await world.query(LIST, { filter }, { 'x-api-key': TIGHT_KEY });
  expect(body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  return Number(/estimated at (\d+) source calls/.exec(body.errors[0].message)![1]);
}

const callsOf = (operation: string) => world.calls.calls.filter((c) => c.operation === operation).length;

describe('BI budget: a first list over the order base', () => {
  it('asks nothing of the marketplace for a filter that reads no order', async () => {
    world.reset();
    await refusedAt({ memberTier: 'gold' });
    expect(callsOf('orderFactsPages')).toBe(0);
  });

  it('charges an RFM segment the boundaries’ first computation and the listing’s real pages, and makes what it was charged', async () => {
    // Until session 42 the boundaries were charged 0 (the first computation made 53 calls on the
    // demo world, the plan saying 1 for 54) and a listing never read two pages per hundred buyers
    // (38 for 52 there; 90 for 127 on a 12,000-person world).
    world.reset();
    const estimate = await refusedAt({ rfmSegment: 'champions' });
    // The listing's size, asked once (trades and refunds), is all a refused list costs.
    expect(world.calls.calls.map((c) => `${c.source}.${c.operation}`).sort()).toEqual(['marketplace.orderFactsPages', 'marketplace.orderFactsPages']);

    world.reset();
    const { body } = await world.query(LIST, { filter: { rfmSegment: 'champions' } }, { 'x-api-key': apiKeyFor('analyst') });
    expect(body.errors).toBeUndefined();
    const plan = body.data.customersConnection.plan;
    expect(world.calls.calls.filter((c) => c.operation === 'rfmBoundaries' || c.operation === 'orderFacts').length).toBe(plan.actualCalls);
    expect(callsOf('orderFactsPages')).toBe(0);
    expect(plan.actualCalls).toBeGreaterThan(3);
    expect([plan.estimatedCalls, estimate]).toEqual([plan.actualCalls, plan.actualCalls]);
    // The boundaries' step says which source made what.
    for (const s of plan.steps[0].sources) expect(s.estimatedCalls).toBe(s.actualCalls);

    // Kept since: one shop statement.
    world.reset();
    expect(await refusedAt({ rfmSegment: 'champions' })).toBe(1);
    expect(world.calls.calls).toHaveLength(0);
  });
});
