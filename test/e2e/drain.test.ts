/**
 * Shutdown: SIGTERM/SIGINT drain the gateway. Real processes on 127.0.0.1: `c360 start` (and
 * `npm start`) with the demo world (300 people, stand-ins on free ports) as a child process.
 *
 * A request counts as accepted once the gateway answered `100 Continue` to its headers: from then
 * on it must get a complete answer, even when its body is sent after the signal. Nothing here
 * depends on how long a query takes; the waits are generous bounds, never assertions.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers/tmp';
import { gatewayArgs as gatewayArgsOf, killGateways, ROOT, startGateway } from '../helpers/gateway-process';

const API_KEY = 'demo-admin-key';

/** The full 360 of a list of customers: every source answers for each. */
const ALL_OF = `query All($ids: [ID!]!) {
  customers(ids: $ids) {
    id
    sourceRecords { source recordId }
    crmContacts { id name phone email gender createdAt }
    shopAccounts { id phone channel registeredAt }
    orders(first: 20) { id status total { amount currency } placedAt }
    orderSummary { orderCount totalSpent { amount currency } }
    supportRequesters { id email }
    tickets { id status createdAt }
    scrmFollowers { openid gender subscribed coupons { value { amount currency } } }
  }
}`;

let dir: string;
let configFile: string;
let customerIds: string[];

/** config/demo.json with 300 people, every file in a temporary directory, every port chosen free when it is bound. */
function writeConfig(): void {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
  const data = path.join(dir, 'data');
  config.server.port = 0;
  config.oneid.connection.filename = path.join(data, 'oneid.sqlite');
  // Each stand-in on port 0, its source reading the port it gets (demo/sources.ts): a port chosen
  // here and bound by each gateway started later could be taken by another process in between.
  const ports: Record<string, number> = {};
  for (const source of config.sources.filter((s: { baseUrl?: string }) => s.baseUrl)) {
    ports[source.name] = 0;
    source.baseUrl = 'http://127.0.0.1:0';
  }
  for (const source of config.sources) {
    if (source.connection?.filename) source.connection.filename = path.join(data, path.basename(source.connection.filename));
  }
  config.identity.rulesFile = path.join(ROOT, config.identity.rulesFile);
  config.access.policyFile = path.join(ROOT, config.access.policyFile);
  config.demo = { ...config.demo, people: 300, dataDir: data, ports };
  config.log = { level: 'info' };
  configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
}

/** The ports a gateway's stand-ins listened on, from its log. */
function standInPorts(gw: { lines: Array<Record<string, unknown>> }): number[] {
  const line = gw.lines.find((l) => l.msg === 'demo stand-ins listening');
  if (!line) throw new Error('the gateway did not log its stand-ins');
  const urls = Object.values(line).filter((v): v is string => typeof v === 'string' && v.startsWith('http://'));
  expect(urls.length).toBeGreaterThan(0);
  return urls.map((u) => Number(new URL(u).port));
}

interface Answer {
  status: number;
  connection: string | undefined;
  body: any;
}

/**
 * A POST /graphql on its own connection, announced with `Expect: 100-continue`: `accepted`
 * resolves when the gateway has the request (it answered 100 Continue); the body goes out only
 * when `send()` is called. `answer` rejects on any connection error.
 */
function heldRequest(url: URL, query: string, variables: unknown) {
  const body = JSON.stringify({ query, variables });
  let onContinue!: () => void;
  const accepted = new Promise<void>((resolve) => (onContinue = resolve));
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: '/graphql',
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  req.once('continue', onContinue);
  const answer = new Promise<Answer>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.once('error', reject);
      res.once('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: JSON.parse(text) });
        } catch (e) {
          reject(e);
        }
      });
    });
  });
  req.flushHeaders();
  return { accepted, answer, send: () => req.end(body) };
}

