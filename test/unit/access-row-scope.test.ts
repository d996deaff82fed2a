/**
 * Access row scope: sales sees only customers whose CRM contact its team owns, at every entry
 * point; a customer outside the scope answers exactly as an unknown one, with the same work
 * done; and the check stays batched.
 */
import { demoRegistry } from '../helpers/registry';
import { execute, parse, validate } from 'graphql';
import { buildSchema } from '../../src/schema';
import { buildRoleSchemas } from '../../src/access/role-schema';
import { DEFAULT_POLICY_FILE, loadPolicy } from '../../src/access/policy';
import { PAD_RECORD_ID, PAD_CUSTOMER_ID } from '../../src/access/row-scope';
import { accessWorld, HOUSEHOLD_PHONE, type AccessWorld } from '../helpers/access-world';

const full = buildSchema(demoRegistry());
const schemas = buildRoleSchemas(full, loadPolicy(DEFAULT_POLICY_FILE, full));
const sales = schemas.get('sales')!;
const support = schemas.get('support')!;

async function asSales(query: string, variables?: Record<string, unknown>, teams = ['team-a'], world: AccessWorld = accessWorld(), schema = sales) {
  const document = parse(query);
  expect(validate(schema, document)).toEqual([]);
  const result = await execute({ schema, document, variableValues: variables, contextValue: world.context({ role: 'sales', principal: 'rep', teams }) });
  return { result: JSON.parse(JSON.stringify(result)), world };
}

describe('Access row scope: what sales sees', () => {
  it('answers its own team’s customer', async () => {
    const { result } = await asSales('{ customer(id: "c1") { id crmContacts { ownerTeam } } }');
    expect(result).toEqual({ data: { customer: { id: 'c1', crmContacts: [{ ownerTeam: 'team-a' }] } } });
  });

  it('answers another team’s customer exactly as an unknown one', async () => {
    const other = await asSales('{ customer(id: "c2") { id } }');
    const unknown = await asSales('{ customer(id: "nobody") { id } }');
    expect(other.result).toEqual({ data: { customer: null } });
    expect(other.result).toEqual(unknown.result);
  });

  it('treats a customer without CRM contact, and a caller without teams, as out of scope', async () => {
    expect((await asSales('{ customer(id: "c3") { id } }')).result).toEqual({ data: { customer: null } });
    expect((await asSales('{ customer(id: "c1") { id } }', undefined, [])).result).toEqual({ data: { customer: null } });
  });

  it('follows a merged-away id to the survivor, then scopes it', async () => {
    expect((await asSales('{ customer(id: "m1") { id } }')).result).toEqual({ data: { customer: { id: 'c1' } } });
  });

  it('nulls out-of-scope customers in a customers list, in place, as unknown ids are', async () => {
    const { result } = await asSales('{ customers(ids: ["c1", "c2", "nobody", "c3"]) { id } }');
    expect(result).toEqual({ data: { customers: [{ id: 'c1' }, null, null, null] } });
  });

  it('leaves out-of-scope holders out of customersByIdentifier', async () => {
    const { result } = await asSales(`{ customersByIdentifier(kind: PHONE, value: "${HOUSEHOLD_PHONE}") { id } }`);
    expect(result).toEqual({ data: { customersByIdentifier: [{ id: 'c1' }] } });
    const both = await asSales(`{ customersByIdentifier(kind: PHONE, value: "${HOUSEHOLD_PHONE}") { id } }`, undefined, ['team-a', 'team-b']);
    expect(both.result.data.customersByIdentifier.map((c: { id: string }) => c.id).sort()).toEqual(['c1', 'c2']);
  });

  it('does not call a shared identifier ambiguous because of holders out of scope', async () => {
    const q = `{ customerByIdentifier(kind: PHONE, value: "${HOUSEHOLD_PHONE}") { id } }`;
    expect((await asSales(q)).result).toEqual({ data: { customerByIdentifier: { id: 'c1' } } });
    expect((await asSales(q, undefined, ['team-b'])).result).toEqual({ data: { customerByIdentifier: { id: 'c2' } } });
    expect((await asSales(q, undefined, ['team-c'])).result).toEqual({ data: { customerByIdentifier: null } });
    const both = await asSales(q, undefined, ['team-a', 'team-b']);
    expect(both.result.errors[0].extensions.code).toBe('AMBIGUOUS_IDENTIFIER');
    expect(both.result.errors[0].extensions.matches).toBe(2);
  });

  it('still reports AMBIGUOUS_IDENTIFIER to unscoped roles', async () => {
    const { result } = await asSales(`{ customerByIdentifier(kind: PHONE, value: "${HOUSEHOLD_PHONE}") { id } }`, undefined, [], accessWorld(), support);
    expect(result.errors[0].extensions.code).toBe('AMBIGUOUS_IDENTIFIER');
  });

  it('scopes customerBySourceRecord', async () => {
    expect((await asSales('{ customerBySourceRecord(source: CRM, recordId: "C1") { id } }')).result).toEqual({ data: { customerBySourceRecord: { id: 'c1' } } });
    expect((await asSales('{ customerBySourceRecord(source: CRM, recordId: "C2") { id } }')).result).toEqual({ data: { customerBySourceRecord: null } });
  });
});

