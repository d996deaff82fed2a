/**
 * The change feed: `subscription { customerChanged }` over Server-Sent Events (GraphQL over SSE) at
 * /graphql/stream, over real HTTP on 127.0.0.1. Changes made by a steward (GraphQL mutations), a
 * source's webhook, or another process writing OneID's link log arrive with their kinds and ids;
 * roles are scoped as for queries; a slow reader's buffer stays bounded; a drain ends open streams.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createClient } from 'graphql-sse';
import { apiKeyFor, scrmFollowerRow, startTestWorld, WEBHOOK_SECRET, type TestRole, type TestWorld } from '../helpers/world';
import { signWebhook } from '../../src/webhooks';
import { testEngine } from '../helpers/db';
import { normalizePhone } from '../../src/canonical';
import { createGateway, type Gateway } from '../../src/gateway';
import { startServer, type RunningServer } from '../../src/server';
import { createLogger } from '../../src/observability/logger';
import { hashApiKey } from '../../src/access';
import { tempDir } from '../helpers/tmp';
import { sseMessages } from '../helpers/sse';
import { captureLog } from '../helpers/log-capture';

const WAIT_MS = 30_000;
let world: TestWorld;
/** Customers team_north owns (sales sees them) and customers it does not. */
let team: string[];
let others: string[];
let crmCustomerId: string;
let crmPhone: string;

const CHANGES = `subscription Changes($ids: [ID!], $kinds: [CustomerChangeKind!]) {
  customerChanged(ids: $ids, kinds: $kinds) { id kind customerId otherCustomerId records { source recordId } recordCount actor at customer { id } }
}`;

