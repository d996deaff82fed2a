import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { answered, failure } from '../helpers/source-failure';
import { z } from 'zod';
import { connectorTransport, createHttpTransport, retryAfterMs, RETRY_REASONS, type HttpTransportOptions } from '../../src/sources/http';
import { httpSourceOptions } from '../../src/sources/options';
import { CallRecorder } from '../../src/sources/observe';

/** A real server on 127.0.0.1 whose every answer is scripted by the test; counts what reached it. */
async function scripted(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number, body: string) => void) {
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, seen.length, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

/** Deadlines generous enough for a loaded machine; the tests of timeouts set their own short ones. */
function transport(url: string, over: Partial<HttpTransportOptions> = {}) {
  return createHttpTransport({
    source: 'support',
    baseUrl: url,
    timeoutMs: 10_000,
    retries: 0,
    breaker: { failureThreshold: 100, cooldownMs: 1000 },
    backoffMs: 1,
    ...over,
  });
}

const servers: Array<{ close(): Promise<void> }> = [];
async function serve(handler: Parameters<typeof scripted>[0]) {
  const s = await scripted(handler);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/**
 * A TCP server that answers each request with raw bytes the test writes itself (what node:http
 * would refuse to send: broken chunks, a second Content-Length, a reset mid-body). `answer` gets
 * the socket and the request's number on it (1 for a new connection); counts requests and connections.
 */
async function rawServe(answer: (socket: net.Socket, onConnection: number) => void) {
  let requests = 0;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let onConnection = 0;
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      // GET requests only: a request ends with its headers.
      for (let end = head.indexOf('\r\n\r\n'); end >= 0; end = head.indexOf('\r\n\r\n')) {
        head = head.slice(end + 4);
        requests += 1;
        answer(socket, ++onConnection);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const s = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => r());
      }),
  };
  servers.push(s);
  return s;
}

const rawJson = (body: string) => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('HTTP transport: answers', () => {
  it('GETs with the query and headers and answers the JSON object', async () => {
    const s = await serve((_q, res) => json(res, 200, { ok: true, n: 1 }));
    const t = transport(s.url, { headers: { authorization: 'Bearer k' } });
    await expect(t.getJson('/api/v2/ping', { ids: [1, 2, 3], skip: undefined, per_page: 10 })).resolves.toEqual({ ok: true, n: 1 });
    expect(s.seen).toHaveLength(1);
    expect(s.seen[0].method).toBe('GET');
    expect(new URL(s.seen[0].url, 'http://x').searchParams.get('ids')).toBe('1,2,3');
    expect(new URL(s.seen[0].url, 'http://x').searchParams.has('skip')).toBe(false);
    expect(s.seen[0].headers.authorization).toBe('Bearer k');
  });

  it('writes the query string exactly as URLSearchParams would, whatever the values hold', async () => {
    const s = await serve((_q, res) => json(res, 200, {}));
    const query = { a: "x y+z&=?#/!'()~*._-", b: ['中文', '😀', '\ud800'], 'k ey': 7, none: null, flag: true };
    await transport(`${s.url}/p`).getJson('/api/v2/users', query);
    const expected = new URL(`${s.url}/p/api/v2/users`);
    for (const [k, v] of Object.entries(query)) if (v != null) expected.searchParams.set(k, Array.isArray(v) ? v.join(',') : String(v));
    expect(s.seen[0].url).toBe(expected.pathname + expected.search);
  });

  it('POSTs a JSON body', async () => {
    const s = await serve((_q, res, _n, body) => json(res, 200, { echo: JSON.parse(body) }));
    const t = transport(s.url);
    await expect(t.postJson('/x', { access_token: 't' }, { openids: ['a'] })).resolves.toEqual({ echo: { openids: ['a'] } });
    expect(s.seen[0].headers['content-type']).toBe('application/json');
  });

  it('keeps a path prefix from the base URL', async () => {
    const s = await serve((_q, res) => json(res, 200, {}));
    await transport(`${s.url}/prefix/`).getJson('/api');
    expect(new URL(s.seen[0].url, 'http://x').pathname).toBe('/prefix/api');
  });

  it('rejects a path carrying a query string (ids belong in `query`, out of error messages)', async () => {
    const t = transport('http://127.0.0.1:1');
    await expect(t.getJson('/api/v2/users/show_many?ids=1')).rejects.toThrow(/without a query string/);
  });

  it("fills a template's named segments, each percent-encoded as one segment, and names only the template when it fails", async () => {
    const s = await serve((req, res) => (req.url!.includes('/404/') ? json(res, 404, { error: 'RecordNotFound' }) : json(res, 200, {})));
    const t = transport(`${s.url}/prefix`);
    await t.getJson('/api/v2/users/{id}/tickets/requested', { 'page[size]': 100 }, { id: '360000028616' });
    await t.getJson('/api/v2/users/{id}/tickets/requested', undefined, { id: 'a/b c' });
    expect(s.seen.map((r) => r.url)).toEqual(['/prefix/api/v2/users/360000028616/tickets/requested?page%5Bsize%5D=100', '/prefix/api/v2/users/a%2Fb%20c/tickets/requested']);
    const e = await failure(t.getJson('/api/v2/users/{id}/tickets/requested', undefined, { id: '404' }));
    expect([e.code, e.message]).toEqual(['SOURCE_BAD_RESPONSE', 'support rejected the request (GET /api/v2/users/{id}/tickets/requested, HTTP 404)']);
    // Misuse is a bug, never a request: a segment the template lacks, or an empty one.
    await expect(t.getJson('/api/v2/users/{id}', undefined, { user: '1' })).rejects.toThrow(/segment "user" is not in/);
    await expect(t.getJson('/api/v2/users/{id}', undefined, { id: '' })).rejects.toThrow(/is empty/);
    expect(s.seen).toHaveLength(3);
  });
});

