/**
 * Login abuse over real HTTP: guesses at API keys or tokens are limited per client address
 * (auth.failedLogins), since the per-principal limits begin only after authentication. Clients on
 * distinct loopback addresses (127.0.0.1, 127.0.0.2, …) stand for distinct machines; IPv6 clients
 * (`::1`, and addresses a trusted proxy names in X-Forwarded-For) count per /64. Counts requests
 * and reads codes; never times anything.
 */
import http from 'node:http';
import { startTestWorld, apiKeyFor, type TestWorld } from '../helpers/world';
import { captureLog } from '../helpers/log-capture';

const PER_MINUTE = 5;
const capture = captureLog('info');
let world: TestWorld;

beforeAll(async () => {
  world = await startTestWorld({
    people: 50,
    demoSystems: false,
    log: capture.log,
    configPatch: (raw) => (raw.auth.failedLogins = { perMinute: PER_MINUTE }),
  });
});

afterAll(async () => {
  await world?.close();
});

/** One request from `from` (a loopback address of this machine) with these headers: status, Retry-After, codes. */
function request(from: string, headers: Record<string, string>, path = '/graphql', body: string | null = JSON.stringify({ query: '{ __typename }' })) {
  const { hostname, port } = new URL(world.url);
  return requestTo(hostname, Number(port), from, headers, path, body);
}

