/**
 * Who is calling /graphql: an API key (`X-Api-Key`) or a bearer JWT (`Authorization: Bearer`).
 * The authenticator answers a Viewer, or null for anything else (no credentials, bad ones,
 * both kinds at once, an unknown role); the server turns null into HTTP 401 UNAUTHENTICATED
 * before any GraphQL work, so nothing about the schema reaches an unauthenticated caller.
 *
 * API keys are stored only as sha256 hex digests and compared in constant time against
 * every configured digest. JWTs are verified with jose: signature, `exp` (required), `nbf`,
 * issuer and audience. Each key is pinned to its algorithm(s) and a token is tried only
 * against keys pinned to its `alg`, so `alg: none` and algorithm confusion (an HS256 token
 * "signed" with an RSA public key) match no key. Reasons for a refusal are not told to the
 * caller; `onRefused` may log them (never the token).
 *
 * Key rotation: list both keys (two `pem` or `secret` entries, or both in one JWK set) while
 * tokens of either are alive. A token naming a `kid` is tried only against keys with that kid
 * (or none); a token naming none, against every key of its algorithm, in a JWK set too; a key
 * without a kid (configured so, or in a JWK set) is tried for any token of its algorithm. Keys
 * are read at start-up; a JWK set file is read again when a token names a kid it does not hold,
 * asynchronously, one read in flight, at most once a second (JWKS_REREAD_INTERVAL_MS), so a key
 * the identity provider publishes there is taken without a restart (src/access/POLICY.md, "Credentials").
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type http from 'node:http';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Viewer } from '../context';
import { MAX_PRINCIPAL_LENGTH } from '../principal';
import { AuthConfig, type AuthConfigInput } from './config';

export class AuthConfigError extends Error {
  readonly code = 'BAD_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

export type Authenticator = (req: http.IncomingMessage) => Promise<Viewer | null>;

export interface AuthenticatorOptions {
  /** Roles the policy defines. API keys and role maps naming others stop start-up; tokens with others are refused. */
  roles?: Iterable<string>;
  /** Where relative key file paths resolve (default: the working directory). */
  baseDir?: string;
  /** Names the config in errors (default `auth`). */
  where?: string;
  /** Told why a credential was refused (for a log line; never contains the credential). */
  onRefused?: (reason: string) => void;
  /** Told when a JWK set file was read again: its new key count, or why it was not taken (the keys before stay). */
  onKeysReread?: (event: { key: string; keys?: number; problem?: string }) => void;
  /** Milliseconds on a monotonic clock, for the JWK set re-read interval (tests pass their own). */
  now?: () => number;
}

/** At most one re-read of a JWK set file per this many ms, however many tokens name an unknown kid. */
export const JWKS_REREAD_INTERVAL_MS = 1000;

/**
 * jose is loaded only when bearer tokens are configured. It ships ES modules only: Node 20.19+
 * (and tsx) require it fine, but jest 30 on Node 20 cannot without a transform, so API-key-only
 * setups (most tests) never touch it.
 */
const loadJose = (): typeof import('jose') => require('jose');

/**
 * JWS algorithms registered with IANA (RFC 7518 §3.1, RFC 8037, RFC 8812): the only `alg` values a
 * refusal's reason names. The header is the caller's own text, up to 16 KiB, and reasons are logged.
 */
const REGISTERED_ALGORITHMS = new Set([
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'ES256K',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
  'Ed448',
]);

const MAX_API_KEY_LENGTH = 512;
const MAX_TOKEN_LENGTH = 16 * 1024;

/** The digest to store in config for an API key. */
export function hashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Finds the configured digest matching a presented key. Every digest is compared, with
 * `timingSafeEqual`, whether or not an earlier one matched: the time taken does not depend
 * on which key (if any) matched, nor on how many leading characters were right.
 */
export function matchApiKey(presented: string, digests: readonly string[]): number {
  return matchDigest(sha256Of(presented), digests.map(digestBytes));
}

const digestBytes = (hex: string) => Buffer.from(hex, 'hex');

/** A key's sha256: one call (`crypto.hash`, Node 20.12+) where there is one, rather than a Hash object per request. */
const sha256Of: (key: string) => Buffer =
  typeof crypto.hash === 'function' ? (key) => crypto.hash('sha256', key, 'buffer') : (key) => crypto.createHash('sha256').update(key, 'utf8').digest();

/** matchApiKey over the digests' bytes (decoded once, when the authenticator is built). */
function matchDigest(h: Buffer, digests: readonly Buffer[]): number {
  let found = -1;
  for (let i = 0; i < digests.length; i++) {
    const equal = crypto.timingSafeEqual(h, digests[i]);
    if (equal && found < 0) found = i;
  }
  return found;
}

