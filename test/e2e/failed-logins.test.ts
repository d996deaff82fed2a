/**
 * Login abuse over real HTTP: guesses at API keys or tokens are limited per client address
 * (auth.failedLogins), since the per-principal limits begin only after authentication. Clients on
 * distinct loopback addresses (127.0.0.1, 127.0.0.2, …) stand for distinct machines. Counts
 * requests and reads codes; never times anything.
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
}, 120_000);

afterAll(async () => {
  await world?.close();
});

/** One request from `from` (a loopback address of this machine) with these headers: status, Retry-After, codes. */
function request(from: string, headers: Record<string, string>, path = '/graphql', body: string | null = JSON.stringify({ query: '{ __typename }' })) {
  const { hostname, port } = new URL(world.url);
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
