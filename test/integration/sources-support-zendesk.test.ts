/**
 * The helpdesk kind against Zendesk itself (`api: 'zendesk'`), over the support stand-in started
 * with `only: 'zendesk'`: its own listings (`tickets?requester_ids`, `requesters/events`, `ping`)
 * answer 404 InvalidEndpoint there, as a real Zendesk does, and Zendesk's (the Search Export, a
 * user's requested tickets, `users/me`, show_many, the incremental user export) answer as
 * Zendesk documents them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSupportTables } from '../../demo/schema';
import { startSupportServer, type SupportServer } from '../../demo/support-server';
import { isSourceError, type SourceError } from '../../src/errors';
import { failure, lists, readRecords } from '../helpers/source-failure';
import { CallRecorder } from '../../src/sources/observe';
import { createHelpdeskConnector, type HelpdeskConnectorConfig } from '../../src/sources/helpdesk/connector';
import { kind as helpdeskKind } from '../../src/sources/helpdesk';
import type { Ticket } from '../../src/capabilities';
import type { EventQuery, SourceEvent } from '../../src/vocabulary';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import path from 'node:path';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve } from '../../src/idmap';

const TOKEN = 'zendesk-test-token';
const SEARCH = '/api/v2/search/export';

const time = (day: number, hour = 0) => `2024-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;
const user = (id: number, over: Record<string, unknown> = {}) => ({
  id,
  name: `User ${id}`,
  email: `u${id}@example.com`,
  phone: null,
  created_at: time(1),
  updated_at: `2024-04-01T00:00:${String(id % 60).padStart(2, '0')}Z`,
  active: true,
  ...over,
});
const ticket = (id: number, requester: number, over: Record<string, unknown> = {}) => ({
  id,
  requester_id: requester,
  subject: `Ticket ${id}`,
  status: 'open',
  priority: 'normal',
  channel: 'email',
  satisfaction_score: null,
  created_at: time(2),
  updated_at: time(2, 1),
  solved_at: null,
  ...over,
});

/** Requesters 1..3 with tickets of every shape; 4 with none; 5 deleted (inactive); 101..350 one ticket each. */
const USERS = [user(1), user(2), user(3), user(4), user(5, { active: false }), ...Array.from({ length: 250 }, (_, i) => user(101 + i))];
const TICKETS = [
  ticket(10, 1, { created_at: time(3), updated_at: time(3, 2) }),
  ticket(11, 1, { status: 'solved', satisfaction_score: 5, created_at: time(4), updated_at: time(6), solved_at: time(5) }),
  ticket(12, 1, { status: 'closed', satisfaction_score: 2, created_at: time(7), updated_at: time(9), solved_at: time(8) }),
  ticket(20, 2, { status: 'pending', channel: 'web', created_at: time(10), updated_at: time(10, 3) }),
  ticket(21, 2, { status: 'solved', created_at: time(11), updated_at: time(12), solved_at: time(12) }),
  ticket(30, 3, { status: 'hold', created_at: time(13), updated_at: time(13, 4) }),
  ...Array.from({ length: 250 }, (_, i) => ticket(1000 + i, 101 + i, { created_at: time(14), updated_at: time(14, 1) })),
];

let tdb: TestDatabase;
/** A Zendesk: only Zendesk's own endpoints answer, as Zendesk writes them (ratings as words). */
let zendesk: SupportServer;
/** The same store behind this helpdesk's own dialect (a gateway in front of a Zendesk), to compare answers with. */
let gateway: SupportServer;
let recorder: CallRecorder;

function connect(server: SupportServer, over: Partial<HelpdeskConnectorConfig> = {}) {
  return createHelpdeskConnector({ baseUrl: server.url, token: TOKEN, timeoutMs: 20_000, retries: 0, api: 'zendesk', ...over }, recorder);
}

