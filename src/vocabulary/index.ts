/**
 * The shared vocabulary: the words every layer uses to talk about customers, records and
 * events. Sources, OneID, capabilities, resolvers and access all import it; it imports nothing
 * of the gateway (only `SourceError`'s type, for answer slots). A leaf, so no layer is pulled
 * upwards by needing a word.
 *
 * Canonical forms: phones E.164, emails lower-case trimmed, `Gender`, money as
 * `{ amount: "123.45", currency: "CNY" }`, times ISO-8601 UTC (`2024-03-01T08:15:00.000Z`).
 */
import type { SourceError } from '../errors';

/**
 * The name of one configured source instance (e.g. shop_tmall, crm_acquired): the OneID
 * `source` of its records, the `source` of its metrics and errors. Lower snake case; the
 * GraphQL `SourceName` enum shows it upper-cased.
 */
export type SourceName = string;
export const SOURCE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const isSourceName = (s: unknown): s is SourceName => typeof s === 'string' && SOURCE_NAME_PATTERN.test(s);

/** How one request's calls to one source went: the worst outcome wins (`ok` < `bad_response` < `timeout` < `unavailable` < `circuit_open`); `bad_response` also when calls answered but records of theirs could not be read. */
export type SourceStatus = 'ok' | 'timeout' | 'unavailable' | 'bad_response' | 'circuit_open';

export interface SourceUse {
  status: SourceStatus;
  calls: number;
  /** Time spent in its calls, summed (calls of one level run concurrently). */
  ms: number;
}

/**
 * The account one request books its source calls to (its `extensions.sources`, a BI plan's
 * actual calls). It travels with every call, explicitly, from the request's loaders down to the
 * connector boundary: finding the request through an async context instead (AsyncLocalStorage)
 * taxes every promise of every request, measured at about a fifth of the gateway's CPU on Node 20.
 */
export type SourceAccount = Map<SourceName, SourceUse>;

export const IDENTIFIER_KINDS = ['PHONE', 'EMAIL', 'OPENID', 'UNIONID', 'MEMBER_NO', 'DEVICE_ID', 'RESIDENT_ID', 'PASSPORT'] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export type Gender = 'MALE' | 'FEMALE' | 'UNKNOWN';
export interface Money {
  amount: string;
  currency: string;
}
/** ISO-8601 UTC timestamp string. */
export type Instant = string;

/** One answer slot: the value, or the coded error for that key alone. */
export type Slot<T> = T | SourceError;
/**
 * One key's answer of a batch read that answers lists (orders, tickets, events): the key's items,
 * each a value or a malformed row's error, or the coded error of the call that carried the key
 * (its chunk failed; the keys of the chunks that answered keep their lists).
 */
export type ListSlot<T> = Slot<Slot<T>[]>;

// ---------- timeline events ----------

/**
 * A kind of timeline event (`order_placed`, `ticket_opened`): lower snake case, declared by
 * the source kinds that emit it (two shops both emit `order_placed`). Part of the event
 * order (see `EventPosition`), so renaming one reorders ties: don't.
 */
export type EventKind = string;
export const EVENT_KIND_PATTERN = /^[a-z][a-z0-9_]{0,47}$/;

/**
 * A place in the one event order every source and the gateway share: newest first (`at`
 * descending), then `kind` ascending (plain string order), then `id` ascending in shortlex
 * order (shorter first, then character order; for integers without leading zeros that is
 * numeric order). Within one source `(kind, id)` names one event of a customer, so the order
 * is total there; the gateway breaks ties between sources by source name (src/timeline).
 */
export interface EventPosition {
  at: Instant;
  kind: EventKind;
  id: string;
}

/** What a source is asked for, per key: its newest `limit` events strictly after `after`. */
export interface EventQuery {
  /** Null: from the newest event on. */
  after: EventPosition | null;
  /** Only events at or after this instant. */
  since: Instant | null;
  /** Only these kinds (null: every kind the source has). A source never sees kinds it does not own. */
  kinds: readonly EventKind[] | null;
  /** Most events per key. */
  limit: number;
}

