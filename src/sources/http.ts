/**
 * The shared HTTP transport for HTTP sources: JSON over `node:http`/`node:https` with a pool of
 * kept-alive connections per transport, a deadline per attempt, retries for transient failures only, and a circuit
 * breaker per transport. Connectors build requests and read bodies; this module alone decides
 * what a failure means:
 *
 *   timeout (no full answer within timeoutMs)        → SOURCE_TIMEOUT       not retried
 *   connection refused / reset, 502 / 503 / 504       → SOURCE_UNAVAILABLE   retried
 *   429, 503 with Retry-After                         → SOURCE_UNAVAILABLE   not retried, see below
 *   other 5xx, circuit open                           → SOURCE_UNAVAILABLE   not retried
 *   other 4xx, 3xx, non-JSON body, body not an object → SOURCE_BAD_RESPONSE  not retried
 *   a malformed HTTP message (broken chunk, header)   → SOURCE_BAD_RESPONSE  not retried
 *   101 Switching Protocols (never asked for)          → SOURCE_BAD_RESPONSE  not retried
 *   body over maxResponseBytes (declared or read)     → SOURCE_BAD_RESPONSE  not retried
 *
 * Retry-After (seconds or an HTTP date, capped at 300 s) on a 429 or 503 is honoured: until then
 * every call answers SOURCE_UNAVAILABLE with `retryAfterSeconds` at once, without a request, and
 * an open circuit does not probe before it. 429s and 503s count as breaker failures.
 *
 * Systems that say "busy" or "over quota" in a 200 body (Tencent's errcode -1/45009, TOP's
 * isp.* and call limits) name that body with `overloaded`: it is still answered to the
 * connector to map, but counts as a breaker failure, so a source refusing every call opens the
 * circuit instead of being asked again on every request.
 *
 * The body is read as a stream and counted: past maxResponseBytes (default 8 MiB) the request is
 * aborted, so one oversized answer costs at most the cap plus one chunk of memory. A
 * `content-length` over the cap is refused before reading. Bodies of non-2xx answers are not read.
 *
 * A call therefore never takes longer than timeoutMs × (retries + 1) plus the small backoff.
 * Error messages and details name the source, the method and path template, and the status:
 * never a query string, a body, or anything else that may carry ids, phones or emails.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { SourceError, SourceRefusal, type SourceErrorCode } from '../errors';
import type { SourceName } from '../vocabulary';

import { CircuitBreaker, type BreakerOptions as SharedBreakerOptions } from './breaker';
import { outgoingHeaders } from './outgoing';
import type { SourceObserver } from './observe';

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
 * API's own limit (misuse fails at start-up), defaults applied in one place. `limits.observer`,
 * the connector's, is told of each retried attempt.
 */
export function connectorTransport(
  source: SourceName,
  config: HttpConnectorOptions,
  limits: { maxIds: number; maxPage: number; overloaded?: (body: JsonObject) => boolean; observer?: SourceObserver } & Pick<HttpTransportOptions, 'refusal' | 'answered'>,
  headers?: HttpTransportOptions['headers'],
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
    overloaded: limits.overloaded,
    refusal: limits.refusal,
    answered: limits.answered,
    ...(limits.observer?.retried ? { retried: limits.observer.retried.bind(limits.observer, source) } : {}),
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
  /** Sent with every request (e.g. Authorization); a function is asked at each attempt (a token that is refreshed). */
  headers?: Record<string, string> | (() => Record<string, string>);
  /**
   * A 4xx (not 429) whose body names why, in the system's own words (an array of
   * `{message, errorCode}`, say): its JSON body, read up to REFUSAL_BODY_BYTES, is handed here and
   * the verdict replaces the plain SOURCE_BAD_RESPONSE (`systemFailure`: counts towards the breaker,
   * as an over-quota refusal should). `errorCode` lands in the error's detail, for the connector.
   * Null: the plain verdict. Without it the body of a failure is never read.
   */
  refusal?: (status: number, body: unknown) => { code: SourceErrorCode; what: string; errorCode: string; systemFailure: boolean } | null;
  /** Told the headers of every answer (a quota the system reports in a header). */
  answered?: (headers: http.IncomingHttpHeaders) => void;
  /** First retry delay; doubles per retry, capped at 250 ms. */
  backoffMs?: number;
  /** Largest response body accepted, in bytes (default 8 MiB, 1 KiB..256 MiB). */
  maxResponseBytes?: number;
  /** Clock for the breaker and Retry-After; tests substitute their own. */
  now?: () => number;
  /** A 2xx body that says the system is busy or over quota: answered as it is, but counted against the breaker. */
  overloaded?: (body: JsonObject) => boolean;
  /** Told of each attempt made again after a transient failure, and why (metrics count them: a call's retries are otherwise invisible). */
  retried?: (reason: RetryReason) => void;
}

