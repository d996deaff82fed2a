/**
 * Access through Apollo Server, as the gateway serves each role: limits refuse before any
 * source is called; forbidden fields and operation types fail validation; persisted-only
 * roles run only the safelist; and the personal-data audit is written to a real database
 * (SQLite, or MariaDB with C360_TEST_DB=mariadb) for unmasked reads only.
 */
import { demoRegistry } from '../helpers/registry';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';
import pino from 'pino';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, loadTypeDefs } from '../../src/schema';
import { buildResolvers } from '../../resolvers';
import { formatErrorFor } from '../../src/graphql';
import type { Context, Viewer } from '../../src/context';
import { buildRoleSchemas } from '../../src/access/role-schema';
import { DEFAULT_POLICY_FILE, loadPolicy, parsePolicy, sha256Hex, type Policy } from '../../src/access/policy';
import { limitsPlugin, safelistCache } from '../../src/access/limits';
import { auditPlugin, createAuditLog, type AuditLog } from '../../src/access/audit';
import { ACCESS_MIGRATIONS, migrateAccessDown } from '../../src/access/migrations';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { accessWorld, type AccessWorld } from '../helpers/access-world';

const ACCESS = ACCESS_MIGRATIONS.map(([name]) => name);

const log = pino({ level: 'silent' });
const full = buildSchema(demoRegistry());
const policy = loadPolicy(DEFAULT_POLICY_FILE, full);
const schemas = buildRoleSchemas(full, policy);

let tdb: TestDatabase;
let auditLog: AuditLog;
const servers: ApolloServer<Context>[] = [];

/** One role's server, wired as the gateway wires it. */
async function serverFor(role: string, opts: { schema?: GraphQLSchema; policy?: Policy; plugins?: ApolloServerPlugin<Context>[] } = {}) {
  const p = opts.policy ?? policy;
  const r = p.roles.get(role)!;
  const server = new ApolloServer<Context>({
    schema: opts.schema ?? schemas.get(role)!,
    formatError: formatErrorFor(log),
    includeStacktraceInErrorResponses: false,
    persistedQueries: r.persistedOnly ? { cache: safelistCache(p.safelist) } : undefined,
    plugins: opts.plugins ?? [limitsPlugin(r.limits, { persistedOnly: r.persistedOnly, safelist: p.safelist }), auditPlugin(auditLog, { log })],
  });
  await server.start();
  servers.push(server);
  return server;
}

const viewer = (role: string): Viewer => ({ role, principal: `${role}@example.com`, principalKind: 'jwt', teams: ['team-a'] });

async function ask(
  role: string,
  query: string | undefined,
  variables?: Record<string, unknown>,
  opts: { server?: ApolloServer<Context>; world?: AccessWorld; extensions?: Record<string, unknown>; operationName?: string } = {},
) {
  const server = opts.server ?? (await serverFor(role));
  const world = opts.world ?? accessWorld();
  const res = await server.executeOperation(
    { query, variables, extensions: opts.extensions, operationName: opts.operationName },
    { contextValue: world.context(viewer(role)) },
  );
  assert(res.body.kind === 'single');
  const body = res.body.singleResult;
  return { status: res.http.status ?? 200, body, codes: (body.errors ?? []).map((e) => e.extensions?.code), world };
}

function deepIntrospection(depth: number): string {
  let inner = 'name';
  for (let i = 0; i < depth - 4; i++) inner = `ofType { ${inner} }`;
  return `__type(name: "Customer") { fields { type { ${inner} } } }`;
}

beforeAll(async () => {
  tdb = await freshDatabase('access');
  auditLog = createAuditLog(tdb.db);
  await auditLog.migrate();
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  await tdb?.drop();
});

