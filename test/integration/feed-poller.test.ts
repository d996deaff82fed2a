/**
 * The change feed's poller on a real OneID store (the engine under test): it reports link-log rows
 * written after it started, in id order, as changes of the feed's kinds; skips what changes no
 * customer; and picks up a row that becomes visible after a larger id was read (a transaction
 * committed late), which a plain "id > last seen" cursor would lose.
 */
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { migrateLatest } from '../../src/idmap';
import { createLinkEventPoller, type CustomerChange, type Poller } from '../../src/feed/changes';
import { createLogger } from '../../src/observability/logger';
import { itOn, testEngine } from '../helpers/db';
import { insertEvents } from '../../src/idmap/writes';

let oneid: TestDatabase;
let poller: Poller;
const heard: CustomerChange[][] = [];

const row = (action: string, customer: string, extra: Record<string, unknown> = {}) => ({
  at: testEngine === 'mariadb' ? new Date() : new Date().toISOString(),
  actor: 'rule:test',
  action,
  customer_id: customer,
  other_customer_id: null,
  source: null,
  record_id: null,
  reason: 'test',
  evidence: null,
  ...extra,
});

async function until(n: number) {
  const deadline = Date.now() + 60_000;
  while (heard.flat().length < n) {
    if (Date.now() > deadline) throw new Error(`heard ${heard.flat().length} changes, expected ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  oneid = await freshDatabase('oneid');
  await migrateLatest(oneid.db);
  await oneid.db('idmap_link_events').insert(row('create', 'C-BEFORE', { source: 'crm', record_id: 'R0' }));
  poller = createLinkEventPoller({
    db: oneid.db,
    log: createLogger('silent'),
    intervalMs: 20,
    batch: 3,
    onChanges: async (changes) => void heard.push(changes),
  });
  await poller.start();
});

afterAll(async () => {
  await poller?.stop();
  await oneid?.drop();
});

describe('Change feed: the link-log poller', () => {
  it('reports rows written after it started, in order, with kinds and records, in bounded batches', async () => {
    await oneid
      .db('idmap_link_events')
      .insert([
        row('link', 'C1', { source: 'crm', record_id: 'R1' }),
        row('candidate', 'C1'),
        row('merge', 'C1', { other_customer_id: 'C2', evidence: JSON.stringify({ movedRecords: [{ source: 'shop', recordId: 'R2' }] }) }),
        row('bind', 'C1', { source: 'crm', record_id: 'R1' }),
        row('decision', 'C1', { other_customer_id: 'C3' }),
        row('split', 'C1', { other_customer_id: 'C2', evidence: JSON.stringify({ movedRecords: [{ source: 'shop', recordId: 'R2' }] }) }),
        row('unlink', 'C1', { source: 'crm', record_id: 'R1' }),
      ]);
    await until(5);
    const changes = heard.flat();
    expect(changes.map((c) => [c.kind, c.customerId, c.otherCustomerId, c.records])).toEqual([
      ['LINKED', 'C1', null, [{ source: 'crm', recordId: 'R1' }]],
      ['MERGED', 'C1', 'C2', [{ source: 'shop', recordId: 'R2' }]],
      ['UPDATED', 'C1', null, [{ source: 'crm', recordId: 'R1' }]],
      ['SPLIT', 'C1', 'C2', [{ source: 'shop', recordId: 'R2' }]],
      ['UNLINKED', 'C1', null, [{ source: 'crm', recordId: 'R1' }]],
    ]);
    // Never more than a batch of rows a round: 7 rows in 3 rounds.
    expect(heard.length).toBeGreaterThanOrEqual(3);
    const ids = changes.map((c) => Number(c.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('reports a row committed after a larger id was read (a gap is looked at again)', async () => {
    heard.length = 0;
    const [{ max }] = await oneid.db('idmap_link_events').max({ max: 'id' });
    const late = Number(max) + 1;
    await oneid.db('idmap_link_events').insert({ id: late + 1, ...row('create', 'C-EARLY', { source: 'crm', record_id: 'R8' }) });
    await until(1);
    await oneid.db('idmap_link_events').insert({ id: late, ...row('create', 'C-LATE', { source: 'crm', record_id: 'R9' }) });
    await until(2);
    expect(heard.flat().map((c) => c.customerId)).toEqual(['C-EARLY', 'C-LATE']);
  });

  // The first subscriber on a replica starts its poller while a resolution batch on another replica is writing.
  itOn('mariadb')('reports the events of a transaction that took its ids before the poller started and commits after', async () => {
    const trx = await oneid.db.transaction();
    const fresh: CustomerChange[][] = [];
    const second = createLinkEventPoller({ db: oneid.db, log: createLogger('silent'), intervalMs: 20, batch: 500, onChanges: async (c) => void fresh.push(c) });
    try {
      await insertEvents(
        trx,
        new Date().toISOString(),
        [1, 2, 3].map((i) => ({
          actor: 'rule:phone',
          action: 'create' as const,
          customerId: `C-INFLIGHT-${i}`,
          source: 'crm' as const,
          recordId: `R-INFLIGHT-${i}`,
          reason: 'new record',
        })),
      );
      // Another writer commits after it, with a larger id: the log's end when the poller starts.
      await insertEvents(oneid.db, new Date().toISOString(), [
        { actor: 'user:steward', action: 'merge', customerId: 'C-BEFORE-START', otherCustomerId: 'C-X', reason: 'same person' },
      ]);
      await second.start();
      await trx.commit();
      const deadline = Date.now() + 60_000;
      while (fresh.flat().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      expect(fresh.flat().map((c) => c.customerId)).toEqual(['C-INFLIGHT-1', 'C-INFLIGHT-2', 'C-INFLIGHT-3']);
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
      await second.stop();
    }
  });

  // A transaction may stay open past the gap's retry time: a steward's merge waiting on a row lock
  // (innodb_lock_wait_timeout, 50 s by default) after it wrote its event, a resolution batch on a
  // loaded server. Before, its events were given up after GAP_RETRY_MS (10 s) and never reported.
  itOn('mariadb')('reports the events of a transaction still open when their gap is past its retry time, once it commits', async () => {
    const trx = await oneid.db.transaction();
    const fresh: CustomerChange[][] = [];
    const heardOf = () => fresh.flat().map((c) => c.customerId);
    // A fault test: the retry time is short on purpose, so that the transaction outlives it.
    const GAP_RETRY = 50;
    const third = createLinkEventPoller({
      db: oneid.db,
      log: createLogger('silent'),
      intervalMs: 20,
      batch: 500,
      gapRetryMs: GAP_RETRY,
      onChanges: async (c) => void fresh.push(c),
    });
    await third.start();
    try {
      await insertEvents(trx, new Date().toISOString(), [{ actor: 'user:steward', action: 'merge', customerId: 'C-SLOW', otherCustomerId: 'C-Y', reason: 'same person' }]);
      await insertEvents(oneid.db, new Date().toISOString(), [
        { actor: 'rule:phone', action: 'create', customerId: 'C-QUICK', source: 'crm', recordId: 'R-QUICK', reason: 'new record' },
      ]);
      const deadline = Date.now() + 60_000;
      while (!heardOf().includes('C-QUICK') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(heardOf()).toEqual(['C-QUICK']);
      // Many rounds past the retry time while the transaction is open.
      await new Promise((r) => setTimeout(r, 20 * GAP_RETRY));
      await trx.commit();
      while (heardOf().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(heardOf()).toEqual(['C-QUICK', 'C-SLOW']);
      // Once committed the gap is filled: a position holds no id waiting.
      expect(third.position().gaps.newest(16)).toEqual([]);
      // The file's own poller hears both too: the next test starts once it has.
      while (!heard.flat().some((c) => c.customerId === 'C-SLOW') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
      await third.stop();
    }
  });

  // A resolution batch (DEFAULT_LINK_BATCH records, one event or more each) writes its events in one
  // transaction; a steward's merge on another replica commits meanwhile with a larger id.
  itOn('mariadb')("reports every event of a resolution batch's transaction that commits after a steward's change with a larger id", async () => {
    heard.length = 0;
    const BATCH = 1500;
    const trx = await oneid.db.transaction();
    try {
      await insertEvents(
        trx,
        new Date().toISOString(),
        Array.from({ length: BATCH }, (_, i) => ({
          actor: 'rule:phone',
          action: 'create' as const,
          customerId: `C-RUN-${i}`,
          source: 'crm' as const,
          recordId: `R-RUN-${i}`,
          reason: 'new record',
        })),
      );
      await insertEvents(oneid.db, new Date().toISOString(), [
        { actor: 'user:steward', action: 'merge', customerId: 'C-STEWARD', otherCustomerId: 'C-OTHER', reason: 'same person' },
      ]);
      await until(1);
      expect(heard.flat().map((c) => c.customerId)).toEqual(['C-STEWARD']);
      await trx.commit();
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
    await until(1 + BATCH);
    await new Promise((r) => setTimeout(r, 200)); // a few more rounds: nothing is reported twice
    const ids = heard.flat().map((c) => c.customerId);
    expect(ids).toHaveLength(1 + BATCH);
    expect(ids.slice(1)).toEqual(Array.from({ length: BATCH }, (_, i) => `C-RUN-${i}`));
  });
});
