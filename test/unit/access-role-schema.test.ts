/**
 * Access role schemas: what each role sees of each personal field (visible, masked or absent),
 * executed through the real resolvers and loaders over a small in-test world; introspection;
 * validation; and mutations that land later.
 */
import { demoRegistry } from '../helpers/registry';
import { execute, parse, validate, getIntrospectionQuery, type GraphQLSchema } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import fs from 'node:fs';
import { buildSchema, loadTypeDefs, sourceCustomerFields } from '../../src/schema';
import { buildResolvers } from '../../resolvers';
import { buildRoleSchemas, sourceTeller } from '../../src/access/role-schema';
import { DEFAULT_POLICY_FILE, loadPolicy, parsePolicy } from '../../src/access/policy';
import { beginAudit } from '../../src/access/audit';
import type { Viewer } from '../../src/context';
import { accessWorld } from '../helpers/access-world';

const full = buildSchema(demoRegistry());
const policy = loadPolicy(DEFAULT_POLICY_FILE, full);
const schemas = buildRoleSchemas(full, policy);
const ROLES = ['marketing', 'sales', 'support', 'finance', 'analyst', 'admin'] as const;
type Role = (typeof ROLES)[number];
type Seen = 'visible' | 'masked' | 'absent';

const viewer = (role: string): Viewer => ({ role, principal: `${role}-tester`, principalKind: 'apiKey', teams: ['team-a'] });

async function run(role: string, query: string, variables?: Record<string, unknown>) {
  const schema = schemas.get(role)!;
  const document = parse(query);
  const errors = validate(schema, document);
  if (errors.length) return { validationErrors: errors, world: undefined, audit: undefined, result: undefined };
  const world = accessWorld();
  const contextValue = world.context(viewer(role));
  const audit = beginAudit(contextValue);
  const result = await execute({ schema, document, contextValue, variableValues: variables });
  return { validationErrors: [], world, audit, result };
}

const HASHED = /^h_[0-9a-f]{32}$/;

/**
 * One row per personal field: how to select it for customer c1, its raw value, and how it
 * looks masked. `pick` reads the value out of `data.customer`.
 */
const FIELDS: Array<{ ref: string; select: string; pick: (c: any) => unknown; raw: unknown; masked: (v: unknown) => boolean; sharesAudit?: true }> = [
  { ref: 'CrmContact.name', select: 'crmContacts { name }', pick: (c) => c.crmContacts[0].name, raw: '张三丰', masked: (v) => v === '张**' },
  { ref: 'CrmContact.phone', select: 'crmContacts { phone }', pick: (c) => c.crmContacts[0].phone, raw: '+8613800138000', masked: (v) => v === '+86 138****8000' },
  { ref: 'CrmContact.email', select: 'crmContacts { email }', pick: (c) => c.crmContacts[0].email, raw: 'zhang.san@example.com', masked: (v) => v === 'z***@example.com' },
  { ref: 'CrmContact.birthday', select: 'crmContacts { birthday }', pick: (c) => c.crmContacts[0].birthday, raw: '1990-05-17', masked: (v) => v === '1990' },
  { ref: 'CrmContact.province', select: 'crmContacts { province }', pick: (c) => c.crmContacts[0].province, raw: '浙江', masked: () => false },
  { ref: 'CrmContact.city', select: 'crmContacts { city }', pick: (c) => c.crmContacts[0].city, raw: '杭州', masked: () => false },
  { ref: 'ShopAccount.phone', select: 'shopAccounts { phone }', pick: (c) => c.shopAccounts[0].phone, raw: '+8613800138000', masked: (v) => v === '+86 138****8000' },
  { ref: 'ShopAccount.email', select: 'shopAccounts { email }', pick: (c) => c.shopAccounts[0].email, raw: 'zhang.san@example.com', masked: (v) => v === 'z***@example.com' },
  { ref: 'SupportRequester.name', select: 'supportRequesters { name }', pick: (c) => c.supportRequesters[0].name, raw: 'Zhang San', masked: () => false },
  { ref: 'SupportRequester.phone', select: 'supportRequesters { phone }', pick: (c) => c.supportRequesters[0].phone, raw: '+8613800138000', masked: () => false },
  { ref: 'SupportRequester.email', select: 'supportRequesters { email }', pick: (c) => c.supportRequesters[0].email, raw: 'zhang.san@example.com', masked: () => false },
  { ref: 'ScrmFollower.openid', select: 'scrmFollowers { openid }', pick: (c) => c.scrmFollowers[0].openid, raw: 'o-follower-1', masked: (v) => HASHED.test(String(v)) },
  { ref: 'ScrmFollower.unionid', select: 'scrmFollowers { unionid }', pick: (c) => c.scrmFollowers[0].unionid, raw: 'u-union-1', masked: (v) => HASHED.test(String(v)) },
  { ref: 'ScrmFollower.nickname', select: 'scrmFollowers { nickname }', pick: (c) => c.scrmFollowers[0].nickname, raw: '三丰', masked: () => false },
  { ref: 'ScrmFollower.city', select: 'scrmFollowers { city }', pick: (c) => c.scrmFollowers[0].city, raw: 'Hangzhou', masked: () => false },
  { ref: 'ScrmFollower.province', select: 'scrmFollowers { province }', pick: (c) => c.scrmFollowers[0].province, raw: 'Zhejiang', masked: () => false },
  {
    ref: 'Identifier.value (PHONE)',
    select: 'identifiers { kind value }',
    pick: (c) => c.identifiers.find((i: any) => i.kind === 'PHONE').value,
    raw: '+8613800138000',
    masked: (v) => v === '+86 138****8000',
  },
  {
    ref: 'Identifier.value (OPENID)',
    select: 'identifiers { kind value }',
    pick: (c) => c.identifiers.find((i: any) => i.kind === 'OPENID').value,
    raw: 'o-follower-1',
    masked: (v) => HASHED.test(String(v)),
    // The same query returns the PHONE identifiers, audited under the same field name.
    sharesAudit: true,
  },
  {
    ref: 'SourceRecord.recordId (SCRM)',
    select: 'sourceRecords { source recordId }',
    pick: (c) => c.sourceRecords.find((r: any) => r.source === 'SCRM').recordId,
    raw: 'o-follower-1',
    masked: (v) => HASHED.test(String(v)),
  },
];

