import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createScrmTables } from '../../demo/schema';
import { startScrmServer, type ScrmServer } from '../../demo/scrm-server';
import { isSourceError } from '../../src/errors';
import { failure, lists } from '../helpers/source-failure';
import { CallRecorder } from '../../src/sources/observe';
import { createWechatConnector, type WechatConnectorConfig } from '../../src/sources/wechat/connector';
import type { Coupon, GroupMembership, ScrmFollower } from '../../src/sources/wechat/types';
import { freshDatabase, type TestDatabase } from '../helpers/db';

const APP_ID = 'wx-test-app';
const APP_SECRET = 'wx-test-secret';
const BATCHGET = '/cgi-bin/user/info/batchget';
const TOKEN = '/cgi-bin/token';
const COUPONS = '/scrm/v1/coupons/batchget';

const follower = (f: Record<string, unknown>) => ({
  unionid: null,
  nickname: null,
  sex: 0,
  city: null,
  province: null,
  country: null,
  subscribe: 1,
  subscribe_time: null,
  unsubscribe_time: null,
  tagid_list: '',
  bound_phone: null,
  member_no: null,
  ...f,
});

/** Followers as the SCRM stores them: sex 0/1/2, unix seconds, comma-separated tags, phones as entered. */
const followers = [
  follower({
    openid: 'oA1',
    unionid: 'uA',
    nickname: '王芳',
    sex: 2,
    city: '上海',
    province: '上海',
    country: '中国',
    subscribe_time: 1700000000,
    tagid_list: '2,5',
    bound_phone: '138-0013-8000',
    member_no: 'M00000001',
    updated_at: 1700000100,
  }),
  follower({ openid: 'oB2', unionid: 'uB', nickname: 'Lei', sex: 1, subscribe_time: 1700000050, bound_phone: '+86 13800138001', updated_at: 1700000200 }),
  follower({ openid: 'oC3', unionid: 'uC', nickname: 'Gone', sex: 2, subscribe: 0, subscribe_time: 1690000000, unsubscribe_time: 1700000300, updated_at: 1700000300 }),
  follower({ openid: 'oD4', sex: 0, subscribe_time: 1700000060, bound_phone: '8613800138002', updated_at: 1700000400 }),
];

const coupons = [
  { coupon_id: 'cp1', openid: 'oA1', title: '满100减20', value: '20.00', status: 'unused', received_at: 1700000500, redeemed_at: null },
  { coupon_id: 'cp2', openid: 'oA1', title: '5.5 off', value: '5.5', status: 'used', received_at: 1700000600, redeemed_at: 1700000700 },
  // Malformed: the value is not a yuan amount.
  { coupon_id: 'cp3', openid: 'oB2', title: 'broken', value: 'abc', status: 'unused', received_at: 1700000800, redeemed_at: null },
  { coupon_id: 'cp4', openid: 'oB2', title: '100 yuan', value: '100', status: 'expired', received_at: 1700000000, redeemed_at: null },
];

const members = [
  { openid: 'oA1', chat_id: 'chat1', chat_name: 'VIP 群', join_time: 1700001000 },
  { openid: 'oB2', chat_id: 'chat1', chat_name: 'VIP 群', join_time: 1700002000 },
  { openid: 'oB2', chat_id: 'chat2', chat_name: 'Shanghai', join_time: 1700003000 },
];

let tdb: TestDatabase;
let server: ScrmServer;
let recorder: CallRecorder;

function connect(over: Partial<WechatConnectorConfig> = {}, baseUrl = server.url) {
  return createWechatConnector({ baseUrl, appId: APP_ID, appSecret: APP_SECRET, timeoutMs: 20_000, retries: 0, ...over }, recorder);
}

beforeAll(async () => {
  tdb = await freshDatabase('scrm');
  await createScrmTables(tdb.db);
  await tdb.db('scrm_followers').insert(followers);
  await tdb.db('scrm_coupons').insert(coupons);
  await tdb.db('scrm_group_members').insert(members);
  server = await startScrmServer({ db: tdb.db, appId: APP_ID, appSecret: APP_SECRET });
});

afterAll(async () => {
  await server?.close();
  await tdb?.drop();
});

beforeEach(() => {
  recorder = new CallRecorder();
  server.setFaults(undefined);
  server.resetRequests();
});

