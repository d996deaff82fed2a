/**
 * BI lists when one chunk of a source's call fails. A verified condition (`openTickets`: the
 * helpdesk has no search, so the planner reads every linked requester's tickets in chunks of
 * `maxBatch`) used to fail the whole page when one chunk failed. Now the customers whose keys
 * rode in that chunk are undecided: neither listed nor counted (whether they match is unknown,
 * under `not` as much as without it), and the response carries one coded error naming the source,
 * the filter key and how many customers it could not decide. Everyone else is listed as a healthy
 * helpdesk would list them. The helpdesk sits behind a pass-through on 127.0.0.1 that answers 503
 * to every request carrying one chosen requester's id.
 */
import { startChunkRefuser, type ChunkRefuser } from '../helpers/chunk-refuser';
import type { SeenRequest } from '../helpers/http-pass-through';
import { apiKeyFor, startTestWorld, type TestWorld } from '../helpers/world';

/** Keys per helpdesk call: small, so the walk makes many chunks. */
const MAX_BATCH = 3;

const LIST = `query ($filter: CustomerFilter) {
  customersConnection(first: 1000, filter: $filter) { totalCount pageInfo { hasNextPage } edges { node { id } } }
}`;

let world: TestWorld;
let refuser: ChunkRefuser;

/** The requester ids a helpdesk request carries (its key parameters, comma lists split). */
const carried = (req: SeenRequest) => ['ids', 'requester_ids'].flatMap((p) => req.url.searchParams.getAll(p).flatMap((v) => v.split(',')));

beforeAll(async () => {
  refuser = await startChunkRefuser('support', carried);
  world = await startTestWorld({
    people: 300,
    seed: 5,
    configPatch: (c) => {
      const s = c.sources.find((x: { name: string }) => x.name === 'support');
      refuser.relay(s);
      s.maxBatch = MAX_BATCH;
      // The breaker is not under test here: a refused chunk must not open it for the next query.
      s.breaker = { failureThreshold: 1000, cooldownMs: 600_000 };
    },
  });
});

afterAll(async () => {
  await world?.close();
  await refuser?.close();
});

const ids = (body: any): string[] => body.data.customersConnection.edges.map((e: { node: { id: string } }) => e.node.id);

const poisonedRun = <T>(key: string, fn: () => Promise<T>) => refuser.run(world, key, fn);