describe('HTTP transport: failures map to source error codes', () => {
  it('answers SOURCE_TIMEOUT when the server never answers, and does not retry it', async () => {
    const s = await serve(() => undefined);
    const e = await failure(transport(s.url, { retries: 2, timeoutMs: 300 }).getJson('/hang'));
    expect(e.code).toBe('SOURCE_TIMEOUT');
    expect(e.sourceName).toBe('support');
    expect(s.seen).toHaveLength(1);
  });

  it('answers SOURCE_TIMEOUT when the body stalls after the headers', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"users":[');
    });
    const e = await failure(transport(s.url, { timeoutMs: 300 }).getJson('/stall'));
    expect(e.code).toBe('SOURCE_TIMEOUT');
  });

  it('answers SOURCE_TIMEOUT for a body dripped a byte at a time, each byte well within any idle timeout, and stops the drip', async () => {
    const body = JSON.stringify({ users: Array.from({ length: 50 }, (_, i) => ({ id: i })) });
    let sent = 0;
    let closed = false;
    const s = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      req.socket.once('close', () => (closed = true));
      const drip = setInterval(() => {
        if (closed || sent === body.length) return clearInterval(drip);
        res.write(body[sent++]);
      }, 5);
    });
    const e = await failure(transport(s.url, { timeoutMs: 300 }).getJson('/drip'));
    expect(e.code).toBe('SOURCE_TIMEOUT');
    for (let i = 0; i < 1000 && !closed; i++) await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
    expect(sent).toBeLessThan(body.length);
  });

  it('answers SOURCE_UNAVAILABLE on 500 without retrying', async () => {
    const s = await serve((_q, res) => json(res, 500, { error: 'boom' }));
    const e = await failure(transport(s.url, { retries: 2 }).getJson('/x'));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
    expect(e.extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'support', status: 500, request: 'GET /x' });
    expect(s.seen).toHaveLength(1);
  });

  it('retries 502/503/504 and succeeds when a later attempt does', async () => {
    const s = await serve((_q, res, n) => (n < 3 ? json(res, n === 1 ? 503 : 502, {}) : json(res, 200, { ok: true })));
    await expect(transport(s.url, { retries: 2 }).getJson('/x')).resolves.toEqual({ ok: true });
    expect(s.seen).toHaveLength(3);
  });

  it("tells its connector's observer of each attempt made again, and of no other request", async () => {
    const s = await serve((_q, res, n) => (n < 3 ? json(res, n === 1 ? 503 : 502, {}) : json(res, 200, { ok: true })));
    const observer = new CallRecorder();
    const { transport: t } = connectorTransport('support', { baseUrl: s.url, retries: 2, timeoutMs: 10_000 }, { maxIds: 100, maxPage: 100, observer });
    await expect(t.getJson('/x')).resolves.toEqual({ ok: true });
    expect(s.seen).toHaveLength(3);
    expect(observer.retries).toEqual(['support', 'support']);
    // A call answered at once, and one that failed for good without a retry (a 500): nothing more.
    const ok = await serve((_q, res, n) => json(res, n === 1 ? 200 : 500, {}));
    const { transport: u } = connectorTransport('support', { baseUrl: ok.url, timeoutMs: 10_000 }, { maxIds: 100, maxPage: 100, observer });
    await u.getJson('/y');
    await failure(u.getJson('/y'));
    expect(observer.retries).toEqual(['support', 'support']);
  });

  it('tells why each attempt was made again, from a bounded set: a status, a refused, reset or dropped connection', async () => {
    let n = 0;
    const s = await rawServe((socket) => {
      n += 1;
      if (n <= 3) socket.end(`HTTP/1.1 ${[503, 502, 504][n - 1]} Busy\r\ncontent-length: 0\r\n\r\n`);
      else if (n === 4) socket.destroy();
      else if (n === 5) socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"ok":');
      else socket.end(rawJson('{"ok":true}'));
    });
    const observer = new CallRecorder();
    const limits = { maxIds: 100, maxPage: 100, observer };
    const { transport: t } = connectorTransport('support', { baseUrl: s.url, retries: 5, timeoutMs: 10_000, breaker: { failureThreshold: 10 } }, limits);
    await expect(t.getJson('/x')).resolves.toEqual({ ok: true });
    expect(observer.retryReasons).toEqual(['http_503', 'http_502', 'http_504', 'connection_reset', 'dropped_mid_answer']);

    const closed = await scripted(() => undefined);
    await closed.close();
    observer.reset();
    const { transport: u } = connectorTransport('support', { baseUrl: closed.url, retries: 1, timeoutMs: 10_000 }, limits);
    await failure(u.getJson('/x'));
    expect(observer.retryReasons).toEqual(['connection_refused']);
    expect(RETRY_REASONS).toEqual(expect.arrayContaining(['http_503', 'http_502', 'http_504', 'connection_reset', 'dropped_mid_answer', 'connection_refused']));
  });

  it('gives up after `retries` extra attempts', async () => {
    const s = await serve((_q, res) => json(res, 504, {}));
    const e = await failure(transport(s.url, { retries: 2 }).getJson('/x'));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
    expect(s.seen).toHaveLength(3);
  });

  it('never retries a 4xx and answers SOURCE_BAD_RESPONSE', async () => {
    const s = await serve((_q, res) => json(res, 401, { error: "Couldn't authenticate you" }));
    const e = await failure(transport(s.url, { retries: 3 }).getJson('/x'));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(e.extensions.status).toBe(401);
    expect(s.seen).toHaveLength(1);
  });

  it('answers SOURCE_UNAVAILABLE on 429 without retrying', async () => {
    const s = await serve((_q, res) => json(res, 429, {}));
    const e = await failure(transport(s.url, { retries: 3 }).getJson('/x'));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
    expect(s.seen).toHaveLength(1);
  });

  it('answers SOURCE_UNAVAILABLE when the connection is refused', async () => {
    const s = await scripted(() => undefined);
    const url = s.url;
    await s.close();
    const e = await failure(transport(url, { retries: 1 }).getJson('/x'));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
  });

  it('retries a connection reset', async () => {
    const s = await serve((req, res, n) => (n === 1 ? req.socket.destroy() : json(res, 200, { ok: true })));
    await expect(transport(s.url, { retries: 1 }).getJson('/x')).resolves.toEqual({ ok: true });
    expect(s.seen).toHaveLength(2);
  });

  it('answers SOURCE_BAD_RESPONSE for a body that is not JSON, or JSON that is not an object', async () => {
    const s = await serve((_q, res, n) => json(res, 200, n === 1 ? '<html>gateway</html>' : '[1,2]'));
    const t = transport(s.url, { retries: 2 });
    expect((await failure(t.getJson('/x'))).code).toBe('SOURCE_BAD_RESPONSE');
    expect((await failure(t.getJson('/x'))).code).toBe('SOURCE_BAD_RESPONSE');
    expect(s.seen).toHaveLength(2);
  });

  it('keeps query values (ids, phones, emails) out of error messages and details', async () => {
    const s = await serve((_q, res) => json(res, 503, {}));
    const e = await failure(transport(s.url).getJson('/api/v2/users/show_many', { ids: ['13800138000', 'alice@example.com'] }));
    const said = `${e.message} ${JSON.stringify(e.extensions)}`;
    expect(said).toContain('/api/v2/users/show_many');
    expect(said).not.toContain('13800138000');
    expect(said).not.toContain('alice@example.com');
  });
});

