/**
 * A Salesforce org beside the test world's systems, through the whole gateway: its Contacts are
 * resolved into the CRM's customers by their emails (an incremental pass picking up what the org
 * gained), and a list of customers reads the org once per level for their Contacts and once for
 * their timelines.
 */
import { startSalesforceServer, type SalesforceContactRow, type SalesforceServer, type SalesforceTaskRow } from '../../demo/salesforce-server';
import { runResolution } from '../../src/resolution';
import { salesforceId } from '../../src/sources/salesforce/soql';
import { callsByOperation, startTestWorld, type TestWorld } from '../helpers/world';

const CLIENT_ID = '3MVG9e2e.client';
const CLIENT_SECRET = 'e2e-client-secret';
const sfid = (n: number, prefix = '003') => salesforceId(`${prefix}E2e0000${String(n).padStart(5, '0')}`)!;

let world: TestWorld;
let org: SalesforceServer;
const contacts: SalesforceContactRow[] = [];
const tasks: SalesforceTaskRow[] = [];
/** CRM contact id → the Salesforce Contact carrying its email. */
const pairs: Array<{ crm: string; sf: string }> = [];

beforeAll(async () => {
  org = await startSalesforceServer({ contacts, tasks, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, pageSize: 3 });
  world = await startTestWorld({
    people: 120,
    seed: 43,
    demoSystems: false,
    configPatch: (raw) => {
      raw.sources.push({
        name: 'salesforce',
        kind: 'salesforce',
        baseUrl: org.url,
        auth: { flow: 'client_credentials', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
        timeoutMs: 5000,
      });
    },
  });
  // The org's Contacts arrive after the first resolution: the next pass reads them. Each carries
  // the email of one CRM contact that no other has (the world's noise writes placeholders such
  // as test@test.com, which link no one).
  const all: Array<{ contact_id: string; email: string | null }> = await world.dbs.crm.db('crm_contacts').select('contact_id', 'email').orderBy('contact_id');
  const uses = new Map<string, number>();
  for (const r of all) if (r.email) uses.set(r.email.trim().toLowerCase(), (uses.get(r.email.trim().toLowerCase()) ?? 0) + 1);
  const rows = all
    .filter(
      (r): r is { contact_id: string; email: string } =>
        !!r.email && /^[a-z][a-z0-9._-]*@[a-z0-9-]+\.[a-z.]+$/.test(r.email) && !/^test@/.test(r.email) && uses.get(r.email) === 1,
    )
    .slice(0, 6);
  rows.forEach((r, i) => {
    const id = sfid(i + 1);
    pairs.push({ crm: r.contact_id, sf: id });
    const at = `2025-01-0${i + 1}T09:00:00.000Z`;
    contacts.push({
      Id: id,
      Name: null,
      Email: ` ${r.email.toUpperCase()} `,
      Phone: null,
      MobilePhone: null,
      Birthdate: null,
      CreatedDate: at,
      LastModifiedDate: at,
      SystemModstamp: at,
      IsDeleted: false,
    });
    tasks.push({ Id: sfid(i + 1, '00T'), WhoId: id, Subject: `Call ${i + 1}`, Status: 'Completed', CreatedDate: `2025-02-0${i + 1}T10:00:00.000Z` });
  });
  await runResolution(world.gw);
});

afterAll(async () => {
  await world?.close();
  await org?.close();
});

describe('salesforce through the gateway', () => {
  it('links each Contact to the CRM customer with its email', async () => {
    expect(pairs).toHaveLength(6);
    for (const p of pairs) {
      const { body } = await world.query(`query($id: String!) { customerBySourceRecord(source: SALESFORCE, recordId: $id) { sourceRecords { source recordId } } }`, {
        id: p.sf,
      });
      expect(body.errors).toBeUndefined();
      const records = body.data.customerBySourceRecord.sourceRecords.map((r: { source: string; recordId: string }) => `${r.source}:${r.recordId}`);
      expect(records).toEqual(expect.arrayContaining([`SALESFORCE:${p.sf}`, `CRM:${p.crm}`]));
    }
  });

  it('reads every customer’s Contacts in one call and their timelines in one more', async () => {
    const ids: string[] = [];
    for (const p of pairs) {
      const { body } = await world.query(`query($id: String!) { customerBySourceRecord(source: SALESFORCE, recordId: $id) { id } }`, { id: p.sf });
      ids.push(body.data.customerBySourceRecord.id);
    }
    world.reset();
    const { body } = await world.query(
      `query($ids: [ID!]!) { customers(ids: $ids) { salesforceContacts { id source createdAt }
         timeline(first: 5, kinds: [SALESFORCE_TASK_LOGGED, SALESFORCE_CONTACT_CREATED]) { edges { node { kind title } } } } }`,
      { ids },
    );
    expect(body.errors).toBeUndefined();
    const calls = callsByOperation(world);
    expect(calls.get('salesforce.contactsByIds')).toEqual({ calls: 1, keys: 6, source: 'salesforce' });
    expect(calls.get('salesforce.eventsByRecordIds')).toEqual({ calls: 1, keys: 6, source: 'salesforce' });
    const first = body.data.customers[0];
    expect(first.salesforceContacts).toEqual([{ id: pairs[0].sf, source: 'SALESFORCE', createdAt: '2025-01-01T09:00:00.000Z' }]);
    expect(first.timeline.edges.map((e: { node: { kind: string; title: string | null } }) => [e.node.kind, e.node.title])).toEqual([
      ['SALESFORCE_TASK_LOGGED', 'Call 1'],
      ['SALESFORCE_CONTACT_CREATED', null],
    ]);
  });
});
