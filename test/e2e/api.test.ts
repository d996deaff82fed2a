/**
 * Gateway: the HTTP API as a client sees it, over a small generated world.
 */
import { startTestWorld, readTruth, apiKeyFor, type TestWorld } from '../helpers/world';
import { normalizePhone } from '../../src/canonical';
import type { SourceName } from '../../src/vocabulary';

let world: TestWorld;
let personInAllFour: Array<{ source: string; recordId: string }>;
let customerId: string;

const ALL = `query One($id: ID!) {
  customer(id: $id) {
    id
    sourceRecords { source recordId }
    crmContacts { id name phone email gender createdAt }
    shopAccounts { id phone channel registeredAt }
    orders(first: 3) { id status total { amount currency } placedAt }
    orderSummary { orderCount totalSpent { amount currency } }
    supportRequesters { id email }
    tickets { id status createdAt }
    scrmFollowers { openid gender subscribed coupons { value { amount currency } } }
  }
}`;

const WORLD = { people: 300, seed: 5 };

/**
 * A person the generator put in all four systems and OneID linked across all four (a record
 * that carries nothing linkable, like a follower without a bound phone, stays apart honestly).
 */
async function personLinkedAcrossFour(w: TestWorld): Promise<{ records: Array<{ source: string; recordId: string }>; customerId: string }> {
  for (const records of readTruth(w.truthFile).values()) {
    if (new Set(records.map((r) => r.source)).size < 4) continue;
    const ids = await w.gw.idmap.customerIdsBySourceRecords(records.map((r) => ({ source: r.source as SourceName, recordId: r.recordId })));
    const linked = await w.gw.idmap.sourceRecordsByCustomerIds([ids[0]!]);
    if (new Set(linked[0].map((r) => r.source)).size === 4) return { records, customerId: ids[0]! };
  }
  throw new Error('the test world holds no person linked across all four systems');
}

beforeAll(async () => {
  // The sources' deadlines are the test world's generous ones: these tests expect every source to answer.
  world = await startTestWorld(WORLD);
  ({ records: personInAllFour, customerId } = await personLinkedAcrossFour(world));
});

afterAll(async () => world?.close());

const codes = (body: any) => (body.errors ?? []).map((e: any) => e.extensions?.code);