/** What a new connection gets: refused, or an answer (its `connection` header). */
function tryNewConnection(url: URL): Promise<{ refused: string } | { status: number; connection: string | undefined }> {
  return new Promise((resolve) => {
    const req = http.get({ host: url.hostname, port: url.port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.once('error', (e: NodeJS.ErrnoException) => resolve({ refused: e.code ?? e.message }));
  });
}

const codes = (body: { errors?: Array<{ extensions?: { code?: string } }> }) => (body.errors ?? []).map((e) => e.extensions?.code);

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const gatewayArgs = () => gatewayArgsOf(configFile);

beforeAll(async () => {
  dir = tempDir('drain');
  writeConfig();
  // The first start generates the world and resolves it; the customers come from its OneID map.
  const gw = await startGateway(process.execPath, gatewayArgs());
  gw.child.kill('SIGTERM');
  expect(await gw.exited).toEqual({ code: 0, signal: null });
  const db = new Database(path.join(dir, 'data', 'oneid.sqlite'), { readonly: true });
  customerIds = db
    .prepare(`SELECT id FROM idmap_customers WHERE status = 'active' ORDER BY id LIMIT 200`)
    .all()
    .map((r) => (r as { id: string }).id);
  db.close();
  expect(customerIds).toHaveLength(200);
});

afterEach(killGateways);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('SIGTERM drains the gateway', () => {
  it('answers every accepted request in full, refuses new connections, then exits 0', async () => {
    const gw = await startGateway(process.execPath, gatewayArgs());
    // Eight clients, each asking for 25 customers' full 360 (200 in all). Four send their body
    // before the signal (running when it arrives, or already answered), four only after it.
    const slices = Array.from({ length: 8 }, (_, i) => customerIds.slice(i * 25, (i + 1) * 25));
    const requests = slices.map((ids) => heldRequest(gw.url, ALL_OF, { ids }));
    await Promise.all(requests.map((r) => r.accepted));
    const before = requests.slice(0, 4);
    const after = requests.slice(4);
    for (const r of before) r.send();

    gw.child.kill('SIGTERM');
    await gw.logged('draining');
    const late = await tryNewConnection(gw.url);
    for (const r of after) r.send();

    const answers = await Promise.all(requests.map((r) => r.answer));
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      expect(a.body.data.customers.map((c: { id: string }) => c.id)).toEqual(slices[i]);
      // A loaded machine may see a stand-in (in the gateway's process) time out; nothing else may fail,
      // least of all a source or OneID closed under a running request.
      expect(codes(a.body).filter((c) => c !== 'SOURCE_TIMEOUT')).toEqual([]);
    });
    // Answers sent during the drain close their connection.
    for (const a of answers.slice(4)) expect(a.connection).toBe('close');
    if ('refused' in late) expect(late.refused).toBe('ECONNREFUSED');
    else expect(late.connection).toBe('close');

    expect(await gw.exited).toEqual({ code: 0, signal: null });
    expect(gw.lines.some((l) => l.msg === 'stopped')).toBe(true);
    expect(gw.lines.some((l) => String(l.msg).startsWith('drain timed out'))).toBe(false);
    for (const port of [Number(gw.url.port), ...standInPorts(gw)]) expect(await connects(port)).toBe(false);
  });

  it('exits at once on a second signal during the drain', async () => {
    const gw = await startGateway(process.execPath, gatewayArgs());
    const held = heldRequest(gw.url, ALL_OF, { ids: customerIds.slice(0, 10) });
    const answer = held.answer.then(
      () => 'answered',
      () => 'cut',
    );
    await held.accepted;
    gw.child.kill('SIGTERM');
    await gw.logged('draining');
    // A repeat within the gateway's grace window (500 ms) counts as the same signal; wait past it.
    await new Promise((r) => setTimeout(r, 1500));
    gw.child.kill('SIGTERM');
    // Had the second signal been ignored, the drain would wait for the held body and exit 0.
    expect(await gw.exited).toEqual({ code: 143, signal: null });
    expect(await answer).toBe('cut');
  });

  it('takes SIGINT twice in a row (Ctrl-C under npm) as one request to drain', async () => {
    const gw = await startGateway(process.execPath, gatewayArgs());
    const held = heldRequest(gw.url, ALL_OF, { ids: customerIds.slice(0, 10) });
    await held.accepted;
    gw.child.kill('SIGINT');
    gw.child.kill('SIGINT');
    await gw.logged('draining');
    held.send();
    const a = await held.answer;
    expect(a.status).toBe(200);
    expect(a.body.data.customers).toHaveLength(10);
    expect(await gw.exited).toEqual({ code: 0, signal: null });
  });
});

