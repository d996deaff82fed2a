/**
 * CORS and compression, over real HTTP: browser apps on allowed origins may call the API (the
 * allowlist is config, empty by default), and large answers travel gzip- or Brotli-compressed
 * when the client accepts it.
 */
import zlib from 'node:zlib';
import http from 'node:http';
import { startTestWorld, apiKeyFor, type TestWorld } from '../helpers/world';
import { chooseEncoding } from '../../src/http/compress';
import { createCors } from '../../src/http/cors';

let world: TestWorld;

beforeAll(async () => {
  world = await startTestWorld({
    people: 60,
    seed: 4,
    demoSystems: false,
    configPatch: (c) => (c.server.cors = { origins: ['http://localhost:*', 'https://*.example.com'] }),
  });
});

afterAll(async () => world?.close());

/** A raw request (fetch would decompress and hide the encoding). */
function raw(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${world.url}${path}`, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const preflight = (origin: string) =>
  raw('/graphql', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' } });

describe('CORS: an allowlist of origins', () => {
  it('answers a preflight from an allowed origin with the methods and headers it asked for', async () => {
    const r = await preflight('http://localhost:5173');
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(r.headers['access-control-allow-methods']).toBe('GET, POST, OPTIONS');
    expect(r.headers['access-control-allow-headers']).toBe('content-type, x-api-key');
    expect(r.headers['access-control-max-age']).toBe('600');
    expect(r.headers.vary).toContain('Origin');
    expect((await preflight('https://bi.example.com')).headers['access-control-allow-origin']).toBe('https://bi.example.com');
  });

  it('refuses a preflight from any other origin, and allows nothing to it', async () => {
    for (const origin of ['https://evil.test', 'http://localhost.evil.test:80', 'https://example.com.evil.test', 'http://bi.example.com']) {
      const r = await preflight(origin);
      expect([origin, r.status]).toEqual([origin, 403]);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.parse(r.body.toString()).errors[0].extensions.code).toBe('FORBIDDEN_ORIGIN');
    }
  });

  it('lets an allowed origin read the answer and the request id, and tells no other origin anything', async () => {
    const post = (origin: string) =>
      fetch(`${world.url}/graphql`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin') },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
    const allowed = await post('http://localhost:3000');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const other = await post('https://evil.test');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows no origin at all by default', () => {
    const none = createCors({ origins: [], maxAgeSeconds: 600 });
    expect(none.isAllowed('http://localhost:3000')).toBe(false);
    expect(none.isAllowed(undefined)).toBe(false);
  });
});

describe('Compression: above a size threshold, as the client accepts', () => {
  const query = JSON.stringify({ query: '{ __schema { types { name description fields { name description } } } }' });
  const post = (acceptEncoding?: string) =>
    raw('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin'), ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) },
      body: query,
    });

  it('sends a large answer Brotli-compressed when accepted, and the same answer', async () => {
    const plain = await post();
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(10_000);
    const br = await post('gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toContain('Accept-Encoding');
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    expect(JSON.parse(zlib.brotliDecompressSync(br.body).toString())).toEqual(JSON.parse(plain.body.toString()));
  });

  it('sends gzip to a client that accepts only gzip', async () => {
    const gz = await post('gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(zlib.gunzipSync(gz.body).toString()).data.__schema.types.length).toBeGreaterThan(10);
  });

  it('leaves a small answer as it is', async () => {
    const small = await raw('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin'), 'accept-encoding': 'br, gzip' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.body.toString())).toEqual({ data: { __typename: 'Query' } });
  });

  it('reads accept-encoding weights', () => {
    expect(chooseEncoding('gzip;q=1, br;q=0.5')).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip')).toBe('gzip');
    expect(chooseEncoding('identity')).toBeNull();
    expect(chooseEncoding('*')).toBe('br');
    expect(chooseEncoding(undefined)).toBeNull();
  });
});
