/**
 * The change feed resumes: each result's SSE event carries an `id`, and a reader that reconnects
 * with it (the `Last-Event-ID` header EventSource sends, or the `after` argument) is replayed the
 * changes made while it was away, through its own filters and row scope, then carries on live,
 * nothing twice, nothing lost; across a gateway restart too. Real HTTP SSE readers on 127.0.0.1,
 * on the engine under test.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { apiKeyFor, startTestWorld, type TestRole, type TestWorld } from '../helpers/world';
import { testEngine } from '../helpers/db';
import { createGateway, type Gateway } from '../../src/gateway';
import { startServer, type RunningServer } from '../../src/server';
import { createLogger } from '../../src/observability/logger';
import { sealPosition } from '../../src/feed/position';
import type { FeedOptions } from '../../src/feed/hub';
import { sseMessages } from '../helpers/sse';

const WAIT_MS = 30_000;
let world: TestWorld;
let team: string[];
let others: string[];

const SUB = `subscription($ids: [ID!]) { customerChanged(ids: $ids) { id kind customerId records { recordId } } }`;
/** The same with `after`, for clients that cannot set headers. */
const SUB_AFTER = `subscription($ids: [ID!], $after: String) { customerChanged(ids: $ids, after: $after) { id kind customerId records { recordId } } }`;

/** Streams a test opened and has not closed: a test that fails midway leaves its streams open, which the next test would count. */
const openStreams = new Set<http.IncomingMessage>();

/** An SSE reader over raw HTTP: every message with its `id`, parsed as it arrives. */
async function open(url: string, opts: { role?: TestRole; variables?: Record<string, unknown>; query?: string; lastEventId?: string; method?: 'GET' | 'POST' } = {}) {
  const headers: Record<string, string> = { accept: 'text/event-stream', 'x-api-key': apiKeyFor(opts.role ?? 'admin') };
  if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
  const params = { query: opts.query ?? SUB, variables: opts.variables ?? {} };
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    let req: http.ClientRequest;
    if (opts.method === 'GET') {
      const search = new URLSearchParams({ query: params.query, variables: JSON.stringify(params.variables) });
      req = http.request(`${url}/graphql/stream?${search}`, { method: 'GET', headers }, resolve);
      req.end();
    } else {
      const payload = JSON.stringify(params);
      req = http.request(`${url}/graphql/stream`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' } }, resolve);
      req.end(payload);
    }
    req.on('error', reject);
  });
  openStreams.add(res);
  res.once('close', () => openStreams.delete(res));
  expect(res.statusCode).toBe(200);
  const { messages, ended } = sseMessages(res);
  const stream = {
    res,
    messages,
    ended,
    next: () => messages.filter((m) => m.event === 'next'),
    changes: () => stream.next().flatMap((m) => (m.data.data?.customerChanged ? [m.data.data.customerChanged] : [])),
    async until(n: number, what = `${n} next events`) {
      await waitFor(() => stream.next().length >= n, what);
      return stream.next();
    },
    async close() {
      res.destroy();
      await ended;
    },
  };
  return stream;
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Another process writes changes to the link log: one `UPDATED` per label, record ids `R-<label>`. */
async function write(customerId: string, labels: string[]) {
  const at = new Date().toISOString();
  const rows = labels.map((label) => ({
    at: testEngine === 'mariadb' ? new Date(at) : at,
    actor: 'rule:resume-test',
    action: 'bind',
    customer_id: customerId,
    source: 'crm',
    record_id: `R-${label}`,
    reason: 'resume test',
  }));
  for (let i = 0; i < rows.length; i += 500) await world.dbs.oneid.db('idmap_link_events').insert(rows.slice(i, i + 500));
}
const labelsOf = (changes: any[]) => changes.map((c) => c.records[0].recordId.replace(/^R-/, ''));
const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A second gateway on the same OneID store, with its own feed options. */
async function replica(feed: Partial<FeedOptions> = {}): Promise<{ gw: Gateway; server: RunningServer; close(): Promise<void> }> {
  const gw = await createGateway(world.config, { log: createLogger('silent'), feed });
  const server = await startServer(gw, { port: 0 });
  return {
    gw,
    server,
    async close() {
      await server.close();
      await gw.close();
    },
  };
}

