/**
 * The tier's reads, remembered across its batches. A first run compares every record, and a
 * common name's block is touched by nearly every batch: read from the store each time, its
 * sizes, members and their features were most of the tier's time, growing with the store.
 * Block contents and features do not change while the tier holds the resolution lease; what
 * does is which customer a record belongs to, and only through the tier's own merges (noted
 * here) unless someone else writes a link event meanwhile (a steward's split): then everything
 * remembered is dropped and read again. Bounded (least recently used) so memory stays flat.
 */
import type { Knex } from 'knex';
import { recordKeyString } from '../tables';
import type { SourceRecordKey } from '../types';
import type { MatchFeatures } from './features';
import { blockSizes, featuresOfRecords, lastLinkEvent, liveBlockMembers, type BlockMember } from './store';

export type TierRecord = MatchFeatures & { customerId: string | null; scored: boolean };

/**
 * Entries kept (a block's members weigh one each). At 317,572 records these took the tier from
 * 56 s to 37 s for about 180 MiB more peak RSS; half of them saved nothing (bench/README.md).
 */
const LIMITS = { sizes: 400_000, members: 600_000, features: 120_000 };

class Recent<V> {
  private readonly map = new Map<string, V>();
  private weight = 0;
  constructor(
    private readonly limit: number,
    private readonly weigh: (v: V) => number = () => 1,
  ) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.weight -= this.weigh(old);
    }
    this.map.set(key, v);
    this.weight += this.weigh(v);
    for (const [k, x] of this.map) {
      if (this.weight <= this.limit) break;
      this.map.delete(k);
      this.weight -= this.weigh(x);
    }
  }
  clear(): void {
    this.map.clear();
    this.weight = 0;
  }
}

export class TierReads {
  private readonly sizes = new Recent<number>(LIMITS.sizes);
  /** Live members of a block as read (customers then), empty when it has none. */
  private readonly members = new Recent<BlockMember[]>(LIMITS.members, (m) => Math.max(1, m.length));
  private readonly features = new Recent<TierRecord>(LIMITS.features);
  /** Customers this run merged away, to their survivors. */
  private readonly mergedInto = new Map<string, string>();
  /** Records this run marked scored. */
  private readonly scored = new Set<string>();
  private lastEvent: number | null = null;

  constructor(private readonly db: Knex) {}

  /** Before a batch: drops what is remembered if anyone else changed the map since. */
  async refresh(): Promise<void> {
    const last = await lastLinkEvent(this.db);
    if (last !== this.lastEvent) this.forget();
    this.lastEvent = last;
  }

  forget(): void {
    this.sizes.clear();
    this.members.clear();
    this.features.clear();
    this.mergedInto.clear();
    this.lastEvent = null;
  }

  /** After a batch's writes (inside their transaction): its merges, the records it scored, and the link log's end. */
  async wrote(trx: Knex, merges: ReadonlyArray<{ survivorId: string; mergedId: string }>, batch: readonly SourceRecordKey[]): Promise<void> {
    for (const m of merges) this.mergedInto.set(m.mergedId, m.survivorId);
    for (const k of batch) this.scored.add(recordKeyString(k));
    this.lastEvent = await lastLinkEvent(trx);
  }

  private customer(id: string | null): string | null {
    let c = id;
    while (c != null && this.mergedInto.has(c)) c = this.mergedInto.get(c)!;
    return c;
  }

  /** As `store.blockMembers`, with today's customers. */
  async blockMembers(blockKeys: readonly string[], maxBlock: number): Promise<{ members: Map<string, BlockMember[]>; sizes: Map<string, number>; skipped: number }> {
    const keys = [...new Set(blockKeys)];
    const sizes = new Map<string, number>();
    const unknown: string[] = [];
    for (const k of keys) {
      const n = this.sizes.get(k);
      if (n === undefined) unknown.push(k);
      else sizes.set(k, n);
    }
    if (unknown.length) {
      for (const [k, n] of await blockSizes(this.db, unknown)) {
        sizes.set(k, n);
        this.sizes.set(k, n);
      }
    }
    // A block of one record has no one else to compare.
    const small = keys.filter((k) => (sizes.get(k) ?? 0) <= maxBlock && (sizes.get(k) ?? 0) > 1);
    const found = new Map<string, BlockMember[]>();
    const unread: string[] = [];
    for (const k of small) {
      const m = this.members.get(k);
      if (m === undefined) unread.push(k);
      else found.set(k, m);
    }
    if (unread.length) {
      const read = await liveBlockMembers(this.db, unread);
      for (const k of unread) {
        const m = read.get(k) ?? [];
        found.set(k, m);
        this.members.set(k, m);
      }
    }
    const members = new Map<string, BlockMember[]>();
    for (const [k, list] of found)
      if (list.length)
        members.set(
          k,
          list.map((m) => ({ ...m, customerId: this.customer(m.customerId) })),
        );
    return { members, sizes, skipped: [...sizes.values()].filter((n) => n > maxBlock).length };
  }

  /** As `store.featuresOfRecords`, with today's customers and scored marks (each answer a copy). */
  async featuresOf(keys: readonly SourceRecordKey[]): Promise<Map<string, TierRecord>> {
    const out = new Map<string, TierRecord>();
    const unread: SourceRecordKey[] = [];
    for (const k of keys) {
      const f = this.features.get(recordKeyString(k));
      if (f === undefined) unread.push(k);
      else out.set(recordKeyString(k), f);
    }
    if (unread.length) {
      for (const [k, f] of await featuresOfRecords(this.db, unread)) {
        out.set(k, f);
        this.features.set(k, f);
      }
    }
    for (const [k, f] of out) out.set(k, { ...f, customerId: this.customer(f.customerId), scored: f.scored || this.scored.has(k) });
    return out;
  }
}
