/**
 * Query limits per role, checked once the operation is known and before it executes:
 * depth, aliases, a cost budget, and ids per list argument. Over a limit the request fails
 * with QUERY_TOO_COMPLEX (HTTP 400) and no resolver, loader or source is ever called.
 *
 * Apollo Server reports errors from `validationRules` as GRAPHQL_VALIDATION_FAILED, so the
 * check runs in a plugin's `didResolveOperation` instead: Apollo sends what that hook throws
 * as is (requestPipeline.ts → sendErrorResponse), taking the status from `extensions.http`.
 *
 * Before that, two cheap refusals keep an abusive document from costing parse or validation
 * time (validation of a huge document takes seconds and blocks the event loop for everyone):
 *  - the parser stops at `maxTokens` tokens (graphql-js `maxTokens`, Apollo's `parseOptions`);
 *  - `documentLimitsRule`, the first thing validation does, counts the parsed document's fields
 *    and aliases in one pass (fragments expanded, cycles and blow-up bounded) and, over
 *    `maxAliases` or `maxFields`, reports QUERY_TOO_COMPLEX and ends validation there.
 * Both surface as Apollo's GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED errors;
 * `asQueryTooComplex` (used by formatError) gives them back their QUERY_TOO_COMPLEX code.
 *
 * Cost: every field costs 1; a list field's sub-selection counts once per requested item
 * (`first`, else the length of an `ids` argument, else `defaultListSize`). Fragments are
 * counted as often as they are spread, with each fragment measured once (memoized), so a
 * document of fragments spreading fragments cannot make the check itself expensive.
 */
import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isInputType,
  isListType,
  isNonNullType,
  typeFromAST,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  type ParseOptions,
  type ValidationRule,
  type GraphQLFormattedError,
} from 'graphql';
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { Context, Viewer } from '../context';
import type { Limits } from './config';
import { countLookups, type CountsLookup, type LookupBudget } from './lookup-budget';
import { queryTooComplex, rateLimited } from '../errors';

export interface Measure {
  depth: number;
  aliases: number;
  cost: number;
  /** Largest list-of-ID argument seen. */
  maxIds: number;
}

const tooComplex = (message: string, detail: Record<string, unknown>) =>
  new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', ...detail, http: { status: 400 } } });

/** The value of an argument node, reading variables from the request (not yet coerced). */
function argValue(node: ValueNode, variables: Record<string, unknown>): unknown {
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value];
    case Kind.INT:
      return Number(node.value);
    case Kind.LIST:
      return node.values.map((v) => argValue(v, variables));
    case Kind.NULL:
      return null;
    default:
      return undefined;
  }
}

const lengthOf = (v: unknown) => (Array.isArray(v) ? v.length : v === null || v === undefined ? 0 : 1);

/** Whether a value node is, or holds, a variable. */
const holdsVariable = (node: ValueNode): boolean => node.kind === Kind.VARIABLE || (node.kind === Kind.LIST && node.values.some(holdsVariable));

/**
 * Measures an operation. Assumes the document passed validation (fields exist, fragments do
 * not cycle); unknown fields are counted at cost 1 without descending.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> = {},
  defaultListSize = 10,
): Measure {
  return measureWithDependence(schema, document, operation, variables, defaultListSize).measure;
}

/**
 * The variables as execution will see them: one the request leaves out takes the operation's
 * default (`query($ids: [ID!]! = ["…", …])`). Measured without it, such a list counted as empty
 * and ran unchecked.
 */
export function variablesWithDefaults(operation: OperationDefinitionNode, variables: Record<string, unknown>): Record<string, unknown> {
  let out = variables;
  for (const d of operation.variableDefinitions ?? []) {
    const name = d.variable.name.value;
    if (!d.defaultValue || out[name] !== undefined) continue;
    if (out === variables) out = { ...variables };
    out[name] = valueFromASTUntyped(d.defaultValue);
  }
  return out;
}

/**
 * The measure, and whether it read a variable: only list sizes (`first`, `ids`) and ID lists
 * take their values from the request; an operation measured without reading one measures the same
 * for any variables (a customer's `$id` does not change what it may cost).
 */
