/**
 * The CRM connector against a real database (C360_TEST_DB) holding the CRM's own tables
 * (demo/schema.ts), seeded with hand-written rows in the CRM's own formats.
 */
import path from 'node:path';
import os from 'node:os';
import { createCrmTables } from '../../demo/schema';
import { isSourceError, SourceError } from '../../src/errors';
import { createCrmConnector, type CrmContactRow } from '../../src/sources/crm/connector';
import { CallRecorder } from '../../src/sources/observe';
import type { CrmConnector, CrmContact } from '../../src/sources/crm/types';
import type { ScannedRecord } from '../../src/vocabulary';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { lists, readRecords } from '../helpers/source-failure';

function contactRow(id: string, over: Partial<CrmContactRow> = {}): CrmContactRow {
  return {
    contact_id: id,
    name: `Name ${id}`,
    mobile: null,
    email: null,
    gender: '',
    birthday: null,
    province: null,
    city: null,
    member_no: null,
    tier: 'bronze',
    owner_rep: null,
    owner_team: null,
    sms_opt_in: null,
    email_opt_in: null,
    created_at: '2023-01-01 09:00:00',
    updated_at: '2024-01-01 09:00:00',
    ...over,
  };
}

function ok<T>(slot: T | SourceError | null): T {
  if (slot === null) throw new Error('expected a value, got null');
  if (isSourceError(slot)) throw new Error(`expected a value, got ${slot.message}`);
  return slot as T;
}

let t: TestDatabase;
let recorder: CallRecorder;
let crm: CrmConnector;

beforeAll(async () => {
  t = await freshDatabase('crm');
  await createCrmTables(t.db);
  await t.db('crm_contacts').insert([
    contactRow('C0000001', {
      name: '王伟',
      mobile: '138-0013-8000',
      email: '  Wang.Wei@Example.COM ',
      gender: 'M',
      birthday: '1990-05-17',
      province: '上海',
      city: '上海',
      member_no: 'M00000001',
      tier: 'gold',
      owner_rep: 'rep-7',
      owner_team: 'team-east',
      sms_opt_in: 1,
      email_opt_in: 0,
      created_at: '2023-06-01 08:30:00',
      updated_at: '2024-03-01 16:15:00',
    }),
    contactRow('C0000002', { mobile: '+86 13800138001', gender: 'F', sms_opt_in: 0, email_opt_in: 1 }),
    contactRow('C0000003', { mobile: '8613800138002', gender: '男' }),
    contactRow('C0000004', { mobile: '13800138003', gender: '女' }),
    contactRow('C0000005', { mobile: 'call me maybe', email: 'not an email', gender: '', birthday: '1990-02-30' }),
    contactRow('C0000006', { created_at: 'garbage' }),
    contactRow('C0000007', { mobile: '010-6552 9988', gender: null }),
  ]);
  await t.db('crm_tier_changes').insert([
    { contact_id: 'C0000001', from_tier: 'silver', to_tier: 'gold', changed_at: '2024-02-01 10:00:00' },
    { contact_id: 'C0000001', from_tier: null, to_tier: 'bronze', changed_at: '2023-06-01 08:30:00' },
    { contact_id: 'C0000001', from_tier: 'bronze', to_tier: 'silver', changed_at: '2023-12-24 23:59:59' },
    { contact_id: 'C0000002', from_tier: null, to_tier: 'bronze', changed_at: 'yesterday' },
    { contact_id: 'C0000002', from_tier: 'bronze', to_tier: 'silver', changed_at: '2024-01-02 00:00:00' },
  ]);
});
afterAll(() => t.drop());

beforeEach(() => {
  recorder = new CallRecorder();
  crm = createCrmConnector({ connection: t.connection }, recorder);
});
afterEach(() => crm.close());

