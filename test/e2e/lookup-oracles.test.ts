/**
 * Lookups are no oracle: a role may find a customer by a value only if it reads that kind of value
 * unmasked. Otherwise "found" against "not found" tells it what its masks hide (whether a WeChat
 * openid, a resident id number or a buyer id is a given customer's: an 18-character resident id with
 * a known birthday and region has about a thousand candidates, so a role that sees it hashed could
 * find it by asking). Such a lookup is refused FORBIDDEN before OneID is read, whether the value is
 * anyone's or not. Real HTTP, the default policy, the test world's own records.
 */
import { apiKeyFor, startTestWorld, type TestRole, type TestWorld } from '../helpers/world';

let world: TestWorld;
/** An active customer with an OPENID identifier, a PHONE and an SCRM and a CRM record, read as admin. */
let person: { id: string; openid: string; phone: string; scrmRecordId: string; crmRecordId: string };

const as = (role: TestRole) => ({ 'x-api-key': apiKeyFor(role) });

beforeAll(async () => {
  world = await startTestWorld({ people: 60, demoSystems: false });
  const { body } = await world.query(`{ customersConnection(first: 200) { edges { node { id identifiers { kind value } sourceRecords { source recordId } } } } }`);
  type Node = { id: string; identifiers: Array<{ kind: string; value: string }>; sourceRecords: Array<{ source: string; recordId: string }> };
  const nodes = (body.data.customersConnection.edges as Array<{ node: Node }>).map((e) => e.node);
  const value = (n: Node, kind: string) => n.identifiers.find((i) => i.kind === kind)?.value;
  const record = (n: Node, source: string) => n.sourceRecords.find((r) => r.source === source)?.recordId;
  const found = nodes.find((n) => value(n, 'OPENID') && value(n, 'PHONE') && record(n, 'SCRM') && record(n, 'CRM'))!;
  expect(found).toBeDefined();
  person = { id: found.id, openid: value(found, 'OPENID')!, phone: value(found, 'PHONE')!, scrmRecordId: record(found, 'SCRM')!, crmRecordId: record(found, 'CRM')! };
});

afterAll(async () => {
  await world?.close();
});

const BY_IDENTIFIER = `query($k: IdentifierKind!, $v: String!) { customerByIdentifier(kind: $k, value: $v) { id } }`;
const ALL_BY_IDENTIFIER = `query($k: IdentifierKind!, $v: String!) { customersByIdentifier(kind: $k, value: $v) { id } }`;
const BY_RECORD = `query($s: SourceName!, $r: String!) { customerBySourceRecord(source: $s, recordId: $r) { id } }`;

/** The codes of an answer's errors. */
const codes = (body: any): string[] => (body.errors ?? []).map((e: any) => e.extensions?.code);

describe('Access: lookups only by values the role reads unmasked', () => {
  it('refuses support a lookup by an openid it sees only hashed, FORBIDDEN, the same whether the openid is a customer’s or nobody’s', async () => {
    const owned = await world.query(BY_IDENTIFIER, { k: 'OPENID', v: person.openid }, as('support'));
    const nobody = await world.query(BY_IDENTIFIER, { k: 'OPENID', v: 'oNOBODY-has-this-openid-000' }, as('support'));
    expect(owned.body).toEqual({
      data: { customerByIdentifier: null },
      errors: [expect.objectContaining({ path: ['customerByIdentifier'], extensions: { code: 'FORBIDDEN', argument: 'kind', field: 'Identifier.value' } })],
    });
    expect(nobody.body).toEqual(owned.body);
    const list = await world.query(ALL_BY_IDENTIFIER, { k: 'OPENID', v: person.openid }, as('support'));
    expect([list.body.data, codes(list.body)]).toEqual([null, ['FORBIDDEN']]);
  });

  it('lets support look up by the kinds it reads as they are (phone, email, member no), and admin by every kind', async () => {
    expect((await world.query(BY_IDENTIFIER, { k: 'PHONE', v: person.phone }, as('support'))).body).toEqual({ data: { customerByIdentifier: { id: person.id } } });
    expect((await world.query(BY_IDENTIFIER, { k: 'OPENID', v: person.openid }, as('admin'))).body).toEqual({ data: { customerByIdentifier: { id: person.id } } });
  });

  it.each(['sales', 'support'] as const)(
    'answers %s FORBIDDEN for every kind it sees hashed, before the value is even read, and no other error for the rest',
    async (role) => {
      const kinds = ['PHONE', 'EMAIL', 'OPENID', 'UNIONID', 'MEMBER_NO', 'DEVICE_ID', 'RESIDENT_ID', 'PASSPORT'];
      const answers = await Promise.all(kinds.map(async (k) => [k, codes((await world.query(BY_IDENTIFIER, { k, v: 'x' }, as(role))).body)] as const));
      expect(Object.fromEntries(answers)).toEqual({
        // "x" is no phone, email or member number: those kinds go on to read the value.
        PHONE: ['BAD_USER_INPUT'],
        EMAIL: ['BAD_USER_INPUT'],
        MEMBER_NO: ['BAD_USER_INPUT'],
        OPENID: ['FORBIDDEN'],
        UNIONID: ['FORBIDDEN'],
        DEVICE_ID: ['FORBIDDEN'],
        RESIDENT_ID: ['FORBIDDEN'],
        PASSPORT: ['FORBIDDEN'],
      });
    },
  );

  it('refuses marketing a lookup by a WeChat record id it sees only hashed, and answers one by a CRM record id', async () => {
    const scrm = await world.query(BY_RECORD, { s: 'SCRM', r: person.scrmRecordId }, as('marketing'));
    expect(scrm.body).toEqual({
      data: { customerBySourceRecord: null },
      errors: [expect.objectContaining({ extensions: { code: 'FORBIDDEN', argument: 'source', field: 'SourceRecord.recordId' } })],
    });
    expect((await world.query(BY_RECORD, { s: 'CRM', r: person.crmRecordId }, as('marketing'))).body).toEqual({ data: { customerBySourceRecord: { id: person.id } } });
    expect((await world.query(BY_RECORD, { s: 'SCRM', r: person.scrmRecordId }, as('admin'))).body).toEqual({ data: { customerBySourceRecord: { id: person.id } } });
  });
});
