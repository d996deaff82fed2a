/**
 * Access limits: how an operation is measured (depth, aliases, cost, ids) and which limit it
 * exceeds; how a parsed document is counted before validation (fields, aliases, fragments
 * expanded) and refused there; the per-principal rate and concurrency caps. The Apollo path (refused before execution, no source called) is in
 * test/integration/access-apollo.test.ts.
 */
import { demoRegistry } from '../helpers/registry';
import { GraphQLError, Kind, getIntrospectionQuery, getOperationAST, parse, print, specifiedRules, validate, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { buildSchema } from '../../src/schema';
import { asQueryTooComplex, checkDocumentLimits, checkLimits, documentLimitsRule, limitsPlugin, measureDocument, measureOperation } from '../../src/access/limits';
import { countLookups, countsPersonalLookups, createLookupBudget } from '../../src/access/lookup-budget';
import type { Viewer } from '../../src/context';
import { createRateLimiter } from '../../src/access/rate-limit';
import { LIMIT_DEFAULTS, type Limits } from '../../src/access/config';

const schema = buildSchema(demoRegistry());
const measure = (query: string, variables: Record<string, unknown> = {}, defaultListSize = 10) => {
  const doc = parse(query);
  return measureOperation(schema, doc, getOperationAST(doc)!, variables, defaultListSize);
};
const LIMITS: Limits = { maxDepth: 15, maxAliases: 30, maxCost: 100000, maxIds: 200, defaultListSize: 10, ...LIMIT_DEFAULTS };

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

  it('costs a connection’s edges by its first: a page of 1,000 costs a hundred times a page of 10', () => {
    const page = (first: string) => `{ customersConnection(first: ${first}) { totalCount edges { cursor node { id orders(first: 5) { id } } } } }`;
    // connection 1 + totalCount 1 + edges (1 + first × (cursor 1 + node (1 + id 1 + orders (1 + 5 × id 1))))
    const perCustomer = 1 + (1 + 1 + (1 + 5));
    expect(measure(page('10')).cost).toBe(1 + 1 + 1 + 10 * perCustomer);
    expect(measure(page('1000')).cost).toBe(1 + 1 + 1 + 1000 * perCustomer);
    // its default first (100), and through a variable and a fragment on the connection
    expect(measure('{ customersConnection { edges { node { id } } } }').cost).toBe(1 + 1 + 100 * (1 + 1));
    expect(measure('query($n: Int) { customersConnection(first: $n) { ...C } } fragment C on CustomerConnection { edges { node { id } } }', { n: 7 }).cost).toBe(
      1 + 1 + 7 * (1 + 1),
    );
    // a segment's page is a connection too
    expect(measure('{ segment(name: "s") { customers(first: 300) { edges { node { id } } } } }').cost).toBe(1 + 1 + 1 + 300 * (1 + 1));
  });

  it('measures a fragment once however often it is spread (no blow-up on nested spreads)', () => {
    const levels = 30;
    let doc = 'fragment F0 on Customer { id }\n';
    for (let i = 1; i <= levels; i++) doc += `fragment F${i} on Customer { ...F${i - 1} ...F${i - 1} }\n`;
    // Count how often the measure walks a fragment's body: once each, not once per spread (2^30).
    const document = parse(`{ customer(id: "1") { ...F${levels} } } ${doc}`);
    let walks = 0;
    const counted = {
      ...document,
      definitions: document.definitions.map((d) =>
        d.kind !== Kind.FRAGMENT_DEFINITION
          ? d
          : new Proxy(d, {
              get: (target, key) => {
                if (key === 'selectionSet' && ++walks > 10 * levels) throw new Error(`walked fragment bodies ${walks} times`);
                return target[key as keyof typeof target];
              },
            }),
      ),
    };
    const m = measureOperation(schema, counted, getOperationAST(counted)!, {}, 10);
    expect(walks).toBe(levels + 1);
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

  it('measures a list variable the request leaves out by its default in the operation, as execution reads it', () => {
    const ids = Array.from({ length: 201 }, (_, i) => `"c${i}"`).join(', ');
    const q = `query($ids: [ID!]! = [${ids}]) { customers(ids: $ids) { orders(first: 100) { lines { sku name } refunds { id } } } }`;
    expect(codeOf(measure(q))).toMatchObject({ limit: 'maxIds', actual: 201 });
    expect(measure(q)).toEqual(measure(q, { ids: Array.from({ length: 201 }, (_, i) => `c${i}`) }));
    // A value the request sends wins over the default.
    expect(measure(q, { ids: ['c1'] }).maxIds).toBe(1);
  });

  it('lets an ordinary query through', () => {
    expect(codeOf(measure('{ customer(id: "1") { id crmContacts { name phone } orders(first: 20) { id total { amount } } } }'))).toBeUndefined();
  });
});

describe('Access limits: the plugin measures an operation again only when its variables can change the measure', () => {
  /** One request through the plugin's hook, on a parsed document kept like Apollo's document cache keeps it. */
  const plugin = limitsPlugin(LIMITS);
  const check = async (doc: DocumentNode, variables: Record<string, unknown>) => {
    const hooks = await plugin.requestDidStart!({} as never);
    const rc = { schema, document: doc, operation: getOperationAST(doc)!, source: print(doc), request: { variables } };
    return (hooks as { didResolveOperation(rc: unknown): Promise<void> }).didResolveOperation(rc);
  };
  const many = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);

  it('refuses the second request of an operation whose ids grew past the limit', async () => {
    const doc = parse('query($ids: [ID!]!) { customers(ids: $ids) { id } }');
    await expect(check(doc, { ids: many(3) })).resolves.toBeUndefined();
    await expect(check(doc, { ids: many(201) })).rejects.toMatchObject({ extensions: { limit: 'maxIds', actual: 201 } });
  });

  it('refuses the second request of an operation whose page size grew past the budget', async () => {
    const doc = parse('query($n: Int) { customer(id: "1") { orders(first: $n) { lines { sku } refunds { id } } } }');
    await expect(check(doc, { n: 5 })).resolves.toBeUndefined();
    await expect(check(doc, { n: 100000 })).rejects.toMatchObject({ extensions: { limit: 'maxCost' } });
  });

  it('keeps the measure of an operation whose variables only name what to read', async () => {
    const doc = parse('query($id: ID!) { customer(id: $id) { id orders(first: 5) { id } } }');
    const spy = jest.spyOn(schema, 'getRootType');
    await check(doc, { id: 'a' });
    const measuredOnce = spy.mock.calls.length;
    await check(doc, { id: 'b' });
    await check(doc, { id: 'c' });
    // Each request asks for the root type once to refuse an operation the role lacks; measuring would ask again.
    expect(spy.mock.calls.length - measuredOnce).toBe(2);
    spy.mockRestore();
  });
});