describe('Access row scope: no side channel', () => {
  const shape = async (query: string) => (await asSales(query)).world.sequence();

  it.each([
    ['customer', '{ customer(id: "c2") { id } }', '{ customer(id: "nobody") { id } }'],
    ['customers', '{ customers(ids: ["c2", "c3"]) { id } }', '{ customers(ids: ["x", "y"]) { id } }'],
    ['customerBySourceRecord', '{ customerBySourceRecord(source: CRM, recordId: "C2") { id } }', '{ customerBySourceRecord(source: CRM, recordId: "C9") { id } }'],
    ['customerByIdentifier', '{ customerByIdentifier(kind: PHONE, value: "+8613700137000") { id } }', '{ customerByIdentifier(kind: PHONE, value: "+8613600136000") { id } }'],
    [
      'customersByIdentifier',
      '{ customersByIdentifier(kind: PHONE, value: "+8613700137000") { id } }',
      '{ customersByIdentifier(kind: PHONE, value: "+8613600136000") { id } }',
    ],
  ])('%s makes the same calls for an out-of-scope customer as for an unknown one', async (_name, outOfScope, unknown) => {
    const a = await shape(outOfScope);
    const b = await shape(unknown);
    expect(a).toEqual(b);
    expect(a).toContain('oneid.sourceRecordsByCustomerIds');
    expect(a).toContain('crm.contactsByIds');
  });

  it('pads with keys nothing carries', async () => {
    const { world } = await asSales('{ customer(id: "nobody") { id } }');
    expect(world.calls['oneid.sourceRecordsByCustomerIds']).toEqual([[PAD_CUSTOMER_ID]]);
    expect(world.calls['crm.contactsByIds']).toEqual([[PAD_RECORD_ID]]);
  });

  it('fails alike for unknown and out-of-scope customers while the CRM is down', async () => {
    const run = async (id: string) => {
      const world = accessWorld();
      world.crmDown = true;
      return (await asSales(`{ customer(id: "${id}") { id } }`, undefined, ['team-a'], world)).result;
    };
    const other = await run('c2');
    const unknown = await run('nobody');
    expect(other).toEqual(unknown);
    expect(other.data).toEqual({ customer: null });
    expect(other.errors.map((e: any) => e.extensions.code)).toEqual(['SOURCE_UNAVAILABLE']);
  });
});

describe('Access row scope: batching', () => {
  it('checks a 200-id customers query with one OneID round and one CRM call, reused by the fields', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => (i % 5 === 4 ? `unknown-${i}` : ['c1', 'c2', 'c3', 'm1'][i % 4]));
    const { result, world } = await asSales('query($ids: [ID!]!) { customers(ids: $ids) { id crmContacts { id ownerTeam } } }', { ids });
    expect(result.errors).toBeUndefined();
    expect(result.data.customers.filter(Boolean).every((c: { id: string }) => c.id === 'c1')).toBe(true);
    expect(world.calls['oneid.customersByIds']).toHaveLength(1);
    expect(world.calls['oneid.sourceRecordsByCustomerIds']).toHaveLength(1);
    expect(world.calls['crm.contactsByIds']).toHaveLength(1);
    expect(new Set(world.calls['crm.contactsByIds'][0])).toEqual(new Set(['C1', 'C2']));
  });

  it('batches the checks of aliased entry points into one round each', async () => {
    const { world } = await asSales('{ a: customer(id: "c1") { id } b: customer(id: "c2") { id } c: customerBySourceRecord(source: CRM, recordId: "C1") { id } }');
    expect(world.calls['oneid.sourceRecordsByCustomerIds']).toHaveLength(1);
    expect(world.calls['crm.contactsByIds']).toHaveLength(1);
  });
});
