/**
 * Apollo Federation v2 subgraph mode (config `server.federation`): each role's schema gains
 * what a supergraph router needs to compose `Customer` with other subgraphs:
 *
 *   extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
 *   type Customer @key(fields: "id") { … }   type Money @shareable { … }   (every other object type)
 *   scalar _Any   union _Entity = Customer   type _Service { sdl: String }
 *   extend type Query { _service: _Service!  _entities(representations: [_Any!]!): [_Entity]! }
 *
 * The transform runs once at start-up over a role's already-derived schema, so what the router
 * may plan for a role is exactly what that role may query. `_entities` is the role's own
 * `customers(ids:)` resolver (row scope, audit and the per-request loaders included): N entities
 * cost one call per source per level, and an out-of-scope or unknown id answers null; a bad
 * representation answers null with its own coded error, the others are answered. A role that
 * may not call `customers(ids:)` has no entity (its SDL has no `@key`, no `_entities`): entity
 * resolution is granted by that grant, never by default. `_service { sdl }` is the role's SDL
 * with the federation directives and without the federation fields, as the spec requires. It
 * leaves out the Subscription root (and what only it reaches): the change feed is served by c360
 * itself over SSE, and the endpoint a router calls answers queries and mutations only.
 */
import {
  GraphQLError,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  GraphQLUnionType,
  Kind,
  parse,
  print,
  printSchema,
  validateSchema,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DefinitionNode,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
} from 'graphql';
import { pruneSchema } from '@graphql-tools/utils';
import type { Context } from '../context';
import { badUserInput, queryTooComplex } from '../errors';
import { PAD_CUSTOMER_ID } from '../access/row-scope';

/** The federation spec version the SDL links (v2.3: what test/e2e/federation.test.ts composes and routes). */
export const FEDERATION_SPEC_URL = 'https://specs.apollo.dev/federation/v2.3';
/** The entity c360 owns, and its key. */
export const ENTITY_TYPE = 'Customer';
export const ENTITY_KEY = 'id';
/** The root field whose resolver (and thus whose access rules) `_entities` reuses. */
const ENTITY_SOURCE_FIELD = 'customers';

const strArg = (value: string) => ({ kind: Kind.STRING, value }) as const;
const keyDirective: ConstDirectiveNode = {
  kind: Kind.DIRECTIVE,
  name: { kind: Kind.NAME, value: 'key' },
  arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'fields' }, value: strArg(ENTITY_KEY) }],
};
const shareableDirective: ConstDirectiveNode = { kind: Kind.DIRECTIVE, name: { kind: Kind.NAME, value: 'shareable' } };

/** Whether a role's schema can resolve Customer entities: it sees `Customer.id` and may call `customers(ids:)`. */
export function hasEntities(schema: GraphQLSchema): boolean {
  const customer = schema.getType(ENTITY_TYPE);
  return customer instanceof GraphQLObjectType && ENTITY_KEY in customer.getFields() && !!schema.getQueryType()?.getFields()[ENTITY_SOURCE_FIELD];
}

/**
 * A role's subgraph SDL: the schema as printed, `Customer @key(fields: "id")` when the role has
 * entities, every other object type but the roots `@shareable`, and the `@link` to the federation
 * spec. It lists none of the federation fields.
 *
 * Every type but Customer is a value type here: it has no key, so a router resolves its fields
 * only from the subgraph that answered its parent. Federation v2 lets a field be defined by two
 * subgraphs only when each marks it shareable, so without the mark an organisation's subgraph that
 * also defines `Money { amount currency }` (or an `Order`) could not compose with c360 at all;
 * with it, composition merges them when their fields agree and reports them when they do not.
 */
export function subgraphSdl(schema: GraphQLSchema): string {
  const entities = hasEntities(schema);
  const roots = new Set([schema.getQueryType()?.name, schema.getMutationType()?.name]);
  const doc = parse(printSchema(pruneSchema(new GraphQLSchema({ ...schema.toConfig(), subscription: undefined }))));
  const definitions: DefinitionNode[] = doc.definitions.map((d) => {
    if (d.kind !== Kind.OBJECT_TYPE_DEFINITION || roots.has(d.name.value)) return d;
    if (d.name.value === ENTITY_TYPE) return entities ? { ...d, directives: [...(d.directives ?? []), keyDirective] } : d;
    return { ...d, directives: [...(d.directives ?? []), shareableDirective] };
  });
  const link: DefinitionNode = {
    kind: Kind.SCHEMA_EXTENSION,
    directives: [
      {
        kind: Kind.DIRECTIVE,
        name: { kind: Kind.NAME, value: 'link' },
        arguments: [
          { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'url' }, value: strArg(FEDERATION_SPEC_URL) },
          { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'import' }, value: { kind: Kind.LIST, values: [strArg('@key'), strArg('@shareable')] } },
        ],
      },
    ],
  };
  return print({ kind: Kind.DOCUMENT, definitions: [link, ...definitions] });
}