describe('Gateway API: one customer from four systems', () => {
  it('answers a person present in all four systems with data from each', async () => {
    const { status, body } = await world.query(ALL, { id: customerId });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const c = body.data.customer;
    expect(c.id).toBe(customerId);
    expect(new Set(c.sourceRecords.map((r: any) => r.source))).toEqual(new Set(['CRM', 'ORDERS', 'SUPPORT', 'SCRM']));
    expect(c.crmContacts.length).toBeGreaterThan(0);
    expect(c.shopAccounts.length).toBeGreaterThan(0);
    expect(c.supportRequesters.length).toBeGreaterThan(0);
    expect(c.scrmFollowers.length).toBeGreaterThan(0);
    // Every record the generator says belongs to this person and OneID linked here is answered by its system.
    for (const contact of c.crmContacts) {
      expect(contact.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(['MALE', 'FEMALE', 'UNKNOWN']).toContain(contact.gender);
      if (contact.phone) expect(contact.phone).toMatch(/^\+\d{8,15}$/);
    }
  });

  it('finds the same customer by any spelling of a phone number', async () => {
    const { body } = await world.query(`query($id: ID!) { customer(id: $id) { identifiers { kind value } } }`, { id: customerId });
    const phone: string | undefined = body.data.customer.identifiers.find((i: any) => i.kind === 'PHONE')?.value;
    expect(phone).toMatch(/^\+86\d{11}$/);
    const national = phone!.slice(3);
    const spellings = [
      `${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`,
      `${national.slice(0, 3)}-${national.slice(3, 7)}-${national.slice(7)}`,
      `+86 ${national}`,
      `86${national}`,
      phone!,
    ];
    const found = new Set<string | null>();
    for (const value of spellings) {
      expect(normalizePhone(value)).toBe(phone);
      const r = await world.query(`query($v: String!) { customersByIdentifier(kind: PHONE, value: $v) { id } }`, { v: value });
      expect(r.body.errors).toBeUndefined();
      found.add(JSON.stringify(r.body.data.customersByIdentifier.map((x: any) => x.id).sort()));
    }
    expect(found.size).toBe(1);
    expect(JSON.parse([...found][0] as string)).toContain(customerId);
  });

  it('answers a merged or unknown id as null without an error', async () => {
    const { body } = await world.query(`{ customer(id: "01UNKNOWNUNKNOWNUNKNOWN000") { id } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data.customer).toBeNull();
  });

  it('answers customers(ids) in the order asked, null for unknown ids', async () => {
    const { body } = await world.query(`query($ids: [ID!]!) { customers(ids: $ids) { id } }`, { ids: ['nope', customerId, 'nope2'] });
    expect(body.errors).toBeUndefined();
    expect(body.data.customers).toEqual([null, { id: customerId }, null]);
  });

  it('finds a customer by one of its source records', async () => {
    const crm = personInAllFour.find((r) => r.source === 'crm')!;
    const { body } = await world.query(`query($r: String!) { customerBySourceRecord(source: CRM, recordId: $r) { id } }`, { r: crm.recordId });
    expect(body.data.customerBySourceRecord).toEqual({ id: customerId });
  });
});

describe('Gateway API: bad input', () => {
  it('refuses an unknown identifier kind with BAD_USER_INPUT', async () => {
    const literal = await world.query(`{ customerByIdentifier(kind: SHOE_SIZE, value: "42") { id } }`);
    expect(codes(literal.body)).toEqual(['BAD_USER_INPUT']);
    const variable = await world.query(`query($k: IdentifierKind!) { customerByIdentifier(kind: $k, value: "42") { id } }`, { k: 'SHOE_SIZE' });
    expect(codes(variable.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses an unparseable phone or email with BAD_USER_INPUT naming the problem', async () => {
    for (const [kind, value] of [
      ['PHONE', 'call me maybe'],
      ['EMAIL', 'not-an-email'],
    ]) {
      const { body } = await world.query(`query($k: IdentifierKind!, $v: String!) { customerByIdentifier(kind: $k, value: $v) { id } }`, { k: kind, v: value });
      expect(codes(body)).toEqual(['BAD_USER_INPUT']);
      expect(body.errors[0].message).toContain(kind);
      expect(body.errors[0].message).not.toContain(value);
    }
  });

  it('refuses a mistyped mobile (possible but not a valid number) with BAD_USER_INPUT, not a null that looks like an unknown customer', async () => {
    for (const value of ['1380013', '138 0013 800', '１３８００１３']) {
      const { body } = await world.query(`query($v: String!) { customerByIdentifier(kind: PHONE, value: $v) { id } }`, { v: value });
      expect(codes(body)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('refuses more than 1,000 ids with BAD_USER_INPUT', async () => {
    world.reset();
    const ids = Array.from({ length: 1001 }, (_, i) => `id${i}`);
    const { body } = await world.query(`query($ids: [ID!]!) { customers(ids: $ids) { id } }`, { ids });
    expect(codes(body)).toEqual(['BAD_USER_INPUT']);
    expect(world.calls.calls).toHaveLength(0);
  });

  it('quotes a 100 KB variable value of the wrong type short in BAD_USER_INPUT, as it quotes its own', async () => {
    const huge = 'x'.repeat(100_000);
    const { status, body } = await world.query(`query($first: Int) { customersConnection(first: $first) { totalCount } }`, { first: huge });
    expect(status).toBe(400);
    expect(codes(body)).toEqual(['BAD_USER_INPUT']);
    expect(body.errors[0].message).toMatch(/^Variable "\$first" got invalid value "x{63}x?…/);
    expect(body.errors[0].message.length).toBeLessThan(1000);
  });

  it('refuses out-of-range page sizes and malformed instants', async () => {
    const first = await world.query(`query($id: ID!) { customer(id: $id) { orders(first: 5000) { id } } }`, { id: customerId });
    expect(codes(first.body)).toEqual(['BAD_USER_INPUT']);
    const since = await world.query(`query($id: ID!) { customer(id: $id) { orders(since: "yesterday") { id } } }`, { id: customerId });
    expect(codes(since.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses an impossible date, or an instant past 9999 once in UTC, as BAD_USER_INPUT at its place in the query, before any source call', async () => {
    world.reset();
    for (const at of ['9999-12-31T23:59:59-12:00', '2026-02-30T00:00:00Z']) {
      for (const field of ['orders', 'timeline']) {
        const query = `query($id: ID!) { customer(id: $id) { ${field}(since: "${at}") { __typename } } }`;
        const literal = await world.query(query, { id: customerId });
        expect([at, field, codes(literal.body), literal.body.data]).toEqual([at, field, ['BAD_USER_INPUT'], undefined]);
        expect(literal.body.errors[0].locations).toEqual([{ line: 1, column: query.indexOf(`"${at}"`) + 1 }]);
      }
      const variable = await world.query(`query($id: ID!, $since: DateTime) { customer(id: $id) { timeline(since: $since) { __typename } } }`, { id: customerId, since: at });
      expect(codes(variable.body)).toEqual(['BAD_USER_INPUT']);
      expect(variable.body.errors[0].message).toContain('$since');
    }
    expect(world.calls.calls).toHaveLength(0);
  });

  it('refuses a timeline cursor edited to year -1 as BAD_USER_INPUT naming after, before any source call', async () => {
    world.reset();
    const after = Buffer.from(JSON.stringify(['t2', '-000001-01-01T00:00:00.000Z', 'coupon_redeemed', 'scrm', 'CPN000000000001'])).toString('base64url');
    const { body } = await world.query(`query($id: ID!, $after: String) { customer(id: $id) { timeline(after: $after) { gaps { source code } } } }`, {
      id: customerId,
      after,
    });
    expect(body.errors.map((e: any) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', argument: 'after' }]);
    expect(world.calls.calls).toHaveLength(0);
  });

  it('answers a body that is not JSON with 400 BAD_REQUEST', async () => {
    const res = await fetch(`${world.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin') },
      body: '{"query": ',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});

describe('Gateway API: persisted-query extensions', () => {
  const ask = (init: { body?: string; search?: string; accept?: string }) =>
    fetch(`${world.url}/graphql${init.search ?? ''}`, {
      method: init.body ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin'), 'apollo-require-preflight': '1', accept: init.accept ?? '*/*' },
      body: init.body,
    });
  const persisted = (version: unknown, sha256Hash: unknown) => ({ persistedQuery: { version, sha256Hash } });

  it('refuses a hash that is not the query’s, or a version other than 1, with 400 BAD_REQUEST under every media type', async () => {
    const refused = [
      { body: JSON.stringify({ query: '{ __typename }', extensions: persisted(1, 'abc') }) },
      { body: JSON.stringify({ query: '{ __typename }', extensions: persisted(1, 'abc') }), accept: 'application/json' },
      { body: JSON.stringify({ query: '{ __typename }', extensions: persisted(2, 'abc') }) },
      { search: `?query=${encodeURIComponent('{ __typename }')}&extensions=${encodeURIComponent(JSON.stringify(persisted(3, 'abc')))}`, accept: 'application/json' },
    ];
    for (const init of refused) {
      const res = await ask(init);
      const body = (await res.json()) as any;
      expect({ status: res.status, codes: codes(body) }).toEqual({ status: 400, codes: ['BAD_REQUEST'] });
      expect(body.errors[0].message).toMatch(/^extensions\.persistedQuery\.(sha256Hash|version) /);
    }
  });

  it('answers a hash it does not know, sent without the query, with PERSISTED_QUERY_NOT_FOUND for the client to send it', async () => {
    const res = await ask({ body: JSON.stringify({ extensions: persisted(1, 'a'.repeat(64)) }) });
    expect(codes(await res.json())).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });
});

describe('Gateway API: partial data when a source fails', () => {
  it('answers a malformed source row as null with a coded error, and the rest of the request', async () => {
    const crm = personInAllFour.find((r) => r.source === 'crm')!;
    const original = await world.dbs.crm.db('crm_contacts').where({ contact_id: crm.recordId }).first();
    await world.dbs.crm.db('crm_contacts').where({ contact_id: crm.recordId }).update({ created_at: 'not a time' });
    try {
      const { status, body } = await world.query(ALL, { id: customerId });
      expect(status).toBe(200);
      expect(body.data.customer.crmContacts).toContain(null);
      const err = body.errors.find((e: any) => e.path.includes('crmContacts'));
      expect(err.extensions).toMatchObject({ code: 'SOURCE_BAD_RESPONSE', source: 'crm' });
      expect(body.data.customer.shopAccounts.length).toBeGreaterThan(0);
      expect(body.data.customer.scrmFollowers.length).toBeGreaterThan(0);
    } finally {
      await world.dbs.crm.db('crm_contacts').where({ contact_id: crm.recordId }).update({ created_at: original.created_at });
    }
  });
});

describe('Gateway API: a helpdesk that hangs', () => {
  // Short deadlines on purpose, in a world of their own: the other tests' sources must never time out.
  const SUPPORT_DEADLINE_MS = 300;
  const READINESS_DEADLINE_MS = 100;
  let hung: TestWorld;
  let hungCustomerId: string;

  beforeAll(async () => {
    hung = await startTestWorld({
      ...WORLD,
      configPatch: (raw) => {
        raw.sources.find((s: { name: string }) => s.name === 'support').timeoutMs = SUPPORT_DEADLINE_MS;
        raw.server.readinessTimeoutMs = READINESS_DEADLINE_MS;
      },
    });
    ({ customerId: hungCustomerId } = await personLinkedAcrossFour(hung));
    hung.support.setFaults({ hang: true });
  });

  afterAll(async () => {
    hung?.support.setFaults({});
    await hung?.close();
  });

  it('nulls only the support fields, with SOURCE_TIMEOUT', async () => {
    const { status, body } = await hung.query(ALL, { id: hungCustomerId });
    expect(status).toBe(200);
    const c = body.data.customer;
    expect(c.supportRequesters).toBeNull();
    expect(c.tickets).toBeNull();
    expect(c.crmContacts.length).toBeGreaterThan(0);
    expect(c.scrmFollowers.length).toBeGreaterThan(0);
    const supportErrors = body.errors.filter((e: any) => e.extensions.source === 'support');
    expect(supportErrors.length).toBeGreaterThan(0);
    expect(new Set(supportErrors.map((e: any) => e.extensions.code))).toEqual(new Set(['SOURCE_TIMEOUT']));
  });

  it('reports the hung helpdesk as TIMEOUT in /readyz once server.readinessTimeoutMs has passed', async () => {
    const ready = await fetch(`${hung.url}/readyz`);
    const { checks } = (await ready.json()) as { checks: Record<string, string> };
    // The probe's own deadline (300 ms) is longer than readiness allows (100 ms): readiness names it.
    // (OneID's probe is not asserted: 100 ms is short for it on a loaded machine.)
    expect(checks.support).toBe('TIMEOUT');
  });
});

describe('Gateway API: operations endpoints', () => {
  it('answers /healthz and /readyz with each dependency checked', async () => {
    expect((await fetch(`${world.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${world.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).checks).toEqual({ oneid: 'ok', crm: 'ok', orders: 'ok', support: 'ok', scrm: 'ok', wecom: 'ok', marketplace: 'ok' });
  });

  it('answers HEAD on /healthz, /readyz and /metrics as it answers GET, without a body', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const get = await fetch(`${world.url}${path}`);
      const head = await fetch(`${world.url}${path}`, { method: 'HEAD' });
      expect({ path, status: head.status, type: head.headers.get('content-type') }).toEqual({ path, status: get.status, type: get.headers.get('content-type') });
      expect(await head.text()).toBe('');
      if (path === '/healthz') expect(head.headers.get('content-length')).toBe(String((await get.text()).length));
      else await get.text();
    }
  });

  it('refuses a method an endpoint does not serve with 405, an allow header and a code', async () => {
    const endpoints: Array<[string, string[], string]> = [
      ['/healthz', ['POST', 'PUT', 'DELETE'], 'GET, HEAD'],
      ['/readyz', ['POST', 'PUT', 'DELETE'], 'GET, HEAD'],
      ['/metrics', ['POST', 'PUT', 'DELETE'], 'GET, HEAD'],
      ['/graphql', ['PUT', 'DELETE', 'PATCH'], 'GET, POST'],
      ['/graphql/stream', ['PUT', 'DELETE'], 'GET, POST'],
      ['/webhooks/scrm', ['GET', 'PUT'], 'POST'],
      ['/export/customers.ndjson', ['POST', 'PUT', 'DELETE'], 'GET'],
    ];
    for (const [path, methods, allow] of endpoints) {
      for (const method of methods) {
        const res = await fetch(`${world.url}${path}`, { method, headers: { 'x-api-key': apiKeyFor('admin') } });
        const body = (await res.json()) as any;
        expect({ path, method, status: res.status, allow: res.headers.get('allow') }).toEqual({ path, method, status: 405, allow });
        expect(body.errors?.[0]?.extensions.code ?? body.error?.code).toBe('BAD_REQUEST');
      }
    }
  });

  it('answers an unknown path with 404 NOT_FOUND, in the errors shape of the other refusals', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/graphql/'],
      ['GET', '/healthz/x'],
      ['DELETE', '/'],
    ]) {
      const res = await fetch(`${world.url}${path}`, { method });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      expect(await res.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'NOT_FOUND' } }] });
    }
  });

  it('reports a source that is down in /readyz without going unready', async () => {
    world.support.setFaults({ status: 503 });
    try {
      const ready = await fetch(`${world.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as any).checks.support).toBe('SOURCE_UNAVAILABLE');
    } finally {
      world.support.setFaults({});
    }
  });
});
