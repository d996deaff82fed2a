/**
 * The shared HTTP transport for HTTP sources (support, SCRM): JSON over Node 20's global
 * `fetch`, with a deadline per attempt, retries for transient failures only, and a circuit
 * breaker per transport. Connectors build requests and read bodies; this module alone decides
 * what a failure means:
 *
 *   timeout (no full answer within timeoutMs)        → SOURCE_TIMEOUT       not retried
 *   connection refused / reset, 502 / 503 / 504       → SOURCE_UNAVAILABLE   retried
 *   other 5xx, 429, circuit open                      → SOURCE_UNAVAILABLE   not retried
 *   other 4xx, 3xx, non-JSON body, body not an object → SOURCE_BAD_RESPONSE  not retried
 *
 * A call therefore never takes longer than timeoutMs × (retries + 1) plus the small backoff.
 * Error messages and details name the source, the method and path template, and the status:
 * never a query string, a body, or anything else that may carry ids, phones or emails.
 */
import { SourceError, type SourceErrorCode } from '../errors';
import type { SourceName } from '../vocabulary';

import { CircuitBreaker, type BreakerOptions as SharedBreakerOptions } from './breaker';

export type BreakerOptions = Pick<SharedBreakerOptions, 'failureThreshold' | 'cooldownMs'>;

/** What every HTTP connector's config shares besides its credentials. */
export interface HttpConnectorOptions {
  baseUrl: string;
  /** Deadline per attempt (default 2000 ms). */
  timeoutMs?: number;
  /** Ids per call, 1..100 (default 100, the API's limit). */
  maxBatch?: number;
  /** Extra attempts after a transient failure (default 1). */
  retries?: number;
  /** Default: open after 5 consecutive failures, probe again after 10 s. */
  breaker?: Partial<BreakerOptions>;
  /** Page size for `scan` when the caller names none (default 500, at most 1000). */
  scanPageSize?: number;
}

/**
 * The transport and limits of one HTTP connector from its config: maxBatch checked against the
 * API's own limit (misuse fails at start-up), defaults applied in one place.
 */
export function connectorTransport(
  source: SourceName,
  config: HttpConnectorOptions,
  limits: { maxIds: number; maxPage: number },
  headers?: Record<string, string>,
): { transport: HttpTransport; maxBatch: number; defaultPage: number } {
  const maxBatch = config.maxBatch ?? limits.maxIds;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > limits.maxIds) {
    throw new Error(`${source} connector: maxBatch must be an integer in 1..${limits.maxIds} (the API's limit), got ${maxBatch}`);
  }
  const transport = createHttpTransport({
    source,
    baseUrl: config.baseUrl,
    timeoutMs: config.timeoutMs ?? 2000,
    retries: config.retries ?? 1,
    breaker: { failureThreshold: config.breaker?.failureThreshold ?? 5, cooldownMs: config.breaker?.cooldownMs ?? 10_000 },
    headers,
  });
  return { transport, maxBatch, defaultPage: Math.min(limits.maxPage, Math.max(1, config.scanPageSize ?? 500)) };
}

export interface HttpTransportOptions {
  source: SourceName;
  /** Scheme, host, port and optional path prefix, e.g. `http://127.0.0.1:4001`. */
  baseUrl: string;
  /** Deadline for one attempt, from sending the request to the end of the body. */
  timeoutMs: number;
  /** Extra attempts after a transient failure (0: one attempt only). */
  retries: number;
  breaker: BreakerOptions;
  /** Sent with every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** First retry delay; doubles per retry, capped at 250 ms. */
  backoffMs?: number;
  /** Clock for the breaker; tests substitute their own. */
  now?: () => number;
}

export type QueryValue = string | number | boolean | readonly (string | number)[] | null | undefined;
export type Query = Record<string, QueryValue>;
export type JsonObject = Record<string, unknown>;
export type { BreakerState as CircuitState } from './breaker';
import type { BreakerState as CircuitState } from './breaker';

export interface HttpTransport {
  readonly source: SourceName;
  /** GET `path` (a template without a query string) and answer the JSON object it returns. */
  getJson(path: string, query?: Query): Promise<JsonObject>;
  /** POST a JSON body to `path` and answer the JSON object it returns. */
  postJson(path: string, query: Query | undefined, body: unknown): Promise<JsonObject>;
  circuitState(): CircuitState;
}

/** A body that parsed but does not have the shape the connector needs. `reason` must name fields, never values. */
export function badResponse(source: SourceName, request: string, reason: string): SourceError {
  return new SourceError(source, 'SOURCE_BAD_RESPONSE', `${source} answered ${request} with an unexpected body: ${reason}`, {
    request,
  });
}

