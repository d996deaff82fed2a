/**
 * A database with the access audit migrated, for the test files that write and read it: made
 * before the file's tests, emptied before each, removed after the last.
 */
import { createAuditLog, type AuditLog } from '../../src/access/audit';
import { freshDatabase, type TestDatabase } from './db';

export interface AuditDatabase {
  readonly tdb: TestDatabase;
  readonly auditLog: AuditLog;
}

export function auditDatabase(label: string, opts: { collation?: string } = {}): AuditDatabase {
  let tdb: TestDatabase | undefined;
  let auditLog: AuditLog | undefined;
  beforeAll(async () => {
    tdb = await freshDatabase(label, opts);
    auditLog = createAuditLog(tdb.db);
    await auditLog.migrate();
  });
  afterAll(async () => {
    await tdb?.drop();
  });
  beforeEach(async () => {
    await tdb!.db('c360_access_audit').delete();
  });
  return {
    get tdb() {
      return tdb!;
    },
    get auditLog() {
      return auditLog!;
    },
  };
}