function measureWithDependence(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  defaultListSize: number,
): { measure: Measure; readVariables: boolean } {
  variables = variablesWithDefaults(operation, variables);
  let readVariables = false;
  /** An argument's value, noting when it comes from the request's variables. */
  const valueOf = (node: ValueNode | undefined): unknown => {
    if (!node) return undefined;
    if (holdsVariable(node)) readVariables = true;
    return argValue(node, variables);
  };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, Measure>();
  let maxIds = 0;

  /** A field's `first` (given, or its default), or null when it takes none. */
  const firstOf = (field: GraphQLField<unknown, unknown>, args: Map<string, ValueNode>): number | null => {
    const given = valueOf(args.get('first'));
    const first = typeof given === 'number' ? given : field.args.find((a) => a.name === 'first')?.defaultValue;
    return typeof first === 'number' && Number.isFinite(first) ? Math.max(0, first) : null;
  };
  /** How many items a list field is taken to hold: its `first`, its ids, the page of the connection it is the list of, or the default. */
  const listSize = (field: GraphQLField<unknown, unknown>, args: Map<string, ValueNode>, page: number | undefined): number => {
    const first = firstOf(field, args);
    if (first !== null) return first;
    if (args.has('ids')) return lengthOf(valueOf(args.get('ids')));
    return page ?? defaultListSize;
  };

  /** `page`: the `first` of the connection this selection set belongs to; its lists (`edges`) hold that many. */
  const measureSet = (set: SelectionSetNode, parent: GraphQLCompositeType | undefined, page?: number): Measure => {
    let depth = 0;
    let aliases = 0;
    let cost = 0;
    for (const sel of set.selections) {
      let m: Measure;
      if (sel.kind === Kind.FIELD) {
        m = measureField(sel, parent, page);
        if (sel.alias) m = { ...m, aliases: m.aliases + 1 };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const cond = sel.typeCondition ? typeFromAST(schema, sel.typeCondition) : parent;
        m = measureSet(sel.selectionSet, cond && isCompositeType(cond) ? cond : parent, page);
      } else {
        const name = sel.name.value;
        // A fragment measures the same wherever it is spread, but for the page its lists hold.
        const key = page === undefined ? name : `${name}\u0000${page}`;
        let fm = memo.get(key);
        if (!fm) {
          const frag = fragments.get(name);
          const cond = frag ? typeFromAST(schema, frag.typeCondition) : undefined;
          memo.set(key, (fm = { depth: 0, aliases: 0, cost: 0, maxIds: 0 })); // a cycle (invalid) counts as empty
          fm = frag ? measureSet(frag.selectionSet, cond && isCompositeType(cond) ? cond : undefined, page) : fm;
          memo.set(key, fm);
        }
        m = fm;
      }
      depth = Math.max(depth, m.depth);
      aliases += m.aliases;
      cost += m.cost;
    }
    return { depth, aliases, cost, maxIds };
  };

  const measureField = (node: FieldNode, parent: GraphQLCompositeType | undefined, page: number | undefined): Measure => {
    const name = node.name.value;
    const field = parent && 'getFields' in parent ? parent.getFields()[name] : undefined;
    // Argument values are read only where a measure uses them (list sizes, ID lists).
    const args = new Map<string, ValueNode>();
    for (const a of node.arguments ?? []) args.set(a.name.value, a.value);
    if (field) {
      for (const def of field.args) {
        const t = getNullableType(def.type);
        if (isListType(t) && isInputType(t) && getNamedType(t).name === 'ID' && args.has(def.name)) {
          maxIds = Math.max(maxIds, lengthOf(valueOf(args.get(def.name))));
        }
      }
    }
    if (!node.selectionSet) return { depth: 1, aliases: 0, cost: 1, maxIds };
    const type = field ? field.type : introspectionType(schema, name);
    const named = type ? getNamedType(type) : undefined;
    const isList = type ? isListType(isNonNullType(type) ? type.ofType : type) : false;
    // A connection (an object field taking `first`) passes its page to the lists under it: `edges` holds `first` customers.
    const connectionPage = field && !isList ? (firstOf(field, args) ?? undefined) : undefined;
    const child = measureSet(node.selectionSet, named && isCompositeType(named) ? named : undefined, connectionPage);
    const times = field && isList ? listSize(field, args, page) : 1;
    return { depth: 1 + child.depth, aliases: child.aliases, cost: 1 + times * child.cost, maxIds };
  };

  const root = schema.getRootType(operation.operation) ?? undefined;
  const m = measureSet(operation.selectionSet, root);
  return { measure: { ...m, maxIds }, readVariables };
}

/** The meta fields' types, so introspection's depth is measured like any other selection. */
function introspectionType(schema: GraphQLSchema, name: string) {
  if (name === '__schema') return schema.getType('__Schema') as GraphQLCompositeType | undefined;
  if (name === '__type') return schema.getType('__Type') as GraphQLCompositeType | undefined;
  return undefined;
}

