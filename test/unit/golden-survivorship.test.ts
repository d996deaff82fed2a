/**
 * Golden fields: survivorship over one customer whose sources disagree on every field, with
 * the repository's rules (config/survivorship.json). Each test shows the value the rules pick,
 * the rule that decided, and the full candidate list.
 */
import { demoRegistry } from '../helpers/registry';
import fs from 'node:fs';
import path from 'node:path';
import type { GraphQLObjectType } from 'graphql';
import { buildSchema } from '../../src/schema';
import { candidatesFor as candidatesOfViews, GOLDEN_FIELDS, type GoldenField, type SourceViews } from '../../src/golden/fields';
import { bindSurvivorship, describeRules, parseSurvivorship, type SurvivorshipRules } from '../../src/golden/rules';
import { choose, decide, matchKey, type Decision } from '../../src/golden/survivorship';
import { loadInsightRules } from '../../src/insights/rules';
import type { CrmContact } from '../../src/sources/crm/types';
import type { ScrmFollower } from '../../src/sources/wechat/types';
import type { ShopAccount } from '../../src/sources/shop/types';
import type { SupportRequester } from '../../src/sources/helpdesk/types';
import { tempDir } from '../helpers/tmp';

const CONFIG = path.resolve(__dirname, '../../config');
/** The demo sources' records, as each kind's record type. */
interface SourceRecords {
  crm: CrmContact[];
  orders: ShopAccount[];
  support: SupportRequester[];
  scrm: ScrmFollower[];
}

/** The records as the demo registry's profile capabilities view them. */
function candidatesFor(field: GoldenField, records: SourceRecords, sources: readonly string[]) {
  const views: SourceViews[] = Object.entries(records).map(([source, list]) => ({
    source,
    views: (list as unknown[]).map((r) => demoRegistry().get(source)!.capabilities.profile!.view(r)),
  }));
  return candidatesOfViews(field, views, sources);
}

const bind = (r: SurvivorshipRules) =>
  bindSurvivorship(
    r,
    demoRegistry().sources.map((s) => s.name),
    (n) => demoRegistry().get(n)?.capabilities.profile?.fields ?? null,
  );
const rules: SurvivorshipRules = bind(loadInsightRules(CONFIG).survivorship);

const crm = (over: Partial<CrmContact> & { id: string }): CrmContact => ({
  name: null,
  phone: null,
  email: null,
  gender: 'UNKNOWN',
  birthday: null,
  province: null,
  city: null,
  memberNo: null,
  tier: null,
  ownerRep: null,
  ownerTeam: null,
  smsOptIn: null,
  emailOptIn: null,
  createdAt: '2023-01-01T00:00:00.000Z',
  updatedAt: '2023-01-01T00:00:00.000Z',
  ...over,
});
const account = (over: Partial<ShopAccount> & { id: string }): ShopAccount => ({
  phone: null,
  email: null,
  memberNo: null,
  channel: 'tmall',
  registeredAt: '2023-01-01T00:00:00.000Z',
  updatedAt: '2023-01-01T00:00:00.000Z',
  ...over,
});
const follower = (over: Partial<ScrmFollower> & { openid: string }): ScrmFollower => ({
  unionid: null,
  nickname: null,
  gender: 'UNKNOWN',
  city: null,
  province: null,
  country: null,
  subscribed: true,
  subscribedAt: null,
  tagIds: [],
  ...over,
});

