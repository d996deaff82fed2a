/**
 * The audit's retention (src/access/audit-retention.ts, config `access.auditRetentionDays`): rows
 * past it are deleted, the oldest first and a bounded chunk a statement, rows within it are
 * kept, and a pass that fails is logged and never thrown. Real database (the test engine).
 */
import { createAuditLog, type AuditEntry } from '../../src/access/audit';
import { startAuditRetention } from '../../src/access/audit-retention';
import { openDatabase } from '../../src/db';
import { auditDatabase } from '../helpers/audit';
import { captureLog } from '../helpers/log-capture';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-03T12:00:00.000Z');
const daysAgo = (d: number) => new Date(NOW - d * DAY).toISOString();

const audit = auditDatabase('audit_ret');

const entry = (at: string, customerId: string): Omit<AuditEntry, 'id'> => ({
  at,
  requestId: `r-${customerId}`,
  principal: 'analyst-key',
  principalKind: 'apiKey',
  role: 'admin',
  operationName: 'Read',
  customerId,
  fields: ['Customer.phone'],
});

/** The customers whose entries are left, oldest first. */
const left = async () => (await audit.auditLog.query({ first: 500 })).reverse().map((e) => e.customerId);

describe('Audit retention', () => {
  it('deletes the entries made before the cutoff, the oldest first and about `max` a call, and keeps the rest', async () => {
    await audit.auditLog.record([entry(daysAgo(40), 'c40'), entry(daysAgo(35), 'c35'), entry(daysAgo(31), 'c31'), entry(daysAgo(29), 'c29'), entry(daysAgo(1), 'c1')]);
    expect(await audit.auditLog.prune(daysAgo(30), 2)).toBe(2);
    expect(await left()).toEqual(['c31', 'c29', 'c1']);
    expect(await audit.auditLog.prune(daysAgo(30), 2)).toBe(1);
    expect(await audit.auditLog.prune(daysAgo(30), 2)).toBe(0);
    expect(await left()).toEqual(['c29', 'c1']);
  });

  it('deletes entries of one instant together, so a chunk never splits a request’s rows by time', async () => {
    const at = daysAgo(50);
    await audit.auditLog.record([entry(at, 'a'), entry(at, 'b'), entry(at, 'c'), entry(daysAgo(45), 'd')]);
    expect(await audit.auditLog.prune(daysAgo(30), 1)).toBe(3);
    expect(await left()).toEqual(['d']);
  });

  it('runs a pass when it starts: every entry past the retention goes in chunks, one log line says how many, without ids or principals', async () => {
    await audit.auditLog.record([...Array.from({ length: 7 }, (_, i) => entry(daysAgo(31 + i), `old-${i}`)), entry(daysAgo(29), 'kept-1'), entry(daysAgo(0), 'kept-2')]);
    const captured = captureLog('info');
    const retention = startAuditRetention(audit.auditLog, { days: 30, chunk: 2, pauseMs: 1, now: () => NOW, log: captured.log });
    // The pass started with it: runOnce answers that pass rather than starting a second one.
    expect(await retention.runOnce()).toBe(7);
    await retention.close();
    expect(await left()).toEqual(['kept-1', 'kept-2']);
    const lines = captured.lines.map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ level: 30, deleted: 7, before: daysAgo(30), msg: 'audit rows past the retention deleted' })]);
    expect(captured.lines.join('\n')).not.toMatch(/old-|kept-|analyst-key/);
  });

  it('runs no further pass once closed', async () => {
    const retention = startAuditRetention(audit.auditLog, { days: 30, everyMs: 5, now: () => NOW });
    await retention.close();
    await audit.auditLog.record([entry(daysAgo(60), 'after-close')]);
    await new Promise((r) => setTimeout(r, 100));
    expect(await left()).toEqual(['after-close']);
  });

  it('logs a pass that fails and throws nothing: the next pass takes what is left', async () => {
    const gone = openDatabase(audit.tdb.connection);
    const broken = createAuditLog(gone);
    await gone.destroy();
    const captured = captureLog('info');
    const retention = startAuditRetention(broken, { days: 30, now: () => NOW, log: captured.log });
    expect(await retention.runOnce()).toBe(0);
    await retention.close();
    const lines = captured.lines.map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ level: 40, deleted: 0, msg: expect.stringContaining('could not all be deleted') })]);
  });
});
