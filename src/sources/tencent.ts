/**
 * What the WeChat (official account, SCRM) and WeCom APIs share, both Tencent's: every call
 * carries an access token from a token endpoint, valid `expires_in` seconds; errors arrive as
 * HTTP 200 with a non-zero `errcode` in the body (its `errmsg` is left out of our errors on
 * purpose: WeChat puts hints, sometimes the offending openid, in it); a token errcode means the
 * token is no good, and the call is repeated once with a fresh one.
 */
import { SourceError } from '../errors';
import type { SourceAccount, SourceName } from '../vocabulary';
import { badResponse, type HttpTransport, type JsonObject, type Query } from './http';

/** 0 when the body carries no errcode (WeChat's batchget success) or errcode 0. */
export function errcodeOf(source: SourceName, body: JsonObject, request: string): number {
  const code = body.errcode;
  if (code === undefined || code === 0) return 0;
  if (typeof code !== 'number' || !Number.isInteger(code)) throw badResponse(source, request, '"errcode" is not an integer');
  return code;
}

/** A non-zero errcode as a coded error: SOURCE_UNAVAILABLE for a `busy` one (the system is there but will not serve us now), else SOURCE_BAD_RESPONSE. */
export function errcodeError(source: SourceName, errcode: number, request: string, busy: ReadonlySet<number>): SourceError {
  if (busy.has(errcode)) return new SourceError(source, 'SOURCE_UNAVAILABLE', `${source} is busy (errcode ${errcode}, ${request})`, { request, errcode });
  return new SourceError(source, 'SOURCE_BAD_RESPONSE', `${source} answered ${request} with errcode ${errcode}`, { request, errcode });
}

/** A body carrying one of the `busy` errcodes, for the transport's `overloaded` (the breaker counts it). */
export function busyBody(busy: ReadonlySet<number>): (body: JsonObject) => boolean {
  return (body) => typeof body.errcode === 'number' && busy.has(body.errcode);
}

export interface AccessTokenOptions {
  source: SourceName;
  /** The token request as errors name it (`GET /cgi-bin/token`). */
  request: string;
  /** Asks the token endpoint (an observed source call, booked to `account`); answers its body. */
  fetch: (account: SourceAccount | undefined) => Promise<JsonObject>;
  /** The error for a token request answered with a non-zero errcode. */
  refused: (errcode: number) => SourceError;
}

/**
 * A connector's access token: kept until shortly before it expires (a tenth of its lifetime
 * early, at most five minutes, so it never expires between our check and the server's), with
 * one request for a new one in flight at most, which every call waiting shares (booked to the
 * request that started it).
 */
export class AccessToken {
  private token: { value: string; refreshAt: number } | null = null;
  private fetching: Promise<string> | null = null;

  constructor(private readonly opts: AccessTokenOptions) {}

  get(account?: SourceAccount): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return Promise.resolve(this.token.value);
    return (this.fetching ??= this.fetchNew(account).finally(() => {
      this.fetching = null;
    }));
  }

  /** Forgets the token if it is still `used`: concurrent calls may all hold a stale one, and only the first drops it, so one refresh serves all. */
  drop(used: string): void {
    if (this.token?.value === used) this.token = null;
  }

  clear(): void {
    this.token = null;
  }

  private async fetchNew(account: SourceAccount | undefined): Promise<string> {
    const { source, request } = this.opts;
    const body = await this.opts.fetch(account);
    const code = errcodeOf(source, body, request);
    if (code !== 0) throw this.opts.refused(code);
    const value = body.access_token;
    const ttl = body.expires_in;
    if (typeof value !== 'string' || value === '') throw badResponse(source, request, '"access_token" is missing');
    if (typeof ttl !== 'number' || !(ttl > 0)) throw badResponse(source, request, '"expires_in" is not a positive number');
    this.token = { value, refreshAt: Date.now() + (ttl - Math.min(300, ttl * 0.1)) * 1000 };
    return value;
  }
}

/**
 * One API call with the current token as its `access_token` query parameter. A token errcode
 * drops the token and repeats the call once with a fresh one; a second refusal ends it. Answers
 * the body, or the non-zero errcode the call ended with, for the connector to map.
 */
export async function withToken(
  source: SourceName,
  token: AccessToken,
  tokenErrcodes: ReadonlySet<number>,
  call: { transport: HttpTransport; method: 'GET' | 'POST'; path: string; query: Query; body?: unknown },
  account?: SourceAccount,
): Promise<JsonObject | number> {
  const { transport, method, path, query, body } = call;
  const request = `${method} ${path}`;
  for (let refreshed = false; ; refreshed = true) {
    const used = await token.get(account);
    const q = { ...query, access_token: used };
    const answer = method === 'GET' ? await transport.getJson(path, q) : await transport.postJson(path, q, body);
    const code = errcodeOf(source, answer, request);
    if (code === 0) return answer;
    if (!tokenErrcodes.has(code) || refreshed) return code;
    token.drop(used);
  }
}
