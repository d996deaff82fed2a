/**
 * Role-scoped access: the public face of src/access.
 *
 *   request ─► authenticate (auth.ts) ─► Viewer {role, principal, teams}
 *           ─► that role's schema (role-schema.ts: fields granted, masks, row scope)
 *           ─► per-principal rate and concurrency caps (rate-limit.ts, applied by src/server.ts)
 *           ─► that role's Apollo plugins (limits.ts: token limit at parse, counts before validation,
 *              depth/cost after it; audit.ts after execution)
 *
 * Everything is built once at start-up by `createAccess`; a bad policy or auth section
 * stops the process with a message naming the file and key.
 */
import type { Knex } from 'knex';
import type { DirectReads } from '../db';
import type { GraphQLSchema } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../context';
import type { Logger } from '../observability/logger';
import { createAuthenticator, type Authenticator } from './auth';
import { AuthConfig, type AuthConfigInput } from './config';
import { createFailedLogins, type FailedLogins } from './failed-logins';
import { DEFAULT_POLICY_FILE, hashKeyWarning, loadPolicy, type Policy } from './policy';
import { buildRoleSchemas, originReader, sourceTeller, toldOfNoSystem, type DerivedOrigin, type RoleSchemaOptions, type SourceTeller } from './role-schema';
import { countsPersonalLookups, createLookupBudget } from './lookup-budget';
import { limitsPlugin, safelistCache } from './limits';
import { auditPlugin, createAuditLog, type AuditLog } from './audit';

export { AuthConfig, AccessConfig, LimitsConfig, PolicyFile, MASK_STYLES, type Limits, type MaskStyle, type RowScope } from './config';
export { createAuthenticator, hashApiKey, matchApiKey, AuthConfigError, type Authenticator, type AuthenticatorOptions } from './auth';
export {
  loadPolicy,
  parsePolicy,
  loadSafelist,
  hashKeyWarning,
  PolicyError,
  DEFAULT_POLICY_FILE,
  type Policy,
  type RolePolicy,
  type FieldMask,
  type PersonalRule,
} from './policy';
export { buildRoleSchemas, buildRoleSchema, originReader, sourceTeller, CUSTOMER_TYPE, type DerivedOrigin, type RoleSchemaOptions, type SourceTeller } from './role-schema';
export { masker, maskPhone, maskEmail, maskName, maskYearOnly, maskPartial, hashValue, type MaskOptions } from './masking';
export { scopeCheck, type ScopeCheck } from './row-scope';
export {
  limitsPlugin,
  measureOperation,
  variablesWithDefaults,
  checkLimits,
  measureDocument,
  checkDocumentLimits,
  documentLimitsRule,
  asQueryTooComplex,
  safelistCache,
  type Measure,
  type DocumentSize,
  type LimitsPlugin,
} from './limits';
export { createRateLimiter, rateLimitedResponse, type RateLimiter, type RateLimits, type Admission } from './rate-limit';
export { createAuditLog, auditPlugin, beginAudit, auditCollectorOf, auditLogOf, AuditCollector, type AuditLog, type AuditEntry, type AuditQuery } from './audit';
export { migrateAccessLatest, migrateAccessDown, accessMigratorConfig, ACCESS_MIGRATIONS } from './migrations';

