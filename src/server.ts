/**
 * The HTTP face of the gateway: /graphql (Apollo), the IDE (/ide/, src/ide), /healthz, /readyz, /metrics;
 * CORS and compression (src/http) for every route.
 * Plain node:http routing in front of Apollo's executeHTTPGraphQLRequest, so that
 * authentication runs before any GraphQL work and raw bodies stay available (webhooks).
 */
import http from 'node:http';
import crypto from 'node:crypto';
import { HeaderMap } from '@apollo/server';
import type { Gateway } from './gateway';
import { createContext } from './context';
import { webhookRoute } from './webhooks';
import { exportRoute } from './bi/export';
import { safeError } from './observability/scrub';
import { routeLabel } from './observability/metrics';
import { abortOnClientGone, oneidUnavailable } from './errors';
import { createRateLimiter, rateLimitedResponse } from './access/rate-limit';
import { ideEnabled } from './config';
import { createIde, ideRoute } from './ide';
import { createCors } from './http/cors';
import { sendBody, type CompressionOptions } from './http/compress';
import { graphqlStatus } from './http/graphql-over-http';
import { createInFlight } from './http/in-flight';
import { createRefusalLog, markRefused, refusalOf, type RefusalReason } from './http/refusals';
import { STREAM_PATH, streamRoute } from './feed/route';
import { startAuditRetention, type AuditRetention } from './access/audit-retention';

const MAX_BODY_BYTES = 1024 * 1024;