/** One person, four systems, no two of which agree. */
const RECORDS: SourceRecords = {
  crm: [
    crm({
      id: 'C0000001',
      name: '王芳',
      phone: '+8613800138000',
      email: 'wang.fang@qq.com',
      gender: 'FEMALE',
      birthday: '1990-05-01',
      province: '北京市',
      city: '北京',
      tier: 'gold',
      smsOptIn: true,
      emailOptIn: false,
      createdAt: '2023-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
    }),
    // A duplicate contact, re-entered later by another rep: a typo in the name, a form-default birthday.
    crm({
      id: 'C0000002',
      name: '王方',
      phone: '+8613900139000',
      email: 'fang.wang@163.com',
      gender: 'FEMALE',
      birthday: '1900-01-01',
      province: '北京',
      tier: 'platinum',
      smsOptIn: false,
      createdAt: '2023-06-01T00:00:00.000Z',
      updatedAt: '2024-06-01T00:00:00.000Z',
    }),
  ],
  orders: [
    account({
      id: '101',
      phone: '+8613900139000',
      email: 'fang.wang@163.com',
      channel: 'tmall',
      registeredAt: '2022-03-01T00:00:00.000Z',
      updatedAt: '2024-07-01T00:00:00.000Z',
    }),
    // Registered by a store clerk with placeholders.
    account({
      id: '102',
      phone: '+8613800000000',
      email: 'test@test.com',
      channel: 'miniprogram',
      registeredAt: '2021-12-01T00:00:00.000Z',
      updatedAt: '2024-08-01T00:00:00.000Z',
    }),
  ],
  support: [
    {
      id: '7',
      name: 'fang.wang',
      email: 'fang.wang@163.com',
      phone: '+8613700137000',
      createdAt: '2023-02-01T00:00:00.000Z',
      updatedAt: '2024-09-01T00:00:00.000Z',
    } satisfies SupportRequester,
  ],
  scrm: [
    follower({ openid: 'oFollow', nickname: '微信用户', gender: 'MALE', city: '上海', province: '上海', subscribedAt: '2021-06-01T00:00:00.000Z' }),
    // Unfollowed: WeChat tells nothing but that.
    follower({ openid: 'oGone', subscribed: false }),
  ],
};

function decision(field: GoldenField, records: SourceRecords = RECORDS, r: SurvivorshipRules = rules): Decision {
  return decide(r[field], candidatesFor(field, records, r[field].sources));
}

/** The candidate list as [value, source, record, chosen, discarded?] rows. */
const rows = (d: Decision) => d.candidates.map((c) => [c.value, c.source, c.recordId, c.chosen, c.discarded ?? undefined].filter((x) => x !== undefined));