/**
 * Why an attempt was made again: the transient failures, a bounded set (a metric label).
 * `connection_refused` (nothing listens), `connection_reset` (reset or broken pipe before any
 * answer), `unreachable` (any other failure to reach it: name not resolved, host unreachable),
 * `dropped_mid_answer` (the connection closed after the answer began), `http_502`, `http_503`
 * (without Retry-After), `http_504`. A timeout is never retried.
 */
export const RETRY_REASONS = ['connection_refused', 'connection_reset', 'unreachable', 'dropped_mid_answer', 'http_502', 'http_503', 'http_504'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

const retryReasonOfStatus = (status: number): RetryReason | null => (status === 502 ? 'http_502' : status === 503 ? 'http_503' : status === 504 ? 'http_504' : null);

export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
export const MIN_MAX_RESPONSE_BYTES = 1024;
export const MAX_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** Idle connections one transport keeps open to its system at most (calls in flight are not limited, as before). */
const MAX_FREE_SOCKETS = 32;
/**
 * An idle pooled connection is closed after this: shorter than common servers' keep-alive timeouts
 * (Node's 5 s), so we rarely send on a connection the server is closing.
 */
const IDLE_SOCKET_MS = 4000;
/** A Retry-After longer than this is taken as this: a broken header must not silence a source for hours. */
export const MAX_RETRY_AFTER_SECONDS = 300;

export type QueryValue = string | number | boolean | readonly (string | number)[] | null | undefined;
export type Query = Record<string, QueryValue>;
export type JsonObject = Record<string, unknown>;
export type { BreakerState as CircuitState } from './breaker';
import type { BreakerState as CircuitState } from './breaker';

export interface HttpTransport {
  readonly source: SourceName;
  /**
   * GET `path` (a template without a query string) and answer the JSON object it returns. A
   * template may name segments (`/api/v2/users/{id}/tickets/requested`), filled from `segments`,
   * each value percent-encoded as one segment; errors and metrics name the template, never the
   * values, as they never name a query string.
   */
  getJson(path: string, query?: Query, segments?: Readonly<Record<string, string>>): Promise<JsonObject>;
  /** POST a JSON body to `path` and answer the JSON object it returns. */
  postJson(path: string, query: Query | undefined, body: unknown): Promise<JsonObject>;
  /** POST a form (`application/x-www-form-urlencoded`, an OAuth token request) to `path` and answer the JSON object it returns. */
  postForm(path: string, form: Readonly<Record<string, string>>): Promise<JsonObject>;
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
    /** Why another attempt is worth it (set when `transient`). */
    readonly retryReason: RetryReason | null = null,
  ) {}
}

const RETRIED_STATUSES = new Set([502, 503, 504]);

/** Path templates a transport remembers the request path of (connectors have a handful). */
const MAX_PATH_TEMPLATES = 64;

/**
 * `application/x-www-form-urlencoded` as URLSearchParams writes it: letters, digits and `*-._`
 * as they are, space as `+`, anything else (lone surrogates as U+FFFD) percent-encoded UTF-8.
 */