describe('HTTP transport: circuit breaker', () => {
  it('opens after N consecutive failures and fails fast without reaching the server', async () => {
    const s = await serve((_q, res) => json(res, 500, {}));
    const clock = { t: 0 };
    const t = transport(s.url, { breaker: { failureThreshold: 3, cooldownMs: 1000 }, now: () => clock.t });
    for (let i = 0; i < 3; i++) expect((await failure(t.getJson('/x'))).code).toBe('SOURCE_UNAVAILABLE');
    expect(t.circuitState()).toBe('open');
    const fast = await failure(t.getJson('/x'));
    expect(fast.code).toBe('SOURCE_UNAVAILABLE');
    expect(fast.extensions.circuit).toBe('open');
    expect(s.seen).toHaveLength(3);
  });

  it('half-opens after the cooldown: one probe goes out, and its success closes the circuit', async () => {
    let healthy = false;
    const s = await serve((_q, res) => (healthy ? json(res, 200, { ok: true }) : json(res, 503, {})));
    const clock = { t: 0 };
    const t = transport(s.url, { breaker: { failureThreshold: 2, cooldownMs: 1000 }, now: () => clock.t });
    await failure(t.getJson('/x'));
    await failure(t.getJson('/x'));
    expect(s.seen).toHaveLength(2);
    clock.t = 999;
    await failure(t.getJson('/x'));
    expect(s.seen).toHaveLength(2);

    clock.t = 1000;
    healthy = true;
    expect(t.circuitState()).toBe('half-open');
    // Two calls at once: only the probe reaches the server.
    const [probe, other] = await Promise.allSettled([t.getJson('/x'), t.getJson('/x')]);
    expect(probe.status).toBe('fulfilled');
    expect(other.status).toBe('rejected');
    expect(s.seen).toHaveLength(3);
    expect(t.circuitState()).toBe('closed');
    await expect(t.getJson('/x')).resolves.toEqual({ ok: true });
    expect(s.seen).toHaveLength(4);
  });

  it('re-opens when the probe fails', async () => {
    const s = await serve((_q, res) => json(res, 500, {}));
    const clock = { t: 0 };
    const t = transport(s.url, { breaker: { failureThreshold: 2, cooldownMs: 1000 }, now: () => clock.t });
    await failure(t.getJson('/x'));
    await failure(t.getJson('/x'));
    clock.t = 1000;
    await failure(t.getJson('/x'));
    expect(s.seen).toHaveLength(3);
    expect(t.circuitState()).toBe('open');
    clock.t = 1500;
    expect((await failure(t.getJson('/x'))).extensions.circuit).toBe('open');
    expect(s.seen).toHaveLength(3);
  });

  it('counts timeouts, but not 4xx answers (the system is up, it disliked the request)', async () => {
    const s = await serve((_q, res, n) => (n <= 5 ? json(res, 400, {}) : undefined));
    // Short enough for the two hangs, long enough that a loaded machine still answers the five 400s in time.
    const t = transport(s.url, { timeoutMs: 2000, breaker: { failureThreshold: 2, cooldownMs: 1000 }, now: () => 0 });
    for (let i = 0; i < 5; i++) expect((await failure(t.getJson('/x'))).code).toBe('SOURCE_BAD_RESPONSE');
    expect(t.circuitState()).toBe('closed');
    expect((await failure(t.getJson('/x'))).code).toBe('SOURCE_TIMEOUT');
    expect((await failure(t.getJson('/x'))).code).toBe('SOURCE_TIMEOUT');
    expect(t.circuitState()).toBe('open');
    expect(s.seen).toHaveLength(7);
  });

  it('a success resets the count of consecutive failures', async () => {
    const s = await serve((_q, res, n) => json(res, n % 2 === 0 ? 200 : 500, {}));
    const t = transport(s.url, { breaker: { failureThreshold: 2, cooldownMs: 1000 }, now: () => 0 });
    for (let i = 0; i < 6; i++) await t.getJson('/x').catch(() => undefined);
    expect(t.circuitState()).toBe('closed');
    expect(s.seen).toHaveLength(6);
  });
});