describe('Golden fields: survivorship with the repository rules', () => {
  it('name: sourcePriority keeps the CRM, the two CRM spellings tie on frequency, mostRecent picks the newer', () => {
    const d = decision('name');
    expect([d.chosen?.value, d.rule]).toEqual(['王方', 'mostRecent']);
    expect(rows(d)).toEqual([
      ['王方', 'crm', 'C0000002', true],
      ['王芳', 'crm', 'C0000001', false],
      ['fang.wang', 'support', '7', false],
      ['微信用户', 'scrm', 'oFollow', false, 'placeholder (matches ^微信用户$)'],
    ]);
  });

  it('name: what staff type to get past a required field (-, 无, 未知, N/A) is shown but never chosen, however new', () => {
    for (const typed of ['-', '—', '...', '/', '无', '未知', 'N/A', 'n/a', 'Unknown', '测试']) {
      const filler = crm({ id: 'C0000003', name: typed, createdAt: '2023-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' });
      const d = decision('name', { ...RECORDS, crm: [...RECORDS.crm, filler] });
      const judged = d.candidates.find((c) => c.recordId === 'C0000003');
      expect([typed, d.chosen?.value, judged?.chosen, judged?.discarded?.startsWith('placeholder')]).toEqual([typed, '王方', false, true]);
    }
    // Names that only look short stay names.
    for (const name of ['王', 'Li', 'Jo-Ann', 'O’Brien']) {
      const d = decision('name', { ...RECORDS, crm: [crm({ id: 'C0000003', name, createdAt: '2023-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' })] });
      expect([name, d.chosen?.value]).toEqual([name, name]);
    }
  });

  it('phone: mostRecent picks the helpdesk number; the clerk placeholder is shown but never chosen', () => {
    const d = decision('phone');
    expect([d.chosen?.value, d.chosen?.source, d.rule]).toEqual(['+8613700137000', 'support', 'mostRecent']);
    expect(rows(d)).toEqual([
      ['+8613700137000', 'support', '7', true],
      ['+8613800138000', 'crm', 'C0000001', false],
      ['+8613900139000', 'crm', 'C0000002', false],
      ['+8613900139000', 'orders', '101', false],
      ['+8613800000000', 'orders', '102', false, 'placeholder (matches (\\d)\\1{7,}$)'],
    ]);
  });

  it('email: mostFrequent picks the address three records share; mostRecent picks which record to cite', () => {
    const d = decision('email');
    expect([d.chosen?.value, d.chosen?.source, d.chosen?.recordId, d.rule]).toEqual(['fang.wang@163.com', 'support', '7', 'mostFrequent']);
    expect(rows(d)).toEqual([
      ['fang.wang@163.com', 'support', '7', true],
      ['wang.fang@qq.com', 'crm', 'C0000001', false],
      ['fang.wang@163.com', 'crm', 'C0000002', false],
      ['fang.wang@163.com', 'orders', '101', false],
      ['test@test.com', 'orders', '102', false, 'placeholder (matches ^test@test\\.)'],
    ]);
  });

  it("gender: the CRM's (staff-recorded) beats WeChat's profile setting; UNKNOWN is no candidate", () => {
    const d = decision('gender');
    expect([d.chosen?.value, d.rule]).toEqual(['FEMALE', 'sourcePriority']);
    expect(rows(d)).toEqual([
      ['FEMALE', 'crm', 'C0000002', true],
      ['FEMALE', 'crm', 'C0000001', false],
      ['MALE', 'scrm', 'oFollow', false],
    ]);
  });

  it('birthday: the form default 1900-01-01 is ignored, leaving one candidate', () => {
    const d = decision('birthday');
    expect([d.chosen?.value, d.rule]).toEqual(['1990-05-01', 'onlyCandidate']);
    expect(rows(d)).toEqual([
      ['1990-05-01', 'crm', 'C0000001', true],
      ['1900-01-01', 'crm', 'C0000002', false, 'placeholder (matches ^1900-01-01$)'],
    ]);
  });

  it('city: CRM says Beijing, SCRM says Shanghai: a tie on frequency, sourcePriority picks the CRM', () => {
    const d = decision('city');
    expect([d.chosen?.value, d.rule]).toEqual(['北京', 'sourcePriority']);
    expect(rows(d)).toEqual([
      ['北京', 'crm', 'C0000001', true],
      ['上海', 'scrm', 'oFollow', false],
    ]);
  });

  it('province: "北京市" and "北京" count as one place, which mostFrequent picks over "上海"; the newest spelling is answered', () => {
    const d = decision('province');
    expect([d.chosen?.value, d.chosen?.recordId, d.rule]).toEqual(['北京', 'C0000002', 'mostFrequent']);
    expect(rows(d)).toEqual([
      ['北京', 'crm', 'C0000002', true],
      ['北京市', 'crm', 'C0000001', false],
      ['上海', 'scrm', 'oFollow', false],
    ]);
  });

  it('memberTier: the most recently updated CRM contact holds the current tier', () => {
    const d = decision('memberTier');
    expect([d.chosen?.value, d.rule]).toEqual(['platinum', 'mostRecent']);
    expect(rows(d)).toEqual([
      ['platinum', 'crm', 'C0000002', true],
      ['gold', 'crm', 'C0000001', false],
    ]);
  });

  it('registeredAt and registrationChannel: the earliest sign-up anywhere, here following on WeChat', () => {
    const at = decision('registeredAt');
    expect([at.chosen?.value, at.rule]).toEqual(['2021-06-01T00:00:00.000Z', 'earliest']);
    expect(rows(at)).toEqual([
      ['2021-06-01T00:00:00.000Z', 'scrm', 'oFollow', true],
      ['2022-03-01T00:00:00.000Z', 'orders', '101', false],
      ['2021-12-01T00:00:00.000Z', 'orders', '102', false],
    ]);
    const channel = decision('registrationChannel');
    expect([channel.chosen?.value, channel.chosen?.recordId, channel.rule]).toEqual(['wechat', 'oFollow', 'earliest']);
    expect(rows(channel)).toEqual([
      ['wechat', 'scrm', 'oFollow', true],
      ['tmall', 'orders', '101', false],
      ['miniprogram', 'orders', '102', false],
    ]);
  });

  it('marketing consent: the latest word per channel, false as much a value as true', () => {
    const sms = decision('marketingConsent.sms');
    expect([sms.chosen?.value, sms.rule]).toEqual([false, 'mostRecent']);
    expect(rows(sms)).toEqual([
      [false, 'crm', 'C0000002', true],
      [true, 'crm', 'C0000001', false],
    ]);
    const email = decision('marketingConsent.email');
    expect([email.chosen?.value, email.rule]).toEqual([false, 'onlyCandidate']);
    // The follower who unfollowed has no time: a known follow beats it under mostRecent.
    const wechat = decision('marketingConsent.wechat');
    expect([wechat.chosen?.value, wechat.chosen?.recordId, wechat.rule]).toEqual([true, 'oFollow', 'mostRecent']);
    expect(rows(wechat)).toEqual([
      [true, 'scrm', 'oFollow', true],
      [false, 'scrm', 'oGone', false],
    ]);
  });

  it('every golden field has a decision for this customer', () => {
    for (const f of GOLDEN_FIELDS) expect({ f, chosen: decision(f).chosen !== null }).toEqual({ f, chosen: true });
  });
});