describe('SCRM server: wire format', () => {
  // Wire bodies are checked loosely here; the connector tests check their meaning.
  type Wire = Record<string, any>;
  const token = async () =>
    ((await (await fetch(`${server.url}${TOKEN}?grant_type=client_credential&appid=${APP_ID}&secret=${APP_SECRET}`)).json()) as Wire).access_token as string;
  const post = async (path: string, body: unknown, accessToken?: string) =>
    (await (await fetch(`${server.url}${path}${accessToken ? `?access_token=${accessToken}` : ''}`, { method: 'POST', body: JSON.stringify(body) })).json()) as Wire;

  it('answers errors as errcode bodies', async () => {
    const bad = await fetch(`${server.url}${TOKEN}?grant_type=client_credential&appid=${APP_ID}&secret=nope`);
    expect(bad.status).toBe(200);
    expect(await bad.json()).toEqual({ errcode: 40125, errmsg: 'invalid appsecret' });
    expect(await post(BATCHGET, { user_list: [{ openid: 'oA1' }] })).toMatchObject({ errcode: 41001 });
    expect(await post(BATCHGET, { user_list: [{ openid: 'oA1' }] }, 'forged')).toMatchObject({ errcode: 40001 });
  });

  it('refuses more than 100 openids with errcode 40032', async () => {
    const t = await token();
    const user_list = Array.from({ length: 101 }, (_, i) => ({ openid: `o${i}`, lang: 'zh_CN' }));
    expect(await post(BATCHGET, { user_list }, t)).toEqual({ errcode: 40032, errmsg: 'invalid openid list size' });
    expect(await post(COUPONS, { openids: user_list.map((u) => u.openid) }, t)).toMatchObject({ errcode: 40032 });
  });

  it('answers only the openid for someone not following, and leaves unknown openids out', async () => {
    const body = await post(BATCHGET, { user_list: [{ openid: 'oC3' }, { openid: 'nobody' }, { openid: 'oA1' }] }, await token());
    expect(body.user_info_list).toHaveLength(2);
    expect(body.user_info_list).toContainEqual({ subscribe: 0, openid: 'oC3' });
    expect(body.user_info_list).toContainEqual(expect.objectContaining({ openid: 'oA1', sex: 2, tagid_list: [2, 5], subscribe_time: 1700000000 }));
  });
});

describe('SCRM connector: followersByOpenids', () => {
  it('answers in key order, unknown and invalid openids null, with one token and one batchget call', async () => {
    const answers = await connect().followersByOpenids(['oB2', 'nobody', 'oA1', 'not an openid!', 'oC3']);
    expect(answers.map((a) => (a && !isSourceError(a) ? a.openid : a))).toEqual(['oB2', null, 'oA1', null, 'oC3']);
    expect(recorder.calls.map((c) => [c.operation, c.batchSize])).toEqual([
      ['token', 0],
      ['followersByOpenids', 4],
    ]);
  });

  it('converts to the canonical vocabulary (sex 0/1/2, unix seconds, tag ids, unfollowed)', async () => {
    const [a, b, c, d] = (await connect().followersByOpenids(['oA1', 'oB2', 'oC3', 'oD4'])) as ScrmFollower[];
    expect(a).toEqual({
      openid: 'oA1',
      unionid: 'uA',
      nickname: '王芳',
      gender: 'FEMALE',
      city: '上海',
      province: '上海',
      country: '中国',
      subscribed: true,
      subscribedAt: '2023-11-14T22:13:20.000Z',
      tagIds: [2, 5],
    });
    expect(b).toMatchObject({ gender: 'MALE', tagIds: [], city: null, subscribedAt: '2023-11-14T22:14:10.000Z' });
    expect(c).toMatchObject({ openid: 'oC3', subscribed: false, subscribedAt: null, gender: 'UNKNOWN' });
    expect(d.gender).toBe('UNKNOWN');
  });

  it('answers a follower whose subscribe_time is in milliseconds as a row error in its slot, not a time past year 50000', async () => {
    await tdb.db('scrm_followers').insert(follower({ openid: 'oMs9', sex: 1, subscribe_time: 1700000000123, updated_at: 1700000500 }));
    try {
      const [b, ms] = await connect().followersByOpenids(['oB2', 'oMs9']);
      expect((b as ScrmFollower).subscribedAt).toBe('2023-11-14T22:14:10.000Z');
      expect(isSourceError(ms) && [ms.code, ms.message]).toEqual(['SOURCE_BAD_RESPONSE', expect.stringContaining('subscribe_time is not unix seconds')]);
    } finally {
      await tdb.db('scrm_followers').where({ openid: 'oMs9' }).del();
    }
  });

  it('chunks 250 openids into exactly 3 batchget calls, 3 requests at the server, one token', async () => {
    const openids = ['oA1', ...Array.from({ length: 249 }, (_, i) => `ox${i}`)];
    const answers = await connect().followersByOpenids(openids);
    expect(answers).toHaveLength(250);
    expect((answers[0] as ScrmFollower).openid).toBe('oA1');
    expect(answers.slice(1).every((a) => a === null)).toBe(true);
    expect(recorder.of('scrm', 'followersByOpenids').map((c) => c.batchSize)).toEqual([100, 100, 50]);
    expect(recorder.of('scrm', 'token')).toHaveLength(1);
    expect(server.requestCount(BATCHGET)).toBe(3);
    expect(server.requestCount(TOKEN)).toBe(1);
  });
});