beforeAll(async () => {
  world = await startTestWorld({ people: 120, seed: 34, demoSystems: false });
  const ids = async (role: TestRole) => {
    const { body } = await world.query(`{ customersConnection(first: 120) { edges { node { id } } } }`, undefined, { 'x-api-key': apiKeyFor(role) });
    return body.data.customersConnection.edges.map((e: any) => e.node.id) as string[];
  };
  const inTeam = new Set(await ids('sales'));
  const all = await ids('admin');
  team = all.filter((id) => inTeam.has(id));
  others = all.filter((id) => !inTeam.has(id));
});

// One failure stays one failure: the streams a failed test left open are closed before the next test, which counts the
// gateway's open streams (a stream left open by one failed check once timed out the file's next four tests).
afterEach(async () => {
  for (const res of openStreams) res.destroy();
  await waitFor(() => openStreams.size === 0 && world.gw.feed.size() === 0, 'the streams a failed test left open to close');
});

afterAll(async () => world?.close());

describe('Change feed: resuming after a reconnect', () => {
  it('gives each change an SSE id; a reader back with Last-Event-ID hears exactly what it missed, in order, then live', async () => {
    const a = team[0];
    const first = await open(world.url, { variables: { ids: [a] } });
    await waitFor(() => world.gw.feed.size() === 1, 'the subscription');
    await write(a, ['before']);
    const [heard] = await first.until(1);
    expect(heard.id).toMatch(/^[A-Za-z0-9_-]{20,256}$/);
    // Opaque: the id tells nothing of the log (not its position, not the change's id). Read as the bytes it
    // encodes, not as text: three digits turn up in 46 random base64url characters now and then (268 once did).
    expect(Buffer.from(heard.id ?? '', 'base64url').toString('latin1')).not.toContain(heard.data.data.customerChanged.id);
    await first.close();
    await waitFor(() => world.gw.feed.size() === 0, 'the stream to close');

    await write(a, ['away0', 'away1', 'away2']);
    await write(others[0], ['not-asked-for']);
    const back = await open(world.url, { variables: { ids: [a] }, lastEventId: heard.id });
    await back.until(3, 'the replay');
    await write(a, ['live']);
    await back.until(4, 'the live change');
    expect(labelsOf(back.changes())).toEqual(['away0', 'away1', 'away2', 'live']);
    const ids = back.next().map((m) => m.id);
    expect(new Set(ids).size).toBe(4);
    expect(ids.every(Boolean)).toBe(true);

    // For a client that cannot set headers (EventSource's first request): the same through `after`, over GET.
    const lastSeen = back.next()[1].id!;
    await back.close();
    const viaArgument = await open(world.url, { method: 'GET', query: SUB_AFTER, variables: { ids: [a], after: lastSeen } });
    await viaArgument.until(2, 'the replay after the second change');
    expect(labelsOf(viaArgument.changes())).toEqual(['away2', 'live']);
    // The header, sent by EventSource on its own reconnects, is newer than the URL's `after`: it wins.
    const both = await open(world.url, { method: 'GET', query: SUB_AFTER, variables: { ids: [a], after: lastSeen }, lastEventId: back.next()[3].id });
    await write(a, ['later']);
    await both.until(1, 'the next live change');
    expect(labelsOf(both.changes())).toEqual(['later']);
    await Promise.all([viaArgument.close(), both.close()]);
  });

  it('replays to a sales reader only its own team’s changes', async () => {
    const [t] = team.slice(1);
    const [o] = others.slice(1);
    const query = `subscription { customerChanged { kind customerId records { recordId } customer { id } } }`;
    const first = await open(world.url, { role: 'sales', query });
    await waitFor(() => world.gw.feed.size() === 1, 'the subscription');
    await write(t, ['sales-first']);
    const [heard] = await first.until(1);
    await first.close();
    await waitFor(() => world.gw.feed.size() === 0, 'the stream to close');

    await write(o, ['other-team0']);
    await write(t, ['team0']);
    await write(o, ['other-team1']);
    await write(t, ['team1']);
    const back = await open(world.url, { role: 'sales', query, lastEventId: heard.id });
    await back.until(2, 'the replay');
    await write(t, ['team-live']);
    await back.until(3, 'the live change');
    expect(back.changes().map((c) => [c.customerId, c.records[0].recordId, c.customer.id])).toEqual([
      [t, 'R-team0', t],
      [t, 'R-team1', t],
      [t, 'R-team-live', t],
    ]);
    await back.close();
  });

  it('replays with the role’s masks, and audits the personal fields a replayed change returned unmasked', async () => {
    const a = team[7];
    const first = await open(world.url, { role: 'support', variables: { ids: [a] }, query: `subscription($ids: [ID!]) { customerChanged(ids: $ids) { kind } }` });
    await waitFor(() => world.gw.feed.size() === 1, 'the subscription');
    await write(a, ['audit-start']);
    const [heard] = await first.until(1);
    await first.close();
    await waitFor(() => world.gw.feed.size() === 0, 'the stream to close');
    const auditOf = async () =>
      (await world.query(`query($c: ID!) { auditLog(customerId: $c) { principal fields } }`, { c: a })).body.data.auditLog.filter((e: any) => e.principal === 'test-support');
    expect(await auditOf()).toEqual([]);

    // While it was away, a WeChat follower (an openid: support sees it hashed) was bound to the customer.
    const openid = 'oResumeFollower000000000001';
    await world.dbs.oneid.db('idmap_link_events').insert({
      at: testEngine === 'mariadb' ? new Date() : new Date().toISOString(),
      actor: 'rule:resume-test',
      action: 'bind',
      customer_id: a,
      source: 'scrm',
      record_id: openid,
      reason: 'resume test',
    });
    const back = await open(world.url, {
      role: 'support',
      variables: { ids: [a] },
      lastEventId: heard.id,
      query: `subscription($ids: [ID!]) { customerChanged(ids: $ids) { kind records { source recordId } customer { id name } } }`,
    });
    const [replayed] = await back.until(1, 'the replay');
    expect(replayed.data.data.customerChanged).toEqual({
      kind: 'UPDATED',
      records: [{ source: 'SCRM', recordId: expect.stringMatching(/^h_[0-9a-f]{32}$/) }],
      customer: { id: a, name: expect.any(String) },
    });
    await back.close();
    await waitFor(async () => (await auditOf()).length > 0, 'the audit entry');
    expect(await auditOf()).toEqual([{ principal: 'test-support', fields: ['Customer.name'] }]);
  });

  it('resumes across a gateway restart: another gateway on the store replays from the id the first one gave', async () => {
    const a = team[2];
    const first = await replica();
    const before = await open(first.server.url, { variables: { ids: [a] } });
    await waitFor(() => first.gw.feed.size() === 1, 'the subscription');
    await write(a, ['r-before']);
    const [heard] = await before.until(1);
    await before.close();
    await first.close();

    await write(a, ['r-down0', 'r-down1']);
    const second = await replica();
    try {
      const back = await open(second.server.url, { variables: { ids: [a] }, lastEventId: heard.id });
      await back.until(2, 'the replay');
      await write(a, ['r-up']);
      await back.until(3, 'the live change');
      expect(labelsOf(back.changes())).toEqual(['r-down0', 'r-down1', 'r-up']);
      await back.close();
    } finally {
      await second.close();
    }
  });

  it('owes a reader a change committed after a larger one it had: it arrives on resume, once', async () => {
    // On MySQL/MariaDB an id is taken at insert and seen at commit: id n+1 may appear after n+2 was read.
    const a = team[3];
    const live = await open(world.url, { variables: { ids: [a] } });
    await waitFor(() => world.gw.feed.size() === 1, 'the subscription');
    const [{ max }] = await world.dbs.oneid.db('idmap_link_events').max({ max: 'id' });
    const late = Number(max) + 1;
    const row = (label: string) => ({
      at: testEngine === 'mariadb' ? new Date() : new Date().toISOString(),
      actor: 'rule:resume-test',
      action: 'bind',
      customer_id: a,
      source: 'crm',
      record_id: `R-${label}`,
      reason: 'resume test',
    });
    await world.dbs.oneid.db('idmap_link_events').insert({ id: late + 1, ...row('committed-first') });
    const [heard] = await live.until(1);
    await live.close();
    await waitFor(() => world.gw.feed.size() === 0, 'the stream to close');
    await world.dbs.oneid.db('idmap_link_events').insert({ id: late, ...row('committed-late') });
    const back = await open(world.url, { variables: { ids: [a] }, lastEventId: heard.id });
    await back.until(1, 'the late change');
    await write(a, ['after-late']);
    await back.until(2, 'the live change');
    expect(labelsOf(back.changes())).toEqual(['committed-late', 'after-late']);
    await back.close();
  });
});

