/**
 * What BI lists and exports cost, and that they stop: a client that goes away mid-export or
 * mid-list stops the work done for it (no source call or OneID read is made after it left, its
 * place in its principal's caps is freed), a walk never reuses a plan that failed, and the
 * concurrent exports of one principal are capped before any work (a coded 429), the cap freed
 * again when a client vanishes.
 */
import http from 'node:http';
import { startTestWorld, apiKeyFor, SERIAL_ADMIN, type TestWorld } from '../helpers/world';
import { captureLog } from '../helpers/log-capture';

let world: TestWorld;
const logged = captureLog('info');
/** The gateway's log lines with this message, parsed. */
const linesOf = (msg: string) => logged.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === msg);
/** An admin allowed one request in flight: its place is free again only once the request has let go. */
const SERIAL_KEY = 'test-resources-serial-key';

beforeAll(async () => {
  world = await startTestWorld({
    people: 500,
    seed: 43,
    log: logged.log,
    extraRoles: { serial_admin: { role: SERIAL_ADMIN, keys: [SERIAL_KEY] } },
    configPatch: (raw) => {
      // Five exports at once on this server, every caller's together.
      raw.server.maxConcurrentExports = 5;
    },
  });
});
afterAll(async () => {
  await world?.close();
});

/** A filter the helpdesk answers by reading every record it holds (no search API): the plan waits on it. */
const OPEN_TICKETS = { openTickets: { min: 1 } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds, polling; fails after a generous while. */
async function until(ok: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 1200; i++) {
    if (await ok()) return;
    await sleep(25);
  }
  throw new Error(`never: ${what}`);
}

/** Until the exports of these requests have all ended for their clients gone (their places then free). */
const ended = (requestIds: Array<string | undefined>) =>
  until(() => requestIds.every((id) => linesOf('export').some((l) => l.requestId === id && l.outcome === 'clientGone')), 'the exports ended');

/** Whether a request ran any page (each page logs its own 'graphql request' line): a refusal before the work runs none. */
const ranAPage = (requestId: string | null) => linesOf('graphql request').some((l) => l.requestId === requestId);

/** Until the serial key is admitted again: the request it had in flight let go of its place. */
const released = () => until(async () => (await world.query('{ __typename }', undefined, { 'x-api-key': SERIAL_KEY })).status === 200, 'the serial key admitted again');

/**
 * Sends `send(req)` as the serial key, and closes the connection once the helpdesk is being read
 * (the plan is under way, no byte answered yet). Answers the source calls and OneID reads counted
 * at that moment.
 */
async function leaveDuringThePlan(open: () => http.ClientRequest): Promise<{ calls: number; oneid: number }> {
  world.reset();
  logged.lines.length = 0;
  const req = open();
  req.on('error', () => undefined); // the socket we destroy
  await until(() => world.calls.of('support').length > 0, 'the helpdesk asked');
  const at = { calls: world.calls.calls.length, oneid: world.idmapCalls.length };
  req.destroy();
  return at;
}

describe('a client that goes away', () => {
  beforeEach(() => world.support.setFaults({ latencyMs: 1500 }));
  afterEach(() => world.support.setFaults({}));

  it('mid-export: no source call or OneID read is made for it after it left, and its place is freed', async () => {
    const url = `${world.url}/export/customers.ndjson?${new URLSearchParams({ filter: JSON.stringify(OPEN_TICKETS), fields: 'id,memberTier,orderSummary.orderCount' })}`;
    const at = await leaveDuringThePlan(() => http.get(url, { headers: { 'x-api-key': SERIAL_KEY } }));
    await released();
    // The helpdesk reads in flight when it left finish; nothing is started after them (the page's
    // golden fields and order summaries, the next page).
    expect(world.calls.calls.slice(at.calls)).toEqual([]);
    expect(world.idmapCalls.slice(at.oneid)).toEqual([]);
    // The log says what happened: the page stopped for a client gone, and the export ended so, no row sent.
    await until(() => linesOf('export').length > 0, 'the export logged');
    const [ended] = linesOf('export');
    expect(ended).toMatchObject({ outcome: 'clientGone', rows: 0, format: 'ndjson', role: 'serial_admin' });
    const page = linesOf('graphql request').find((l) => l.requestId === ended.requestId);
    expect(page).toMatchObject({ operation: 'Export', outcome: 'aborted', errorCodes: ['REQUEST_ABORTED'] });
  });

  it('mid-list on /graphql: no source call or OneID read is made for it after it left', async () => {
    const body = JSON.stringify({
      query: 'query($f: CustomerFilter) { customersConnection(first: 200, filter: $f) { edges { node { id memberTier orderSummary { orderCount } } } } }',
      variables: { f: OPEN_TICKETS },
    });
    const at = await leaveDuringThePlan(() => {
      const req = http.request(`${world.url}/graphql`, { method: 'POST', headers: { 'x-api-key': SERIAL_KEY, 'content-type': 'application/json' } });
      req.end(body);
      return req;
    });
    await released();
    expect(world.calls.calls.slice(at.calls)).toEqual([]);
    expect(world.idmapCalls.slice(at.oneid)).toEqual([]);
  });
});