function requestTo(
  hostname: string,
  port: number,
  from: string,
  headers: Record<string, string>,
  path = '/graphql',
  body: string | null = JSON.stringify({ query: '{ __typename }' }),
) {
  return new Promise<{ status: number; retryAfter?: string; codes: string[]; body: any }>((resolve, reject) => {
    const req = http.request(
      { host: hostname, port, path, method: body === null ? 'GET' : 'POST', localAddress: from, agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let parsed: any = {};
          try {
            parsed = JSON.parse(text.split('\n')[0] || '{}');
          } catch {
            /* a non-JSON answer: no codes */
          }
          resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], codes: (parsed.errors ?? []).map((e: any) => e.extensions?.code), body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

const BAD_KEY = { 'x-api-key': 'guess-0000' };
const GOOD_KEY = { 'x-api-key': apiKeyFor('admin') };

describe('Access: failed logins per client address', () => {
  it(`answers 401 to ${PER_MINUTE} bad API keys from one address, then 429 RATE_LIMITED with Retry-After, unchecked`, async () => {
    for (let i = 0; i < PER_MINUTE; i++) expect(await request('127.0.0.1', BAD_KEY)).toMatchObject({ status: 401, codes: ['UNAUTHENTICATED'] });
    const refused = await request('127.0.0.1', BAD_KEY);
    expect(refused).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused.body.errors[0].extensions).toMatchObject({ limit: 'failedLoginsPerMinute', max: PER_MINUTE, retryAfterSeconds: Number(refused.retryAfter) });
    // Refused before it is checked: the right key is no way around the limit from that address, and no
    // route that authenticates is either (the change feed, exports).
    expect(await request('127.0.0.1', GOOD_KEY)).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
    expect(await request('127.0.0.1', GOOD_KEY, '/export/customers.ndjson?fields=id', null)).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
    expect(await request('127.0.0.1', GOOD_KEY, '/graphql/stream', null)).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
  });

  it('never refuses a valid principal from another address', async () => {
    const ok = await request('127.0.0.2', GOOD_KEY);
    expect(ok).toMatchObject({ status: 200, body: { data: { __typename: 'Query' } } });
  });

  it('counts bad bearer tokens as bad keys, and valid logins not at all', async () => {
    for (let i = 0; i < 3; i++) expect(await request('127.0.0.3', GOOD_KEY)).toMatchObject({ status: 200 });
    for (let i = 0; i < PER_MINUTE; i++) expect(await request('127.0.0.3', { authorization: 'Bearer not.a.token' })).toMatchObject({ status: 401 });
    expect(await request('127.0.0.3', { authorization: 'Bearer not.a.token' })).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
  });

  it('counts no request without credentials: it guesses nothing, and the IDE and probes stay open', async () => {
    for (let i = 0; i < PER_MINUTE * 2; i++) expect(await request('127.0.0.4', {})).toMatchObject({ status: 401, codes: ['UNAUTHENTICATED'] });
    expect(await request('127.0.0.4', GOOD_KEY)).toMatchObject({ status: 200 });
    expect(await request('127.0.0.1', {}, '/healthz', null)).toMatchObject({ status: 200 });
  });

  it('logs each address going over the limit once, without the address or the credentials', () => {
    const lines = capture.lines.filter((l) => l.includes('failed logins over the limit'));
    // pino's level 40 is warn.
    expect(lines.map((l) => JSON.parse(l)).map(({ level, limit, retryAfterSeconds }) => ({ level, limit, retry: retryAfterSeconds >= 1 }))).toEqual([
      { level: 40, limit: 'failedLoginsPerMinute', retry: true },
      { level: 40, limit: 'failedLoginsPerMinute', retry: true },
    ]);
    for (const line of capture.lines) {
      expect(line).not.toMatch(/127\.0\.0\.\d/);
      expect(line).not.toContain('guess-0000');
      expect(line).not.toContain(apiKeyFor('admin'));
    }
  });
});

describe('Access: failed logins per IPv6 /64, IPv4-mapped addresses as IPv4', () => {
  let dual: TestWorld;
  beforeAll(async () => {
    dual = await startTestWorld({
      people: 20,
      demoSystems: false,
      // Listening on both stacks: an IPv4 client is seen as ::ffff:127.0.0.x. One trusted proxy: its X-Forwarded-For names the client.
      configPatch: (raw) => {
        raw.auth.failedLogins = { perMinute: PER_MINUTE, trustedProxies: 1 };
        raw.server.host = '::';
      },
    });
  });
  afterAll(async () => {
    await dual?.close();
  });
  const port = () => Number(new URL(dual.url).port);
  const v6 = (from: string, headers: Record<string, string>) => requestTo('::1', port(), from, headers);
  const v4 = (from: string, headers: Record<string, string>) => requestTo('127.0.0.1', port(), from, headers);
  const viaProxy = (client: string, headers: Record<string, string> = BAD_KEY) => v4('127.0.0.9', { ...headers, 'x-forwarded-for': client });

  it('spends one budget for every address of a /64 a proxy names: a fresh address per guess gains nothing', async () => {
    for (let i = 1; i <= PER_MINUTE; i++) expect(await viaProxy(`2001:db8:1:2::${i.toString(16)}`)).toMatchObject({ status: 401 });
    expect(await viaProxy('2001:db8:1:2:ffff:ffff:ffff:ffff')).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
    expect(await viaProxy('2001:0DB8:0001:0002:0:0:0:abcd', GOOD_KEY)).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
    // The next /64 is another subscriber's.
    expect(await viaProxy('2001:db8:1:3::1', GOOD_KEY)).toMatchObject({ status: 200 });
  });

  it('counts the loopback ::1 as its /64, apart from IPv4 clients', async () => {
    for (let i = 0; i < PER_MINUTE; i++) expect(await v6('::1', BAD_KEY)).toMatchObject({ status: 401 });
    expect(await v6('::1', GOOD_KEY)).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
    expect(await v4('127.0.0.1', GOOD_KEY)).toMatchObject({ status: 200 });
  });

  it('counts an IPv4 client seen as ::ffff:127.0.0.2 by the dual-stack listener and named 127.0.0.2 by a proxy as one address', async () => {
    for (let i = 0; i < PER_MINUTE; i++) expect(await v4('127.0.0.2', BAD_KEY)).toMatchObject({ status: 401 });
    expect(await viaProxy('127.0.0.2', GOOD_KEY)).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
    expect(await viaProxy('::ffff:127.0.0.2', GOOD_KEY)).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
    expect(await viaProxy('127.0.0.3', GOOD_KEY)).toMatchObject({ status: 200 });
  });
});
