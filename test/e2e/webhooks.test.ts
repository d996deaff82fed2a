/**
 * Webhooks: a source notifies a change, OneID re-resolves that record at once, without a scan.
 * Signatures carry a timestamp, event ids make a second delivery a no-op, and an oversize body
 * is answered 413 rather than reset.
 */
import crypto from 'node:crypto';
import { scrmFollowerRow, startTestWorld, WEBHOOK_SECRET, type TestWorld } from '../helpers/world';
import { MAX_WEBHOOK_EVENTS, signWebhook, WEBHOOK_LEASE_WAIT_MS, WEBHOOK_MAX_BODY_BYTES, WEBHOOK_TOLERANCE_SECONDS } from '../../src/webhooks';
import { appliedEventIds, claimEvents, markEventsApplied, pruneWebhookEvents } from '../../src/idmap/webhook-events';
import { normalizePhone } from '../../src/canonical';
import { captureLog } from '../helpers/log-capture';

let world: TestWorld;
let crmCustomerId: string;
let crmContactId: string;
let phone: string;
const NEW_OPENID = 'oWebhookNewFollower000000001';
const REPLAY_OPENID = 'oWebhookReplayedFollower0001';

let lastEventId = 0;
/** A notification body of one event, with an id never used before (unless given). */
const captured = captureLog('info');
const note = (type: 'created' | 'updated' | 'deleted', recordId: string, id = `evt-${++lastEventId}`) => ({ events: [{ id, type, recordId }] });
const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  world = await startTestWorld({ people: 200, seed: 21, log: captured.log });
  // A CRM customer whose phone belongs to them alone.
  const contacts = await world.dbs.crm.db('crm_contacts').select('contact_id', 'mobile').orderBy('contact_id');
  for (const c of contacts) {
    const e164 = normalizePhone(c.mobile);
    if (!e164 || e164 === '+8613800000000') continue;
    const { body } = await world.query(`query($v: String!) { customersByIdentifier(kind: PHONE, value: $v) { id } }`, { v: e164 });
    if (body.data?.customersByIdentifier?.length === 1) {
      crmCustomerId = body.data.customersByIdentifier[0].id;
      crmContactId = c.contact_id;
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

/** The hex v1 value of a signature header. */
const v1Of = (header: string) => /v1=([0-9a-f]+)/.exec(header)![1];

async function ownerOf(openid: string): Promise<string | null> {
  const { body } = await world.query(`query($r: String!) { customerBySourceRecord(source: SCRM, recordId: $r) { id } }`, { r: openid });
  return body.data.customerBySourceRecord?.id ?? null;
}

async function eventCount(): Promise<number> {
  const row = await world.dbs.oneid.db('idmap_link_events').count({ n: '*' }).first();
  return Number(row!.n);
}

/** A SCRM follower whose bound phone is the CRM customer's. */
const follower = (openid: string) => scrmFollowerRow(openid, phone, 'webhook');

describe('Webhooks: real-time re-resolution', () => {
  beforeAll(async () => {
    expect(crmCustomerId).toBeDefined();
    await world.dbs.scrm.db('scrm_followers').insert(follower(NEW_OPENID));
  });

  it('refuses an unsigned or wrongly signed notification with 401 and changes nothing', async () => {
    const before = await eventCount();
    const event = note('created', NEW_OPENID);
    const raw = JSON.stringify(event);
    expect((await post('scrm', event, null)).status).toBe(401);
    expect((await post('scrm', event, signWebhook('some-other-secret-0000', raw))).status).toBe(401);
    expect((await post('scrm', event, 'sha256=zz')).status).toBe(401);
    expect((await post('scrm', event, `t=${nowSeconds()}`)).status).toBe(401);
    expect((await post('scrm', event, `v1=${v1Of(signWebhook(WEBHOOK_SECRET, raw))}`)).status).toBe(401);
    expect(await ownerOf(NEW_OPENID)).toBeNull();
    expect(await eventCount()).toBe(before);
  });

  it('refuses the old sha256= form, even with the right HMAC, and says why', async () => {
    const event = note('created', NEW_OPENID);
    const raw = JSON.stringify(event);
    const legacy = `sha256=${crypto.createHmac('sha256', WEBHOOK_SECRET).update(raw).digest('hex')}`;
    const r = await post('scrm', event, legacy);
    expect(r.status).toBe(401);
    expect(r.body.error).toEqual({ code: 'UNAUTHENTICATED', message: expect.stringContaining('sha256= signature form is no longer accepted') });
    expect(await ownerOf(NEW_OPENID)).toBeNull();
  });

  it('refuses a genuine signature whose timestamp is outside the tolerance, either way', async () => {
    const before = await eventCount();
    const event = note('created', NEW_OPENID);
    const raw = JSON.stringify(event);
    for (const t of [nowSeconds() - 600, nowSeconds() + 600]) {
      const r = await post('scrm', event, signWebhook(WEBHOOK_SECRET, raw, t));
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHENTICATED');
      expect(r.body.error.message).toContain(`outside the tolerance of ${WEBHOOK_TOLERANCE_SECONDS} s`);
    }
    expect(await ownerOf(NEW_OPENID)).toBeNull();
    expect(await eventCount()).toBe(before);
  });

  it('refuses a v1 computed over another timestamp than the one sent', async () => {
    const event = note('created', NEW_OPENID);
    const raw = JSON.stringify(event);
    const t = nowSeconds();
    const r = await post('scrm', event, `t=${t},v1=${v1Of(signWebhook(WEBHOOK_SECRET, raw, t - 1))}`);
    expect(r.status).toBe(401);
    expect(r.body.error.message).toContain('does not match');
    expect(await ownerOf(NEW_OPENID)).toBeNull();
  });

  it('answers a malformed body with 400 and a message naming the problem', async () => {
    const bad = await post('scrm', '{"events": [ {"id": "e-bad", "type": "renamed", "recordId": "x"} ]}');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BAD_REQUEST');
    expect(bad.body.error.message).toContain('events.0.type');
    expect((await post('scrm', '{not json')).status).toBe(400);
    expect((await post('scrm', { events: Array.from({ length: 101 }, (_, i) => ({ id: `e${i}`, type: 'updated', recordId: `o${i}` })) })).status).toBe(400);
    expect(await ownerOf(NEW_OPENID)).toBeNull();
  });

  it('answers 400 for an event without an id, or with one over 128 characters', async () => {
    const noId = await post('scrm', { events: [{ type: 'created', recordId: NEW_OPENID }] });
    expect(noId.status).toBe(400);
    expect(noId.body.error.message).toContain('events.0.id');
    expect((await post('scrm', note('created', NEW_OPENID, ''))).status).toBe(400);
    expect((await post('scrm', note('created', NEW_OPENID, 'x'.repeat(129)))).status).toBe(400);
    expect(await ownerOf(NEW_OPENID)).toBeNull();
  });

  it('refuses a body that is not UTF-8 with 400 and applies nothing: two ids differing in such bytes are two events, not one and a duplicate', async () => {
    const latin1 = (id: string) =>
      Buffer.concat([Buffer.from('{"events":[{"id":"enc-'), Buffer.from(id, 'latin1'), Buffer.from(`","type":"updated","recordId":"${NEW_OPENID}"}]}`)]);
    const postBytes = async (raw: Buffer) => {
      const res = await fetch(`${world.url}/webhooks/scrm`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-c360-signature': signWebhook(WEBHOOK_SECRET, raw) },
        body: raw,
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const before = await eventCount();
    for (const id of ['caf\xe9', 'caf\xe8']) {
      const r = await postBytes(latin1(id));
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('not UTF-8') });
    }
    expect(await appliedEventIds(world.dbs.oneid.db, 'scrm', ['enc-caf\ufffd', 'enc-café', 'enc-cafè'])).toEqual(new Set());
    expect(await eventCount()).toBe(before);
    expect(await ownerOf(NEW_OPENID)).toBeNull();
    // The same ids sent in UTF-8 are two events.
    const utf8 = await postBytes(
      Buffer.from(
        JSON.stringify({
          events: [
            { id: 'enc-café', type: 'updated', recordId: 'oNoSuchFollower' },
            { id: 'enc-cafè', type: 'updated', recordId: 'oNoSuchFollower' },
          ],
        }),
      ),
    );
    expect(utf8).toMatchObject({ status: 200, body: { applied: 2, duplicates: 0 } });
  });

  it('answers a 2 MB body with 413 PAYLOAD_TOO_LARGE, delivered as a response, and applies nothing', async () => {
    const before = await eventCount();
    const raw = JSON.stringify({ ...note('created', NEW_OPENID), padding: 'x'.repeat(2 * 1024 * 1024) });
    const res = await fetch(`${world.url}/webhooks/scrm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-c360-signature': signWebhook(WEBHOOK_SECRET, raw) },
      body: raw,
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    const body = (await res.json()) as any;
    expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await ownerOf(NEW_OPENID)).toBeNull();
    expect(await eventCount()).toBe(before);
    // The gateway serves the next request as usual.
    expect((await fetch(`${world.url}/healthz`)).status).toBe(200);
  });

  it('refuses a body past WEBHOOK_MAX_BODY_BYTES (64 KiB) with 413 before its signature is checked, and takes the largest valid notification', async () => {
    const before = await eventCount();
    // Valid JSON, validly signed, padded with whitespace past the limit: refused unread, not parsed and applied.
    const raw = JSON.stringify(note('created', NEW_OPENID)) + ' '.repeat(100 * 1024);
    const res = await fetch(`${world.url}/webhooks/scrm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-c360-signature': signWebhook(WEBHOOK_SECRET, raw) },
      body: raw,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0]).toEqual({ message: `request body exceeds ${WEBHOOK_MAX_BODY_BYTES} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(await ownerOf(NEW_OPENID)).toBeNull();
    expect(await eventCount()).toBe(before);
    // MAX_WEBHOOK_EVENTS events with ids and record ids of the longest allowed length fit well within it.
    const long = (i: number) => `${i}`.padStart(128, 'x');
    const largest = { events: Array.from({ length: MAX_WEBHOOK_EVENTS }, (_, i) => ({ id: `evt-large-${long(i)}`.slice(0, 128), type: 'updated', recordId: long(i) })) };
    expect(JSON.stringify(largest).length).toBeLessThan(WEBHOOK_MAX_BODY_BYTES / 2);
    expect((await post('scrm', largest)).status).toBe(200);
  });

  it('has no webhook for an unknown source', async () => {
    expect((await post('erp', note('created', '1'))).status).toBe(404);
  });

  it('links a new follower with a bound phone to the existing CRM customer', async () => {
    const { status, body } = await post('scrm', note('created', NEW_OPENID));
    expect(status).toBe(200);
    expect(body).toMatchObject({ applied: 1, duplicates: 0 });
    expect(await ownerOf(NEW_OPENID)).toBe(crmCustomerId);
    const byOpenid = await world.query(`query($v: String!) { customerByIdentifier(kind: OPENID, value: $v) { id } }`, { v: NEW_OPENID });
    expect(byOpenid.body.data.customerByIdentifier).toEqual({ id: crmCustomerId });
  });

  it('writes nothing when a new notification reports no change', async () => {
    const before = await eventCount();
    expect((await post('scrm', note('updated', NEW_OPENID))).status).toBe(200);
    expect(await eventCount()).toBe(before);
  });

  it('accepts a signature with one v1 per secret during a rotation, if any one matches', async () => {
    const t = nowSeconds();
    const v1 = (secret: string, raw: string) => v1Of(signWebhook(secret, raw, t));
    for (const order of ['retired first', 'current first']) {
      const raw = JSON.stringify(note('updated', NEW_OPENID));
      const both = [v1('the-retired-secret-000000', raw), v1(WEBHOOK_SECRET, raw)];
      if (order === 'current first') both.reverse();
      const r = await post('scrm', raw, `t=${t},v1=${both[0]},v1=${both[1]}`);
      expect(r.status).toBe(200);
      expect(r.body.applied).toBe(1);
    }
    const raw = JSON.stringify(note('updated', NEW_OPENID));
    const none = await post('scrm', raw, `t=${t},v1=${v1('the-retired-secret-000000', raw)},v1=${v1('another-wrong-secret-0000', raw)}`);
    expect(none.status).toBe(401);
  });

  it('skips a malformed v1 entry and accepts the header when another v1 matches', async () => {
    const t = nowSeconds();
    for (const bad of ['deadbeef', 'z'.repeat(64), '']) {
      for (const badFirst of [true, false]) {
        const raw = JSON.stringify(note('updated', NEW_OPENID));
        const good = v1Of(signWebhook(WEBHOOK_SECRET, raw, t));
        const r = await post('scrm', raw, badFirst ? `t=${t},v1=${bad},v1=${good}` : `t=${t},v1=${good},v1=${bad}`);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ applied: 1, duplicates: 0 });
      }
      // Malformed entries alone are no signature.
      const raw = JSON.stringify(note('updated', NEW_OPENID));
      expect((await post('scrm', raw, `t=${t},v1=${bad}`)).status).toBe(401);
    }
  });

  it('applies a replayed delivery once: the same signed body again is 200 with duplicates and changes nothing', async () => {
    await world.dbs.scrm.db('scrm_followers').insert(follower(REPLAY_OPENID));
    const raw = JSON.stringify(note('created', REPLAY_OPENID));
    const signature = signWebhook(WEBHOOK_SECRET, raw);

    const first = await post('scrm', raw, signature);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ applied: 1, duplicates: 0 });
    const owner = await ownerOf(REPLAY_OPENID);
    expect(owner).not.toBeNull();

    // Were a replay applied, it would now unlink the follower the source no longer has.
    await world.dbs.scrm.db('scrm_followers').where({ openid: REPLAY_OPENID }).delete();
    const before = await eventCount();
    world.reset();
    for (let i = 0; i < 2; i++) {
      const again = await post('scrm', raw, signature);
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ applied: 0, duplicates: 1, customersCreated: 0, recordsLinked: 0 });
    }
    expect(world.calls.of('scrm')).toEqual([]);
    expect(await eventCount()).toBe(before);
    expect(await ownerOf(REPLAY_OPENID)).toBe(owner);

    // A new event about the same record is applied.
    expect((await post('scrm', note('deleted', REPLAY_OPENID))).body).toMatchObject({ applied: 1, duplicates: 0 });
    expect(await ownerOf(REPLAY_OPENID)).toBeNull();
  });

  it('applies one event delivered five times at once exactly once: the others are told to come back, or that it is a duplicate', async () => {
    const openid = 'oWebhookConcurrentDelivery01';
    await world.dbs.scrm.db('scrm_followers').insert(follower(openid));
    const raw = JSON.stringify(note('created', openid));
    const signature = signWebhook(WEBHOOK_SECRET, raw);
    world.reset();
    const answers = await Promise.all(Array.from({ length: 5 }, () => post('scrm', raw, signature)));
    const applied = answers.filter((a) => a.status === 200 && a.body.applied === 1);
    expect(applied).toHaveLength(1);
    // Arrived while it was being applied: 409 EVENT_IN_PROGRESS with Retry-After; after: a duplicate.
    for (const a of answers.filter((x) => x !== applied[0]))
      expect(a.status === 409 ? { status: 409, code: a.body.error.code } : { status: a.status, body: a.body }).toEqual(
        a.status === 409 ? { status: 409, code: 'EVENT_IN_PROGRESS' } : { status: 200, body: { applied: 0, duplicates: 1, customersCreated: 0, recordsLinked: 0 } },
      );
    // The source was read back once, for the one delivery applied; every retry now is a duplicate.
    expect(world.calls.of('scrm')).toHaveLength(1);
    expect(await ownerOf(openid)).not.toBeNull();
    expect((await post('scrm', raw, signature)).body).toMatchObject({ applied: 0, duplicates: 1 });
  });

  it('tells a retry that arrives while the first delivery is still applying to come back, and applies it once that one failed', async () => {
    const openid = 'oWebhookRetryWhileApplying01';
    await world.dbs.scrm.db('scrm_followers').insert(follower(openid));
    const raw = JSON.stringify(note('created', openid));
    const signature = signWebhook(WEBHOOK_SECRET, raw);
    // The first delivery's read-back waits, then fails: the sender has given up on it and retries meanwhile.
    world.scrm.setFaults({ latencyMs: 1500, status: 503 });
    try {
      const before = world.scrm.requestCount();
      const first = post('scrm', raw, signature);
      for (let i = 0; i < 3000 && world.scrm.requestCount() === before; i++) await new Promise((r) => setTimeout(r, 10));
      const retry = await post('scrm', raw, signature);
      expect(retry.status).toBe(409);
      expect(retry.headers.get('retry-after')).toBe('5');
      expect(retry.body.error.code).toBe('EVENT_IN_PROGRESS');
      expect((await first).status).toBe(503);
    } finally {
      world.scrm.setFaults({});
    }
    // The first gave its claim back: the next retry applies the event.
    const later = await post('scrm', raw, signature);
    expect(later.body).toMatchObject({ applied: 1, duplicates: 0 });
    expect(await ownerOf(openid)).not.toBeNull();
  });

  it('applies two notifications of one record in the order it was read: an answer that arrives late never rolls the record back', async () => {
    const openid = 'oWebhookLateReadBack00000001';
    await world.dbs.scrm.db('scrm_followers').insert(follower(openid));
    expect((await post('scrm', note('created', openid))).status).toBe(200);
    expect(await ownerOf(openid)).not.toBeNull();
    // The first notification's read-back is answered with the follower as it is now, but arrives late.
    world.scrm.setFaults({ holdAnswers: 1, paths: ['/scrm/v1/profiles/batchget'] });
    try {
      const first = post('scrm', note('updated', openid));
      for (let i = 0; i < 3000 && world.scrm.heldAnswers() === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(world.scrm.heldAnswers()).toBe(1);
      // Meanwhile the follower is gone from the system, which notifies that too.
      await world.dbs.scrm.db('scrm_followers').where({ openid }).delete();
      const second = post('scrm', note('deleted', openid));
      // Left to run before the late answer arrives (read and applied at once, if nothing orders them), then the answer goes out.
      await Promise.race([second, new Promise((r) => setTimeout(r, 3000))]);
      world.scrm.setFaults({});
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
    } finally {
      world.scrm.setFaults({});
    }
    // The record as the system holds it last: gone, not brought back by the older answer.
    expect(await ownerOf(openid)).toBeNull();
  });

  it('counts ids already applied, and ids repeated in one body, as duplicates and applies the rest', async () => {
    const earlier = note('updated', NEW_OPENID);
    expect((await post('scrm', earlier)).status).toBe(200);
    const known = earlier.events[0].id;
    const r = await post('scrm', {
      events: [
        { id: known, type: 'created', recordId: NEW_OPENID },
        { id: 'mixed-new', type: 'updated', recordId: NEW_OPENID },
        { id: 'mixed-new', type: 'updated', recordId: NEW_OPENID },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ applied: 1, duplicates: 2 });
    expect([...(await appliedEventIds(world.dbs.oneid.db, 'scrm', [known, 'mixed-new', 'never-sent']))].sort()).toEqual([known, 'mixed-new'].sort());
  });

  it('answers 503 when the source cannot be read back, records nothing, and applies the retry of the same event', async () => {
    const event = note('updated', NEW_OPENID);
    world.scrm.setFaults({ status: 503 });
    let failedId: string | null;
    try {
      const r = await post('scrm', event);
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('SOURCE_UNAVAILABLE');
      failedId = r.headers.get('x-request-id');
    } finally {
      world.scrm.setFaults({});
    }
    expect((await appliedEventIds(world.dbs.oneid.db, 'scrm', [event.events[0].id])).size).toBe(0);
    const retry = await post('scrm', event);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ applied: 1, duplicates: 0 });
    // Each delivery's line carries the request id its sender was answered with: the failure, and why, then the retry.
    const lineOf = (requestId: string | null) => captured.lines.map((l) => JSON.parse(l)).filter((l) => l.requestId === requestId);
    expect(lineOf(failedId!)).toEqual([
      expect.objectContaining({ level: 40, source: 'scrm', code: 'SOURCE_UNAVAILABLE', msg: 'webhook not applied: the source could not be read back' }),
    ]);
    expect(lineOf(retry.headers.get('x-request-id'))).toEqual([expect.objectContaining({ level: 30, source: 'scrm', events: 1, msg: 'webhook applied' })]);
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
      const r = await post('scrm', note('updated', NEW_OPENID));
      expect(r.status).toBe(200);
      expect(await ownerOf(NEW_OPENID)).toBe(crmCustomerId);
    });

    it(
      'answers 503 RESOLUTION_BUSY with Retry-After, changing nothing, when the run outlasts its wait',
      async () => {
        await holdLease(60_000);
        const before = await eventCount();
        const event = note('updated', NEW_OPENID);
        const r = await post('scrm', event);
        expect(r.status).toBe(503);
        expect(r.body.error.code).toBe('RESOLUTION_BUSY');
        expect(r.headers.get('retry-after')).toBe('30');
        expect(await eventCount()).toBe(before);
        expect((await appliedEventIds(world.dbs.oneid.db, 'scrm', [event.events[0].id])).size).toBe(0);
      },
      WEBHOOK_LEASE_WAIT_MS + 10_000,
    );
  });

  it('leaves a record the source has but cannot be read as OneID holds it, never taken for deleted; answers and counts it as malformed', async () => {
    const metric = async () => {
      const text = await (await fetch(`${world.url}/metrics`)).text();
      return Number(/^c360_source_malformed_records_total\{source="crm"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const row = await world.dbs.crm.db('crm_contacts').where({ contact_id: crmContactId }).first('updated_at');
    const owner = async () =>
      (await world.query(`query($r: String!) { customerBySourceRecord(source: CRM, recordId: $r) { id } }`, { r: crmContactId })).body.data.customerBySourceRecord?.id;
    expect(await owner()).toBe(crmCustomerId);
    const counted = await metric();
    const logged = captured.lines.length;
    // The CRM writes a last-update time that is no time: the contact is there, its record unreadable.
    await world.dbs.crm.db('crm_contacts').where({ contact_id: crmContactId }).update({ updated_at: 'not a time' });
    try {
      const { status, body } = await post('crm', note('updated', crmContactId));
      expect(status).toBe(200);
      expect(await owner()).toBe(crmCustomerId);
      expect(body).toMatchObject({ applied: 1, malformed: 1 });
      expect(await metric()).toBe(counted + 1);
      const line = captured.lines
        .slice(logged)
        .map((l) => JSON.parse(l))
        .find((l) => l.malformed !== undefined);
      expect(line).toMatchObject({ level: 40, source: 'crm', malformed: 1 });
      // Counts only: neither the record's id nor anything of the person.
      expect(JSON.stringify(line)).not.toContain(crmContactId);
      expect(JSON.stringify(line)).not.toContain(phone.slice(3));
    } finally {
      await world.dbs.crm.db('crm_contacts').where({ contact_id: crmContactId }).update({ updated_at: row.updated_at });
    }
  });

  it('unlinks a follower the source no longer has', async () => {
    await world.dbs.scrm.db('scrm_followers').where({ openid: NEW_OPENID }).delete();
    expect((await post('scrm', note('deleted', NEW_OPENID))).status).toBe(200);
    expect(await ownerOf(NEW_OPENID)).toBeNull();
  });
});

describe('Webhooks: applied event ids', () => {
  const db = () => world.dbs.oneid.db;
  const day = 24 * 60 * 60 * 1000;
  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

  // Pruning spans every source: each test uses its own source name and cutoffs that leave the others' rows alone.
  /** Claims and marks applied at `at`, as a delivery that succeeded does. */
  const applied = async (source: string, ids: string[], at: string) => {
    await claimEvents(db(), source, ids, at);
    await markEventsApplied(db(), source, ids, at);
  };
  const sorted = (ids: Set<string>) => [...ids].sort();

  it('prunes ids older than the cutoff, oldest first and at most about max per call, keeping newer ones', async () => {
    await applied('prune_test', ['old-1'], ago(10 * day));
    await applied('prune_test', ['old-2'], ago(9 * day));
    await applied('prune_test', ['old-3'], ago(8 * day));
    await applied('prune_test', ['recent'], ago(day));
    const all = ['old-1', 'old-2', 'old-3', 'recent'];
    expect(await pruneWebhookEvents(db(), ago(7 * day), 2)).toBe(2);
    expect(sorted(await appliedEventIds(db(), 'prune_test', all))).toEqual(['old-3', 'recent']);
    expect(await pruneWebhookEvents(db(), ago(7 * day), 2)).toBe(1);
    expect(await pruneWebhookEvents(db(), ago(7 * day), 2)).toBe(0);
    expect([...(await appliedEventIds(db(), 'prune_test', all))]).toEqual(['recent']);
  });

  it('claims an id once: a second claim finds it being applied until it is marked applied, then a duplicate', async () => {
    expect(await claimEvents(db(), 'race_test', ['e1'], ago(2 * day))).toEqual({ claimed: new Set(['e1']), applied: new Set(), inProgress: new Set() });
    expect(await claimEvents(db(), 'race_test', ['e1', 'e2', 'e2'])).toEqual({ claimed: new Set(['e2']), applied: new Set(), inProgress: new Set(['e1']) });
    await markEventsApplied(db(), 'race_test', ['e1']);
    expect(await claimEvents(db(), 'race_test', ['e2', 'e1'])).toEqual({ claimed: new Set(), applied: new Set(['e1']), inProgress: new Set(['e2']) });
    expect(await pruneWebhookEvents(db(), ago(1.5 * day))).toBe(1);
    expect(sorted(await appliedEventIds(db(), 'race_test', ['e1', 'e2']))).toEqual([]);
  });

  it('takes over a claim never applied once it is stale, and only one of two deliveries racing for it does', async () => {
    await claimEvents(db(), 'stale_test', ['s1'], ago(10 * 60_000));
    // Not stale yet by a cutoff older than the claim: still being applied.
    expect(sorted((await claimEvents(db(), 'stale_test', ['s1'], ago(0), ago(20 * 60_000))).inProgress)).toEqual(['s1']);
    const [a, b] = await Promise.all([claimEvents(db(), 'stale_test', ['s1'], ago(0), ago(5 * 60_000)), claimEvents(db(), 'stale_test', ['s1'], ago(0), ago(5 * 60_000))]);
    expect([a.claimed.size, b.claimed.size].sort()).toEqual([0, 1]);
    expect([a.inProgress.size, b.inProgress.size].sort()).toEqual([0, 1]);
  });
});
