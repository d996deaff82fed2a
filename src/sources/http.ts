/**
 * The shared HTTP transport for HTTP sources (support, SCRM): JSON over Node 20's global
 * `fetch`, with a deadline per attempt, retries for transient failures only, and a circuit
 * breaker per transport. Connectors build requests and read bodies; this module alone decides
 * what a failure means:
 *
 *   timeout (no full answer within timeoutMs)        → SOURCE_TIMEOUT       not retried
 *   connection refused / reset, 502 / 503 / 504       → SOURCE_UNAVAILABLE   retried
 *   429, 503 with Retry-After                         → SOURCE_UNAVAILABLE   not retried, see below
 *   other 5xx, circuit open                           → SOURCE_UNAVAILABLE   not retried
 *   other 4xx, 3xx, non-JSON body, body not an object → SOURCE_BAD_RESPONSE  not retried
 *   body over maxResponseBytes (declared or read)     → SOURCE_BAD_RESPONSE  not retried
 *
 * Retry-After (seconds or an HTTP date, capped at 300 s) on a 429 or 503 is honoured: until then
 * every call answers SOURCE_UNAVAILABLE with `retryAfterSeconds` at once, without a request, and
 * an open circuit does not probe before it. 429s and 503s count as breaker failures.
 *
 * The body is read as a stream and counted: past maxResponseBytes (default 8 MiB) the request is
 * aborted, so one oversized answer costs at most the cap plus one chunk of memory. A
 * `content-length` over the cap is refused before reading. Bodies of non-2xx answers are not read.
 *
 * A call therefore never takes longer than timeoutMs × (retries + 1) plus the small backoff.
 * Error messages and details name the source, the method and path template, and the status:
 * never a query string, a body, or anything else that may carry ids, phones or emails.
 */
import { SourceError, type SourceErrorCode } from '../errors';
import type { SourceName } from '../vocabulary';

import { CircuitBreaker, type BreakerOptions as SharedBreakerOptions } from './breaker';
import { outgoingHeaders } from './outgoing';

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
  /** Largest response body accepted, in bytes (default 8 MiB, 1 KiB..256 MiB). */
  maxResponseBytes?: number;
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
    maxResponseBytes: config.maxResponseBytes,
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
  /** Largest response body accepted, in bytes (default 8 MiB, 1 KiB..256 MiB). */
  maxResponseBytes?: number;
  /** Clock for the breaker and Retry-After; tests substitute their own. */
  now?: () => number;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
export const MIN_MAX_RESPONSE_BYTES = 1024;
export const MAX_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** A Retry-After longer than this is taken as this: a broken header must not silence a source for hours. */
export const MAX_RETRY_AFTER_SECONDS = 300;

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

/**
 * Milliseconds a Retry-After header asks for (delta seconds or an HTTP date, against `nowMs`),
 * capped at MAX_RETRY_AFTER_SECONDS; 0 when absent, unreadable or already past.
 */
