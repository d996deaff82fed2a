/**
 * Fault injection for the demo servers, so timeouts, 5xx answers and malformed bodies can be
 * exercised over real HTTP on 127.0.0.1 (tests, benchmarks, demos of the breaker), and the
 * small node:http loop both demo servers share so every request passes through the faults.
 *
 * Faults are settable at runtime. Random failures come from a seeded generator, so the same
 * seed and the same sequence of requests fail the same requests every run.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import { openStore as openDatabase, type StoreConnection as SqlConnection } from './store';

export interface Faults {
  /** Delay before every answer. */
  latencyMs?: number;
  /** Fraction (0..1) of requests answered with `status` (500 when unset). */
  failRate?: number;
  /** Never answer: the request stays open until the client gives up or the server closes. */
  hang?: boolean;
  /** Answer 200 with a truncated, unparseable JSON body. */
  malformed?: boolean;
  /** HTTP status for injected failures; set alone, every request fails with it. */
  status?: number;
  /** Seed for `failRate` decisions (default 1); setting faults restarts the sequence. */
  seed?: number;
  /** Only requests to these paths (exact pathnames) are affected; all when unset. */
  paths?: string[];
  /**
   * The next N answers are made, then held until the faults are set again: each carries the data
   * as it was when read and arrives late, as over a stalled link, while later requests are answered.
   */
  holdAnswers?: number;
}

export interface FaultInjector {
  set(faults: Faults | undefined): void;
  get(): Readonly<Faults>;
  /**
   * Applies latency, hang and injected failures to one request. Answers true when the fault
   * has answered (or will never answer) the request, so the handler must not.
   */
  before(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
  /** The body to send for a normal answer: corrupted when `malformed` is on for this path. */
  body(pathname: string, json: string): string;
  /** Resolves when an answer made now may be sent: at once, or, under `holdAnswers`, once the faults are set again. */
  release(pathname: string, res: ServerResponse): Promise<void>;
  /** Answers held now (`holdAnswers`). */
  held(): number;
}

/** mulberry32: tiny, seedable, good enough to pick which requests fail. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves after `ms`, or as soon as the client goes away (no timers outlive a closed socket). */
function delay(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    res.once('close', done);
    function done() {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    }
  });
}

export function createFaultInjector(initial?: Faults): FaultInjector {
  let faults: Faults = {};
  let random = seeded(1);
  let toHold = 0;
  const holding = new Set<() => void>();
  const applies = (pathname: string) => !faults.paths || faults.paths.includes(pathname);

  const injector: FaultInjector = {
    set(f) {
      faults = { ...(f ?? {}) };
      random = seeded(faults.seed ?? 1);
      toHold = faults.holdAnswers ?? 0;
      for (const go of [...holding]) go();
    },
    get: () => faults,
    async before(_req, res, pathname) {
      if (!applies(pathname)) return false;
      if (faults.latencyMs && faults.latencyMs > 0) await delay(faults.latencyMs, res);
      if (faults.hang) {
        // Held until the client aborts or the server closes its connections.
        await new Promise<void>((resolve) => (res.writableEnded || res.destroyed ? resolve() : res.once('close', resolve)));
        return true;
      }
      const failRate = faults.failRate ?? (faults.status ? 1 : 0);
      if (failRate > 0 && random() < failRate) {
        const status = faults.status ?? 500;
        if (!res.destroyed) {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ error: 'InjectedFault', description: `injected status ${status}` }));
        }
        return true;
      }
      return false;
    },
    body(pathname, json) {
      if (!faults.malformed || !applies(pathname)) return json;
      return json.slice(0, Math.max(1, Math.floor(json.length / 2)));
    },
    release(pathname, res) {
      if (toHold <= 0 || !applies(pathname)) return Promise.resolve();
      toHold--;
      return new Promise<void>((resolve) => {
        const go = () => {
          holding.delete(go);
          res.off('close', go);
          resolve();
        };
        holding.add(go);
        res.once('close', go);
      });
    },
    held: () => holding.size,
  };
  injector.set(initial);
  return injector;
}

// ---------- the shared server loop ----------

export interface DemoRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** True when the request carried a body at all. */
  hasBody: boolean;
  /** The parsed JSON body; undefined when empty or not JSON (each API answers that its own way). */
  json: unknown;
  /** The body as sent (a form-encoded OAuth token request). */
  text: string;
}

export interface DemoAnswer {
  status: number;
  body: unknown;
  /** Headers the system sends with this answer (a 429's `Retry-After`). */
  headers?: Record<string, string>;
}

export interface DemoHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
  setFaults(faults: Faults | undefined): void;
  /** Answers made and held now (`Faults.holdAnswers`). */
  heldAnswers(): number;
  /** Requests received (including those a fault answered), for one exact path or in all. */
  requestCount(path?: string): number;
  resetRequests(): void;
}

const MAX_BODY_BYTES = 1 << 20;

/** A knex the server owns (opened from a connection, destroyed on close) or borrows. */
export function resolveStore(db: Knex | SqlConnection): { knex: Knex; owned: boolean } {
  if (typeof db === 'function') return { knex: db as Knex, owned: false };
  return { knex: openDatabase(db as SqlConnection), owned: true };
}

export async function startDemoHttpServer(options: {
  host: string;
  port: number;
  faults?: Faults;
  handle: (req: DemoRequest) => Promise<DemoAnswer>;
  onClose?: () => Promise<void>;
}): Promise<DemoHttpServer> {
  const injector = createFaultInjector(options.faults);
  // Counters, not a log: a demo server may run for millions of requests.
  const requestsByPath = new Map<string, number>();
  let requestTotal = 0;

  const server = http.createServer(async (req, res) => {
    // A target no URL parses (`//[`) is the client's error; thrown here it would end the process.
    if (!URL.canParse(req.url ?? '/', 'http://localhost')) return send(res, 400, JSON.stringify({ error: 'InvalidRequestTarget' }));
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    requestTotal++;
    requestsByPath.set(url.pathname, (requestsByPath.get(url.pathname) ?? 0) + 1);
    try {
      const raw = await readBody(req);
      if (raw === null) return send(res, 413, JSON.stringify({ error: 'RequestTooLarge' }));
      if (await injector.before(req, res, url.pathname)) return;
      let json: unknown;
      if (raw.length > 0) {
        try {
          json = JSON.parse(raw);
        } catch {
          json = undefined;
        }
      }
      const answer = await options.handle({ method, pathname: url.pathname, query: url.searchParams, headers: req.headers, hasBody: raw.length > 0, json, text: raw });
      await injector.release(url.pathname, res);
      send(res, answer.status, injector.body(url.pathname, JSON.stringify(answer.body)), answer.headers);
    } catch {
      // Internal failures answer a bare 500; no stack traces or data on the wire.
      send(res, 500, JSON.stringify({ error: 'InternalError' }));
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | null = null;

  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    requestCount: (path) => (path === undefined ? requestTotal : (requestsByPath.get(path) ?? 0)),
    resetRequests: () => {
      requestsByPath.clear();
      requestTotal = 0;
    },
    setFaults: (f) => injector.set(f),
    heldAnswers: () => injector.held(),
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Hanging and keep-alive sockets would hold close() open forever.
        server.closeAllConnections();
        await closed;
        await options.onClose?.();
      })()),
  };
}

function send(res: ServerResponse, status: number, body: string, headers?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The request body as text, or null when it exceeds the limit. */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else parts.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
