import path from 'node:path';
import { loadIdentityRules } from '../../src/idmap/rules';
import { prepareRecord, preparedOf } from '../../src/idmap/prepare';
import { MIN_WORKER_PAGE, startPreparer } from '../../src/idmap/prepare-thread';
import { featuresOfPage, stagePage } from '../../src/idmap/stage';
import type { ScannedRecord } from '../../src/vocabulary';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));

/** Records with what staging normalizes: local, full-width, foreign and unusable phones, emails, Han and Latin names, birthdays (one a form default). */
function page(n: number): ScannedRecord[] {
  const names = ['张伟', 'Zhang Wei', '欧阳娜娜', 'Sarah Tompson', '王先生', null];
  const birthdays = ['1990-03-04', '１９９０－０４－０３', '1990', '1900-01-01', 'soon', null];
  return Array.from({ length: n }, (_, i) => ({
    source: i % 3 ? 'src_a' : 'src_b',
    recordId: `r${i}`,
    updatedAt: i % 7 ? `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T08:00:00+08:00` : 'not a time',
    identifiers: [
      { kind: 'PHONE', value: i % 5 ? `138${String(i).padStart(8, '0')}` : `１５０３５６９８${String(i % 1000).padStart(3, '０')}` },
      { kind: 'PHONE', value: i % 4 ? '702-919-1300' : '1380013', since: '2025-01-01T00:00:00Z', until: i % 2 ? '2025-06-01T00:00:00Z' : null },
      { kind: 'EMAIL', value: `Person ${i} <P.${i}+tag@Gmail.com>` },
      { kind: 'MEMBER_NO', value: i % 9 ? `m-${i}` : '' },
    ],
    traits: { name: names[i % names.length], birthday: birthdays[i % birthdays.length], gender: i % 2 ? 'FEMALE' : 'MALE', country: i % 11 ? null : 'US', city: '上海市' },
  }));
}

describe('staging prepares records on a worker thread', () => {
  it('prepares a page on the worker exactly as the stage would itself', async () => {
    const records = page(MIN_WORKER_PAGE + 50);
    const preparer = startPreparer();
    try {
      expect(await preparer.prepare(records, rules)).toBe(records.length);
    } finally {
      await preparer.close();
    }
    for (const r of records) expect(preparedOf(r, rules)).toEqual(prepareRecord(r, rules.regionOf(r.source)));
  });

  it('stages and features a worker-prepared page as an unprepared copy of it', async () => {
    const records = page(MIN_WORKER_PAGE + 10).map((r) => ({ ...r, source: 'src_a' }));
    const copy = structuredClone(records);
    const preparer = startPreparer();
    try {
      expect(await preparer.prepare(records, rules)).toBe(records.length);
    } finally {
      await preparer.close();
    }
    const at = '2026-02-01T00:00:00.000Z';
    const [a, b] = [stagePage('src_a', records, new Map(), rules, at), stagePage('src_a', copy, new Map(), rules, at)];
    expect(a).toEqual(b);
    expect(a.addIdentifiers.length).toBeGreaterThan(records.length);
    expect(featuresOfPage('src_a', records, a, rules)).toEqual(featuresOfPage('src_a', copy, b, rules));
  });

  it('leaves a page it cannot send to the worker to the stage, and goes on with the next', async () => {
    const odd = page(MIN_WORKER_PAGE);
    (odd[0].traits as Record<string, unknown>).callback = () => undefined;
    const preparer = startPreparer();
    try {
      expect(await preparer.prepare(odd, rules)).toBe(0);
      expect(await preparer.prepare(page(MIN_WORKER_PAGE), rules)).toBe(MIN_WORKER_PAGE);
    } finally {
      await preparer.close();
    }
  });

  it('leaves small pages and a closed preparer to the stage', async () => {
    const preparer = startPreparer();
    expect(await preparer.prepare(page(MIN_WORKER_PAGE - 1), rules)).toBe(0);
    await preparer.close();
    expect(await preparer.prepare(page(MIN_WORKER_PAGE), rules)).toBe(0);
  });
});

describe('a field that holds several values', () => {
  const record = (identifiers: ScannedRecord['identifiers']): ScannedRecord => ({
    source: 'src_a',
    recordId: 'r1',
    updatedAt: '2026-01-01T00:00:00Z',
    identifiers,
    traits: {},
  });
  const values = (r: ScannedRecord) => prepareRecord(r, 'CN').identifiers.map((i) => `${i.kind} ${i.value}`);

  it('gives each phone or email of a list its own identifier, with the field’s period', () => {
    const r = record([
      { kind: 'PHONE', value: '13800138000 / 139 0013 9000', since: '2025-01-01T00:00:00Z' },
      { kind: 'EMAIL', value: 'a@x.com; B@Y.com' },
    ]);
    expect(values(r)).toEqual(['PHONE +8613800138000', 'PHONE +8613900139000', 'EMAIL a@x.com', 'EMAIL b@y.com']);
    expect(prepareRecord(r, 'CN').identifiers.every((i) => i.kind === 'EMAIL' || i.since === '2025-01-01T00:00:00.000Z')).toBe(true);
    expect(values(record([{ kind: 'PHONE', value: '13800138000、13900139000' }]))).toEqual(['PHONE +8613800138000', 'PHONE +8613900139000']);
  });

  it('counts a listed value that is not usable and keeps the rest; reads one value with slashes as one number', () => {
    const p = prepareRecord(record([{ kind: 'PHONE', value: '13800138000, 1380013' }]), 'CN');
    expect([p.identifiers.map((i) => i.value), p.unusable]).toEqual([['+8613800138000'], 1]);
    expect(values(record([{ kind: 'PHONE', value: '010/6552/9988' }]))).toEqual(['PHONE +861065529988']);
    expect(prepareRecord(record([{ kind: 'PHONE', value: 'call me' }]), 'CN').unusable).toBe(1);
    // Only phones and emails are read as lists: another kind's value is one value, usable or not.
    const member = prepareRecord(record([{ kind: 'MEMBER_NO', value: 'm-1, m-2' }]), 'CN');
    expect([member.identifiers.length, member.unusable]).toEqual([0, 1]);
  });
});