export function retryAfterMs(header: string | null, nowMs: number): number {
  if (header == null) return 0;
  const v = header.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return 0;
    ms = at - nowMs;
  }
  return ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_SECONDS * 1000) : 0;
}

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
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < MIN_MAX_RESPONSE_BYTES || maxResponseBytes > MAX_MAX_RESPONSE_BYTES) {
    throw new Error(`createHttpTransport(${source}): maxResponseBytes must be an integer in ${MIN_MAX_RESPONSE_BYTES}..${MAX_MAX_RESPONSE_BYTES}, got ${maxResponseBytes}`);
  }

  const breaker = new CircuitBreaker({ failureThreshold, cooldownMs, now });
  /** The source asked (Retry-After) not to be called before this time; `pausedBy` is the status that asked. */
  let pausedUntil = 0;
  let pausedBy = 0;

  function fail(code: SourceErrorCode, request: string, what: string, status?: number, detail?: Record<string, unknown>): SourceError {
    return new SourceError(source, code, `${source} ${what} (${request}${status ? `, HTTP ${status}` : ''})`, {
      request,
      ...(status ? { status } : {}),
      ...detail,
    });
  }

  const secondsLeft = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

  /** A 429 or 503: with a Retry-After, pause the transport and keep the breaker from probing before it. */
  function limited(res: Response, request: string, status: number): AttemptFailure {
    const waitMs = retryAfterMs(res.headers.get('retry-after'), now());
    if (waitMs > 0) {
      const until = now() + waitMs;
      if (until > pausedUntil) {
        pausedUntil = until;
        pausedBy = status;
      }
      breaker.holdOpenUntil(pausedUntil);
      const what = status === 429 ? 'is rate limiting us' : 'is unavailable';
      return new AttemptFailure(
        fail('SOURCE_UNAVAILABLE', request, `${what} and asked for a pause of ${secondsLeft(waitMs)} s`, status, {
          retryAfterSeconds: secondsLeft(waitMs),
        }),
        false,
        true,
      );
    }
    if (status === 429) return new AttemptFailure(fail('SOURCE_UNAVAILABLE', request, 'is rate limiting us', status), false, true);
    return new AttemptFailure(fail('SOURCE_UNAVAILABLE', request, 'failed', status), true, true);
  }

  function tooLarge(request: string, status: number, declared?: number): AttemptFailure {
    const what = declared !== undefined ? `declared a ${declared}-byte body, refused unread,` : 'sent a body, aborted mid-read,';
    return new AttemptFailure(
      fail('SOURCE_BAD_RESPONSE', request, `${what} over the ${maxResponseBytes}-byte limit (maxResponseBytes)`, status, {
        maxResponseBytes,
      }),
      false,
      true,
    );
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
    let timedOut = false;
    // One deadline covers connect, headers and the whole body, so a server that stalls mid-body cannot hang us.
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const lost = () =>
      timedOut
        ? new AttemptFailure(fail('SOURCE_TIMEOUT', request, `did not answer within ${timeoutMs} ms`), false, true)
        : // Refused, reset, closed mid-answer: the request may never have reached a live server.
          new AttemptFailure(fail('SOURCE_UNAVAILABLE', request, 'could not be reached'), true, true);
    /** Stop reading and drop the connection: nothing more of this body is wanted. */
    const discard = (res: Response) => {
      res.body?.cancel().catch(() => undefined);
      controller.abort();
    };
    try {
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            // The trace context of this call (src/sources/outgoing.ts).
            ...outgoingHeaders(),
            ...options.headers,
          },
          body,
          redirect: 'manual',
          signal: controller.signal,
        });
      } catch {
        throw lost();
      }
      const status = res.status;
      if (status < 200 || status >= 300) {
        // The body of a failure is never used: do not spend memory or the deadline on it.
        discard(res);
        if (status === 429 || status === 503) throw limited(res, request, status);
        if (status >= 500) throw new AttemptFailure(fail('SOURCE_UNAVAILABLE', request, 'failed', status), RETRIED_STATUSES.has(status), true);
        throw new AttemptFailure(fail('SOURCE_BAD_RESPONSE', request, 'rejected the request', status), false, false);
      }
      const declared = res.headers.get('content-length');
      if (declared !== null && Number(declared) > maxResponseBytes) {
        discard(res);
        throw tooLarge(request, status, Number(declared));
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          // A deadline or a connection lost mid-body: the same verdicts as before the headers.
          const chunk = await reader.read().catch(() => Promise.reject(lost()));
          if (chunk.done) break;
          size += chunk.value.byteLength;
          if (size > maxResponseBytes) {
            reader.cancel().catch(() => undefined);
            controller.abort();
            throw tooLarge(request, status);
          }
          chunks.push(chunk.value);
        }
      }
      const text = new TextDecoder().decode(Buffer.concat(chunks, size));
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
    const pause = pausedUntil - now();
    if (pause > 0) {
      // The source asked not to be called yet (Retry-After): answer without a request, and without a breaker verdict.
      const retryAfterSeconds = secondsLeft(pause);
      throw new SourceError(source, 'SOURCE_UNAVAILABLE', `${source} asked not to be called for another ${retryAfterSeconds} s (${request}, after HTTP ${pausedBy})`, {
        request,
        retryAfterSeconds,
        ...(breaker.state === 'open' ? { circuit: 'open' } : {}),
      });
    }
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
