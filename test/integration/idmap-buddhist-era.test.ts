/**
 * A Thai customer whose birthday one system writes in the Buddhist era (`2530-03-15`) and another
 * in the common era (`1987-03-15`) is one customer: the two records share a mobile number and
 * the same birthday, not a birthday that says they are two people.
 */
import path from 'node:path';
import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolveRecords } from '../../src/idmap';
import { rec } from '../helpers/feeds';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));

describe(`OneID: birthdays written in the Buddhist era (${testEngine})`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase('idmap_be');
    await migrateLatest(t.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('links two records of one phone and one name whose birthdays are one day in two eras', async () => {
    const store = createIdMapStore(t.db);
    await resolveRecords({
      store,
      rules,
      records: [
        rec('crm', 'TH1', { phone: '+66 81 234 5678' }, { name: 'Somchai Srisawat', birthday: '2530-03-15', country: 'TH' }),
        rec('orders', '901', { phone: '+66812345678' }, { name: 'Somchai Srisawat', birthday: '1987-03-15', country: 'TH' }),
      ],
    });
    const [a, b] = await store.customerIdsBySourceRecords([
      { source: 'crm', recordId: 'TH1' },
      { source: 'orders', recordId: '901' },
    ]);
    expect(a).not.toBeNull();
    expect(b).toBe(a);
    // Linked by the rules, not left to the tier: no refused link waits for a steward.
    expect(Number((await t.db('idmap_review_candidates').count({ n: '*' }).first())?.n)).toBe(0);
  });
});