describe('a walk whose first page failed', () => {
  it('does not reuse the failed plan: a later page is filtered (not every customer), or fails itself', async () => {
    const PAGE = 'query($f: CustomerFilter, $after: String) { customersConnection(first: 5, filter: $f, after: $after) { totalCount edges { node { id } } } }';
    const ANY_FIRST = '{ customersConnection(first: 1) { edges { cursor } } }';
    const cursor = (await world.query(ANY_FIRST)).body.data.customersConnection.edges[0].cursor;
    const filter = { and: [OPEN_TICKETS, { hasPhone: true }] };
    world.support.setFaults({ failRate: 1 });
    try {
      const failed = await world.query(PAGE, { f: filter });
      expect(failed.body.errors?.[0]?.extensions?.code).toMatch(/^SOURCE_/);
    } finally {
      world.support.setFaults({});
    }
    // The helpdesk back: the walk's next page answers for the filter, as a first page planned now does.
    const later = await world.query(PAGE, { f: filter, after: cursor });
    const fresh = (await world.query(PAGE, { f: filter })).body.data.customersConnection;
    const everyone = (await world.query('{ customersConnection(first: 1) { totalCount } }')).body.data.customersConnection.totalCount;
    expect(fresh.totalCount).toBeLessThan(everyone);
    expect(later.body.data.customersConnection.totalCount).toBe(fresh.totalCount);
  });
});

describe('a row-scoped walk whose first page failed', () => {
  it("never answers customers outside the caller's scope on its next page", async () => {
    const sales = { 'x-api-key': apiKeyFor('sales') };
    const PAGE = 'query($f: CustomerFilter, $after: String) { customersConnection(first: 200, filter: $f, after: $after) { totalCount edges { node { id } } } }';
    const scoped = (await world.query('{ customersConnection(first: 200) { totalCount edges { cursor node { id } } } }', undefined, sales)).body.data.customersConnection;
    const everyone = (await world.query('{ customersConnection(first: 1) { totalCount } }')).body.data.customersConnection.totalCount;
    expect(scoped.totalCount).toBeLessThan(everyone);
    expect(scoped.totalCount).toBeLessThanOrEqual(200); // one page holds the whole scope
    const mine = new Set<string>(scoped.edges.map((e: { node: { id: string } }) => e.node.id));
    world.support.setFaults({ failRate: 1 });
    try {
      expect((await world.query(PAGE, { f: OPEN_TICKETS }, sales)).body.errors?.[0]?.extensions?.code).toMatch(/^SOURCE_/);
    } finally {
      world.support.setFaults({});
    }
    const later = (await world.query(PAGE, { f: OPEN_TICKETS, after: scoped.edges[0].cursor }, sales)).body.data.customersConnection;
    expect(later.totalCount).toBeLessThanOrEqual(scoped.totalCount);
    for (const e of later.edges) expect(mine.has(e.node.id)).toBe(true);
  });
});

