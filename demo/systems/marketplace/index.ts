/**
 * The marketplace demo system: the brand's Tmall flagship store behind a stand-in TOP router.
 * One OneID record per buyer (`tb_buyers.buyer_open_uid`). Rows: ./rows.ts; store: ./schema.ts;
 * wire format: ./server.ts.
 */
import type { DemoSystem } from '../../system';
import { CATEGORY_BY_CID, marketplaceRows, PRESENCE } from './rows';
import { createMarketplaceTables, TABLES } from './schema';
import { startMarketplaceServer } from './server';

/** The credentials the stand-in accepts (demo values, not secrets). */
export const DEMO_CREDENTIALS = {
  appKey: '12345678',
  appSecret: 'demo-top-app-secret-0000000000000',
  session: '6100a0b1c2d3e4f5demo-seller-session',
} as const;

export const system: DemoSystem = {
  name: 'marketplace',
  kind: 'marketplace',
  store: 'marketplace',
  tables: TABLES,
  createTables: createMarketplaceTables,
  present: (person, rng) => rng.chance(PRESENCE[person.segment]),
  rowsFor: (person, rng, ctx) => marketplaceRows(person, rng, ctx),
  records: { table: 'tb_buyers', id: (row) => String(row.buyer_open_uid) },
  serve: ({ dbFile, port }) => startMarketplaceServer({ db: dbFile, port, ...DEMO_CREDENTIALS }),
  sourceOptions: (url) => ({
    baseUrl: url,
    ...DEMO_CREDENTIALS,
    channel: 'tmall',
    timeoutMs: 10000,
    categories: { ...CATEGORY_BY_CID },
  }),
};
