/**
 * A whole small c360 world for end-to-end tests: the demo generator fills fresh databases on
 * the engine under test, the support and SCRM stand-ins serve theirs over real HTTP on
 * 127.0.0.1, identity resolution runs, and the real gateway listens on a free port.
 * Calls are recorded at the connector boundary and at the OneID reader, never mocked.
 */
import { ONEID_READS } from '../../src/idmap/guarded';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig, type Config } from '../../src/config';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway';
import { startServer, type RunningServer, type ServerHooks } from '../../src/server';
import { runResolution } from '../../src/resolution';
import { CallRecorder } from '../../src/sources/observe';
import { createLogger } from '../../src/observability/logger';
import { generateWorld } from '../../demo/generate';
import { startSupportServer, type SupportServer } from '../../demo/support-server';
import { startScrmServer, type ScrmServer } from '../../demo/scrm-server';
import { DEMO_SYSTEMS } from '../../demo/systems';
import type { StandIn } from '../../demo/system';
import { freshDatabase, type TestDatabase } from './db';
import { hashApiKey } from '../../src/access';
import type { SourceName } from '../../src/vocabulary';
import { tempDir } from './tmp';
import { closeAtFileEnd } from './file-end';

export const TEST_ROLES = ['admin', 'marketing', 'sales', 'support', 'finance', 'analyst'] as const;
export type TestRole = (typeof TEST_ROLES)[number];
/** The API key the test world accepts for a role (sales belongs to team_north). */
export const apiKeyFor = (role: TestRole) => `test-${role}-key`;
/** A role for `extraRoles`: admin with one request in flight, its place free again only once a request has let go. */
export const SERIAL_ADMIN = { extends: 'admin', description: 'admin, one request in flight', limits: { maxConcurrent: 1 } };
/** Every source's webhook secret in the test world. */
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';
/**
 * Every source's and OneID's deadline in the test world: far beyond any answer on a machine
 * shared with other jobs, so no test fails because a stand-in answered slowly. Tests of faults
 * set their own, short on purpose.
 */
export const GENEROUS_DEADLINE_MS = 30_000;

export interface TestWorld {
  url: string;
  gw: Gateway;
  config: Config;
  server: RunningServer;
  support: SupportServer;
  scrm: ScrmServer;
  /** The demo systems beyond the four (demo/systems/: WeCom, the marketplace), each served by its stand-in. */
  standIns: Record<string, StandIn>;
  /** Each of those systems' SQLite store (the file its stand-in serves), by system name. */
  systemStores: Record<string, string>;
  /** Every call the connectors made to a system. */
  calls: CallRecorder;
  /** Every call made to the OneID reader, by method. */
  idmapCalls: Array<{ method: string; keys: number }>;
  truthFile: string;
  dbs: Record<'oneid' | 'crm' | 'orders' | 'support' | 'scrm', TestDatabase>;
  /** POST a GraphQL operation as admin (or with the given headers); answers status and parsed body. */
  query(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  reset(): void;
  close(): Promise<void>;
}

export interface TestWorldOptions {
  people?: number;
  seed?: number;
  /** Overrides merged into the generated config. */
  configPatch?: (raw: any) => void;
  hooks?: ServerHooks;
  /** Also generate and serve the demo systems beyond the four (WeCom, the marketplace). Default true. */
  demoSystems?: boolean;
  /** The gateway's logger (default: silent). */
  log?: ReturnType<typeof createLogger>;
  /** Where the gateway's spans go (tracing tests: an in-memory exporter). */
  spanExporter?: GatewayOptions['spanExporter'];
  /**
   * Roles beyond config/access.json, by name, each with the API keys that act as it: written into
   * a copy of the demo policy in the world's directory, which the gateway then reads.
   */
  extraRoles?: Record<string, { role: Record<string, unknown>; keys: string[] }>;
}

/** Writes the demo policy with `extraRoles` added into `dir`, registers their keys; answers the policy file. */
function withExtraRoles(raw: any, extraRoles: NonNullable<TestWorldOptions['extraRoles']>, dir: string): string {
  const policy = JSON.parse(fs.readFileSync(raw.access.policyFile, 'utf8'));
  for (const [name, { role, keys }] of Object.entries(extraRoles)) {
    policy.roles[name] = role;
    keys.forEach((key, i) => raw.auth.apiKeys.push({ name: `test-${name}${i ? `-${i + 1}` : ''}`, role: name, sha256: hashApiKey(key) }));
  }
  const policyFile = path.join(dir, 'access.json');
  fs.writeFileSync(policyFile, JSON.stringify(policy));
  return policyFile;
}

/**
 * What a world's build has opened, closed in reverse order by the world's `close`, by a later
 * step that fails (a database that timed out, a gateway that would not start: a test whose
 * `beforeAll` threw has no world to close), or at the end of the test file when the hook that
 * started the build gave up on it (`file-end.ts`): the build is then stopped at its next step,
 * and what it opens from there is closed at once.
 */
class Opened {
  private readonly closers: Array<() => unknown> = [];
  private closing: Promise<void> = Promise.resolve();
  private givenUp = false;

