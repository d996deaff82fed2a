/**
 * What BI lists and exports cost, and that they stop: a client that goes away mid-export or
 * mid-list stops the work done for it (no source call or OneID read is made after it left, its
 * place in its principal's caps is freed), a walk never reuses a plan that failed, and the
 * concurrent exports of one principal are capped before any work (a coded 429), the cap freed
 * again when a client vanishes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startTestWorld, type TestWorld } from '../helpers/world';
import { hashApiKey } from '../../src/access';
import { tempDir } from '../helpers/tmp';

let world: TestWorld;
let dir: string;
/** An admin allowed one request in flight: its place is free again only once the request has let go. */
const SERIAL_KEY = 'test-resources-serial-key';

beforeAll(async () => {
  dir = tempDir('bi-resources');
  const policy = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../config/access.json'), 'utf8'));
  policy.roles.serial_admin = { extends: 'admin', description: 'admin, one request in flight', limits: { maxConcurrent: 1 } };
  const policyFile = path.join(dir, 'access.json');
  fs.writeFileSync(policyFile, JSON.stringify(policy));
  world = await startTestWorld({
    people: 500,
    seed: 43,
    configPatch: (raw) => {
      raw.access.policyFile = policyFile;
      raw.auth.apiKeys.push({ name: 'test-resources-serial', role: 'serial_admin', sha256: hashApiKey(SERIAL_KEY) });
    },
  });
}, 240_000);
afterAll(async () => {
  await world?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A filter the helpdesk answers by reading every record it holds (no search API): the plan waits on it. */
const OPEN_TICKETS = { openTickets: { min: 1 } };

describe('a walk whose first page failed', () => {
  it('does not reuse the failed plan: a later page is filtered (not every customer), or fails itself', async () => {
    const PAGE = 'query($f: CustomerFilter, $after: String) { customersConnection(first: 5, filter: $f, after: $after) { totalCount edges { node { id } } } }';
    const ANY_FIRST = '{ customersConnection(first: 1) { edges { cursor } } }';
    const cursor = (await world.query(ANY_FIRST)).body.data.customersConnection.edges[0].cursor;
    const filter = { and: [OPEN_TICKETS, { hasPhone: true }] };
    world.support.setFaults({ failRate: 1 });
    try {
      const failed = await world.query(PAGE, { f: filter });
      expect(failed.body.errors?.[0]?.extensions?.code).toMatch(/^SOURCE_/);
    } finally {
      world.support.setFaults({});
    }
    // The helpdesk back: the walk's next page answers for the filter, as a first page planned now does.
    const later = await world.query(PAGE, { f: filter, after: cursor });
    const fresh = (await world.query(PAGE, { f: filter })).body.data.customersConnection;
    const everyone = (await world.query('{ customersConnection(first: 1) { totalCount } }')).body.data.customersConnection.totalCount;
    expect(fresh.totalCount).toBeLessThan(everyone);
    expect(later.body.data.customersConnection.totalCount).toBe(fresh.totalCount);
  });
});
