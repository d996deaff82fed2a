/**
 * Export rows: one NDJSON line is the JSON of `{ _cursor, <field path>: value, … }` in the order
 * the fields were asked; a CSV row is the cursor and the values, quoted where a cell needs it.
 */
import { rowWriter } from '../../src/bi/export';

const node = {
  id: 'c1',
  name: 'Zhang "Wei"\n',
  memberTier: null,
  orderSummary: { orderCount: 3, lifetimeValue: { amount: '1024.50' }, lastOrderAt: '2026-11-30T08:00:00.000Z' },
  marketingConsent: { sms: true, email: false, wechat: null },
  sourceRecords: [{ source: 'a', recordId: '1' }, { source: 'b' }],
  tags: ['vip', '上海'],
};
const fields = [
  'id',
  'name',
  'memberTier',
  'orderSummary.orderCount',
  'orderSummary.lifetimeValue.amount',
  'marketingConsent.sms',
  'sourceRecords.recordId',
  'tags',
  'city.name',
];

describe('export rows', () => {
  it('writes an NDJSON line equal to the JSON of the row object, fields in the order asked', () => {
    const line = rowWriter('ndjson', fields)('eyJvIjoiSURfQVNDIn0', node);
    expect(line.endsWith('}\n')).toBe(true);
    expect(line).toBe(
      JSON.stringify({
        _cursor: 'eyJvIjoiSURfQVNDIn0',
        id: 'c1',
        name: 'Zhang "Wei"\n',
        memberTier: null,
        'orderSummary.orderCount': 3,
        'orderSummary.lifetimeValue.amount': '1024.50',
        'marketingConsent.sms': true,
        'sourceRecords.recordId': ['1', null],
        tags: ['vip', '上海'],
        'city.name': null,
      }) + '\n',
    );
  });

  it('answers null for every field of a node that is null (a customer the role may not read)', () => {
    expect(JSON.parse(rowWriter('ndjson', ['id', 'orderSummary.orderCount'])('x', null))).toEqual({ _cursor: 'x', id: null, 'orderSummary.orderCount': null });
  });

  it('writes a CSV row with quoting for quotes, commas, line breaks and formula-looking cells', () => {
    const row = rowWriter('csv', ['id', 'name', 'memberTier', 'marketingConsent.sms', 'tags', 'note'])('cur', { ...node, note: '=SUM(A1)' });
    expect(row).toBe('cur,c1,"Zhang ""Wei""\n",,true,"[""vip"",""上海""]","\'=SUM(A1)"\r\n');
  });

  it('defuses every cell a spreadsheet would run as a formula with a leading quote (quoting alone does not stop Excel), and leaves numbers and phones alone', () => {
    const cells = ['=HYPERLINK("http://x","y")', '+8613800138000', "+1+cmd|' /C calc'!A0", '-2+3', '@SUM(A1)', '\t=1', '\r=1', '-12.50', '3', 'a=b'];
    const row = rowWriter(
      'csv',
      cells.map((_, i) => `f${i}`),
    )('cur', Object.fromEntries(cells.map((c, i) => [`f${i}`, c])));
    expect(row).toBe(`cur,"'=HYPERLINK(""http://x"",""y"")",+8613800138000,"'+1+cmd|' /C calc'!A0","'-2+3","'@SUM(A1)","'\t=1","'\r=1",-12.50,3,a=b\r\n`);
  });
});
