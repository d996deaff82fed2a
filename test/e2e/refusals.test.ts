/**
 * Requests refused before any GraphQL work are seen by the operator: counted in /metrics by route
 * and reason (`c360_http_refusals_total`) and logged (`request refused`), without the caller's
 * address or anything it presented. Real HTTP against the test world; counts requests, never times.
 */
import http from 'node:http';
import { apiKeyFor, startTestWorld, type TestWorld } from '../helpers/world';
import { captureLog } from '../helpers/log-capture';

const PER_MINUTE = 3;
const BAD_KEY = 'guess-refused-0000';
const capture = captureLog('info');
let world: TestWorld;

beforeAll(async () => {
  world = await startTestWorld({
    people: 20,
    demoSystems: false,
    log: capture.log,
    configPatch: (raw) => (raw.auth.failedLogins = { perMinute: PER_MINUTE }),
  });
});

afterAll(async () => {
  await world?.close();
});

/** c360_http_refusals_total, by `route reason`. */
async function refusals(): Promise<Record<string, number>> {
  const text = await (await fetch(`${world.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^c360_http_refusals_total\{route="([^"]+)",reason="([^"]+)"\} (\d+)$/gm)) counts[`${m[1]} ${m[2]}`] = Number(m[3]);
  return counts;
}

/** The requests' own lines (`request refused`), parsed. */
const refusedLines = () => capture.lines.filter((l) => l.includes('"request refused"')).map((l) => JSON.parse(l));

describe('Operations: requests refused before GraphQL', () => {
  it('counts each refusal by route and reason, and not what reached GraphQL', async () => {
    const admin = { 'x-api-key': apiKeyFor('admin') };
    const post = (body: string, headers: Record<string, string>, path = '/graphql') => fetch(`${world.url}${path}`, { method: 'POST', headers, body });
    const statuses = [
      (await post('{"query":"{ __typename }"}', { 'content-type': 'application/json' })).status,
      (await post('{"query":"{ __typename }"}', { 'content-type': 'text/plain', ...admin })).status,
      (await post('{ not json', { 'content-type': 'application/json', ...admin })).status,
      (await post('x'.repeat(1024 * 1024 + 1), { 'content-type': 'application/json', ...admin })).status,
      (await fetch(`${world.url}/healthz`, { method: 'DELETE' })).status,
      (await fetch(`${world.url}/no/such/path`)).status,
      (await fetch(`${world.url}/webhooks/crm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"events":[]}' })).status,
      // GraphQL's own refusals (a document that does not parse) are counted as operations, not here.
      (await post('{"query":"{ __typename"}', { 'content-type': 'application/json', ...admin })).status,
    ];
    // Bad keys from one address, past the failed-login limit.
    for (let i = 0; i < PER_MINUTE + 2; i++) statuses.push((await post('{"query":"{ __typename }"}', { 'content-type': 'application/json', 'x-api-key': BAD_KEY })).status);
    expect(statuses).toEqual([401, 415, 400, 413, 405, 404, 401, 400, 401, 401, 401, 429, 429]);
    expect(await refusals()).toEqual({
      'graphql unauthenticated': 1 + PER_MINUTE,
      'graphql unsupported_media_type': 1,
      'graphql bad_json': 1,
      'graphql payload_too_large': 1,
      'graphql failed_logins': 2,
      'healthz method_not_allowed': 1,
      'other not_found': 1,
      'webhooks unauthenticated': 1,
    });
  });

  it('logs a refusal with its request id, route, status and reason, never the caller’s address or key; a flood as one line with a count', async () => {
    const lines = refusedLines();
    const byKey = new Map<string, Array<{ requestId: string; status: number; suppressed?: number }>>();
    for (const l of lines) byKey.set(`${l.route} ${l.reason}`, [...(byKey.get(`${l.route} ${l.reason}`) ?? []), l]);
    // Every kind of refusal of the test above at least once, each line naming a request id.
    expect([...byKey.keys()].sort()).toEqual(
      [
        'graphql unauthenticated',
        'graphql unsupported_media_type',
        'graphql bad_json',
        'graphql payload_too_large',
        'graphql failed_logins',
        'healthz method_not_allowed',
        'other not_found',
        'webhooks unauthenticated',
      ].sort(),
    );
    for (const l of lines) expect(l).toMatchObject({ level: 30, requestId: expect.any(String), status: expect.any(Number) });
    // Four unauthenticated /graphql requests: a line with each, or fewer lines whose counts make up the rest.
    const unauthenticated = byKey.get('graphql unauthenticated')!;
    expect(unauthenticated.length + unauthenticated.reduce((n, l) => n + (l.suppressed ?? 0), 0)).toBeLessThanOrEqual(1 + PER_MINUTE);
    for (const line of capture.lines) {
      expect(line).not.toContain(BAD_KEY);
      expect(line).not.toContain(apiKeyFor('admin'));
      expect(line).not.toMatch(/127\.0\.0\.1|::1|::ffff/);
    }
  });

  it('answers bad webhook signatures 401 every time, without spending the address’s login budget (src/access/POLICY.md, Webhooks), and warns of a flood once', async () => {
    const { port } = new URL(world.url);
    const from = (localAddress: string, path: string, headers: Record<string, string>, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, path, method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json', ...headers } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const forged = { 'x-c360-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` };
    const answers: number[] = [];
    for (let i = 0; i < PER_MINUTE * 3; i++) answers.push(await from('127.0.0.2', '/webhooks/crm', forged, '{"events":[]}'));
    expect(answers).toEqual(new Array(PER_MINUTE * 3).fill(401));
    expect(await from('127.0.0.2', '/graphql', { 'x-api-key': apiKeyFor('admin') }, '{"query":"{ __typename }"}')).toBe(200);
    expect((await refusals())['webhooks unauthenticated']).toBe(1 + PER_MINUTE * 3);
    // The endpoint answers anyone: its own warning is one line per source and reason per interval, not one per post.
    const warned = capture.lines.filter((l) => l.includes('"webhook refused: signature"') && l.includes('does not match')).map((l) => JSON.parse(l));
    expect(warned.length).toBeGreaterThanOrEqual(1);
    expect(warned.length).toBeLessThan(PER_MINUTE * 3);
    expect(warned[0]).toMatchObject({ level: 40, source: 'crm', requestId: expect.any(String) });
  });
});