describe('SCRM connector: coupons and groups', () => {
  it('answers coupons per openid in key order, yuan strings as CNY money, a malformed coupon in its list position', async () => {
    const [forB, forNobody, forA] = lists(await connect().couponsByOpenids(['oB2', 'nobody', 'oA1']));
    expect(forNobody).toEqual([]);
    expect(forA).toEqual([
      {
        id: 'cp2',
        openid: 'oA1',
        title: '5.5 off',
        value: { amount: '5.50', currency: 'CNY' },
        status: 'used',
        receivedAt: '2023-11-14T22:23:20.000Z',
        redeemedAt: '2023-11-14T22:25:00.000Z',
      },
      {
        id: 'cp1',
        openid: 'oA1',
        title: '满100减20',
        value: { amount: '20.00', currency: 'CNY' },
        status: 'unused',
        receivedAt: '2023-11-14T22:21:40.000Z',
        redeemedAt: null,
      },
    ]);
    expect(forB).toHaveLength(2);
    const [broken, hundred] = forB;
    expect(isSourceError(broken) && broken.code).toBe('SOURCE_BAD_RESPONSE');
    expect((hundred as Coupon).value).toEqual({ amount: '100.00', currency: 'CNY' });
    expect(recorder.of('scrm', 'couponsByOpenids')).toHaveLength(1);
  });

  it('answers a coupon of negative value as a row error in its place, as an order of negative total is, and its events too', async () => {
    // A coupon takes money off; '-20.00' is a broken row (a sign written by a ledger export), never a coupon shown as worth -20.
    await tdb.db('scrm_coupons').insert({ coupon_id: 'cpneg', openid: 'oD4', title: 'minus', value: '-20.00', status: 'unused', received_at: 1700000900, redeemed_at: null });
    try {
      const [[negative]] = lists(await connect().couponsByOpenids(['oD4']));
      expect(isSourceError(negative) && [negative.code, negative.message]).toEqual(['SOURCE_BAD_RESPONSE', expect.stringContaining('value is negative')]);
      const [events] = await connect().eventsByRecordIds(['oD4'], { limit: 10, after: null, since: null, kinds: ['coupon_received'] });
      expect(Array.isArray(events) && events.map((e) => isSourceError(e) && e.code)).toEqual(['SOURCE_BAD_RESPONSE']);
    } finally {
      await tdb.db('scrm_coupons').where({ coupon_id: 'cpneg' }).delete();
    }
  });

  it('answers group memberships per openid', async () => {
    const [forB, forA, forNobody] = lists(await connect().groupsByOpenids(['oB2', 'oA1', 'nobody']));
    expect((forB as GroupMembership[]).map((m) => m.chatId)).toEqual(['chat1', 'chat2']);
    expect(forA).toEqual([{ openid: 'oA1', chatId: 'chat1', chatName: 'VIP 群', joinedAt: '2023-11-14T22:30:00.000Z' }]);
    expect(forNobody).toEqual([]);
  });
});