describe('Change feed: the replay is bounded', () => {
  it('replays a backlog no faster than the reader takes it: a queue of 16 takes 2,000 changes read in pages of 500, none dropped', async () => {
    const a = team[4];
    const N = 2000;
    const BUFFER = 16;
    // Pages of 500 rows pushed into a queue of 16 as they are read would drop all but the last 16 of each.
    const gw = await replica({ bufferSize: BUFFER, pollBatch: 500, replayMaxChanges: 5000 });
    try {
      const first = await open(gw.server.url, { variables: { ids: [a] } });
      await waitFor(() => gw.gw.feed.size() === 1, 'the subscription');
      await write(a, ['start']);
      const [heard] = await first.until(1);
      await first.close();
      await write(a, range('bulk', N));
      const back = await open(gw.server.url, { variables: { ids: [a] }, lastEventId: heard.id });
      let most = 0;
      await waitFor(() => {
        most = Math.max(most, ...gw.gw.feed.stats().map((s) => s.queued));
        return back.next().length >= N;
      }, 'the whole backlog');
      expect(most).toBeLessThanOrEqual(BUFFER);
      expect(labelsOf(back.changes())).toEqual(range('bulk', N));
      expect(back.next().some((m) => m.data.extensions?.dropped)).toBe(false);
      expect(gw.gw.feed.stats()[0]).toMatchObject({ droppedTotal: 0, delivered: N });
      await back.close();
    } finally {
      await gw.close();
    }
  });

  it('tells a reader back from beyond the window that it missed changes (CHANGES_MISSED, with an id), then carries on live', async () => {
    const a = team[5];
    const byCount = await replica({ replayMaxChanges: 5 });
    const byAge = await replica({ replayMaxAgeMs: 0 });
    try {
      const first = await open(byCount.server.url, { variables: { ids: [a] } });
      await waitFor(() => byCount.gw.feed.size() === 1, 'the subscription');
      await write(a, ['w-start']);
      const [heard] = await first.until(1);
      await first.close();
      await write(a, range('w-away', 6));

      for (const gw of [byCount, byAge]) {
        const back = await open(gw.server.url, { variables: { ids: [a] }, lastEventId: heard.id });
        const [missed] = await back.until(1, 'the first event');
        expect(missed.data).toEqual({ data: null, errors: [{ message: expect.stringContaining('missed'), extensions: { code: 'CHANGES_MISSED' } }] });
        expect(missed.id).toBeTruthy();
        await write(a, [`w-live-${gw === byCount ? 'count' : 'age'}`]);
        await back.until(2, 'the live change');
        expect(labelsOf(back.changes())).toEqual([`w-live-${gw === byCount ? 'count' : 'age'}`]);
        await back.close();
      }
      // The missed event's id is a place like any other: resuming from it replays from there.
      const again = await open(byCount.server.url, { variables: { ids: [a] }, lastEventId: heard.id });
      const [missed] = await again.until(1);
      await again.close();
      await write(a, ['w-after-missed']);
      const resumed = await open(byCount.server.url, { variables: { ids: [a] }, lastEventId: missed.id });
      await resumed.until(1, 'the change after the missed event');
      expect(labelsOf(resumed.changes())).toEqual(['w-after-missed']);
      await resumed.close();
    } finally {
      await byCount.close();
      await byAge.close();
    }
  });

  it('refuses an id it did not give (malformed, altered, another store’s, too long) in the stream: BAD_USER_INPUT, then complete', async () => {
    const a = team[6];
    const first = await open(world.url, { variables: { ids: [a] } });
    await waitFor(() => world.gw.feed.size() === 1, 'the subscription');
    await write(a, ['bad-start']);
    const [heard] = await first.until(1);
    await first.close();
    await waitFor(() => world.gw.feed.size() === 0, 'the stream to close');

    const altered = Buffer.from(heard.id!, 'base64url');
    altered[altered.length - 1] ^= 1;
    const anotherStore = sealPosition(crypto.randomBytes(32), { cursor: 1, pending: [] });
    for (const bad of ['12', 'not an id', altered.toString('base64url'), anotherStore, 'A'.repeat(10_000)]) {
      for (const how of ['header', 'argument'] as const) {
        const s = await open(world.url, how === 'header' ? { variables: { ids: [a] }, lastEventId: bad } : { query: SUB_AFTER, variables: { ids: [a], after: bad } });
        await s.ended;
        expect({ bad: bad.slice(0, 20), how, events: s.messages.map((m) => m.event) }).toEqual({ bad: bad.slice(0, 20), how, events: ['next', 'complete'] });
        expect(s.messages[0].data.errors).toEqual([
          { message: expect.stringContaining('not one this feed gave'), locations: expect.any(Array), path: ['customerChanged'], extensions: { code: 'BAD_USER_INPUT' } },
        ]);
        expect(s.messages[0].id).toBeUndefined();
      }
    }
    expect(world.gw.feed.size()).toBe(0);
  });
});
