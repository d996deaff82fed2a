/**
 * The start-up check of the SQL kinds that read tables of a fixed shape (crm, shop) against a real
 * database (C360_TEST_DB): the tables demo/schema.ts describes pass; a missing table or column is
 * named, every one at once; a database that cannot be reached is not a problem of the config (a
 * source may be down at start), for every SQL kind alike (sql-table too), and costs no more than
 * one failed call.
 */
import { createCrmTables, createOrderTables } from '../../demo/schema';
import { kind as crmKind } from '../../src/sources/crm';
import { kind as shopKind } from '../../src/sources/shop';
import { kind as sqlTableKind } from '../../src/sources/sql-table';
import { CallRecorder } from '../../src/sources/observe';
import { checkSources, uncheckedWarning } from '../../src/sources/registry';
import type { SourceName } from '../../src/vocabulary';
import { freshDatabase, itOn, testEngine, type TestDatabase } from '../helpers/db';

let t: TestDatabase;

beforeEach(async () => {
  t = await freshDatabase('check');
});
afterEach(async () => {
  await t?.drop();
});

/** What the gateway's start-up (and check-config) find for one crm and one shop instance on `connection`s, and a sql-table one on `mapped`'s. */
async function checkOf(crm: unknown, shop: unknown, recorder = new CallRecorder(), mapped?: unknown, phoneColumn = 'mobile') {
  const sources = [
    { name: 'crm' as SourceName, kind: crmKind, connector: crmKind.create('crm' as SourceName, crmKind.options.parse({ connection: crm }), recorder) },
    { name: 'orders' as SourceName, kind: shopKind, connector: shopKind.create('orders' as SourceName, shopKind.options.parse({ connection: shop }), recorder) },
  ];
  if (mapped !== undefined) {
    const options = sqlTableKind.options.parse({
      connection: mapped,
      profile: { table: 'crm_contacts', key: 'contact_id', updatedAt: 'updated_at', fields: { name: { column: 'name' } } },
      identifiers: [{ kind: 'PHONE', column: phoneColumn }],
    });
    sources.push({ name: 'crm_mapped' as SourceName, kind: sqlTableKind as any, connector: sqlTableKind.create('crm_mapped' as SourceName, options, recorder) as any });
  }
  try {
    return await checkSources({ sources: sources as any });
  } finally {
    for (const s of sources) await s.connector.close();
  }
}

const problemsOf = async (crm: unknown, shop: unknown) => (await checkOf(crm, shop)).problems;

describe('Sources: the start-up check of the crm and shop kinds', () => {
  it('passes the tables demo/schema.ts describes', async () => {
    await createCrmTables(t.db);
    await createOrderTables(t.db);
    expect(await problemsOf(t.connection, t.connection)).toEqual([]);
  });

  it('names each table missing and each column missing, by source, all at once', async () => {
    await createOrderTables(t.db);
    await t.db.schema.alterTable('refunds', (table) => table.dropColumn('reason'));
    await t.db.schema.dropTable('order_lines');
    await t.db.schema.createTable('crm_contacts', (table) => {
      table.string('contact_id', 32).primary();
      table.string('name', 64);
    });
    const problems = await problemsOf(t.connection, t.connection);
    expect(problems).toEqual([
      expect.stringMatching(
        /^ {2}sources\[crm\]\.connection: table crm_contacts has no column mobile, email, gender, birthday, province, city, member_no, tier, owner_rep, owner_team, sms_opt_in, email_opt_in, created_at, updated_at \(the crm kind reads /,
      ),
      '  sources[crm].connection: table crm_tier_changes does not exist in this database (or this connection may not see it); the crm kind reads crm_contacts, crm_tier_changes',
      '  sources[orders].connection: table order_lines does not exist in this database (or this connection may not see it); the shop kind reads shop_accounts, orders, order_lines, refunds',
      expect.stringMatching(/^ {2}sources\[orders\]\.connection: table refunds has no column reason \(/),
    ]);
  });

  it('finds no problem in a database that does not answer, of any SQL kind: a source may be down at start, and is left unchecked', async () => {
    const recorder = new CallRecorder();
    const down = testEngine === 'mariadb' ? { client: 'mysql', url: 'mysql://c360@127.0.0.1:1/crm' } : { client: 'sqlite', filename: '/nonexistent/c360/crm.sqlite' };
    const found = await checkOf(down, down, recorder, down);
    expect(found.problems).toEqual([]);
    expect(found.unchecked.map(({ source, code }) => ({ source, code }))).toEqual([
      { source: 'crm', code: 'SOURCE_UNAVAILABLE' },
      { source: 'orders', code: 'SOURCE_UNAVAILABLE' },
      { source: 'crm_mapped', code: 'SOURCE_UNAVAILABLE' },
    ]);
    // One catalogue call per instance: the first table it cannot read ends the check.
    expect(recorder.calls.map((c) => [c.source, c.operation])).toEqual([
      ['crm', 'describeTables'],
      ['orders', 'describeTables'],
      ['crm_mapped', 'describeTable'],
    ]);
  });

  itOn('mariadb')(
    'names why a server that answers could not be read: a database name it does not have, a password it refuses (the warning said only "did not answer")',
    async () => {
      const url = (edit: (u: URL) => void) => {
        const u = new URL((t.connection as { url: string }).url);
        edit(u);
        return { client: 'mysql', url: u.toString() };
      };
      const noSuchDatabase = url((u) => (u.pathname = '/c360_no_such_database'));
      const refusedPassword = url((u) => (u.password = 'not-the-password'));
      const { unchecked } = await checkOf(noSuchDatabase, refusedPassword);
      expect(unchecked.map(uncheckedWarning)).toEqual([
        'sources[crm]: not checked, its system could not be read (SOURCE_UNAVAILABLE: crm describeTables: source unavailable (ER_BAD_DB_ERROR)); served unchecked (its fields SOURCE_UNAVAILABLE while it is down), checked once its system answers',
        'sources[orders]: not checked, its system could not be read (SOURCE_UNAVAILABLE: orders describeTables: source unavailable (ER_ACCESS_DENIED_ERROR)); served unchecked (its fields SOURCE_UNAVAILABLE while it is down), checked once its system answers',
      ]);
      // Codes only: never the URL, its password or the database's name.
      expect(unchecked.map(uncheckedWarning).join('\n')).not.toMatch(/not-the-password|c360_no_such_database|mysql:/);
    },
  );

  it('still stops start-up on a sql-table mapping its reachable table cannot serve, beside a source that is down', async () => {
    await createCrmTables(t.db);
    await createOrderTables(t.db);
    const down = testEngine === 'mariadb' ? { client: 'mysql', url: 'mysql://c360@127.0.0.1:1/crm' } : { client: 'sqlite', filename: '/nonexistent/c360/crm.sqlite' };
    const fine = await checkOf(down, t.connection, new CallRecorder(), t.connection);
    expect(fine.problems).toEqual([]);
    expect(fine.unchecked).toEqual([expect.objectContaining({ source: 'crm', code: 'SOURCE_UNAVAILABLE' })]);
    const wrong = await checkOf(down, t.connection, new CallRecorder(), t.connection, 'mobil');
    expect(wrong.unchecked).toEqual([expect.objectContaining({ source: 'crm', code: 'SOURCE_UNAVAILABLE' })]);
    expect(wrong.problems).toEqual([
      expect.stringMatching(/^ {2}sources\[crm_mapped\]\.identifiers\[0\]\.column: column "mobil" does not exist in table crm_contacts \(columns: /),
    ]);
  });
});
