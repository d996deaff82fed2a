/**
 * Webhooks: a source notifies a change, OneID re-resolves that record at once, without a scan.
 */
import { startTestWorld, WEBHOOK_SECRET, type TestWorld } from '../helpers/world';
import { signWebhook, WEBHOOK_LEASE_WAIT_MS } from '../../src/webhooks';
import { normalizePhone } from '../../src/canonical';

let world: TestWorld;
let crmCustomerId: string;
let phone: string;
const NEW_OPENID = 'oWebhookNewFollower000000001';

beforeAll(async () => {
  world = await startTestWorld({ people: 200, seed: 21 });
  // A CRM customer whose phone belongs to them alone.
  const contacts = await world.dbs.crm.db('crm_contacts').select('contact_id', 'mobile').orderBy('contact_id');
  for (const c of contacts) {
    const e164 = normalizePhone(c.mobile);
    if (!e164 || e164 === '+8613800000000') continue;
    const { body } = await world.query(`query($v: String!) { customersByIdentifier(kind: PHONE, value: $v) { id } }`, { v: e164 });
    if (body.data?.customersByIdentifier?.length === 1) {
      crmCustomerId = body.data.customersByIdentifier[0].id;
      phone = e164;
      break;
    }
  }
});

afterAll(async () => world?.close());

async function post(source: string, payload: unknown, signature?: string | null) {
  const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const sig = signature === undefined ? signWebhook(WEBHOOK_SECRET, raw) : signature;
  if (sig) headers['x-c360-signature'] = sig;
  const res = await fetch(`${world.url}/webhooks/${source}`, { method: 'POST', headers, body: raw });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function ownerOf(openid: string): Promise<string | null> {
  const { body } = await world.query(`query($r: String!) { customerBySourceRecord(source: SCRM, recordId: $r) { id } }`, { r: openid });
  return body.data.customerBySourceRecord?.id ?? null;
}

async function eventCount(): Promise<number> {
  const row = await world.dbs.oneid.db('idmap_link_events').count({ n: '*' }).first();
  return Number(row!.n);
}

describe('Webhooks: real-time re-resolution', () => {
  beforeAll(async () => {
    expect(crmCustomerId).toBeDefined();
    const national = phone.slice(3);
    await world.dbs.scrm.db('scrm_followers').insert({
      openid: NEW_OPENID,
      unionid: null,
      nickname: 'webhook',
      sex: 0,
      city: null,
      province: null,
      country: null,
      subscribe: 1,
      subscribe_time: Math.floor(Date.now() / 1000),
      unsubscribe_time: null,
      tagid_list: '',
      bound_phone: `${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`,
      member_no: null,
      updated_at: Math.floor(Date.now() / 1000),
    });
  });

  it('refuses an unsigned or wrongly signed notification with 401 and changes nothing', async () => {
    const before = await eventCount();
    const event = { events: [{ type: 'created', recordId: NEW_OPENID }] };
    expect((await post('scrm', event, null)).status).toBe(401);
    expect((await post('scrm', event, signWebhook('some-other-secret-0000', JSON.stringify(event)))).status).toBe(401);
    expect((await post('scrm', event, 'sha256=zz')).status).toBe(401);
    expect(await ownerOf(NEW_OPENID)).toBeNull();
    expect(await eventCount()).toBe(before);
  });

  it('answers a malformed body with 400 and a message naming the problem', async () => {
    const bad = await post('scrm', '{"events": [ {"type": "renamed", "recordId": "x"} ]}');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BAD_REQUEST');
    expect(bad.body.error.message).toContain('events.0.type');
    expect((await post('scrm', '{not json')).status).toBe(400);
    expect((await post('scrm', { events: Array.from({ length: 101 }, (_, i) => ({ type: 'updated', recordId: `o${i}` })) })).status).toBe(400);
    expect(await ownerOf(NEW_OPENID)).toBeNull();
  });

  it('has no webhook for an unknown source', async () => {
    expect((await post('erp', { events: [{ type: 'created', recordId: '1' }] })).status).toBe(404);
  });

  it('links a new follower with a bound phone to the existing CRM customer', async () => {
    const { status, body } = await post('scrm', { events: [{ type: 'created', recordId: NEW_OPENID }] });
    expect(status).toBe(200);
    expect(body.applied).toBe(1);
    expect(await ownerOf(NEW_OPENID)).toBe(crmCustomerId);
    const byOpenid = await world.query(`query($v: String!) { customerByIdentifier(kind: OPENID, value: $v) { id } }`, { v: NEW_OPENID });
    expect(byOpenid.body.data.customerByIdentifier).toEqual({ id: crmCustomerId });
  });

  it('writes nothing when the same notification comes again', async () => {
    const before = await eventCount();
    expect((await post('scrm', { events: [{ type: 'updated', recordId: NEW_OPENID }] })).status).toBe(200);
    expect(await eventCount()).toBe(before);
  });

  it('answers 503 when the source cannot be read back, so the sender retries', async () => {
    world.scrm.setFaults({ status: 503 });
    try {
      const r = await post('scrm', { events: [{ type: 'updated', recordId: NEW_OPENID }] });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('SOURCE_UNAVAILABLE');
    } finally {
      world.scrm.setFaults({});
    }
  });

  describe('while another process (a `c360 resolve` job) holds the OneID store', () => {
    const holdLease = (ms: number) =>
      world.dbs.oneid
        .db('idmap_locks')
        .insert({ name: 'resolution', holder: 'cron-host:77:job', expires_at: Date.now() + ms })
        .onConflict('name')
        .merge();
    afterEach(async () => {
      await world.dbs.oneid.db('idmap_locks').where({ name: 'resolution' }).update({ holder: '', expires_at: 0 });
    });

    it('waits for a run that ends soon, then applies the notification', async () => {
      await holdLease(500);
      const r = await post('scrm', { events: [{ type: 'updated', recordId: NEW_OPENID }] });
      expect(r.status).toBe(200);
      expect(await ownerOf(NEW_OPENID)).toBe(crmCustomerId);
    });

    it(
      'answers 503 RESOLUTION_BUSY with Retry-After, changing nothing, when the run outlasts its wait',
      async () => {
        await holdLease(60_000);
        const before = await eventCount();
        const r = await post('scrm', { events: [{ type: 'updated', recordId: NEW_OPENID }] });
        expect(r.status).toBe(503);
        expect(r.body.error.code).toBe('RESOLUTION_BUSY');
        expect(r.headers.get('retry-after')).toBe('30');
        expect(await eventCount()).toBe(before);
      },
      WEBHOOK_LEASE_WAIT_MS + 10_000,
    );
  });

  it('unlinks a follower the source no longer has', async () => {
    await world.dbs.scrm.db('scrm_followers').where({ openid: NEW_OPENID }).delete();
    expect((await post('scrm', { events: [{ type: 'deleted', recordId: NEW_OPENID }] })).status).toBe(200);
    expect(await ownerOf(NEW_OPENID)).toBeNull();
  });
});
