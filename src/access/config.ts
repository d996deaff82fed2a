/**
 * The shapes of access configuration, validated with zod at start-up:
 *  - `AuthConfig`: how callers prove who they are (the `auth` section of the main config);
 *  - `PolicyFile`: what each role may see (config/access.json), before it is checked
 *    against the schema in policy.ts.
 * Secrets never sit in files: the main config's `${ENV}` interpolation fills `secret`.
 */
import { z } from 'zod';
import { stringOrObjectError } from '../zod-union';

/** Role names as they appear in the policy, API keys and token claims. */
export const roleName = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be a lower-case role name (a-z, 0-9, _ or -)');

const teamName = z.string().min(1).max(128);

/** Asymmetric algorithms a public key (PEM or JWKS) may be pinned to. */
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export const HMAC_ALGS = ['HS256', 'HS384', 'HS512'] as const;

const kid = z.string().min(1).max(256).optional();

/**
 * One verification key, pinned to its algorithm(s): a token is only ever checked against keys
 * whose pinned algorithm equals the token's `alg`, so an HS256 token can never be verified with
 * an RSA public key used as an HMAC secret (algorithm confusion), and `none` matches nothing.
 */
const jwtKey = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('secret'),
      alg: z.enum(HMAC_ALGS).default('HS256'),
      /** The shared secret, from the environment (`${C360_JWT_SECRET}`); at least 32 characters. */
      secret: z.string().min(32, 'must be at least 32 characters (use ${ENV_VAR})'),
      kid,
    })
    .strict(),
  z
    .object({
      type: z.literal('pem'),
      alg: z.enum(ASYMMETRIC_ALGS),
      /** An SPKI public key (`-----BEGIN PUBLIC KEY-----`) inline… */
      publicKey: z.string().includes('BEGIN PUBLIC KEY', { message: 'must be a PEM SPKI public key' }).optional(),
      /** …or in a file (relative paths resolve against the working directory). */
      file: z.string().min(1).optional(),
      kid,
    })
    .strict()
    .refine((k) => (k.publicKey === undefined) !== (k.file === undefined), 'give exactly one of publicKey or file'),
  z
    .object({
      type: z.literal('jwks'),
      /** A JSON Web Key Set file (`{"keys":[…]}`) of public keys. */
      file: z.string().min(1),
      /** The algorithms tokens verified by this set may use. */
      algorithms: z.array(z.enum(ASYMMETRIC_ALGS)).min(1),
    })
    .strict(),
]);

