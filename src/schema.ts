/**
 * The executable schema: the core's SDL (schema/*.graphql), each configured source kind's SDL,
 * and the enums the configuration decides (`SourceName`: one value per source instance;
 * `TimelineEventKind`: one per event kind the sources emit). Resolvers must match the SDL
 * exactly (a resolver for a field the SDL lacks fails at boot, not at query time).
 */
import fs from 'node:fs';
import path from 'node:path';
import { mergeTypeDefs } from '@graphql-tools/merge';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { Kind, parse, type GraphQLSchema } from 'graphql';
import { buildResolvers, enumValueOf } from '../resolvers';
import { sourceKinds, type SourceRegistry } from './sources/registry';
import { CAPABILITY_CUSTOMER_FIELDS, CAPABILITY_NAMES } from './capabilities';

export const SCHEMA_DIR = path.resolve(__dirname, '..', 'schema');

const describe = (text: string) => JSON.stringify(text);

/** The SDL of the enums the configured sources decide. */
export function registryTypeDefs(registry: SourceRegistry): string {
  const sources = registry.sources.map((s) => `  ${describe(`${s.kind.title}: source instance "${s.name}".`)}\n  ${enumValueOf(s.name)}`);
  const events = [...registry.eventKinds].map(([k, e]) => `  ${describe(e.description)}\n  ${enumValueOf(k)}`);
  return [
    `"A configured source instance: an existing system c360 federates (its OneID \`source\`)."\nenum SourceName {\n${sources.join('\n')}\n}`,
    events.length ? `"A kind of timeline event, each from the sources that emit it."\nenum TimelineEventKind {\n${events.join('\n')}\n}` : '',
  ].join('\n\n');
}

export function loadTypeDefs(registry: SourceRegistry, dir = SCHEMA_DIR) {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  return mergeTypeDefs([...files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')), ...registry.typeDefs, registryTypeDefs(registry)]);
}

export function buildSchema(registry: SourceRegistry): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: loadTypeDefs(registry),
    resolvers: buildResolvers(registry),
    resolverValidationOptions: { requireResolversToMatchSchema: 'error', requireResolversForResolveType: 'ignore' },
  });
}

/**
 * Per configured source (by its internal `SourceName` value, the instance name), the Customer
 * fields that carry its data about a customer: its kind's own (`Customer.supportRequesters`) and
 * its capabilities' (CAPABILITY_CUSTOMER_FIELDS). A role seeing none of them is not told that a
 * customer has a record there (src/access/role-schema.ts, `sourceFields`).
 */
export function sourceCustomerFields(registry: SourceRegistry): (source: unknown) => readonly string[] {
  const bySource = new Map<unknown, string[]>();
  for (const s of registry.sources) {
    const own = s.kind.sdl
      ? parse(s.kind.sdl).definitions.flatMap((def) =>
          def.kind === Kind.OBJECT_TYPE_EXTENSION && def.name.value === 'Customer' ? (def.fields ?? []).map((f) => f.name.value) : [],
        )
      : [];
    const provided = CAPABILITY_NAMES.filter((c) => s.capabilities[c]).flatMap((c) => CAPABILITY_CUSTOMER_FIELDS[c]);
    bySource.set(
      s.name,
      [...new Set([...own, ...provided])].map((f) => `Customer.${f}`),
    );
  }
  return (source) => bySource.get(source) ?? [];
}

/**
 * What every known source kind declares that `schema` lacks, because this deployment does not
 * configure the kind: type names (`WecomContact`) and fields it adds to shared types
 * (`Customer.wecomContacts`). One access policy serves deployments with different sources; it may name these.
 */
export function unconfiguredTypes(schema: GraphQLSchema): Set<string> {
  const out = new Set<string>();
  for (const kind of sourceKinds().values()) {
    if (!kind.sdl) continue;
    for (const def of parse(kind.sdl).definitions) {
      if ((def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.ENUM_TYPE_DEFINITION) && !schema.getType(def.name.value)) out.add(def.name.value);
      if (def.kind === Kind.OBJECT_TYPE_EXTENSION) {
        const t = schema.getType(def.name.value);
        const fields = t && 'getFields' in t ? (t.getFields() as Record<string, unknown>) : {};
        for (const f of def.fields ?? []) if (!(f.name.value in fields)) out.add(`${def.name.value}.${f.name.value}`);
      }
    }
  }
  return out;
}