beforeAll(async () => {
  tdb = await freshDatabase('support_zendesk');
  await createSupportTables(tdb.db);
  for (let i = 0; i < USERS.length; i += 50) await tdb.db('support_users').insert(USERS.slice(i, i + 50));
  for (let i = 0; i < TICKETS.length; i += 50) await tdb.db('support_tickets').insert(TICKETS.slice(i, i + 50));
  zendesk = await startSupportServer({ db: tdb.db, token: TOKEN, ratings: 'zendesk', only: 'zendesk' });
  gateway = await startSupportServer({ db: tdb.db, token: TOKEN, ratings: 'zendesk' });
});

afterAll(async () => {
  await zendesk?.close();
  await gateway?.close();
  await tdb?.drop();
});

beforeEach(() => {
  recorder = new CallRecorder();
  zendesk.setFaults(undefined);
  zendesk.resetRequests();
  gateway.resetRequests();
});

const ids = (list: ReadonlyArray<Ticket | SourceError>) => list.map((t) => (isSourceError(t) ? t.message : t.id));

describe('Helpdesk against a real Zendesk: what the gateway dialect meets there', () => {
  it('reads no ticket, no event and no health from a Zendesk in the gateway dialect: its listings are not Zendesk endpoints', async () => {
    // Until session 42 this was the only dialect: every ticket and event read of a real Zendesk
    // answered SOURCE_BAD_RESPONSE (HTTP 404), and readiness called the source down.
    const old = connect(zendesk, { api: undefined });
    const tickets = await failure(old.ticketsByRecordIds(['1']));
    expect([tickets.code, tickets.extensions.status]).toEqual(['SOURCE_BAD_RESPONSE', 404]);
    const events = await failure(old.eventsByRecordIds(['1'], { after: null, since: null, kinds: null, limit: 10 }));
    expect([events.code, events.extensions.status]).toEqual(['SOURCE_BAD_RESPONSE', 404]);
    expect((await failure(old.health())).extensions.status).toBe(404);
  });
});