describe('Access limits: counting the parsed document before validation', () => {
  const count = (query: string) => measureDocument(parse(query));

  it('counts every field and alias, nested and in inline fragments', () => {
    expect(count('{ customer(id: "1") { id name } }')).toEqual({ fields: 3, aliases: 0 });
    expect(count('{ a: customer(id: "1") { x: id } b: customer(id: "2") { id ... on Customer { y: name } } }')).toEqual({ fields: 5, aliases: 4 });
    expect(count(`{ customer(id: "1") { ${Array.from({ length: 5000 }, (_, i) => `a${i}: id`).join(' ')} } }`)).toEqual({ fields: 5001, aliases: 5000 });
  });

  it('expands a fragment as often as it is spread, nested spreads included', () => {
    expect(count('{ customer(id: "1") { ...F ...F } } fragment F on Customer { a: id b: name }')).toEqual({ fields: 5, aliases: 4 });
    expect(count('{ customer(id: "1") { ...G } } fragment G on Customer { ...F ...F ...F } fragment F on Customer { id crmContacts { id } }')).toEqual({
      fields: 1 + 3 * 3,
      aliases: 0,
    });
    // An unknown fragment counts as empty (validation refuses it).
    expect(count('{ customer(id: "1") { id ...Missing } }')).toEqual({ fields: 2, aliases: 0 });
  });

  it('counts every operation, and once each fragment no operation spreads', () => {
    expect(count('query A { customer(id: "1") { id } } query B { x: customer(id: "2") { id } }')).toEqual({ fields: 4, aliases: 1 });
    expect(count('{ customer(id: "1") { id } } fragment Unused on Customer { a: id b: id }')).toEqual({ fields: 4, aliases: 2 });
  });

  it('measures exponential fragment blow-up in linear time, saturating', () => {
    const doc = (levels: number) => {
      let d = '{ customer(id: "1") { ...F' + levels + ' } }\nfragment F0 on Customer { id }\n';
      for (let i = 1; i <= levels; i++) d += `fragment F${i} on Customer { ...F${i - 1} ...F${i - 1} }\n`;
      return d;
    };
    expect(count(doc(30)).fields).toBe(1 + 2 ** 30);
    // 2^1200 fields: the count stops at the largest safe integer instead of growing to Infinity.
    expect(count(doc(1200)).fields).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('terminates on cyclic fragments (validation refuses them later), counting the cycle once', () => {
    expect(count('{ customer(id: "1") { ...A } } fragment A on Customer { id ...B } fragment B on Customer { name ...A }')).toEqual({ fields: 3, aliases: 0 });
    expect(count('{ customer(id: "1") { ...Self ...Self } } fragment Self on Customer { id ...Self }')).toEqual({ fields: 3, aliases: 0 });
    // A cycle no operation reaches is still counted (and still finite).
    expect(count('{ __typename } fragment A on Customer { a: id ...B } fragment B on Customer { b: id ...A }').aliases).toBeGreaterThanOrEqual(2);
  });

  it('walks deep nesting without recursing', () => {
    const depth = 1000;
    expect(count(`{ ${'a { '.repeat(depth)}b${' }'.repeat(depth)} }`)).toEqual({ fields: depth + 1, aliases: 0 });
  });

  it('refuses over maxAliases first, then over maxFields, naming the limit and the value', () => {
    expect(checkDocumentLimits({ fields: 10, aliases: 31 }, LIMITS)?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxAliases', max: 30, actual: 31 });
    expect(checkDocumentLimits({ fields: 5000, aliases: 31 }, LIMITS)?.extensions).toMatchObject({ limit: 'maxAliases' });
    const fields = checkDocumentLimits({ fields: 2001, aliases: 0 }, LIMITS);
    expect(fields?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxFields', max: 2000, actual: 2001 });
    expect(fields?.message).toBe('Query selects 2001 fields; the limit is 2000');
    expect(checkDocumentLimits({ fields: 2000, aliases: 30 }, LIMITS)).toBeNull();
  });
});

describe('Access limits: the pre-validation rule', () => {
  const rules = [...specifiedRules, documentLimitsRule(LIMITS)];

  it('over a limit, reports only QUERY_TOO_COMPLEX: no other rule walks the document', () => {
    // Also invalid in many ways (unknown field, overlapping aliases): none of it is reported.
    const q = `{ customer(id: "1") { ${Array.from({ length: 3000 }, (_, i) => `same: ${i % 2 ? 'id' : 'name'} nope${i}`).join(' ')} } }`;
    const errors = validate(schema, parse(q), rules);
    expect(errors).toHaveLength(1);
    expect(errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxAliases', actual: 3000 });
  });

  it('within limits, leaves validation as it was', () => {
    expect(validate(schema, parse('{ customer(id: "1") { id crmContacts { name } } }'), rules)).toEqual([]);
    const cyclic = parse('{ customer(id: "1") { ...A } } fragment A on Customer { id ...B } fragment B on Customer { name ...A }');
    expect(validate(schema, cyclic, rules).map((e) => e.message)).toEqual(validate(schema, cyclic).map((e) => e.message));
    expect(validate(schema, cyclic, rules).length).toBeGreaterThan(0);
    const unknown = validate(schema, parse('{ customer(id: "1") { nope } }'), rules);
    expect(unknown).toHaveLength(1);
    expect(unknown[0].message).toMatch(/^Cannot query field "nope" on type "Customer"/);
  });

  it("gives the parser's token refusal and the rule's refusal back their QUERY_TOO_COMPLEX code", () => {
    let parseError: GraphQLError | undefined;
    try {
      parse(`{ ${'id '.repeat(200)} }`, { maxTokens: 100 });
    } catch (e) {
      parseError = e as GraphQLError;
    }
    expect(parseError).toBeInstanceOf(GraphQLError);
    // As Apollo formats a parse failure (SyntaxError, GRAPHQL_PARSE_FAILED).
    const tokens = asQueryTooComplex({ message: parseError!.message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }, parseError);
    expect(tokens).toEqual({ message: 'Query has more than 100 tokens; the limit is 100', extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'maxTokens', max: 100 } });

    const refusal = checkDocumentLimits({ fields: 2001, aliases: 0 }, LIMITS)!;
    // As Apollo wraps a validation error: its own code over ours, ours as originalError.
    const wrapped = new GraphQLError(refusal.message, { extensions: { ...refusal.extensions, code: 'GRAPHQL_VALIDATION_FAILED' }, originalError: refusal });
    expect(asQueryTooComplex({ message: wrapped.message, extensions: wrapped.extensions }, wrapped)).toEqual({
      message: 'Query selects 2001 fields; the limit is 2000',
      extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'maxFields', max: 2000, actual: 2001 },
    });
    // Other parse and validation errors are left alone.
    expect(asQueryTooComplex({ message: 'Syntax Error: Unexpected "}".', extensions: { code: 'GRAPHQL_PARSE_FAILED' } }, new GraphQLError('x'))).toBeUndefined();
    expect(asQueryTooComplex({ message: 'Cannot query field', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, new GraphQLError('x'))).toBeUndefined();
  });
});

describe('Access limits: per-principal rate and concurrency caps', () => {
  const limiter = (limits: { requestsPerMinute: number; maxConcurrent: number; maxConcurrentExports?: number }, maxPrincipals?: number) => {
    const clock = { t: 0 };
    return { clock, rl: createRateLimiter({ limitsFor: (role) => (role === 'none' ? undefined : limits), now: () => clock.t, maxPrincipals }) };
  };
  const as = (principal: string, principalKind: 'apiKey' | 'jwt' = 'apiKey') => ({ role: 'support', principal, principalKind });

  it("lets a minute's worth through at once, then refuses with the seconds until the next token", () => {
    const { clock, rl } = limiter({ requestsPerMinute: 3, maxConcurrent: 100 });
    for (let i = 0; i < 3; i++) {
      const a = rl.admit(as('k'));
      expect(a.ok).toBe(true);
      if (a.ok) a.release();
    }
    expect(rl.admit(as('k'))).toMatchObject({ ok: false, limit: 'requestsPerMinute', max: 3, retryAfterSeconds: 20 });
    clock.t = 15_000;
    expect(rl.admit(as('k'))).toMatchObject({ ok: false, retryAfterSeconds: 5 });
    clock.t = 20_000;
    expect(rl.admit(as('k')).ok).toBe(true);
    // Another principal, or the same name authenticated another way, has its own bucket.
    expect(rl.admit(as('other')).ok).toBe(true);
    expect(rl.admit(as('k', 'jwt')).ok).toBe(true);
  });

  it('caps requests in flight per principal until they are released (once)', () => {
    const { rl } = limiter({ requestsPerMinute: 1000, maxConcurrent: 1 });
    const first = rl.admit(as('k'));
    expect(first.ok).toBe(true);
    expect(rl.admit(as('k'))).toMatchObject({ ok: false, limit: 'maxConcurrent', max: 1, retryAfterSeconds: 1 });
    expect(rl.admit(as('other')).ok).toBe(true);
    if (first.ok) {
      first.release();
      first.release();
    }
    const again = rl.admit(as('k'));
    expect(again.ok).toBe(true);
    expect(rl.admit(as('k')).ok).toBe(false);
  });

  it('caps exports in flight per principal below its requests, each freed once when its export ends', () => {
    const { rl } = limiter({ requestsPerMinute: 1000, maxConcurrent: 16, maxConcurrentExports: 4 });
    const held = [1, 2, 3, 4].map(() => rl.admit(as('k'), 'export'));
    expect(held.every((a) => a.ok)).toBe(true);
    expect(rl.admit(as('k'), 'export')).toMatchObject({ ok: false, limit: 'maxConcurrentExports', max: 4, retryAfterSeconds: 1 });
    // Its other requests, and another principal's exports, still go through.
    const query = rl.admit(as('k'));
    expect(query.ok).toBe(true);
    if (query.ok) query.release();
    expect(rl.admit(as('other'), 'export').ok).toBe(true);
    const [first] = held;
    if (first.ok) {
      first.release();
      first.release();
    }
    expect(rl.admit(as('k'), 'export').ok).toBe(true);
    expect(rl.admit(as('k'), 'export').ok).toBe(false);
  });

  it('does not limit a role without limits', () => {
    const { rl } = limiter({ requestsPerMinute: 1, maxConcurrent: 1 });
    for (let i = 0; i < 5; i++) expect(rl.admit({ role: 'none', principal: 'none' }).ok).toBe(true);
    expect(rl.size()).toBe(0);
  });

  it('forgets idle principals, and keeps memory bounded under many principals', () => {
    const { clock, rl } = limiter({ requestsPerMinute: 60, maxConcurrent: 10 }, 100);
    const held = rl.admit(as('busy'));
    for (let i = 0; i < 1000; i++) {
      const a = rl.admit(as(`p${i}`));
      if (a.ok) a.release();
    }
    expect(rl.size()).toBeLessThanOrEqual(100);
    // Refilled and idle a minute later: forgotten at the next sweep; the one in flight is kept.
    clock.t = 120_000;
    rl.admit(as('late'));
    expect(rl.size()).toBe(2);
    expect(held.ok).toBe(true);
    expect(rl.admit(as('busy')).ok).toBe(true);
  });
});

describe('Access limits: lookups an operation asks', () => {
  const count = (source: string) => {
    const document = parse(source);
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
    return countLookups(document, operation);
  };

  it('counts each aliased lookup at the root, through inline fragments and fragments spread once or twice', () => {
    expect(count('{ a: customerByIdentifier(kind: PHONE, value: "1") { id } b: customersByIdentifier(kind: EMAIL, value: "x") { id } customer(id: "c") { id } }')).toBe(2);
    expect(
      count(
        '{ ... on Query { customerBySourceRecord(source: CRM, recordId: "C1") { id } } ...F ...F } fragment F on Query { x: customerByIdentifier(kind: PHONE, value: "1") { id } }',
      ),
    ).toBe(2);
    expect(count('{ customers(ids: ["a"]) { id } }')).toBe(0);
    expect(count('mutation { deleteSegment(name: "x") }')).toBe(0);
  });

  /**
   * A lookup `@skip`/`@include` leaves out never runs: execution decides from the same variables.
   * Until session 42 (2026-12-06) it counted: two requests of 30 skipped aliases, answered
   * `{"data":{}}`, spent a support key's minute of lookups, and its third request was 429 for 30 s.
   */
  it('counts a lookup only where @skip and @include let it run, on a field, an inline fragment or a spread', () => {
    const of = (source: string, variables: Record<string, unknown> = {}) => {
      const document = parse(source);
      const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
      return countLookups(document, operation, variables);
    };
    const LOOKUP = 'customerByIdentifier(kind: PHONE, value: "1") { id }';
    expect(of(`query($s: Boolean!) { ${LOOKUP.replace(' {', ' @skip(if: $s) {')} }`, { s: true })).toBe(0);
    expect(of(`query($s: Boolean!) { ${LOOKUP.replace(' {', ' @skip(if: $s) {')} }`, { s: false })).toBe(1);
    expect(of(`{ ${LOOKUP.replace(' {', ' @include(if: false) {')} }`)).toBe(0);
    expect(of(`{ ${LOOKUP.replace(' {', ' @include(if: true) @skip(if: false) {')} }`)).toBe(1);
    expect(of(`{ ${LOOKUP.replace(' {', ' @include(if: true) @skip(if: true) {')} }`)).toBe(0);
    expect(of(`query($i: Boolean!) { ... @include(if: $i) { ${LOOKUP} } }`, { i: false })).toBe(0);
    expect(of(`{ ...F @skip(if: true) a: ${LOOKUP} } fragment F on Query { ${LOOKUP} }`)).toBe(1);
    // A condition the variables do not settle as a Boolean counts: execution refuses such a variable, so nothing runs, but nothing is spared either.
    expect(of(`query($s: Boolean!) { ${LOOKUP.replace(' {', ' @skip(if: $s) {')} }`, { s: 'true' })).toBe(1);
    expect(of(`query($s: Boolean!) { ${LOOKUP.replace(' {', ' @skip(if: $s) {')} }`)).toBe(1);
  });

  it('keeps one bucket per principal whatever role it comes in as: a second role gains no lookups', () => {
    const budget = createLookupBudget({ now: () => 0 });
    const asSupport = { role: 'support', principal: 'alice', principalKind: 'jwt' } as Viewer;
    const asSales = { role: 'sales', principal: 'alice', principalKind: 'jwt' } as Viewer;
    expect(budget.take(asSupport, 60, 60)).toEqual({ ok: true });
    expect(budget.take(asSales, 1, 60)).toEqual({ ok: false, retryAfterSeconds: 1 });
    // The same name authenticated another way is another principal (an API key named as a token's subject).
    expect(budget.take({ ...asSales, principalKind: 'apiKey' } as Viewer, 1, 60)).toEqual({ ok: true });
  });

  it('counts a lookup by a record id only where the policy classifies that source’s record ids as personal', () => {
    const counts = countsPersonalLookups(new Map([['SourceRecord.recordId', { when: new Map([['source', new Set(['SCRM'])]]) }]]));
    const of = (source: string, variables: Record<string, unknown> = {}) => {
      const document = parse(source);
      const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
      return countLookups(document, operation, variables, counts);
    };
    expect(of('{ a: customerBySourceRecord(source: CRM, recordId: "C1") { id } b: customerBySourceRecord(source: SCRM, recordId: "o1") { id } }')).toBe(1);
    expect(of('query($s: SourceName!) { customerBySourceRecord(source: $s, recordId: "o1") { id } }', { s: 'SCRM' })).toBe(1);
    expect(of('query($s: SourceName!) { customerBySourceRecord(source: $s, recordId: "C1") { id } }', { s: 'CRM' })).toBe(0);
    expect(of('{ customerByIdentifier(kind: MEMBER_NO, value: "M12345678") { id } }')).toBe(1);
  });

  it('takes a minute’s lookups from one principal’s bucket, grows them back at that rate, and keeps principals apart', () => {
    let t = 0;
    const budget = createLookupBudget({ now: () => t });
    const alice = { role: 'support', principal: 'alice', principalKind: 'apiKey' } as Viewer;
    const bob = { role: 'support', principal: 'bob', principalKind: 'apiKey' } as Viewer;
    expect(budget.take(alice, 60, 60)).toEqual({ ok: true });
    expect(budget.take(alice, 1, 60)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(budget.take(alice, 30, 60)).toEqual({ ok: false, retryAfterSeconds: 30 });
    expect(budget.take(bob, 1, 60)).toEqual({ ok: true });
    t += 30_000;
    expect(budget.take(alice, 30, 60)).toEqual({ ok: true });
    expect(budget.take(alice, 1, 60)).toEqual({ ok: false, retryAfterSeconds: 1 });
  });
});
