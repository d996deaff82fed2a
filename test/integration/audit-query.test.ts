/**
 * Reading the access audit (src/access/audit.ts): by principal and by customer exactly as written,
 * on every engine and whatever the database's default collation. Real database (the test engine);
 * on MariaDB the database is made with the server's default, case-insensitive `utf8mb4_general_ci`,
 * as a DBA who does not read our docs would make it.
 */
import { createAuditLog, type AuditEntry } from '../../src/access/audit';
import { accessMigratorConfig } from '../../src/access/migrations';
import { freshDatabase, itOn } from '../helpers/db';
import { auditDatabase } from '../helpers/audit';

const CASELESS = 'utf8mb4_general_ci';
const audit = auditDatabase('audit_q', { collation: CASELESS });

const read = (principal: string, customerId: string, at = '2026-12-04T08:00:00.000Z'): Omit<AuditEntry, 'id'> => ({
  at,
  requestId: `r-${principal}-${customerId}`,
  principal,
  principalKind: 'apiKey',
  role: 'support',
  operationName: 'Lookup',
  customerId,
  fields: ['Customer.phone'],
});

const whoRead = (entries: AuditEntry[]) => entries.map((e) => `${e.principal}:${e.customerId}`).sort();

describe('Access audit: reads', () => {
  it("lists one principal's reads, not those of another whose name differs only in case", async () => {
    await audit.auditLog.record([read('alice', 'c1'), read('Alice', 'c2'), read('ALICE', 'c3'), read('bob', 'c4')]);
    expect(whoRead(await audit.auditLog.query({ principal: 'alice' }))).toEqual(['alice:c1']);
    expect(whoRead(await audit.auditLog.query({ principal: 'Alice' }))).toEqual(['Alice:c2']);
  });

  it('records a principal of 255 characters whole: two alike in their first 200 are two, and a trailing space makes another', async () => {
    const subject = (last: string) => `https://idp.c360.test/u/${'s'.repeat(230)}${last}`;
    expect(subject('a')).toHaveLength(255);
    await audit.auditLog.record([read(subject('a'), 'c1'), read(subject('b'), 'c2'), read('carol', 'c3'), read('carol ', 'c4')]);
    expect(whoRead(await audit.auditLog.query({ principal: subject('a') }))).toEqual([`${subject('a')}:c1`]);
    expect(whoRead(await audit.auditLog.query({ principal: 'carol' }))).toEqual(['carol:c3']);
  });

  it("lists one customer's reads by its exact id", async () => {
    await audit.auditLog.record([read('alice', 'cust_a'), read('alice', 'CUST_A'), read('bob', 'cust_a')]);
    expect(whoRead(await audit.auditLog.query({ customerId: 'cust_a' }))).toEqual(['alice:cust_a', 'bob:cust_a']);
  });

  it('combines principal, customer and time, newest first', async () => {
    await audit.auditLog.record([
      read('alice', 'c1', '2026-12-01T00:00:00.000Z'),
      read('alice', 'c1', '2026-12-02T00:00:00.000Z'),
      read('alice', 'c1', '2026-12-03T00:00:00.000Z'),
      read('Alice', 'c1', '2026-12-02T12:00:00.000Z'),
    ]);
    const got = await audit.auditLog.query({ principal: 'alice', customerId: 'c1', since: '2026-12-02T00:00:00.000Z', until: '2026-12-03T00:00:00.000Z' });
    expect(got.map((e) => [e.principal, e.at])).toEqual([['alice', '2026-12-02T00:00:00.000Z']]);
  });

  itOn('mariadb')('upgrades an audit made before: its rows kept, its text columns binary from then on, their comments kept', async () => {
    const tdb = await freshDatabase('audit_up', { collation: CASELESS });
    try {
      // The store as the first access migration left it, with rows in it.
      await tdb.db.migrate.up({ ...accessMigratorConfig, name: '20261122000000_access_audit' });
      const before = createAuditLog(tdb.db);
      await before.record([read('alice', 'c1'), read('Alice', 'c2')]);
      expect(whoRead(await before.query({ principal: 'alice' }))).toEqual(['Alice:c2', 'alice:c1']);

      expect(await before.migrate()).toEqual(['20261204000000_audit_exact_text', '20261206000000_audit_principal_width']);
      expect(whoRead(await before.query({ principal: 'alice' }))).toEqual(['alice:c1']);
      expect(whoRead(await before.query())).toEqual(['Alice:c2', 'alice:c1']);
      const [columns] = (await tdb.db.raw(
        "SELECT column_name AS name, collation_name AS collation, is_nullable AS nullable, column_comment AS comment FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'c360_access_audit' AND column_name IN ('request_id', 'principal', 'customer_id') ORDER BY column_name",
      )) as [Array<{ name: string; collation: string; nullable: string; comment: string }>];
      expect(columns.map((c) => [c.name, c.collation, c.nullable])).toEqual([
        ['customer_id', 'utf8mb4_bin', 'YES'],
        ['principal', 'utf8mb4_bin', 'NO'],
        ['request_id', 'utf8mb4_bin', 'NO'],
      ]);
      expect(columns.every((c) => c.comment.length > 10)).toBe(true);
    } finally {
      await tdb.drop();
    }
  });
});