describe('SIGTERM behind a load balancer that follows readiness (server.drainDelayMs)', () => {
  /** The test's config with `server.drainDelayMs` set, in a file of its own. */
  function withDrainDelay(delayMs: number): string[] {
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    config.server.drainDelayMs = delayMs;
    const file = path.join(dir, `config-delay-${delayMs}.json`);
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    return gatewayArgsOf(file);
  }
  const get = async (url: URL, route: string) => {
    const res = await fetch(new URL(route, url));
    return { status: res.status, body: (await res.json()) as any };
  };

  it('answers /readyz 503 draining at once while it still accepts and answers requests; a second signal then exits', async () => {
    // A delay no test step comes near: what is asserted is what the gateway answers inside it.
    const gw = await startGateway(process.execPath, withDrainDelay(600_000));
    expect((await get(gw.url, '/readyz')).status).toBe(200);
    gw.child.kill('SIGTERM');
    await gw.logged('stopping: /readyz answers 503');
    expect(await get(gw.url, '/readyz')).toEqual({ status: 503, body: { status: 'draining' } });
    expect(await get(gw.url, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    // A new connection's request (a balancer that has not yet probed) is answered in full.
    const held = heldRequest(gw.url, ALL_OF, { ids: customerIds.slice(0, 5) });
    await held.accepted;
    held.send();
    const a = await held.answer;
    expect(a.status).toBe(200);
    expect(a.body.data.customers.map((c: { id: string }) => c.id)).toEqual(customerIds.slice(0, 5));
    expect(gw.lines.some((l) => String(l.msg).startsWith('draining'))).toBe(false);
    // Past the repeat window: a second signal ends the wait and the process at once.
    await new Promise((r) => setTimeout(r, 1500));
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toEqual({ code: 143, signal: null });
  });

  it('drains once the delay is over and exits 0', async () => {
    const gw = await startGateway(process.execPath, withDrainDelay(500));
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    // By each line's own time: the last lines before an exit may reach stdout out of order (pino's exit flush).
    const at = (prefix: string) => gw.lines.filter((l) => String(l.msg).startsWith(prefix)).map((l) => Number(l.time));
    const [flipped, closed, stopped] = [at('stopping: /readyz'), at('draining'), at('stopped')];
    expect([flipped.length, closed.length, stopped.length]).toEqual([1, 1, 1]);
    expect(flipped[0] <= closed[0] && closed[0] <= stopped[0]).toBe(true);
  });
});

describe('Stopping with tracing on', () => {
  it('exits 0 when the collector is gone at shutdown: the last spans are lost with one warning, the stop goes on', async () => {
    // A collector that takes each connection and drops it (gone mid-deploy): the final export fails.
    const collector = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => collector.once('error', reject).listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(collector.address() as net.AddressInfo).port}`;
      const gw = await startGateway(process.execPath, gatewayArgs(), { env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
      const a = await heldRequest(gw.url, ALL_OF, { ids: customerIds.slice(0, 2) });
      await a.accepted;
      a.send();
      expect((await a.answer).status).toBe(200); // its spans wait in the batch for the final export
      gw.child.kill('SIGTERM');
      expect(await gw.exited).toEqual({ code: 0, signal: null });
      const msgs = gw.lines.map((l) => l.msg);
      expect(msgs).toContain('tracing: the last spans could not be exported');
      expect(msgs).toContain('stopped');
      expect(msgs).not.toContain('shutdown failed');
      for (const port of standInPorts(gw)) expect(await connects(port)).toBe(false);
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});

describe('npm start', () => {
  it('passes SIGTERM to the gateway, which drains; nothing is left listening', async () => {
    const npm = await startGateway('npm', ['start', '--silent', '--', '--config', configFile]);
    const held = heldRequest(npm.url, ALL_OF, { ids: customerIds.slice(0, 10) });
    await held.accepted;
    npm.child.kill('SIGTERM'); // npm's own pid, as a supervisor would
    await npm.logged('draining');
    held.send();
    const a = await held.answer;
    expect(a.status).toBe(200);
    expect(a.connection).toBe('close');
    expect(await npm.exited).toEqual({ code: 0, signal: null });
    for (const port of [Number(npm.url.port), ...standInPorts(npm)]) expect(await connects(port)).toBe(false);
  });
});
