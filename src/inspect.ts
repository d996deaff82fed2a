/**
 * What a config describes, built without serving and without calling any system: the source
 * registry (connectors made, nothing connected), the identity and insight rules, the full
 * schema, the access policy checked against it, every role's schema and the authenticator.
 * `c360 check-config` and `c360 schema` use it; the same loaders run at start-up, so what passes
 * here fails there only on what needs a live system (OneID, a source that answers). With
 * `checkSources` (check-config), each source kind's start-up check runs too: read-only catalogue
 * reads of the SQL sources (their tables and columns, a sql-table mapping).
 */
import type { GraphQLSchema } from 'graphql';

import { ConfigError, type Config } from './config';
import { createRegistry, checkSources, uncheckedWarning } from './sources/registry';
import { noopObserver } from './sources/observe';
import { buildSchema, unconfiguredTypes } from './schema';
import { loadIdentityRules } from './idmap';
import { loadInsightsRuntime } from './insights/runtime';
import { buildRoleSchemas, createAuthenticator, hashKeyWarning, loadPolicy, type Policy } from './access';

export interface Inspection {
  schema: GraphQLSchema;
  policy: Policy;
  /** Role → the schema that role is served. */
  roleSchemas: ReadonlyMap<string, GraphQLSchema>;
  /** What the policy check found worth saying without refusing it. */
  warnings: readonly string[];
}

/** Throws the same errors start-up would (ConfigError, PolicyError, AuthConfigError, rule errors), each naming its file and key. */
export async function inspectConfig(config: Config, opts: { checkSources?: boolean } = {}): Promise<Inspection> {
  const identity = loadIdentityRules(config.identity.rulesFile);
  const registry = createRegistry(config.sources, noopObserver, identity.regionOf);
  try {
    loadInsightsRuntime(config.insights.rulesDir, registry);
    const schema = buildSchema(registry);
    const policy = loadPolicy(config.access.policyFile, schema, unconfiguredTypes(schema));
    const roleSchemas = buildRoleSchemas(schema, policy, { hashKey: config.access.hashKey });
    createAuthenticator(config.auth, { roles: policy.roles.keys() });
    // Read-only catalogue reads, the start-up check's own: a table a source kind reads and its database lacks.
    const { problems, unchecked } = opts.checkSources ? await checkSources(registry) : { problems: [], unchecked: [] };
    if (problems.length) throw new ConfigError(`the configured sources do not match their systems:\n${problems.join('\n')}`);
    return { schema, policy, roleSchemas, warnings: [...policy.warnings, hashKeyWarning(policy, config.access.hashKey) ?? [], ...unchecked.map(uncheckedWarning)].flat() };
  } finally {
    await registry.close();
  }
}
