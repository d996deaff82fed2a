/**
 * The floor of `npm run bench:gateway`: the least a server can do to answer the bench's scenarios
 * with the same source calls and the same JSON as the gateway. graphql-js `execute` over a small
 * schema, each document parsed and validated once, one DataLoader per (source, operation) per
 * request, the same connectors (so the same SQL and HTTP requests) and the same survivorship
 * decision for golden fields. None of the gateway's features: no Apollo Server, no roles, masking,
 * audit, limits, rate limits, metrics, logging or per-request source accounting.
 *
 *   node --import tsx bench/floor.ts --config FILE --port P
 *
 * GET /calls answers the source calls made so far (access tokens left out), for calls per request.
 * Connectors are picked by the operation they offer, not by name: the floor names no source.
 */
import http from 'node:http';
import DataLoader from 'dataloader';
import { buildSchema, execute, parse, validate, type DocumentNode, type GraphQLSchema, GraphQLEnumType, type GraphQLResolveInfo } from 'graphql';
import { loadConfig, type Config } from '../src/config';
import { directReads, openDatabase } from '../src/db';
import { createIdMapStore } from '../src/idmap';
import { createRegistry, type SourceRegistry } from '../src/sources/registry';
import type { SourceObserver } from '../src/sources/observe';
import { loadInsightsRuntime } from '../src/insights/runtime';
import { goldenValue } from '../src/golden/records';
import type { GoldenField } from '../src/golden/fields';
import type { Loaders } from '../src/loaders';
import { normalizeIdentifier } from '../src/identifiers';
import { combineSummaries, readySummary } from '../resolvers/commerce';
import { makeReady, readinessOf } from '../resolvers/level';
import { flattenLists, newestFirst, settleList } from '../src/sources/fields';
import type { IdentifierKind, SourceName } from '../src/vocabulary';
import type { OrderSummary, Order, Ticket } from '../src/capabilities';

const SDL = `
enum Gender { MALE FEMALE UNKNOWN }
enum TicketStatus { NEW OPEN PENDING HOLD SOLVED CLOSED }
enum IdentifierKind { PHONE EMAIL OPENID UNIONID MEMBER_NO DEVICE_ID }
type Money { amount: String! currency: String! }
type Query {
  customer(id: ID!): Customer
  customers(ids: [ID!]!): [Customer]!
  customersByIdentifier(kind: IdentifierKind!, value: String!): [Customer!]!
}
type Customer {
  id: ID!
  name: String
  phone: String
  email: String
  gender: Gender
  memberTier: String
  crmContacts: [CrmContact]
  orders(first: Int = 20): [Order]
  orderSummary: OrderSummary
  tickets(first: Int = 20): [Ticket]
  scrmFollowers: [ScrmFollower]
}
type CrmContact { id: ID! name: String phone: String email: String tier: String province: String }
type Order { id: ID! status: String! placedAt: String! total: Money! }
type OrderSummary { orderCount: Int! totalSpent: Money! lastOrderAt: String }
type Ticket { id: ID! status: TicketStatus! subject: String! createdAt: String! }
type ScrmFollower { openid: ID! nickname: String coupons: [Coupon] }
type Coupon { id: ID! status: String! }
`;

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`floor: --${name} is required`);
  return v;
}

/** The instances whose connector offers `operation`, with that function. */
function offering(registry: SourceRegistry, operation: string) {
  return registry.sources
    .filter((s) => typeof (s.connector as unknown as Record<string, unknown>)[operation] === 'function')
    .map((s) => ({
      name: s.name,
      call: (ids: readonly string[]) => (s.connector as unknown as Record<string, (k: readonly string[]) => Promise<unknown[]>>)[operation](ids),
    }));
}