/**
 * Streams `total` bytes of JSON (spaces, then `{}`) in 64 KiB chunks, respecting backpressure, and
 * records how much the server wrote and whether the client went away before the end.
 */
function streamBody(res: http.ServerResponse, total: number, headers: http.OutgoingHttpHeaders = {}) {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const state = { written: 0, finished: false, closed: new Promise<void>((r) => res.on('close', () => r())) };
  res.on('finish', () => (state.finished = true));
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  const pump = () => {
    while (!res.destroyed && state.written + chunk.length <= total - 2) {
      state.written += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) {
      const rest = Buffer.alloc(total - 2 - state.written, 0x20);
      state.written += rest.length + 2;
      res.end(Buffer.concat([rest, Buffer.from('{}')]));
    }
  };
  pump();
  return state;
}

describe('HTTP transport: response size cap (maxResponseBytes)', () => {
  const CAP = 64 * 1024;

  it('aborts a 50 MB streamed body once past the cap and answers SOURCE_BAD_RESPONSE naming source, request and cap', async () => {
    const total = 50 * 1024 * 1024;
    let sent: ReturnType<typeof streamBody> | undefined;
    const s = await serve((_q, res) => (sent = streamBody(res, total)));
    const e = await failure(transport(s.url, { timeoutMs: 10_000, retries: 2, maxResponseBytes: CAP }).getJson('/api/big', { ids: ['13800138000'] }));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(e.extensions).toMatchObject({ source: 'support', request: 'GET /api/big', status: 200, maxResponseBytes: CAP });
    expect(e.message).toContain('support');
    expect(e.message).toContain('GET /api/big');
    expect(e.message).toContain(String(CAP));
    expect(e.message).not.toContain('13800138000');
    // The client hung up mid-body: the server never got to finish writing the 50 MB.
    await sent!.closed;
    expect(sent!.finished).toBe(false);
    expect(sent!.written).toBeLessThan(total / 2);
    expect(s.seen).toHaveLength(1); // not retried
  });

  it('refuses a content-length over the cap without reading the body', async () => {
    // Headers only, then silence: a transport that waited for the body would time out instead.
    let closed: Promise<void> | undefined;
    const s = await serve((_q, res) => {
      closed = new Promise<void>((r) => res.on('close', () => r()));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(CAP + 1) });
      res.flushHeaders();
    });
    const e = await failure(transport(s.url, { timeoutMs: 30_000, maxResponseBytes: CAP }).getJson('/api/declared'));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(e.extensions).toMatchObject({ request: 'GET /api/declared', maxResponseBytes: CAP });
    expect(e.message).toContain(`${CAP + 1}-byte`);
    await closed;
    expect(s.seen).toHaveLength(1);
  });

  it('accepts a body of exactly the cap and refuses one byte more (streamed, no content-length)', async () => {
    const s = await serve((_q, res, n) => streamBody(res, n === 1 ? CAP : CAP + 1));
    const t = transport(s.url, { maxResponseBytes: CAP });
    await expect(t.getJson('/x')).resolves.toEqual({});
    expect((await failure(t.getJson('/x'))).code).toBe('SOURCE_BAD_RESPONSE');
  });

  it('defaults to 8 MiB and rejects a cap outside 1 KiB..256 MiB', async () => {
    const s = await serve((_q, res) => streamBody(res, 8 * 1024 * 1024 + 1));
    expect((await failure(transport(s.url, { timeoutMs: 10_000 }).getJson('/x'))).extensions.maxResponseBytes).toBe(8 * 1024 * 1024);
    expect(() => transport(s.url, { maxResponseBytes: 1023 })).toThrow(/maxResponseBytes/);
    expect(() => transport(s.url, { maxResponseBytes: 256 * 1024 * 1024 + 1 })).toThrow(/maxResponseBytes/);
  });

  it('comes from config: the shared HTTP option schema validates it and connectorTransport passes it on', async () => {
    const schema = z.object(httpSourceOptions(100)).strict();
    expect(schema.safeParse({ baseUrl: 'http://127.0.0.1:1', maxResponseBytes: 512 }).success).toBe(false);
    expect(schema.safeParse({ baseUrl: 'http://127.0.0.1:1', maxResponseBytes: 2 ** 29 }).success).toBe(false);
    const s = await serve((_q, res) => streamBody(res, 4096));
    const parsed = schema.parse({ baseUrl: s.url, maxResponseBytes: 2048 });
    const { transport: t } = connectorTransport('support', parsed, { maxIds: 100, maxPage: 100 });
    const e = await failure(t.getJson('/x'));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(e.extensions.maxResponseBytes).toBe(2048);
  });
});