describe('SCRM connector: access token', () => {
  it('caches the token across calls', async () => {
    const scrm = connect();
    await scrm.followersByOpenids(['oA1']);
    lists(await scrm.couponsByOpenids(['oA1']));
    lists(await scrm.groupsByOpenids(['oA1']));
    expect(recorder.of('scrm', 'token')).toHaveLength(1);
    expect(server.requestCount(TOKEN)).toBe(1);
  });

  it('refreshes once and retries the call when the token has expired', async () => {
    const scrm = connect();
    await scrm.followersByOpenids(['oA1']);
    const issued = server.tokensIssued();
    server.expireTokens();
    server.resetRequests();
    recorder.reset();
    const [a] = await scrm.followersByOpenids(['oA1']);
    expect((a as ScrmFollower).openid).toBe('oA1');
    expect(server.tokensIssued()).toBe(issued + 1);
    expect(server.requestCount(TOKEN)).toBe(1);
    // The refused attempt and the retry.
    expect(server.requestCount(BATCHGET)).toBe(2);
    expect(recorder.of('scrm', 'token')).toHaveLength(1);
    expect(recorder.of('scrm', 'followersByOpenids')).toHaveLength(1);
  });

  it('answers a coded error for a wrong app secret, and never calls the API', async () => {
    const e = await failure(connect({ appSecret: 'wrong' }).followersByOpenids(['oA1']));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(e.extensions).toMatchObject({ source: 'scrm', errcode: 40125 });
    expect(e.message).not.toContain('wrong');
    expect(server.requestCount(BATCHGET)).toBe(0);
  });
});

describe('SCRM connector: failures', () => {
  it('answers SOURCE_TIMEOUT when the API hangs', async () => {
    server.setFaults({ hang: true, paths: [BATCHGET] });
    const e = await failure(connect({ timeoutMs: 200 }).followersByOpenids(['oA1']));
    expect(e.code).toBe('SOURCE_TIMEOUT');
  });

  it('answers SOURCE_UNAVAILABLE on 500s', async () => {
    server.setFaults({ status: 500 });
    expect((await failure(connect().couponsByOpenids(['oA1']))).code).toBe('SOURCE_UNAVAILABLE');
  });

  it('answers SOURCE_BAD_RESPONSE for a malformed body', async () => {
    server.setFaults({ malformed: true, paths: [COUPONS] });
    expect((await failure(connect().couponsByOpenids(['oA1']))).code).toBe('SOURCE_BAD_RESPONSE');
  });

  it('opens the breaker after repeated failures and then fails fast without reaching the server', async () => {
    const scrm = connect({ breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    await scrm.health();
    server.setFaults({ status: 503, paths: [COUPONS] });
    server.resetRequests();
    await failure(scrm.couponsByOpenids(['oA1']));
    await failure(scrm.couponsByOpenids(['oB2']));
    expect(server.requestCount()).toBe(2);
    const fast = await failure(scrm.couponsByOpenids(['oA1']));
    expect(fast.code).toBe('SOURCE_UNAVAILABLE');
    expect(fast.extensions.circuit).toBe('open');
    expect(server.requestCount()).toBe(2);
  });

  it('health pings with a token and fails with a coded error when the server is down', async () => {
    await expect(connect().health()).resolves.toBeUndefined();
    expect(recorder.of('scrm', 'health')).toHaveLength(1);
    server.setFaults({ status: 502 });
    expect((await failure(connect().health())).code).toBe('SOURCE_UNAVAILABLE');
  });
});

describe('SCRM connector: errcode -1 (system busy), 45009 and 45011 (API quota)', () => {
  let stub: http.Server;
  let url: string;
  let busyErrcode = -1;
  beforeAll(async () => {
    // WeChat's transient "system busy" and its quota refusals: only a stub can answer them on demand.
    stub = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url!.startsWith(TOKEN) ? { access_token: 't', expires_in: 7200 } : { errcode: busyErrcode, errmsg: 'api freq out of limit' }));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    stub.closeAllConnections();
    await new Promise((r) => stub.close(r));
  });

  it('counts busy answers against the breaker: once open, calls fail fast without asking again', async () => {
    busyErrcode = 45009;
    let asked = 0;
    const count = (req: http.IncomingMessage) => {
      if (!req.url!.startsWith(TOKEN)) asked++;
    };
    stub.on('request', count);
    try {
      const scrm = connect({ breaker: { failureThreshold: 2, cooldownMs: 600_000 } }, url);
      expect((await failure(scrm.followersByOpenids(['oA1']))).extensions.errcode).toBe(45009);
      expect((await failure(scrm.followersByOpenids(['oA1']))).extensions.errcode).toBe(45009);
      const fast = await failure(scrm.followersByOpenids(['oA1']));
      expect(fast.code).toBe('SOURCE_UNAVAILABLE');
      expect(fast.extensions.circuit).toBe('open');
      expect(asked).toBe(2);
    } finally {
      stub.off('request', count);
    }
  });

  it.each([-1, 45009, 45011])('answers errcode %i as SOURCE_UNAVAILABLE with the errcode in the detail', async (errcode) => {
    busyErrcode = errcode;
    const e = await failure(connect({}, url).followersByOpenids(['oA1']));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
    expect(e.extensions.errcode).toBe(errcode);
  });
});