describe("Helpdesk, api 'zendesk': tickets from the Search Export", () => {
  it('answers the same tickets as the gateway dialect over the same store, newest first, solved times from the metric sets', async () => {
    const keys = ['2', '1', '999', '4', '3'];
    const fromZendesk = lists(await connect(zendesk).ticketsByRecordIds(keys));
    const fromGateway = lists(await connect(gateway, { api: 'gateway' }).ticketsByRecordIds(keys));
    expect(fromZendesk).toEqual(fromGateway);
    expect(fromZendesk.map(ids)).toEqual([['21', '20'], ['12', '11', '10'], [], [], ['30']]);
    const [, [closed, solved]] = fromZendesk as Ticket[][];
    // Zendesk's Ticket has no solved_at: the stand-in sends none, the metric set carries it.
    expect([closed.solvedAt, solved.solvedAt]).toEqual(['2024-03-08T00:00:00.000Z', '2024-03-05T00:00:00.000Z']);
    expect([closed.satisfactionScore, solved.satisfactionScore]).toEqual([1, 5]);
    expect(zendesk.requestCount('/api/v2/tickets')).toBe(0);
  });

  it('reads a level of 250 requesters in 3 calls of at most 100 requesters, one Search Export request each', async () => {
    const keys = Array.from({ length: 250 }, (_, i) => String(101 + i));
    const answers = lists(await connect(zendesk).ticketsByRecordIds(keys));
    expect(answers.map((l) => l.length)).toEqual(keys.map(() => 1));
    expect(answers.map((l) => (l[0] as Ticket).requesterId)).toEqual(keys);
    expect(recorder.of('support', 'ticketsByRecordIds').map((c) => c.batchSize)).toEqual([100, 100, 50]);
    expect(zendesk.requestCount(SEARCH)).toBe(3);
  });

  it('follows the export cursor (meta.has_more, meta.after_cursor) within the one call of a chunk', async () => {
    // One requester with more than a page of tickets: 230 of its own and requester 3's one, 3 pages of 100.
    const rows = Array.from({ length: 230 }, (_, i) =>
      ticket(5000 + i, 4, { created_at: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z') }),
    );
    for (let i = 0; i < rows.length; i += 50) await tdb.db('support_tickets').insert(rows.slice(i, i + 50));
    try {
      const [many, one] = lists(await connect(zendesk).ticketsByRecordIds(['4', '3']));
      expect(many).toHaveLength(230);
      expect((many[0] as Ticket).id).toBe('5229');
      expect(ids(one)).toEqual(['30']);
      expect(zendesk.requestCount(SEARCH)).toBe(3);
      expect(recorder.of('support', 'ticketsByRecordIds')).toHaveLength(1);
    } finally {
      await tdb.db('support_tickets').where({ requester_id: 4 }).delete();
    }
  });

  it("waits out the Search Export's own 429 Retry-After as a pause of that endpoint only: show_many is answered meanwhile", async () => {
    // Zendesk limits the Search Export to 100 calls a minute, counted apart from the account's
    // limit (developer.zendesk.com/api-reference/ticketing/ticket-management/search/#export-search-results).
    const limited = await startSupportServer({ db: tdb.db, token: TOKEN, only: 'zendesk', searchLimit: { requests: 1, windowMs: 60_000 } });
    try {
      const support = connect(limited);
      expect(ids(lists(await support.ticketsByRecordIds(['3']))[0])).toEqual(['30']);
      const refused = await failure(support.ticketsByRecordIds(['3']));
      expect(refused.code).toBe('SOURCE_UNAVAILABLE');
      expect(refused.extensions.retryAfterSeconds).toBeGreaterThan(0);
      const [requester] = await support.requestersByIds(['3']);
      expect(isSourceError(requester) ? requester.message : requester?.id).toBe('3');
      // The pause is honoured without a request: the second read of the export never reached it.
      expect(await failure(support.ticketsByRecordIds(['2']))).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
      expect(limited.requestCount(SEARCH)).toBe(2);
    } finally {
      await limited.close();
    }
  });
});

describe("Helpdesk, api 'zendesk': a bad answer loses only what it carried", () => {
  /** A Zendesk whose export answers requester 2's chunk with `body`, and any other chunk properly (from the stand-in's store). */
  async function withStub(bodyFor2: unknown, run: (url: string) => Promise<void>) {
    const stub = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const mine = url.searchParams.get('query') === 'requester:2';
      const forward = () =>
        fetch(zendesk.url + req.url, { headers: { authorization: `Bearer ${TOKEN}` } }).then(async (r) => {
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(await r.text());
        });
      if (!mine) return void forward();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(bodyFor2));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    try {
      await run(`http://127.0.0.1:${(stub.address() as AddressInfo).port}`);
    } finally {
      stub.closeAllConnections();
      await new Promise((r) => stub.close(r));
    }
  }
  const meta = { has_more: false, after_cursor: null, before_cursor: null };

  it.each([
    ['results that are not an array', { results: {}, meta }, '"results" is not an array'],
    ['metric sets that are not an array', { results: [], metric_sets: 'x', meta }, '"metric_sets" is not an array'],
    ["a meta that is not Zendesk's", { results: [] }, '"meta" is not an object'],
  ])("answers SOURCE_BAD_RESPONSE for %s, for that chunk's requesters only", async (_what, body, reason) => {
    await withStub(body, async (url) => {
      const [one, two] = await connect(zendesk, { baseUrl: url, maxBatch: 1 }).ticketsByRecordIds(['1', '2']);
      expect(ids(one as Ticket[])).toEqual(['12', '11', '10']);
      expect(isSourceError(two) && [two.code, two.message]).toEqual(['SOURCE_BAD_RESPONSE', `support answered GET ${SEARCH} with an unexpected body: ${reason}`]);
    });
  });

  it('answers a ticket whose metric set has no readable solved time as a row error in its slot; its siblings stand', async () => {
    const good = {
      id: 20,
      requester_id: 2,
      subject: 'a',
      status: 'open',
      priority: null,
      via: { channel: 'web' },
      satisfaction_rating: null,
      created_at: time(10),
      updated_at: time(10),
    };
    const broken = { ...good, id: 21, status: 'solved', created_at: time(11) };
    await withStub({ results: [good, broken], metric_sets: [{ ticket_id: 21, solved_at: 'soon' }], meta }, async (url) => {
      const [forTwo] = lists(await connect(zendesk, { baseUrl: url }).ticketsByRecordIds(['2']));
      expect(forTwo.map((t) => (isSourceError(t) ? [t.code, t.message] : t.id))).toEqual([
        '20',
        ['SOURCE_BAD_RESPONSE', 'support returned a malformed ticket: solved_at is not an ISO-8601 time'],
      ]);
    });
  });
});

describe("Helpdesk, api 'zendesk': timeline events from the same calls", () => {
  const query = (over: Partial<EventQuery> = {}): EventQuery => ({ after: null, since: null, kinds: null, limit: 100, ...over });
  const view = (list: ReadonlyArray<SourceEvent | SourceError>) => list.map((e) => (isSourceError(e) ? e.message : `${e.kind} ${e.id} ${e.at}`));

  it.each([
    ['every event', query()],
    ['a page of 2', query({ limit: 2 })],
    ['the page after a position', query({ after: { at: '2024-03-08T00:00:00.000Z', kind: 'ticket_solved', id: '12' } })],
    ['a position inside a second', query({ after: { at: '2024-03-09T00:00:00.500Z', kind: 'ticket_rated', id: '12' } })],
    ['events since a time', query({ since: '2024-03-05T00:00:00.000Z' })],
    ['one kind', query({ kinds: ['ticket_solved'] })],
  ])('answers the events the gateway dialect answers: %s', async (_what, q) => {
    const keys = ['1', '2', '999', '3'];
    const fromZendesk = lists(await connect(zendesk).eventsByRecordIds(keys, q));
    const fromGateway = lists(await connect(gateway, { api: 'gateway' }).eventsByRecordIds(keys, q));
    expect(fromZendesk.map(view)).toEqual(fromGateway.map(view));
    expect(fromZendesk).toEqual(fromGateway);
    expect(recorder.of('support', 'eventsByRecordIds')).toEqual([
      { source: 'support', operation: 'eventsByRecordIds', batchSize: 4 },
      { source: 'support', operation: 'eventsByRecordIds', batchSize: 4 },
    ]);
    expect(zendesk.requestCount(SEARCH)).toBe(1);
  });

  it("reads a level of 250 requesters' events in 3 calls", async () => {
    const keys = Array.from({ length: 250 }, (_, i) => String(101 + i));
    const answers = lists(await connect(zendesk).eventsByRecordIds(keys, query({ limit: 1 })));
    expect(answers.map((l) => view(l))).toEqual(keys.map((k) => [`ticket_opened ${899 + Number(k)} 2024-03-14T00:00:00.000Z`]));
    expect(recorder.of('support', 'eventsByRecordIds').map((c) => c.batchSize)).toEqual([100, 100, 50]);
  });
});

describe("Helpdesk, api 'zendesk', ticketReads 'requested': one requester a call, bounded before any call", () => {
  it('reads each requester with its own listing, the same tickets, a user Zendesk does not have as none', async () => {
    const keys = ['2', '1', '999', '3'];
    const answers = lists(await connect(zendesk, { ticketReads: 'requested' }).ticketsByRecordIds(keys));
    expect(recorder.of('support', 'ticketsByRecordIds').map((c) => c.batchSize)).toEqual([1, 1, 1, 1]);
    expect(zendesk.requestCount('/api/v2/users/1/tickets/requested')).toBe(1);
    expect(zendesk.requestCount(SEARCH)).toBe(0);
    expect(answers).toEqual(lists(await connect(zendesk).ticketsByRecordIds(keys)));
  });

  it('asks only requestedPerLevel requesters of a larger batch; the others answer SOURCE_UNAVAILABLE unasked, saying why', async () => {
    const answers = await connect(zendesk, { ticketReads: 'requested', requestedPerLevel: 2 }).ticketsByRecordIds(['1', '2', '3', '4']);
    expect(answers.slice(0, 2).map((l) => ids(l as Ticket[]))).toEqual([
      ['12', '11', '10'],
      ['21', '20'],
    ]);
    for (const refused of answers.slice(2)) {
      expect(isSourceError(refused) && [refused.code, refused.message]).toEqual([
        'SOURCE_UNAVAILABLE',
        "support lists one requester's tickets a call (ticketReads 'requested'): a batch of 4 requesters is over its requestedPerLevel (2), so 2 were not asked",
      ]);
    }
    expect(recorder.of('support', 'ticketsByRecordIds')).toHaveLength(2);
    expect(zendesk.requestCount()).toBe(2);
  });
});

describe("Helpdesk, api 'zendesk': health and deleted users", () => {
  it("answers health from Zendesk's users/me", async () => {
    await expect(connect(zendesk).health()).resolves.toBeUndefined();
    expect(zendesk.requestCount('/api/v2/users/me')).toBe(1);
  });

  it('reports a user Zendesk keeps inactive (active: false, deleted) as deleted, in the scan and in scanRecords', async () => {
    // Until session 42 a deleted Zendesk user stayed linked to its customer: the export carries it
    // with active: false, which no scan read.
    const support = connect(zendesk);
    const page = await support.scan(null, 1000);
    const deleted = page.records.filter((r) => r.deleted).map((r) => r.recordId);
    expect(deleted).toEqual(['5']);
    expect(page.records.find((r) => r.recordId === '4')?.deleted).toBeUndefined();
    const [five, four] = readRecords(await support.scanRecords(['5', '4']));
    expect([five?.deleted, four?.deleted]).toEqual([true, undefined]);
  });
});

describe('Helpdesk: a user deleted in Zendesk leaves its customer at the next resolution', () => {
  it('ends the link of a user the export carries inactive, and keeps the others', async () => {
    const oneid = await freshDatabase('support_zendesk_oneid');
    try {
      await migrateLatest(oneid.db);
      const store = createIdMapStore(oneid.db);
      const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));
      const record = (id: string) => oneid.db('idmap_source_records').where({ source: 'support', record_id: id }).first('customer_id', 'deleted_at');
      await tdb.db('support_users').where({ id: 3 }).update({ active: true });
      await resolve({ store, connectors: [connect(zendesk)], rules });
      expect((await record('3'))?.customer_id).toEqual(expect.any(String));
      // Deleted in Zendesk: still exported, inactive, with its update time moved on.
      await tdb.db('support_users').where({ id: 3 }).update({ active: false, updated_at: '2024-05-01T00:00:00Z' });
      await resolve({ store, connectors: [connect(zendesk)], rules });
      const gone = await record('3');
      expect([gone?.customer_id, gone?.deleted_at != null]).toEqual([null, true]);
      expect((await record('2'))?.customer_id).toEqual(expect.any(String));
    } finally {
      await tdb.db('support_users').where({ id: 3 }).update({ active: true, updated_at: USERS[2].updated_at });
      await oneid.drop();
    }
  });
});

describe('Helpdesk kind options: a dialect option given to the other is refused', () => {
  const parse = (o: Record<string, unknown>) => helpdeskKind.options.safeParse({ baseUrl: 'http://127.0.0.1:1', token: 't', ...o });
  it.each([
    [{ ticketReads: 'search' }, 'ticketReads: applies only with api "zendesk" (the gateway dialect reads tickets with tickets?requester_ids)'],
    [{ api: 'zendesk', requestedPerLevel: 5 }, 'requestedPerLevel: applies only with api "zendesk" and ticketReads "requested"'],
  ])('%j', (options, message) => {
    const r = parse(options);
    expect(r.success).toBe(false);
    expect(r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([message]);
  });
  it('accepts each dialect', () => {
    expect(parse({ api: 'zendesk', ticketReads: 'requested', requestedPerLevel: 50 }).success).toBe(true);
    expect(parse({ api: 'gateway' }).success).toBe(true);
  });
});
