/**
 * A timeline over a shop whose order table holds one malformed order (a currency no code
 * spells) among good ones, against the real store (C360_TEST_DB). The malformed order's events
 * take places in the source's answer like any other row, so a page whose answer reached one
 * must still say that more follow: walking the pages yields every good event, in the order
 * written out here by hand, with the malformed order reported as a gap wherever it falls.
 */
import { createOrderTables } from '../../demo/schema';
import type { IdMapReader } from '../../src/idmap/types';
import { createLoaders } from '../../src/loaders';
import { CallRecorder } from '../../src/sources/observe';
import { createShopConnector } from '../../src/sources/shop/connector';
import type { ShopConnector } from '../../src/sources/shop/types';
import { registryOf } from '../../src/sources/registry';
import { decodeCursor, encodeCursor } from '../../src/timeline/cursor';
import type { TimelinePosition } from '../../src/timeline/merge';
import { timelinePage } from '../../src/timeline/page';
import { freshDatabase, type TestDatabase } from '../helpers/db';

const T0 = Date.UTC(2024, 1, 29, 15, 59, 0);
const MIN = 60_000;

let db: TestDatabase;
let shop: ShopConnector;

const idmap = {
  sourceRecordsByCustomerIds: async (ids: readonly string[]) =>
    ids.map((id) => [{ customerId: id, source: 'orders', recordId: '1', linkedAt: new Date(T0).toISOString(), sourceUpdatedAt: null }]),
} as unknown as IdMapReader;

beforeAll(async () => {
  db = await freshDatabase('orders_bad');
  await createOrderTables(db.db);
  await db.db('shop_accounts').insert({ account_id: 1, mobile: null, member_no: null, email: null, channel: 'tmall', registered_at: T0, updated_at: T0 });
  // Orders 1..5, one a minute, each paid a second after it was placed; order 3, never paid, has a currency no ISO code spells.
  await db.db('orders').insert(
    [1, 2, 3, 4, 5].map((i) => ({
      order_id: i,
      account_id: 1,
      status: 'completed',
      channel: 'tmall',
      total_cents: 100 * i,
      currency: i === 3 ? '¥' : 'CNY',
      placed_at: T0 + i * MIN,
      paid_at: i === 3 ? null : T0 + i * MIN + 1000,
    })),
  );
  shop = createShopConnector({ connection: db.connection }, new CallRecorder());
});

afterAll(async () => {
  await shop?.close();
  await db?.drop();
});

/** Every good event, newest first, by hand: each order's payment a second after its placing, order 3's placing left out. */
const GOOD = ['order_paid:5', 'order_placed:5', 'order_paid:4', 'order_placed:4', 'order_paid:2', 'order_placed:2', 'order_paid:1', 'order_placed:1', 'account_registered:1'];

async function walk(first: number): Promise<{ events: string[]; gaps: number }> {
  const registry = registryOf([{ name: 'orders', kind: 'shop', connector: shop }]);
  const events: string[] = [];
  let gaps = 0;
  let after: TimelinePosition | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const page = await timelinePage(createLoaders({ idmap, registry }), 'cust', { first, after, since: null, kinds: null });
    events.push(...page.events.map((e) => `${e.kind}:${e.id}`));
    gaps += page.gaps.length;
    for (const g of page.gaps) expect([g.source, g.code]).toEqual(['orders', 'SOURCE_BAD_RESPONSE']);
    if (!page.hasNextPage) return { events, gaps };
    after = decodeCursor(encodeCursor(page.events[page.events.length - 1]));
  }
  throw new Error('timeline did not end');
}

describe('Timeline paging past a malformed row', () => {
  it.each([1, 2, 3, 4, 20])('pages of %i yield every good event once, in order, and report the malformed order as a gap', async (first) => {
    const { events, gaps } = await walk(first);
    expect(events).toEqual(GOOD);
    expect(gaps).toBeGreaterThan(0);
  });
});
