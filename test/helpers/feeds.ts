/**
 * In-memory identity feeds for OneID tests. They stand in for a source's `scan` (the thing
 * under test is the store and the resolver, not the connectors), paging by (updatedAt,
 * recordId) after the cursor exactly as the real feeds do.
 */
import type { Connector, IdentifierKind, ScanPage, ScannedRecord, SourceName } from '../../src/vocabulary';

export const T0 = '2024-03-01T08:00:00.000Z';

export type Ids = Partial<Record<'phone' | 'email' | 'member' | 'unionid' | 'openid', string>>;
const KIND: Record<keyof Ids, IdentifierKind> = { phone: 'PHONE', email: 'EMAIL', member: 'MEMBER_NO', unionid: 'UNIONID', openid: 'OPENID' };

/** A scanned record with raw identifiers written as the source would. */
export function rec(source: SourceName, recordId: string, ids: Ids, traits?: ScannedRecord['traits'], updatedAt = T0): ScannedRecord {
  return {
    source,
    recordId,
    updatedAt,
    identifiers: Object.entries(ids).map(([k, value]) => ({ kind: KIND[k as keyof Ids], value: value as string })),
    traits,
  };
}

/** A source feed over an array. Records what each scan returned, and can fail one call on purpose. */
export class FakeSource implements Connector {
  readonly maxBatch = 100;
  /** Record ids returned by each scan call. */
  readonly served: string[][] = [];
  /** Fails the scan call with this index (0-based), once. */
  failOnCall: number | null = null;
  constructor(
    readonly name: SourceName,
    private records: ScannedRecord[],
  ) {}
  /** Adds or replaces a record, as the system would when it changes. */
  put(r: ScannedRecord) {
    this.records = [...this.records.filter((x) => x.recordId !== r.recordId), r];
  }
  async scan(cursor: string | null, pageSize = 100): Promise<ScanPage> {
    if (this.failOnCall === this.served.length) {
      this.failOnCall = null;
      this.served.push([]);
      throw new Error('feed down');
    }
    const key = (r: ScannedRecord) => `${r.updatedAt}|${r.recordId}`;
    const after = [...this.records].sort((a, b) => (key(a) < key(b) ? -1 : 1)).filter((r) => cursor == null || key(r) > cursor);
    const page = after.slice(0, pageSize);
    this.served.push(page.map((r) => r.recordId));
    return { records: page, cursor: page.length ? key(page[page.length - 1]) : cursor, done: after.length <= pageSize };
  }
  async scanRecords(ids: readonly string[]) {
    return ids.map((id) => this.records.find((r) => r.recordId === id) ?? null);
  }
  async health() {}
  async close() {}
}
