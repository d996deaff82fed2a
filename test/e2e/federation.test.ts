/**
 * Federation subgraph mode. c360 (test world, `server.federation: true`) and a small loyalty
 * subgraph that extends `Customer @key(fields: "id")` with `loyaltyPoints` are composed into a
 * supergraph (the Guild's federation composition, from c360's `_service { sdl }` fetched with a
 * role's key) and served by a real router (Hive Gateway's runtime) on 127.0.0.1, which forwards
 * each client's `x-api-key` to c360. Calls are counted at c360's connector boundary: the router's
 * `_entities` fetch for N customers costs one call per source operation, like `customers(ids:)`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { makeExecutableSchema } from '@graphql-tools/schema';
import {
  buildASTSchema,
  buildClientSchema,
  getIntrospectionQuery,
  graphql,
  GraphQLObjectType,
  GraphQLSchema,
  Kind,
  lexicographicSortSchema,
  parse,
  printSchema,
} from 'graphql';
import { pruneSchema } from '@graphql-tools/utils';
import { composeServices } from '@theguild/federation-composition';
import { apiKeyFor, callsByOperation, readTruth, startTestWorld, TEST_ROLES, type TestRole, type TestWorld } from '../helpers/world';
import type { SourceName } from '../../src/vocabulary';

/** The loyalty service's subgraph SDL (what its `_service { sdl }` answers). */
const LOYALTY_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

"A customer as the loyalty programme knows them: c360's unified id."
type Customer @key(fields: "id") {
  id: ID!
  "Points balance."
  loyaltyPoints: Int
}