/** The `_Any` scalar: an entity representation, `{ __typename, …key fields }`, passed through as is. */
const anyScalar = () =>
  new GraphQLScalarType({
    name: '_Any',
    description: 'An entity representation from a supergraph router: `{ "__typename": "Customer", "id": "…" }`.',
    serialize: (v) => v,
    parseValue: (v) => v,
    parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
  });

/**
 * Each representation's id, or the coded error that representation answers: anything but a
 * Customer with a non-empty string id is bad input, of that entity alone. A router batches the
 * representations of many parents in one `_entities` call, so one bad representation must not
 * take the others down: its item is null with the error at `_entities[i]`, as the spec's
 * per-entity answer has it, and the rest are answered.
 */
function representationIds(representations: readonly unknown[]): Array<string | GraphQLError> {
  return representations.map((r, i) => {
    const rep = r as { __typename?: unknown; id?: unknown } | null;
    if (!rep || typeof rep !== 'object' || rep.__typename !== ENTITY_TYPE) {
      return badUserInput(`representations[${i}]: this subgraph resolves only ${ENTITY_TYPE} entities`, { argument: 'representations', index: i });
    }
    if (typeof rep.id !== 'string' || !rep.id)
      return badUserInput(`representations[${i}]: a ${ENTITY_TYPE} is keyed by a non-empty string id`, { argument: 'representations', index: i });
    return rep.id;
  });
}

/**
 * A role's schema as a Federation v2 subgraph: the same types and resolvers, plus `_service` and
 * (with entities) `_entities`. `maxIds` is the role's cap on ids per call: the query limits count
 * ID-list arguments, not representations, so `_entities` checks it itself before reading any.
 */
export function federateSchema(schema: GraphQLSchema, maxIds: number): GraphQLSchema {
  const sdl = subgraphSdl(schema);
  const query = schema.getQueryType()!;
  const config = schema.toConfig();
  const service = new GraphQLObjectType({
    name: '_Service',
    description: "This subgraph's SDL for composition (Apollo Federation v2).",
    fields: { sdl: { type: GraphQLString } },
  });
  const extra: Record<string, GraphQLFieldConfig<unknown, Context>> = {
    _service: { type: new GraphQLNonNull(service), description: "This role's subgraph SDL, for a supergraph composer.", resolve: () => ({ sdl }) },
  };
  const added: Array<GraphQLScalarType | GraphQLObjectType | GraphQLUnionType> = [service];
  if (hasEntities(schema)) {
    const customer = schema.getType(ENTITY_TYPE) as GraphQLObjectType;
    const any = anyScalar();
    const entity = new GraphQLUnionType({ name: '_Entity', types: [customer], resolveType: () => ENTITY_TYPE });
    const customers = query.getFields()[ENTITY_SOURCE_FIELD].resolve as GraphQLFieldResolver<unknown, Context>;
    extra._entities = {
      type: new GraphQLNonNull(new GraphQLList(entity)),
      description: `${ENTITY_TYPE} entities by key, for a supergraph router: answered like \`${ENTITY_SOURCE_FIELD}(ids:)\` (same limits, scope and loaders), in the representations' order: null for an unknown id, null and a BAD_USER_INPUT error at its index for a bad representation.`,
      args: { representations: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(any))) } },
      resolve: async (src, args, ctx, info) => {
        const reps = (args as { representations: unknown[] }).representations;
        if (reps.length > maxIds) {
          throw queryTooComplex(`An argument carries ${reps.length} representations; the limit is ${maxIds}`, { limit: 'maxIds', max: maxIds, actual: reps.length });
        }
        const keys = representationIds(reps);
        if (keys.every((k) => typeof k !== 'string')) return keys;
        // A bad representation keeps its place with an id no customer has, so every answer (and the
        // audit, which notes each customer by its index) stays at its representation's index.
        const ids = keys.map((k) => (typeof k === 'string' ? k : PAD_CUSTOMER_ID));
        const found = (await customers(src, { ids }, ctx, info)) as unknown[];
        return found.map((c, i) => (typeof keys[i] === 'string' ? c : keys[i]));
      },
    };
    added.push(any, entity);
  }
  const queryConfig = query.toConfig();
  const federatedQuery = new GraphQLObjectType({ ...queryConfig, fields: { ...queryConfig.fields, ...extra } });
  const out = new GraphQLSchema({ ...config, query: federatedQuery, types: [...config.types.filter((t) => t !== query), ...added] });
  const errors = validateSchema(out);
  if (errors.length) throw new Error(`federation: the subgraph schema is invalid:\n  ${errors.map((e) => e.message).join('\n  ')}`);
  return out;
}

/** Every role's schema as a subgraph, each with that role's cap on ids per call. */
export function federateRoleSchemas(schemas: ReadonlyMap<string, GraphQLSchema>, maxIdsOf: (role: string) => number): Map<string, GraphQLSchema> {
  return new Map([...schemas].map(([role, schema]) => [role, federateSchema(schema, maxIdsOf(role))]));
}

export { entitiesLimitsPlugin } from './limits';