describe('Golden fields: survivorship mechanics', () => {
  it('decides the same whatever order the candidates arrive in', () => {
    for (const field of GOLDEN_FIELDS) {
      const candidates = candidatesFor(field, RECORDS, rules[field].sources);
      const reference = decide(rules[field], candidates);
      for (let i = 0; i < 5; i++) {
        const shuffled = [...candidates].sort(() => Math.random() - 0.5);
        expect(decide(rules[field], shuffled)).toEqual(reference);
      }
    }
  });

  it("chooses, for a field's value alone, the winner the full decision cites, whatever the order", () => {
    const custom = parseSurvivorship({
      fields: Object.fromEntries(GOLDEN_FIELDS.map((f) => [f, { sources: rules[f].sources, rules: [{ rule: 'mostRecent' }] }])),
    });
    for (const r of [rules, custom]) {
      for (const field of GOLDEN_FIELDS) {
        const candidates = candidatesFor(field, RECORDS, r[field].sources);
        const chosen = decide(r[field], candidates).chosen;
        for (let i = 0; i < 5; i++) {
          const shuffled = [...candidates].sort(() => Math.random() - 0.5);
          expect({ field, chosen: choose(r[field], shuffled) }).toEqual({ field, chosen });
        }
      }
    }
    expect(choose(rules.name, [])).toBeNull();
  });

  it('takes a value of invisible characters (zero-width space, BOM, ideographic space) as no value, not as the newest name', () => {
    for (const blank of ['\u200B', '\uFEFF', '\u3000', ' \u200B\u3000 ', '\u2060']) {
      const pasted = crm({ id: 'C0000003', name: blank, createdAt: '2023-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' });
      const d = decision('name', { ...RECORDS, crm: [...RECORDS.crm, pasted] });
      expect([JSON.stringify(blank), d.chosen?.value, d.candidates.map((c) => c.recordId)]).toEqual([JSON.stringify(blank), '王方', ['C0000002', 'C0000001', '7', 'oFollow']]);
    }
    // Around a name they are dropped: the same spelling as the one typed cleanly.
    const wrapped = crm({ id: 'C0000003', name: '\uFEFF王方\u200B ', createdAt: '2023-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' });
    const d = decision('name', { ...RECORDS, crm: [...RECORDS.crm, wrapped] });
    expect([d.chosen?.value, d.chosen?.recordId, d.rule]).toEqual(['王方', 'C0000003', 'mostFrequent']);
  });

  it('answers no value and no rule when no source holds one', () => {
    const d = decision('birthday', { crm: [], orders: [], support: [], scrm: [] });
    expect(d).toEqual({ field: 'birthday', chosen: null, rule: null, candidates: [] });
  });

  it('says unanimous when every record agrees, and still cites one record deterministically', () => {
    const records: SourceRecords = {
      crm: [crm({ id: 'C2', city: '广州市' }), crm({ id: 'C1', city: '广州' })],
      orders: [],
      support: [],
      scrm: [follower({ openid: 'o1', city: '广州' })],
    };
    const d = decision('city', records);
    expect([d.rule, d.chosen?.recordId]).toEqual(['unanimous', 'C1']);
  });

  it('settles ties the rules leave by source order, then record id (shortest first)', () => {
    const custom = parseSurvivorship({
      fields: Object.fromEntries(GOLDEN_FIELDS.map((f) => [f, { sources: rules[f].sources, rules: [{ rule: 'mostRecent' }] }])),
    });
    const same = '2024-01-01T00:00:00.000Z';
    const records: SourceRecords = {
      crm: [crm({ id: 'C10', name: 'B', updatedAt: same }), crm({ id: 'C9', name: 'A', updatedAt: same })],
      orders: [],
      support: [{ id: '1', name: 'Z', email: null, phone: null, createdAt: same, updatedAt: same }],
      scrm: [],
    };
    const d = decision('name', records, custom);
    expect([d.chosen?.value, d.chosen?.recordId, d.rule]).toEqual(['A', 'C9', 'tieBreak']);
  });

  it('folds place suffixes and case only where the field says so', () => {
    expect(matchKey('广东省', 'place')).toBe(matchKey('广东', 'place'));
    expect(matchKey('广西壮族自治区', 'place')).toBe('广西');
    expect(matchKey('München', 'place')).toBe(matchKey('Munchen', 'place'));
    expect(matchKey('Zoë', 'caseless')).not.toBe(matchKey('Zoe', 'caseless'));
    expect(matchKey('Wang@QQ.com', 'caseless')).toBe('wang@qq.com');
    expect(matchKey('北京市', 'exact')).not.toBe(matchKey('北京', 'exact'));
  });
});