type Query {
  "The members with the most points, best first."
  topMembers(first: Int = 10): [Customer!]!
}
`;

interface Loyalty {
  url: string;
  /** Representations per `_entities` call the service received. */
  entityCalls: number[];
  close(): Promise<void>;
}

/** A second subgraph, written as a team would with graphql-js: its own `_service` and `_entities`. */
async function startLoyalty(points: Map<string, number>): Promise<Loyalty> {
  const entityCalls: number[] = [];
  const members = [...points].sort((a, b) => b[1] - a[1]).map(([id]) => ({ id }));
  const schema: GraphQLSchema = makeExecutableSchema({
    typeDefs: `
      type Customer { id: ID! loyaltyPoints: Int }
      type Query { topMembers(first: Int = 10): [Customer!]! _service: _Service! _entities(representations: [_Any!]!): [_Entity]! }
      scalar _Any
      union _Entity = Customer
      type _Service { sdl: String }`,
    resolvers: {
      Query: {
        topMembers: (_: unknown, { first }: { first: number }) => members.slice(0, first),
        _service: () => ({ sdl: LOYALTY_SDL }),
        _entities: (_: unknown, { representations }: { representations: Array<{ __typename: string; id: string }> }) => {
          entityCalls.push(representations.length);
          return representations.map((r) => (r.__typename === 'Customer' && points.has(r.id) ? { id: r.id } : null));
        },
      },
      _Entity: { __resolveType: () => 'Customer' },
      Customer: { loyaltyPoints: (c: { id: string }) => points.get(c.id) ?? null },
    },
  });
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const { query, variables } = JSON.parse(body || '{}');
      const result = await graphql({ schema, source: query, variableValues: variables });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    entityCalls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * Hive Gateway's runtime, loaded without its type declarations: they augment graphql's
 * `GraphQLErrorExtensions` (Yoga's `http.headers` as a record), which would retype the whole
 * project's errors (Apollo takes a Map there). The part this test uses, typed here.
 */
type CreateGatewayRuntime = (options: {
  supergraph: string;
  logging: boolean;
  propagateHeaders: { fromClientToSubgraphs: (payload: { request: Request; subgraphName: string }) => Record<string, string | null | undefined> };
}) => http.RequestListener & { dispose(): Promise<void> | void };
const { createGatewayRuntime } = createRequire(__filename)('@graphql-hive/gateway') as { createGatewayRuntime: CreateGatewayRuntime };

interface Router {
  url: string;
  close(): Promise<void>;
}

/** The supergraph served by Hive Gateway's runtime; the caller's key goes to c360 only. */
async function startRouter(supergraph: string): Promise<Router> {
  const gateway = createGatewayRuntime({
    supergraph,
    logging: false,
    propagateHeaders: {
      fromClientToSubgraphs: ({ request, subgraphName }) => (subgraphName === 'c360' ? { 'x-api-key': request.headers.get('x-api-key') } : {}),
    },
  });
  const server = http.createServer(gateway);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await gateway.dispose();
    },
  };
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}, role: TestRole = 'admin') {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': apiKeyFor(role) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Calls made once per cache lifetime (access tokens, RFM boundaries), not per query. */
const CACHED = new Set(['scrm.token', 'wecom.token', 'orders.rfmBoundaries', 'marketplace.rfmBoundaries']);
/** Operations that read several endpoints of their system per batch (see test/e2e/batching.test.ts). */
const ENDPOINTS_PER_CHUNK: Record<string, number> = { 'marketplace.orderSummariesByBuyerIds': 2, 'marketplace.eventsByBuyerIds': 2 };

let world: TestWorld;
let loyalty: Loyalty;
let router: Router;
let members: string[];
let supergraph: string;
const MEMBERS = 30;

beforeAll(async () => {
  world = await startTestWorld({ people: 200, seed: 5, configPatch: (raw) => (raw.server.federation = true) });
  const truth = readTruth(world.truthFile);
  const keys = [...truth.values()].map((records) => ({ source: records[0].source as SourceName, recordId: records[0].recordId }));
  const ids = [...new Set((await world.gw.idmap.customerIdsBySourceRecords(keys)).filter((id): id is string => id !== null))];
  members = ids.slice(0, MEMBERS);
  loyalty = await startLoyalty(new Map(members.map((id, i) => [id, 10_000 - i * 100])));

  // c360's SDL as the broadest role sees it; each caller's own role is enforced by c360 at execution.
  const { body } = await post(`${world.url}/graphql`, '{ _service { sdl } }');
  const composed = composeServices([
    { name: 'c360', typeDefs: parse(body.data._service.sdl), url: `${world.url}/graphql` },
    { name: 'loyalty', typeDefs: parse(LOYALTY_SDL), url: loyalty.url },
  ]);
  if (!composed.supergraphSdl) throw new Error(`composition failed:\n${(composed.errors ?? []).map((e) => e.message).join('\n')}`);
  supergraph = composed.supergraphSdl;
  router = await startRouter(supergraph);
});

afterAll(async () => {
  await router?.close();
  await loyalty?.close();
  await world?.close();
});

const ACROSS = `query Top($n: Int) { topMembers(first: $n) { id loyaltyPoints name orderSummary { orderCount } } }`;
const DIRECT = `query Direct($ids: [ID!]!) { customers(ids: $ids) { id name orderSummary { orderCount } } }`;

describe('Federation: subgraph SDL', () => {
  it('answers each role its own SDL with the entity key and without the federation fields', async () => {
    const admin = (await post(`${world.url}/graphql`, '{ _service { sdl } }')).body.data._service.sdl as string;
    const marketing = (await post(`${world.url}/graphql`, '{ _service { sdl } }', {}, 'marketing')).body.data._service.sdl as string;
    for (const sdl of [admin, marketing]) {
      expect(sdl).toContain('extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])');
      expect(sdl).toMatch(/type Customer @key\(fields: "id"\) \{/);
      expect(sdl).not.toMatch(/_entities|_service|_Any|_Entity|_Service/);
      // The change feed is c360's own (SSE); a router is not offered a subscription it could not run.
      expect(sdl).not.toContain('type Subscription');
    }
    // What a role may not query is absent from its SDL, as from its introspection.
    expect(admin).toMatch(/^\s+tickets\(/m);
    expect(marketing).not.toMatch(/^\s+tickets\(/m);
    expect(admin).toMatch(/^\s+mergeCustomers\(/m);
    expect(marketing).not.toMatch(/^\s+mergeCustomers\(/m);
  });

  it("prints the SDL with the README's command", async () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes('_service { sdl }'));
    expect(blocks).toHaveLength(1);
    const command = blocks[0].replaceAll('http://127.0.0.1:4000', world.url).replaceAll('demo-admin-key', apiKeyFor('admin'));
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', command], { encoding: 'utf8', timeout: 60_000 });
    const { body } = await post(`${world.url}/graphql`, '{ _service { sdl } }');
    expect(stdout.trim()).toBe(body.data._service.sdl.trim());
  });

  it('composes for every role, with a subgraph that extends Customer and one that also defines Money', async () => {
    // An organisation's payments subgraph with its own Money value type, shared as Federation v2 asks.
    const payments = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@shareable"])
      type Money @shareable { amount: String! currency: String! }
      type Query { balance: Money }`;
    // Every role the policy configures, none left out.
    expect([...world.gw.access.policy.roles.keys()].sort()).toEqual([...TEST_ROLES].sort());
    for (const role of TEST_ROLES) {
      const sdl = (await post(`${world.url}/graphql`, '{ _service { sdl } }', {}, role)).body.data._service.sdl as string;
      const composed = composeServices([
        { name: 'c360', typeDefs: parse(sdl), url: `${world.url}/graphql` },
        { name: 'loyalty', typeDefs: parse(LOYALTY_SDL), url: loyalty.url },
        { name: 'payments', typeDefs: parse(payments), url: 'http://127.0.0.1:9/graphql' },
      ]);
      expect({ role, errors: (composed.errors ?? []).map((e) => e.message) }).toEqual({ role, errors: [] });
      expect(composed.supergraphSdl).toMatch(/type Money @join__type\(graph: C360\)\s*@join__type\(graph: PAYMENTS\)/);
    }
    // A Money of another shape is reported at composition, not merged.
    const other = composeServices([
      { name: 'c360', typeDefs: parse((await post(`${world.url}/graphql`, '{ _service { sdl } }')).body.data._service.sdl), url: `${world.url}/graphql` },
      { name: 'payments', typeDefs: parse(payments.replace('amount: String!', 'amount: Float!')), url: 'http://127.0.0.1:9/graphql' },
    ]);
    expect((other.errors ?? []).map((e) => e.message).join('\n')).toMatch(/Money\.amount/);
  });

  it("shows each role in its SDL exactly what that role's introspection shows", async () => {
    for (const role of TEST_ROLES) {
      const sdl = (await post(`${world.url}/graphql`, '{ _service { sdl } }', {}, role)).body.data._service.sdl as string;
      const introspected = buildClientSchema((await post(`${world.url}/graphql`, getIntrospectionQuery(), {}, role)).body.data);
      const doc = parse(sdl);
      const fromSdl = buildASTSchema({ ...doc, definitions: doc.definitions.filter((d) => d.kind !== Kind.SCHEMA_EXTENSION) }, { assumeValid: true });
      // Introspection less what the SDL leaves out on purpose: the federation fields and the subscription root.
      const config = introspected.toConfig();
      const queryConfig = introspected.getQueryType()!.toConfig();
      const fields = Object.fromEntries(Object.entries(queryConfig.fields).filter(([name]) => name !== '_service' && name !== '_entities'));
      const shown = pruneSchema(
        new GraphQLSchema({
          ...config,
          query: new GraphQLObjectType({ ...queryConfig, fields }),
          subscription: undefined,
          types: config.types.filter((t) => !['Query', '_Any', '_Entity', '_Service'].includes(t.name)),
        }),
      );
      expect({ role, sdl: printSchema(lexicographicSortSchema(fromSdl)) }).toEqual({ role, sdl: printSchema(lexicographicSortSchema(shown)) });
    }
  });

  it('composes with another subgraph that extends Customer', () => {
    // Customer is an entity of both subgraphs, keyed by id in each.
    expect(supergraph).toMatch(/type Customer @join__type\(graph: C360, key: "id"\)\s*@join__type\(graph: LOYALTY, key: "id"\)/);
    expect(supergraph).toMatch(/loyaltyPoints: Int @join__field\(graph: LOYALTY\)/);
  });
});