describe('HTTP transport: 429 / 503 with Retry-After', () => {
  const T0 = Date.UTC(2030, 0, 1);

  it('reads Retry-After as seconds or an HTTP date, caps it at 300 s, ignores garbage and the past', () => {
    expect(retryAfterMs('2', T0)).toBe(2000);
    expect(retryAfterMs(' 0 ', T0)).toBe(0);
    expect(retryAfterMs(new Date(T0 + 30_000).toUTCString(), T0)).toBe(30_000);
    expect(retryAfterMs(new Date(T0 - 30_000).toUTCString(), T0)).toBe(0);
    expect(retryAfterMs('86400', T0)).toBe(300_000);
    expect(retryAfterMs('soon', T0)).toBe(0);
    expect(retryAfterMs('-5', T0)).toBe(0);
    expect(retryAfterMs(null, T0)).toBe(0);
  });

  it('after a 429 with Retry-After: 2 makes no request for 2 s, answering SOURCE_UNAVAILABLE with retryAfterSeconds', async () => {
    const s = await serve((_q, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '2' });
        res.end();
      } else json(res, 200, { ok: true });
    });
    const clock = { t: T0 };
    const t = transport(s.url, { retries: 3, now: () => clock.t });
    const first = await failure(t.getJson('/x'));
    expect(first.code).toBe('SOURCE_UNAVAILABLE');
    expect(first.extensions).toMatchObject({ status: 429, retryAfterSeconds: 2, request: 'GET /x' });
    expect(s.seen).toHaveLength(1); // a 429 is never retried within the call

    const held = await failure(t.getJson('/y'));
    expect(held.code).toBe('SOURCE_UNAVAILABLE');
    expect(held.extensions).toMatchObject({ source: 'support', request: 'GET /y', retryAfterSeconds: 2 });
    clock.t = T0 + 1000;
    expect((await failure(t.postJson('/z', undefined, {}))).extensions.retryAfterSeconds).toBe(1);
    clock.t = T0 + 1999;
    expect((await failure(t.getJson('/x'))).extensions.retryAfterSeconds).toBe(1);
    expect(s.seen).toHaveLength(1);

    clock.t = T0 + 2000;
    await expect(t.getJson('/x')).resolves.toEqual({ ok: true });
    expect(s.seen).toHaveLength(2);
  });

  it('honours an HTTP-date Retry-After on 503 and does not retry it; caps an absurd one at 300 s', async () => {
    const clock = { t: T0 };
    const s = await serve((_q, res, n) => {
      if (n === 1) res.writeHead(503, { 'retry-after': new Date(T0 + 30_000).toUTCString() }).end();
      else if (n === 2) res.writeHead(503, { 'retry-after': '86400' }).end();
      else json(res, 200, { ok: true });
    });
    const t = transport(s.url, { retries: 2, now: () => clock.t });
    const e = await failure(t.getJson('/x'));
    expect(e.extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', status: 503, retryAfterSeconds: 30 });
    expect(s.seen).toHaveLength(1);
    clock.t = T0 + 29_999;
    await failure(t.getJson('/x'));
    expect(s.seen).toHaveLength(1);

    clock.t = T0 + 30_000;
    expect((await failure(t.getJson('/x'))).extensions.retryAfterSeconds).toBe(300);
    expect(s.seen).toHaveLength(2);
    clock.t = T0 + 30_000 + 299_999;
    await failure(t.getJson('/x'));
    expect(s.seen).toHaveLength(2);
    clock.t = T0 + 30_000 + 300_000;
    await expect(t.getJson('/x')).resolves.toEqual({ ok: true });
    expect(s.seen).toHaveLength(3);
  });

  it('a 503 without (or with an unreadable) Retry-After stays transient and is retried', async () => {
    const s = await serve((_q, res, n) => (n === 1 ? res.writeHead(503, { 'retry-after': 'later' }).end() : json(res, 200, { ok: true })));
    await expect(transport(s.url, { retries: 1 }).getJson('/x')).resolves.toEqual({ ok: true });
    expect(s.seen).toHaveLength(2);
  });

  it('repeated 429s open the circuit breaker', async () => {
    const s = await serve((_q, res) => json(res, 429, {}));
    const t = transport(s.url, { retries: 2, breaker: { failureThreshold: 3, cooldownMs: 1000 }, now: () => 0 });
    for (let i = 0; i < 3; i++) expect((await failure(t.getJson('/x'))).code).toBe('SOURCE_UNAVAILABLE');
    expect(s.seen).toHaveLength(3);
    expect(t.circuitState()).toBe('open');
    expect((await failure(t.getJson('/x'))).extensions.circuit).toBe('open');
    expect(s.seen).toHaveLength(3);
  });

  it('a Retry-After longer than the cooldown keeps the open circuit from probing before it', async () => {
    let limited = true;
    const s = await serve((_q, res) => (limited ? res.writeHead(429, { 'retry-after': '10' }).end() : json(res, 200, { ok: true })));
    const clock = { t: T0 };
    const t = transport(s.url, { breaker: { failureThreshold: 1, cooldownMs: 1000 }, now: () => clock.t });
    await failure(t.getJson('/x'));
    expect(t.circuitState()).toBe('open');

    clock.t = T0 + 1000; // the cooldown has passed, Retry-After has not
    limited = false;
    expect(t.circuitState()).toBe('open');
    const held = await failure(t.getJson('/x'));
    expect(held.extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', retryAfterSeconds: 9, circuit: 'open' });
    expect(s.seen).toHaveLength(1);

    clock.t = T0 + 10_000;
    expect(t.circuitState()).toBe('half-open');
    await expect(t.getJson('/x')).resolves.toEqual({ ok: true });
    expect(t.circuitState()).toBe('closed');
    expect(s.seen).toHaveLength(2);
  });
});