/** One event in one source, in the canonical vocabulary. Fields beyond the first four are set where the kind has them. */
export interface SourceEvent {
  kind: EventKind;
  at: Instant;
  /** Unique among this kind's events in this source (order id, ticket id, coupon id, ...); see `EventPosition`. */
  id: string;
  /** The source record (key) the event belongs to: contact id, account id, requester id, openid. */
  recordId: string;
  /** The thing the event is about, when it is not the record itself: order, ticket, coupon, group chat. */
  refId?: string | null;
  /** Ticket subject, coupon title or group chat name. */
  title?: string | null;
  /** Order total, refund amount or coupon value. */
  amount?: Money | null;
  /** Sales or contact channel. */
  channel?: string | null;
  /** Status of the order or ticket now. */
  status?: string | null;
  fromTier?: string | null;
  toTier?: string | null;
  /** Satisfaction score 1..5 (ticket_rated). */
  score?: number | null;
}

// ---------- identity feed (scan) ----------

export interface RawIdentifier {
  kind: IdentifierKind;
  /** As the source stores it; the resolver normalizes. */
  value: string;
  /** When the source says the person started and stopped holding this value (ISO), if it knows. */
  since?: Instant | null;
  until?: Instant | null;
}

/** What resolution needs to know about one source record. */
export interface ScannedRecord {
  source: SourceName;
  recordId: string;
  updatedAt: Instant;
  /** The record was deleted in the source (or unfollowed for good): its links end. */
  deleted?: boolean;
  identifiers: RawIdentifier[];
  /** Soft attributes: weighed evidence in resolution (conflicts, and the probabilistic tier), never an identifier. */
  traits?: {
    name?: string | null;
    birthday?: string | null;
    gender?: Gender | null;
    /** ISO 3166 alpha-2 country of the record (its phones without a country code are read there). */
    country?: string | null;
    city?: string | null;
    province?: string | null;
    /** Postcode as written (compared by the probabilistic tier, spaces and case folded). */
    postcode?: string | null;
    /** Street address as written (house number and street; compared by the probabilistic tier). */
    address?: string | null;
  };
}

export interface ScanPage {
  records: ScannedRecord[];
  /** Opaque; pass back to continue after this page. Persist it once the page is applied. */
  cursor: string | null;
  /** True when this page reached the end of the feed (for now). */
  done: boolean;
  /**
   * Records the page left out because they could not be read (no id, or no readable last-update
   * time): the cursor moved past them, and resolution counts them by source, as requests count a
   * malformed record (`c360_source_malformed_records_total`), so they are not lost silently.
   */
  malformed?: number;
}

/**
 * What every connector is, whatever its kind: the identity feed, readiness and shutdown. What
 * else it answers is declared by its kind's capabilities and its own SDL (src/sources/kind.ts).
 */
export interface Connector {
  /** The instance name (config `sources[].name`). */
  readonly name: SourceName;
  /** Largest number of keys one call to the system may carry; batch functions chunk to it. */
  readonly maxBatch: number;
  /**
   * Stream identifiers of records changed after `cursor` (null: from the beginning). `signal`: the
   * resolution reading it was asked to stop; a scan waiting on something of its own (a source's
   * Retry-After) gives up once it is aborted, rejecting with what it waited on.
   */
  scan(cursor: string | null, pageSize?: number, signal?: AbortSignal): Promise<ScanPage>;
  /**
   * The same view as `scan`, for named records (webhooks); unknown ids answer null (the source no
   * longer has the record), and a record it has but that cannot be read a `SourceRowError`: the
   * two must stay apart, or an unreadable record would be taken for a deleted one and unlinked.
   */
  scanRecords(recordIds: readonly string[]): Promise<Array<Slot<ScannedRecord> | null>>;
  /** Resolves when the system answers; rejects with a SourceError when not. */
  health(): Promise<void>;
  close(): Promise<void>;
}
