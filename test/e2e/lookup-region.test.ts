/**
 * A phone looked up without its country code is read in the region resolution reads such a phone
 * in: the identity rules' `defaultPhoneRegion`. A deployment in Hong Kong (default HK, its four demo
 * systems CN by `sourceRegions`) maps a members table whose phones are written the local way
 * (`9123 4567`): OneID stores them as +852…, and a lookup typed the same local way finds them.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ROOT } from '../helpers/gateway-process';
import { tempDir } from '../helpers/tmp';
import { startTestWorld, type TestWorld } from '../helpers/world';

let world: TestWorld;
const dir = tempDir('lookup-region');

beforeAll(async () => {
  const rules = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/identity-rules.json'), 'utf8'));
  rules.defaultPhoneRegion = 'HK';
  rules.sourceRegions = { crm: 'CN', orders: 'CN', support: 'CN', scrm: 'CN' };
  rules.probabilistic.weightsFile = path.join(ROOT, 'config', rules.probabilistic.weightsFile);
  const rulesFile = path.join(dir, 'identity-rules.json');
  fs.writeFileSync(rulesFile, JSON.stringify(rules));
  const members = path.join(dir, 'members.sqlite');
  const db = new Database(members);
  db.exec(`CREATE TABLE members (id TEXT PRIMARY KEY, mobile TEXT, updated_at TEXT);
           INSERT INTO members VALUES ('HK1', '9123 4567', '2024-01-01T00:00:00Z'), ('HK2', '6123-4567', '2024-01-01T00:00:00Z');`);
  db.close();
  world = await startTestWorld({
    people: 40,
    seed: 5,
    demoSystems: false,
    configPatch: (raw) => {
      raw.identity.rulesFile = rulesFile;
      raw.sources.push({
        name: 'hk_members',
        kind: 'sql-table',
        connection: { client: 'sqlite', filename: members },
        profile: { table: 'members', key: 'id', updatedAt: 'updated_at', fields: { phone: { column: 'mobile' } } },
        identifiers: [{ kind: 'PHONE', column: 'mobile' }],
      });
    },
  });
});

afterAll(async () => {
  await world?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const LOOKUP = `query ($v: String!) { customersByIdentifier(kind: PHONE, value: $v) { sourceRecords { source recordId } } }`;

describe('Lookups: a phone without its country code', () => {
  it('is read in the identity rules’ default region, as resolution stored it: 9123 4567 finds the record stored as +85291234567', async () => {
    const records = async (v: string) => {
      const { body } = await world.query(LOOKUP, { v });
      expect(body.errors).toBeUndefined();
      return body.data.customersByIdentifier.flatMap((c: any) => c.sourceRecords);
    };
    for (const v of ['9123 4567', '91234567', '+852 9123 4567', '852-9123-4567']) expect(await records(v)).toEqual([{ source: 'HK_MEMBERS', recordId: 'HK1' }]);
    expect(await records('6123 4567')).toEqual([{ source: 'HK_MEMBERS', recordId: 'HK2' }]);
  });

  it('refuses a number not valid in that region, saying where it was read and how to write another country’s: BAD_USER_INPUT with the region', async () => {
    // A US number written the national way: not a Hong Kong number.
    const { status, body } = await world.query(LOOKUP, { v: '702-919-1300' });
    expect(status).toBe(200);
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'value', kind: 'PHONE', region: 'HK' });
    expect(body.errors[0].message).toBe(
      'value is not a valid PHONE identifier: a number without its country code is read as a number of HK (the identity rules’ defaultPhoneRegion); write another country’s with its code, e.g. +1 …',
    );
    // With its country code it is read as written: no such customer, not an error.
    expect((await world.query(LOOKUP, { v: '+1 702-919-1300' })).body).toEqual({ data: { customersByIdentifier: [] } });
  });
});