describe('HTTP transport: kept-alive connections', () => {
  it('sends consecutive and concurrent calls over pooled connections instead of one connection per call', async () => {
    const connections = new Set<unknown>();
    const counted = await serve((req, res) => {
      connections.add(req.socket);
      json(res, 200, { ok: true });
    });
    const c = transport(counted.url);
    for (let i = 0; i < 5; i++) await c.getJson('/ping');
    expect(connections.size).toBe(1);
    await Promise.all(Array.from({ length: 4 }, () => c.getJson('/ping')));
    expect(counted.seen).toHaveLength(9);
    expect(connections.size).toBeLessThanOrEqual(4);
  });

  it('sends a call again on a new connection when the server dropped the pooled one unanswered, even with retries: 0', async () => {
    const s = await serve((req, res) => {
      // The second request on a connection: the server closes it without a word (an idle connection it was closing).
      if ((req.socket as unknown as { served?: number }).served) return req.socket.destroy();
      (req.socket as unknown as { served?: number }).served = 1;
      json(res, 200, { ok: true });
    });
    const t = transport(s.url, { retries: 0 });
    await expect(t.getJson('/a')).resolves.toEqual({ ok: true });
    await expect(t.getJson('/b')).resolves.toEqual({ ok: true });
    expect(s.seen.map((r) => r.url)).toEqual(['/a', '/b', '/b']);
  });

  it('closes the connection of a call past its deadline: hung connections are never reused, and later calls are served on others', async () => {
    const served = new Map<net.Socket, number>();
    const hung = new Set<net.Socket>();
    const closed = new Set<net.Socket>();
    const s = await serve((req, res, n) => {
      served.set(req.socket, (served.get(req.socket) ?? 0) + 1);
      req.socket.once('close', () => closed.add(req.socket));
      if (n <= 6)
        hung.add(req.socket); // never answered
      else json(res, 200, { ok: true });
    });
    const t = transport(s.url, { timeoutMs: 200 });
    const timedOut = await Promise.all(Array.from({ length: 6 }, () => failure(t.getJson('/slow'))));
    expect(timedOut.map((e) => e.code)).toEqual(Array(6).fill('SOURCE_TIMEOUT'));
    for (let i = 0; i < 1000 && closed.size < hung.size; i++) await new Promise((r) => setImmediate(r));
    expect([hung.size, [...hung].filter((socket) => closed.has(socket)).length]).toEqual([6, 6]);
    await expect(Promise.all(Array.from({ length: 6 }, () => answered(() => t.getJson('/fast'))))).resolves.toEqual(Array(6).fill({ ok: true }));
    expect([...hung].map((socket) => served.get(socket))).toEqual(Array(6).fill(1));
  });

  it('still fails a fresh connection the server drops, as SOURCE_UNAVAILABLE, without sending it twice', async () => {
    const s = await serve((req) => req.socket.destroy());
    const e = await failure(transport(s.url, { retries: 0 }).getJson('/a'));
    expect(e.extensions.code).toBe('SOURCE_UNAVAILABLE');
    expect(s.seen).toHaveLength(1);
  });
});

