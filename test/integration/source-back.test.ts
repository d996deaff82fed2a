/**
 * A source whose database is down when the gateway starts, for real: a `sql-table` instance on a
 * MariaDB server of this test's own (test/helpers/private-mariadb.ts), stopped before the gateway
 * starts and started again while it serves. The start-up check leaves it unchecked (a warning);
 * once the database answers, the gateway uses it without a restart, checks it then, and /readyz
 * says what it found: `ok`, or `SOURCE_MISCONFIGURED` for a table that no longer fits the mapping,
 * whose problems the log names by config key. A table changed under a gateway that had checked it
 * is found the same way, by the check its first SOURCE_BAD_RESPONSE starts.
 */
import http from 'node:http';
import mysql from 'mysql2/promise';
import { createGateway, type Gateway } from '../../src/gateway';
import type { Config } from '../../src/config';
import { runResolution } from '../../src/resolution';
import { startServer, type RunningServer } from '../../src/server';
import { parseSources } from '../../src/sources/registry';
import { captureLog } from '../helpers/log-capture';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb';
import { apiKeyFor, startTestWorld, type TestWorld } from '../helpers/world';

const DB = 'legacy_crm';

let world: TestWorld;
let maria: PrivateMariadb;
let oneid: TestDatabase;
let config: Config;
let running: { gw: Gateway; server: RunningServer } | undefined;

async function sql(statement: string) {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: Number(new URL(maria.url).port), user: 'root', multipleStatements: true });
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  maria = await startPrivateMariadb();
  await sql(
    `CREATE DATABASE ${DB}; USE ${DB};
     CREATE TABLE people (id VARCHAR(16) PRIMARY KEY, full_name VARCHAR(64), email VARCHAR(128), updated_at DATETIME);
     INSERT INTO people VALUES ('P1', 'Jane Doe', 'janedoe@example.com', '2024-01-01 00:00:00'), ('P2', 'Li Ming', 'li.ming@example.com', '2024-01-02 00:00:00');`,
  );
  world = await startTestWorld({ people: 40, seed: 7, demoSystems: false });
  const parsed = parseSources(
    [
      {
        name: 'legacy',
        kind: 'sql-table',
        connection: { client: 'mysql', url: `${maria.url}${DB}` },
        timeoutMs: 2000,
        profile: { table: 'people', key: 'id', updatedAt: 'updated_at', fields: { name: { column: 'full_name' }, email: { column: 'email' } } },
        identifiers: [{ kind: 'EMAIL', column: 'email' }],
      },
    ],
    (p) => p,
  );
  expect(parsed.errors).toEqual([]);
  oneid = await freshDatabase('oneid_source_back');
  config = { ...world.config, oneid: { connection: oneid.connection }, sources: [...world.config.sources, parsed.sources[0]] };
  // Its records linked while the database answers, as a `c360 resolve` before the outage would have.
  const gw = await createGateway(config, { log: captureLog('silent').log });
  try {
    await runResolution(gw);
  } finally {
    await gw.close();
  }
});

afterEach(async () => {
  await running?.server.close();
  await running?.gw.close();
  running = undefined;
});

afterAll(async () => {
  await maria?.close();
  await oneid?.drop();
  await world?.close();
});