describe('the log line an export ends with', () => {
  it('says it completed, with the rows it sent, as counts only', async () => {
    logged.lines.length = 0;
    const res = await fetch(`${world.url}/export/customers.csv?${new URLSearchParams({ filter: JSON.stringify({ hasPhone: true }), fields: 'id,phone' })}`, {
      headers: { 'x-api-key': apiKeyFor('admin') },
    });
    // Less the header and the last line (`# export complete: …`).
    const rows = (await res.text()).trimEnd().split('\r\n').length - 2;
    expect(rows).toBeGreaterThan(100);
    await until(() => linesOf('export').length > 0, 'the export logged');
    const [ended] = linesOf('export');
    expect(ended).toMatchObject({ outcome: 'complete', rows, status: 200, format: 'csv', role: 'admin' });
    // No personal data in it: the filter and the values stay out of the log.
    expect(JSON.stringify(ended)).not.toMatch(/\+86|hasPhone/);
  });
});

/** An export whose pages read the helpdesk: with the helpdesk's answers held, its first page waits, so it stays in flight. */
const SLOW_EXPORT = '/export/customers.ndjson?fields=id,supportRequesters.id';

/**
 * Every helpdesk answer held until the faults are set again: an export stays in flight until the
 * test lets it go, however long a loaded machine takes to open the next. (With a latency of 1 s a
 * page instead, the exports opened one after another, each waited for until its first page's
 * headers came, and the first could end before the last was open: its place was free again.)
 */
const HOLD_THE_HELPDESK = { holdAnswers: 1_000 };

/** An export under `requestId`, not waited for: under HOLD_THE_HELPDESK its first page waits on the helpdesk and no header comes. */
function startExport(key: string, requestId: string): http.ClientRequest {
  const req = http.get(`${world.url}${SLOW_EXPORT}`, { headers: { 'x-api-key': key, 'x-request-id': requestId } });
  req.on('error', () => undefined); // destroyed by the test
  return req;
}

/**
 * Until `n` exports wait on the helpdesk, each in flight. A first page of 100 customers makes one
 * helpdesk call (fewer requesters than its batch of 100), so `n` held answers are `n` exports,
 * which the count of calls the gateway began confirms.
 */
async function inFlight(n: number, supportCallsBefore: number): Promise<void> {
  await until(() => world.support.heldAnswers() >= n, `${n} exports waiting on the helpdesk`);
  expect(world.calls.of('support').length - supportCallsBefore).toBe(n);
}

/**
 * A whole export of ids, read to its end, on a connection of its own: its status. Asked after the
 * wait for exports to end, a connection kept alive from before may be one the server is closing
 * as idle (5 s) while a loaded machine's client has not yet given it up (4 s): ECONNRESET.
 */
const wholeExport = (key: string) =>
  new Promise<number>((resolve, reject) => {
    http
      .get(`${world.url}/export/customers.ndjson?fields=id`, { headers: { 'x-api-key': key }, agent: false }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      })
      .once('error', reject);
  });

describe('concurrent exports of one principal', () => {
  /** An export answered at once (refused): its status, request id and body. */
  const open = (key: string) =>
    new Promise<{ status: number; requestId: string | undefined; body: () => Promise<string> }>((resolve, reject) => {
      const req = http.get(`${world.url}${SLOW_EXPORT}`, { headers: { 'x-api-key': key } }, (res) => {
        const chunks: Buffer[] = [];
        const text = new Promise<string>((done) => {
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
          res.on('error', () => done(''));
        });
        resolve({ status: res.statusCode ?? 0, requestId: res.headers['x-request-id'] as string | undefined, body: () => text });
      });
      req.on('error', reject);
    });

  it('are capped at 4 before any work: the fifth is a coded 429, and the places come back when the clients vanish', async () => {
    const key = apiKeyFor('admin');
    world.support.setFaults(HOLD_THE_HELPDESK);
    logged.lines.length = 0;
    const ids = [1, 2, 3, 4].map((i) => `capped-${i}`);
    const before = world.calls.of('support').length;
    const running = ids.map((id) => startExport(key, id));
    try {
      await inFlight(4, before);
      const fifth = await open(key);
      expect(fifth.status).toBe(429);
      expect(JSON.parse(await fifth.body())).toEqual({
        errors: [
          {
            message: 'Too many exports in flight: this principal may run 4 at once',
            extensions: { code: 'RATE_LIMITED', limit: 'maxConcurrentExports', max: 4, retryAfterSeconds: 1 },
          },
        ],
      });
      // Refused before the work: not one page was run for it.
      expect(fifth.requestId).toBeDefined();
      expect(ranAPage(fifth.requestId!)).toBe(false);
      // The principal's other requests still go through meanwhile.
      expect((await world.query('{ customersConnection(first: 1) { totalCount } }', undefined, { 'x-api-key': key })).status).toBe(200);
    } finally {
      for (const req of running) req.destroy();
      world.support.setFaults({});
    }
    // No permanent lock-out: once the vanished clients' exports have ended, all four places are free again.
    await ended(ids);
    expect(await Promise.all([1, 2, 3, 4].map(() => wholeExport(key)))).toEqual([200, 200, 200, 200]);
  });
});