export interface RunningServer {
  url: string;
  port: number;
  server: http.Server;
  /**
   * Graceful stop: refuses new connections, closes idle keep-alive ones, lets in-flight requests
   * finish (their responses carry `connection: close`) for up to `timeoutMs`, then cuts what is left.
   */
  drain(timeoutMs?: number): Promise<DrainResult>;
  /**
   * The first step of a stop for a load balancer that follows readiness: /readyz answers 503
   * `draining` from now on while every other request is still served; `drain` closes the listener after.
   */
  unready(): void;
  /** Immediate stop: closes every connection, in-flight requests included. */
  close(): Promise<void>;
  /** The audit's retention while serving (config `access.auditRetentionDays`); null when rows are kept for ever. */
  auditRetention: AuditRetention | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Past MAX_BODY_BYTES, how much more of a refused upload is read and dropped before the
 * connection is closed anyway (the client then sees a reset; it was told 413 long before).
 */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

/**
 * The request body, up to `maxBytes` (MAX_BODY_BYTES unless a route asks for less). A longer one is answered here, at once: 413
 * PAYLOAD_TOO_LARGE with `connection: close`, and the promise rejects so the caller never sees
 * the body (the handler's catch finds the response already sent).
 *
 * The response is written whole (with its length) straight away but ended only once the upload
 * is over, the rest of it read and dropped meanwhile: a socket closed with request bytes still
 * arriving is reset, and a reset makes the client drop the 413 it has not read yet (it saw
 * ECONNRESET where it should see the answer).
 */
function readBody(req: http.IncomingMessage, res: http.ServerResponse, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (refused) {
        if (size > maxBytes + MAX_DRAINED_BYTES) res.end();
        return;
      }
      if (size <= maxBytes) {
        chunks.push(c);
        return;
      }
      refused = true;
      chunks.length = 0;
      const error = new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);
      if (res.headersSent) {
        // A route answered before reading (not one of ours): nothing to say, nothing to keep.
        req.destroy();
        return reject(error);
      }
      const payload = JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code } }] });
      markRefused(res, 'payload_too_large');
      res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), connection: 'close' });
      res.write(payload);
      req.once('close', () => res.end());
      reject(error);
    });
    req.on('end', () => {
      if (refused) res.end();
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** A probe's answer (/healthz, /readyz): JSON, compressed as any other answer. */
function sendProbe(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown, compression: CompressionOptions) {
  sendBody(req, res, status, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify(body), compression);
}

/** An error shaped like a GraphQL response, so GraphQL clients can read it. */
function sendGraphQLError(res: http.ServerResponse, status: number, code: string, message: string) {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

/** A refusal before any GraphQL work, named for /metrics and the log (src/http/refusals.ts). */
function refuse(res: http.ServerResponse, reason: RefusalReason, status: number, code: string, message: string) {
  markRefused(res, reason);
  sendGraphQLError(res, status, code, message);
}

/** 405 for a method an endpoint does not serve, naming those it does. */
function methodNotAllowed(res: http.ServerResponse, allow: readonly string[]) {
  markRefused(res, 'method_not_allowed');
  sendJson(res, 405, { errors: [{ message: `use ${allow.join(' or ')}`, extensions: { code: 'BAD_REQUEST' } }] }, { allow: allow.join(', ') });
}

/** The request target as a URL (parsed once: this is every request's path), or null when none parses. */
function parseTarget(target: string | undefined): URL | null {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}

function requestIdOf(req: http.IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : crypto.randomUUID();
}

const PROBE_TIMED_OUT = Symbol('probe timed out');

/** Each probe answers within `timeoutMs` (config `server.readinessTimeoutMs`), or counts as TIMEOUT: a hung dependency must not hang /readyz. */
async function readiness(gw: Gateway, timeoutMs: number): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {};
  const probes: Array<[string, () => Promise<void>]> = [
    // A failing store names its code as requests answer it (its driver's errors carry none).
    ['oneid', () => gw.idmap.health().catch(() => Promise.reject(oneidUnavailable()))],
    // A source the start-up check left unchecked is checked once it answers: its check is awaited here, and a mapping it no longer fits is SOURCE_MISCONFIGURED.
    ...gw.registry.sources.map((s) => [s.name, () => s.connector.health().then(() => gw.sourceChecks.settled(s.name))] as [string, () => Promise<void>]),
  ];
  await Promise.all(
    probes.map(async ([name, probe]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const p = probe();
        p.catch(() => undefined); // a probe failing after its deadline is already reported as TIMEOUT
        const outcome = await Promise.race([p, new Promise<typeof PROBE_TIMED_OUT>((resolve) => (timer = setTimeout(resolve, timeoutMs, PROBE_TIMED_OUT)))]);
        checks[name] = outcome === PROBE_TIMED_OUT ? 'TIMEOUT' : 'ok';
      } catch (e) {
        checks[name] = String((e as { extensions?: { code?: string } }).extensions?.code ?? 'UNAVAILABLE');
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  // The gateway serves partial data when a source is down; it is not ready without OneID.
  return { ready: checks.oneid === 'ok', checks };
}

/**
 * Whether a request carries `Authorization: Bearer <token>` (always, without a token). Compared as
 * digests in constant time: how long it takes tells nothing of how much of a guess was right.
 */
function bearerCheck(token: string | undefined): (req: http.IncomingMessage) => boolean {
  if (token === undefined) return () => true;
  const digest = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest();
  const expected = digest(token);
  return (req) => {
    const presented = /^bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    return presented !== undefined && crypto.timingSafeEqual(digest(presented), expected);
  };
}

export interface ServerHooks {
  /** Extra routes (webhooks), tried before the built-in ones; return true when handled. */
  route?(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: () => Promise<Buffer>): Promise<boolean>;
}

/** The operations endpoints: GET (and HEAD) only. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** Routes whose requests get no span. */
const UNTRACED = new Set(['healthz', 'readyz', 'metrics']);

/**
 * The text between a target's first and second `/` or `?` (`graphql` of `/graphql?x`; '' without
 * either), as `split(/[/?]/)[1]` read it, without the array and strings a split made every request.
 */
export function firstSegment(target: string): string {
  let start = 0;
  while (start < target.length && !isSeparator(target.charCodeAt(start))) start++;
  if (start === target.length) return '';
  let end = start + 1;
  while (end < target.length && !isSeparator(target.charCodeAt(end))) end++;
  return target.slice(start + 1, end);
}

/** `/` or `?`. */
const isSeparator = (code: number) => code === 47 || code === 63;

export function createRequestHandler(gw: Gateway, hooks: ServerHooks = {}, unready: () => boolean = () => false) {
  const webhooks = webhookRoute(gw);
  const rateLimiter = createRateLimiter({ limitsFor: (role) => gw.access.policy.roles.get(role)?.limits });
  // BI exports stream their own responses (gzip included) under the same per-principal caps, and the exports' own.
  const exports = exportRoute(gw, (viewer) => rateLimiter.admit(viewer, 'export'));
  // The change feed (/graphql/stream, src/feed/): opening a stream counts against the same request rate.
  const stream = streamRoute(gw, (viewer) => rateLimiter.admit(viewer));
  const { compression, cors: corsOptions } = gw.config.server;
  // /readyz is unauthenticated and each check calls OneID and every source: probes that arrive while
  // one runs share its answer, so a flood of them costs the systems one check at a time, not one each.
  let readinessInFlight: ReturnType<typeof readiness> | undefined;
  const metricsAuthorized = bearerCheck(gw.config.server.metricsToken);
  const cors = createCors(corsOptions);
  // The IDE is static and reveals nothing (every operation needs credentials); the demo's keys are hinted in demo mode only.
  const ide = ideEnabled(gw.config)
    ? ideRoute(createIde({ endpoint: '/graphql', streamEndpoint: STREAM_PATH, hint: gw.config.demo ? gw.config.server.ideHint : undefined }), compression)
    : null;
  // Each request in its span (src/observability/tracing.ts), named by its route's first segment only;
  // probes and scrapes, which arrive every few seconds and touch no source, are not traced.
  const traced = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const first = firstSegment(req.url ?? '/');
    if (UNTRACED.has(first)) return handle(req, res);
    return gw.tracing.request(req, res, /^[a-z-]{1,24}$/.test(first) ? `/${first}` : '/', () => handle(req, res));
  };
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    /** Frees this request's place in its principal's concurrency cap once it is answered. */
    let release: (() => void) | undefined;
    try {
      // Node hands over any request target (`//[`); one URL cannot parse must be a 400, not a rejection that ends the process.
      const url = parseTarget(req.url);
      if (!url) return refuse(res, 'bad_request', 400, 'BAD_REQUEST', 'the request target is not a valid URL');
      // CORS first, for every route: a preflight carries no credentials.
      cors.decorate(req, res);
      if (cors.preflight(req, res)) {
        if (res.statusCode === 403) markRefused(res, 'forbidden');
        return;
      }
      if (hooks.route && (await hooks.route(req, res, url, () => readBody(req, res)))) return;
      // A POST to /graphql (nearly every request) is GraphQL's alone: webhooks, exports, the change
      // feed and the IDE serve other paths or only GET, so none of them is asked (each ask was an
      // async call and its promise, every request).
      const graphqlPost = req.method === 'POST' && url.pathname === '/graphql';
      if (!graphqlPost && (await webhooks(req, res, url, (maxBytes) => readBody(req, res, maxBytes), requestId))) return;
      // Credentials from an address that failed too many logins are refused unchecked, on every route that authenticates.
      const tooManyFailures = gw.access.failedLogins.refusal(req);
      if (tooManyFailures) {
        markRefused(res, 'failed_logins');
        const refused = rateLimitedResponse(tooManyFailures);
        return sendJson(res, refused.status, refused.body, refused.headers);
      }
      if (!graphqlPost) {
        if (await exports(req, res, url, requestId)) return;
        if (await stream(req, res, url, () => readBody(req, res))) return;
        if (ide && (await ide(req, res, url))) return;
      }
      // The probes answer HEAD as GET, without the body (sendBody leaves it out).
      if (PROBES.has(url.pathname) && req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, ['GET', 'HEAD']);
      if (url.pathname === '/healthz') return sendProbe(req, res, 200, { status: 'ok' }, compression);
      if (url.pathname === '/readyz') {
        // Stopping (server.drainDelayMs): out of the balancer's rotation first, with no check run.
        if (unready()) return sendProbe(req, res, 503, { status: 'draining' }, compression);
        const r = await (readinessInFlight ??= readiness(gw, gw.config.server.readinessTimeoutMs).finally(() => (readinessInFlight = undefined)));
        return sendProbe(req, res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks }, compression);
      }
      if (url.pathname === '/metrics') {
        if (!metricsAuthorized(req)) {
          gw.access.failedLogins.failed(req);
          res.setHeader('www-authenticate', 'Bearer realm="metrics"');
          return refuse(res, 'unauthenticated', 401, 'UNAUTHENTICATED', 'Missing or invalid metrics token (server.metricsToken)');
        }
        return sendBody(req, res, 200, { 'content-type': gw.metrics.registry.contentType }, await gw.metrics.registry.metrics(), compression);
      }
      if (url.pathname !== '/graphql') return refuse(res, 'not_found', 404, 'NOT_FOUND', 'no such endpoint: GraphQL is served at /graphql');
      if (req.method !== 'GET' && req.method !== 'POST') return methodNotAllowed(res, ['GET', 'POST']);

      // An answer is one caller's, under one role: a cache keying it by URL (a GET names its query
      // there, its role in X-Api-Key, a header shared caches do not know) would serve it to the next.
      res.setHeader('cache-control', 'no-store');
      const headers = new HeaderMap();
      const given = req.headers;
      for (const k in given) {
        const v = given[k];
        if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      const viewer = await gw.access.authenticate(req);
      const apollo = viewer && gw.apollos.get(viewer.role);
      if (!viewer || !apollo) return refuse(res, 'unauthenticated', 401, 'UNAUTHENTICATED', 'Missing or invalid credentials');
      // Per principal, before any GraphQL work: requests per minute and requests in flight (src/access/rate-limit.ts).
      const admission = rateLimiter.admit(viewer);
      if (!admission.ok) {
        markRefused(res, 'rate_limited');
        const refused = rateLimitedResponse(admission);
        return sendJson(res, refused.status, refused.body, refused.headers);
      }
      release = admission.release;

      let body: unknown = undefined;
      if (req.method === 'POST') {
        // GraphQL over HTTP: a POST body is JSON, and says so.
        if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? ''))
          return refuse(res, 'unsupported_media_type', 415, 'BAD_REQUEST', 'send the request body as application/json');
        const raw = await readBody(req, res);
        try {
          body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          return refuse(res, 'bad_json', 400, 'BAD_REQUEST', 'request body is not valid JSON');
        }
      }
      const method = req.method;
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method, headers, search: url.search, body },
        // The client gone, the operation's remaining source calls and OneID reads are not made.
        context: async () => createContext(gw.requestDeps, requestId, viewer, { signal: abortOnClientGone(res) }),
      });
      for (const [k, v] of response.headers) res.setHeader(k, v);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        const status = graphqlStatus(req.headers.accept, response.headers.get('content-type'), res.statusCode, response.body.string);
        return sendBody(req, res, status, {}, response.body.string, compression);
      }
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (e) {
      // readBody answers its own 413 before rejecting.
      if (e instanceof HttpError) return res.headersSent ? undefined : sendGraphQLError(res, e.status, e.code, e.message);
      gw.log.error({ requestId, err: safeError(e) }, 'request failed');
      if (!res.headersSent) sendGraphQLError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error');
      else res.end();
    } finally {
      release?.();
    }
  };
  // A drain ends open change-feed streams at once: they would otherwise hold it until its timeout.
  return Object.assign(traced, { endStreams: () => stream.endAll() });
}