describe('SCRM connector: identity feed', () => {
  it('pages through every follower exactly once, in (updated_at, openid) order, then resumes from the cursor', async () => {
    const scrm = connect();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await scrm.scan(cursor, 3);
      pages++;
      seen.push(...page.records.map((r) => r.recordId));
      cursor = page.cursor;
      if (page.done) break;
    }
    expect(seen).toEqual(['oA1', 'oB2', 'oC3', 'oD4']);
    expect(pages).toBe(2);
    expect(recorder.of('scrm', 'scan')).toHaveLength(2);

    const idle = await scrm.scan(cursor, 3);
    expect(idle).toMatchObject({ records: [], done: true, cursor });

    await tdb.db('scrm_followers').insert(follower({ openid: 'oE5', updated_at: 1700000500 }));
    await tdb.db('scrm_followers').where({ openid: 'oA1' }).update({ updated_at: 1700000600 });
    try {
      const next = await scrm.scan(cursor, 3);
      expect(next.records.map((r) => r.recordId)).toEqual(['oE5', 'oA1']);
      expect(next.done).toBe(true);
      const mid = await scrm.scan(null, 2);
      const rest = await scrm.scan(mid.cursor, 10);
      expect([...mid.records, ...rest.records].map((r) => r.recordId)).toEqual(['oB2', 'oC3', 'oD4', 'oE5', 'oA1']);
    } finally {
      await tdb.db('scrm_followers').where({ openid: 'oE5' }).delete();
      await tdb.db('scrm_followers').where({ openid: 'oA1' }).update({ updated_at: 1700000100 });
    }
  });

  it('answers OPENID, UNIONID, PHONE and MEMBER_NO raw, and does not mark unfollowed people deleted', async () => {
    const { records } = await connect().scan(null, 3);
    expect(records[0]).toEqual({
      source: 'scrm',
      recordId: 'oA1',
      updatedAt: '2023-11-14T22:15:00.000Z',
      identifiers: [
        { kind: 'OPENID', value: 'oA1' },
        { kind: 'UNIONID', value: 'uA' },
        { kind: 'PHONE', value: '138-0013-8000' },
        { kind: 'MEMBER_NO', value: 'M00000001' },
      ],
    });
    const gone = records.find((r) => r.recordId === 'oC3')!;
    expect(gone.deleted).toBeUndefined();
    expect(gone.identifiers).toEqual([
      { kind: 'OPENID', value: 'oC3' },
      { kind: 'UNIONID', value: 'uC' },
    ]);
  });

  it('scanRecords re-reads named records through profiles/batchget, unknown openids null', async () => {
    const answers = await connect().scanRecords(['oD4', 'nobody', 'oB2']);
    expect(answers[0]).toMatchObject({
      recordId: 'oD4',
      identifiers: [
        { kind: 'OPENID', value: 'oD4' },
        { kind: 'PHONE', value: '8613800138002' },
      ],
    });
    expect(answers[1]).toBeNull();
    expect(answers[2]).toMatchObject({ recordId: 'oB2' });
    expect(recorder.of('scrm', 'scanRecords')).toEqual([{ source: 'scrm', operation: 'scanRecords', batchSize: 3 }]);
    expect(server.requestCount('/scrm/v1/profiles/batchget')).toBe(1);
  });
});
