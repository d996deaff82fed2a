/**
 * Query limits per role, checked once the operation is known and before it executes:
 * depth, aliases, a cost budget, and ids per list argument. Over a limit the request fails
 * with QUERY_TOO_COMPLEX (HTTP 400) and no resolver, loader or source is ever called.
 *
 * Apollo Server reports errors from `validationRules` as GRAPHQL_VALIDATION_FAILED, so the
 * check runs in a plugin's `didResolveOperation` instead: Apollo sends what that hook throws
 * as is (requestPipeline.ts → sendErrorResponse), taking the status from `extensions.http`.
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
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../context';
import type { Limits } from './config';

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
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, Measure>();
  let maxIds = 0;

  const listSize = (field: GraphQLField<unknown, unknown>, args: Map<string, unknown>): number => {
    const given = args.get('first');
    const first = typeof given === 'number' ? given : field.args.find((a) => a.name === 'first')?.defaultValue;
    if (typeof first === 'number' && Number.isFinite(first)) return Math.max(0, first);
    if (args.has('ids')) return lengthOf(args.get('ids'));
    return defaultListSize;
  };

  const measureSet = (set: SelectionSetNode, parent: GraphQLCompositeType | undefined): Measure => {
    let depth = 0;
    let aliases = 0;
    let cost = 0;
    for (const sel of set.selections) {
      let m: Measure;
      if (sel.kind === Kind.FIELD) {
        m = measureField(sel, parent);
        if (sel.alias) m = { ...m, aliases: m.aliases + 1 };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const cond = sel.typeCondition ? typeFromAST(schema, sel.typeCondition) : parent;
        m = measureSet(sel.selectionSet, cond && isCompositeType(cond) ? cond : parent);
      } else {
        const name = sel.name.value;
        let fm = memo.get(name);
        if (!fm) {
          const frag = fragments.get(name);
          const cond = frag ? typeFromAST(schema, frag.typeCondition) : undefined;
          memo.set(name, (fm = { depth: 0, aliases: 0, cost: 0, maxIds: 0 })); // a cycle (invalid) counts as empty
          fm = frag ? measureSet(frag.selectionSet, cond && isCompositeType(cond) ? cond : undefined) : fm;
          memo.set(name, fm);
        }
        m = fm;
      }
      depth = Math.max(depth, m.depth);
      aliases += m.aliases;
      cost += m.cost;
    }
    return { depth, aliases, cost, maxIds };
  };

  const measureField = (node: FieldNode, parent: GraphQLCompositeType | undefined): Measure => {
    const name = node.name.value;
    const field = parent && 'getFields' in parent ? parent.getFields()[name] : undefined;
    const args = new Map<string, unknown>();
    for (const a of node.arguments ?? []) args.set(a.name.value, argValue(a.value, variables));
    if (field) {
      for (const def of field.args) {
        const t = getNullableType(def.type);
        if (isListType(t) && isInputType(t) && getNamedType(t).name === 'ID' && args.has(def.name)) {
          maxIds = Math.max(maxIds, lengthOf(args.get(def.name)));
        }
      }
    }
    if (!node.selectionSet) return { depth: 1, aliases: 0, cost: 1, maxIds };
    const type = field ? field.type : introspectionType(schema, name);
    const named = type ? getNamedType(type) : undefined;
    const child = measureSet(node.selectionSet, named && isCompositeType(named) ? named : undefined);
    const isList = type ? isListType(isNonNullType(type) ? type.ofType : type) : false;
    const times = field && isList ? listSize(field, args) : 1;
    return { depth: 1 + child.depth, aliases: child.aliases, cost: 1 + times * child.cost, maxIds };
  };

  const root = schema.getRootType(operation.operation) ?? undefined;
  const m = measureSet(operation.selectionSet, root);
  return { ...m, maxIds };
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

const unknownOperationType = (kind: string) =>
  new GraphQLError(`Schema is not configured to execute ${kind} operation.`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
  });

const notPersisted = () =>
  new GraphQLError('This role may only run persisted operations (send one from the safelist)', {
    extensions: { code: 'FORBIDDEN', http: { status: 403 } },
  });

/**
 * The Apollo plugin enforcing one role's limits, and, when `persistedOnly`, that the
 * operation's text is in the safelist (by sha256, compared against the stored text). It also
 * refuses an operation type the role's schema lacks (a mutation for a role without Mutation)
 * as GRAPHQL_VALIDATION_FAILED, which graphql 16's validation leaves to execution.
 */
export function limitsPlugin(
  limits: Limits,
  opts: { persistedOnly?: boolean; safelist?: ReadonlyMap<string, string>; hardMaxIds?: number } = {},
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          // graphql 16 does not validate that the schema has the operation's root type; a role
          // without Mutation must fail like any field it cannot see, not at execution.
          if (rc.operation && !rc.schema.getRootType(rc.operation.operation)) throw unknownOperationType(rc.operation.operation);
          if (opts.persistedOnly) {
            const stored = rc.queryHash ? opts.safelist?.get(rc.queryHash) : undefined;
            if (stored === undefined || stored !== rc.source) throw notPersisted();
          }
          if (!rc.operation) return;
          const measure = measureOperation(rc.schema, rc.document, rc.operation, (rc.request.variables ?? {}) as Record<string, unknown>, limits.defaultListSize);
          const error = checkLimits(measure, limits, opts.hardMaxIds);
          if (error) throw error;
        },
      };
    },
  };
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