/** The default policy, as a table (POLICY.md shows the same). */
const MATRIX: Record<string, Record<Role, Seen>> = {
  'CrmContact.name': { marketing: 'masked', sales: 'visible', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'CrmContact.phone': { marketing: 'masked', sales: 'visible', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'CrmContact.email': { marketing: 'masked', sales: 'visible', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'CrmContact.birthday': { marketing: 'masked', sales: 'masked', support: 'visible', finance: 'absent', analyst: 'masked', admin: 'visible' },
  'CrmContact.province': { marketing: 'visible', sales: 'visible', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'CrmContact.city': { marketing: 'absent', sales: 'visible', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'ShopAccount.phone': { marketing: 'masked', sales: 'masked', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'ShopAccount.email': { marketing: 'masked', sales: 'masked', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'SupportRequester.name': { marketing: 'absent', sales: 'absent', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'SupportRequester.phone': { marketing: 'absent', sales: 'absent', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'SupportRequester.email': { marketing: 'absent', sales: 'absent', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'ScrmFollower.openid': { marketing: 'masked', sales: 'masked', support: 'masked', finance: 'masked', analyst: 'masked', admin: 'visible' },
  'ScrmFollower.unionid': { marketing: 'masked', sales: 'absent', support: 'absent', finance: 'absent', analyst: 'masked', admin: 'visible' },
  'ScrmFollower.nickname': { marketing: 'absent', sales: 'visible', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'ScrmFollower.city': { marketing: 'absent', sales: 'visible', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'ScrmFollower.province': { marketing: 'visible', sales: 'visible', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'Identifier.value (PHONE)': { marketing: 'absent', sales: 'visible', support: 'visible', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'Identifier.value (OPENID)': { marketing: 'absent', sales: 'masked', support: 'masked', finance: 'absent', analyst: 'absent', admin: 'visible' },
  'SourceRecord.recordId (SCRM)': { marketing: 'masked', sales: 'masked', support: 'masked', finance: 'masked', analyst: 'masked', admin: 'visible' },
};

describe('Access role schemas: role × personal field', () => {
  const cases = FIELDS.flatMap((f) => ROLES.map((role) => [f.ref, role, MATRIX[f.ref][role]] as const));

  it.each(cases)('%s as %s is %s', async (ref, role, expected) => {
    const field = FIELDS.find((f) => f.ref === ref)!;
    const { validationErrors, result, audit } = await run(role, `{ customer(id: "c1") { id ${field.select} } }`);
    if (expected === 'absent') {
      expect(validationErrors.length).toBeGreaterThan(0);
      expect(validationErrors[0].message).toMatch(/Cannot query field/);
      return;
    }
    expect(validationErrors).toEqual([]);
    expect(result!.errors).toBeUndefined();
    const value = field.pick((result!.data as any).customer);
    const auditedFields = [...(audit!.reads.get('c1') ?? [])];
    const baseRef = ref.split(' ')[0];
    if (expected === 'visible') {
      expect(value).toBe(field.raw);
      expect(auditedFields).toContain(baseRef);
    } else {
      expect(value).not.toBe(field.raw);
      expect(field.masked(value)).toBe(true);
      if (!field.sharesAudit) expect(auditedFields).not.toContain(baseRef);
    }
  });

  it('leaves non-personal source record ids unmasked and unaudited', async () => {
    const { result, audit } = await run('marketing', '{ customer(id: "c1") { sourceRecords { source recordId } } }');
    const records = (result!.data as any).customer.sourceRecords;
    expect(records.find((r: any) => r.source === 'CRM').recordId).toBe('C1');
    expect(audit!.isEmpty).toBe(true);
  });

  it('types a year-only birthday as String in the role schema, a Date for those who see it whole', () => {
    const typeOf = (role: string) => (schemas.get(role)!.getType('CrmContact') as any).getFields().birthday.type.toString();
    expect(typeOf('marketing')).toBe('String');
    expect(typeOf('support')).toBe('Date');
  });

  it('hashes the same openid to the same pseudonym in every role that hashes it', async () => {
    const q = '{ customer(id: "c1") { scrmFollowers { openid } } }';
    const a = (await run('analyst', q)).result!.data as any;
    const f = (await run('finance', q)).result!.data as any;
    expect(a.customer.scrmFollowers[0].openid).toBe(f.customer.scrmFollowers[0].openid);
  });
});

describe('Access role schemas: introspection and validation', () => {
  it('shows an analyst only what it may query', async () => {
    const schema = schemas.get('analyst')!;
    const result = await execute({ schema, document: parse(getIntrospectionQuery()) });
    const types = (result.data as any).__schema.types as Array<{ name: string; fields: Array<{ name: string }> | null }>;
    const names = types.map((t) => t.name);
    expect(names).not.toContain('SupportRequester');
    expect(names).not.toContain('AuditEntry');
    expect(names).not.toContain('Identifier');
    const fieldsOf = (n: string) => types.find((t) => t.name === n)!.fields!.map((f) => f.name);
    expect(fieldsOf('Query').sort()).toEqual(['customer', 'customers', 'customersConnection', 'segment', 'segments']);
    expect(fieldsOf('CrmContact')).toEqual(expect.arrayContaining(['tier', 'birthday']));
    for (const hidden of ['name', 'phone', 'email', 'province', 'city']) expect(fieldsOf('CrmContact')).not.toContain(hidden);
    expect(fieldsOf('Customer')).not.toContain('supportRequesters');
    expect(fieldsOf('Ticket')).not.toContain('subject');
  });

  it('accepts for support a query that fails validation for marketing', async () => {
    const q = '{ customerByIdentifier(kind: PHONE, value: "13800138000") { supportRequesters { name phone } tickets { subject } } }';
    const support = await run('support', q);
    expect(support.validationErrors).toEqual([]);
    expect(support.result!.errors).toBeUndefined();
    expect((support.result!.data as any).customerByIdentifier.supportRequesters[0].name).toBe('Zhang San');

    const marketing = await run('marketing', q);
    expect(marketing.validationErrors.map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/Cannot query field "customerByIdentifier" on type "Query"/)]),
    );
  });

  it('shows the audit log to admin only', () => {
    for (const role of ROLES) expect(!!schemas.get(role)!.getQueryType()!.getFields().auditLog).toBe(role === 'admin');
  });
});

describe('Access role schemas: mutations that land later', () => {
  // The stewardship mutations (schema/identity.graphql), with a stand-in resolver: the default policy must give them to admin only.
  const withMutation = makeExecutableSchema({
    typeDefs: loadTypeDefs(demoRegistry()),
    resolvers: [buildResolvers(demoRegistry()), { Mutation: { mergeCustomers: () => ({ action: 'merge', customerId: 'c1', movedRecords: [] }) } }],
  });
  const later = buildRoleSchemas(withMutation, parsePolicy(JSON.parse(fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8')), 'access.json', withMutation));

  // Saved BI segments (schema/bi.graphql) are written by the roles that build them.
  const SEGMENT_WRITERS: readonly string[] = ['marketing', 'analyst'];
  const SEGMENT_MUTATIONS = ['createSegment', 'updateSegment', 'deleteSegment'];

  it('grants Mutation to admin', () => {
    expect(Object.keys(later.get('admin')!.getMutationType()!.getFields()).sort()).toEqual(
      ['linkRecords', 'unlinkRecord', 'mergeCustomers', 'splitCustomer', 'resolveCandidate', ...SEGMENT_MUTATIONS].sort(),
    );
  });

  it.each(SEGMENT_WRITERS)('gives %s the segment mutations and no other', (role) => {
    const schema: GraphQLSchema = later.get(role)!;
    expect(Object.keys(schema.getMutationType()!.getFields())).toEqual(SEGMENT_MUTATIONS);
    const errors = validate(schema, parse('mutation { mergeCustomers(survivorId: "c1", mergedId: "c2", reason: "same") { customerId } }'));
    expect(errors[0].message).toMatch(/Cannot query field "mergeCustomers" on type "Mutation"/);
  });

  it.each(ROLES.filter((r) => r !== 'admin' && !SEGMENT_WRITERS.includes(r)))('denies Mutation to %s', async (role) => {
    const schema: GraphQLSchema = later.get(role)!;
    expect(schema.getMutationType()).toBeUndefined();
    expect((schema.getTypeMap() as Record<string, unknown>).Mutation).toBeUndefined();
    // graphql 16 leaves this to execution (the limits plugin refuses it before, see access-apollo).
    const result = await execute({ schema, document: parse('mutation { mergeCustomers(survivorId: "c1", mergedId: "c2", reason: "same") { customerId } }') });
    expect(result.data ?? null).toBeNull();
    expect(result.errors![0].message).toMatch(/not configured to execute mutation/);
  });
});

/**
 * An explanation's path, a review candidate's records and a steward's moved records cite records of
 * whatever systems the data chose. Measured in session 42 (2026-12-06): a role told of the CRM alone,
 * granted `whyRecordsLinked`, was answered the path CRM → SUPPORT → ORDERS (a shared email with the
 * customer's helpdesk record, then a shared phone). Leaving the helpdesk step out would make the
 * path false, so such a grant is refused at start-up.
 */
describe('Access role schemas: identity tools only for roles told of every system', () => {
  const registry = demoRegistry();
  const raw = JSON.parse(fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
  const crmOnly = {
    description: 'told of the CRM alone',
    grant: { Query: ['customer', 'whyRecordsLinked'], Customer: ['id', 'crmContacts'], CrmContact: ['id'], LinkExplanation: ['*'], LinkStep: ['*'], SourceRecordRef: ['*'] },
  };
  const build = (roles: Record<string, unknown>) =>
    buildRoleSchemas(full, parsePolicy({ ...raw, roles: { ...raw.roles, ...roles } }, 'access.json', full), { sourceFields: sourceCustomerFields(registry) });

  it('refuses at start-up a role told of some systems only that may read an explanation, naming the grant and the systems', () => {
    expect(() => build({ crm_agent: crmOnly })).toThrow(
      'access.json: roles.crm_agent.grant.LinkExplanation: it cites records of every system, and the role is not told of ORDERS, SUPPORT, SCRM, WECOM, MARKETPLACE (it sees no field of their data); grant LinkExplanation only to a role told of every system',
    );
  });

  it('builds the same grant for a role told of every system, and the default policy', () => {
    expect(() =>
      build({
        steward_lite: { extends: 'support', description: 'support with explanations', grant: { Query: ['whyRecordsLinked'], LinkExplanation: ['*'], LinkStep: ['*'] } },
      }),
    ).not.toThrow();
    expect(() => build({})).not.toThrow();
  });
});

/**
 * A field summing a capability's data is that data too. Measured in session 42 (2026-12-06): a
 * role told of the shop alone (`shopAccounts`), granted `orderSummary`, read `sourceRecords: []`
 * and `orderCount: 1` for customers with no shop record, each a marketplace buyer (11 of 11 sampled).
 */
describe('Access role schemas: the systems a role is told of', () => {
  const fieldsOf = sourceCustomerFields(demoRegistry());
  const raw = JSON.parse(fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
  const tellerFor = (grant: Record<string, string[]>) => {
    const p = parsePolicy({ ...raw, roles: { ...raw.roles, probe: { description: 'probe', grant } } }, 'access.json', full);
    return sourceTeller(full, p.roles.get('probe')!, fieldsOf);
  };
  const BASE = { Query: ['customer'], Customer: ['id', 'shopAccounts', 'sourceRecords'], ShopAccount: ['id'], SourceRecord: ['*'] };

  it('tells a role of the systems whose lists it sees, and of no other', () => {
    const teller = tellerFor(BASE);
    expect([teller.told('orders'), teller.told('marketplace'), teller.told('support'), teller.all]).toEqual([true, false, false, false]);
  });

  it.each(['orderSummary', 'rfm', 'lifecycle'])('tells a role granted %s of every commerce system, whose orders it sums', (field) => {
    const types: Record<string, string[]> = { orderSummary: ['OrderSummary', 'Money'], rfm: ['Rfm'], lifecycle: ['Lifecycle'] }[field]!.reduce(
      (acc, t) => ({ ...acc, [t]: ['*'] }),
      {},
    );
    const teller = tellerFor({ ...BASE, Customer: [...BASE.Customer, field], ...types });
    expect([teller.told('orders'), teller.told('marketplace'), teller.told('support')]).toEqual([true, true, false]);
  });
});
