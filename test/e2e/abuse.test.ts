/**
 * Abuse over real HTTP (issue 11, finding 3): documents built to make parsing or validation
 * expensive are refused cheaply, before validation, with QUERY_TOO_COMPLEX, and call no source
 * and no OneID; /healthz keeps answering while several are sent at once; each principal's
 * requests per minute and requests in flight are capped with 429 RATE_LIMITED before any
 * GraphQL work. Counts calls, never times anything.
 */
import { startTestWorld, readTruth, apiKeyFor, type TestWorld } from '../helpers/world';
import type { SourceName } from '../../src/vocabulary';
import { rawRequest, UNPARSABLE_TARGETS } from '../helpers/raw-http';

/** Roles added to a copy of the policy for the caps: the support role with one limit tightened. */
const LIMITED_ROLES = {
  throttled: { extends: 'support', description: 'support, 3 requests a minute', limits: { requestsPerMinute: 3 } },
  serial: { extends: 'support', description: 'support, one request in flight', limits: { maxConcurrent: 1 } },
  guesser: { extends: 'support', description: 'support as configured: its own key, so its lookup budget is its own' },
};
const KEYS = { throttled: 'test-throttled-key', serial: 'test-serial-key', serial2: 'test-serial-key-2', guesser: 'test-guesser-key' };

let world: TestWorld;
/** A customer with a helpdesk record, so a support query really calls the helpdesk. */
let customerId: string;

beforeAll(async () => {
  world = await startTestWorld({
    people: 100,
    demoSystems: false,
    extraRoles: {
      throttled: { role: LIMITED_ROLES.throttled, keys: [KEYS.throttled] },
      serial: { role: LIMITED_ROLES.serial, keys: [KEYS.serial, KEYS.serial2] },
      guesser: { role: LIMITED_ROLES.guesser, keys: [KEYS.guesser] },
    },
    configPatch: (raw) => {
      // The in-flight test holds a helpdesk request until this deadline: short on purpose.
      raw.sources.find((source: { name: string }) => source.name === 'support').timeoutMs = 5000;
    },
  });
  for (const records of readTruth(world.truthFile).values()) {
    const support = records.find((r) => r.source === 'support');
    if (!support) continue;
    const [id] = await world.gw.idmap.customerIdsBySourceRecords([{ source: support.source as SourceName, recordId: support.recordId }]);
    if (id) {
      customerId = id;
      break;
    }
  }
});

afterAll(async () => {
  await world?.close();
});

const codes = (body: any): string[] => (body.errors ?? []).map((e: any) => e.extensions?.code);