export interface AccessOptions {
  /** The full schema (`buildSchema()`); role schemas are derived from it. */
  fullSchema: GraphQLSchema;
  /** The `auth` section of the config. */
  auth: AuthConfig | AuthConfigInput;
  /** The OneID database: the audit table lives there (migrated here, in its own migrations table). */
  db: Knex;
  /** The OneID database's direct connection when it is a SQLite file (src/db.ts `directReads` with `writes`): the audit rows' fast path. */
  directWrites?: Pick<DirectReads, 'write'>;
  /** Default: config/access.json. */
  policyFile?: string;
  /** HMAC key for hashed fields (openid, unionid); set it from the environment in production. */
  hashKey?: string;
  log?: Logger;
  /** Where relative key files in `auth` resolve. */
  baseDir?: string;
  /** The API's own maximum of ids per argument (config limits.maxIds): beyond it, BAD_USER_INPUT for every role. */
  hardMaxIds?: number;
  /** Types of source kinds this deployment does not configure: the policy may name them (src/schema.ts `unconfiguredTypes`). */
  optionalTypes?: ReadonlySet<string>;
  /** Derived fields and the field each takes its value from (see RoleSchemaOptions.derived). */
  derived?: ReadonlyMap<string, (parent: unknown) => DerivedOrigin | readonly DerivedOrigin[] | null | undefined>;
  /** Fields whose text may quote a sibling's value (see RoleSchemaOptions.embeds). */
  embeds?: ReadonlyMap<string, string>;
  /** List fields whose items are derived data (see RoleSchemaOptions.derivedItems). */
  derivedItems?: RoleSchemaOptions['derivedItems'];
  /** Fields whose arguments are narrowed to what the role reads (see RoleSchemaOptions.narrowArgs). */
  narrowArgs?: RoleSchemaOptions['narrowArgs'];
  /** Told of each operation's lookups by a value (src/access/lookup-budget.ts): how many, and whether the budget admitted them. */
  observeLookups?: (role: string, n: number, admitted: boolean) => void;
  /** Enums whose values are each a field's data (see RoleSchemaOptions.enumOrigins). */
  enumOrigins?: RoleSchemaOptions['enumOrigins'];
  /** The fields carrying each system's data about a customer (see RoleSchemaOptions.sourceFields). */
  sourceFields?: RoleSchemaOptions['sourceFields'];
  /** Fields counting records of every system (see RoleSchemaOptions.sourceCounts). */
  sourceCounts?: RoleSchemaOptions['sourceCounts'];
  /** Fields that may cite records of any system (see RoleSchemaOptions.citesRecords). */
  citesRecords?: RoleSchemaOptions['citesRecords'];
  /**
   * The caller migrated the audit table already (the gateway does, with OneID's own tables, so that
   * a store it cannot use, or one a newer version migrated, stops start-up as one OneID problem).
   */
  migrated?: boolean;
  /** How long a request waits for its audit rows to commit (the request path's OneID deadline, config oneid.timeoutMs); null for no deadline. */
  auditTimeoutMs?: number | null;
}

export interface Access {
  policy: Policy;
  /** Role → its schema. Serve each with its own Apollo Server. */
  schemas: ReadonlyMap<string, GraphQLSchema>;
  /** ServerHooks.authenticate: a Viewer, or null (counted against the client's address in `failedLogins`). */
  authenticate: Authenticator;
  /** Failed logins per client address: the server refuses an address over the limit before `authenticate`. */
  failedLogins: FailedLogins;
  auditLog: AuditLog;
  /** The plugins for one role's Apollo Server: limits (and persisted-only) before execution, the audit after. */
  pluginsFor(role: string): ApolloServerPlugin<Context>[];
  /**
   * Whether a role reads an origin unmasked (`Type.field`, or one object's), as its schema decides
   * for derived values: for checks outside the schema on the same data (a BI filter on a tag).
   */
  readerOf(role: string): (origin: DerivedOrigin) => boolean;
  /**
   * Which systems' records a role is told of (`sourceFields`), as its schema decides for its lists:
   * for what is told outside the schema (`extensions.sources`, the change feed's deliveries).
   */
  tellerOf(role: string): SourceTeller;
  /** Apollo's `persistedQueries` option for one role: the safelist for persisted-only roles, else undefined (Apollo's default). */
  persistedQueriesFor(role: string): { cache: ReturnType<typeof safelistCache> } | undefined;
}

