import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSourceError, type SourceError } from '../../src/errors';
import { createHttpTransport, type HttpTransportOptions } from '../../src/sources/http';

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

function transport(url: string, over: Partial<HttpTransportOptions> = {}) {
  return createHttpTransport({
    source: 'support',
    baseUrl: url,
    timeoutMs: 300,
    retries: 0,
    breaker: { failureThreshold: 100, cooldownMs: 1000 },
    backoffMs: 1,
    ...over,
  });
}

async function failure(p: Promise<unknown>): Promise<SourceError> {
  try {
    await p;
  } catch (e) {
    if (isSourceError(e)) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
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
});

describe('HTTP transport: failures map to source error codes', () => {
  it('answers SOURCE_TIMEOUT when the server never answers, and does not retry it', async () => {
    const s = await serve(() => undefined);
    const e = await failure(transport(s.url, { retries: 2 }).getJson('/hang'));
    expect(e.code).toBe('SOURCE_TIMEOUT');
    expect(e.sourceName).toBe('support');
    expect(s.seen).toHaveLength(1);
  });

  it('answers SOURCE_TIMEOUT when the body stalls after the headers', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"users":[');
    });
    const e = await failure(transport(s.url).getJson('/stall'));
    expect(e.code).toBe('SOURCE_TIMEOUT');
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
    const t = transport(s.url, { timeoutMs: 100, breaker: { failureThreshold: 2, cooldownMs: 1000 }, now: () => 0 });
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
