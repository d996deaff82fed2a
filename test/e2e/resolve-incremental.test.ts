/**
 * Incremental resolution over the whole demo world (the four systems, the marketplace and
 * WeCom, each behind its real connector): a re-run right after a resolution reads nothing from
 * any source, and a record changed in any source is read by the next run and only it.
 */
import knex, { type Knex } from 'knex';
import { startTestWorld, type TestWorld } from '../helpers/world';
import { runResolution } from '../../src/resolution';
import type { SourceName } from '../../src/vocabulary';
import { captureLog } from '../helpers/log-capture';

let world: TestWorld;
const captured = captureLog('info');
let stores: Record<'marketplace' | 'wecom', Knex>;

beforeAll(async () => {
  world = await startTestWorld({ people: 200, seed: 5, log: captured.log });
  const open = (filename: string) => knex({ client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true });
  stores = { marketplace: open(world.systemStores.marketplace), wecom: open(world.systemStores.wecom) };
});

afterAll(async () => {
  for (const s of Object.values(stores ?? {})) await s.destroy();
  await world?.close();
});

const SOURCES: SourceName[] = ['crm', 'orders', 'support', 'scrm', 'marketplace', 'wecom'];

/** A new phone per source, as each system writes it, and as OneID stores it (E.164). */
const phone = (n: number) => ({ national: `1770000${String(1000 + n)}`, e164: `+861770000${String(1000 + n)}` });

let lastStamp = 0;

/** Changes one record of each source (a new phone, and the time the system stamps a change with); answers its record id by source. */
async function changeOneRecordEach(round: number): Promise<Record<string, string>> {
  const p = (source: SourceName) => phone(round * 10 + SOURCES.indexOf(source));
  // The feeds keep time to the second and page on (time, key): a record changed again within the
  // second the last run ended at would wait for its next change (docs/sources.md), so a new second.
  while (Math.floor(Date.now() / 1000) <= lastStamp) await new Promise((r) => setTimeout(r, 50));
  const nowMs = Date.now();
  lastStamp = Math.floor(nowMs / 1000);
  const shanghai = new Date(nowMs + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
  const changed: Record<string, string> = {};

  const crm = world.dbs.crm.db;
  const contact = await crm('crm_contacts').orderBy('contact_id').first('contact_id');
  await crm('crm_contacts')
    .where('contact_id', contact.contact_id)
    .update({ mobile: p('crm').national, updated_at: shanghai });
  changed.crm = contact.contact_id;

  const orders = world.dbs.orders.db;
  const account = await orders('shop_accounts').orderBy('account_id').first('account_id');
  await orders('shop_accounts')
    .where('account_id', account.account_id)
    .update({ mobile: `86${p('orders').national}`, updated_at: nowMs });
  changed.orders = String(account.account_id);

  const support = world.dbs.support.db;
  const user = await support('support_users').orderBy('id').first('id');
  await support('support_users')
    .where('id', user.id)
    .update({ phone: p('support').national, updated_at: new Date(nowMs).toISOString().slice(0, 19) + 'Z' });
  changed.support = String(user.id);

  const scrm = world.dbs.scrm.db;
  const follower = await scrm('scrm_followers').orderBy('openid').first('openid');
  await scrm('scrm_followers')
    .where('openid', follower.openid)
    .update({ bound_phone: p('scrm').national, updated_at: Math.floor(nowMs / 1000) });
  changed.scrm = follower.openid;

  // TOP hands over a buyer's mobile only for members of the shop.
  const buyer = await stores.marketplace('tb_buyers').whereNotNull('join_time').orderBy('buyer_open_uid').first('buyer_open_uid');
  await stores
    .marketplace('tb_buyers')
    .where('buyer_open_uid', buyer.buyer_open_uid)
    .update({ mobile: p('marketplace').national, modified: nowMs });
  changed.marketplace = buyer.buyer_open_uid;

  // WeCom stamps no change: a staff member notes a mobile on a contact only they follow.
  const follow = await stores
    .wecom('wecom_follows')
    .groupBy('external_userid')
    .havingRaw('count(*) = 1')
    .orderBy('external_userid')
    .first('external_userid', stores.wecom.raw('min(userid) as userid'));
  await stores
    .wecom('wecom_follows')
    .where({ external_userid: follow.external_userid, userid: follow.userid })
    .update({ remark_mobiles: JSON.stringify([p('wecom').national]) });
  changed.wecom = follow.external_userid;
  return changed;
}

/** The current identifiers OneID holds for a record. */
async function currentPhones(source: SourceName, recordId: string): Promise<string[]> {
  const rows = await world.dbs.oneid.db('idmap_record_identifiers').where({ source, record_id: recordId, kind: 'PHONE' }).whereNull('valid_to').select('value');
  return rows.map((r) => r.value);
}

describe('incremental resolution over every demo source', () => {
  it('reads nothing from any source on a re-run of an unchanged world, and writes nothing', async () => {
    const stats = await runResolution(world.gw);
    expect(stats.recordsReadBySource).toEqual(Object.fromEntries(SOURCES.map((s) => [s, 0])));
    expect(stats).toMatchObject({ recordsRead: 0, recordsNew: 0, recordsChanged: 0, recordsLinked: 0, batches: 0 });
  });

  it.each([1, 2])('reads a record changed in each source on the next run (round %i), then nothing again', async (round) => {
    const changed = await changeOneRecordEach(round);
    const stats = await runResolution(world.gw);
    for (const source of SOURCES) {
      expect([source, stats.recordsReadBySource[source]! >= 1]).toEqual([source, true]);
      expect([source, await currentPhones(source, changed[source])]).toEqual([source, [phone(round * 10 + SOURCES.indexOf(source)).e164]]);
    }
    // What else was read is what shares the changed record's second (SQL and HTTP feeds) or its listing bucket (WeCom).
    expect(stats.recordsChanged).toBe(SOURCES.length);
    const again = await runResolution(world.gw);
    expect(again.recordsReadBySource).toEqual(Object.fromEntries(SOURCES.map((s) => [s, 0])));
  });
});

describe('incremental resolution: a record a source answers but cannot be read', () => {
  it('is left out, counted by source in c360_source_malformed_records_total and said in a warning without the record', async () => {
    const metric = async () => {
      const text = await (await fetch(`${world.url}/metrics`)).text();
      return Number(/^c360_source_malformed_records_total\{source="crm"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const counted = await metric();
    const logged = captured.lines.length;
    // A last-update time that is no time, though it sorts after the scan's cursor (the CRM keeps fixed-width text): read, unreadable.
    const contact = await world.dbs.crm.db('crm_contacts').orderBy('contact_id', 'desc').first('contact_id');
    await world.dbs.crm.db('crm_contacts').where('contact_id', contact.contact_id).update({ updated_at: '2099-13-45 99:99:99' });
    const stats = await runResolution(world.gw);
    expect(stats.recordsMalformedBySource).toEqual({ crm: 1 });
    expect(stats.recordsReadBySource.crm).toBe(0);
    expect(await metric()).toBe(counted + 1);
    const warning = captured.lines
      .slice(logged)
      .map((l) => JSON.parse(l))
      .find((l) => l.level === 40);
    expect(warning).toMatchObject({ source: 'crm', records: 1 });
    expect(JSON.stringify(warning)).not.toContain(contact.contact_id);
  });
});
