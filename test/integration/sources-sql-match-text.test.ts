/**
 * `whereMatchesText`, the SQL of a BI text filter's pushdown (CRM tiers and cities, the shop's
 * registration channel, a declarative table's text column): on every engine and collation, at
 * least every row whose text `matchText` folds to one of the values, and no plain row that does
 * not. The planner verifies what it returns (test/e2e/bi-filters.test.ts: the answers).
 */
import { matchText } from '../../src/canonical';
import { whereMatchesText } from '../../src/sources/sql';
import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';

const VALUES = ['gold', 'Gold', 'GOLD', ' Gold ', 'Ｇｏｌｄ', 'gold\t', 'golden', 'silver', '上海', '上海市', 'Hong Kong', 'hong  kong', 'MÜNCHEN', 'münchen', null];

/** Collations to check: SQLite has one; MariaDB as the tests make databases and as a server's default makes them. */
const collations = testEngine === 'mariadb' ? ['utf8mb4_bin', 'utf8mb4_general_ci'] : [undefined];

describe.each(collations)('whereMatchesText (%s)', (collation) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase('match_text', { collation });
    await t.db.schema.createTable('rows', (x) => {
      x.integer('id').primary();
      x.string('v', 64).nullable();
    });
    await t.db('rows').insert(VALUES.map((v, id) => ({ id, v })));
  });
  afterAll(async () => {
    await t?.drop();
  });

  const found = async (values: string[]) => new Set((await whereMatchesText(t.db('rows').select('id', 'v'), t.db, 'v', values)).map((r: { v: string }) => r.v));

  it.each([['gold'], ['GOLD'], ['Ｇｏｌｄ'], ['上海'], ['hong kong'], ['münchen']])('finds every row %s matches, and no plain row it does not', async (value) => {
    const got = await found([value]);
    for (const v of VALUES) if (v !== null && matchText(v) === matchText(value)) expect(got).toContain(v);
    // A row of printable ASCII or Chinese characters alone is found only when it matches.
    for (const v of ['golden', 'silver', '上海市', '上海', 'gold', 'Hong Kong']) if (matchText(v) !== matchText(value)) expect(got).not.toContain(v);
  });
});
