/**
 * Demo system `wecom`: the company's WeCom (企业微信) customer contact. Sales and service staff
 * add customers as external contacts; each contact is one record (external_userid), whoever
 * of the staff added them, with each staff member's remark, noted mobiles and tags.
 * Rows: rows.ts; store: schema.ts; stand-in API: server.ts.
 */
import type { DemoSystem } from '../../system';
import { present, rowsFor } from './rows';
import { createTables, TABLES } from './schema';
import { startWecomServer } from './server';

/** The stand-in accepts exactly these credentials; the demo config gets them from `sourceOptions`. */
export const DEMO_CORP_ID = 'wwdemo0c360wecom';
export const DEMO_CORP_SECRET = 'demo-wecom-secret';

export const system: DemoSystem = {
  name: 'wecom',
  store: 'wecom',
  kind: 'wecom',
  tables: TABLES,
  createTables,
  present,
  rowsFor,
  records: { table: 'wecom_contacts', id: (row) => String(row.external_userid) },
  serve: ({ dbFile, port }) => startWecomServer({ db: dbFile, port, corpId: DEMO_CORP_ID, corpSecret: DEMO_CORP_SECRET }),
  sourceOptions: (url) => ({ baseUrl: url, corpId: DEMO_CORP_ID, corpSecret: DEMO_CORP_SECRET, timeoutMs: 10_000 }),
};