const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const AuthConfig = z
  .object({
    /** API keys (header `X-Api-Key`), stored only as the sha256 hex of the key. */
    apiKeys: z
      .array(
        z
          .object({
            /** Who holds the key; recorded as the principal in logs and the audit. */
            name: z.string().min(1).max(128),
            role: roleName,
            sha256: z
              .string()
              .regex(/^[0-9a-fA-F]{64}$/, 'must be the sha256 hex digest of the key (64 hex characters)')
              .transform((s) => s.toLowerCase()),
            /** Teams for row scopes. */
            teams: z.array(teamName).default([]),
          })
          .strict(),
      )
      .default([]),
    /** Bearer JWTs (header `Authorization: Bearer …`). */
    jwt: z
      .object({
        issuer: oneOrMany,
        audience: oneOrMany,
        keys: z.array(jwtKey).min(1),
        /** Claim holding the role (a string, or a one-element array); dotted paths reach nested claims. */
        roleClaim: z.string().min(1).default('role'),
        /** Claim holding the caller's team(s) for row scopes (a string or an array of strings). */
        teamsClaim: z.string().min(1).default('teams'),
        /** Claim naming the caller; tokens without it are refused. */
        principalClaim: z.string().min(1).default('sub'),
        /** Maps the identity provider's role values to policy roles; when set, unmapped values are refused. */
        roleMap: z.record(z.string().min(1), roleName).optional(),
        clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
        /** When set, tokens must carry `iat` and be at most this old. */
        maxTokenAgeSeconds: z.number().int().min(1).optional(),
        /**
         * When set, tokens must carry this `typ` header (`at+jwt` for RFC 9068 access tokens; compared
         * as a media type, `application/` prefix and case aside), so that another kind of JWT of the same
         * issuer and audience (an ID token) is not taken for an access token (RFC 8725 §3.11).
         */
        typ: z.string().min(1).max(128).optional(),
      })
      .strict()
      .optional(),
    /**
     * Refused credentials per client address (src/access/failed-logins.ts): past `perMinute` (0: off)
     * an address's credentials are refused unchecked, 429 RATE_LIMITED, until the minute's budget grows
     * back. `trustedProxies`: the reverse proxies in front whose `X-Forwarded-For` names the client.
     */
    failedLogins: z
      .object({
        perMinute: z.number().int().min(0).max(100_000).default(20),
        trustedProxies: z.number().int().min(0).max(10).default(0),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AuthConfig = z.infer<typeof AuthConfig>;

/** The `access` section of the main config (all optional). */
export const AccessConfig = z
  .object({
    /** The policy file (relative paths resolve against the working directory). */
    policyFile: z.string().min(1).default('config/access.json'),
    /** HMAC key for the `hash` mask (openid, unionid pseudonyms), from the environment: `${C360_MASK_KEY}`. */
    hashKey: z.string().min(16, 'must be at least 16 characters (use ${ENV_VAR})').optional(),
    /**
     * Audit rows older than this many days are deleted (src/access/audit-retention.ts); absent,
     * they are kept for ever. Set it to what the law you answer to asks of access records.
     */
    auditRetentionDays: z.number().int().min(1).max(36_500).optional(),
  })
  .strict();
export type AccessConfig = z.infer<typeof AccessConfig>;
export type AuthConfigInput = z.input<typeof AuthConfig>;
export type JwtKeyConfig = z.infer<typeof jwtKey>;

// ---------------------------------------------------------------------------------------------
// Policy file (config/access.json)
// ---------------------------------------------------------------------------------------------

export const MASK_STYLES = ['none', 'phone', 'email', 'name', 'yearOnly', 'hash', 'partial', 'redact'] as const;
export type MaskStyle = (typeof MASK_STYLES)[number];

/** `"Type.field"`. */
const fieldRef = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'must be "Type.field"');

/**
 * How one field is masked: a style, or a style chosen by a sibling field of the same object
 * (e.g. Identifier.value by `kind`: phones as phones, openids hashed). Keys of `styles` are
 * the sibling's GraphQL values (enum names such as `SCRM`); `otherwise` covers the rest.
 */
const maskStyle = z.enum(MASK_STYLES, {
  error: (issue) => (typeof issue.input === 'string' ? `unknown mask style ${JSON.stringify(issue.input)}; the styles are ${MASK_STYLES.join(', ')}` : undefined),
});
const maskSpec = z.union(
  [
    maskStyle,
    z
      .object({
        byParent: z.string().min(1),
        styles: z.record(z.string().min(1), maskStyle),
        otherwise: maskStyle,
      })
      .strict(),
  ],
  { error: stringOrObjectError(`a mask style (${MASK_STYLES.join(', ')}) or { byParent, styles, otherwise }`) },
);
export type MaskSpecInput = z.infer<typeof maskSpec>;

/** A personal field, optionally only when a sibling field has one of some values (SourceRecord.recordId when source is SCRM). */
const personalEntry = z.union(
  [
    fieldRef,
    z
      .object({
        field: fieldRef,
        when: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)),
      })
      .strict(),
  ],
  { error: stringOrObjectError('"Type.field", or { field: "Type.field", when: { sibling: [values] } }') },
);

/**
 * The defaults of the limits added after the first policies were written (the parser's token
 * limit, the pre-validation field count, the per-principal rate and concurrency caps): a policy
 * whose `defaults.limits` omits them gets these. config/access.json states them explicitly.
 */
export const LIMIT_DEFAULTS = {
  maxTokens: 20_000,
  maxFields: 2_000,
  requestsPerMinute: 3_000,
  maxConcurrent: 16,
  maxConcurrentExports: 4,
  lookupsPerMinute: 60,
} as const;

const limitFields = {
  /** Deepest field nesting, introspection included (the standard introspection query is 15 deep). */
  maxDepth: z.number().int().min(1).max(100),
  /** Most aliased fields in one operation (fragments counted as often as they are spread). */
  maxAliases: z.number().int().min(0).max(10_000),
  /** Budget: each field costs 1; a list field's selections count once per requested item. */
  maxCost: z.number().int().min(1),
  /** Most ids one list-of-ID argument (`customers(ids:)`) may carry. */
  maxIds: z.number().int().min(1).max(10_000),
  /** Size assumed for list fields without `first` or `ids`. */
  defaultListSize: z.number().int().min(1).max(10_000),
  /** Most lexical tokens in a query document; the parser stops at the next one (graphql-js `maxTokens`). */
  maxTokens: z.number().int().min(100).max(1_000_000),
  /** Most fields a document selects, fragments expanded as often as they are spread; counted before validation. */
  maxFields: z.number().int().min(1).max(1_000_000),
  /** Requests per minute per principal (API key name or token subject): a token bucket holding a minute's worth. */
  requestsPerMinute: z.number().int().min(1).max(1_000_000),
  /** Requests one principal may have in flight at once. */
  maxConcurrent: z.number().int().min(1).max(10_000),
  /** Of those, exports (`/export/customers.*`): each walks a whole list, so far fewer than requests. */
  maxConcurrentExports: z.number().int().min(1).max(1_000),
  /**
   * Lookups by a value (`customerByIdentifier`, `customersByIdentifier`, `customerBySourceRecord`) per
   * minute per principal, each alias one (src/access/lookup-budget.ts): each answers whether someone
   * holds a phone or an email, so this bounds the guesses one key can have confirmed.
   */
  lookupsPerMinute: z.number().int().min(1).max(1_000_000),
};

export const LimitsConfig = z
  .object({
    ...limitFields,
    maxTokens: limitFields.maxTokens.default(LIMIT_DEFAULTS.maxTokens),
    maxFields: limitFields.maxFields.default(LIMIT_DEFAULTS.maxFields),
    requestsPerMinute: limitFields.requestsPerMinute.default(LIMIT_DEFAULTS.requestsPerMinute),
    maxConcurrent: limitFields.maxConcurrent.default(LIMIT_DEFAULTS.maxConcurrent),
    maxConcurrentExports: limitFields.maxConcurrentExports.default(LIMIT_DEFAULTS.maxConcurrentExports),
    lookupsPerMinute: limitFields.lookupsPerMinute.default(LIMIT_DEFAULTS.lookupsPerMinute),
  })
  .strict();
/** A role's own limits: any subset, over the defaults (no zod defaults here, so an absent key never overrides). */
const RoleLimitsConfig = z.object(limitFields).partial().strict();
export type Limits = z.infer<typeof LimitsConfig>;

const rowScope = z.discriminatedUnion('kind', [
  z
    .object({
      /** Customers with at least one record, in a source whose records have owners (a CRM), owned by one of the caller's teams. */
      kind: z.literal('ownerTeam'),
    })
    .strict(),
]);
export type RowScope = z.infer<typeof rowScope>;

const roleEntry = z
  .object({
    description: z.string().optional(),
    /** Start from another role's grants, masks, scope and limits; this role's own entries add to or override them. */
    extends: z.string().min(1).optional(),
    /** Type name → fields visible (`"*"`: every field that is not personal). Type `"*"`: every type but Mutation/Subscription. */
    grant: z.record(z.string().min(1), z.array(z.string().min(1))).default({}),
    /** `"Type.field"` → mask; a masked field is granted (masked). `"none"` shows an inherited mask's field unmasked. */
    mask: z.record(fieldRef, maskSpec).default({}),
    /** Which customers the role may see; `null` lifts an inherited scope. Absent: every customer. */
    rowScope: rowScope.nullable().optional(),
    limits: RoleLimitsConfig.optional(),
    /** Accept only operations from the safelist. */
    persistedOnly: z.boolean().optional(),
    /**
     * Whose saved segments the role may change and delete, where it is granted those mutations:
     * `own` (those its principal created; the default: deny by default) or `any`.
     */
    segments: z.enum(['own', 'any']).optional(),
  })
  .strict();
export type RoleEntry = z.infer<typeof roleEntry>;

export const PolicyFile = z
  .object({
    $comment: z.string().optional(),
    /**
     * Fields holding personal data. They are never granted by a wildcard, only by name, and
     * reading one unmasked is audited. Fields named like personal data (phone, email, name,
     * birthday, city…) are treated as personal unless listed in `notPersonal`.
     */
    personal: z.array(personalEntry).default([]),
    /** Fields whose names look personal but are not (OrderLine.name is a product name). */
    notPersonal: z.array(fieldRef).default([]),
    /** Safelist file (sha256 hex of the query text → query text), relative to the policy file. */
    safelist: z.string().min(1).optional(),
    /** Limits every role starts from. */
    defaults: z.object({ limits: LimitsConfig }).strict(),
    roles: z.record(roleName, roleEntry).refine((r) => Object.keys(r).length > 0, 'at least one role'),
  })
  .strict();
export type PolicyFile = z.infer<typeof PolicyFile>;

export const SafelistFile = z.record(z.string().regex(/^[0-9a-f]{64}$/, 'keys must be sha256 hex digests of the query'), z.string().min(1));