describe('HTTP transport: what arrives on the wire', () => {
  it.each([
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 7\r\n\r\n{"a":1}', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['a status line that is not HTTP', 'FOO/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}', 'HPE_INVALID_CONSTANT'],
  ])('answers a malformed HTTP message (%s) SOURCE_BAD_RESPONSE, and asks once however many retries are allowed', async (_what, bytes, parserCode) => {
    const s = await rawServe((socket) => socket.write(bytes));
    const e = await failure(transport(s.url, { retries: 2 }).getJson('/x'));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(e.message).toContain(parserCode);
    expect(s.requests()).toBe(1);
  });

  it('answers a 101 Switching Protocols nobody asked for at once as SOURCE_BAD_RESPONSE, and closes that connection', async () => {
    let closed = 0;
    const s = await rawServe((socket) => {
      socket.once('close', () => closed++);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n');
    });
    // Before, nothing settled the call until its deadline (SOURCE_TIMEOUT).
    const e = await failure(transport(s.url, { retries: 2, timeoutMs: 2000 }).getJson('/x'));
    expect([e.code, e.extensions.status]).toEqual(['SOURCE_BAD_RESPONSE', 101]);
    for (let i = 0; i < 1000 && closed === 0; i++) await new Promise((r) => setImmediate(r));
    expect([s.requests(), closed]).toEqual([1, 1]);
  });

  it('counts a malformed HTTP message against the breaker, as it does a body that is not JSON', async () => {
    const s = await rawServe((socket) => socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\n'));
    const t = transport(s.url, { breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    await failure(t.getJson('/x'));
    await failure(t.getJson('/x'));
    expect(t.circuitState()).toBe('open');
    expect((await failure(t.getJson('/x'))).extensions.circuit).toBe('open');
    expect(s.requests()).toBe(2);
  });

  it('never sends a request again once its answer has begun, even when the kept-alive connection it reused is reset mid-body', async () => {
    const s = await rawServe((socket, n) => {
      if (n === 1) return socket.write(rawJson('{"first":true}'));
      // The second request on the connection: the headers and part of the body, then a reset.
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"users":[');
      // Reset after the client's next read (a poll phase lies between two checks), so the part has arrived.
      setImmediate(() => setImmediate(() => socket.resetAndDestroy()));
    });
    const t = transport(s.url, { retries: 0 });
    await expect(t.getJson('/a')).resolves.toEqual({ first: true });
    const e = await failure(t.getJson('/b'));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
    expect(e.message).toContain('mid-answer');
    expect([s.requests(), s.connections()]).toEqual([2, 1]);
  });

  it('keeps an answer that was complete before bytes after it broke the connection', async () => {
    const s = await rawServe((socket) => socket.write(`${rawJson('{"ok":true}')}GARBAGE`));
    await expect(transport(s.url).getJson('/x')).resolves.toEqual({ ok: true });
    expect(s.requests()).toBe(1);
  });

  it('reads an HTTP/1.0 body that ends when the server closes the connection, and refuses one cut short', async () => {
    const whole = await rawServe((socket) => socket.end('HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{"ok":true}'));
    await expect(transport(whole.url).getJson('/x')).resolves.toEqual({ ok: true });
    const cut = await rawServe((socket) => socket.end('HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{"ok":'));
    expect((await failure(transport(cut.url).getJson('/x'))).code).toBe('SOURCE_BAD_RESPONSE');
  });

  it('does not follow a redirect: SOURCE_BAD_RESPONSE with the status, and the other host is never asked', async () => {
    const elsewhere = await serve((_q, res) => json(res, 200, { ok: true }));
    const s = await serve((_q, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/x` });
      res.end();
    });
    const e = await failure(transport(s.url, { retries: 2 }).getJson('/x'));
    expect([e.code, e.extensions.status]).toEqual(['SOURCE_BAD_RESPONSE', 302]);
    // Named as what happened, not as a refusal: the fix is the baseUrl, not the request.
    expect(e.message).toBe('support redirected the request (not followed) (GET /x, HTTP 302)');
    expect([s.seen.length, elsewhere.seen.length]).toEqual([1, 0]);
  });

  it('asks for no compression, and does not inflate a gzip body sent anyway (no decompression bomb)', async () => {
    const zlib = await import('node:zlib');
    // 16 MiB of zeros in ~16 KiB: inflated, it would be twice the default cap.
    const bomb = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024));
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': bomb.length });
      res.end(bomb);
    });
    const e = await failure(transport(s.url).getJson('/x'));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(s.seen[0].headers['accept-encoding']).toBeUndefined();
  });
});