interface VerificationKey {
  algorithms: string[];
  kid?: string;
  key: crypto.KeyObject | Uint8Array | JWTVerifyGetKey;
  /** A JWK set file's: whether it holds a key with this kid. */
  holds?: (kid: string) => boolean;
  /** A JWK set file's: reads it again (at most once per JWKS_REREAD_INTERVAL_MS, one read in flight) and answers whether `key` changed. */
  reread?: () => Promise<boolean>;
}

function readKeyFile(file: string, baseDir: string, key: string): string {
  try {
    return fs.readFileSync(path.resolve(baseDir, file), 'utf8');
  } catch (e) {
    throw new AuthConfigError(`${key}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function loadKeys(
  cfg: NonNullable<AuthConfig['jwt']>,
  baseDir: string,
  where: string,
  jose: typeof import('jose'),
  reread: { now: () => number; told?: AuthenticatorOptions['onKeysReread'] },
): VerificationKey[] {
  return cfg.keys.map((k, i) => {
    const key = `${where}.jwt.keys.${i}`;
    switch (k.type) {
      case 'secret':
        return { algorithms: [k.alg], kid: k.kid, key: new TextEncoder().encode(k.secret) };
      case 'pem': {
        const pem = k.publicKey ?? readKeyFile(k.file!, baseDir, `${key}.file`);
        let publicKey: crypto.KeyObject;
        try {
          publicKey = crypto.createPublicKey(pem);
        } catch (e) {
          throw new AuthConfigError(`${key}: not a usable public key (${(e as Error).message})`);
        }
        if (publicKey.type !== 'public') throw new AuthConfigError(`${key}: must be a public key`);
        const family = k.alg.startsWith('ES') ? 'ec' : k.alg === 'EdDSA' ? 'ed25519' : 'rsa';
        const type = publicKey.asymmetricKeyType;
        if (!(type === family || (family === 'rsa' && type === 'rsa-pss') || (family === 'ed25519' && type === 'ed448'))) {
          throw new AuthConfigError(`${key}: a ${type} key cannot verify ${k.alg}`);
        }
        return { algorithms: [k.alg], kid: k.kid, key: publicKey };
      }
      case 'jwks': {
        let text = readKeyFile(k.file, baseDir, `${key}.file`);
        let set = jwkSet(jose, parseJwks(text, key));
        const entry: VerificationKey = { algorithms: [...k.algorithms], key: (header, token) => set.verify(header, token), holds: (kid) => set.kids.has(kid) };
        let readAt = reread.now();
        let inFlight: Promise<boolean> | null = null;
        const readAgain = async (): Promise<boolean> => {
          try {
            const now = await fs.promises.readFile(path.resolve(baseDir, k.file), 'utf8');
            if (now === text) return false;
            const jwks = parseJwks(now, key);
            set = jwkSet(jose, jwks);
            text = now;
            reread.told?.({ key: `${key}.file`, keys: jwks.keys.length });
            return true;
          } catch (e) {
            // A file caught half-written, broken or gone: the keys read before stay, and the next re-read tries again.
            const problem = e instanceof AuthConfigError ? e.message : `${key}.file: cannot read ${k.file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
            reread.told?.({ key: `${key}.file`, problem });
            return false;
          } finally {
            inFlight = null;
          }
        };
        // Off the event loop (a slow or hung disk holds up only the tokens waiting for it), one read
        // in flight that every token arriving meanwhile waits for, and at most one a JWKS_REREAD_INTERVAL_MS.
        entry.reread = () => {
          if (inFlight) return inFlight;
          const t = reread.now();
          if (t - readAt < JWKS_REREAD_INTERVAL_MS) return Promise.resolve(false);
          readAt = t;
          return (inFlight = readAgain());
        };
        return entry;
      }
    }
  });
}

/**
 * A JWK set as jose verifies it, with one addition for keys without a `kid` (RFC 7517 §4.5: it is
 * optional; a set of one key without it is common): such a key verifies tokens of its algorithm
 * whatever kid they name, as a `pem` or `secret` key configured without a kid does, while a key
 * with a kid verifies only tokens naming that kid or none. jose alone matches a token naming a kid
 * only to a key with that kid, so a kid-less key refused every token that names one.
 */
function jwkSet(jose: typeof import('jose'), jwks: { keys: import('jose').JWK[] }) {
  const all = jose.createLocalJWKSet(jwks);
  const kidless = jwks.keys.filter((j) => typeof j.kid !== 'string');
  const withoutKid = kidless.length ? jose.createLocalJWKSet({ keys: kidless }) : null;
  const kids = new Set(jwks.keys.flatMap((j) => (typeof j.kid === 'string' ? [j.kid] : [])));
  const verify: JWTVerifyGetKey = (header, token) => {
    if (withoutKid && typeof header.kid === 'string' && !kids.has(header.kid)) {
      const { kid: _named, ...rest } = header;
      return withoutKid(rest, { ...token, header: undefined });
    }
    return all(header, token);
  };
  return { verify, kids };
}

