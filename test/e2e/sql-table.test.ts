/**
 * The declarative SQL source end to end: the demo CRM's own table served through a mapping in
 * config (kind `sql-table`) instead of the hand-written CRM connector gives the same Customers:
 * the same records linked together, the same golden fields. A wrong mapping stops start-up with
 * a message naming the config key.
 */
import { createGateway, type Gateway } from '../../src/gateway';
import { ConfigError, type Config } from '../../src/config';
import { parseSources } from '../../src/sources/registry';
import { startServer, type RunningServer } from '../../src/server';
import { runResolution } from '../../src/resolution';
import { createLogger } from '../../src/observability/logger';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { apiKeyFor, startTestWorld, type TestWorld } from '../helpers/world';

const LOCAL_SHANGHAI = { type: 'time', format: 'local', zone: 'Asia/Shanghai' };

/** The demo CRM table as a company would map it: columns, conversions, identifiers. */
function crmMapping(world: TestWorld, over: (m: any) => void = () => {}) {
  const m: any = {
    name: 'crm',
    kind: 'sql-table',
    connection: world.dbs.crm.connection,
    profile: {
      table: 'crm_contacts',
      key: 'contact_id',
      updatedAt: { column: 'updated_at', convert: LOCAL_SHANGHAI },
      createdAt: { column: 'created_at', convert: LOCAL_SHANGHAI },
      fields: {
        name: { column: 'name' },
        phone: { column: 'mobile', convert: { type: 'phone', region: 'CN' } },
        email: { column: 'email' },
        gender: { column: 'gender', convert: { type: 'gender', codes: { M: 'MALE', F: 'FEMALE', 男: 'MALE', 女: 'FEMALE' } } },
        birthday: { column: 'birthday' },
        city: { column: 'city' },
        province: { column: 'province' },
        memberTier: { column: 'tier' },
        registeredAt: { column: 'created_at', convert: LOCAL_SHANGHAI },
        'marketingConsent.sms': { column: 'sms_opt_in' },
        'marketingConsent.email': { column: 'email_opt_in' },
      },
    },
    identifiers: [
      { kind: 'PHONE', column: 'mobile' },
      { kind: 'EMAIL', column: 'email' },
      { kind: 'MEMBER_NO', column: 'member_no' },
    ],
  };
  over(m);
  const parsed = parseSources([m], (p) => p);
  expect(parsed.errors).toEqual([]);
  return parsed.sources[0];
}

/** The test world's config with the CRM served through `crm` and a fresh OneID store. */
function configWith(world: TestWorld, crm: Config['sources'][number], oneid: TestDatabase): Config {
  return { ...world.config, oneid: { connection: oneid.connection }, sources: world.config.sources.map((s) => (s.name === 'crm' ? crm : s)) };
}

const GOLDEN = 'name phone email gender birthday city province memberTier registeredAt registrationChannel marketingConsent { sms email wechat }';

let world: TestWorld;
let mapped: { gw: Gateway; server: RunningServer; oneid: TestDatabase };

beforeAll(async () => {
  world = await startTestWorld({ people: 400, seed: 19, demoSystems: false });
  const oneid = await freshDatabase('oneid_mapped');
  const gw = await createGateway(configWith(world, crmMapping(world), oneid), { log: createLogger('silent') });
  await runResolution(gw);
  mapped = { gw, server: await startServer(gw, { port: 0 }), oneid };
});

afterAll(async () => {
  await mapped?.server.close();
  await mapped?.gw.close();
  await mapped?.oneid.drop();
  await world?.close();
});

async function ask(url: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin') },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as any;
}

describe('Declarative SQL source: the demo CRM through a mapping', () => {
  it('is served by the sql-table kind under the same instance name', () => {
    expect(mapped.gw.registry.get('crm')!.kind.kind).toBe('sql-table');
    expect(world.gw.registry.get('crm')!.kind.kind).toBe('crm');
  });

  it('answers every CRM contact’s customer with the same linked records and golden fields as the hand-written connector', async () => {
    const contacts: Array<{ contact_id: string }> = await world.dbs.crm.db('crm_contacts').select('contact_id').orderBy('contact_id');
    expect(contacts.length).toBeGreaterThan(100);
    const query = `query($id: String!) { customerBySourceRecord(source: CRM, recordId: $id) { sourceRecords { source recordId } ${GOLDEN} } }`;
    const key = (c: any) => c && { ...c, sourceRecords: [...c.sourceRecords].sort((a: any, b: any) => (`${a.source}:${a.recordId}` < `${b.source}:${b.recordId}` ? -1 : 1)) };
    let compared = 0;
    for (const { contact_id } of contacts) {
      const [hand, decl] = await Promise.all([ask(world.url, query, { id: contact_id }), ask(mapped.server.url, query, { id: contact_id })]);
      expect(decl.errors).toBeUndefined();
      expect(hand.errors).toBeUndefined();
      expect({ contact_id, customer: key(decl.data.customerBySourceRecord) }).toEqual({ contact_id, customer: key(hand.data.customerBySourceRecord) });
      compared++;
    }
    expect(compared).toBe(contacts.length);
  });

  it('stops start-up on a column the table lacks, naming the config key', async () => {
    const oneid = await freshDatabase('oneid_wrong');
    try {
      const wrong = crmMapping(world, (m) => (m.profile.fields.phone.column = 'mobil'));
      const failure = await createGateway(configWith(world, wrong, oneid), { log: createLogger('silent') }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toContain('sources[crm].profile.fields.phone.column');
      expect((failure as Error).message).toContain('mobil');
    } finally {
      await oneid.drop();
    }
  });
});
