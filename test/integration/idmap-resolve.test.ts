import path from 'node:path';
import { freshDatabase, indexColumns, itOn, queriesDuring, testEngine, type TestDatabase } from '../helpers/db';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/db';
import { tempDir } from '../helpers/tmp';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve, resolveRecords, type IdMapStore } from '../../src/idmap';
import { parseIdentityRules } from '../../src/idmap/rules';
import { pendCarriers } from '../../src/idmap/writes';
import type { SourceName } from '../../src/vocabulary';
import { FakeSource, rec } from '../helpers/feeds';

const RULES_FILE = path.resolve(__dirname, '../../config/identity-rules.json');
const rules = loadIdentityRules(RULES_FILE);

const TABLES = ['idmap_customers', 'idmap_source_records', 'idmap_record_identifiers', 'idmap_link_events', 'idmap_scan_cursors', 'idmap_review_candidates'];

describe(`Identity resolution (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  const owners = async (...keys: string[]) =>
    store.customerIdsBySourceRecords(
      keys.map((k) => {
        const [source, recordId] = k.split(':');
        return { source: source as SourceName, recordId };
      }),
    );
  const events = (where: Record<string, unknown> = {}) => t.db('idmap_link_events').where(where).orderBy('id').select('*');
  const candidates = () => t.db('idmap_review_candidates').orderBy('id').select('*');
  /** Statements that write, sent while `run` runs. */
  async function writesDuring(run: () => Promise<unknown>): Promise<string[]> {
    const { queries } = await queriesDuring(t.db, run);
    return queries.map((q) => q.sql).filter((sql) => /^\s*(insert|update|delete|replace)/i.test(sql));
  }

  beforeEach(async () => {
    t = await freshDatabase('idmap_resolve');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
  });
  afterEach(async () => {
    await t.drop();
  });

  it('links records sharing a unionid, member number or phone into one customer, each link with its event', async () => {
    const crm = new FakeSource('crm', [
      rec('crm', 'C1', { phone: '138-0013-8000', email: 'Wang.Fang@QQ.com', member: 'M10000001' }, { name: '王芳', birthday: '1985-04-02' }),
    ]);
    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '8613800138000' })]);
    const support = new FakeSource('support', [rec('support', '77', { email: 'wang.fang@qq.com' }, { name: '王芳' })]);
    const scrm = new FakeSource('scrm', [
      rec('scrm', 'oA', { openid: 'oAaaaaaa', unionid: 'uWANGFANG1', member: 'M10000001' }),
      rec('scrm', 'oB', { openid: 'oBbbbbbb', unionid: 'uWANGFANG1' }),
    ]);
    const stats = await resolve({ store, connectors: [crm, orders, support, scrm], rules });

    const ids = await owners('crm:C1', 'orders:501', 'support:77', 'scrm:oA', 'scrm:oB');
    expect(new Set(ids).size).toBe(1);
    expect(stats).toMatchObject({ recordsNew: 5, customersCreated: 1, recordsLinked: 4, customersMerged: 0 });
    const log = (await events()).map((e) => [e.action, e.actor, `${e.source}:${e.record_id}`]);
    expect(log).toEqual([
      ['create', 'rule:new-record', 'crm:C1'],
      ['link', 'rule:phone', 'orders:501'],
      ['link', 'rule:email', 'support:77'],
      ['link', 'rule:unionid', 'scrm:oA'],
      ['link', 'rule:unionid', 'scrm:oB'],
    ]);
    const phoneLink = (await events({ action: 'link', source: 'orders' }))[0];
    expect(phoneLink.reason).toBe('shares a PHONE with crm:C1');
    expect(JSON.parse(phoneLink.evidence)).toEqual({ kind: 'PHONE', value: '+8613800138000', with: ['crm:C1'], assumedRegion: 'CN' });
  });

  it('keeps source names as long as config allows (32 characters) whole, also two alike in their first 16', async () => {
    const a = 'shop_tmall_outlet_store_east_001' as SourceName;
    const b = 'shop_tmall_outlet_store_west_002' as SourceName;
    expect([a.length, b.length, a.slice(0, 16) === b.slice(0, 16)]).toEqual([32, 32, true]);
    await resolve({
      store,
      connectors: [new FakeSource(a, [rec(a, '1', { phone: '13800138000' })]), new FakeSource(b, [rec(b, '1', { phone: '+86 138 0013 8000' })])],
      rules,
    });
    const [ca, cb] = await owners(`${a}:1`, `${b}:1`);
    expect(ca).not.toBeNull();
    expect(cb).toBe(ca);
    expect((await store.sourceRecordsByCustomerIds([ca!]))[0].map((r) => r.source)).toEqual([a, b]);
    expect((await events()).map((e) => e.source)).toEqual([a, b]);
    expect((await t.db('idmap_scan_cursors').orderBy('source').select('source')).map((r) => r.source)).toEqual([a, b]);
    expect(new Set((await t.db('idmap_record_identifiers').select('source')).map((r) => r.source))).toEqual(new Set([a, b]));
  });

  it('keeps apart two people sharing a household phone, and records a candidate instead', async () => {
    const crm = new FakeSource('crm', [
      rec('crm', 'C1', { phone: '13911112222', email: 'wang@qq.com', member: 'M10000001' }, { name: '王芳', birthday: '1985-04-02' }),
      rec('crm', 'C2', { phone: '139 1111 2222', email: 'li@163.com', member: 'M10000002' }, { name: '李强', birthday: '1983-11-20' }),
    ]);
    // The husband's follower only carries the phone and his unionid: it must not join either by the phone.
    const scrm = new FakeSource('scrm', [rec('scrm', 'oL', { openid: 'oLlllllll', unionid: 'uLIQIANG01', phone: '+86 139 1111 2222' })]);
    await resolve({ store, connectors: [scrm, crm], rules });

    const [wang, li, follower] = await owners('crm:C1', 'crm:C2', 'scrm:oL');
    expect(new Set([wang, li, follower]).size).toBe(3);
    expect(await store.customerIdsByIdentifiers([{ kind: 'PHONE', value: '+8613911112222' }])).toEqual([[wang, li, follower].sort()]);
    const [c] = await candidates();
    expect(c).toMatchObject({ reason: 'conflict', kind: 'PHONE', value: '+8613911112222', status: 'open' });
    expect([c.customer_id, c.other_customer_id].sort()).toEqual([wang, li].sort());
    expect(JSON.parse(c.evidence).differ).toEqual(['MEMBER_NO', 'birthday', 'name']);
    expect((await events({ action: 'candidate' })).map((e) => e.actor)).toEqual(['rule:phone']);
  });

  it('still links through the phone when two records of one system are the same person', async () => {
    const crm = new FakeSource('crm', [
      rec('crm', 'C1', { phone: '13911112222', member: 'M10000001' }, { name: '王芳', birthday: '1985-04-02' }),
      rec('crm', 'C1dup', { phone: '13911112222' }, { name: '王芳' }),
    ]);
    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '13911112222' })]);
    await resolve({ store, connectors: [crm, orders], rules });
    expect(new Set(await owners('crm:C1', 'crm:C1dup', 'orders:501')).size).toBe(1);
  });

  it('links through the phone two records of one system whose names agree in another script or as a homophone, by the rule itself', async () => {
    const crm = new FakeSource('crm', [
      // One person entered twice: in characters and in pinyin, or with a homophone typed for a character.
      rec('crm', 'C1', { phone: '13911112222' }, { name: '高静莉' }),
      rec('crm', 'C2', { phone: '13911112222' }, { name: 'Gao Jingli', birthday: '1987-12-10' }),
      rec('crm', 'C3', { phone: '13933334444' }, { name: '林艳悦', birthday: '1978-12-22' }),
      rec('crm', 'C4', { phone: '13933334444' }, { name: '林艳月' }),
    ]);
    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '13911112222' }), rec('orders', '502', { phone: '13933334444' })]);
    await resolve({ store, connectors: [crm, orders], rules });
    const [c1, c2, o1, c3, c4, o2] = await owners('crm:C1', 'crm:C2', 'orders:501', 'crm:C3', 'crm:C4', 'orders:502');
    expect(new Set([c1, c2, o1]).size).toBe(1);
    expect(new Set([c3, c4, o2]).size).toBe(1);
    expect(c3).not.toBe(c1);
    // Linked by the phone rule, not refused as a household and then mended by the probabilistic tier.
    expect(await candidates()).toEqual([]);
    expect(new Set((await events({ action: 'link' })).map((e) => e.actor))).toEqual(new Set(['rule:phone']));
  });

  it("links through the phone two records of one system when the customer one of them belongs to carries the other's name", async () => {
    // C1 holds no name, but its email is the helpdesk user's, who is 陈美玲; C2 is 陈美玲 on the same phone: one person's
    // two contacts, the name reached through a second identifier. C3/C4 are a household: the second contact's customer
    // carries no name at all, so nothing says whose the phone is.
    const crm = new FakeSource('crm', [
      rec('crm', 'C1', { phone: '13911112222', email: 'meiling@qq.com' }, { birthday: '1988-05-17' }),
      rec('crm', 'C2', { phone: '13911112222' }, { name: '陈美玲' }),
      rec('crm', 'C3', { phone: '13933334444', email: 'lihua@qq.com' }),
      rec('crm', 'C4', { phone: '13933334444' }),
    ]);
    const support = new FakeSource('support', [
      rec('support', '9', { email: 'meiling@qq.com' }, { name: '陈美玲' }),
      rec('support', '10', { email: 'lihua@qq.com' }, { name: '李华' }),
    ]);
    // The helpdesk first, so that C1's customer carries the name when the CRM's batch weighs the phone.
    await resolve({ store, connectors: [support, crm], rules });
    const [c1, c2, s9, c3, c4, s10] = await owners('crm:C1', 'crm:C2', 'support:9', 'crm:C3', 'crm:C4', 'support:10');
    expect(new Set([c1, c2, s9]).size).toBe(1);
    expect(c3).toBe(s10);
    expect(c4).not.toBe(c3);
    expect((await candidates()).map((c) => [c.value, JSON.parse(c.evidence).differ])).toEqual([['+8613933334444', ['same-source']]]);
  });

  it('links a Han name cut short to the whole name on one phone when an email of theirs spells the whole name', async () => {
    const crm = new FakeSource('crm', [
      // One person: the contact entered a second time with the last character left out; her email is her whole name.
      rec('crm', 'C1', { phone: '15244544971', member: 'M03108289' }, { name: '马艳丽' }),
      rec('crm', 'C2', { phone: '15244544971', email: 'mayanli3738@163.com' }, { name: '马艳', birthday: '1986-07-21' }),
      // Sisters: 王文 is not 王文思 cut short as far as anything shows: her email spells another name.
      rec('crm', 'C3', { phone: '13606516499' }, { name: '王文思' }),
      rec('crm', 'C4', { phone: '13606516499', email: 'wangwenjing@163.com' }, { name: '王文' }),
    ]);
    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '15244544971' }), rec('orders', '502', { phone: '13606516499' })]);
    await resolve({ store, connectors: [crm, orders], rules });
    const [c1, c2, o1, c3, c4, o2] = await owners('crm:C1', 'crm:C2', 'orders:501', 'crm:C3', 'crm:C4', 'orders:502');
    expect(new Set([c1, c2, o1]).size).toBe(1);
    expect(new Set([c3, c4, o2]).size).toBe(3);
    // The sisters' phone stays refused for their names (the probabilistic tier may propose the pair besides).
    expect((await candidates()).filter((c) => c.reason === 'conflict').map((c) => [c.value, JSON.parse(c.evidence).differ])).toEqual([['+8613606516499', ['name']]]);
  });

  it('does not link through a phone two records of one system share when their customers carry names of two people', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222', email: 'meiling@qq.com' }), rec('crm', 'C2', { phone: '13911112222' }, { name: '陈美玲' })]);
    const support = new FakeSource('support', [rec('support', '9', { email: 'meiling@qq.com' }, { name: '陈建国' })]);
    await resolve({ store, connectors: [support, crm], rules });
    const [c1, c2, s9] = await owners('crm:C1', 'crm:C2', 'support:9');
    expect(c1).toBe(s9);
    expect(c2).not.toBe(c1);
  });

  it('does not link through a phone two records of one system share with nothing else tying them', async () => {
    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '13911112222', email: 'a@qq.com' }), rec('orders', '502', { phone: '13911112222' })]);
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222', email: 'a@qq.com' }, { name: '王芳' })]);
    await resolve({ store, connectors: [crm, orders], rules });
    const [c1, o1, o2] = await owners('crm:C1', 'orders:501', 'orders:502');
    expect(o1).toBe(c1);
    expect(o2).not.toBe(c1);
    expect((await candidates()).map((c) => JSON.parse(c.evidence).differ)).toEqual([['same-source']]);
  });

  describe('a phone the household guard refuses (the rules alone, without the tier)', () => {
    const file = JSON.parse(fs.readFileSync(RULES_FILE, 'utf8'));
    delete file.probabilistic;
    const rulesOnly = parseIdentityRules(file);
    const shopAccounts = () => new FakeSource('orders', [rec('orders', '501', { phone: '13911112222' }), rec('orders', '502', { phone: '139 1111 2222' })]);

    it('joins the carriers whose names agree; the two shop accounts and a nameless follower stay apart', async () => {
      // Two shop accounts carry the phone and nothing else: a household's two people, or one person's two accounts.
      // Either way the contact and the helpdesk user, one name in two scripts, are one person.
      const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳', birthday: '1985-04-02' })]);
      const support = new FakeSource('support', [rec('support', '9', { phone: '+86 139-1111-2222' }, { name: 'Wang Fang' })]);
      const scrm = new FakeSource('scrm', [rec('scrm', 'oA', { openid: 'oAaaaaaa', phone: '13911112222' })]);
      await resolve({ store, connectors: [shopAccounts(), crm, support, scrm], rules: rulesOnly });
      const [o1, o2, c1, s9, oA] = await owners('orders:501', 'orders:502', 'crm:C1', 'support:9', 'scrm:oA');
      expect(s9).toBe(c1);
      expect(new Set([o1, o2, c1, oA]).size).toBe(4);
      const [link] = await events({ action: 'link', source: 'support' });
      expect(link).toMatchObject({ actor: 'rule:phone', reason: 'shares a PHONE with crm:C1' });
      // The guard's refusal stays on record, between the two shop accounts' customers.
      const refused = (await candidates()).map((c) => [JSON.parse(c.evidence).differ, [c.customer_id, c.other_customer_id].sort()]);
      expect(refused).toEqual([[['same-source'], [o1, o2].sort()]]);
    });

    it("joins a carrier without a name to the named holder when its own email spells the holder's name; the other shop account stays apart", async () => {
      // 王春蕾's contact; one shop account's address is her name, the other carries the phone alone.
      const crm = new FakeSource('crm', [
        rec('crm', 'C1', { phone: '13911112222' }, { name: '王春蕾' }),
        rec('crm', 'C2', { phone: '13933334444' }, { name: '吴燕艳' }),
        rec('crm', 'C3', { phone: '13955556666' }, { name: '王婷琴' }),
      ]);
      const orders = new FakeSource('orders', [
        rec('orders', '501', { phone: '13911112222', email: 'chunlei.wang49473@126.com' }),
        rec('orders', '502', { phone: '13911112222' }),
        // A household: the second account's address names someone else.
        rec('orders', '601', { phone: '13933334444', email: 'ZHANGWEIBO62086@163.COM' }),
        rec('orders', '602', { phone: '13933334444' }),
        // Initials spell no one: a family's often agree.
        rec('orders', '701', { phone: '13955556666', email: 'wangtq35477@163.com' }),
        rec('orders', '702', { phone: '13955556666' }),
      ]);
      await resolve({ store, connectors: [crm, orders], rules: rulesOnly });
      const [c1, o501, o502] = await owners('crm:C1', 'orders:501', 'orders:502');
      expect(o501).toBe(c1);
      expect(o502).not.toBe(c1);
      expect(new Set(await owners('crm:C2', 'orders:601', 'orders:602')).size).toBe(3);
      expect(new Set(await owners('crm:C3', 'orders:701', 'orders:702')).size).toBe(3);
      const [link] = await events({ action: 'link', source: 'orders', record_id: '501' });
      expect(link).toMatchObject({ actor: 'rule:phone', reason: 'shares a PHONE with crm:C1' });
    });

    it("links all its carriers when one shop account is the named holder's and the other's own email spells the holder's name", async () => {
      // The first account is 尹婷's by her member number; the second's address is her name: both hers,
      // so the phone is hers and joins the nameless follower too.
      const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222', member: 'M10000001' }, { name: '尹婷' })]);
      const orders = new FakeSource('orders', [
        rec('orders', '501', { phone: '13911112222', member: 'M10000001' }),
        rec('orders', '502', { phone: '13911112222', email: 'YIN_TING91269@163.COM' }),
      ]);
      const scrm = new FakeSource('scrm', [rec('scrm', 'oA', { openid: 'oAaaaaaa', phone: '13911112222' })]);
      await resolve({ store, connectors: [crm, orders, scrm], rules: rulesOnly });
      expect(new Set(await owners('crm:C1', 'orders:501', 'orders:502', 'scrm:oA')).size).toBe(1);
      expect(await candidates()).toEqual([]);
    });

    it('joins none of its carriers when two of them carry names of two people', async () => {
      const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' }), rec('crm', 'C2', { phone: '13911112222' }, { name: '李强' })]);
      const support = new FakeSource('support', [rec('support', '9', { phone: '13911112222' }, { name: '王芳' })]);
      await resolve({ store, connectors: [shopAccounts(), crm, support], rules: rulesOnly });
      expect(new Set(await owners('orders:501', 'orders:502', 'crm:C1', 'crm:C2', 'support:9')).size).toBe(5);
    });
  });

  it('links through a unionid a contact whose name is written in pinyin run together, the same name as `Shuxia Hou` and 侯淑霞', async () => {
    // A sales rep's remark `houshuxia` on the WeCom contact of the WeChat user who follows the account.
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '15106420617', member: 'M86927700' }, { name: '侯淑霞', birthday: '1998-03-20' })]);
    const support = new FakeSource('support', [rec('support', '9', { phone: '15106420617', email: 'hsx48925@163.com' }, { name: 'Shuxia Hou' })]);
    const scrm = new FakeSource('scrm', [rec('scrm', 'oA', { openid: 'oAaaaaaa', unionid: 'uHOUSHUXIA1', phone: '+8615106420617', member: 'M86927700' })]);
    const wecom = new FakeSource('wecom', [rec('wecom', 'wm1', { unionid: 'uHOUSHUXIA1' }, { name: 'houshuxia' })]);
    await resolve({ store, connectors: [crm, support, scrm, wecom], rules });
    expect(new Set(await owners('crm:C1', 'support:9', 'scrm:oA', 'wecom:wm1')).size).toBe(1);
    expect(await candidates()).toEqual([]);
  });

  it('links through a phone when the sides only differ in email: one person often uses two addresses', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222', email: 'wang@qq.com' })]);
    const support = new FakeSource('support', [rec('support', '9', { phone: '13911112222', email: 'wang.fang@163.com' })]);
    await resolve({ store, connectors: [crm, support], rules });
    const [a, b] = await owners('crm:C1', 'support:9');
    expect(a).toBe(b);
    expect(await candidates()).toEqual([]);
  });

  it('refuses a phone link between sides whose emails differ when the rules say so (refuseIfDiffer)', async () => {
    const file = JSON.parse(fs.readFileSync(RULES_FILE, 'utf8'));
    file.strong = file.strong.map((s: { kind: string }) => (s.kind === 'PHONE' ? { ...s, refuseIfDiffer: ['EMAIL'] } : s));
    const strict = parseIdentityRules(file);
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222', email: 'wang@qq.com' })]);
    const support = new FakeSource('support', [rec('support', '9', { phone: '13911112222', email: 'li@163.com' })]);
    await resolve({ store, connectors: [crm, support], rules: strict });
    const [a, b] = await owners('crm:C1', 'support:9');
    expect(a).not.toBe(b);
    expect((await candidates()).map((c) => JSON.parse(c.evidence))).toEqual([expect.objectContaining({ differ: ['EMAIL'], EMAIL: expect.any(Array) })]);
  });

  it('links duplicates whose names are spelled differently when their birthday agrees', async () => {
    const crm = new FakeSource('crm', [
      rec('crm', 'C1', { phone: '13911112222' }, { name: '王振芳', birthday: '1985-04-02' }),
      rec('crm', 'C2', { phone: '13911112222' }, { name: '王振方', birthday: '1985-04-02' }),
      // Same name spelled otherwise, no birthday, but a phone and an email in common.
      rec('crm', 'C3', { phone: '13933334444', email: 'li@163.com' }, { name: '李强' }),
      rec('crm', 'C4', { phone: '13933334444', email: 'li@163.com' }, { name: '李小强' }),
    ]);
    await resolve({ store, connectors: [crm], rules });
    const [c1, c2, c3, c4] = await owners('crm:C1', 'crm:C2', 'crm:C3', 'crm:C4');
    expect(c2).toBe(c1);
    expect(c4).toBe(c3);
    expect(await candidates()).toEqual([]);
  });

  it('links none of 50 records through test@test.com, and reports the value once', async () => {
    const crm = new FakeSource(
      'crm',
      Array.from({ length: 50 }, (_, i) => rec('crm', `C${i}`, { email: i % 2 ? 'test@test.com' : ' TEST@TEST.COM', phone: `1390000${String(1000 + i)}` })),
    );
    const stats = await resolve({ store, connectors: [crm], rules, pageSize: 20 });
    expect(new Set(await owners(...Array.from({ length: 50 }, (_, i) => `crm:C${i}`))).size).toBe(50);
    expect(stats).toMatchObject({ customersCreated: 50, recordsLinked: 0 });
    const found = await candidates();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ reason: 'blocked', kind: 'EMAIL', value: 'test@test.com', customer_id: null });
    expect(JSON.parse(found[0].evidence)).toMatchObject({ pattern: '^test@test\\.', recordsCarrying: 50 });
  });

  it('does not link through a value more people share than the rule allows', async () => {
    const orders = new FakeSource(
      'orders',
      Array.from({ length: 5 }, (_, i) => rec('orders', `${i}`, { email: 'shop-front@store.cn', member: `M2000000${i}` })),
    );
    await resolve({ store, connectors: [orders], rules });
    expect(new Set(await owners('orders:0', 'orders:1', 'orders:2', 'orders:3', 'orders:4')).size).toBe(5);
    expect((await candidates()).map((c) => [c.reason, c.value])).toEqual([['over_shared', 'shop-front@store.cn']]);
  });

  it('sees a household even when the second person arrives in a later source', async () => {
    // Scanned first: the wife's shop account and a follower of her husband, both with the phone.
    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '13911112222', member: 'M10000001' })]);
    const scrm = new FakeSource('scrm', [rec('scrm', 'oL', { openid: 'oLlllllll', phone: '13911112222', member: 'M10000002' })]);
    const crm = new FakeSource('crm', [
      rec('crm', 'C1', { phone: '13911112222', member: 'M10000001' }, { name: '王芳' }),
      rec('crm', 'C2', { phone: '13911112222', member: 'M10000002' }, { name: '李强' }),
    ]);
    await resolve({ store, connectors: [orders, scrm, crm], rules });
    const [o, f, wang, li] = await owners('orders:501', 'scrm:oL', 'crm:C1', 'crm:C2');
    expect(o).toBe(wang);
    expect(f).toBe(li);
    expect(wang).not.toBe(li);
  });

  it('merges two customers a new record shows to be one person', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' })]);
    const scrm = new FakeSource('scrm', [rec('scrm', 'oA', { openid: 'oAaaaaaa', unionid: 'uWANGFANG1' })]);
    await resolve({ store, connectors: [crm, scrm], rules });
    const [c1, f1] = await owners('crm:C1', 'scrm:oA');
    expect(c1).not.toBe(f1);

    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '8613911112222', member: 'M1' })]);
    scrm.put(rec('scrm', 'oA', { openid: 'oAaaaaaa', unionid: 'uWANGFANG1', phone: '13911112222' }, undefined, '2024-03-02T00:00:00.000Z'));
    await resolve({ store, connectors: [crm, orders, scrm], rules });
    const [survivor] = [c1, f1].sort();
    expect(await owners('crm:C1', 'scrm:oA', 'orders:501')).toEqual([survivor, survivor, survivor]);
    const merged = [c1, f1].find((x) => x !== survivor) as string;
    expect((await store.customersByIds([merged]))[0]).toMatchObject({ id: survivor, mergedFrom: merged });
    const [merge] = await events({ action: 'merge' });
    expect(merge).toMatchObject({ actor: 'rule:phone', customer_id: survivor, other_customer_id: merged });
    expect(JSON.parse(merge.evidence)).toMatchObject({ kind: 'PHONE', value: '+8613911112222', movedRecords: [expect.any(Object)] });
  });

  it('writes no rows and no events on a second run in a row', async () => {
    const crm = new FakeSource('crm', [
      rec('crm', 'C1', { phone: '13911112222', email: 'test@test.com' }, { name: '王芳' }),
      rec('crm', 'C2', { phone: '13911112222', email: 'test@test.com' }, { name: '李强' }),
    ]);
    const scrm = new FakeSource('scrm', [rec('scrm', 'oA', { openid: 'oAaaaaaa', unionid: 'uWANGFANG1', phone: '13911112222' })]);
    await resolve({ store, connectors: [crm, scrm], rules });
    const before = await Promise.all(TABLES.map((n) => t.db(n).count({ n: '*' })));
    const writes = await writesDuring(() => resolve({ store, connectors: [crm, scrm], rules }));
    // Only the run's lease is written (taken and handed back): no mapping data, no events.
    expect(writes.filter((sql) => !/idmap_locks/.test(sql))).toEqual([]);
    expect(writes.length).toBeGreaterThan(0);
    expect(await Promise.all(TABLES.map((n) => t.db(n).count({ n: '*' })))).toEqual(before);
    // Even read again from the start, unchanged records write nothing.
    await t.db('idmap_scan_cursors').del();
    const again = await writesDuring(() => resolve({ store, connectors: [crm, scrm], rules }));
    expect(again.filter((sql) => !/idmap_scan_cursors|idmap_locks/.test(sql))).toEqual([]);
  });

  itOn('mariadb')("makes a value's carriers pending again without holding the other records until its commit", async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' }), rec('crm', 'C2', { phone: '13922223333' }, { name: '李强' })]);
    await resolve({ store, connectors: [crm], rules });
    const pendingOf = async () =>
      Object.fromEntries((await t.db('idmap_source_records').orderBy('record_id').select('record_id', 'pending')).map((r) => [r.record_id, Number(r.pending)]));
    expect(await pendingOf()).toEqual({ C1: 0, C2: 0 });
    await t.db.transaction(async (trx) => {
      await pendCarriers(trx, [{ kind: 'PHONE', matchKey: '+8613911112222' }]);
      // Meanwhile, on another connection, a write to a record not carrying it (a webhook's, a steward's) goes through:
      // it waits at most a second for a lock, and used to time out (the UPDATE walked and locked every record).
      await t.db.raw("SET STATEMENT innodb_lock_wait_timeout = 1 FOR UPDATE idmap_source_records SET name_key = name_key WHERE source = 'crm' AND record_id = 'C2'");
    });
    expect(await pendingOf()).toEqual({ C1: 1, C2: 0 });
  });

  it("links an empty map without the link log's customer indexes, builds them after as the migration made them, and keeps them on later runs", async () => {
    const eventIndexes = () => Promise.all(['idmap_link_events_customer_idx', 'idmap_link_events_other_idx'].map((index) => indexColumns(t.db, 'idmap_link_events', index)));
    const migrated = await eventIndexes();
    expect(migrated).toEqual([
      ['customer_id', 'id'],
      ['other_customer_id', 'id'],
    ]);
    // Indexes dropped (SQLite one a statement, MySQL/MariaDB a table's in one).
    const dropsDuring = async (run: () => Promise<unknown>) =>
      (await queriesDuring(t.db, run)).queries.flatMap((q) => q.sql.match(/DROP INDEX (IF EXISTS )?`idmap_link_events_/g) ?? []).length;
    const world = () => [
      new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' })]),
      new FakeSource('orders', [rec('orders', '501', { phone: '+86 139 1111 2222' })]),
    ];
    expect(await dropsDuring(() => resolve({ store, connectors: world(), rules }))).toBe(2);
    expect(await eventIndexes()).toEqual(migrated);
    // The history reads the log by customer as before.
    const [c1] = await owners('crm:C1');
    expect((await store.linkEventsByCustomerIds([c1!]))[0].map((e) => e.action)).toEqual(['link', 'create']);
    // The map has customers now: a later run links with the indexes in place.
    const later = [new FakeSource('support', [rec('support', 'T9', { phone: '13911112222' })])];
    expect(await dropsDuring(() => resolve({ store, connectors: later, rules }))).toBe(0);
    // A first link phase stopped halfway leaves them out; the next start builds them.
    await t.db.raw(testEngine === 'sqlite' ? 'DROP INDEX `idmap_link_events_other_idx`' : 'ALTER TABLE `idmap_link_events` DROP INDEX `idmap_link_events_other_idx`');
    await migrateLatest(t.db);
    expect(await eventIndexes()).toEqual(migrated);
  });
  it('stages only when asked to link nothing, and the next run links what it left pending as one run would have', async () => {
    const world = () => [
      new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' }), rec('crm', 'C2', { email: 'li.qiang@qq.com' }, { name: '李强' })]),
      new FakeSource('orders', [rec('orders', '501', { phone: '+86 139 1111 2222' })]),
    ];
    const staged = await resolve({ store, connectors: world(), rules, tiers: 'none' });
    expect(staged).toMatchObject({ recordsNew: 3, customersCreated: 0, recordsResolved: 0 });
    expect(await t.db('idmap_source_records').where({ pending: 1 }).count({ n: '*' })).toEqual([{ n: 3 }]);
    expect(await t.db('idmap_customers').count({ n: '*' })).toEqual([{ n: 0 }]);

    const linked = await resolve({ store, connectors: world(), rules });
    expect(linked).toMatchObject({ recordsRead: 0, customersCreated: 2, recordsLinked: 1 });
    const [c1, c2, o] = await owners('crm:C1', 'crm:C2', 'orders:501');
    expect(o).toBe(c1);
    expect(c2).not.toBe(c1);
    expect(await t.db('idmap_source_records').where({ pending: 1 }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('reads only what changed since the saved cursors', async () => {
    const crm = new FakeSource(
      'crm',
      Array.from({ length: 30 }, (_, i) => rec('crm', `C${i}`, { phone: `1390000${1000 + i}` })),
    );
    await resolve({ store, connectors: [crm], rules, pageSize: 10 });
    expect(crm.served.flat()).toHaveLength(30);
    crm.served.length = 0;

    crm.put(rec('crm', 'C7', { phone: '13900001007', email: 'seven@qq.com' }, undefined, '2024-03-05T00:00:00.000Z'));
    const stats = await resolve({ store, connectors: [crm], rules, pageSize: 10 });
    expect(crm.served).toEqual([['C7']]);
    expect(stats).toMatchObject({ recordsRead: 1, recordsChanged: 1, recordsNew: 0 });
    expect((await events({ action: 'bind' })).map((e) => [e.record_id, JSON.parse(e.evidence).value])).toEqual([['C7', 'seven@qq.com']]);
  });

  it('saves the cursor with each page, so a failed scan resumes after the last applied page', async () => {
    const crm = new FakeSource(
      'crm',
      Array.from({ length: 25 }, (_, i) => rec('crm', `C${String(i).padStart(2, '0')}`, { phone: `1390000${1000 + i}` })),
    );
    crm.failOnCall = 1;
    await expect(resolve({ store, connectors: [crm], rules, pageSize: 10 })).rejects.toThrow('feed down');
    expect(await t.db('idmap_source_records').count({ n: '*' })).toEqual([{ n: 10 }]);
    crm.served.length = 0;
    await resolve({ store, connectors: [crm], rules, pageSize: 10 });
    expect(crm.served.flat()).toEqual(Array.from({ length: 15 }, (_, i) => `C${10 + i}`));
    expect(await t.db('idmap_source_records').whereNull('customer_id').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('ends the old identifier on a rebind, logs unbind and bind, and moves a record its change untied only with an unlink and a link', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222', email: 'wang@qq.com' }, { name: '王芳' })]);
    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '13911112222' })]);
    const other = new FakeSource('support', [rec('support', '9', { phone: '13733334444', email: 'zhao@qq.com' }, { name: '赵敏' })]);
    await resolve({ store, connectors: [crm, orders, other], rules });
    const [wang, zhao] = await owners('crm:C1', 'support:9');

    // The shop account's phone changes to one another customer carries.
    orders.put(rec('orders', '501', { phone: '137-3333-4444' }, undefined, '2024-04-01T00:00:00.000Z'));
    await resolve({ store, connectors: [crm, orders, other], rules });

    const rows = await t.db('idmap_record_identifiers').where({ source: 'orders', record_id: '501' }).orderBy('id').select('value', 'valid_from', 'valid_to');
    expect(rows.map((r) => [r.value, r.valid_to == null])).toEqual([
      ['+8613911112222', false],
      ['+8613733334444', true],
    ]);
    expect((await events({ source: 'orders', record_id: '501' })).map((e) => [e.action, e.customer_id])).toEqual([
      ['link', wang],
      ['unbind', wang],
      ['bind', wang],
      ['unlink', wang],
      ['link', zhao],
    ]);
    // It shares nothing with Wang any more and carries Zhao's number: where a fresh resolution of the same data puts it.
    expect(await owners('orders:501', 'support:9')).toEqual([zhao, zhao]);
    expect(await candidates()).toEqual([]);
    const history = (await store.identifiersByCustomerIds([zhao as string], { history: true }))[0].filter((i) => i.recordId === '501');
    expect(history.map((i) => [i.value, i.validTo])).toEqual(
      expect.arrayContaining([
        ['+8613911112222', '2024-04-01T00:00:00.000Z'],
        ['+8613733334444', null],
      ]),
    );
  });

  describe('a store built change by change ends where a fresh resolution of the same data does', () => {
    /** Record → customer, as pairs of records sharing one: comparable across stores. */
    async function partition(db: typeof t.db): Promise<string[]> {
      const rows: Array<{ source: string; record_id: string; customer_id: string | null }> = await db('idmap_source_records')
        .whereNull('deleted_at')
        .select('source', 'record_id', 'customer_id');
      const byCustomer = new Map<string, string[]>();
      for (const r of rows)
        byCustomer.set(r.customer_id ?? `none:${r.record_id}`, [...(byCustomer.get(r.customer_id ?? `none:${r.record_id}`) ?? []), `${r.source}:${r.record_id}`]);
      return [...byCustomer.values()].map((g) => g.sort().join(' ')).sort();
    }
    /** The same final records resolved into an empty store. */
    async function fresh(...feeds: FakeSource[]): Promise<string[]> {
      const other = await freshDatabase('idmap_fresh');
      try {
        await migrateLatest(other.db);
        await resolve({ db: other.db, connectors: feeds, rules });
        return await partition(other.db);
      } finally {
        await other.drop();
      }
    }
    const LATER = '2024-04-01T00:00:00.000Z';

    it('a recycled number: the old holder gives it up after the new holder got it, and the new holder leaves the old one', async () => {
      // Wang's WeChat follower carries his member number and an old mobile; Zhao's shop account gets that number later.
      const wang = rec('crm', 'C1', { phone: '13911112222', member: 'M10000001' }, { name: '王芳' });
      const follower = rec('scrm', 'oA', { member: 'M10000001', phone: '13733334444' });
      const crm = new FakeSource('crm', [wang]);
      const scrm = new FakeSource('scrm', [follower]);
      const orders = new FakeSource('orders', []);
      await resolve({ store, connectors: [crm, scrm, orders], rules });

      const zhaoShop = rec('orders', '700', { phone: '13733334444' }, undefined, LATER);
      const followerNow = rec('scrm', 'oA', { member: 'M10000001', phone: '13655556666' }, undefined, LATER);
      orders.put(zhaoShop);
      await resolveRecords({ store, rules, records: [zhaoShop] }); // while Wang's follower still carries it: one customer, as a fresh run would say then
      expect(new Set(await owners('crm:C1', 'scrm:oA', 'orders:700')).size).toBe(1);
      scrm.put(followerNow);
      const stats = await resolveRecords({ store, rules, records: [followerNow] });

      const [w, f, z] = await owners('crm:C1', 'scrm:oA', 'orders:700');
      expect(f).toBe(w);
      expect(z).not.toBe(w);
      expect(stats.recordsUntied).toBe(1);
      expect((await events({ source: 'orders', record_id: '700' })).map((e) => [e.action, e.actor, e.customer_id])).toEqual([
        ['link', 'rule:phone', w],
        ['unlink', 'rule:scan', w],
        ['create', 'rule:new-record', z],
      ]);
      expect(await partition(t.db)).toEqual(await fresh(new FakeSource('crm', [wang]), new FakeSource('scrm', [followerNow]), new FakeSource('orders', [zhaoShop])));
    });

    it('a number refused because a third record carried it joins its other carriers once that record gives it up', async () => {
      const wang = rec('crm', 'C1', { phone: '13733334444' }, { name: '王芳' });
      const crm = new FakeSource('crm', [wang]);
      const support = new FakeSource('support', [rec('support', '9', { email: 'zhao@qq.com' }, { name: '赵敏' })]);
      const orders = new FakeSource('orders', []);
      await resolve({ store, connectors: [crm, support, orders], rules });

      // Zhao's helpdesk profile and shop account take the number while Wang's contact still carries it: the names differ, refused.
      const zhao = rec('support', '9', { email: 'zhao@qq.com', phone: '13733334444' }, { name: '赵敏' }, LATER);
      const shop = rec('orders', '800', { phone: '13733334444' }, undefined, LATER);
      support.put(zhao);
      orders.put(shop);
      await resolveRecords({ store, rules, records: [zhao, shop] });
      expect(new Set(await owners('crm:C1', 'support:9', 'orders:800')).size).toBe(3);

      const wangNow = rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' }, '2024-04-02T00:00:00.000Z');
      crm.put(wangNow);
      await resolveRecords({ store, rules, records: [wangNow] });
      const [w, z, s] = await owners('crm:C1', 'support:9', 'orders:800');
      expect(s).toBe(z);
      expect(w).not.toBe(z);
      expect(await partition(t.db)).toEqual(await fresh(new FakeSource('crm', [wangNow]), new FakeSource('support', [zhao]), new FakeSource('orders', [shop])));
    });

    it('a deleted record that was the only tie between two others leaves them apart, in either order of the changes', async () => {
      const contact = rec('crm', 'C1', { phone: '13911112222', email: 'wang@qq.com' }, { name: '王芳' });
      const shop = rec('orders', '501', { phone: '13911112222' });
      const ticket = rec('support', '9', { email: 'wang@qq.com' }, { name: '王芳' });
      const gone = { source: 'crm' as const, recordId: 'C1', updatedAt: LATER, deleted: true, identifiers: [] };
      const shopNow = rec('orders', '501', { phone: '13911112222', email: 'shop501@163.com' }, undefined, LATER);
      const results: string[][] = [];
      for (const order of [
        [gone, shopNow],
        [shopNow, gone],
      ]) {
        await t.drop();
        t = await freshDatabase('idmap_resolve');
        await migrateLatest(t.db);
        store = createIdMapStore(t.db);
        await resolve({ store, connectors: [new FakeSource('crm', [contact]), new FakeSource('orders', [shop]), new FakeSource('support', [ticket])], rules });
        expect(new Set(await owners('crm:C1', 'orders:501', 'support:9')).size).toBe(1);
        for (const r of order) await resolveRecords({ store, rules, records: [r] });
        results.push(await partition(t.db));
      }
      expect(results[0]).toEqual(['orders:501', 'support:9']);
      expect(results[1]).toEqual(results[0]);
      expect(results[0]).toEqual(await fresh(new FakeSource('orders', [shopNow]), new FakeSource('support', [ticket])));
    });

    it('keeps a customer a steward shaped: a record linked by hand stays, flagged as an orphan', async () => {
      const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' })]);
      const orders = new FakeSource('orders', [rec('orders', '501', { phone: '13800001111' })]);
      await resolve({ store, connectors: [crm, orders], rules });
      await store.linkRecords({
        a: { source: 'crm', recordId: 'C1' },
        b: { source: 'orders', recordId: '501' },
        actor: 'user:steward',
        reason: 'same person, confirmed by phone',
      });
      const [w] = await owners('crm:C1');
      const changed = rec('crm', 'C1', { phone: '13922223333' }, { name: '王芳' }, LATER);
      crm.put(changed);
      const stats = await resolveRecords({ store, rules, records: [changed] });
      expect(stats.recordsUntied).toBe(0);
      expect(await owners('crm:C1', 'orders:501')).toEqual([w, w]);
      expect((await candidates()).map((c) => c.reason)).toContain('orphan');
    });
  });

  it('unlinks a record the source deleted', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' })]);
    await resolve({ store, connectors: [crm], rules });
    const [owner] = await owners('crm:C1');
    crm.put({ ...rec('crm', 'C1', {}, undefined, '2024-05-01T00:00:00.000Z'), deleted: true });
    await resolve({ store, connectors: [crm], rules });
    expect(await owners('crm:C1')).toEqual([null]);
    expect(await store.customerIdsByIdentifiers([{ kind: 'PHONE', value: '+8613911112222' }])).toEqual([[]]);
    expect((await events({ action: 'unlink' }))[0]).toMatchObject({ customer_id: owner, source: 'crm', record_id: 'C1' });
  });

  it('re-resolves records a webhook names, without a scan', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' })]);
    await resolve({ store, connectors: [crm], rules });
    const scrm = new FakeSource('scrm', [rec('scrm', 'oA', { openid: 'oAaaaaaa', phone: '+8613911112222' })]);
    const stats = await resolveRecords({ store, rules, records: await scrm.scanRecords(['oA', 'unknown']) });
    expect(stats).toMatchObject({ recordsNew: 1, recordsLinked: 1 });
    expect(new Set(await owners('crm:C1', 'scrm:oA')).size).toBe(1);
    expect(await t.db('idmap_scan_cursors').where({ source: 'scrm' })).toEqual([]);
  });

  it('runs a webhook re-resolution after a scan already running on the same store', async () => {
    const crm = new FakeSource(
      'crm',
      Array.from({ length: 30 }, (_, i) => rec('crm', `C${i}`, { phone: `1390000${1000 + i}` })),
    );
    const webhook = [rec('scrm', 'oA', { openid: 'oAaaaaaa', phone: '13900001003' })];
    const [scan, hook] = await Promise.all([resolve({ store, connectors: [crm], rules, pageSize: 5 }), resolveRecords({ store, rules, records: webhook })]);
    expect(scan.recordsNew).toBe(30);
    expect(hook).toMatchObject({ recordsNew: 1, recordsLinked: 1 });
    const [c3, follower] = await owners('crm:C3', 'scrm:oA');
    expect(follower).toBe(c3);
  });

  it('never links customers a steward judged different', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { email: 'a@qq.com' })]);
    const orders = new FakeSource('orders', [rec('orders', '501', { phone: '13911112222' })]);
    await resolve({ store, connectors: [crm, orders], rules });
    const [a, b] = await owners('crm:C1', 'orders:501');
    await store.recordDecision({ verdict: 'different', customerId: a as string, otherCustomerId: b as string, actor: 'user:alice', reason: 'checked' });
    // A record carrying both values would otherwise merge them.
    const support = new FakeSource('support', [rec('support', '9', { email: 'a@qq.com', phone: '13911112222' })]);
    await resolve({ store, connectors: [crm, orders, support], rules });
    const [a2, b2] = await owners('crm:C1', 'orders:501');
    expect([a2, b2]).toEqual([a, b]);
  });
});