/** A subscription through graphql-sse's own client; `ready` resolves once the server accepted it (changes after that are heard). */
function listen(role: TestRole, variables: Record<string, unknown> = {}, query = CHANGES) {
  const client = createClient({ url: `${world.url}/graphql/stream`, headers: { 'x-api-key': apiKeyFor(role) }, retryAttempts: 0 });
  const results: any[] = [];
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const it = client.iterate({ query, variables }, { connected: () => connected() });
  const done = (async () => {
    for await (const r of it) results.push(r);
  })();
  done.catch(() => undefined); // a stream cut when the world closes is not this test's failure
  const feed = {
    ready,
    results,
    changes: () => results.map((r) => r.data?.customerChanged).filter(Boolean),
    /** Waits until a change matching `pred` has arrived; answers it. */
    async until(pred: (c: any) => boolean) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const hit = results.map((r) => r.data?.customerChanged).find((c) => c && pred(c));
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no such change within ${WAIT_MS} ms; got ${JSON.stringify(results)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      opened.delete(feed);
      await it.return?.();
      client.dispose();
      await done.catch(() => undefined);
    },
  };
  opened.add(feed);
  return feed;
}
/** Streams still open when a test ends (it failed before closing them) are closed after it. */
const opened = new Set<{ close(): Promise<void> }>();
afterEach(async () => {
  await Promise.all([...opened].map((s) => s.close()));
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * As `waitFor`, for a wait whose length is the work of a large backlog (on a loaded machine, more
 * than any fixed deadline): it times out only after WAIT_MS in which `progress` did not change.
 */
async function waitForWhileProgressing(check: () => boolean, progress: () => string, what: string) {
  let last = progress();
  let deadline = Date.now() + WAIT_MS;
  while (!check()) {
    const now = progress();
    if (now !== last) [last, deadline] = [now, Date.now() + WAIT_MS];
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (no progress for ${WAIT_MS} ms at ${last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ids(role: TestRole, first: number): Promise<string[]> {
  const { body } = await world.query(`{ customersConnection(first: ${first}) { edges { node { id } } } }`, undefined, { 'x-api-key': apiKeyFor(role) });
  return body.data.customersConnection.edges.map((e: any) => e.node.id);
}

async function steward(mutation: string, variables: Record<string, unknown>) {
  const { body } = await world.query(mutation, variables);
  expect(body.errors).toBeUndefined();
  return body.data;
}
const merge = (survivorId: string, mergedId: string) =>
  steward(`mutation($s: ID!, $m: ID!) { mergeCustomers(survivorId: $s, mergedId: $m, reason: "feed test") { customerId } }`, { s: survivorId, m: mergedId });
const split = (mergedId: string) => steward(`mutation($m: ID!) { splitCustomer(mergedId: $m, reason: "feed test") { customerId } }`, { m: mergedId });

/** A raw SSE request (no client library): status, headers, and the response to read or leave unread. */
function rawStream(url: string, headers: Record<string, string>, body: unknown): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      `${url}/graphql/stream`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } },
      (res) => resolve({ res, req }),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const readAll = async (res: http.IncomingMessage) => {
  let text = '';
  for await (const c of res) text += c;
  return JSON.parse(text);
};

/** A support app whose role runs only its safelist (`persistedOnly`): one subscription is listed. */
const KIOSK_KEY = 'test-support-kiosk-key';
const LISTED = 'subscription Listed { customerChanged { kind customerId } }';

beforeAll(async () => {
  const dir = tempDir('feed-safelist');
  const policy = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../config/access.json'), 'utf8'));
  policy.safelist = 'safelist.json';
  policy.roles.support_kiosk = { extends: 'support', description: 'a support app: persisted operations only', persistedOnly: true };
  fs.writeFileSync(path.join(dir, 'safelist.json'), JSON.stringify({ [crypto.createHash('sha256').update(LISTED).digest('hex')]: LISTED }));
  fs.writeFileSync(path.join(dir, 'access.json'), JSON.stringify(policy));
  world = await startTestWorld({
    people: 200,
    seed: 21,
    configPatch: (raw) => {
      raw.access.policyFile = path.join(dir, 'access.json');
      raw.auth.apiKeys.push({ name: 'test-support-kiosk', role: 'support_kiosk', sha256: hashApiKey(KIOSK_KEY) });
    },
  });
  const inTeam = new Set(await ids('sales', 200));
  const all = await ids('admin', 200);
  team = all.filter((id) => inTeam.has(id));
  others = all.filter((id) => !inTeam.has(id));
  // A CRM customer whose phone is theirs alone (a new WeChat follower with it links to them), outside the pairs above.
  const contacts = await world.dbs.crm.db('crm_contacts').select('contact_id', 'mobile').orderBy('contact_id', 'desc');
  for (const c of contacts) {
    const e164 = normalizePhone(c.mobile);
    if (!e164 || e164 === '+8613800000000') continue;
    const { body } = await world.query(`query($v: String!) { customersByIdentifier(kind: PHONE, value: $v) { id } }`, { v: e164 });
    const found = body.data?.customersByIdentifier;
    if (found?.length === 1 && !team.slice(0, 8).includes(found[0].id) && !others.slice(0, 8).includes(found[0].id)) {
      crmCustomerId = found[0].id;
      crmPhone = e164;
      break;
    }
  }
});

afterAll(async () => world?.close());

/** Another process (a resolution job) writes `n` changes of one customer to the link log. */
async function writeChanges(customerId: string, n: number) {
  const at = new Date().toISOString();
  const rows = Array.from({ length: n }, (_, i) => ({
    at: testEngine === 'mariadb' ? new Date(at) : at,
    actor: `rule:feed-test-${'x'.repeat(40)}`,
    action: 'bind',
    customer_id: customerId,
    source: 'crm',
    record_id: `FEED-${String(i).padStart(8, '0')}-${'y'.repeat(40)}`,
    reason: 'feed test',
  }));
  for (let i = 0; i < rows.length; i += 500) await world.dbs.oneid.db('idmap_link_events').insert(rows.slice(i, i + 500));
}

describe('Change feed: what arrives', () => {
  it('tells an admin of a steward merge and split, and of a webhook that links a new record, with kinds, ids and records', async () => {
    expect(team.length).toBeGreaterThanOrEqual(8);
    expect(others.length).toBeGreaterThanOrEqual(8);
    expect(crmCustomerId).toBeDefined();
    const [a, b] = team;
    const feed = listen('admin', { ids: [a, b, crmCustomerId] });
    const support = listen('support', { ids: [crmCustomerId] });
    await Promise.all([feed.ready, support.ready]);

    await merge(a, b);
    const merged = await feed.until((c) => c.kind === 'MERGED' && c.customerId === a);
    expect(merged).toMatchObject({ otherCustomerId: b, actor: expect.stringMatching(/^user:/), customer: { id: a } });
    expect(merged.records.length).toBeGreaterThan(0);
    expect(merged.recordCount).toBe(merged.records.length);

    await split(b);
    const splitOff = await feed.until((c) => c.kind === 'SPLIT' && c.otherCustomerId === b);
    expect(splitOff).toMatchObject({ customerId: a, records: merged.records });
    expect(Number(splitOff.id)).toBeGreaterThan(Number(merged.id));

    // A source's webhook: a new WeChat follower carrying the CRM customer's phone joins that customer.
    const openid = 'oFeedWebhookFollower00000001';
    await world.dbs.scrm.db('scrm_followers').insert(scrmFollowerRow(openid, crmPhone, 'feed'));
    const raw = JSON.stringify({ events: [{ id: 'feed-evt-1', type: 'created', recordId: openid }] });
    const res = await fetch(`${world.url}/webhooks/scrm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-c360-signature': signWebhook(WEBHOOK_SECRET, raw) },
      body: raw,
    });
    expect(res.status).toBe(200);
    const linked = await feed.until((c) => c.kind === 'LINKED' && c.customerId === crmCustomerId);
    expect(linked.records).toEqual([{ source: 'SCRM', recordId: openid }]);
    expect(linked.actor).toMatch(/^rule:/);
    // Support sees the same change with the WeChat record id (an openid) hashed, as everywhere in its schema.
    const masked = await support.until((c) => c.kind === 'LINKED');
    expect(masked.records).toEqual([{ source: 'SCRM', recordId: expect.stringMatching(/^h_[0-9a-f]{32}$/) }]);
    await Promise.all([feed.close(), support.close()]);
  });

  it('filters by ids and kinds: a SPLIT-only subscription to one customer hears only its split', async () => {
    const [, , c, d] = team;
    const splits = listen('admin', { ids: [c], kinds: ['SPLIT'] });
    const everything = listen('admin', { ids: [c, d] });
    await Promise.all([splits.ready, everything.ready]);
    await merge(c, d);
    await split(d);
    await everything.until((x) => x.kind === 'SPLIT' && x.customerId === c);
    await splits.until((x) => x.kind === 'SPLIT');
    // Changes arrive in log order, so the merge before the split would have arrived first.
    expect(splits.changes().map((x) => [x.kind, x.customerId])).toEqual([['SPLIT', c]]);
    expect(everything.changes().map((x) => x.kind)).toEqual(['MERGED', 'SPLIT']);
    await Promise.all([splits.close(), everything.close()]);
  });
});

describe('Change feed: following a merged customer', () => {
  it('keeps a subscription by ids on the survivor of a merge until the merge is undone', async () => {
    const [e, f] = team.slice(12, 14);
    expect(f).toBeDefined();
    const feed = listen('admin', { ids: [f] });
    await feed.ready;
    await merge(e, f);
    await feed.until((x) => x.kind === 'MERGED' && x.otherCustomerId === f);
    // f's records are e's now: a change on e is a change on f.
    await writeChanges(e, 1);
    await feed.until((x) => x.kind === 'UPDATED' && x.customerId === e);
    await split(f);
    await feed.until((x) => x.kind === 'SPLIT' && x.otherCustomerId === f);
    // Apart again: e's next change is not f's, and f's own arrives after it would have.
    await writeChanges(e, 1);
    await writeChanges(f, 1);
    await feed.until((x) => x.kind === 'UPDATED' && x.customerId === f);
    expect(feed.changes().map((x) => [x.kind, x.customerId])).toEqual([
      ['MERGED', e],
      ['UPDATED', e],
      ['SPLIT', e],
      ['UPDATED', f],
    ]);
    await feed.close();
    await waitFor(() => world.gw.feed.size() === 0, 'the stream to close'); // the next test counts open streams
  });
});

describe('Change feed: as documented', () => {
  it('runs the README curl example as written (address and key aside) and prints the change as an SSE event', async () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes('/graphql/stream'));
    expect(blocks).toHaveLength(1);
    const [g, h] = team.slice(8, 10);
    // curl streams until it is stopped: it is stopped once a whole MERGED event is in its output, or by
    // --max-time at the generous deadline (a fixed short window lost the event on a loaded CI machine).
    const block = blocks[0]
      .replaceAll('http://127.0.0.1:4000', world.url)
      .replace('demo-admin-key', apiKeyFor('admin'))
      .replace('curl -N', `curl -sN --max-time ${WAIT_MS / 1000}`);
    const curl = spawn('bash', ['-c', block], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const complete = (text: string) => text.split('\n\n').slice(0, -1);
    const output = new Promise<string>((resolve) => {
      let text = '';
      curl.stdout.setEncoding('utf8');
      curl.stdout.on('data', (chunk: string) => {
        text += chunk;
        if (complete(text).some((m) => m.startsWith('event: next') && m.includes('"kind":"MERGED"'))) resolve(text);
      });
      curl.on('close', () => resolve(text));
    });
    await waitFor(() => world.gw.feed.size() === 1, 'curl to subscribe');
    await merge(g, h);
    const text = await output;
    try {
      process.kill(-curl.pid!, 'SIGTERM');
    } catch {
      // curl had ended already.
    }
    const events = complete(text).filter((m) => m.startsWith('event: next'));
    const changes = events.map((m) => JSON.parse(m.slice(m.indexOf('data: ') + 6)).data.customerChanged);
    expect(changes).toContainEqual(expect.objectContaining({ kind: 'MERGED', customerId: g, otherCustomerId: h, customer: { name: expect.any(String) } }));
  });

  it('audits the unmasked personal fields a change delivered, as it does a response', async () => {
    const [g, h] = team.slice(10, 12);
    const feed = listen('admin', { ids: [g] }, `subscription($ids: [ID!]) { customerChanged(ids: $ids) { kind customer { id name phone } } }`);
    await feed.ready;
    await merge(g, h);
    await feed.until((c) => c.kind === 'MERGED');
    await feed.close();
    const { body } = await world.query(`query($c: ID!) { auditLog(customerId: $c) { principal role fields } }`, { c: g });
    expect(body.data.auditLog).toContainEqual({ principal: 'test-admin', role: 'admin', fields: ['Customer.name', 'Customer.phone'] });
  });
});

describe('Change feed: malformed records', () => {
  it('counts a record a change read but could not, by source, as a /graphql answer does', async () => {
    const metric = async () => {
      const text = await (await fetch(`${world.url}/metrics`)).text();
      return Number(/^c360_source_malformed_records_total\{source="crm"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    // Two customers outside the other tests' pairs, the first with a CRM contact.
    const withContact: Array<{ id: string; contactId: string }> = [];
    for (const id of others.slice(20)) {
      const { body } = await world.query(`query($id: ID!) { customer(id: $id) { crmContacts { id } } }`, { id });
      const contact = body.data.customer?.crmContacts?.[0];
      if (contact) withContact.push({ id, contactId: contact.id });
      if (withContact.length === 2) break;
    }
    const [g, h] = withContact;
    const row = await world.dbs.crm.db('crm_contacts').where({ contact_id: g.contactId }).first('created_at');
    const feed = listen('admin', { ids: [g.id] }, `subscription($ids: [ID!]) { customerChanged(ids: $ids) { kind customer { crmContacts { id } } } }`);
    await feed.ready;
    const counted = await metric();
    // The CRM writes a creation time that is no time: the change's customer reads it, its call answers.
    await world.dbs.crm.db('crm_contacts').where({ contact_id: g.contactId }).update({ created_at: 'not a time' });
    try {
      await merge(g.id, h.id);
      await waitFor(() => feed.results.some((r) => r.errors?.some((e: any) => e.extensions?.code === 'SOURCE_BAD_RESPONSE')), 'the change with its malformed record');
      expect(await metric()).toBe(counted + 1);
    } finally {
      await world.dbs.crm.db('crm_contacts').where({ contact_id: g.contactId }).update({ created_at: row.created_at });
      await feed.close();
      await split(h.id);
    }
  });
});

describe('Change feed: access', () => {
  it('lets a sales key hear only of its team’s customers', async () => {
    const [, , , , t1, t2] = team;
    const [, , o1, o2] = others;
    const sales = listen('sales', {}, `subscription { customerChanged { kind customerId otherCustomerId customer { id } } }`);
    const admin = listen('admin', { ids: [t1, o1] });
    await Promise.all([sales.ready, admin.ready]);
    await merge(o1, o2);
    await merge(t1, t2);
    await admin.until((c) => c.kind === 'MERGED' && c.customerId === t1);
    const heard = await sales.until((c) => c.kind === 'MERGED' && c.customerId === t1);
    expect(heard).toEqual({ kind: 'MERGED', customerId: t1, otherCustomerId: t2, customer: { id: t1 } });
    expect(admin.changes().some((c) => c.customerId === o1)).toBe(true);
    expect(sales.changes().filter((c) => [o1, o2].includes(c.customerId) || [o1, o2].includes(c.otherCustomerId))).toEqual([]);
    await Promise.all([sales.close(), admin.close()]);
  });

  it('refuses a role the policy grants no feed, bad credentials, queries, and a non-SSE accept, each with a code', async () => {
    const sse = { accept: 'text/event-stream' };
    const sub = { query: 'subscription { customerChanged { id } }' };
    for (const role of ['marketing', 'finance', 'analyst'] as const) {
      const { res } = await rawStream(world.url, { ...sse, 'x-api-key': apiKeyFor(role) }, sub);
      expect(res.statusCode).toBe(403);
      expect((await readAll(res)).errors[0].extensions.code).toBe('FORBIDDEN');
    }
    const anonymous = await rawStream(world.url, { ...sse, 'x-api-key': 'nope' }, sub);
    expect(anonymous.res.statusCode).toBe(401);
    expect((await readAll(anonymous.res)).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const query = await rawStream(world.url, { ...sse, 'x-api-key': apiKeyFor('admin') }, { query: '{ customers(ids: []) { id } }' });
    expect(query.res.statusCode).toBe(400);
    expect((await readAll(query.res)).errors[0].extensions.code).toBe('BAD_REQUEST');
    const json = await rawStream(world.url, { accept: 'application/json', 'x-api-key': apiKeyFor('admin') }, sub);
    expect(json.res.statusCode).toBe(406);
    expect((await readAll(json.res)).errors[0].extensions.code).toBe('BAD_REQUEST');
    const overPost = await world.query('subscription { customerChanged { id } }');
    expect(overPost.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(overPost.body.errors[0].message).toContain('/graphql/stream');
    const unknown = await rawStream(world.url, { ...sse, 'x-api-key': apiKeyFor('support') }, { query: 'subscription { customerChanged { reason } }' });
    expect(unknown.res.statusCode).toBe(400);
    expect((await readAll(unknown.res)).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  /**
   * A stream carries a role's view of customers, as a /graphql answer does, and says `no-store` as
   * that does. Until session 41 (2026-12-06) it said graphql-sse's `no-cache`, which lets a shared
   * cache keep the events and revalidate them.
   */
  it('says Cache-Control: no-store on a stream it opens and on a refusal', async () => {
    const sub = { query: 'subscription { customerChanged { kind customerId customer { name } } }' };
    const open = await rawStream(world.url, { accept: 'text/event-stream', 'x-api-key': apiKeyFor('support') }, sub);
    open.res.destroy();
    const refused = await rawStream(world.url, { accept: 'text/event-stream', 'x-api-key': apiKeyFor('marketing') }, sub);
    await readAll(refused.res);
    const badQuery = await rawStream(world.url, { accept: 'text/event-stream', 'x-api-key': apiKeyFor('support') }, { query: '{ customers(ids: []) { id } }' });
    await readAll(badQuery.res);
    expect([open.res, refused.res, badQuery.res].map((r) => [r.statusCode, r.headers['cache-control']])).toEqual([
      [200, 'no-store'],
      [403, 'no-store'],
      [400, 'no-store'],
    ]);
    await waitFor(() => world.gw.feed.size() === 0, 'the stream to close');
  });

  it('runs only safelisted subscriptions for a persisted-only role, refusing any other with 403 FORBIDDEN as /graphql does', async () => {
    const sse = { accept: 'text/event-stream', 'x-api-key': KIOSK_KEY };
    const unlisted = 'subscription { customerChanged { kind customerId customer { name phone email } } }';
    const onGraphql = await world.query('{ customer(id: "x") { name } }', undefined, { 'x-api-key': KIOSK_KEY });
    expect([onGraphql.status, onGraphql.body.errors[0].extensions.code]).toEqual([403, 'FORBIDDEN']);
    const { res } = await rawStream(world.url, sse, { query: unlisted });
    if (res.statusCode === 200) res.destroy();
    expect([res.statusCode, res.statusCode === 200 ? null : (await readAll(res)).errors[0].extensions.code]).toEqual([403, 'FORBIDDEN']);
    const listed = await rawStream(world.url, sse, { query: LISTED });
    expect(listed.res.statusCode).toBe(200);
    listed.res.destroy();
    await waitFor(() => world.gw.feed.size() === 0, 'the listed stream to close');
  });

  it('caps the streams one principal holds open (429 RATE_LIMITED, maxSubscriptions)', async () => {
    const max = world.gw.feed.options.maxSubscriptionsPerPrincipal;
    const open = [];
    for (let i = 0; i < max; i++) {
      const s = listen('support');
      await s.ready;
      open.push(s);
    }
    const { res } = await rawStream(world.url, { accept: 'text/event-stream', 'x-api-key': apiKeyFor('support') }, { query: 'subscription { customerChanged { id } }' });
    expect(res.statusCode).toBe(429);
    expect((await readAll(res)).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'maxSubscriptions', max });
    await Promise.all(open.map((s) => s.close()));
    // Closed streams free their places.
    await waitFor(() => world.gw.feed.size() === 0, 'the streams to close');
    const again = listen('support');
    await again.ready;
    await again.close();
  });
});

describe('Change feed: refused requests', () => {
  /** A request to the stream that should be refused: its status and JSON body (a stream opened instead fails the test at once). */
  async function refusal(init: { method?: string; search?: string; body?: string; contentType?: string }) {
    const headers: Record<string, string> = { accept: 'text/event-stream', 'x-api-key': apiKeyFor('admin') };
    if (init.method !== 'GET') headers['content-type'] = init.contentType ?? 'application/json';
    const res = await fetch(`${world.url}/graphql/stream${init.search ?? ''}`, { method: init.method ?? 'POST', headers, body: init.body });
    if (res.status === 200) {
      await res.body?.cancel();
      throw new Error(`a stream opened for ${JSON.stringify(init)}`);
    }
    return { status: res.status, body: (await res.json()) as any };
  }
  const SUB = 'subscription($i: [ID!], $k: [CustomerChangeKind!]) { customerChanged(ids: $i, kinds: $k) { kind } }';

  it('refuses variables of the wrong type with 400 BAD_USER_INPUT before any stream opens, as /graphql does', async () => {
    for (const variables of [{ i: [null] }, { i: [{}] }, { i: [1.5] }, { k: ['NOPE'] }, { i: 'one', k: [{ kind: 'MERGED' }] }]) {
      const { status, body } = await refusal({ body: JSON.stringify({ query: SUB, variables }) });
      expect(status).toBe(400);
      expect(body.errors.map((e: any) => e.extensions.code)).toEqual(body.errors.map(() => 'BAD_USER_INPUT'));
      expect(body.errors[0].message).toMatch(/^Variable "\$[ik]" got invalid value/);
      if (!('k' in variables)) {
        const onGraphql = await world.query('query($i: [ID!]!) { customers(ids: $i) { id } }', variables);
        expect({ status: onGraphql.status, codes: onGraphql.body.errors.map((e: any) => e.extensions.code) }).toEqual({ status, codes: ['BAD_USER_INPUT'] });
      }
    }
    // A 100 KB value is quoted short, as /graphql quotes it.
    const huge = await refusal({ body: JSON.stringify({ query: SUB, variables: { k: ['x'.repeat(100_000)] } }) });
    expect(huge.status).toBe(400);
    expect(huge.body.errors[0].message.length).toBeLessThan(1000);
    expect(world.gw.feed.size()).toBe(0);
  });

  it('refuses a body or query string it cannot read with BAD_REQUEST and a message of its own, never the parser’s', async () => {
    const get = (params: Record<string, string>) => ({ method: 'GET', search: `?${new URLSearchParams(params)}` });
    const cases: Array<[Parameters<typeof refusal>[0], number, string]> = [
      [{ body: 'not json' }, 400, 'request body is not valid JSON'],
      [{ body: '' }, 400, 'send the subscription in a JSON body: {"query": "subscription { … }"}'],
      [{ body: '[1]' }, 400, 'request body must be a JSON object'],
      [{ body: '{}' }, 400, 'send the subscription as "query"'],
      [{ body: '{"query": 5}' }, 400, '"query" must be a string'],
      [{ body: JSON.stringify({ query: SUB, operationName: 5 }) }, 400, '"operationName" must be a string'],
      [{ body: JSON.stringify({ query: SUB, variables: 'x' }) }, 400, '"variables" must be a JSON object'],
      [{ body: JSON.stringify({ query: SUB, variables: [] }) }, 400, '"variables" must be a JSON object'],
      [{ body: JSON.stringify({ query: SUB, extensions: 1 }) }, 400, '"extensions" must be a JSON object'],
      [{ body: JSON.stringify({ query: SUB }), contentType: 'text/plain' }, 415, 'send the request body as application/json'],
      [get({}), 400, 'send the subscription as "query" (a search parameter)'],
      [get({ query: SUB, variables: '{nope' }), 400, 'the variables search parameter is not valid JSON'],
    ];
    for (const [init, status, message] of cases) {
      const refused = await refusal(init);
      expect({ init, status: refused.status, errors: refused.body.errors }).toEqual({ init, status, errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
    }
    expect(world.gw.feed.size()).toBe(0);
  });
});

describe('Change feed: refused bodies', () => {
  it('gives the place back when a body is refused as too large: more such requests than the cap, then a stream opens', async () => {
    const max = world.gw.feed.options.maxSubscriptionsPerPrincipal;
    const headers = { accept: 'text/event-stream', 'x-api-key': apiKeyFor('support') };
    for (let i = 0; i <= max; i++) {
      const { res } = await rawStream(world.url, headers, { query: 'subscription { customerChanged { id } }', padding: 'x'.repeat(1024 * 1024) });
      expect(res.statusCode).toBe(413);
      expect((await readAll(res)).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    }
    const { res, req } = await rawStream(world.url, headers, { query: 'subscription { customerChanged { id } }' });
    expect(res.statusCode).toBe(200);
    req.destroy();
    await waitFor(() => world.gw.feed.size() === 0, 'the stream to close');
  });
});

describe('Change feed: another replica, a slow reader, a drain', () => {
  const BUFFER = 16;
  let replica: Gateway;
  let server: RunningServer;

  beforeAll(async () => {
    // A second gateway on the same OneID store: it hears what the first one's clients and any other process write.
    replica = await createGateway(world.config, { log: createLogger('silent'), feed: { bufferSize: BUFFER } });
    server = await startServer(replica, { port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await replica?.close();
  });

  it('keeps a slow reader’s buffer bounded: the oldest changes are dropped and the next result says how many', async () => {
    const customerId = team[6];
    const { res } = await rawStream(
      server.url,
      { accept: 'text/event-stream', 'x-api-key': apiKeyFor('admin') },
      { query: `subscription($ids: [ID!]) { customerChanged(ids: $ids) { id kind actor records { source recordId } } }`, variables: { ids: [customerId] } },
    );
    expect(res.statusCode).toBe(200);
    res.pause(); // the reader stops reading: the socket's buffers fill, then the subscription's queue

    // Another process (a resolution job) writes many changes to the link log.
    const N = 20_000;
    await writeChanges(customerId, N);

    await waitFor(() => {
      const [s] = replica.feed.stats();
      return !!s && s.delivered + s.droppedTotal + s.queued === N;
    }, 'every change to be delivered, queued or dropped');
    const [stats] = replica.feed.stats();
    expect(stats.queued).toBeLessThanOrEqual(BUFFER);
    expect(stats.droppedTotal).toBeGreaterThan(0);

    const { messages } = sseMessages(res);
    res.resume();
    await waitFor(
      () => replica.feed.stats()[0].queued === 0 && messages.filter((m) => m.event === 'next').length === replica.feed.stats()[0].delivered,
      'the reader to catch up',
    );
    const next = messages.filter((m) => m.event === 'next').map((m) => m.data);
    const dropped = next.reduce((n, r) => n + (r.extensions?.dropped ?? 0), 0);
    expect(dropped).toBe(replica.feed.stats()[0].droppedTotal);
    expect(next.length + dropped).toBe(N);
    expect(next.every((r) => r.data.customerChanged.kind === 'UPDATED')).toBe(true);
    // The last change always arrives: only the oldest are dropped.
    expect(next.at(-1).data.customerChanged.records[0].recordId).toMatch(/^FEED-00019999-/);
    res.destroy();
    await waitFor(() => replica.feed.size() === 0, 'the stream to close');
  });

  it('disconnects a reader that takes nothing for stallTimeoutMs', async () => {
    // A queue large enough that the socket's own buffers fill first: then writes stop completing.
    // The changes must be more than those buffers can hold: 20,000 (about 200 bytes each) once fitted
    // in what Linux lets a loopback connection grow to (tcp_wmem up to 4 MiB; a CI run at 5788cc3),
    // nothing stalled and the test timed out. Three times as many leave no such margin.
    const stallN = 60_000;
    const stalling = await createGateway(world.config, { log: createLogger('silent'), feed: { bufferSize: stallN, stallTimeoutMs: 1000 } });
    const stallServer = await startServer(stalling, { port: 0 });
    try {
      const { res } = await rawStream(
        stallServer.url,
        { accept: 'text/event-stream', 'x-api-key': apiKeyFor('admin') },
        { query: `subscription($ids: [ID!]) { customerChanged(ids: $ids) { id actor records { source recordId } } }`, variables: { ids: [team[7]] } },
      );
      res.pause();
      await waitFor(() => stalling.feed.size() === 1, 'the subscription');
      await writeChanges(team[7], stallN);
      // The server cut the stream (the paused client would notice only once it reads again). Until the
      // socket's buffers are full (tens of thousands of changes) the gateway is still delivering, which
      // takes a loaded 2-core machine more than 30 s (it once did: the test timed out with the stream
      // still being written); the wait gives up only when the stream's counts stop moving without a cut.
      await waitForWhileProgressing(
        () => stalling.feed.size() === 0,
        () => JSON.stringify(stalling.feed.stats()),
        'the stalled stream to be cut',
      );
      res.destroy();
    } finally {
      await stallServer.close();
      await stalling.close();
    }
  });

  it('ends open streams when the server drains: each completes, nothing is cut', async () => {
    const { res } = await rawStream(server.url, { accept: 'text/event-stream', 'x-api-key': apiKeyFor('support') }, { query: 'subscription { customerChanged { id } }' });
    expect(res.statusCode).toBe(200);
    const { messages, ended } = sseMessages(res);
    await waitFor(() => replica.feed.size() === 1, 'the subscription');
    const drained = server.drain(WAIT_MS);
    await ended;
    expect(messages.map((m) => m.event)).toEqual(['complete']);
    expect(await drained).toEqual({ cut: 0 });
    expect(replica.feed.size()).toBe(0);
  });

  it('ends a stream whose server is stopped at once, then its gateway: no stall timer outlives them to report the reader gone as stalled, or to hold the process', async () => {
    // The server's close destroys the connection; the gateway's close then completes the subscription,
    // and its `complete` is written before the response hears of the close (such a write never calls back).
    const STALL_MS = 1000;
    const logged = captureLog('warn');
    const stopped = await createGateway(world.config, { log: logged.log, feed: { stallTimeoutMs: STALL_MS } });
    const stoppedServer = await startServer(stopped, { port: 0 });
    const { res } = await rawStream(
      stoppedServer.url,
      { accept: 'text/event-stream', 'x-api-key': apiKeyFor('support') },
      { query: 'subscription { customerChanged { id } }' },
    );
    expect(res.statusCode).toBe(200);
    const { ended } = sseMessages(res);
    await waitFor(() => stopped.feed.size() === 1, 'the subscription');
    await stoppedServer.close();
    await stopped.close();
    await ended;
    // Timers fire in the order they fall due: this one, set after any stall timer, fires after it.
    await new Promise((r) => setTimeout(r, 2 * STALL_MS));
    expect(logged.lines.filter((l) => l.includes('the reader took nothing'))).toEqual([]);
  });
});