function formEncode(s: string): string {
  return encodeURIComponent((s as unknown as { toWellFormed(): string }).toWellFormed())
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

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

// One request's work is in module-level functions and the prototype methods of `Exchange`, not
// in closures written inside the transport's functions: V8 holds a function's optimized code
// only weakly while no closure of it is alive, so a closure made per request loses it at any
// major GC between requests and re-compiles; module-level functions and prototype methods keep
// theirs. The listeners are the methods bound per request (`.bind(this)`), not forwarding arrows:
// a bound function has no code of its own, while a forwarding arrow gets optimized with the
// method inlined, and loses that code again.

/** What a request needs of its transport, made once per transport. */
interface Link {
  client: typeof http | typeof https;
  agent: http.Agent;
  base: URL;
  /** Deadline for one attempt, from sending the request to the end of the body. */
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxResponseBytes: number;
  headers: HttpTransportOptions['headers'];
  refusal: HttpTransportOptions['refusal'];
  answered: HttpTransportOptions['answered'];
  retried: ((reason: RetryReason) => void) | undefined;
  fail(code: SourceErrorCode, request: string, what: string, status?: number, detail?: Record<string, unknown>): SourceError;
  limited(retryAfter: string | string[] | null, request: string, status: number): AttemptFailure;
  tooLarge(request: string, status: number, declared?: number): AttemptFailure;
}

/** A request body and its content type. */
interface Payload {
  text: string;
  type: string;
}

/** The most of a refused request's body read for `refusal` (an error body is a few hundred bytes). */
const REFUSAL_BODY_BYTES = 64 * 1024;

/** A 2xx body the connector's `overloaded` recognised: a breaker failure that still answers its body. */
class OverloadedBody {
  constructor(readonly body: JsonObject) {}
}

/** Whether a failed call counts against the breaker. */
function isSystemFailure(e: unknown): boolean {
  return !(e instanceof AttemptFailure) || e.systemFailure;
}

/** Attempts until one answers, a failure is not transient, or the retries are spent; backs off between attempts. */
async function attemptWithRetries(link: Link, method: 'GET' | 'POST', target: string, request: string, payload: Payload | undefined): Promise<JsonObject> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(link, method, target, request, payload);
    } catch (e) {
      if (e instanceof AttemptFailure && e.transient && n < link.retries) {
        link.retried?.(e.retryReason ?? 'unreachable');
        await new Promise((r) => setTimeout(r, Math.min(250, link.backoffMs * 2 ** n)));
        continue;
      }
      throw e;
    }
  }
}

/**
 * One request and its whole answer. One deadline covers the socket, the headers and the whole
 * body, so a server that stalls mid-body cannot hang us. A pooled connection the server closed
 * while it sat idle fails before any answer: that request is sent once more on a new connection
 * (not an attempt: the system never saw it), as Node's documentation advises for keep-alive.
 */
function attempt(link: Link, method: 'GET' | 'POST', target: string, request: string, body: Payload | undefined, fresh = false): Promise<JsonObject> {
  return new Promise<JsonObject>((resolve, reject) => new Exchange(link, method, target, request, body, fresh, resolve, reject).start());
}