/** The floor's work, without its HTTP server: what a request costs below the server (bench/floor-work.ts times it in-process). */
export function createFloor(config: Config) {
  let calls = 0;
  const counting: SourceObserver = {
    call: (c, run) => {
      if (c.operation !== 'token') calls++;
      return run();
    },
  };
  const registry = createRegistry(config.sources, counting);
  // The same OneID reads as the gateway's request path (without knex's runner on SQLite).
  const idmap = createIdMapStore(openDatabase(config.oneid.connection), { reads: directReads(config.oneid.connection) });
  const insights = loadInsightsRuntime(config.insights.rulesDir, registry);
  const survivorship = insights.rules.survivorship;
  const windowDays = [...insights.orderWindowDays];
  const contactsOf = offering(registry, 'contactsByIds');
  const followersOf = offering(registry, 'followersByOpenids');
  const couponsOf = new Map(offering(registry, 'couponsByOpenids').map((s) => [s.name, s.call]));
  const commerce = registry.providing('commerce');
  const service = registry.providing('service');

  /** One request's loaders: what the gateway's loaders do for these fields, nothing more. */
  function requestLoaders() {
    const now = new Date().toISOString();
    const batches = new Map<string, DataLoader<string, unknown>>();
    const batch = <V>(source: SourceName, operation: string, call: (ids: readonly string[]) => Promise<unknown[]>, variant = '') => {
      const key = `${source}\u0000${operation}\u0000${variant}`;
      let l = batches.get(key);
      if (!l) batches.set(key, (l = new DataLoader<string, unknown>((ids) => call(ids))));
      return l as DataLoader<string, V>;
    };
    const sourceRecords = new DataLoader((ids: readonly string[]) => idmap.sourceRecordsByCustomerIds(ids));
    const profiles = new Map<SourceName, { load(id: string): Promise<unknown>; loadMany(ids: readonly string[]): Promise<unknown[]> }>();
    const recordIds = async (customerId: string, source: SourceName) => (await sourceRecords.load(customerId)).filter((r) => r.source === source).map((r) => r.recordId);
    return {
      now,
      customer: new DataLoader((ids: readonly string[]) => idmap.customersByIds(ids)),
      byIdentifier: new DataLoader((keys: readonly { kind: IdentifierKind; value: string }[]) => idmap.customerIdsByIdentifiers(keys), {
        cacheKeyFn: (k) => `${k.kind}\u0000${k.value}`,
      }),
      sourceRecords,
      recordIds,
      batch,
      // What a level made ready reads besides (resolvers/level.ts): the gateway's loaders' members of the same names.
      providing: registry.providing,
      orderSummaries: (source: SourceName) =>
        batch<OrderSummary | null>(source, 'orderSummariesByRecordIds', (ids) =>
          registry.get(source)!.capabilities.commerce!.orderSummariesByRecordIds(ids, { now, windowDays }),
        ),
      // The two members of the gateway's loaders that survivorship (src/golden/records.ts) reads;
      // like the gateway's, one profile loader per source per request and one view per record.
      profile(source: SourceName) {
        const made = profiles.get(source);
        if (made) return made;
        const p = registry.get(source)!.capabilities.profile!;
        const records = batch<unknown>(source, p.operation, (ids) => p.records(ids));
        const views = new WeakMap<object, unknown>();
        const view = (r: unknown) => {
          if (r instanceof Error || r == null) return r;
          if (!views.has(r)) views.set(r, p.view(r));
          return views.get(r);
        };
        const l = { load: async (id: string) => view(await records.load(id)), loadMany: async (ids: readonly string[]) => (await records.loadMany(ids)).map(view) };
        profiles.set(source, l);
        return l;
      },
    };
  }
  type Ctx = ReturnType<typeof requestLoaders>;

  const golden = (field: GoldenField) => (c: { id: string }, _: unknown, ctx: Ctx) => goldenValue(ctx as unknown as Loaders, survivorship[field], c.id);
  const recordsOf = (instances: ReturnType<typeof offering>, operation: string) => async (c: { id: string }, _: unknown, ctx: Ctx) => {
    const lists = await Promise.all(
      instances.map(async (inst) =>
        settleList((await ctx.batch<unknown>(inst.name, operation, inst.call).loadMany(await ctx.recordIds(c.id, inst.name))) as unknown[]).map((r) =>
          r instanceof Error ? r : { ...(r as object), source: inst.name },
        ),
      ),
    );
    return lists.flat();
  };
  const toParent = (r: { id: string } | null | Error) => (r instanceof Error ? r : r ? { id: r.id } : null);
  /** As the gateway's entry points: the customers made ready for their golden fields and order summary before they are returned (resolvers/level.ts). */
  const ready = async <T extends { id: string } | Error | null>(ctx: Ctx, info: GraphQLResolveInfo, customers: T[]): Promise<T[]> => {
    const readiness = readinessOf(info, survivorship);
    if (readiness)
      await makeReady(
        ctx as unknown as Loaders,
        customers.filter((c): c is T & { id: string } => !!c && !(c instanceof Error)).map((c) => c.id),
        readiness,
      );
    return customers;
  };

  /** The order summary of a customer outside a ready level: its own loads, batched with its level's. */
  const summaryLater = async (c: { id: string }, ctx: Ctx) => {
    const perSource = await Promise.all(commerce.map(async ({ name }) => settleList(await ctx.orderSummaries(name).loadMany(await ctx.recordIds(c.id, name)))));
    return combineSummaries(perSource.flat() as OrderSummary[]);
  };

  const schema: GraphQLSchema = buildSchema(SDL);
  (schema.getType('TicketStatus') as GraphQLEnumType).getValues().forEach((v) => (v.value = v.name.toLowerCase()));
  const resolvers: Record<string, Record<string, unknown>> = {
    Query: {
      customer: async (_: unknown, { id }: { id: string }, ctx: Ctx, info: GraphQLResolveInfo) => (await ready(ctx, info, [toParent(await ctx.customer.load(id))]))[0],
      customers: async (_: unknown, { ids }: { ids: string[] }, ctx: Ctx, info: GraphQLResolveInfo) => ready(ctx, info, (await ctx.customer.loadMany(ids)).map(toParent)),
      customersByIdentifier: async (_: unknown, { kind, value }: { kind: IdentifierKind; value: string }, ctx: Ctx, info: GraphQLResolveInfo) => {
        const normalized = normalizeIdentifier(kind, value);
        if (normalized === null) throw new Error('not a valid identifier');
        const ids = [...new Set(await ctx.byIdentifier.load({ kind, value: normalized }))];
        return ready(
          ctx,
          info,
          (await ctx.customer.loadMany(ids)).map(toParent).filter((r) => r !== null),
        );
      },
    },
    Customer: {
      name: golden('name'),
      phone: golden('phone'),
      email: golden('email'),
      gender: golden('gender'),
      memberTier: golden('memberTier'),
      crmContacts: recordsOf(contactsOf, 'contactsByIds'),
      scrmFollowers: recordsOf(followersOf, 'followersByOpenids'),
      orders: async (c: { id: string }, { first }: { first: number }, ctx: Ctx) => {
        const query = { since: null, limit: first };
        const perSource = await Promise.all(
          commerce.map(async ({ name, capability }) =>
            flattenLists(
              await ctx
                .batch<Order[]>(name, 'ordersByRecordIds', (ids) => capability.ordersByRecordIds(ids, query), JSON.stringify([null, first]))
                .loadMany(await ctx.recordIds(c.id, name)),
            ),
          ),
        );
        return newestFirst<Order>(perSource.flat(), (o) => o.placedAt).slice(0, first);
      },
      orderSummary: (c: { id: string }, _: unknown, ctx: Ctx) => {
        const made = readySummary(ctx, c.id);
        return made === undefined ? summaryLater(c, ctx) : made;
      },
      tickets: async (c: { id: string }, { first }: { first: number }, ctx: Ctx) => {
        const perSource = await Promise.all(
          service.map(async ({ name, capability }) =>
            flattenLists(await ctx.batch<Ticket[]>(name, 'ticketsByRecordIds', (ids) => capability.ticketsByRecordIds(ids)).loadMany(await ctx.recordIds(c.id, name))),
          ),
        );
        return newestFirst<Ticket>(perSource.flat(), (t) => t.createdAt).slice(0, first);
      },
    },
    ScrmFollower: {
      coupons: (f: { source: SourceName; openid: string }, _: unknown, ctx: Ctx) => ctx.batch(f.source, 'couponsByOpenids', couponsOf.get(f.source)!).load(f.openid),
    },
  };
  for (const [type, fields] of Object.entries(resolvers)) {
    const t = schema.getType(type) as unknown as { getFields(): Record<string, { resolve?: unknown }> };
    for (const [f, resolve] of Object.entries(fields)) t.getFields()[f].resolve = resolve;
  }

  /** Parsed and validated once per distinct document. */
  const documents = new Map<string, DocumentNode>();
  const documentOf = (query: string): DocumentNode => {
    let doc = documents.get(query);
    if (!doc) {
      doc = parse(query);
      const errors = validate(schema, doc);
      if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
      documents.set(query, doc);
    }
    return doc;
  };

  return {
    /** One request: the document (parsed and validated once) executed with a new set of loaders. */
    async run(query: string, variables?: Record<string, unknown>): Promise<unknown> {
      return execute({ schema, document: documentOf(query), variableValues: variables, contextValue: requestLoaders() });
    },
    /** Source calls made so far (access tokens left out). */
    calls: () => calls,
    close: () => registry.close(),
  };
}

/** The floor's HTTP handler: a POST body of `{ query, variables }`, the result as JSON; `/calls` answers the source calls so far. */
export function floorRequestHandler(floor: ReturnType<typeof createFloor>) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/calls') return res.end(JSON.stringify({ calls: floor.calls() }));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let out: unknown;
      try {
        const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: Record<string, unknown> };
        out = await floor.run(query, variables);
      } catch (e) {
        out = { errors: [{ message: (e as Error).message }] };
      }
      const body = JSON.stringify(out);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
}

async function main() {
  const floor = createFloor(loadConfig(arg('config')));
  const server = http.createServer(floorRequestHandler(floor));
  server.keepAliveTimeout = 5000;
  server.listen(Number(arg('port')), '127.0.0.1', () => process.stdout.write('floor ready\n'));
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`floor: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