/** The first limit an operation exceeds, as the error to send, or null. */
export function checkLimits(measure: Measure, limits: Limits, hardMaxIds = Infinity): GraphQLError | null {
  // Beyond the API's own documented maximum the argument is wrong for everyone: bad input, not a budget.
  if (measure.maxIds > hardMaxIds)
    return new GraphQLError(`An argument carries ${measure.maxIds} ids; the API accepts at most ${hardMaxIds} per call`, {
      extensions: { code: 'BAD_USER_INPUT', argument: 'ids', http: { status: 400 } },
    });
  if (measure.depth > limits.maxDepth)
    return tooComplex(`Query is ${measure.depth} levels deep; the limit is ${limits.maxDepth}`, { limit: 'maxDepth', max: limits.maxDepth, actual: measure.depth });
  if (measure.aliases > limits.maxAliases)
    return tooComplex(`Query uses ${measure.aliases} aliases; the limit is ${limits.maxAliases}`, { limit: 'maxAliases', max: limits.maxAliases, actual: measure.aliases });
  if (measure.maxIds > limits.maxIds)
    return tooComplex(`An argument carries ${measure.maxIds} ids; the limit is ${limits.maxIds}`, { limit: 'maxIds', max: limits.maxIds, actual: measure.maxIds });
  if (measure.cost > limits.maxCost)
    return tooComplex(`Query costs ${measure.cost}; the budget is ${limits.maxCost}`, { limit: 'maxCost', max: limits.maxCost, actual: measure.cost });
  return null;
}

/** What a parsed document selects, before validation: fields and aliases, fragments expanded. */
export interface DocumentSize {
  fields: number;
  aliases: number;
}

/** Counts saturate here: a document of fragments spreading fragments can name 2^1000 fields. */
const COUNT_CAP = Number.MAX_SAFE_INTEGER;
const capped = (n: number) => (n > COUNT_CAP ? COUNT_CAP : n);

interface OwnSize extends DocumentSize {
  /** Fragment name → how often this definition spreads it (outside other fragments). */
  spreads: Map<string, number>;
}

/** One definition's own fields, aliases and spreads, walked without recursion (nesting is unbounded). */
function ownSize(set: SelectionSetNode): OwnSize {
  const own: OwnSize = { fields: 0, aliases: 0, spreads: new Map() };
  const stack: SelectionSetNode[] = [set];
  for (let s = stack.pop(); s; s = stack.pop()) {
    for (const sel of s.selections) {
      if (sel.kind === Kind.FIELD) {
        own.fields++;
        if (sel.alias) own.aliases++;
        if (sel.selectionSet) stack.push(sel.selectionSet);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) stack.push(sel.selectionSet);
      else own.spreads.set(sel.name.value, (own.spreads.get(sel.name.value) ?? 0) + 1);
    }
  }
  return own;
}

/**
 * Measures a parsed, not yet validated document in time linear in its size: every field and
 * alias of every operation, each fragment counted by its expanded size as often as it is spread
 * (memoized, saturating), plus once for each fragment no operation reaches (validation visits
 * those too). A fragment spread inside its own expansion (a cycle, which validation refuses)
 * counts as empty; an unknown fragment too.
 */
export function measureDocument(document: DocumentNode): DocumentSize {
  const own = new Map<string, OwnSize>();
  const operations: OwnSize[] = [];
  for (const d of document.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) operations.push(ownSize(d.selectionSet));
    else if (d.kind === Kind.FRAGMENT_DEFINITION && !own.has(d.name.value)) own.set(d.name.value, ownSize(d.selectionSet));
  }

  // Expanded size of each fragment: an iterative depth-first walk of the spread graph, post-order.
  const expanded = new Map<string, DocumentSize>();
  const inProgress = new Set<string>();
  const sizeOf = (name: string): DocumentSize => {
    const known = expanded.get(name);
    if (known) return known;
    if (!own.has(name) || inProgress.has(name)) return { fields: 0, aliases: 0 };
    const stack: Array<{ name: string; deps: Iterator<string> }> = [{ name, deps: own.get(name)!.spreads.keys() }];
    inProgress.add(name);
    while (stack.length) {
      const top = stack[stack.length - 1];
      let next = top.deps.next();
      while (!next.done && (expanded.has(next.value) || inProgress.has(next.value) || !own.has(next.value))) next = top.deps.next();
      if (!next.done) {
        inProgress.add(next.value);
        stack.push({ name: next.value, deps: own.get(next.value)!.spreads.keys() });
        continue;
      }
      expanded.set(top.name, total(own.get(top.name)!));
      inProgress.delete(top.name);
      stack.pop();
    }
    return expanded.get(name)!;
  };
  // Spreads of fragments not measured yet (in progress: a cycle) count as empty.
  const total = (o: OwnSize): DocumentSize => {
    let { fields, aliases } = o;
    for (const [dep, times] of o.spreads) {
      const d = expanded.get(dep);
      if (!d) continue;
      fields = capped(fields + times * d.fields);
      aliases = capped(aliases + times * d.aliases);
    }
    return { fields, aliases };
  };

  const reached = new Set<string>();
  const reach = (from: Iterable<string>) => {
    const queue = [...from];
    for (let n = queue.pop(); n !== undefined; n = queue.pop()) {
      if (reached.has(n) || !own.has(n)) continue;
      reached.add(n);
      queue.push(...own.get(n)!.spreads.keys());
    }
  };
  let fields = 0;
  let aliases = 0;
  const add = (s: DocumentSize) => {
    fields = capped(fields + s.fields);
    aliases = capped(aliases + s.aliases);
  };
  for (const op of operations) {
    for (const dep of op.spreads.keys()) sizeOf(dep);
    add(total(op));
    reach(op.spreads.keys());
  }
  for (const name of own.keys()) if (!reached.has(name)) add(sizeOf(name));
  return { fields, aliases };
}