  /** Keeps `close` for later; if the world was given up on meanwhile, stops the build (which then closes what it opened). */
  keep(close: () => unknown): void {
    this.closers.push(close);
    this.check();
  }

  /** Stops the build here if the world was given up on. */
  check(): void {
    if (this.givenUp) throw new Error('test world given up on while being built (its hook timed out): closed');
  }

  giveUp(): Promise<void> {
    this.givenUp = true;
    return this.closeAll();
  }

  /** Every closer runs, also after one threw: a database that would not close must not leave the stand-ins listening. */
  closeAll(): Promise<void> {
    const run = async () => {
      const failed: unknown[] = [];
      for (const close of this.closers.splice(0).reverse()) {
        try {
          await close();
        } catch (e) {
          failed.push(e);
        }
      }
      if (failed.length) throw new AggregateError(failed, `closing the test world: ${failed.length} step(s) failed`);
    };
    // One after another: a second call returns once the first call's closers and its own have run.
    this.closing = this.closing.catch(() => undefined).then(run);
    return this.closing;
  }
}

export async function startTestWorld(opts: TestWorldOptions = {}): Promise<TestWorld> {
  const opened = new Opened();
  let building: Promise<TestWorld> | undefined;
  // At the file's end, a world nobody closed: one still building (its hook timed out) is stopped
  // and waited for, one built after its hook gave up, or never closed by its test, is closed.
  const forget = closeAtFileEnd('a test world', async () => {
    await opened.giveUp();
    await building?.catch(() => undefined);
    await opened.closeAll();
  });
  try {
    building = startWorld(opts, opened, async () => {
      forget();
      await opened.closeAll();
    });
    return await building;
  } catch (e) {
    forget();
    await opened.closeAll().catch(() => undefined);
    throw e;
  }
}

async function startWorld(opts: TestWorldOptions, opened: Opened, close: () => Promise<void>): Promise<TestWorld> {
  const dir = tempDir('world');
  opened.keep(() => fs.rmSync(dir, { recursive: true, force: true }));
  const systems = opts.demoSystems === false ? [] : DEMO_SYSTEMS;
  const open = async (name: string) => {
    const d = await freshDatabase(name);
    opened.keep(() => d.drop());
    return d;
  };
  const dbs = {
    oneid: await open('oneid'),
    crm: await open('crm'),
    orders: await open('orders'),
    support: await open('support'),
    scrm: await open('scrm'),
  };
  const truthFile = path.join(dir, 'truth.csv');
  await generateWorld({
    people: opts.people ?? 300,
    seed: opts.seed ?? 7,
    connections: { crm: dbs.crm.connection, orders: dbs.orders.connection, support: dbs.support.connection, scrm: dbs.scrm.connection },
    // The demo systems keep their own SQLite stores whatever the test engine: they are other companies' systems.
    systems: systems.map((system) => ({ system, connection: { client: 'sqlite' as const, filename: path.join(dir, `${system.store}.sqlite`) } })),
    truthFile,
  });
  const token = 'test-support-token';
  const appSecret = 'test-scrm-secret';
  const support = await startSupportServer({ db: dbs.support.db, port: 0, token });
  opened.keep(() => support.close());
  const scrm = await startScrmServer({ db: dbs.scrm.db, port: 0, appId: 'wxtest', appSecret });
  opened.keep(() => scrm.close());
  const standIns: Record<string, StandIn> = {};
  for (const system of systems) {
    const standIn = await system.serve({ dbFile: path.join(dir, `${system.store}.sqlite`), port: 0 });
    opened.keep(() => standIn.close());
    standIns[system.name] = standIn;
  }
  const raw: any = {
    server: { host: '127.0.0.1', port: 0, sandbox: false, readinessTimeoutMs: GENEROUS_DEADLINE_MS },
    oneid: { connection: dbs.oneid.connection, timeoutMs: GENEROUS_DEADLINE_MS, writeTimeoutMs: GENEROUS_DEADLINE_MS },
    sources: [
      { name: 'crm', kind: 'crm', connection: dbs.crm.connection, webhookSecret: WEBHOOK_SECRET },
      { name: 'orders', kind: 'shop', connection: dbs.orders.connection, webhookSecret: WEBHOOK_SECRET },
      { name: 'support', kind: 'helpdesk', baseUrl: support.url, token, webhookSecret: WEBHOOK_SECRET },
      { name: 'scrm', kind: 'wechat', baseUrl: scrm.url, appId: 'wxtest', appSecret, webhookSecret: WEBHOOK_SECRET },
      ...systems.map((system) => ({ name: system.name, kind: system.kind, ...system.sourceOptions(standIns[system.name].url), webhookSecret: WEBHOOK_SECRET })),
    ],
    identity: { rulesFile: path.resolve(__dirname, '../../config/identity-rules.json'), resolveOnStart: true },
    auth: {
      apiKeys: TEST_ROLES.map((role) => ({
        name: `test-${role}`,
        role,
        sha256: hashApiKey(apiKeyFor(role)),
        ...(role === 'sales' ? { teams: ['team_north'] } : {}),
      })),
    },
    access: { policyFile: path.resolve(__dirname, '../../config/access.json'), hashKey: 'test-mask-key-0123456789' },
    log: { level: 'silent' },
  };
  // Deadlines a loaded CI machine cannot miss; a fault test sets its own short ones in configPatch.
  for (const source of raw.sources) source.timeoutMs = GENEROUS_DEADLINE_MS;
  if (opts.extraRoles) raw.access.policyFile = withExtraRoles(raw, opts.extraRoles, dir);
  opts.configPatch?.(raw);
  const config = parseConfig(raw, 'test world config');
  const calls = new CallRecorder();
  const gw = await createGateway(config, { observer: calls, log: opts.log ?? createLogger('silent'), spanExporter: opts.spanExporter });
  opened.keep(() => gw.close());
  await runResolution(gw);

  // Record OneID reads at the reader's boundary: same store, each batch call noted.
  const idmapCalls: TestWorld['idmapCalls'] = [];
  const store = gw.idmap as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const method of ONEID_READS) {
    const original = store[method].bind(store);
    store[method] = (keys: unknown, ...rest: unknown[]) => {
      idmapCalls.push({ method, keys: Array.isArray(keys) ? keys.length : 1 });
      return original(keys, ...rest);
    };
  }
  opened.check();
  const server = await startServer(gw, { port: 0, hooks: opts.hooks });
  // The tests' fetch (undici) keeps connections alive and gives one up 2 s before the server's hint
  // (5 s), on a timer of 1 s resolution: on a loaded machine a request sent after a wait of 4-5 s
  // could go out on a connection the server was closing as idle (ECONNRESET, once in bi-resources
  // at load 31). At 65 s the server outlasts every wait between two requests of a test.
  server.server.keepAliveTimeout = 65_000;
  opened.keep(() => server.close());
  const reset = () => {
    calls.reset();
    idmapCalls.length = 0;
  };
  reset();
  return {
    url: server.url,
    gw,
    config,
    server,
    support,
    scrm,
    standIns,
    systemStores: Object.fromEntries(systems.map((system) => [system.name, path.join(dir, `${system.store}.sqlite`)])),
    calls,
    idmapCalls,
    truthFile,
    dbs,
    reset,
    async query(query, variables, headers = {}) {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin'), ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      return { status: res.status, body };
    },
    close,
  };
}