/** An attempt's failure, with what the retry loop and the breaker need to know about it. */
class AttemptFailure {
  constructor(
    readonly error: SourceError,
    /** Worth another attempt (the request likely never reached a healthy server). */
    readonly transient: boolean,
    /** Counts against the breaker (the system looks down, not merely displeased with us). */
    readonly systemFailure: boolean,
  ) {}
}

const RETRIED_STATUSES = new Set([502, 503, 504]);

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const { source, timeoutMs, retries } = options;
  if (!(timeoutMs > 0)) throw new Error(`createHttpTransport(${source}): timeoutMs must be > 0, got ${timeoutMs}`);
  if (!Number.isInteger(retries) || retries < 0) throw new Error(`createHttpTransport(${source}): retries must be an integer ≥ 0, got ${retries}`);
  const { failureThreshold, cooldownMs } = options.breaker;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
    throw new Error(`createHttpTransport(${source}): breaker.failureThreshold must be an integer ≥ 1, got ${failureThreshold}`);
  }
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new Error(`createHttpTransport(${source}): baseUrl must be http(s), got ${base.protocol}`);
  }
  const prefix = base.pathname.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const backoffMs = options.backoffMs ?? 25;

  const breaker = new CircuitBreaker({ failureThreshold, cooldownMs, now });

  function fail(code: SourceErrorCode, request: string, what: string, status?: number): SourceError {
    return new SourceError(source, code, `${source} ${what} (${request}${status ? `, HTTP ${status}` : ''})`, {
      request,
      ...(status ? { status } : {}),
    });
  }

  function buildUrl(path: string, query: Query | undefined): URL {
    if (!path.startsWith('/') || path.includes('?') || path.includes('#')) {
      throw new Error(`${source} transport: path must be a template starting with '/' and without a query string, got ${JSON.stringify(path)}`);
    }
    const url = new URL(base.origin + prefix + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v == null) continue;
      url.searchParams.set(k, Array.isArray(v) ? v.join(',') : String(v));
    }
    return url;
  }

  async function attempt(method: 'GET' | 'POST', url: URL, request: string, body: string | undefined): Promise<JsonObject> {
    const controller = new AbortController();
    // One deadline covers connect, headers and the whole body, so a server that stalls mid-body cannot hang us.
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...options.headers,
          },
          body,
          redirect: 'manual',
          signal: controller.signal,
        });
        text = await res.text();
      } catch {
        if (controller.signal.aborted) {
          throw new AttemptFailure(fail('SOURCE_TIMEOUT', request, `did not answer within ${timeoutMs} ms`), false, true);
        }
        // Refused, reset, closed mid-answer: the request may never have reached a live server.
        throw new AttemptFailure(fail('SOURCE_UNAVAILABLE', request, 'could not be reached'), true, true);
      }
      const status = res.status;
      if (status >= 500) {
        throw new AttemptFailure(fail('SOURCE_UNAVAILABLE', request, 'failed', status), RETRIED_STATUSES.has(status), true);
      }
      if (status === 429) throw new AttemptFailure(fail('SOURCE_UNAVAILABLE', request, 'is rate limiting us', status), false, false);
      if (status < 200 || status >= 300) {
        throw new AttemptFailure(fail('SOURCE_BAD_RESPONSE', request, 'rejected the request', status), false, false);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // A 200 with a broken body usually means a proxy or the system itself is in trouble.
        throw new AttemptFailure(fail('SOURCE_BAD_RESPONSE', request, 'answered a body that is not JSON', status), false, true);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new AttemptFailure(fail('SOURCE_BAD_RESPONSE', request, 'answered JSON that is not an object', status), false, true);
      }
      return parsed as JsonObject;
    } finally {
      clearTimeout(timer);
    }
  }

  async function send(method: 'GET' | 'POST', path: string, query: Query | undefined, body: unknown): Promise<JsonObject> {
    const request = `${method} ${path}`;
    const url = buildUrl(path, query);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const rejected = () =>
      new SourceError(source, 'SOURCE_UNAVAILABLE', `${source} is unavailable (circuit open after repeated failures)`, {
        request,
        circuit: 'open',
      });
    try {
      return await breaker.run(
        async () => {
          for (let n = 0; ; n++) {
            try {
              return await attempt(method, url, request, payload);
            } catch (e) {
              if (e instanceof AttemptFailure && e.transient && n < retries) {
                await new Promise((r) => setTimeout(r, Math.min(250, backoffMs * 2 ** n)));
                continue;
              }
              throw e;
            }
          }
        },
        (e) => !(e instanceof AttemptFailure) || e.systemFailure,
        rejected,
      );
    } catch (e) {
      throw e instanceof AttemptFailure ? e.error : e;
    }
  }

  return {
    source,
    getJson: (path, query) => send('GET', path, query, undefined),
    postJson: (path, query, body) => send('POST', path, query, body),
    circuitState: () => breaker.state,
  };
}