/** A JWK set file's text as a set of public keys; AuthConfigError naming `key` otherwise. */
function parseJwks(text: string, key: string): { keys: import('jose').JWK[] } {
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch (e) {
    throw new AuthConfigError(`${key}.file: not valid JSON (${(e as Error).message})`);
  }
  const keys = jwks && typeof jwks === 'object' ? (jwks as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) throw new AuthConfigError(`${key}.file: must be a JWK set {"keys":[…]}`);
  keys.forEach((j, n) => {
    const jwk = j as Record<string, unknown>;
    if (jwk.kty === 'oct' || 'd' in jwk || 'k' in jwk) throw new AuthConfigError(`${key}.file: keys[${n}] must be a public key (no secret or private parts)`);
  });
  return jwks as { keys: import('jose').JWK[] };
}

/** The payload of `token` verified by the first of `candidates` whose signature matches; null when none does (`onRefused` gets each reason). */
async function firstVerified(
  jose: typeof import('jose'),
  token: string,
  candidates: AsyncIterable<import('jose').CryptoKey>,
  options: import('jose').JWTVerifyOptions,
  onRefused: (reason: string) => void,
): Promise<JWTPayload | null> {
  for await (const key of candidates) {
    try {
      return (await jose.jwtVerify(token, key, options)).payload;
    } catch (e) {
      onRefused(`token refused (${(e as { code?: string }).code ?? 'invalid'})`);
    }
  }
  return null;
}

/** A claim by name; a dotted name reaches into nested objects when no claim has that exact name. */
function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  return name.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), payload);
}

function teamsFrom(v: unknown): string[] {
  if (typeof v === 'string') return v ? [v] : [];
  if (Array.isArray(v)) return v.filter((t): t is string => typeof t === 'string' && t.length > 0);
  return [];
}

/**
 * Builds the authenticator (reads key files now, so a bad key stops start-up).
 * `config` is the `auth` section, validated here if it was not already.
 */
