/**
 * Access limits: how an operation is measured (depth, aliases, cost, ids) and which limit it
 * exceeds. The Apollo path (refused before execution, no source called) is in
 * test/integration/access-apollo.test.ts.
 */
import { demoRegistry } from '../helpers/registry';
import { getIntrospectionQuery, getOperationAST, parse } from 'graphql';
import { buildSchema } from '../../src/schema';
import { checkLimits, measureOperation } from '../../src/access/limits';
import type { Limits } from '../../src/access/config';

const schema = buildSchema(demoRegistry());
const measure = (query: string, variables: Record<string, unknown> = {}, defaultListSize = 10) => {
  const doc = parse(query);
  return measureOperation(schema, doc, getOperationAST(doc)!, variables, defaultListSize);
};
const LIMITS: Limits = { maxDepth: 15, maxAliases: 30, maxCost: 100000, maxIds: 200, defaultListSize: 10 };

/** `__type { fields { type { ofType { ofType … } } } }`, `depth` levels deep. */
function deepIntrospection(depth: number): string {
  let inner = 'name';
  for (let i = 0; i < depth - 4; i++) inner = `ofType { ${inner} }`;
  return `{ __type(name: "Customer") { fields { type { ${inner} } } } }`;
}

describe('Access limits: measuring', () => {
  it('measures depth from the root field, fragments and inline fragments included', () => {
    expect(measure('{ customer(id: "1") { id } }').depth).toBe(2);
    expect(measure('{ customer(id: "1") { ...F } } fragment F on Customer { crmContacts { tierChanges { toTier } } }').depth).toBe(4);
    expect(measure('{ customer(id: "1") { ... on Customer { orders { total { amount } } } } }').depth).toBe(4);
  });

  it('lets the standard introspection query through at depth 15', () => {
    const m = measure(getIntrospectionQuery());
    expect(m.depth).toBe(15);
    expect(checkLimits(m, LIMITS)).toBeNull();
  });

  it('counts aliases, as often as their fragment is spread', () => {
    expect(measure('{ a: customer(id: "1") { id } b: customer(id: "2") { x: id } }').aliases).toBe(3);
    expect(measure('{ customer(id: "1") { ...F ...F } } fragment F on Customer { a: id b: id }').aliases).toBe(4);
  });

  it('costs list fields by first, by ids, or by the default list size', () => {
    // customer 1 + id 1
    expect(measure('{ customer(id: "1") { id } }').cost).toBe(2);
    // customers: 1 + 3 ids × (id 1)
    expect(measure('{ customers(ids: ["1", "2", "3"]) { id } }').cost).toBe(4);
    expect(measure('query($ids: [ID!]!) { customers(ids: $ids) { id } }', { ids: ['1', '2'] }).cost).toBe(3);
    // orders(first: 5): 1 + 5 × (id) ; orders without first uses the schema default 20
    expect(measure('{ customer(id: "1") { orders(first: 5) { id } } }').cost).toBe(1 + (1 + 5));
    expect(measure('{ customer(id: "1") { orders { id } } }').cost).toBe(1 + (1 + 20));
    expect(measure('query($n: Int) { customer(id: "1") { orders(first: $n) { id } } }', { n: 7 }).cost).toBe(1 + (1 + 7));
    expect(measure('query($n: Int) { customer(id: "1") { orders(first: $n) { id } } }').cost).toBe(1 + (1 + 20));
    // crmContacts has no size argument: the default list size
    expect(measure('{ customer(id: "1") { crmContacts { id } } }', {}, 3).cost).toBe(1 + (1 + 3));
  });

  it('measures a fragment once however often it is spread (no blow-up on nested spreads)', () => {
    const levels = 30;
    let doc = 'fragment F0 on Customer { id }\n';
    for (let i = 1; i <= levels; i++) doc += `fragment F${i} on Customer { ...F${i - 1} ...F${i - 1} }\n`;
    const started = Date.now();
    const m = measure(`{ customer(id: "1") { ...F${levels} } } ${doc}`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(m.cost).toBe(1 + 2 ** levels);
  });

  it('finds the largest list of ids', () => {
    expect(measure('{ a: customers(ids: ["1"]) { id } b: customers(ids: ["1", "2", "3"]) { id } }').maxIds).toBe(3);
  });
});

describe('Access limits: refusing', () => {
  const codeOf = (m: ReturnType<typeof measure>, limits = LIMITS) => checkLimits(m, limits)?.extensions;

  it('refuses a depth-20 query', () => {
    expect(codeOf(measure(deepIntrospection(20)))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxDepth', actual: 20, http: { status: 400 } });
  });

  it('refuses 1,000 aliases', () => {
    const q = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: customer(id: "${i}") { id }`).join(' ')} }`;
    expect(codeOf(measure(q))).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxAliases', actual: 1000 });
  });

  it('refuses more ids than the role may ask for', () => {
    const ids = Array.from({ length: 201 }, (_, i) => `c${i}`);
    expect(codeOf(measure('query($ids: [ID!]!) { customers(ids: $ids) { id } }', { ids }))).toMatchObject({ limit: 'maxIds', actual: 201 });
  });

  it('refuses a query over the cost budget', () => {
    const q = 'query($ids: [ID!]!) { customers(ids: $ids) { orders(first: 100) { lines { sku name } refunds { id } } } }';
    const m = measure(q, { ids: Array.from({ length: 200 }, (_, i) => `c${i}`) });
    expect(codeOf(m)).toMatchObject({ limit: 'maxCost', max: 100000 });
  });

  it('lets an ordinary query through', () => {
    expect(codeOf(measure('{ customer(id: "1") { id crmContacts { name phone } orders(first: 20) { id total { amount } } } }'))).toBeUndefined();
  });
});
