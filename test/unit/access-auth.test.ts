/**
 * Access authentication: API keys by hash, JWTs verified with jose (issuer, audience, expiry,
 * pinned algorithms). Every refusal answers a null viewer, which the server sends as 401.
 */
import crypto from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';
import type http from 'node:http';

import { SignJWT, base64url } from 'jose';
import { createAuthenticator, hashApiKey, matchApiKey, AuthConfigError, JWKS_REREAD_INTERVAL_MS } from '../../src/access/auth';
import type { AuthConfigInput } from '../../src/access/config';

const ROLES = ['marketing', 'sales', 'support', 'finance', 'analyst', 'admin'];
const SECRET = 'a-shared-secret-of-at-least-32-characters!';
const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'c360';

const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const tmp = tempDir('auth');
const jwksFile = path.join(tmp, 'jwks.json');
fs.writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' }] }));

const req = (headers: Record<string, string>) => ({ headers }) as unknown as http.IncomingMessage;
const bearer = (token: string) => req({ authorization: `Bearer ${token}` });

const SALES_KEY = 'c360_sk_sales_0123456789abcdef';
const config: AuthConfigInput = {
  apiKeys: [
    { name: 'bi-tool', role: 'analyst', sha256: hashApiKey('c360_sk_analyst_0123456789abcdef') },
    { name: 'crm-plugin', role: 'sales', sha256: hashApiKey(SALES_KEY).toUpperCase(), teams: ['team-a'] },
  ],
  jwt: {
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: [
      { type: 'secret', alg: 'HS256', secret: SECRET },
      { type: 'pem', alg: 'RS256', publicKey: rsaPem },
      { type: 'jwks', file: jwksFile, algorithms: ['ES256'] },
    ],
    roleClaim: 'https://c360/role',
    teamsClaim: 'https://c360/teams',
  },
};
let reasons: string[] = [];
const authenticate = createAuthenticator(config, { roles: ROLES, onRefused: (r) => reasons.push(r) });

/** Authenticates a bearer token; answers the viewer and why it was refused. */
async function verdict(token: string, auth = authenticate) {
  reasons = [];
  const viewer = await auth(bearer(token));
  return { viewer, reason: reasons.join('; ') };
}

const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', 'https://c360/role': 'sales', 'https://c360/teams': ['team-a', 'team-b'], ...extra });

async function hs256(payload: Record<string, unknown> = claims(), opts: { iss?: string; aud?: string; exp?: string | number; key?: Uint8Array } = {}) {
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(typeof payload.iat === 'number' ? payload.iat : undefined)
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE);
  if (opts.exp !== undefined) jwt.setExpirationTime(opts.exp);
  else jwt.setExpirationTime('10m');
  return jwt.sign(opts.key ?? new TextEncoder().encode(SECRET));
}

describe('Access auth: API keys', () => {
  it('answers the key’s name, role and teams', async () => {
    expect(await authenticate(req({ 'x-api-key': SALES_KEY }))).toEqual({ role: 'sales', principal: 'crm-plugin', principalKind: 'apiKey', teams: ['team-a'] });
    expect((await authenticate(req({ 'x-api-key': 'c360_sk_analyst_0123456789abcdef' })))!.role).toBe('analyst');
  });

  it('refuses an unknown key, an empty one, and a key sent with a bearer token', async () => {
    expect(await authenticate(req({ 'x-api-key': 'c360_sk_sales_0123456789abcdeX' }))).toBeNull();
    expect(await authenticate(req({ 'x-api-key': '' }))).toBeNull();
    expect(await authenticate(req({ 'x-api-key': SALES_KEY, authorization: `Bearer ${await hs256()}` }))).toBeNull();
  });

  it('compares the hash of the presented key against every stored hash', () => {
    const digests = ['a', 'b', 'c'].map(hashApiKey);
    expect(matchApiKey('b', digests)).toBe(1);
    expect(matchApiKey('d', digests)).toBe(-1);
    expect(hashApiKey('b')).toBe(crypto.createHash('sha256').update('b').digest('hex'));
  });

  it('refuses requests without credentials, and schemes other than Bearer', async () => {
    expect(await authenticate(req({}))).toBeNull();
    expect(await authenticate(req({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }))).toBeNull();
  });

  it('reads the Authorization scheme in any case, and one or more spaces after it (RFC 9110 §11.1, §11.4)', async () => {
    const token = await hs256();
    for (const authorization of [`bearer ${token}`, `BEARER ${token}`, `Bearer  ${token}`]) expect((await authenticate(req({ authorization })))?.principal).toBe('alice');
    // The scheme name is case-insensitive, not optional, and nothing else may follow the token.
    for (const authorization of [token, `Bearer${token}`, `Bearer ${token} x`, `Bearers ${token}`]) expect(await authenticate(req({ authorization }))).toBeNull();
  });

  it('takes an API key from its header only, never from the query string', async () => {
    expect(await authenticate({ headers: {}, url: `/graphql?api_key=${SALES_KEY}&x-api-key=${SALES_KEY}` } as unknown as http.IncomingMessage)).toBeNull();
  });
});