async function post(query: string, variables: Record<string, unknown> = {}, key = apiKeyFor('admin')) {
  const res = await fetch(`${world.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as any };
}

// ---------------------------------------------------------------------------------------------
// Abusive documents
// ---------------------------------------------------------------------------------------------

/** 5,000 aliased root fields, ten tokens each: 50,000 tokens. */
const ALIASES_5000 = () => `query Aliases($id: ID!) { ${Array.from({ length: 5000 }, (_, i) => `a${i}: customer(id: $id) { id }`).join(' ')} }`;
/** 5,000 aliases in 15,000 tokens: within the token limit, so it is the alias count that refuses it. */
const ALIASES_5000_COMPACT = () => `query Aliases($id: ID!) { customer(id: $id) { ${Array.from({ length: 5000 }, (_, i) => `a${i}: id`).join(' ')} } }`;
/** 200,000 fields. */
const FIELDS_200K = () => `query Fields($id: ID!) { customer(id: $id) { ${'id '.repeat(200_000)}} }`;
/** 5,000 fields in 5,000 tokens: the field count refuses it. */
const FIELDS_5000 = () => `query Fields($id: ID!) { customer(id: $id) { ${'id '.repeat(5000)}} }`;
/** About 50,000 tokens, most of them one list argument. */
const TOKENS_50K = () => `query Tokens { customers(ids: [${Array.from({ length: 50_000 }, (_, i) => `"c${i}"`).join(' ')}]) { id } }`;
/** 2^40 fields in under 400 tokens: fragments spreading fragments. */
const FRAGMENT_BOMB = () => {
  let doc = 'query Bomb($id: ID!) { customer(id: $id) { ...F40 } }\nfragment F0 on Customer { id }\n';
  for (let i = 1; i <= 40; i++) doc += `fragment F${i} on Customer { ...F${i - 1} ...F${i - 1} }\n`;
  return doc;
};

describe('Abuse: expensive documents are refused before validation', () => {
  const cases: Array<[string, () => string, Record<string, unknown>]> = [
    ['5,000 aliases', ALIASES_5000, { limit: 'maxTokens', max: 20_000 }],
    ['5,000 aliases in few tokens', ALIASES_5000_COMPACT, { limit: 'maxAliases', max: 100, actual: 5000 }],
    ['200,000 fields', FIELDS_200K, { limit: 'maxTokens', max: 20_000 }],
    ['5,000 fields in few tokens', FIELDS_5000, { limit: 'maxFields', max: 2000, actual: 5001 }],
    ['50,000 tokens', TOKENS_50K, { limit: 'maxTokens', max: 20_000 }],
    ['2^40 fields through fragments', FRAGMENT_BOMB, { limit: 'maxFields', max: 2000, actual: 1 + 2 ** 40 }],
  ];

  it.each(cases)('refuses %s with QUERY_TOO_COMPLEX, calling no source and no OneID', async (_name, query, extensions) => {
    world.reset();
    const { status, body } = await post(query(), { id: customerId });
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(codes(body)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(body.errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', ...extensions });
    expect(world.calls.calls).toEqual([]);
    expect(world.idmapCalls).toEqual([]);
  });

  it('names the limit and the value in the message', async () => {
    expect((await post(TOKENS_50K())).body.errors[0].message).toBe('Query has more than 20000 tokens; the limit is 20000');
    expect((await post(ALIASES_5000_COMPACT(), { id: customerId })).body.errors[0].message).toBe('Query uses 5000 aliases; the limit is 100');
    expect((await post(FIELDS_5000(), { id: customerId })).body.errors[0].message).toBe('Query selects 5001 fields; the limit is 2000');
  });

  it('still answers an ordinary query, and refuses an ordinary invalid one as before', async () => {
    const ok = await post('query($id: ID!) { customer(id: $id) { id supportRequesters { id } } }', { id: customerId });
    expect(ok.body.errors).toBeUndefined();
    expect(ok.body.data.customer.id).toBe(customerId);
    const syntax = await post('{ customer(id: "x") { id }');
    expect(codes(syntax.body)).toEqual(['GRAPHQL_PARSE_FAILED']);
    const invalid = await post('{ customer(id: "x") { nope } }');
    expect(codes(invalid.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('answers /healthz while eight abusive requests are in flight', async () => {
    world.reset();
    const abusive = [ALIASES_5000, FIELDS_200K, TOKENS_50K, FRAGMENT_BOMB, ALIASES_5000_COMPACT, FIELDS_5000, ALIASES_5000, FIELDS_200K].map((q) =>
      post(q(), { id: customerId }),
    );
    const health = await fetch(`${world.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    for (const r of await Promise.all(abusive)) {
      expect(r.status).toBe(400);
      expect(codes(r.body)).toEqual(['QUERY_TOO_COMPLEX']);
    }
    expect(world.calls.calls).toEqual([]);
    expect(world.idmapCalls).toEqual([]);
  });
});