/** Loads and checks the policy, builds the role schemas and the authenticator, and migrates the audit table (unless `migrated`). */
export async function createAccess(opts: AccessOptions): Promise<Access> {
  const policy = loadPolicy(opts.policyFile ?? DEFAULT_POLICY_FILE, opts.fullSchema, opts.optionalTypes);
  for (const w of [...policy.warnings, hashKeyWarning(policy, opts.hashKey) ?? []].flat()) opts.log?.warn(w);
  const schemas = buildRoleSchemas(opts.fullSchema, policy, {
    hashKey: opts.hashKey,
    derived: opts.derived,
    embeds: opts.embeds,
    derivedItems: opts.derivedItems,
    narrowArgs: opts.narrowArgs,
    enumOrigins: opts.enumOrigins,
    sourceFields: opts.sourceFields,
    sourceCounts: opts.sourceCounts,
    citesRecords: opts.citesRecords,
  });
  const tellers = new Map([...policy.roles.values()].map((r) => [r.name, sourceTeller(opts.fullSchema, r, opts.sourceFields)]));
  // Said at start-up rather than found by the role's first empty page: a policy granting golden
  // fields alone (name, tier) reads like a working role and answers no customer.
  for (const [role, teller] of tellers)
    if (toldOfNoSystem(opts.fullSchema, teller))
      opts.log?.warn(
        { role },
        `access: role "${role}" is told of no system (it is granted no field carrying a system's data, such as crmContacts, orders, tickets or provenance), so it lists and reads no customer`,
      );
  const readers = new Map([...policy.roles.values()].map((r) => [r.name, originReader(opts.fullSchema, r)]));
  // One budget for every role's plugin: a principal is one, whatever role its requests come in as.
  const lookupBudget = createLookupBudget();
  const countsLookup = countsPersonalLookups(policy.personal);
  const checkCredentials = createAuthenticator(opts.auth, {
    roles: policy.roles.keys(),
    baseDir: opts.baseDir,
    onRefused: (reason) => opts.log?.debug({ reason }, 'credentials refused'),
    onKeysReread: ({ key, keys, problem }) =>
      problem === undefined
        ? opts.log?.info({ key, keys }, 'auth: JWK set file read again (a token named a kid it did not hold)')
        : opts.log?.warn({ key, problem }, 'auth: JWK set file read again but not taken; the keys read before stay'),
  });
  const failedLogins = createFailedLogins({
    ...AuthConfig.parse(opts.auth).failedLogins,
    // Never the address: it is personal data.
    onLimited: (retryAfterSeconds) => opts.log?.warn({ limit: 'failedLoginsPerMinute', retryAfterSeconds }, 'failed logins over the limit from one client address'),
  });
  // Every route that authenticates (GraphQL, the change feed, exports) counts its refusals here.
  const authenticate: Authenticator = async (req) => {
    const viewer = await checkCredentials(req);
    if (!viewer) failedLogins.failed(req);
    return viewer;
  };
  const auditLog = createAuditLog(opts.db, { direct: opts.directWrites });
  if (!opts.migrated) await auditLog.migrate();
  const audit = auditPlugin(auditLog, { log: opts.log, timeoutMs: opts.auditTimeoutMs });

  const roleOf = (role: string) => {
    const r = policy.roles.get(role);
    if (!r) throw new Error(`access: no role "${role}" in ${policy.source}`);
    return r;
  };
  return {
    policy,
    schemas,
    authenticate,
    failedLogins,
    auditLog,
    pluginsFor(role) {
      const r = roleOf(role);
      return [
        limitsPlugin(r.limits, {
          persistedOnly: r.persistedOnly,
          safelist: policy.safelist,
          hardMaxIds: opts.hardMaxIds,
          lookups: { budget: lookupBudget, counts: countsLookup, observe: opts.observeLookups && ((n, admitted) => opts.observeLookups!(role, n, admitted)) },
        }),
        audit,
      ];
    },
    readerOf(role) {
      roleOf(role);
      return readers.get(role)!;
    },
    tellerOf(role) {
      roleOf(role);
      return tellers.get(role)!;
    },
    persistedQueriesFor(role) {
      return roleOf(role).persistedOnly ? { cache: safelistCache(policy.safelist) } : undefined;
    },
  };
}
