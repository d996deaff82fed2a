/**
 * The helpdesk kind in Zendesk's own dialect (`api: 'zendesk'`), end to end: the test world's
 * helpdesk instance reads the support stand-in through Zendesk's endpoints only, and a GraphQL
 * level of many customers costs one Search Export call per chunk of requesters, for tickets and
 * for the timeline alike, never this helpdesk's own listings.
 */
import { readTruth, startTestWorld, type TestWorld } from '../helpers/world';

let world: TestWorld;
/** Customers OneID linked to at least one helpdesk record. */
let withTickets: string[];

beforeAll(async () => {
  world = await startTestWorld({
    people: 300,
    seed: 11,
    configPatch: (raw) => {
      const support = raw.sources.find((s: { name: string }) => s.name === 'support');
      support.api = 'zendesk';
    },
  });
  const keys = [...readTruth(world.truthFile).values()].flat().filter((k) => k.source === 'support');
  const ids = await world.gw.idmap.customerIdsBySourceRecords(keys);
  withTickets = [...new Set(ids.filter((id): id is string => id !== null))].sort();
});

afterAll(async () => world?.close());

describe("Helpdesk in Zendesk's dialect, end to end", () => {
  it('reads the tickets and timelines of a level of 60 customers in one observed call each (the Search Export, its pages within), and none of the gateway listings', async () => {
    const ids = withTickets.slice(0, 60);
    expect(ids).toHaveLength(60);
    world.calls.reset();
    world.support.resetRequests();
    const { body } = await world.query(
      `query($ids: [ID!]!) { customers(ids: $ids) {
        id tickets(first: 100) { source id createdAt }
        timeline(first: 5, kinds: [TICKET_OPENED, TICKET_SOLVED, TICKET_RATED]) { edges { node { source kind } } }
      } }`,
      { ids },
    );
    expect(body.errors).toBeUndefined();
    const customers = body.data.customers as Array<{ tickets: Array<{ source: string; createdAt: string }>; timeline: { edges: unknown[] } }>;
    expect(customers).toHaveLength(60);
    const tickets = customers.flatMap((c) => c.tickets);
    expect(tickets.length).toBeGreaterThan(0);
    expect(new Set(tickets.map((t) => t.source))).toEqual(new Set(['SUPPORT']));
    // Each customer's timeline of ticket events comes from the same listing, one per ticket at least.
    expect(customers.filter((c) => c.tickets.length > 0).every((c) => c.timeline.edges.length > 0)).toBe(true);
    // One call per source per level: the level's requesters fit one chunk of 100.
    const support = world.calls.of('support').map((c) => c.operation);
    expect(support.filter((op) => op === 'ticketsByRecordIds')).toHaveLength(1);
    expect(support.filter((op) => op === 'eventsByRecordIds')).toHaveLength(1);
    // Each call follows the export's cursor pages (100 tickets a page) within it.
    const pages = Math.max(1, Math.ceil(tickets.length / 100));
    expect(world.support.requestCount('/api/v2/search/export')).toBe(2 * pages);
    expect(world.support.requestCount('/api/v2/tickets')).toBe(0);
    expect(world.support.requestCount('/api/v2/requesters/events')).toBe(0);
  });

  it("answers readiness from Zendesk's users/me", async () => {
    world.support.resetRequests();
    const ready = (await (await fetch(`${world.url}/readyz`)).json()) as { checks: Record<string, string> };
    expect(ready.checks.support).toBe('ok');
    expect(world.support.requestCount('/api/v2/users/me')).toBe(1);
    expect(world.support.requestCount('/api/v2/ping')).toBe(0);
  });
});