/** The state of one attempt (see `attempt`) and its handlers. */
class Exchange {
  private done = false;
  private timedOut = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  private req: http.ClientRequest | null = null;
  private res: http.IncomingMessage | null = null;
  private status = 0;
  /** A 4xx whose body is read for the connector's `refusal`. */
  private refused = false;
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly link: Link,
    private readonly method: 'GET' | 'POST',
    private readonly target: string,
    private readonly request: string,
    private readonly body: Payload | undefined,
    private readonly fresh: boolean,
    private readonly resolve: (value: JsonObject) => void,
    private readonly reject: (reason: unknown) => void,
  ) {}

  start(): void {
    const { link, body } = this;
    const req = link.client.request(
      {
        protocol: link.base.protocol,
        hostname: link.base.hostname,
        port: link.base.port,
        path: this.target,
        method: this.method,
        // A retry after a stale pooled connection takes a connection of its own.
        agent: this.fresh ? false : link.agent,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': body.type, 'content-length': Buffer.byteLength(body.text) } : {}),
          // The trace context of this call (src/sources/outgoing.ts).
          ...outgoingHeaders(),
          ...(typeof link.headers === 'function' ? link.headers() : link.headers),
        },
      },
      this.response.bind(this),
    );
    this.req = req;
    req.on('error', this.requestError.bind(this));
    req.on('upgrade', this.switched.bind(this));
    this.timer = setTimeout(this.deadline.bind(this), link.timeoutMs);
    req.end(body?.text);
  }

  private settle(failure: AttemptFailure | null, value?: JsonObject): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (failure) this.reject(failure);
    else this.resolve(value as JsonObject);
  }

  private lost(code?: string): AttemptFailure {
    const { link, request } = this;
    if (this.timedOut) return new AttemptFailure(link.fail('SOURCE_TIMEOUT', request, `did not answer within ${link.timeoutMs} ms`), false, true);
    // Refused, reset, closed mid-answer: the request may never have reached a live server.
    const reason: RetryReason = this.res
      ? 'dropped_mid_answer'
      : code === 'ECONNREFUSED'
        ? 'connection_refused'
        : code === 'ECONNRESET' || code === 'EPIPE'
          ? 'connection_reset'
          : 'unreachable';
    return new AttemptFailure(link.fail('SOURCE_UNAVAILABLE', request, this.res ? 'dropped the connection mid-answer' : 'could not be reached'), true, true, reason);
  }

  /** Stop reading and drop the connection: nothing more of this body is wanted. */
  private discard(): void {
    (this.req as http.ClientRequest).destroy();
  }

  private response(res: http.IncomingMessage): void {
    const { link, request } = this;
    const status = res.statusCode ?? 0;
    link.answered?.(res.headers);
    if (status >= 400 && status < 500 && status !== 429 && link.refusal) {
      // The system says why in the body: read it (bounded) and let the connector name the verdict.
      this.refused = true;
      return this.read(res, status);
    }
    if (status < 200 || status >= 300) {
      // The body of a failure is never used: do not spend memory or the deadline on it.
      this.discard();
      if (status === 429 || status === 503) return this.settle(link.limited(res.headers['retry-after'] ?? null, request, status));
      if (status >= 500)
        return this.settle(new AttemptFailure(link.fail('SOURCE_UNAVAILABLE', request, 'failed', status), RETRIED_STATUSES.has(status), true, retryReasonOfStatus(status)));
      // A redirect is not followed: the source's baseUrl is out of date, or something in front of it answers instead.
      const what = status >= 300 && status < 400 ? 'redirected the request (not followed)' : 'rejected the request';
      return this.settle(new AttemptFailure(link.fail('SOURCE_BAD_RESPONSE', request, what, status), false, false));
    }
    const declared = res.headers['content-length'];
    if (declared !== undefined && Number(declared) > link.maxResponseBytes) {
      this.discard();
      return this.settle(link.tooLarge(request, status, Number(declared)));
    }
    this.read(res, status);
  }

  private read(res: http.IncomingMessage, status: number): void {
    this.res = res;
    this.status = status;
    res.on('data', this.data.bind(this));
    // A deadline or a connection lost mid-body: the same verdicts as before the headers.
    res.on('error', this.failed.bind(this));
    res.on('close', this.closed.bind(this));
    res.on('end', this.end.bind(this));
  }

  private data(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > (this.refused ? REFUSAL_BODY_BYTES : this.link.maxResponseBytes)) {
      if (this.refused) {
        this.discard();
        return this.settle(this.refusedWith(undefined));
      }
      this.discard();
      return this.settle(this.link.tooLarge(this.request, this.status));
    }
    this.chunks.push(chunk);
  }

  private failed(): void {
    this.settle(this.lost());
  }

  /** A refused request's verdict: the connector's reading of its body (`refusal`), else the plain one. */
  private refusedWith(body: unknown): AttemptFailure {
    const { link, request, status } = this;
    const v = body === undefined ? null : link.refusal!(status, body);
    if (!v) return new AttemptFailure(link.fail('SOURCE_BAD_RESPONSE', request, 'rejected the request', status), false, false);
    return new AttemptFailure(link.fail(v.code, request, v.what, status, { errorCode: v.errorCode }), false, v.systemFailure);
  }

  private closed(): void {
    if (!(this.res as http.IncomingMessage).complete) this.settle(this.lost());
  }

  private end(): void {
    const { link, request, status, chunks } = this;
    let text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.size)).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark, as TextDecoder drops it
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (this.refused) return this.settle(this.refusedWith(undefined));
      // A 200 with a broken body usually means a proxy or the system itself is in trouble.
      return this.settle(new AttemptFailure(link.fail('SOURCE_BAD_RESPONSE', request, 'answered a body that is not JSON', status), false, true));
    }
    if (this.refused) return this.settle(this.refusedWith(parsed));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return this.settle(new AttemptFailure(link.fail('SOURCE_BAD_RESPONSE', request, 'answered JSON that is not an object', status), false, true));
    }
    this.settle(null, parsed as JsonObject);
  }

  private requestError(e: NodeJS.ErrnoException): void {
    if (this.done) return;
    // The whole answer is in (bytes after it broke the connection): 'end' settles with it.
    if (this.res?.complete) return;
    const req = this.req as http.ClientRequest;
    if (typeof e.code === 'string' && e.code.startsWith('HPE_')) {
      // Node's HTTP parser refused what came back (a broken chunk, a bad header, a second
      // Content-Length): the system answered, wrongly, and would answer the same way again.
      return this.settle(new AttemptFailure(this.link.fail('SOURCE_BAD_RESPONSE', this.request, `answered a malformed HTTP message (${e.code})`), false, true));
    }
    // A pooled connection the server closed while idle fails before any answer; once an answer
    // has begun, the system has seen the request, and sending it again would be a retry.
    if (!this.fresh && !this.timedOut && this.res === null && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
      this.done = true;
      clearTimeout(this.timer);
      attempt(this.link, this.method, this.target, this.request, this.body, true).then(this.resolve, this.reject);
      return;
    }
    this.settle(this.lost(e.code));
  }

  /** A 101 to a request that asked for no upgrade: no JSON will come on this connection (Node would hold it until the deadline). */
  private switched(res: http.IncomingMessage, socket: Duplex): void {
    socket.destroy();
    this.settle(new AttemptFailure(this.link.fail('SOURCE_BAD_RESPONSE', this.request, 'switched protocols instead of answering', res.statusCode), false, true));
  }

  private deadline(): void {
    this.timedOut = true;
    (this.req as http.ClientRequest).destroy();
    this.settle(this.lost());
  }
}

