/**
 * Salesforce access tokens, from the OAuth 2.0 flows a server uses without a person present:
 * client credentials (developer.salesforce.com/docs/platform/mobile-sdk/guide/oauth-client-credentials-flow.html:
 * `grant_type=client_credentials` with the connected app's key and secret, at the org's My Domain)
 * and the JWT bearer flow (help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm:
 * an RS256-signed assertion, `iss` the app's key, `sub` the user, `aud` the login host, `exp` within
 * three minutes). Both answer `{ access_token, instance_url, token_type, issued_at, … }` and no
 * refresh token: a token that expires (`401 INVALID_SESSION_ID`) is replaced by asking again.
 */
import crypto from 'node:crypto';
import { badResponse, type HttpTransport } from '../http';
import type { SourceObserver } from '../observe';
import type { SourceName } from '../../vocabulary';

export const TOKEN_PATH = '/services/oauth2/token';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export type SalesforceAuth =
  { flow: 'client_credentials'; clientId: string; clientSecret: string } | { flow: 'jwt_bearer'; clientId: string; username: string; privateKey: string; audience: string };

const base64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A JWT bearer assertion, valid for three minutes from `nowMs`. */
export function jwtAssertion(auth: Extract<SalesforceAuth, { flow: 'jwt_bearer' }>, nowMs: number): string {
  const head = base64url(JSON.stringify({ alg: 'RS256' }));
  const claims = base64url(JSON.stringify({ iss: auth.clientId, sub: auth.username, aud: auth.audience, exp: Math.floor(nowMs / 1000) + 180 }));
  const signature = crypto.createSign('RSA-SHA256').update(`${head}.${claims}`).sign(auth.privateKey);
  return `${head}.${claims}.${base64url(signature)}`;
}

/** The token request's form for `auth`. */
function tokenForm(auth: SalesforceAuth, nowMs: number): Record<string, string> {
  if (auth.flow === 'client_credentials') return { grant_type: 'client_credentials', client_id: auth.clientId, client_secret: auth.clientSecret };
  return { grant_type: JWT_BEARER_GRANT, assertion: jwtAssertion(auth, nowMs) };
}

/**
 * The current token, asked for once however many calls wait on it; `refresh(stale)` replaces it
 * once per stale token (concurrent calls refused with the same token share one request).
 */
export class TokenSource {
  private current: Promise<string> | null = null;

  constructor(
    private readonly source: SourceName,
    private readonly transport: HttpTransport,
    private readonly auth: SalesforceAuth,
    private readonly observer: SourceObserver,
    private readonly now: () => number = Date.now,
  ) {}

  /** The token to send now (asked for when there is none). */
  token(): Promise<string> {
    if (!this.current) {
      const asked = this.ask();
      this.current = asked;
      // A failed request is not kept: the next call asks again.
      asked.catch(() => {
        if (this.current === asked) this.current = null;
      });
    }
    return this.current;
  }

  /** A new token in place of `stale`, unless another call already replaced it. */
  async refresh(stale: string): Promise<string> {
    const now = this.current ? await this.current.catch(() => null) : null;
    if (now === stale) this.current = null;
    return this.token();
  }

  private async ask(): Promise<string> {
    const request = `POST ${TOKEN_PATH}`;
    const body = await this.observer.call({ source: this.source, operation: 'token', batchSize: 0 }, () =>
      this.transport.postForm(TOKEN_PATH, tokenForm(this.auth, this.now())),
    );
    const token = body.access_token;
    if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) throw badResponse(this.source, request, '"access_token" is not a token');
    if (body.token_type !== undefined && body.token_type !== 'Bearer') throw badResponse(this.source, request, '"token_type" is not Bearer');
    return token;
  }
}