/** The gateway started (checked at start if the legacy database answers, as every test leaves it), serving on 127.0.0.1; its log captured. */
async function startWhileUp() {
  const { log, lines } = captureLog('info');
  const gw = await createGateway(config, { log });
  running = { gw, server: await startServer(gw, { port: 0 }) };
  return { url: running.server.url, lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The gateway started while the legacy database is stopped, serving on 127.0.0.1; its log captured. */
async function startWhileDown() {
  await maria.stop();
  return startWhileUp();
}

/** /readyz names the legacy source misconfigured, and the log says why once: the mapped column `full_name` renamed. */
async function expectRenamedColumnNamed(gw: Awaited<ReturnType<typeof startWhileUp>>) {
  const ready = await get(gw.url, '/readyz');
  expect([ready.status, ready.body.checks.legacy]).toEqual([200, 'SOURCE_MISCONFIGURED']);
  const found = gw.lines().filter((l) => l.code === 'SOURCE_MISCONFIGURED');
  expect(found).toHaveLength(1);
  expect(found[0]).toMatchObject({ level: 50, source: 'legacy' });
  expect(found[0].problems).toEqual([expect.stringMatching(/^sources\[legacy\]\.profile\.fields\.name\.column: column "full_name" does not exist in table people/)]);
}

function get(url: string, path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    http
      .get(new URL(path, url), (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

async function janesRecords(url: string) {
  const res = await fetch(new URL('/graphql', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin') },
    body: JSON.stringify({ query: '{ customerByIdentifier(kind: EMAIL, value: "janedoe@example.com") { tableRecords { source id } } }' }),
  });
  return (await res.json()) as any;
}

describe('Sources: a database down at start and started again', () => {
  it('is served unchecked, then used without a restart once it answers, checked then, and /readyz says ok', async () => {
    const gw = await startWhileDown();
    expect(gw.lines().find((l) => l.source === 'legacy')).toMatchObject({ level: 40, code: 'SOURCE_UNAVAILABLE' });
    expect((await get(gw.url, '/readyz')).body.checks.legacy).toBe('SOURCE_UNAVAILABLE');
    const down = await janesRecords(gw.url);
    expect(down.data.customerByIdentifier).toEqual({ tableRecords: null });
    expect(down.errors.map((e: any) => [e.extensions.code, e.extensions.source])).toEqual([['SOURCE_UNAVAILABLE', 'legacy']]);

    await maria.start();
    const ready = await get(gw.url, '/readyz');
    expect([ready.status, ready.body.checks.legacy]).toEqual([200, 'ok']);
    expect(running!.gw.sourceChecks.pending()).toEqual([]);
    expect(gw.lines().filter((l) => l.source === 'legacy' && l.level === 30)).toEqual([
      expect.objectContaining({ msg: 'sources[legacy]: checked now that its system answers; it fits the config' }),
    ]);
    const back = await janesRecords(gw.url);
    expect(back.errors).toBeUndefined();
    expect(back.data.customerByIdentifier.tableRecords).toEqual([{ source: 'LEGACY', id: 'P1' }]);
  });

  it('names a table that came back no longer fitting the mapping: /readyz SOURCE_MISCONFIGURED, each problem logged by its config key', async () => {
    const gw = await startWhileDown();
    await maria.start();
    // Changed while the gateway could not see it: the mapped column renamed.
    await sql(`ALTER TABLE ${DB}.people CHANGE full_name display_name VARCHAR(64)`);
    try {
      await expectRenamedColumnNamed(gw);
      // A second probe reports the same without checking again (one check per interval).
      expect((await get(gw.url, '/readyz')).body.checks.legacy).toBe('SOURCE_MISCONFIGURED');
      expect(gw.lines().filter((l) => l.code === 'SOURCE_MISCONFIGURED')).toHaveLength(1);
    } finally {
      await sql(`ALTER TABLE ${DB}.people CHANGE display_name full_name VARCHAR(64)`);
    }
  });

  it('names a table changed under a running gateway that had checked it: the first bad answer checks it again, /readyz SOURCE_MISCONFIGURED, said once', async () => {
    const gw = await startWhileUp();
    expect((await get(gw.url, '/readyz')).body.checks.legacy).toBe('ok');
    expect(running!.gw.sourceChecks.pending()).toEqual([]);
    await sql(`ALTER TABLE ${DB}.people CHANGE full_name display_name VARCHAR(64)`);
    try {
      const drifted = await janesRecords(gw.url);
      expect(drifted.errors.map((e: any) => [e.extensions.code, e.extensions.source])).toEqual([['SOURCE_BAD_RESPONSE', 'legacy']]);
      await expectRenamedColumnNamed(gw);
      // More bad answers within the interval check nothing again.
      for (let i = 0; i < 3; i++) expect((await janesRecords(gw.url)).errors[0].extensions.code).toBe('SOURCE_BAD_RESPONSE');
      expect(gw.lines().filter((l) => l.code === 'SOURCE_MISCONFIGURED')).toHaveLength(1);
    } finally {
      await sql(`ALTER TABLE ${DB}.people CHANGE display_name full_name VARCHAR(64)`);
    }
  });
});