describe('CRM connector: contactsByIds', () => {
  it('answers in key order, null for unknown ids, repeated keys answered each time, in one call', async () => {
    const answers = await crm.contactsByIds(['C0000003', 'C9999999', 'C0000001', 'C0000003']);
    expect(answers.map((a) => (a && !isSourceError(a) ? a.id : a))).toEqual(['C0000003', null, 'C0000001', 'C0000003']);
    expect(recorder.of('crm', 'contactsByIds').map((c) => c.batchSize)).toEqual([3]);
  });

  it('answers [] for no keys without calling the CRM', async () => {
    await expect(crm.contactsByIds([])).resolves.toEqual([]);
    expect(recorder.calls).toEqual([]);
  });

  it('converts the CRM formats to the canonical vocabulary', async () => {
    const [c] = await crm.contactsByIds(['C0000001']);
    expect(ok(c)).toEqual<CrmContact>({
      id: 'C0000001',
      name: '王伟',
      phone: '+8613800138000',
      email: 'wang.wei@example.com',
      gender: 'MALE',
      birthday: '1990-05-17',
      province: '上海',
      city: '上海',
      memberNo: 'M00000001',
      tier: 'gold',
      ownerRep: 'rep-7',
      ownerTeam: 'team-east',
      smsOptIn: true,
      emailOptIn: false,
      // Asia/Shanghai is UTC+8 all year.
      createdAt: '2023-06-01T00:30:00.000Z',
      updatedAt: '2024-03-01T08:15:00.000Z',
    });
  });

  it('reads every phone format as E.164 and every gender spelling as the enum', async () => {
    const answers = (await crm.contactsByIds(['C0000001', 'C0000002', 'C0000003', 'C0000004', 'C0000007'])).map(ok);
    expect(answers.map((c) => c.phone)).toEqual([
      '+8613800138000', // 138-0013-8000
      '+8613800138001', // +86 13800138001
      '+8613800138002', // 8613800138002
      '+8613800138003', // 13800138003
      '+861065529988', // 010-6552 9988, a Beijing landline
    ]);
    expect(answers.map((c) => c.gender)).toEqual(['MALE', 'FEMALE', 'MALE', 'FEMALE', 'UNKNOWN']);
    expect(answers.map((c) => [c.smsOptIn, c.emailOptIn])).toEqual([
      [true, false],
      [false, true],
      [null, null],
      [null, null],
      [null, null],
    ]);
  });

  it('reads an unparseable optional field as null, not as a malformed contact', async () => {
    const c = ok((await crm.contactsByIds(['C0000005']))[0]);
    expect([c.phone, c.email, c.birthday, c.gender]).toEqual([null, null, null, 'UNKNOWN']);
  });

  it('answers a birthday stored as a unix time as a row error, not as no birthday', async () => {
    // 631152000 is 1990-01-01 in seconds: no typo of a person's, and read as null it hid a birthday the CRM holds.
    await t.db('crm_contacts').insert([contactRow('C0000090', { birthday: '631152000' }), contactRow('C0000091', { birthday: '-315619200' })]);
    try {
      const answers = await crm.contactsByIds(['C0000090', 'C0000091', 'C0000005']);
      expect(answers.map((a) => isSourceError(a) && [a.code, a.message])).toEqual([
        ['SOURCE_BAD_RESPONSE', expect.stringContaining('birthday is a time, not a date')],
        ['SOURCE_BAD_RESPONSE', expect.stringContaining('birthday is a time, not a date')],
        false,
      ]);
    } finally {
      await t.db('crm_contacts').whereIn('contact_id', ['C0000090', 'C0000091']).delete();
    }
  });

  it('answers a malformed contact as a SourceError in its own slot; the rest of the batch answers', async () => {
    const [bad, good] = await crm.contactsByIds(['C0000006', 'C0000002']);
    expect(isSourceError(bad)).toBe(true);
    expect((bad as SourceError).code).toBe('SOURCE_BAD_RESPONSE');
    expect((bad as SourceError).sourceName).toBe('crm');
    expect((bad as SourceError).message).not.toContain('garbage');
    expect(ok(good).id).toBe('C0000002');
  });

  it('chunks to maxBatch: 120 ids with maxBatch 50 are 3 calls', async () => {
    const small = createCrmConnector({ connection: t.connection, maxBatch: 50 }, recorder);
    try {
      const ids = Array.from({ length: 120 }, (_, i) => `C${String(i + 1).padStart(7, '0')}`);
      const answers = await small.contactsByIds(ids);
      expect(answers.filter((a) => a !== null)).toHaveLength(7);
      expect(ok(answers[0]).id).toBe('C0000001');
      expect(answers[119]).toBeNull();
      expect(
        recorder
          .of('crm', 'contactsByIds')
          .map((c) => c.batchSize)
          .sort((a, b) => b - a),
      ).toEqual([50, 50, 20]);
    } finally {
      await small.close();
    }
  });

  it('refuses a maxBatch above the SQL IN-list ceiling at construction', () => {
    expect(() => createCrmConnector({ connection: t.connection, maxBatch: 5000 }, recorder)).toThrow(/maxBatch/);
  });
});