describe('Abuse: request targets no URL parses', () => {
  it.each(UNPARSABLE_TARGETS)('answers "%s" with 400 BAD_REQUEST and keeps serving', async (line) => {
    const res = await rawRequest(world.url, line);
    expect(res.status).toBe(400);
    expect(res.body).toContain('"code":"BAD_REQUEST"');
    const health = await fetch(`${world.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it.each(['support', 'scrm'] as const)('the %s stand-in answers them with 400 and keeps serving', async (name) => {
    for (const line of UNPARSABLE_TARGETS) expect((await rawRequest(world[name].url, line)).status).toBe(400);
    // Still serving: the connector's health call (a real request to the stand-in) succeeds.
    await expect(world.gw.registry.sources.find((s) => s.name === name)!.connector.health()).resolves.toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Per-principal caps
// ---------------------------------------------------------------------------------------------

describe('Abuse: requests per minute and in flight, per principal', () => {
  const SUPPORT_QUERY = 'query Support($id: ID!) { customer(id: $id) { id supportRequesters { id } } }';

  it('answers the 4th request of a minute with 429, Retry-After and RATE_LIMITED, calling nothing', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await post('{ __typename }', {}, KEYS.throttled);
      expect(r.status).toBe(200);
    }
    world.reset();
    const supportRequests = world.support.requestCount();
    const refused = await post(SUPPORT_QUERY, { id: customerId }, KEYS.throttled);
    expect(refused.status).toBe(429);
    const retryAfter = refused.headers.get('retry-after');
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    expect(Number(retryAfter)).toBeLessThanOrEqual(20);
    expect(codes(refused.body)).toEqual(['RATE_LIMITED']);
    expect(refused.body.errors[0].extensions).toMatchObject({ limit: 'requestsPerMinute', max: 3, retryAfterSeconds: Number(retryAfter) });
    expect(refused.body.data).toBeUndefined();
    expect(world.calls.calls).toEqual([]);
    expect(world.idmapCalls).toEqual([]);
    expect(world.support.requestCount()).toBe(supportRequests);
    // Other principals are not affected.
    expect((await post('{ __typename }')).status).toBe(200);
  });

  it('refuses a second request in flight from the same key with 429; another key is unaffected', async () => {
    // The helpdesk holds its answer: the first request stays in flight until the connector gives up.
    world.support.setFaults({ hang: true });
    try {
      const before = world.support.requestCount();
      const slow = post(SUPPORT_QUERY, { id: customerId }, KEYS.serial);
      for (let i = 0; i < 3000 && world.support.requestCount() === before; i++) await new Promise((r) => setTimeout(r, 10));
      expect(world.support.requestCount()).toBeGreaterThan(before);

      const second = await post('{ __typename }', {}, KEYS.serial);
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(codes(second.body)).toEqual(['RATE_LIMITED']);
      expect(second.body.errors[0].extensions).toMatchObject({ limit: 'maxConcurrent', max: 1 });

      const otherKey = await post('{ __typename }', {}, KEYS.serial2);
      expect(otherKey.status).toBe(200);
      expect(otherKey.body.data).toEqual({ __typename: 'Query' });

      world.support.setFaults({});
      const first = await slow;
      expect(first.status).toBe(200);
      expect(first.body.data.customer.id).toBe(customerId);
    } finally {
      world.support.setFaults({});
    }
    // Answered, the first request has given its place back.
    expect((await post('{ __typename }', {}, KEYS.serial)).status).toBe(200);
  });
});

/**
 * Each lookup by a value answers whether someone holds it: a support key confirmed 3,000 phone
 * numbers in 3.3 s (100 requests of 30 aliases; session 41, 2026-12-06), bounded only by the
 * request budget (3,000 requests of 30 aliases a minute). `lookupsPerMinute` (default 60) bounds
 * the guesses themselves, per principal, before OneID is read.
 */
describe('Abuse: lookups by a value per principal', () => {
  /** One request of `n` aliased phone lookups, numbers nobody need hold. */
  const guesses = (from: number, n: number) =>
    `{ ${Array.from({ length: n }, (_, i) => `g${i}: customerByIdentifier(kind: PHONE, value: "+861390000${String(from + i).padStart(4, '0')}") { id }`).join(' ')} }`;
  const sample = async (labels: string) => {
    const line = (await (await fetch(`${world.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`c360_lookups_total{${labels}}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('answers a minute’s lookups, then 429 RATE_LIMITED with Retry-After before OneID is read; other requests and keys go on', async () => {
    for (const from of [0, 30]) {
      const r = await post(guesses(from, 30), {}, KEYS.guesser);
      expect([r.status, codes(r.body)]).toEqual([200, []]);
    }
    world.reset();
    const refused = await post(guesses(60, 1), {}, KEYS.guesser);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body.errors.map((e: any) => e.extensions)).toEqual([{ code: 'RATE_LIMITED', limit: 'lookupsPerMinute', max: 60, retryAfterSeconds: retryAfter }]);
    expect(refused.body.data).toBeUndefined();
    expect(world.idmapCalls).toEqual([]);
    expect(world.calls.calls).toEqual([]);
    // The same key may still read a customer by id; another key may still look up.
    expect((await post('query($id: ID!) { customer(id: $id) { id } }', { id: customerId }, KEYS.guesser)).status).toBe(200);
    expect((await post(guesses(60, 1), {}, apiKeyFor('support'))).status).toBe(200);
    expect([await sample('role="guesser",outcome="admitted"'), await sample('role="guesser",outcome="refused"')]).toEqual([60, 1]);
  });
});