describe('Access over Apollo: limits refuse before execution', () => {
  it('refuses a depth-20 query with QUERY_TOO_COMPLEX and calls no source', async () => {
    const { status, codes, body, world } = await ask('support', `{ customer(id: "c1") { id } ${deepIntrospection(20)} }`);
    expect(codes).toEqual(['QUERY_TOO_COMPLEX']);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors![0].extensions).toMatchObject({ limit: 'maxDepth', actual: 20, max: 15 });
    expect(body.errors![0].extensions!.http).toBeUndefined();
    expect(world.totalCalls()).toBe(0);
  });

  it('refuses 1,000 aliases with QUERY_TOO_COMPLEX and calls no source, even for admin', async () => {
    const q = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: customer(id: "c${i}") { id crmContacts { phone } }`).join(' ')} }`;
    const { status, codes, body, world } = await ask('admin', q);
    expect(codes).toEqual(['QUERY_TOO_COMPLEX']);
    expect(status).toBe(400);
    expect(body.errors![0].extensions).toMatchObject({ limit: 'maxAliases' });
    expect(world.totalCalls()).toBe(0);
  });

  it('refuses more ids than the role may ask for, before any OneID call', async () => {
    const ids = Array.from({ length: 51 }, (_, i) => `c${i}`);
    const { codes, world } = await ask('support', 'query($ids: [ID!]!) { customers(ids: $ids) { id } }', { ids });
    expect(codes).toEqual(['QUERY_TOO_COMPLEX']);
    expect(world.totalCalls()).toBe(0);
  });

  it('measures an operation with variables afresh each time, and a repeated constant one the same each time', async () => {
    const server = await serverFor('support');
    const query = 'query($ids: [ID!]!) { customers(ids: $ids) { id } }';
    const few = await ask('support', query, { ids: ['c1', 'c2'] }, { server });
    expect(few.codes).toEqual([]);
    const many = await ask('support', query, { ids: Array.from({ length: 51 }, (_, i) => `c${i}`) }, { server });
    expect(many.codes).toEqual(['QUERY_TOO_COMPLEX']);
    expect(many.world.totalCalls()).toBe(0);
    const deep = `{ customer(id: "c1") { id } ${deepIntrospection(20)} }`;
    for (let i = 0; i < 2; i++) expect((await ask('support', deep, undefined, { server })).codes).toEqual(['QUERY_TOO_COMPLEX']);
    const constant = `{ customers(ids: [${Array.from({ length: 51 }, (_, i) => `"c${i}"`).join(', ')}]) { id } }`;
    for (let i = 0; i < 2; i++) expect((await ask('support', constant, undefined, { server })).codes).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('lets the standard introspection through', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const { codes, body } = await ask('analyst', getIntrospectionQuery());
    expect(codes).toEqual([]);
    expect((body.data as any).__schema.queryType.name).toBe('Query');
  });
});

