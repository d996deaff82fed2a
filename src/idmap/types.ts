/**
 * The OneID store's public face: what loaders, resolvers and the resolution job may ask of it.
 * Every read is batched (many keys in, answers in key order) so a query over N customers
 * makes one store round per level.
 */
import type { IdentifierKind, SourceName } from '../vocabulary';

export interface CustomerRow {
  /** The id asked for. */
  requestedId: string;
  /** The surviving customer: equal to requestedId unless that one was merged away. */
  id: string;
  createdAt: string;
  /** Set when requestedId was merged into `id`. */
  mergedFrom: string | null;
}

export interface SourceRecordRow {
  customerId: string;
  source: SourceName;
  recordId: string;
  linkedAt: string;
  /** The source's own last update time for this record, as last scanned. */
  sourceUpdatedAt: string | null;
}

export interface IdentifierRow {
  customerId: string;
  kind: IdentifierKind;
  /** Normalized value (E.164 phone, lower-case email, …). */
  value: string;
  source: SourceName;
  recordId: string;
  validFrom: string;
  /** Null while current; set when the source record stopped carrying it (rebind). */
  validTo: string | null;
}

export interface IdentifierKey {
  kind: IdentifierKind;
  /** Already normalized. */
  value: string;
}

export interface SourceRecordKey {
  source: SourceName;
  recordId: string;
}

export type LinkAction = 'create' | 'link' | 'unlink' | 'merge' | 'split' | 'bind' | 'unbind' | 'candidate' | 'decision';

export interface LinkEvent {
  id: string;
  at: string;
  /** Rule name (`rule:phone`) or user (`user:alice`). */
  actor: string;
  action: LinkAction;
  customerId: string;
  otherCustomerId: string | null;
  source: SourceName | null;
  recordId: string | null;
  reason: string;
  evidence: Record<string, unknown> | null;
}

export interface IdMapReader {
  /** Customers by id, following merges to the survivor; unknown ids answer null. */
  customersByIds(ids: readonly string[]): Promise<Array<CustomerRow | null>>;
  /** Active customer ids currently carrying each identifier, or a value resolution treats as the same (its match key: Gmail dots, +tags), several for a shared value. */
  customerIdsByIdentifiers(keys: readonly IdentifierKey[]): Promise<string[][]>;
  /** The customer each source record belongs to now; unknown records answer null. */
  customerIdsBySourceRecords(keys: readonly SourceRecordKey[]): Promise<Array<string | null>>;
  /** The source records each customer owns now. */
  sourceRecordsByCustomerIds(ids: readonly string[]): Promise<SourceRecordRow[][]>;
  /** Identifiers on each customer's records; current ones only unless `history`. */
  identifiersByCustomerIds(ids: readonly string[], opts?: { history?: boolean }): Promise<IdentifierRow[][]>;
  /** Link events touching each customer, newest first. */
  linkEventsByCustomerIds(ids: readonly string[], opts?: { limit?: number }): Promise<LinkEvent[][]>;
  /** Store readiness. */
  health(): Promise<void>;
}