describe('Golden fields: rules as data', () => {
  const base = () => JSON.parse(fs.readFileSync(path.join(CONFIG, 'survivorship.json'), 'utf8'));
  const tmp = (json: unknown) => {
    const dir = tempDir('rules');
    for (const f of ['tags.json', 'lifecycle.json']) fs.copyFileSync(path.join(CONFIG, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'survivorship.json'), JSON.stringify(json));
    return dir;
  };

  it('refuses a source that has no such field once bound to the configured sources, naming the key', () => {
    const json = base();
    json.fields.gender.sources = ['crm', 'orders'];
    const dir = tmp(json);
    expect(() => bind(loadInsightRules(dir).survivorship)).toThrow('invalid rules at key "fields.gender.sources.1": orders has no gender');
  });

  it.each([
    ['an unknown rule', (j: any) => (j.fields.phone.rules = [{ rule: 'newest' }]), 'fields.phone.rules.0.rule'],
    ['a priority naming a source the field does not use', (j: any) => (j.fields.name.rules = [{ rule: 'sourcePriority', order: ['orders'] }]), 'fields.name.rules.0.order.0'],
    ['a bad placeholder pattern', (j: any) => (j.fields.email.ignore = ['(']), 'fields.email.ignore.0'],
    ['a missing field', (j: any) => delete j.fields.province, 'fields.province'],
    ['an unknown field', (j: any) => (j.fields.nickname = j.fields.name), 'fields.nickname'],
  ])('refuses %s, naming the file and the key', (_, mutate, key) => {
    const json = base();
    mutate(json);
    const dir = tmp(json);
    expect(() => loadInsightRules(dir)).toThrow(`${path.join(dir, 'survivorship.json')}: invalid rules at key "${key}"`);
  });

  it("names each field's rules in its SDL description, as configured", () => {
    const schema = buildSchema(demoRegistry());
    const customer = schema.getType('Customer') as GraphQLObjectType;
    const consent = schema.getType('MarketingConsent') as GraphQLObjectType;
    for (const field of GOLDEN_FIELDS) {
      const sdl = field.startsWith('marketingConsent.') ? consent.getFields()[field.split('.')[1]] : customer.getFields()[field];
      expect({ field, description: sdl.description?.includes(`Survivorship: ${describeRules(rules[field])}`) }).toEqual({ field, description: true });
    }
  });
});