describe('Access over Apollo: what a role cannot see fails validation', () => {
  it('refuses for marketing a support query with GRAPHQL_VALIDATION_FAILED, calling no source', async () => {
    const q = '{ customer(id: "c1") { supportRequesters { name phone } } }';
    const support = await ask('support', q);
    expect(support.codes).toEqual([]);
    expect((support.body.data as any).customer.supportRequesters[0].phone).toBe('+8613800138000');

    const marketing = await ask('marketing', q);
    expect(marketing.codes).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(marketing.status).toBe(400);
    expect(marketing.world.totalCalls()).toBe(0);
  });

  it('refuses a mutation to every role but admin, once mutations exist', async () => {
    let merged = 0;
    // The real stewardship SDL, with a stand-in resolver that counts the calls it gets.
    const withMutation = makeExecutableSchema({
      typeDefs: loadTypeDefs(demoRegistry()),
      resolvers: [buildResolvers(demoRegistry()), { Mutation: { mergeCustomers: () => (merged++, { action: 'merge', customerId: 'c1', movedRecords: [] }) } }],
    });
    const p = parsePolicy(JSON.parse(fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8')), 'access.json', withMutation);
    const later = buildRoleSchemas(withMutation, p);
    const m = 'mutation { mergeCustomers(survivorId: "c1", mergedId: "c2", reason: "same") { customerId } }';
    for (const role of ['marketing', 'sales', 'support', 'finance', 'analyst']) {
      const { codes, status } = await ask(role, m, undefined, { server: await serverFor(role, { schema: later.get(role)!, policy: p }) });
      expect(codes).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(status).toBe(400);
    }
    expect(merged).toBe(0);
    const admin = await ask('admin', m, undefined, { server: await serverFor('admin', { schema: later.get('admin')!, policy: p }) });
    expect(admin.codes).toEqual([]);
    expect(merged).toBe(1);
  });
});

describe('Access over Apollo: persisted-only roles', () => {
  const listed = 'query Listed($id: ID!) { customer(id: $id) { id } }';
  const dir = tempDir('safelist');
  fs.writeFileSync(path.join(dir, 'safelist.json'), JSON.stringify({ [sha256Hex(listed)]: listed }));
  const raw = JSON.parse(fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
  raw.safelist = 'safelist.json';
  raw.roles.finance.persistedOnly = true;
  const p = parsePolicy(raw, 'access.json', full, dir);
  const financeSchema = buildRoleSchemas(full, p).get('finance')!;

  it('runs a safelisted operation, sent whole or by hash only', async () => {
    const server = await serverFor('finance', { schema: financeSchema, policy: p });
    expect((await ask('finance', listed, { id: 'c1' }, { server })).body.data).toEqual({ customer: { id: 'c1' } });
    const byHash = await ask('finance', undefined, { id: 'c1' }, { server, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(listed) } } });
    expect(byHash.body.data).toEqual({ customer: { id: 'c1' } });
  });

  it('refuses any other operation with FORBIDDEN, calling no source', async () => {
    const server = await serverFor('finance', { schema: financeSchema, policy: p });
    const { codes, status, world } = await ask('finance', '{ customer(id: "c1") { id } }', undefined, { server });
    expect(codes).toEqual(['FORBIDDEN']);
    expect(status).toBe(403);
    expect(world.totalCalls()).toBe(0);
    const unknownHash = await ask('finance', undefined, undefined, { server, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex('{ x }') } } });
    expect(unknownHash.codes).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });
});