describe('Identity resolution on a SQLite file other connections write to', () => {
  // Whatever the test engine: the lock in question is SQLite's. In the gateway a webhook's run
  // shares the file with the WAL checkpointer's connection (a header write each second it finds
  // the WAL caught up) and the access audit's (a row per audited read); a full run with the audit's.

  /**
   * Runs `run` on a OneID file while another connection commits after each read of a transaction
   * that has not written yet, and answers how many times it did. A transaction that has written
   * holds the lock; one that has only read holds a snapshot another connection's commit makes stale
   * (before: SQLITE_BUSY_SNAPSHOT at its first write, the run failed, a webhook answered 503).
   */
  async function withCommitsElsewhere(setUp: (store: IdMapStore) => Promise<void>, run: (store: IdMapStore) => Promise<void>): Promise<number> {
    const dir = tempDir('resolve-other-connection');
    const filename = path.join(dir, 'oneid.db');
    const db = openDatabase({ client: 'sqlite', filename });
    const other = new Database(filename);
    other.pragma('busy_timeout = 0');
    try {
      await migrateLatest(db);
      const store = createIdMapStore(db);
      await setUp(store);
      const wrote = new Set<string>();
      let commits = 0;
      const noteWrite = (q: { __knexTxId?: string; sql: string }) => {
        if (q.__knexTxId && /^\s*(insert|update|delete|replace)/i.test(q.sql)) wrote.add(q.__knexTxId);
      };
      const commitElsewhere = (_response: unknown, q: { __knexTxId?: string; sql: string }) => {
        if (!q.__knexTxId || wrote.has(q.__knexTxId) || !/^\s*select/i.test(q.sql)) return;
        other.pragma(`user_version = ${other.pragma('user_version', { simple: true })}`);
        commits++;
      };
      db.on('query', noteWrite).on('query-response', commitElsewhere);
      try {
        await run(store);
      } finally {
        db.off('query', noteWrite).off('query-response', commitElsewhere);
      }
      return commits;
    } finally {
      other.close();
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it("links a webhook's record though another connection commits after each of the run's reads before its writes", async () => {
    const commits = await withCommitsElsewhere(
      async (store) => void (await resolve({ store, connectors: [new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳' })])], rules })),
      async (store) => {
        const stats = await resolveRecords({ store, rules, records: [rec('scrm', 'oA', { openid: 'oAaaaaaa', phone: '+8613911112222' })] });
        expect(stats).toMatchObject({ recordsNew: 1, recordsLinked: 1 });
        const [crm, scrm] = await store.customerIdsBySourceRecords([
          { source: 'crm', recordId: 'C1' },
          { source: 'scrm', recordId: 'oA' },
        ]);
        expect(scrm).toBe(crm);
      },
    );
    expect(commits).toBe(0); // every transaction of the run wrote (took the lock) before it read
  });

  it('links through the probabilistic tier and begins a restage though another connection commits after each read before a write', async () => {
    // One person in two systems sharing no identifier: the tier's link reads the records' customers, then merges.
    const sources = () => [
      new FakeSource('members', [rec('members', 'M1', { phone: '13911112222' }, { name: '王振芳', birthday: '1985-04-02', city: '杭州市', province: '浙江省' })]),
      new FakeSource('events', [rec('events', 'E1', { email: 'zfwang@example.org' }, { name: 'Zhenfang Wang', birthday: '1985-02-04', city: '杭州', gender: 'FEMALE' })]),
    ];
    const commits = await withCommitsElsewhere(
      async () => undefined,
      async (store) => {
        expect(await resolve({ store, connectors: sources(), rules })).toMatchObject({ probableLinks: 1 });
        const [m, e] = await store.customerIdsBySourceRecords([
          { source: 'members', recordId: 'M1' },
          { source: 'events', recordId: 'E1' },
        ]);
        expect(e).toBe(m);
        await resolve({ store, connectors: sources(), rules, restage: true });
      },
    );
    expect(commits).toBe(0);
  });
});