describe('concurrent exports of many principals', () => {
  it('are capped for the server as a whole: past it a 503 EXPORTS_BUSY before any work, and the places come back', async () => {
    world.support.setFaults(HOLD_THE_HELPDESK);
    logged.lines.length = 0;
    // Two principals, each within its own cap (admin 4, the serial admin 1): the server's five.
    const exports: Array<[string, string]> = [...[1, 2, 3, 4].map((i): [string, string] => [apiKeyFor('admin'), `busy-admin-${i}`]), [SERIAL_KEY, 'busy-serial']];
    const before = world.calls.of('support').length;
    const running = exports.map(([key, id]) => startExport(key, id));
    try {
      await inFlight(5, before);
      const third = await fetch(`${world.url}/export/customers.ndjson?fields=id`, { headers: { 'x-api-key': apiKeyFor('analyst') } });
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBe('5');
      expect(await third.json()).toEqual({
        errors: [
          {
            message: "This server runs 5 exports at once, every caller's together; retry in 5 s",
            extensions: { code: 'EXPORTS_BUSY', max: 5, retryAfterSeconds: 5 },
          },
        ],
      });
      expect(ranAPage(third.headers.get('x-request-id'))).toBe(false);
    } finally {
      for (const req of running) req.destroy();
      world.support.setFaults({});
    }
    // The refused caller's own place was given back, and once the vanished clients' exports have
    // ended the server's five places are free again.
    await ended(exports.map(([, id]) => id));
    const keys = [apiKeyFor('analyst'), apiKeyFor('analyst'), apiKeyFor('analyst'), apiKeyFor('analyst'), SERIAL_KEY];
    expect(await Promise.all(keys.map(wholeExport))).toEqual([200, 200, 200, 200, 200]);
  });
});

describe('what an export reads from OneID', () => {
  /** Counts the customer ids the BI store's reads of active customers carry, at the store's boundary. */
  function countActiveReads() {
    const store = world.gw.bi.store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const counted = { ids: 0, statements: 0 };
    const originals = new Map<string, (...a: unknown[]) => Promise<unknown>>();
    for (const method of ['activeIdsAfter', 'activeAmong']) {
      const original = store[method];
      originals.set(method, original);
      store[method] = async (...args: unknown[]) => {
        const out = (await original.apply(world.gw.bi.store, args)) as string[] | Set<string>;
        counted.statements += 1;
        counted.ids += method === 'activeAmong' ? (args[0] as string[]).length : (out as string[]).length;
        return out;
      };
    }
    return { counted, restore: () => originals.forEach((f, m) => (store[m] = f)) };
  }

  it.each(['ID_ASC', 'LIFETIME_VALUE_DESC'])('ordered %s, grows with its rows, not with their square', async (orderBy) => {
    const everyone = (await world.query('{ customersConnection(first: 1) { totalCount } }')).body.data.customersConnection.totalCount;
    const { counted, restore } = countActiveReads();
    try {
      const res = await fetch(`${world.url}/export/customers.ndjson?${new URLSearchParams({ filter: JSON.stringify({ hasPhone: true }), fields: 'id', orderBy })}`, {
        headers: { 'x-api-key': apiKeyFor('admin') },
      });
      const rows = (await res.text()).trim().split('\n').length - 1;
      expect(rows).toBeGreaterThan(300);
      const pages = Math.ceil(rows / 100);
      // The matching customers are read once for the whole export (a value order ranks them then),
      // and each page of 100 then checks at most 2 × 101 of them are still active.
      expect(counted.ids).toBeLessThanOrEqual(everyone + pages * 2 * 101);
    } finally {
      restore();
    }
  });
});