describe('Access auth: JWT', () => {
  it('accepts an HS256 token: role and teams from the configured claims, principal from sub', async () => {
    expect(await authenticate(bearer(await hs256()))).toEqual({ role: 'sales', principal: 'alice', principalKind: 'jwt', teams: ['team-a', 'team-b'] });
  });

  it('accepts an RS256 token verified with the PEM key', async () => {
    const token = await new SignJWT(claims({ 'https://c360/role': ['support'] }))
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(rsa.privateKey);
    expect((await authenticate(bearer(token)))!.role).toBe('support');
  });

  it('accepts an ES256 token verified with the JWKS file', async () => {
    const token = await new SignJWT(claims({ 'https://c360/role': 'analyst' }))
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(ec.privateKey);
    expect((await authenticate(bearer(token)))!.role).toBe('analyst');
  });

  it('refuses an expired token', async () => {
    expect(await verdict(await hs256(claims(), { exp: Math.floor(Date.now() / 1000) - 3600 }))).toEqual({ viewer: null, reason: 'token refused (ERR_JWT_EXPIRED)' });
  });

  it('refuses a token without exp', async () => {
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).sign(new TextEncoder().encode(SECRET));
    expect(await verdict(token)).toEqual({ viewer: null, reason: 'token refused (ERR_JWT_CLAIM_VALIDATION_FAILED)' });
  });

  it('refuses a wrong issuer', async () => {
    expect(await verdict(await hs256(claims(), { iss: 'https://evil.example.com' }))).toEqual({ viewer: null, reason: 'token refused (ERR_JWT_CLAIM_VALIDATION_FAILED)' });
  });

  it('refuses a wrong audience', async () => {
    expect(await verdict(await hs256(claims(), { aud: 'another-app' }))).toEqual({ viewer: null, reason: 'token refused (ERR_JWT_CLAIM_VALIDATION_FAILED)' });
  });

  it('refuses alg none', async () => {
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    const now = Math.floor(Date.now() / 1000);
    const token = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ ...claims({ 'https://c360/role': 'admin' }), iss: ISSUER, aud: AUDIENCE, exp: now + 600 })}.`;
    expect(await verdict(token)).toEqual({ viewer: null, reason: 'token algorithm refused' });
  });

  it('names a refused token’s algorithm in its reason only when it is a registered JWS one: the header is the caller’s, and the reason is logged', async () => {
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    const now = Math.floor(Date.now() / 1000);
    const withAlg = (alg: string) => `${enc({ alg, typ: 'JWT' })}.${enc({ ...claims(), iss: ISSUER, aud: AUDIENCE, exp: now + 600 })}.c2ln`;
    expect(await verdict(withAlg('PS512'))).toEqual({ viewer: null, reason: 'no key for algorithm PS512' });
    for (const alg of ['zhang.san@example.com 13800138000', 'x'.repeat(8000), 'HS256\n{"level":50}'])
      expect(await verdict(withAlg(alg))).toEqual({ viewer: null, reason: 'no key for algorithm (not a registered one)' });
  });

  it('refuses an HS256 token signed with the RS256 public key (algorithm confusion)', async () => {
    const forged = await hs256(claims({ 'https://c360/role': 'admin' }), { key: new TextEncoder().encode(rsaPem) });
    expect(await verdict(forged)).toEqual({ viewer: null, reason: 'token refused (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)' });
    // And where no HMAC key is configured at all, HS256 matches no key.
    const rsaOnly = createAuthenticator(
      { jwt: { issuer: ISSUER, audience: AUDIENCE, keys: [{ type: 'pem', alg: 'RS256', publicKey: rsaPem }] } },
      { roles: ROLES, onRefused: (r) => reasons.push(r) },
    );
    expect(await verdict(forged, rsaOnly)).toEqual({ viewer: null, reason: 'no key for algorithm HS256' });
  });

  it('refuses a token whose payload was tampered with', async () => {
    const [header, , signature] = (await hs256()).split('.');
    const now = Math.floor(Date.now() / 1000);
    const payload = base64url.encode(JSON.stringify({ ...claims({ 'https://c360/role': 'admin' }), iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 }));
    expect(await verdict(`${header}.${payload}.${signature}`)).toEqual({ viewer: null, reason: 'token refused (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)' });
  });

  it('refuses a role the policy does not define, and a token without subject', async () => {
    expect(await verdict(await hs256(claims({ 'https://c360/role': 'superuser' })))).toEqual({ viewer: null, reason: 'token role unknown' });
    expect(await verdict(await hs256(claims({ 'https://c360/role': ['sales', 'admin'] })))).toEqual({ viewer: null, reason: 'token role missing or not exactly one' });
    const { sub: _sub, ...noSub } = claims();
    expect(await verdict(await hs256(noSub))).toEqual({ viewer: null, reason: 'token lacks sub' });
  });

  it('maps identity-provider roles through roleMap, refusing unmapped ones', async () => {
    const mapped = createAuthenticator({ jwt: { ...config.jwt!, roleMap: { 'c360-sales': 'sales' } } }, { roles: ROLES });
    expect((await mapped(bearer(await hs256(claims({ 'https://c360/role': 'c360-sales' })))))!.role).toBe('sales');
    expect(await mapped(bearer(await hs256(claims({ 'https://c360/role': 'sales' }))))).toBeNull();
  });

  it('allows the configured clock skew on exp and nbf, and not a second more', async () => {
    const now = Math.floor(Date.now() / 1000);
    // The default tolerance is 30 s: a token expired 10 s ago, or valid from 10 s on, is another clock's rounding.
    expect((await verdict(await hs256(claims(), { exp: now - 10 }))).viewer?.principal).toBe('alice');
    expect((await verdict(await hs256(claims({ nbf: now + 10 })))).viewer?.principal).toBe('alice');
    expect(await verdict(await hs256(claims(), { exp: now - 120 }))).toEqual({ viewer: null, reason: 'token refused (ERR_JWT_EXPIRED)' });
    expect(await verdict(await hs256(claims({ nbf: now + 120 })))).toEqual({ viewer: null, reason: 'token refused (ERR_JWT_CLAIM_VALIDATION_FAILED)' });
  });

  it('refuses a token issued in the future, or older than maxTokenAgeSeconds, when an age is configured', async () => {
    const aged = createAuthenticator({ jwt: { ...config.jwt!, maxTokenAgeSeconds: 600 } }, { roles: ROLES, onRefused: (r) => reasons.push(r) });
    const now = Math.floor(Date.now() / 1000);
    expect((await verdict(await hs256(claims({ iat: now - 60 })), aged)).viewer?.principal).toBe('alice');
    expect(await verdict(await hs256(claims({ iat: now - 3600 })), aged)).toEqual({ viewer: null, reason: 'token refused (ERR_JWT_EXPIRED)' });
    expect(await verdict(await hs256(claims({ iat: now + 3600 })), aged)).toEqual({ viewer: null, reason: 'token refused (ERR_JWT_CLAIM_VALIDATION_FAILED)' });
  });

  it('tries only the keys whose kid the token names, when both have one', async () => {
    const k1 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const k2 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = (k: crypto.KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
    const two = createAuthenticator(
      {
        jwt: {
          ...config.jwt!,
          keys: [
            { type: 'pem', alg: 'ES256', kid: 'old', publicKey: pem(k1.publicKey) },
            { type: 'pem', alg: 'ES256', kid: 'new', publicKey: pem(k2.publicKey) },
          ],
        },
      },
      { roles: ROLES, onRefused: (r) => reasons.push(r) },
    );
    const sign = (kid: string | undefined, key: crypto.KeyObject) =>
      new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', ...(kid ? { kid } : {}) })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(key);
    expect(await verdict(await sign('new', k2.privateKey), two)).toMatchObject({ reason: '', viewer: { principal: 'alice' } });
    expect((await verdict(await sign(undefined, k1.privateKey), two)).viewer?.principal).toBe('alice');
    // Signed by the old key but naming the new one: the old key is not tried.
    expect(await verdict(await sign('new', k1.privateKey), two)).toEqual({ viewer: null, reason: 'token refused (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)' });
    expect(await verdict(await sign('other', k1.privateKey), two)).toEqual({ viewer: null, reason: 'no key for algorithm ES256' });
  });

  it('verifies a token without kid against a JWKS holding two keys of its algorithm (a rotation): either key signs', async () => {
    const next = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const stranger = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = path.join(tmp, 'rotating.json');
    const jwk = (k: crypto.KeyObject) => ({ ...k.export({ format: 'jwk' }), alg: 'ES256', use: 'sig' });
    fs.writeFileSync(file, JSON.stringify({ keys: [jwk(ec.publicKey), jwk(next.publicKey)] }));
    const rotating = createAuthenticator(
      { jwt: { ...config.jwt!, keys: [{ type: 'jwks', file, algorithms: ['ES256'] }] } },
      { roles: ROLES, onRefused: (r) => reasons.push(r) },
    );
    const sign = (key: crypto.KeyObject) =>
      new SignJWT(claims()).setProtectedHeader({ alg: 'ES256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(key);
    expect(await verdict(await sign(ec.privateKey), rotating)).toMatchObject({ reason: '', viewer: { principal: 'alice' } });
    expect((await verdict(await sign(next.privateKey), rotating)).viewer?.principal).toBe('alice');
    expect(await verdict(await sign(stranger.privateKey), rotating)).toEqual({ viewer: null, reason: 'token refused (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)' });
  });

  it('reads a JWK set file again when a token names a kid it does not hold, at most once a second: a rotated key works without a restart', async () => {
    const next = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const later = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = path.join(tmp, 'published.json');
    const jwk = (k: crypto.KeyObject, kid: string) => ({ ...k.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' });
    fs.writeFileSync(file, JSON.stringify({ keys: [jwk(ec.publicKey, 'k1')] }));
    let t = 0;
    const reread: unknown[] = [];
    const rotating = createAuthenticator(
      { jwt: { ...config.jwt!, keys: [{ type: 'jwks', file, algorithms: ['ES256'] }] } },
      { roles: ROLES, onRefused: (r) => reasons.push(r), now: () => t, onKeysReread: (e) => reread.push(e) },
    );
    const sign = (key: crypto.KeyObject, kid: string) =>
      new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(key);
    const principal = async (token: string) => (await verdict(token, rotating)).viewer?.principal ?? null;

    // The identity provider starts signing with k2 before c360 has read it: refused, as any unknown kid.
    t += JWKS_REREAD_INTERVAL_MS;
    expect(await verdict(await sign(next.privateKey, 'k2'), rotating)).toEqual({ viewer: null, reason: 'token refused (ERR_JWKS_NO_MATCHING_KEY)' });
    // It publishes k2 beside k1: the next token naming k2 after the interval has the file read again.
    fs.writeFileSync(file, JSON.stringify({ keys: [jwk(ec.publicKey, 'k1'), jwk(next.publicKey, 'k2')] }));
    t += JWKS_REREAD_INTERVAL_MS;
    expect([await principal(await sign(next.privateKey, 'k2')), await principal(await sign(ec.privateKey, 'k1'))]).toEqual(['alice', 'alice']);
    expect(reread).toEqual([{ key: 'auth.jwt.keys.0.file', keys: 2 }]);

    // Within a second of a read, unknown kids cost no read: k3, published meanwhile, waits for the interval.
    fs.writeFileSync(file, JSON.stringify({ keys: [jwk(next.publicKey, 'k2'), jwk(later.publicKey, 'k3')] }));
    t += JWKS_REREAD_INTERVAL_MS / 2;
    for (let i = 0; i < 5; i++) expect(await principal(await sign(later.privateKey, 'k3'))).toBeNull();
    t += JWKS_REREAD_INTERVAL_MS;
    expect(await principal(await sign(later.privateKey, 'k3'))).toBe('alice');
    // k1, taken out of the file, is no longer taken.
    expect(await principal(await sign(ec.privateKey, 'k1'))).toBeNull();

    // A file caught half-written is not taken: the keys read before stay.
    fs.writeFileSync(file, '{"keys":[');
    t += JWKS_REREAD_INTERVAL_MS;
    expect(await principal(await sign(ec.privateKey, 'k9'))).toBeNull();
    expect(await principal(await sign(later.privateKey, 'k3'))).toBe('alice');
    expect(reread.at(-1)).toEqual({ key: 'auth.jwt.keys.0.file', problem: expect.stringMatching(/^auth\.jwt\.keys\.0\.file: not valid JSON/) });
    expect(reread).toHaveLength(3);
  });

  it('reads the JWK set file again off the event loop, one read in flight that every token naming the new kid waits for', async () => {
    const next = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const dir = tempDir('jwks-fifo');
    const file = path.join(dir, 'jwks.json');
    const jwk = (k: crypto.KeyObject, kid: string) => ({ ...k.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' });
    fs.writeFileSync(file, JSON.stringify({ keys: [jwk(ec.publicKey, 'k1')] }));
    let t = 0;
    const order: string[] = [];
    const rotating = createAuthenticator(
      { ...config, jwt: { ...config.jwt!, keys: [{ type: 'jwks', file, algorithms: ['ES256'] }] } },
      { roles: ROLES, now: () => t, onKeysReread: (e) => order.push(`reread ${e.keys ?? e.problem}`) },
    );
    // The file becomes a pipe whose writer (a disk that has not answered yet) writes only when told.
    fs.rmSync(file);
    execFileSync('mkfifo', [file]);
    fs.writeFileSync(path.join(dir, 'next.json'), JSON.stringify({ keys: [jwk(ec.publicKey, 'k1'), jwk(next.publicKey, 'k2')] }));
    // `read -t` lets it write anyway after a while, so that a synchronous read (the code before) ends and this test fails rather than hangs.
    const writer = spawn('bash', ['-c', 'read -r -t 20 go; cat next.json > jwks.json'], { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] });
    const written = new Promise((resolve) => writer.once('exit', resolve));
    try {
      t += JWKS_REREAD_INTERVAL_MS;
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', kid: 'k2' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(next.privateKey);
      const first = rotating(bearer(token));
      const second = rotating(bearer(token));
      // While the read waits, the process goes on: the loop turns and an API key is answered.
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      order.push('loop turned');
      expect((await rotating(req({ 'x-api-key': SALES_KEY })))?.principal).toBe('crm-plugin');
      writer.stdin.end('go\n');
      expect([(await first)?.principal, (await second)?.principal]).toEqual(['alice', 'alice']);
      expect(order).toEqual(['loop turned', 'reread 2']);
    } finally {
      writer.stdin.end();
      await written;
    }
  });

  it('tries a JWK without a kid for a token naming any kid (RFC 7517: kid is optional), a JWK with a kid only for tokens naming it or none', async () => {
    const stranger = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const named = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = path.join(tmp, 'kidless.json');
    const jwk = (k: crypto.KeyObject, kid?: string) => ({ ...k.export({ format: 'jwk' }), ...(kid ? { kid } : {}), alg: 'ES256', use: 'sig' });
    const sign = (key: crypto.KeyObject, kid?: string) =>
      new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', ...(kid ? { kid } : {}) })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(key);
    let t = 0;
    const auth = () =>
      createAuthenticator(
        { jwt: { ...config.jwt!, keys: [{ type: 'jwks', file, algorithms: ['ES256'] }] } },
        { roles: ROLES, onRefused: (r) => reasons.push(r), now: () => t },
      );

    // The identity provider publishes one key and no kid, and names a kid in its tokens all the same.
    fs.writeFileSync(file, JSON.stringify({ keys: [jwk(ec.publicKey)] }));
    const one = auth();
    expect(await verdict(await sign(ec.privateKey, 'idp-2026-12'), one)).toMatchObject({ reason: '', viewer: { principal: 'alice' } });
    expect((await verdict(await sign(ec.privateKey), one)).viewer?.principal).toBe('alice');
    expect(await verdict(await sign(stranger.privateKey, 'idp-2026-12'), one)).toEqual({ viewer: null, reason: 'token refused (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)' });

    // Beside a key with a kid: a token naming that kid is tried against that key only.
    fs.writeFileSync(file, JSON.stringify({ keys: [jwk(ec.publicKey), jwk(named.publicKey, 'k2')] }));
    const both = auth();
    expect((await verdict(await sign(named.privateKey, 'k2'), both)).viewer?.principal).toBe('alice');
    expect(await verdict(await sign(ec.privateKey, 'k2'), both)).toEqual({ viewer: null, reason: 'token refused (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)' });
    expect((await verdict(await sign(ec.privateKey, 'other'), both)).viewer?.principal).toBe('alice');

    // Rotated to a key with a kid: a token naming it is not taken for the kid-less key's, the file is read again.
    fs.writeFileSync(file, JSON.stringify({ keys: [jwk(ec.publicKey)] }));
    const rotating = auth();
    fs.writeFileSync(file, JSON.stringify({ keys: [jwk(named.publicKey, 'k2')] }));
    t += JWKS_REREAD_INTERVAL_MS;
    expect((await verdict(await sign(named.privateKey, 'k2'), rotating)).viewer?.principal).toBe('alice');
  });

  it('with typ configured, accepts only tokens typed so: an ID token of the same issuer and audience is not an access token (RFC 8725 §3.11, RFC 9068 §4)', async () => {
    const typed = createAuthenticator({ jwt: { ...config.jwt!, typ: 'at+jwt' } }, { roles: ROLES, onRefused: (r) => reasons.push(r) });
    const sign = (typ: string | undefined) =>
      new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', ...(typ ? { typ } : {}) })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(SECRET));
    // The media type may be written in full and in any case (RFC 7515 §4.1.9).
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) expect((await verdict(await sign(typ), typed)).viewer?.principal).toBe('alice');
    for (const typ of ['JWT', undefined]) expect(await verdict(await sign(typ), typed)).toEqual({ viewer: null, reason: 'token refused (ERR_JWT_CLAIM_VALIDATION_FAILED)' });
    // Unconfigured, typ is not looked at.
    expect((await verdict(await sign('JWT'))).viewer?.principal).toBe('alice');
  });

  it('never puts the token in a refusal reason', async () => {
    const token = await hs256(claims(), { iss: 'https://evil.example.com' });
    const { reason } = await verdict(token);
    expect(reason).not.toContain(token.split('.')[1]);
  });
});

describe('Access auth: configuration', () => {
  const error = (cfg: unknown) => {
    try {
      createAuthenticator(cfg as AuthConfigInput, { roles: ROLES });
    } catch (e) {
      expect(e).toBeInstanceOf(AuthConfigError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it('names an API key bound to an unknown role', () => {
    expect(error({ apiKeys: [{ name: 'x', role: 'superuser', sha256: hashApiKey('k') }] })).toContain(
      `auth.apiKeys.0.role: unknown role "superuser" (the access policy's roles: ${[...ROLES].join(', ')})`,
    );
  });

  it('refuses one key listed twice (in either case of hex), naming the second entry and the first', () => {
    const sha256 = hashApiKey('c360_sk_shared_0123456789abcdef');
    const twice = {
      apiKeys: [
        { name: 'bi-tool', role: 'admin', sha256 },
        { name: 'bi-tool-readonly', role: 'analyst', sha256: sha256.toUpperCase() },
      ],
    };
    expect(error(twice)).toBe('auth.apiKeys.1.sha256: the same key as "bi-tool"; list each key once, with the role it has');
  });

  it('names a digest that is not sha256 hex, and a short secret', () => {
    expect(error({ apiKeys: [{ name: 'x', role: 'admin', sha256: 'plaintext-key' }] })).toContain('auth.apiKeys.0.sha256');
    expect(error({ jwt: { issuer: ISSUER, audience: AUDIENCE, keys: [{ type: 'secret', secret: 'short' }] } })).toContain('auth.jwt.keys.0.secret');
  });

  it('refuses a private key in a JWKS, and a key that cannot verify its pinned algorithm', () => {
    const privateJwks = path.join(tmp, 'private.json');
    fs.writeFileSync(privateJwks, JSON.stringify({ keys: [ec.privateKey.export({ format: 'jwk' })] }));
    expect(error({ jwt: { issuer: ISSUER, audience: AUDIENCE, keys: [{ type: 'jwks', file: privateJwks, algorithms: ['ES256'] }] } })).toContain('must be a public key');
    expect(error({ jwt: { issuer: ISSUER, audience: AUDIENCE, keys: [{ type: 'pem', alg: 'ES256', publicKey: rsaPem }] } })).toContain('a rsa key cannot verify ES256');
  });
});