describe('Access audit: personal-data reads are recorded, on the test engine', () => {
  const rows = () => tdb.db('c360_access_audit').select('*');
  beforeEach(async () => {
    await tdb.db('c360_access_audit').delete();
  });

  it('keeps its own migrations table next to the OneID store’s', async () => {
    const tables = await tdb.db.raw(tdb.connection.client === 'sqlite' ? "select name from sqlite_master where type = 'table'" : 'show tables');
    const names = JSON.stringify(tables);
    expect(names).toContain('c360_access_migrations');
    expect(names).not.toContain('"knex_migrations"');
  });

  it('records who read which unmasked fields of which customer, without values', async () => {
    const { codes } = await ask('admin', 'query One { customer(id: "c1") { id tier: crmContacts { tier } crmContacts { name phone } } }', undefined, { operationName: 'One' });
    expect(codes).toEqual([]);
    const written = await rows();
    expect(written).toHaveLength(1);
    const entry = (await auditLog.query())[0];
    expect(entry).toMatchObject({
      requestId: 'req-test',
      principal: 'admin@example.com',
      principalKind: 'jwt',
      role: 'admin',
      operationName: 'One',
      customerId: 'c1',
      fields: ['CrmContact.name', 'CrmContact.phone'],
    });
    expect(Date.now() - Date.parse(entry.at)).toBeLessThan(60_000);
    const dump = JSON.stringify(written);
    for (const value of ['13800138000', '张三丰', 'zhang.san']) expect(dump).not.toContain(value);
  });

  it('records nothing for masked reads, or reads of nothing personal', async () => {
    await ask('marketing', '{ customer(id: "c1") { crmContacts { name phone email birthday } scrmFollowers { openid unionid } } }');
    await ask('admin', '{ customer(id: "c1") { crmContacts { tier ownerTeam } } }');
    expect(await rows()).toEqual([]);
  });

  it('records one row per customer, attributing each field to its customer', async () => {
    await ask('support', '{ customers(ids: ["c1", "c2", "c3"]) { id crmContacts { phone } shopAccounts { email } } }');
    const entries = await auditLog.query();
    const byCustomer = Object.fromEntries(entries.map((e) => [e.customerId, e.fields]));
    expect(byCustomer).toEqual({
      c1: ['CrmContact.phone', 'ShopAccount.email'],
      c2: ['CrmContact.phone'],
      c3: ['ShopAccount.email'],
    });
  });

  it('attributes each aliased customer field, and each customer under a list in it, to its own customer', async () => {
    await ask(
      'support',
      '{ a: customer(id: "c1") { crmContacts { phone } } b: customer(id: "c2") { crmContacts { phone } } c: customers(ids: ["c3", "c1"]) { shopAccounts { email } } }',
    );
    const byCustomer = Object.fromEntries((await auditLog.query()).map((e) => [e.customerId, e.fields]));
    expect(byCustomer).toEqual({ c1: ['CrmContact.phone', 'ShopAccount.email'], c2: ['CrmContact.phone'], c3: ['ShopAccount.email'] });
  });

  it('records a masked-by-parent field only where it was shown unmasked', async () => {
    await ask('admin', '{ customer(id: "c1") { sourceRecords { source recordId } } }');
    expect((await auditLog.query())[0].fields).toEqual(['SourceRecord.recordId']);
    await tdb.db('c360_access_audit').delete();
    await ask('support', '{ customer(id: "c1") { sourceRecords { source recordId } } }');
    expect(await rows()).toEqual([]);
  });

  it('records nothing for customers outside the row scope', async () => {
    await ask('sales', '{ customers(ids: ["c1", "c2"]) { id crmContacts { phone } } }');
    expect((await auditLog.query()).map((e) => e.customerId)).toEqual(['c1']);
  });

  it('answers auditLog to admin, newest first and filtered, and to no other role', async () => {
    await ask('support', '{ customer(id: "c1") { crmContacts { phone } } }');
    await ask('support', '{ customer(id: "c2") { crmContacts { name } } }');
    const { body, codes } = await ask('admin', '{ auditLog(first: 10) { customerId role principal fields at } mine: auditLog(customerId: "c1") { customerId } }');
    expect(codes).toEqual([]);
    const data = body.data as any;
    expect(data.auditLog.map((e: any) => e.customerId)).toEqual(['c2', 'c1']);
    expect(data.auditLog[0]).toMatchObject({ role: 'support', principal: 'support@example.com', fields: ['CrmContact.name'] });
    expect(data.mine).toEqual([{ customerId: 'c1' }]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const windowed = await ask(
      'admin',
      `{ later: auditLog(since: "${future}") { id } earlier: auditLog(until: "${past}") { id } now: auditLog(since: "${past}", until: "${future}") { id } }`,
    );
    expect(windowed.body.data).toEqual({ later: [], earlier: [], now: [expect.anything(), expect.anything()] });
    for (const role of ['marketing', 'sales', 'support', 'finance', 'analyst']) {
      expect((await ask(role, '{ auditLog { id } }')).codes).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    }
  });

  it('withholds the data when the audit cannot be written', async () => {
    const broken: AuditLog = { ...auditLog, record: async () => Promise.reject(new Error('disk full')) };
    const server = await serverFor('admin', { plugins: [limitsPlugin(policy.roles.get('admin')!.limits), auditPlugin(broken, { log })] });
    const { status, body, codes } = await ask('admin', '{ customer(id: "c1") { crmContacts { phone } } }', undefined, { server });
    expect(status).toBe(503);
    expect(body.data).toBeNull();
    expect(codes).toEqual(['SOURCE_UNAVAILABLE']);
    expect(JSON.stringify(body)).not.toContain('13800138000');
  });
});

describe('Access audit: migrations', () => {
  it('keeps its bookkeeping apart from another migration set in the same database', async () => {
    // A stand-in for the OneID store's migrations (their own list, bookkept in idmap_migrations).
    const other: import('knex').Knex.MigratorConfig = {
      tableName: 'idmap_migrations',
      migrationSource: {
        getMigrations: async () => ['20250601000000_other'],
        getMigrationName: (n: string) => n,
        getMigration: async () => ({
          up: (k: import('knex').Knex) => k.schema.createTable('other_things', (t) => t.string('id', 26).primary()),
          down: (k: import('knex').Knex) => k.schema.dropTable('other_things'),
        }),
      },
    };
    const db = await freshDatabase('access_shared');
    try {
      await db.db.migrate.latest(other);
      expect(await createAuditLog(db.db).migrate()).toEqual(ACCESS);
      expect((await db.db.migrate.list(other))[1]).toEqual([]);
      expect(await migrateAccessDown(db.db)).toEqual([...ACCESS].reverse());
      expect(await db.db.schema.hasTable('other_things')).toBe(true);
    } finally {
      await db.drop();
    }
  });

  it('runs up and down on the test engine', async () => {
    const db = await freshDatabase('access_mig');
    try {
      const log = createAuditLog(db.db);
      expect(await log.migrate()).toEqual(ACCESS);
      expect(await log.migrate()).toEqual([]);
      expect(await db.db.schema.hasTable('c360_access_audit')).toBe(true);
      expect(await migrateAccessDown(db.db)).toEqual([...ACCESS].reverse());
      expect(await db.db.schema.hasTable('c360_access_audit')).toBe(false);
    } finally {
      await db.drop();
    }
  });
});

describe('Access: createAccess wires everything at start-up', () => {
  it('warns at start-up of a role told of no system, which lists and reads no customer, and of no other role', async () => {
    const { createAccess } = await import('../../src/access');
    const { sourceCustomerFields } = await import('../../src/schema');
    const dir = tempDir('c360-told-none-');
    const policy = JSON.parse(fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
    // A role a company might write for a tier report: golden fields only, no field of any system.
    policy.roles.tier_only = { description: 'tiers only', grant: { Query: ['customers'], Customer: ['id', 'memberTier'] } };
    const policyFile = path.join(dir, 'access.json');
    fs.writeFileSync(policyFile, JSON.stringify(policy));
    const warnings: Array<{ role?: string; msg: string }> = [];
    const stream = { write: (line: string) => void warnings.push(JSON.parse(line)) };
    const db = await freshDatabase('access_told_none');
    try {
      await createAccess({
        fullSchema: full,
        db: db.db,
        policyFile,
        sourceFields: sourceCustomerFields(demoRegistry()),
        auth: { apiKeys: [] },
        log: pino({ level: 'warn' }, stream) as never,
      });
      const toldOfNone = warnings.filter((w) => w.msg.includes('is told of no system'));
      expect(toldOfNone.map((w) => w.role)).toEqual(['tier_only']);
      expect(toldOfNone[0].msg).toContain('lists and reads no customer');
    } finally {
      await db.drop();
    }
  });

  it('builds the role schemas, the authenticator and the plugins, and migrates the audit', async () => {
    const { createAccess, hashApiKey } = await import('../../src/access');
    const db = await freshDatabase('access_setup');
    try {
      const access = await createAccess({
        fullSchema: full,
        db: db.db,
        auth: { apiKeys: [{ name: 'crm-plugin', role: 'sales', sha256: hashApiKey('k-sales'), teams: ['team-a'] }] },
      });
      expect([...access.schemas.keys()].sort()).toEqual(['admin', 'analyst', 'finance', 'marketing', 'sales', 'support']);
      const who = await access.authenticate({ headers: { 'x-api-key': 'k-sales' } } as never);
      expect(who).toEqual({ role: 'sales', principal: 'crm-plugin', principalKind: 'apiKey', teams: ['team-a'] });
      expect(await access.authenticate({ headers: {} } as never)).toBeNull();
      expect(access.pluginsFor('sales')).toHaveLength(2);
      expect(access.persistedQueriesFor('sales')).toBeUndefined();
      expect(await db.db.schema.hasTable('c360_access_audit')).toBe(true);
      await expect(createAccess({ fullSchema: full, db: db.db, auth: { apiKeys: [{ name: 'x', role: 'superuser', sha256: hashApiKey('k') }] } })).rejects.toThrow(
        'auth.apiKeys.0.role: unknown role "superuser"',
      );
    } finally {
      await db.drop();
    }
  });
});