describe('CRM connector: tierChangesByContactIds', () => {
  it('answers each contact its changes oldest first, [] for unknown, a bad row in its list position', async () => {
    const [first, second, unknown] = lists(await crm.tierChangesByContactIds(['C0000001', 'C0000002', 'C0000404']));
    expect(first.map(ok)).toEqual([
      { contactId: 'C0000001', fromTier: null, toTier: 'bronze', changedAt: '2023-06-01T00:30:00.000Z' },
      { contactId: 'C0000001', fromTier: 'bronze', toTier: 'silver', changedAt: '2023-12-24T15:59:59.000Z' },
      { contactId: 'C0000001', fromTier: 'silver', toTier: 'gold', changedAt: '2024-02-01T02:00:00.000Z' },
    ]);
    // 'yesterday' sorts after the digits: the malformed change is second, and answers as an error there.
    expect(second).toHaveLength(2);
    expect(ok(second[0]).toTier).toBe('silver');
    expect(isSourceError(second[1])).toBe(true);
    expect(unknown).toEqual([]);
    expect(recorder.of('crm', 'tierChangesByContactIds')).toHaveLength(1);
  });
});

describe('CRM connector: scan', () => {
  let s: TestDatabase;
  let feed: CrmConnector;
  beforeAll(async () => {
    s = await freshDatabase('crmscan');
    await createCrmTables(s.db);
    await s.db('crm_contacts').insert([
      contactRow('C1', { mobile: '138-0013-8000', email: ' A@X.COM ', member_no: 'M00000001', gender: 'F', birthday: '1991-01-02', updated_at: '2024-01-01 10:00:00' }),
      // Two contacts updated in the same second: the id breaks the tie, neither is lost at a page edge.
      contactRow('C2', { mobile: '8613800138001', updated_at: '2024-01-02 10:00:00' }),
      contactRow('C3', { email: 'c3@x.com', updated_at: '2024-01-02 10:00:00' }),
      contactRow('C4', { updated_at: '2024-01-03 10:00:00' }),
      contactRow('C5', { member_no: 'M00000005', updated_at: '2024-01-04 10:00:00' }),
    ]);
  });
  afterAll(() => s.drop());
  beforeEach(() => {
    feed = createCrmConnector({ connection: s.connection }, recorder);
  });
  afterEach(() => feed.close());

  async function drain(from: string | null, pageSize: number) {
    const seen: ScannedRecord[] = [];
    let cursor = from;
    for (let pages = 0; pages < 20; pages++) {
      const page = await feed.scan(cursor, pageSize);
      seen.push(...page.records);
      cursor = page.cursor;
      if (page.done) return { seen, cursor };
    }
    throw new Error('scan never finished');
  }

  it('pages through every record exactly once, in (updated_at, id) order', async () => {
    const { seen } = await drain(null, 2);
    expect(seen.map((r) => r.recordId)).toEqual(['C1', 'C2', 'C3', 'C4', 'C5']);
    expect(recorder.of('crm', 'scan')).toHaveLength(3);
  });

  it('carries raw identifiers, canonical traits and the UTC update time', async () => {
    const page = await feed.scan(null, 1);
    expect(page.records).toEqual<ScannedRecord[]>([
      {
        source: 'crm',
        recordId: 'C1',
        updatedAt: '2024-01-01T02:00:00.000Z',
        identifiers: [
          { kind: 'PHONE', value: '138-0013-8000' },
          { kind: 'EMAIL', value: ' A@X.COM ' },
          { kind: 'MEMBER_NO', value: 'M00000001' },
        ],
        traits: { name: 'Name C1', birthday: '1991-01-02', gender: 'FEMALE' },
      },
    ]);
    expect(page.done).toBe(false);
  });

  it('resumes from a cursor and picks up a record updated after it', async () => {
    const first = await feed.scan(null, 3);
    expect(first.records.map((r) => r.recordId)).toEqual(['C1', 'C2', 'C3']);
    const rest = await drain(first.cursor, 3);
    expect(rest.seen.map((r) => r.recordId)).toEqual(['C4', 'C5']);

    // Nothing new: an empty page that keeps the cursor.
    const idle = await feed.scan(rest.cursor, 3);
    expect(idle).toEqual({ records: [], cursor: rest.cursor, done: true, malformed: 0 });

    await s.db('crm_contacts').where({ contact_id: 'C2' }).update({ mobile: '13900139000', updated_at: '2024-02-01 09:00:00' });
    const next = await feed.scan(rest.cursor, 3);
    expect(next.records.map((r) => [r.recordId, r.identifiers[0]?.value])).toEqual([['C2', '13900139000']]);
    expect(next.done).toBe(true);
  });

  it('refuses a cursor it did not hand out', async () => {
    await expect(feed.scan('not-a-cursor')).rejects.toThrow(/cursor/);
  });

  it('scanRecords answers the same view for named records, null for unknown ones', async () => {
    const [c5, none, c1] = readRecords(await feed.scanRecords(['C5', 'C404', 'C1']));
    expect(c5?.identifiers).toEqual([{ kind: 'MEMBER_NO', value: 'M00000005' }]);
    expect(none).toBeNull();
    expect(c1?.recordId).toBe('C1');
  });
});