describe('BI lists: one failed chunk of a verified condition', () => {
  let healthy: string[];
  let victimRequester: string;
  let victim: string;

  beforeAll(async () => {
    const { body } = await world.query(LIST, { filter: { openTickets: { min: 1 } } });
    expect(body.errors).toBeUndefined();
    healthy = ids(body);
    // A customer with open tickets, in the middle of the list: its requester's chunk will fail.
    victim = healthy[Math.floor(healthy.length / 2)];
    const [records] = await world.gw.idmap.sourceRecordsByCustomerIds([victim]);
    victimRequester = records.find((r) => r.source === 'support')!.recordId;
  });

  it('lists every customer it could decide, and names those it could not with the source’s coded error', async () => {
    world.reset();
    const { result, undecided } = await poisonedRun(victimRequester, () => world.query(LIST, { filter: { openTickets: { min: 1 } } }));
    const { body } = result;
    expect(undecided.has(victim)).toBe(true);
    expect(undecided.size).toBeLessThanOrEqual(MAX_BATCH);
    // The page: the healthy list without the customers whose chunk failed (the victim among them).
    expect(ids(body)).toEqual(healthy.filter((c) => !undecided.has(c)));
    expect(body.data.customersConnection.totalCount).toBe(ids(body).length);
    expect(body.data.customersConnection.pageInfo.hasNextPage).toBe(false);
    // One coded error beside the data: which source, which filter key, how many customers.
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['customersConnection'],
        extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'support', filter: 'openTickets', undecided: undecided.size }),
      }),
    ]);
    expect(body.errors[0].message).toContain(`${undecided.size} customer`);
    expect(body.extensions.sources.support.status).toBe('unavailable');
  });

  it('does not count an undecided customer as matching `not` either', async () => {
    const filter = { not: { openTickets: { min: 1 } } };
    const calm = await world.query(LIST, { filter });
    expect(calm.body.errors).toBeUndefined();
    const { result, undecided } = await poisonedRun(victimRequester, () => world.query(LIST, { filter }));
    const { body } = result;
    expect(ids(body)).toEqual(ids(calm.body).filter((c) => !undecided.has(c)));
    expect(ids(body)).not.toContain(victim);
    expect(body.data.customersConnection.totalCount).toBe(ids(body).length);
    expect(body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'support', undecided: undecided.size }) }),
    ]);
  });

  it('decides a customer another condition settles: `or` with a condition it meets, `and` with one it fails', async () => {
    // The victim meets hasPhone or not; either way one of these settles it without the helpdesk.
    const { body: who } = await world.query(`query ($id: ID!) { customer(id: $id) { phone } }`, { id: victim });
    const hasPhone = who.data.customer.phone !== null;
    const settles = { or: [{ openTickets: { min: 1 } }, { hasPhone }] };
    const { result } = await poisonedRun(victimRequester, () => world.query(LIST, { filter: settles }));
    expect(ids(result.body)).toContain(victim);
    const excludes = { openTickets: { min: 1 }, hasPhone: !hasPhone };
    const { result: r2 } = await poisonedRun(victimRequester, () => world.query(LIST, { filter: excludes }));
    expect(ids(r2.body)).not.toContain(victim);
  });

  describe('a walk over pages', () => {
    const PAGE = `query ($filter: CustomerFilter, $after: String, $first: Int) {
      customersConnection(first: $first, filter: $filter, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } plan { reused } }
    }`;
    const filter = { openTickets: { min: 1 } };
    type Page = { ids: string[]; total: number; reused: boolean; notes: unknown[]; end: string | null; more: boolean };
    const page = async (after: string | null, first: number, f: unknown = filter): Promise<Page> => {
      const { body } = await world.query(PAGE, { filter: f, after, first });
      const c = body.data.customersConnection;
      return {
        ids: c.edges.map((e: { node: { id: string } }) => e.node.id),
        total: c.totalCount,
        reused: c.plan.reused,
        notes: (body.errors ?? []).map((e: { extensions: unknown }) => e.extensions),
        end: c.pageInfo.endCursor,
        more: c.pageInfo.hasNextPage,
      };
    };
    /** A walk from `after` (null: from its start) to its end, the source answering. */
    const rest = async (after: string | null, first: number): Promise<Page[]> => {
      const pages: Page[] = [];
      for (let p: Page | null = await page(after, first); p; p = p.more ? await page(p.end, first) : null) pages.push(p);
      return pages;
    };

    it('pages through the plan its first page made, undecided customers included: one list, one count, the same note on every page', async () => {
      // The victim is on the first page's stretch: a plan made afresh by a later page decided it
      // behind the cursor, so the walk never listed it while every later totalCount counted it.
      const first = healthy.indexOf(victim) + 1;
      const { result: start, undecided } = await poisonedRun(victimRequester, () => page(null, first));
      expect(start.notes).toEqual([expect.objectContaining({ filter: 'openTickets', undecided: undecided.size })]);
      const pages = [start, ...(await rest(start.end, 2))];
      expect(pages.length).toBeGreaterThan(2);
      const listed = pages.flatMap((p) => p.ids);
      expect(listed).toEqual(healthy.filter((c) => !undecided.has(c)));
      for (const p of pages) {
        expect(p.total).toBe(listed.length);
        expect(p.notes).toEqual(start.notes);
      }
      expect(pages.slice(1).every((p) => p.reused)).toBe(true);
      // A walk started again plans afresh and decides them.
      const again = await rest(null, 1000);
      expect(again[0]).toMatchObject({ ids: healthy, total: healthy.length, reused: false, notes: [] });
    });

    it('a page continues its own walk’s plan, not the plan another walk of the same filter made since', async () => {
      const { result: mine, undecided } = await poisonedRun(victimRequester, () => page(null, 2));
      const theirs = await page(null, 2);
      expect([theirs.total, theirs.notes]).toEqual([healthy.length, []]);
      const next = await page(mine.end, 2);
      expect(next).toMatchObject({ reused: true, total: healthy.filter((c) => !undecided.has(c)).length, notes: mine.notes });
    });

    it('a cursor does not carry a plan into a walk of another filter', async () => {
      const other = { openTickets: { min: 2 } };
      const { body } = await world.query(LIST, { filter: other });
      const mine = await page(null, 1);
      const next = await page(mine.end, 1000, other);
      expect(next.reused).toBe(false);
      expect(next.ids).toEqual(ids(body).filter((c) => c > mine.ids[0]));
    });
  });

  it('exports the customers it could decide, and says once which it left out (NDJSON after the first page, CSV at the end)', async () => {
    const params = new URLSearchParams({ filter: JSON.stringify({ openTickets: { min: 1 } }), fields: 'id' });
    const get = async (format: 'ndjson' | 'csv') =>
      (await fetch(`${world.url}/export/customers.${format}?${params}`, { headers: { 'x-api-key': apiKeyFor('admin') } })).text();
    const { result: ndjson, undecided } = await poisonedRun(victimRequester, () => get('ndjson'));
    const lines = ndjson
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l._cursor).map((l) => l.id)).toEqual(healthy.filter((c) => !undecided.has(c)));
    expect(lines.filter((l) => !l._cursor && !l._end)).toEqual([
      {
        _undecided: {
          code: 'UNDECIDED_CUSTOMERS',
          message: expect.any(String),
          sources: [{ source: 'support', code: 'SOURCE_UNAVAILABLE', filter: 'openTickets', customers: undecided.size }],
        },
      },
    ]);
    const { result: csv, undecided: again } = await poisonedRun(victimRequester, () => get('csv'));
    const rows = csv.trimEnd().split('\r\n');
    expect(rows.slice(1, -2).map((r) => r.split(',')[1])).toEqual(healthy.filter((c) => !again.has(c)));
    expect(rows[rows.length - 1]).toMatch(/^# export complete: /);
    expect(rows[rows.length - 2]).toBe(
      `# customers a source did not answer for are not in this export (whether they match is unknown): support SOURCE_UNAVAILABLE for openTickets: ${again.size} customers`,
    );
  });

  it('answers a segment’s size without the undecided customers, with the same coded error', async () => {
    await world.query(`mutation { createSegment(input: { name: "with_open_tickets", filter: { openTickets: { min: 1 } } }) { name } }`);
    const { result, undecided } = await poisonedRun(victimRequester, () => world.query(`{ segment(name: "with_open_tickets") { size } }`));
    const { body } = result;
    expect(body.data.segment.size).toBe(healthy.filter((c) => !undecided.has(c)).length);
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['segment', 'size'],
        extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'support', undecided: undecided.size }),
      }),
    ]);
  });
});