/** Calls grouped by source and operation since the last reset, with the keys they carried. */
export function callsByOperation(w: TestWorld) {
  const groups = new Map<string, { calls: number; keys: number; source: SourceName }>();
  for (const c of w.calls.calls) {
    const k = `${c.source}.${c.operation}`;
    const g = groups.get(k) ?? { calls: 0, keys: 0, source: c.source };
    g.calls += 1;
    g.keys += c.batchSize;
    groups.set(k, g);
  }
  return groups;
}

/** A SCRM follower row (the stand-in's table) whose bound phone is `e164`, written as WeChat shows a Chinese mobile. */
export function scrmFollowerRow(openid: string, e164: string, nickname: string) {
  const national = e164.slice(3);
  const now = Math.floor(Date.now() / 1000);
  return {
    openid,
    unionid: null,
    nickname,
    sex: 0,
    city: null,
    province: null,
    country: null,
    subscribe: 1,
    subscribe_time: now,
    unsubscribe_time: null,
    tagid_list: '',
    bound_phone: `${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`,
    member_no: null,
    updated_at: now,
  };
}

/** Reads the generator's ground truth: person id → its source records. */
export function readTruth(file: string): Map<string, Array<{ source: string; recordId: string }>> {
  const people = new Map<string, Array<{ source: string; recordId: string }>>();
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  for (const line of lines.slice(1)) {
    const [source, recordId, personId] = line.split(',');
    if (!people.has(personId)) people.set(personId, []);
    people.get(personId)!.push({ source, recordId });
  }
  return people;
}