describe('CRM connector: an unreachable CRM', () => {
  it('answers SOURCE_UNAVAILABLE, and once the breaker opens, fails fast', async () => {
    const filename = path.join(os.tmpdir(), `c360-no-such-dir-${process.pid}`, 'crm.sqlite');
    const dead = createCrmConnector({ connection: { client: 'sqlite', filename }, breaker: { failureThreshold: 2, cooldownMs: 60_000 } }, recorder);
    try {
      for (let i = 0; i < 2; i++) {
        const e = await dead.contactsByIds(['C0000001']).catch((err) => err);
        expect(isSourceError(e) && e.code).toBe('SOURCE_UNAVAILABLE');
        expect(e.message).not.toContain('circuit open');
      }
      const fast = await dead.contactsByIds(['C0000001']).catch((err) => err);
      expect(isSourceError(fast) && fast.code).toBe('SOURCE_UNAVAILABLE');
      expect(fast.message).toContain('circuit open');
      await expect(dead.health()).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    } finally {
      await dead.close();
    }
  });

  it('health answers when the CRM does', async () => {
    await expect(crm.health()).resolves.toBeUndefined();
  });
});

describe('CRM connector: a chunk whose statement fails', () => {
  // A CRM whose crm_contacts is a view reading `name` through abs(score): C0000004's score is the
  // smallest BIGINT, which overflows on both engines, so the statement of the chunk holding it
  // fails while the statements of the other chunks answer.
  const IDS = ['C0000001', 'C0000002', 'C0000003', 'C0000004', 'C0000005'];
  let poisoned: TestDatabase;

  beforeAll(async () => {
    poisoned = await freshDatabase('crmchunk');
    await createCrmTables(poisoned.db);
    await poisoned.db.schema.renameTable('crm_contacts', 'crm_contact_rows');
    await poisoned.db.schema.alterTable('crm_contact_rows', (tb) => tb.bigInteger('score').notNullable().defaultTo(1));
    await poisoned.db('crm_contact_rows').insert(IDS.map((id) => contactRow(id)));
    await poisoned.db.raw(`update crm_contact_rows set score = -9223372036854775808 where contact_id = 'C0000004'`);
    const columns = Object.keys(contactRow('x')).map((c) => (c === 'name' ? 'case when abs(score) >= 0 then name end as name' : c));
    await poisoned.db.raw(`create view crm_contacts as select ${columns.join(', ')} from crm_contact_rows`);
  });
  afterAll(async () => {
    await poisoned.db.raw('drop view crm_contacts');
    await poisoned.drop();
  });

  it("answers the failed chunk's contacts its coded error and the other contacts their rows, one statement per chunk", async () => {
    const calls = new CallRecorder();
    const small = createCrmConnector({ connection: poisoned.connection, maxBatch: 2 }, calls);
    try {
      const answers = await small.contactsByIds(IDS);
      // Chunks of two: [C1 C2] [C3 C4] [C5]; the second fails as a whole.
      expect(answers.map((a) => (isSourceError(a) ? a.code : a?.id))).toEqual(['C0000001', 'C0000002', 'SOURCE_BAD_RESPONSE', 'SOURCE_BAD_RESPONSE', 'C0000005']);
      expect(answers[2]).toMatchObject({ sourceName: 'crm' });
      expect(calls.of('crm', 'contactsByIds').map((c) => c.batchSize)).toEqual([2, 2, 1]);
      // The identity feed's read-back stays every contact or none.
      await expect(small.scanRecords(IDS)).rejects.toMatchObject({ code: 'SOURCE_BAD_RESPONSE' });
    } finally {
      await small.close();
    }
  });
});