/**
 * How long a drain (SIGTERM/SIGINT, `RunningServer.drain`) lets in-flight requests run before
 * it cuts their connections: longer than any source timeout, shorter than an orchestrator's
 * grace period (Kubernetes waits 30 s before SIGKILL).
 */
export const DRAIN_TIMEOUT_MS = 10_000;

export interface DrainResult {
  /** Requests still running at the timeout, whose connections were cut. */
  cut: number;
}

export function startServer(gw: Gateway, opts: { host?: string; port?: number; hooks?: ServerHooks } = {}): Promise<RunningServer> {
  let unready = false;
  const handle = createRequestHandler(gw, opts.hooks, () => unready);
  // Responses not yet finished; during a drain each says `connection: close` (src/http/in-flight.ts: not a Set, which kept finished ones alive for the GC).
  const inFlight = createInFlight<http.ServerResponse>();
  const logRefusal = createRefusalLog(gw.log);
  let draining = false;
  const server = http.createServer((req, res) => {
    const finished = inFlight.add(res);
    res.once('close', () => {
      finished();
      const route = routeLabel(req.url);
      gw.metrics.observeHttp(route, res.headersSent ? res.statusCode : 0);
      const refused = refusalOf(route, res);
      if (refused) {
        gw.metrics.observeRefusal(route, refused);
        logRefusal(route, res, refused);
      }
    });
    if (draining) res.setHeader('connection', 'close');
    // The handler answers its own errors; anything that still escapes it costs this request, never the process.
    Promise.resolve(handle(req, res)).catch((e) => {
      gw.log.error({ err: safeError(e) }, 'request failed outside its handler');
      if (!res.headersSent) sendGraphQLError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  // A serving gateway writes audit rows, so it is the one that deletes those past the retention (from when it listens).
  let auditRetention: AuditRetention | null = null;
  const stopRetention = () => auditRetention?.close() ?? Promise.resolve();
  let drained: Promise<DrainResult> | undefined;
  const drain = (timeoutMs = DRAIN_TIMEOUT_MS): Promise<DrainResult> =>
    (drained ??= new Promise<DrainResult>((resolve) => {
      draining = true;
      handle.endStreams();
      for (const res of inFlight) {
        if (!res.headersSent) res.setHeader('connection', 'close');
        // A response whose headers already went out keeps its connection alive: close it once idle.
        else res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
      }
      let cut = 0;
      const timer = setTimeout(() => {
        cut = inFlight.size;
        server.closeAllConnections();
      }, timeoutMs);
      // Stops listening and closes idle keep-alive connections (Node 19+); calls back once the
      // last in-flight request has been answered and its connection closed.
      server.close(() => {
        clearTimeout(timer);
        void stopRetention().then(() => resolve({ cut }));
      });
    }));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? gw.config.server.port, opts.host ?? gw.config.server.host, () => {
      const addr = server.address() as import('node:net').AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const days = gw.config.access.auditRetentionDays;
      if (days) auditRetention = startAuditRetention(gw.access.auditLog, { days, log: gw.log });
      resolve({
        url: `http://${host}:${addr.port}`,
        port: addr.port,
        server,
        drain,
        unready: () => void (unready = true),
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections?.();
            server.close(() => void stopRetention().then(() => res()));
          }),
        auditRetention,
      });
    });
  });
}
