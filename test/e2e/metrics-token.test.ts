/**
 * The operations endpoints an orchestrator and a scraper call without an API key: with
 * `server.metricsToken` set, /metrics answers only that bearer token (its series name the roles,
 * operations and sources in use); /healthz and /readyz stay open and say nothing but each
 * dependency's name and a code.
 */
import { startTestWorld, type TestWorld } from '../helpers/world';

const TOKEN = 'scrape-token-0123456789';
let world: TestWorld;

beforeAll(async () => {
  world = await startTestWorld({ people: 30, demoSystems: false, configPatch: (raw) => (raw.server.metricsToken = TOKEN) });
});

afterAll(async () => {
  await world?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${world.url}${path}`, { headers });

describe('Operations endpoints: who may read them', () => {
  it('answers /metrics to its bearer token only; without it 401 UNAUTHENTICATED with a Bearer challenge, and no series', async () => {
    for (const headers of <Array<Record<string, string>>>[{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: TOKEN }, { 'x-api-key': TOKEN }]) {
      const res = await get('/metrics', headers);
      const text = await res.text();
      expect([res.status, res.headers.get('www-authenticate'), JSON.parse(text).errors[0].extensions.code]).toEqual([401, 'Bearer realm="metrics"', 'UNAUTHENTICATED']);
      expect(text).not.toContain('c360_');
    }
    for (const scheme of ['Bearer', 'bearer']) {
      const res = await get('/metrics', { authorization: `${scheme} ${TOKEN}` });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^c360_http_requests_total\{route="metrics",status="401"\} 4$/m);
    }
  });

  it('keeps /healthz and /readyz open, /readyz naming each dependency with a code and nothing else', async () => {
    expect((await get('/healthz')).status).toBe(200);
    world.support.setFaults({ status: 503 });
    try {
      const res = await get('/readyz');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { status: string; checks: Record<string, string> };
      expect(Object.keys(body).sort()).toEqual(['checks', 'status']);
      expect(Object.keys(body.checks).sort()).toEqual(['crm', 'oneid', 'orders', 'scrm', 'support']);
      // No address, URL, message or stack: a name and a code.
      for (const value of Object.values(body.checks)) expect(value).toMatch(/^(ok|[A-Z_]+)$/);
      expect(body.checks.support).toBe('SOURCE_UNAVAILABLE');
    } finally {
      world.support.setFaults({});
    }
  });
});