/**
 * A template's pathname (as the URL parser wrote it: `{id}` as `%7Bid%7D`) with each named segment
 * filled. Misuse (a name the template lacks, an empty value) fails as a bug, never as a request.
 */
function fillSegments(source: SourceName, template: string, pathname: string, segments: Readonly<Record<string, string>>): string {
  let out = pathname;
  for (const name of Object.keys(segments)) {
    const value = segments[name];
    const slot = `%7B${name}%7D`;
    if (!out.includes(slot) || value === '') {
      throw new Error(`${source} transport: segment ${JSON.stringify(name)} is not in ${JSON.stringify(template)} or is empty`);
    }
    out = out.replace(slot, encodeURIComponent(value));
  }
  return out;
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
  // One pool of kept-alive connections per transport: a call reuses a warm socket instead of a new
  // connection (and instead of fetch's per-call stream machinery, which cost 2.5× the CPU per call).
  const client = base.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' });
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
  function limited(retryAfter: string | string[] | null, request: string, status: number): AttemptFailure {
    const waitMs = retryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, now());
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
    return new AttemptFailure(fail('SOURCE_UNAVAILABLE', request, 'failed', status), true, true, retryReasonOfStatus(status));
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

  /** Each path template's request path as the URL parser writes it, worked out once per template (they are constants of the connectors). */
  const pathnames = new Map<string, string>();

  /** The request target: the template's path (its named segments filled) and the query form-encoded, byte for byte what URLSearchParams writes, without a URL per call. */
  function requestPath(path: string, query: Query | undefined, segments?: Readonly<Record<string, string>>): string {
    let pathname = pathnames.get(path);
    if (pathname === undefined) {
      if (!path.startsWith('/') || path.includes('?') || path.includes('#')) {
        throw new Error(`${source} transport: path must be a template starting with '/' and without a query string, got ${JSON.stringify(path)}`);
      }
      pathname = new URL(base.origin + prefix + path).pathname;
      if (pathnames.size < MAX_PATH_TEMPLATES) pathnames.set(path, pathname);
    }
    if (segments) pathname = fillSegments(source, path, pathname, segments);
    if (!query) return pathname;
    let search = '';
    for (const k of Object.keys(query)) {
      const v = query[k];
      if (v == null) continue;
      search += `${search ? '&' : '?'}${formEncode(k)}=${formEncode(Array.isArray(v) ? v.join(',') : String(v))}`;
    }
    return pathname + search;
  }

  const link: Link = {
    client,
    agent,
    base,
    timeoutMs,
    retries,
    backoffMs,
    maxResponseBytes,
    headers: options.headers,
    refusal: options.refusal,
    answered: options.answered,
    retried: options.retried,
    fail,
    limited,
    tooLarge,
  };

  async function send(
    method: 'GET' | 'POST',
    path: string,
    query: Query | undefined,
    payload: Payload | undefined,
    segments?: Readonly<Record<string, string>>,
  ): Promise<JsonObject> {
    const request = `${method} ${path}`;
    const target = requestPath(path, query, segments);
    const pause = pausedUntil - now();
    if (pause > 0) {
      // The source asked not to be called yet (Retry-After): answer without a request, and without a breaker verdict.
      const retryAfterSeconds = secondsLeft(pause);
      throw new SourceRefusal(source, `${source} asked not to be called for another ${retryAfterSeconds} s (${request}, after HTTP ${pausedBy})`, {
        request,
        retryAfterSeconds,
        ...(breaker.state === 'open' ? { circuit: 'open' } : {}),
      });
    }
    const rejected = () =>
      new SourceRefusal(source, `${source} is unavailable (circuit open after repeated failures)`, {
        request,
        circuit: 'open',
      });
    const overloaded = options.overloaded;
    const run = overloaded
      ? async () => {
          const answer = await attemptWithRetries(link, method, target, request, payload);
          if (overloaded(answer)) throw new OverloadedBody(answer);
          return answer;
        }
      : () => attemptWithRetries(link, method, target, request, payload);
    try {
      return await breaker.run(run, isSystemFailure, rejected);
    } catch (e) {
      if (e instanceof OverloadedBody) return e.body;
      throw e instanceof AttemptFailure ? e.error : e;
    }
  }

  return {
    source,
    getJson: (path, query, segments) => send('GET', path, query, undefined, segments),
    postJson: (path, query, body) => send('POST', path, query, body === undefined ? undefined : { text: JSON.stringify(body), type: 'application/json' }),
    postForm: (path, form) =>
      send('POST', path, undefined, {
        text: Object.keys(form)
          .map((k) => `${formEncode(k)}=${formEncode(form[k])}`)
          .join('&'),
        type: 'application/x-www-form-urlencoded',
      }),
    circuitState: () => breaker.state,
  };
}