describe('Federation: _entities on c360', () => {
  it('answers a Customer representation as customers(ids:) does, masks and nulls included', async () => {
    const reps = members.slice(0, 5).map((id) => ({ __typename: 'Customer', id }));
    const entities = `query E($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name orderSummary { orderCount } } } }`;
    for (const role of ['admin', 'marketing', 'sales'] as const) {
      const viaEntities = await post(`${world.url}/graphql`, entities, { r: [...reps, { __typename: 'Customer', id: 'no-such-customer' }] }, role);
      const direct = await post(`${world.url}/graphql`, DIRECT, { ids: [...members.slice(0, 5), 'no-such-customer'] }, role);
      expect(viaEntities.body.errors).toBeUndefined();
      expect(viaEntities.body.data._entities).toEqual(direct.body.data.customers);
    }
  });

  it('audits unmasked personal reads under each entity, as customers(ids:) does', async () => {
    const ids = members.slice(0, 6);
    const names = (await post(`${world.url}/graphql`, DIRECT, { ids })).body.data.customers.map((c: any) => c?.name ?? null);
    const { body } = await post(
      `${world.url}/graphql`,
      `query AuditedEntities($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name } } }`,
      { r: ids.map((id) => ({ __typename: 'Customer', id })) },
      'support',
    );
    expect(body.errors).toBeUndefined();
    expect(names.filter(Boolean).length).toBeGreaterThan(0);
    const entries = (await world.gw.access.auditLog.query({ principal: 'test-support', first: 500 })).filter((e) => e.operationName === 'AuditedEntities');
    expect(new Set(entries.filter((e) => e.fields.includes('Customer.name')).map((e) => e.customerId))).toEqual(new Set(ids.filter((_, i) => names[i] !== null)));
  });

  it('refuses a field the role may not query, as customers(ids:) does', async () => {
    const reps = [{ __typename: 'Customer', id: members[0] }];
    const viaEntities = await post(
      `${world.url}/graphql`,
      `query E($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id tickets { id } } } }`,
      { r: reps },
      'marketing',
    );
    const direct = await post(`${world.url}/graphql`, `query D($ids: [ID!]!) { customers(ids: $ids) { id tickets { id } } }`, { ids: [members[0]] }, 'marketing');
    expect(viaEntities.status).toBe(direct.status);
    expect(viaEntities.body.errors.map((e: any) => [e.message, e.extensions.code])).toEqual(direct.body.errors.map((e: any) => [e.message, e.extensions.code]));
    expect(viaEntities.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses representations of other types and more than the role may ask for, before any source is called', async () => {
    world.reset();
    const other = await post(`${world.url}/graphql`, `query E($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name } } }`, {
      r: [{ __typename: 'Order', id: 'x' }],
    });
    expect(other.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'representations' });
    const many = Array.from({ length: 51 }, (_, i) => ({ __typename: 'Customer', id: `c${i}` }));
    const tooMany = await post(`${world.url}/graphql`, `query E($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id } } }`, { r: many }, 'support');
    expect(tooMany.body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxIds', max: 50, actual: 51 });
    expect(world.calls.calls).toEqual([]);
  });

  it('answers every representation at its own index: a bad one is null with its coded error there, the rest stand', async () => {
    world.reset();
    const [a, b, c] = members;
    const r = [
      { __typename: 'Customer', id: a },
      { __typename: 'Order', id: 'x' }, // a type this subgraph does not resolve
      { __typename: 'Customer' }, // no key
      { __typename: 'Customer', id: 42 }, // a key of the wrong type
      { __typename: 'Customer', id: b, name: 'sent along', extra: { nested: true } }, // fields beyond the key are ignored
      { __typename: 'Customer', id: a }, // the same entity twice: answered twice
      { __typename: 'Customer', id: 'no-such-customer' },
      { __typename: 'Customer', id: c },
    ];
    const { status, body } = await post(
      `${world.url}/graphql`,
      `query Reps($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name } } }`,
      { r },
      'support',
    );
    // One OneID round for all of them, as customers(ids:) makes.
    expect(world.idmapCalls.filter((call) => call.method === 'customersByIds')).toHaveLength(1);
    const direct = await post(`${world.url}/graphql`, DIRECT, { ids: [a, b, c] }, 'support');
    const [da, db, dc] = direct.body.data.customers.map((x: any) => ({ id: x.id, name: x.name }));
    expect(status).toBe(200);
    expect(body.data._entities).toEqual([da, null, null, null, db, da, null, dc]);
    expect(body.errors.map((e: any) => [e.path, e.extensions.code, e.extensions.index])).toEqual([
      [['_entities', 1], 'BAD_USER_INPUT', 1],
      [['_entities', 2], 'BAD_USER_INPUT', 2],
      [['_entities', 3], 'BAD_USER_INPUT', 3],
    ]);
    // The audit names the customers read, each under its own representation.
    const entries = (await world.gw.access.auditLog.query({ principal: 'test-support', first: 500 })).filter((e) => e.operationName === 'Reps');
    expect(new Set(entries.filter((e) => e.fields.includes('Customer.name')).map((e) => e.customerId))).toEqual(
      new Set([da, db, dc].filter((x) => x.name !== null).map((x) => x.id)),
    );
  });

  it('answers an empty list, and only errors when no representation is a Customer, without reading anything', async () => {
    world.reset();
    const q = `query E($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name } } }`;
    expect((await post(`${world.url}/graphql`, q, { r: [] })).body).toMatchObject({ data: { _entities: [] } });
    const bad = await post(`${world.url}/graphql`, q, { r: ['Customer:1', { __typename: 'Customer', id: '' }] });
    expect(bad.body.data._entities).toEqual([null, null]);
    expect(bad.body.errors.map((e: any) => [e.path, e.extensions.code])).toEqual([
      [['_entities', 0], 'BAD_USER_INPUT'],
      [['_entities', 1], 'BAD_USER_INPUT'],
    ]);
    expect(world.idmapCalls).toEqual([]);
    expect(world.calls.calls).toEqual([]);
  });
});

describe('Federation: _entities limits', () => {
  it('costs what customers(ids:) costs for as many ids, and is refused before execution past the budget', async () => {
    world.reset();
    // Within support's 50 ids, but 50 times an order history of 100 is over its cost budget (10 times would not be).
    const ids = [...members, ...Array.from({ length: 50 - members.length }, (_, i) => `unknown-${i}`)];
    const selection = 'id orders(first: 100) { id lines { sku name } refunds { id } }';
    const viaEntities = await post(
      `${world.url}/graphql`,
      `query E($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { ${selection} } } }`,
      { r: ids.map((id) => ({ __typename: 'Customer', id })) },
      'support',
    );
    const direct = await post(`${world.url}/graphql`, `query D($ids: [ID!]!) { customers(ids: $ids) { ${selection} } }`, { ids }, 'support');
    expect(direct.body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxCost' });
    expect(viaEntities.status).toBe(direct.status);
    expect(viaEntities.body.errors[0].extensions).toEqual(direct.body.errors[0].extensions);
    // Inside a fragment too.
    const inFragment = await post(
      `${world.url}/graphql`,
      `query E($r: [_Any!]!) { ...Root } fragment Root on Query { _entities(representations: $r) { ... on Customer { ${selection} } } }`,
      { r: ids.map((id) => ({ __typename: 'Customer', id })) },
      'support',
    );
    expect(inFragment.body.errors[0].extensions).toEqual(direct.body.errors[0].extensions);
    // The representations as the variable's default, the request sending none: measured the same.
    const literal = ids.map((id) => `{ __typename: "Customer", id: ${JSON.stringify(id)} }`).join(', ');
    const byDefault = await post(
      `${world.url}/graphql`,
      `query E($r: [_Any!]! = [${literal}]) { _entities(representations: $r) { ... on Customer { ${selection} } } }`,
      {},
      'support',
    );
    expect(byDefault.body.errors?.[0].extensions).toEqual(direct.body.errors[0].extensions);
    expect(world.calls.calls).toEqual([]);
    expect(world.idmapCalls).toEqual([]);
  });
});

describe('Federation: through a router', () => {
  it('answers a query across both subgraphs with one call per source operation for all entities', async () => {
    world.reset();
    const { status, body } = await post(router.url, ACROSS, { n: MEMBERS });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    const calls = callsByOperation(world);
    const idmapCalls = world.idmapCalls.map((c) => c.method);

    const direct = await post(`${world.url}/graphql`, DIRECT, { ids: members });
    expect(body.data.topMembers).toEqual(
      members.map((id, i) => ({ id, loyaltyPoints: 10_000 - i * 100, name: direct.body.data.customers[i].name, orderSummary: direct.body.data.customers[i].orderSummary })),
    );
    expect(body.data.topMembers.filter((m: any) => m.name).length).toBeGreaterThan(MEMBERS / 2);

    // One OneID round for the entities, one call per source operation (chunked only by a system's batch limit).
    expect(idmapCalls.filter((m) => m === 'customersByIds')).toHaveLength(1);
    expect(calls.size).toBeGreaterThan(0);
    for (const [op, g] of calls) {
      if (CACHED.has(op)) continue;
      const maxBatch = world.gw.registry.get(g.source)!.connector.maxBatch;
      const endpoints = ENDPOINTS_PER_CHUNK[op] ?? 1;
      // 30 customers fit in one chunk of every system: one call per operation (per endpoint it reads).
      expect({ op, calls: g.calls }).toEqual({ op, calls: endpoints * Math.ceil(g.keys / endpoints / maxBatch) });
      expect({ op, calls: g.calls }).toEqual({ op, calls: endpoints });
    }
  });

  it('resolves loyalty fields on customers found through c360', async () => {
    loyalty.entityCalls.length = 0;
    const { body } = await post(router.url, `query($ids: [ID!]!) { customers(ids: $ids) { id loyaltyPoints } }`, { ids: members.slice(0, 3) });
    expect(body.errors).toBeUndefined();
    expect(body.data.customers).toEqual(members.slice(0, 3).map((id, i) => ({ id, loyaltyPoints: 10_000 - i * 100 })));
    expect(loyalty.entityCalls).toEqual([3]);
  });

  it("passes on a c360 source's coded failure and keeps the rest: loyalty's data and c360's other sources", async () => {
    world.reset();
    world.support.setFaults({ status: 503 });
    try {
      const { status, body } = await post(router.url, `{ topMembers(first: 10) { id loyaltyPoints name tickets { id } } }`);
      expect(status).toBe(200);
      expect(new Set(body.errors.map((e: any) => `${e.extensions.serviceName} ${e.extensions.code} ${e.extensions.source}`))).toEqual(
        new Set(['c360 SOURCE_UNAVAILABLE support']),
      );
      const direct = await post(`${world.url}/graphql`, DIRECT, { ids: members.slice(0, 10) });
      expect(body.data.topMembers.map((m: any) => [m.id, m.loyaltyPoints, m.name])).toEqual(
        members.slice(0, 10).map((id, i) => [id, 10_000 - i * 100, direct.body.data.customers[i].name]),
      );
      // Each customer with support records has null tickets (the others an empty list): one error each.
      expect(body.data.topMembers.filter((m: any) => m.tickets === null)).toHaveLength(body.errors.length);
      expect(body.data.topMembers.some((m: any) => m.tickets === null)).toBe(true);
    } finally {
      world.support.setFaults({});
    }
  });

  it('audits the entities read through the router under the caller and its operation, within its row scope', async () => {
    for (const role of ['support', 'sales'] as const) {
      const { body } = await post(router.url, `query Routed { topMembers(first: ${MEMBERS}) { id loyaltyPoints name } }`, {}, role);
      expect(body.errors).toBeUndefined();
      const read = body.data.topMembers.filter((m: any) => m.name !== null).map((m: any) => m.id);
      expect(read.length).toBeGreaterThan(0);
      const entries = (await world.gw.access.auditLog.query({ principal: `test-${role}`, first: 500 })).filter((e) => e.operationName === 'Routed');
      expect(entries.map((e) => e.customerId).sort()).toEqual([...read].sort());
      expect(new Set(entries.flatMap((e) => e.fields))).toEqual(new Set(['Customer.name']));
    }
  });

  it("applies the caller's role: masks, row scope and refusals are c360's own", async () => {
    for (const role of ['marketing', 'sales'] as const) {
      const routed = await post(router.url, `query Top($n: Int) { topMembers(first: $n) { id loyaltyPoints name } }`, { n: MEMBERS }, role);
      const direct = await post(`${world.url}/graphql`, `query D($ids: [ID!]!) { customers(ids: $ids) { id name } }`, { ids: members }, role);
      expect(routed.body.errors).toBeUndefined();
      // Masked for marketing; for sales, customers outside its teams are null in c360, so their c360 fields are null.
      expect(routed.body.data.topMembers.map((m: any) => m.name)).toEqual(direct.body.data.customers.map((c: any) => c?.name ?? null));
    }
    const sales = await post(`${world.url}/graphql`, `query D($ids: [ID!]!) { customers(ids: $ids) { id } }`, { ids: members }, 'sales');
    expect(sales.body.data.customers.some((c: unknown) => c === null)).toBe(true);

    world.reset();
    const refused = await post(router.url, `{ topMembers(first: 3) { id loyaltyPoints tickets { id } } }`, {}, 'marketing');
    // c360 refuses it in validation, as it would refuse customers(ids:) { tickets }; the router keeps loyalty's part.
    expect(new Set(refused.body.errors.map((e: any) => `${e.extensions.serviceName} ${e.extensions.code} ${e.message}`))).toEqual(
      new Set(['c360 GRAPHQL_VALIDATION_FAILED Cannot query field "tickets" on type "Customer".']),
    );
    expect(refused.body.data.topMembers.map((m: any) => [m.loyaltyPoints, m.tickets])).toEqual([
      [10_000, null],
      [9_900, null],
      [9_800, null],
    ]);
    expect(world.calls.calls).toEqual([]);
  });
});

describe('Federation: off (the default)', () => {
  let plain: TestWorld;
  beforeAll(async () => {
    plain = await startTestWorld({ people: 20, seed: 5, demoSystems: false });
  });
  afterAll(async () => plain?.close());

  it('shows no federation field or type to any role, and refuses them in validation', async () => {
    for (const role of TEST_ROLES) {
      const { body } = await post(`${plain.url}/graphql`, '{ __schema { queryType { fields { name } } types { name } } }', {}, role);
      const names = [...body.data.__schema.queryType.fields.map((f: any) => f.name), ...body.data.__schema.types.map((t: any) => t.name)];
      expect({ role, federation: names.filter((n) => ['_service', '_entities', '_Any', '_Entity', '_Service'].includes(n)) }).toEqual({ role, federation: [] });
      const refused = await post(`${plain.url}/graphql`, `{ _service { sdl } }`, {}, role);
      expect(refused.body.errors.map((e: any) => e.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    }
  });
});