/** The first pre-validation limit a document exceeds, as the error to send, or null. Aliases first: the more telling figure. */
export function checkDocumentLimits(size: DocumentSize, limits: Pick<Limits, 'maxAliases' | 'maxFields'>): GraphQLError | null {
  if (size.aliases > limits.maxAliases)
    return tooComplex(`Query uses ${size.aliases} aliases; the limit is ${limits.maxAliases}`, { limit: 'maxAliases', max: limits.maxAliases, actual: size.aliases });
  if (size.fields > limits.maxFields)
    return tooComplex(`Query selects ${size.fields} fields; the limit is ${limits.maxFields}`, { limit: 'maxFields', max: limits.maxFields, actual: size.fields });
  return null;
}

/**
 * A validation rule that runs first in effect: on entering the document it measures it
 * (`measureDocument`) and, over a limit, reports QUERY_TOO_COMPLEX and answers `null` for the
 * document node, which ends the traversal there (graphql-js `visitInParallel` hands a rule's
 * replacement node straight to `visit`, which then skips it), so no other rule walks the
 * document. Within limits it does nothing and validation goes on as usual.
 */
export function documentLimitsRule(limits: Pick<Limits, 'maxAliases' | 'maxFields'>): ValidationRule {
  return (context) => ({
    Document(node) {
      const error = checkDocumentLimits(measureDocument(node), limits);
      if (!error) return undefined;
      context.reportError(error);
      return null;
    },
  });
}

/** graphql-js's words when `maxTokens` stops the parser ("more that" in graphql 16, sic). */
const TOO_MANY_TOKENS = /Document contains more th(?:an|at) (\d+) tokens\. Parsing aborted\./;

/**
 * For formatError: a refusal by the parser's token limit or by `documentLimitsRule` arrives as
 * GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED; this gives it back its QUERY_TOO_COMPLEX
 * code and figures (without `http`, like every public error). Anything else: undefined.
 */
export function asQueryTooComplex(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError | undefined {
  const code = formatted.extensions?.code;
  if (code === 'GRAPHQL_PARSE_FAILED') {
    const m = TOO_MANY_TOKENS.exec(formatted.message);
    if (!m) return undefined;
    const max = Number(m[1]);
    return { message: `Query has more than ${max} tokens; the limit is ${max}`, extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'maxTokens', max } };
  }
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  if (code === 'GRAPHQL_VALIDATION_FAILED' && original instanceof GraphQLError && original.extensions.code === 'QUERY_TOO_COMPLEX') {
    const { http: _http, ...extensions } = original.extensions;
    return { message: formatted.message, extensions };
  }
  return undefined;
}

const unknownOperationType = (kind: string) =>
  new GraphQLError(`Schema is not configured to execute ${kind} operation.`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
  });

/** What a persisted-only role is answered for a document not in the safelist (HTTP 403), on /graphql and /graphql/stream. */
export const notPersisted = () =>
  new GraphQLError('This role may only run persisted operations (send one from the safelist)', {
    extensions: { code: 'FORBIDDEN', http: { status: 403 } },
  });

/**
 * The limits plugin, with what it needs of the Apollo Server itself: the parser's token limit and
 * the pre-validation rule. createApollo (src/graphql.ts) applies `apolloOptions` of the plugins it is given.
 */
export interface LimitsPlugin extends ApolloServerPlugin<Context> {
  apolloOptions: { parseOptions: ParseOptions; validationRules: ValidationRule[] };
}