export function createAuthenticator(config: AuthConfig | AuthConfigInput, opts: AuthenticatorOptions = {}): Authenticator {
  const where = opts.where ?? 'auth';
  const parsed = AuthConfig.safeParse(config);
  if (!parsed.success) {
    throw new AuthConfigError(`${where} is not valid:\n  ${parsed.error.issues.map((i) => `${where}.${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  const cfg = parsed.data;
  const roles = opts.roles ? new Set(opts.roles) : null;
  const refuse = (reason: string) => {
    opts.onRefused?.(reason);
    return null;
  };

  if (roles) {
    const problems: string[] = [];
    // The roles are the access policy's: a typo (`admn`) or a role the policy lacks is fixed from the list.
    const known = `(the access policy's roles: ${[...roles].join(', ')})`;
    cfg.apiKeys.forEach((k, i) => !roles.has(k.role) && problems.push(`${where}.apiKeys.${i}.role: unknown role "${k.role}" ${known}`));
    for (const [from, to] of Object.entries(cfg.jwt?.roleMap ?? {})) if (!roles.has(to)) problems.push(`${where}.jwt.roleMap.${from}: unknown role "${to}" ${known}`);
    if (problems.length) throw new AuthConfigError(`${where} is not valid:\n  ${problems.join('\n  ')}`);
  }
  const names = new Set<string>();
  // One key, one principal: a digest listed twice would authenticate as whichever entry comes first
  // (a key moved to a narrower role by adding an entry would keep the broader one).
  const keyOf = new Map<string, string>();
  cfg.apiKeys.forEach((k, i) => {
    if (names.has(k.name)) throw new AuthConfigError(`${where}.apiKeys.${i}.name: "${k.name}" is used by another key`);
    names.add(k.name);
    const digest = k.sha256.toLowerCase();
    const first = keyOf.get(digest);
    if (first !== undefined) throw new AuthConfigError(`${where}.apiKeys.${i}.sha256: the same key as "${first}"; list each key once, with the role it has`);
    keyOf.set(digest, k.name);
  });

  const digests = cfg.apiKeys.map((k) => digestBytes(k.sha256));
  const jwt = cfg.jwt;
  const jose = jwt ? loadJose() : undefined;
  const keys = jwt && jose ? loadKeys(jwt, opts.baseDir ?? process.cwd(), where, jose, { now: opts.now ?? (() => performance.now()), told: opts.onKeysReread }) : [];

  const byApiKey = (presented: string): Viewer | null => {
    if (!presented || presented.length > MAX_API_KEY_LENGTH) return refuse('api key malformed');
    const i = matchDigest(sha256Of(presented), digests);
    if (i < 0) return refuse('api key unknown');
    const k = cfg.apiKeys[i];
    return { role: k.role, principal: k.name, principalKind: 'apiKey', teams: [...k.teams] };
  };

  const byToken = async (token: string): Promise<Viewer | null> => {
    if (!jwt || !jose) return refuse('bearer tokens are not configured');
    if (token.length > MAX_TOKEN_LENGTH) return refuse('token too long');
    let header: ReturnType<typeof jose.decodeProtectedHeader>;
    try {
      header = jose.decodeProtectedHeader(token);
    } catch {
      return refuse('token malformed');
    }
    const alg = header.alg;
    if (typeof alg !== 'string' || alg === 'none') return refuse('token algorithm refused');
    const candidates = keys.filter((k) => k.algorithms.includes(alg) && (!k.kid || !header.kid || k.kid === header.kid));
    if (!candidates.length) return refuse(`no key for algorithm ${REGISTERED_ALGORITHMS.has(alg) ? alg : '(not a registered one)'}`);
    let payload: JWTPayload | null = null;
    let lastReason = 'token invalid';
    for (const k of candidates) {
      const options = {
        algorithms: k.algorithms,
        issuer: jwt.issuer,
        audience: jwt.audience,
        clockTolerance: jwt.clockToleranceSeconds,
        requiredClaims: ['exp'],
        maxTokenAge: jwt.maxTokenAgeSeconds,
        typ: jwt.typ,
      };
      const verify = () => (typeof k.key === 'function' ? jose.jwtVerify(token, k.key, options) : jose.jwtVerify(token, k.key, options));
      try {
        let verified: Awaited<ReturnType<typeof verify>>;
        try {
          verified = await verify();
        } catch (e) {
          // A kid the JWK set file does not hold: the identity provider may have published a key there since it was read.
          if (!(header.kid && k.holds && !k.holds(header.kid) && k.reread && (await k.reread()))) throw e;
          verified = await verify();
        }
        payload = verified.payload;
        break;
      } catch (e) {
        lastReason = `token refused (${(e as { code?: string }).code ?? 'invalid'})`;
        // A JWK set holding more than one key of the token's algorithm, the token naming no kid
        // (RFC 7515 §4.1.4: kid is optional), as during a rotation while both keys are published:
        // jose refuses rather than guess, and hands the candidates over (one per key in the file).
        if ((e as { code?: string }).code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') {
          payload = await firstVerified(jose, token, e as AsyncIterable<import('jose').CryptoKey>, options, (reason) => (lastReason = reason));
          if (payload) break;
        }
      }
    }
    if (!payload) return refuse(lastReason);

    const principal = claim(payload, jwt.principalClaim);
    if (typeof principal !== 'string' || !principal) return refuse(`token lacks ${jwt.principalClaim}`);
    // Every record of who did what holds a principal whole: a longer one would be cut there (two
    // callers made one) or refused by MySQL's column at the first segment saved.
    if ([...principal].length > MAX_PRINCIPAL_LENGTH) return refuse(`token ${jwt.principalClaim} over ${MAX_PRINCIPAL_LENGTH} characters`);
    let roleValue = claim(payload, jwt.roleClaim);
    if (Array.isArray(roleValue) && roleValue.length === 1) roleValue = roleValue[0];
    if (typeof roleValue !== 'string') return refuse('token role missing or not exactly one');
    const role = jwt.roleMap ? jwt.roleMap[roleValue] : roleValue;
    if (!role || (roles && !roles.has(role))) return refuse('token role unknown');
    return { role, principal, principalKind: 'jwt', teams: teamsFrom(claim(payload, jwt.teamsClaim)) };
  };

  return async (req) => {
    const apiKey = req.headers['x-api-key'];
    const authorization = req.headers.authorization;
    if (apiKey !== undefined && authorization !== undefined) return refuse('both an api key and an authorization header');
    if (apiKey !== undefined) return byApiKey(Array.isArray(apiKey) ? '' : apiKey);
    if (authorization === undefined) return refuse('no credentials');
    // `credentials = auth-scheme [ 1*SP token68 ]`, the scheme case-insensitive (RFC 9110 §11.1, §11.4; RFC 6750 §2.1).
    const m = /^bearer +([A-Za-z0-9_.~+/=-]+)$/i.exec(authorization);
    if (!m) return refuse('authorization is not a bearer token');
    return byToken(m[1]);
  };
}