/**
 * The Apollo plugin enforcing one role's limits, and, when `persistedOnly`, that the
 * operation's text is in the safelist (by sha256, compared against the stored text). It also
 * refuses an operation type the role's schema lacks (a mutation for a role without Mutation)
 * as GRAPHQL_VALIDATION_FAILED, which graphql 16's validation leaves to execution.
 */
export function limitsPlugin(
  limits: Limits,
  opts: {
    persistedOnly?: boolean;
    safelist?: ReadonlyMap<string, string>;
    hardMaxIds?: number;
    /** The per-principal lookup budget shared by every role's plugin, and what to tell of each operation's lookups (admitted or refused). */
    lookups?: { budget: LookupBudget; counts?: CountsLookup; observe?: (n: number, admitted: boolean) => void };
  } = {},
): LimitsPlugin {
  // An operation whose measure reads no variable (none declared, or none in a list size or an ID
  // list) measures the same every time; Apollo hands a repeated query the same parsed document,
  // so its measure is kept with the document.
  const measured = new WeakMap<OperationDefinitionNode, Measure>();
  const measure = (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>) => {
    let m = measured.get(operation);
    if (!m) {
      const made = measureWithDependence(schema, document, operation, variables, limits.defaultListSize);
      m = made.measure;
      if (!made.readVariables) measured.set(operation, m);
    }
    return m;
  };
  // The hook keeps nothing per request: one listener serves every request (no object and closure made per request).
  const listener: GraphQLRequestListener<Context> = {
    async didResolveOperation(rc) {
      // graphql 16 does not validate that the schema has the operation's root type; a role
      // without Mutation must fail like any field it cannot see, not at execution.
      if (rc.operation && !rc.schema.getRootType(rc.operation.operation)) throw unknownOperationType(rc.operation.operation);
      if (opts.persistedOnly) {
        const stored = rc.queryHash ? opts.safelist?.get(rc.queryHash) : undefined;
        if (stored === undefined || stored !== rc.source) throw notPersisted();
      }
      if (!rc.operation) return;
      const error = checkLimits(measure(rc.schema, rc.document, rc.operation, (rc.request.variables ?? {}) as Record<string, unknown>), limits, opts.hardMaxIds);
      if (error) throw error;
      // Last, so that an operation refused for another reason costs no lookups.
      if (opts.lookups) {
        const n = countLookups(rc.document, rc.operation, variablesWithDefaults(rc.operation, (rc.request.variables ?? {}) as Record<string, unknown>), opts.lookups.counts);
        checkLookups(opts.lookups, n, rc.contextValue.viewer, limits.lookupsPerMinute);
      }
    },
  };
  return {
    apolloOptions: { parseOptions: { maxTokens: limits.maxTokens }, validationRules: [documentLimitsRule(limits)] },
    async requestDidStart() {
      return listener;
    },
  };
}

/** Takes an operation's lookups from its principal's budget, or refuses it whole (RATE_LIMITED, 429 with Retry-After). */
function checkLookups(lookups: { budget: LookupBudget; observe?: (n: number, admitted: boolean) => void }, n: number, viewer: Viewer, perMinute: number): void {
  if (n === 0) return;
  if (n > perMinute) {
    lookups.observe?.(n, false);
    throw queryTooComplex(`The operation asks ${n} lookups by a value; this principal may make ${perMinute} a minute (lookupsPerMinute): ask fewer at once`, {
      limit: 'lookupsPerMinute',
      max: perMinute,
      actual: n,
      http: { status: 400 },
    });
  }
  const admitted = lookups.budget.take(viewer, n, perMinute);
  lookups.observe?.(n, admitted.ok);
  if (admitted.ok) return;
  const { retryAfterSeconds } = admitted;
  throw rateLimited(
    `Too many lookups by a value: this principal may make ${perMinute} a minute; retry in ${retryAfterSeconds} s`,
    'lookupsPerMinute',
    perMinute,
    retryAfterSeconds,
  );
}

/**
 * A persisted-query cache over the safelist, for Apollo's `persistedQueries.cache` on
 * persisted-only roles: a client may send just `extensions.persistedQuery.sha256Hash`, and
 * nothing a client sends is ever added.
 */
export function safelistCache(safelist: ReadonlyMap<string, string>) {
  const strip = (key: string) => key.replace(/^apq:/, '');
  return {
    async get(key: string): Promise<string | undefined> {
      return safelist.get(strip(key));
    },
    async set(): Promise<void> {},
    async delete(): Promise<boolean> {
      return false;
    },
  };
}
