/**
 * What the resolution job reads and writes, batched: staging scanned pages (with their
 * cursor), and the reads and the one-transaction apply of each linking batch. Part of the
 * OneID store (`createIdMapStore` includes it); only `resolve.ts` uses it.
 */
import type { Knex } from 'knex';
import type { IdentifierKind, SourceName } from '../vocabulary';
import type { SourceRecordKey } from './types';
import {
  T,
  chunks,
  fromDbTimeOrNull,
  groupInto,
  insertMany,
  insertRows,
  recordKeyString,
  selectChunked,
  toDbTime,
  unique,
  uniqueBy,
  valueKeyString,
  whereRecords,
  whereValues,
  writeTransaction,
  type DbSourceRecordRow,
  type ValueKey,
} from './tables';
import { StaleResolutionError, insertCandidates, insertEvents, mergeInto, requireActive, requireNoDecisionSince, type NewCandidate, type NewLinkEvent } from './writes';
import { RECORDS_LOAD } from './bulk-load';
import { isMysql } from '../db';

export interface StoredIdentifier {
  id: number;
  kind: IdentifierKind;
  value: string;
  matchKey: string;
}

/** A source record as resolution last left it. */
export interface StoredRecord {
  source: SourceName;
  recordId: string;
  customerId: string | null;
  sourceUpdatedAt: string | null;
  pending: boolean;
  deleted: boolean;
  nameKey: string | null;
  birthdayKey: string | null;
  /** Current identifiers only. */
  identifiers: StoredIdentifier[];
}

/** What one scanned page changes; applied in one transaction with the cursor that follows it. */
export interface ScanChanges {
  source: SourceName;
  at: string;
  /** Saved with the page when given. */
  cursor?: string;
  inserts: Array<{ recordId: string; sourceUpdatedAt: string; nameKey: string | null; birthdayKey: string | null }>;
  updates: Array<{
    recordId: string;
    sourceUpdatedAt: string;
    nameKey: string | null;
    birthdayKey: string | null;
    pending: boolean;
    /** The source deleted it: it leaves its customer. */
    deleted?: boolean;
    /** It was deleted and is back. */
    revived?: boolean;
  }>;
  addIdentifiers: Array<{ recordId: string; kind: IdentifierKind; value: string; matchKey: string; validFrom: string }>;
  endIdentifiers: Array<{ id: number; validTo: string }>;
  events: NewLinkEvent[];
  /**
   * Records read again by a restage (`resolve --restage`) whose stored state the rules keep is the
   * same: their match features are computed again and written where they differ.
   */
  recheck?: string[];
}

export interface PendingRecord {
  source: SourceName;
  recordId: string;
  customerId: string | null;
  nameKey: string | null;
  birthdayKey: string | null;
}

/** A current identifier row with what resolution needs of its record. */
export interface Carrier extends PendingRecord {
  kind: IdentifierKind;
  value: string;
  matchKey: string;
  pending: boolean;
}

export interface CustomerRecordIdentifier {
  customerId: string;
  source: SourceName;
  recordId: string;
  nameKey: string | null;
  birthdayKey: string | null;
  /** Null for a record carrying none of the kinds asked for. */
  kind: IdentifierKind | null;
  matchKey: string | null;
}

export interface ResolutionPlan {
  at: string;
  newCustomerIds: string[];
  /** Each clears the record's `pending`. `expectedCustomerId` is what the plan read; the write is refused if it changed. */
  assignments: Array<{ source: SourceName; recordId: string; customerId: string; expectedCustomerId: string | null }>;
  merges: Array<{ survivorId: string; mergedId: string; actor: string; reason: string; evidence: Record<string, unknown> }>;
  events: NewLinkEvent[];
  candidates: NewCandidate[];
  /** The newest steward decision the plan was made with (`latestDecision`): the plan is stale once another is recorded. */
  decisionsSeen?: number;
}

export type ResolutionStore = ReturnType<typeof createResolutionStore>;

const SOURCE_RECORD_COLUMNS = ['source', 'record_id', 'customer_id', 'source_updated_at', 'linked_at', 'pending', 'name_key', 'birthday_key', 'deleted_at'];
const IDENTIFIER_COLUMNS = ['source', 'record_id', 'kind', 'value', 'match_key', 'valid_from', 'valid_to'];

export function createResolutionStore(db: Knex) {
  async function scanCursor(source: SourceName): Promise<string | null> {
    const row = await db(T.scanCursors).where('source', source).first('cursor');
    return row?.cursor ?? null;
  }

  /**
   * A restage begins: every given source is read from its start by the next scan, and the store
   * says a restage is under way (`restageUnderWay`) until `endRestage`. Both or neither.
   */
  async function beginRestage(sources: readonly SourceName[], at: string): Promise<void> {
    await writeTransaction(db, async (trx) => {
      if (sources.length)
        await trx(T.scanCursors)
          .whereIn('source', [...sources])
          .delete();
      await trx(T.restages).insert({ id: 1, started_at: at }).onConflict('id').merge(['started_at']);
    });
  }

  /** When the restage under way began; null when none is (never begun, or ended). */
  async function restageUnderWay(): Promise<string | null> {
    const row: { started_at: string } | undefined = await db(T.restages).where('id', 1).first('started_at');
    return row?.started_at ?? null;
  }

  /** The restage is done: every record was read again and what changed linked and compared. */
  async function endRestage(): Promise<void> {
    await db(T.restages).delete();
  }

  async function saveScanCursor(trx: Knex, source: SourceName, cursor: string, at: string) {
    await trx(T.scanCursors)
      .insert({ source, cursor, updated_at: toDbTime(trx, at) })
      .onConflict('source')
      .merge(['cursor', 'updated_at']);
  }

  /** Stored state and current identifiers of records of one source; unknown ids are absent. */
  async function storedRecords(source: SourceName, recordIds: readonly string[]): Promise<Map<string, StoredRecord>> {
    const [records, idents] = await Promise.all([
      selectChunked(unique(recordIds), (chunk) => db(T.sourceRecords).where('source', source).whereIn('record_id', chunk).select('*')),
      selectChunked(unique(recordIds), (chunk) =>
        db(T.identifiers).where('source', source).whereIn('record_id', chunk).whereNull('valid_to').select('id', 'record_id', 'kind', 'value', 'match_key'),
      ),
    ]);
    const out = new Map<string, StoredRecord>();
    for (const r of records as DbSourceRecordRow[]) {
      out.set(r.record_id, {
        source,
        recordId: r.record_id,
        customerId: r.customer_id,
        sourceUpdatedAt: fromDbTimeOrNull(r.source_updated_at),
        pending: Boolean(r.pending),
        deleted: r.deleted_at != null,
        nameKey: r.name_key,
        birthdayKey: r.birthday_key,
        identifiers: [],
      });
    }
    for (const i of idents) out.get(i.record_id)?.identifiers.push({ id: Number(i.id), kind: i.kind, value: i.value, matchKey: i.match_key });
    return out;
  }

  /** Applies a page's changes in one transaction; `alsoIn` writes more in it, after them (the page's match features). */
  async function applyScanChanges(ch: ScanChanges, alsoIn?: (trx: Knex) => Promise<void>): Promise<void> {
    await applyScanPages([{ changes: ch, alsoIn }]);
  }

  /**
   * Applies several pages' changes in one transaction, each as `applyScanChanges` would, in
   * order: a first resolution commits a group of pages at once (see `resolve.ts`), its new
   * records appended to the load table while its bulk load is under way on SQLite (`bulk`, bulk-load.ts).
   */
  async function applyScanPages(pages: ReadonlyArray<{ changes: ScanChanges; alsoIn?: (trx: Knex) => Promise<void> }>, bulk = false): Promise<void> {
    // MySQL/MariaDB's bulk load leaves indexes out but has no load table (bulk-load.ts).
    const recordsInto = bulk && !isMysql(db) ? RECORDS_LOAD : T.sourceRecords;
    const written = pages.filter(
      ({ changes: ch }) =>
        ch.inserts.length || ch.updates.length || ch.addIdentifiers.length || ch.endIdentifiers.length || ch.events.length || ch.cursor != null || ch.recheck?.length,
    );
    if (!written.length) return;
    await writeTransaction(db, async (trx) => {
      for (const { changes, alsoIn } of written) await writeScanChanges(trx, changes, alsoIn, recordsInto);
    });
  }

  async function writeScanChanges(trx: Knex, ch: ScanChanges, alsoIn: ((trx: Knex) => Promise<void>) | undefined, recordsInto: string): Promise<void> {
    const t = (iso: string) => toDbTime(trx, iso);
    await insertRows(
      trx,
      recordsInto,
      SOURCE_RECORD_COLUMNS,
      ch.inserts.map((r) => [ch.source, r.recordId, null, t(r.sourceUpdatedAt), null, 1, r.nameKey, r.birthdayKey, null]),
    );
    for (const u of ch.updates) {
      const set: Record<string, unknown> = {
        source_updated_at: t(u.sourceUpdatedAt),
        name_key: u.nameKey,
        birthday_key: u.birthdayKey,
        pending: u.pending ? 1 : 0,
      };
      if (u.deleted) Object.assign(set, { customer_id: null, linked_at: null, pending: 0, deleted_at: t(ch.at) });
      if (u.revived) set.deleted_at = null;
      await trx(T.sourceRecords).where({ source: ch.source, record_id: u.recordId }).update(set);
    }
    const byValidTo = groupInto(
      ch.endIdentifiers,
      (e) => e.validTo,
      (e) => e.id,
    );
    for (const [validTo, ids] of byValidTo) {
      for (const part of chunks(ids))
        await trx(T.identifiers)
          .whereIn('id', part)
          .update({ valid_to: t(validTo) });
    }
    await insertRows(
      trx,
      T.identifiers,
      IDENTIFIER_COLUMNS,
      ch.addIdentifiers.map((i) => [ch.source, i.recordId, i.kind, i.value, i.matchKey, t(i.validFrom), null]),
    );
    await insertEvents(trx, ch.at, ch.events);
    if (ch.cursor != null) await saveScanCursor(trx, ch.source, ch.cursor, ch.at);
    if (alsoIn) await alsoIn(trx);
  }

  // ---------- resolution: reading what a batch needs ----------

  /** Pending records of one source after `afterRecordId`, in record id order. */
  async function pendingRecords(source: SourceName, afterRecordId: string | null, limit: number): Promise<PendingRecord[]> {
    // `pending = 1` spelled as a literal: SQLite uses its partial pending index only for that.
    // The columns read are the ones that index covers (migration 20261122000100).
    let q = db(T.sourceRecords).whereRaw('pending = 1').where({ source }).orderBy('record_id').limit(limit);
    if (afterRecordId != null) q = q.where('record_id', '>', afterRecordId);
    const rows: DbSourceRecordRow[] = await q.select('source', 'record_id', 'customer_id', 'name_key', 'birthday_key');
    return rows.map((r) => ({ source: r.source as SourceName, recordId: r.record_id, customerId: r.customer_id, nameKey: r.name_key, birthdayKey: r.birthday_key }));
  }

  /** Every source with at least one pending record (a run interrupted, a source no longer scanned). */
  async function pendingSources(): Promise<SourceName[]> {
    const rows: Array<{ source: string }> = await db(T.sourceRecords).whereRaw('pending = 1').distinct('source').orderBy('source');
    return rows.map((r) => r.source);
  }

  /** Current identifiers of records (any source), optionally of some kinds only. */
  async function currentIdentifiersOf(keys: readonly SourceRecordKey[], kinds?: readonly IdentifierKind[]) {
    // Kinds are filtered here, not in SQL: with `kind IN (…)` SQLite's planner prefers the
    // (kind, …) indexes and scans whole kinds instead of looking records up.
    const rows = await selectChunked(uniqueBy(keys, recordKeyString), (chunk) =>
      whereRecords(db(T.identifiers), 'source', 'record_id', chunk).whereNull('valid_to').select('source', 'record_id', 'kind', 'value', 'match_key'),
    );
    const wanted = kinds ? new Set<string>(kinds) : null;
    return (wanted ? rows.filter((r) => wanted.has(r.kind)) : rows).map((r) => ({
      source: r.source as SourceName,
      recordId: r.record_id as string,
      kind: r.kind as IdentifierKind,
      value: r.value as string,
      matchKey: r.match_key as string,
    }));
  }

  /**
   * For each value, how many live records carry it now: in all (`total`) and in the source
   * holding most of them (`busiest`, resolution's estimate of how many people share it).
   * Keyed by `valueKeyString`.
   */
  async function valueCounts(values: readonly ValueKey[]): Promise<Map<string, { total: number; busiest: number }>> {
    const rows = await selectChunked(uniqueBy(values, valueKeyString), (chunk) =>
      whereValues(
        db(T.identifiers).whereNull('valid_to'),
        'match_key',
        chunk.map((k) => ({ kind: k.kind, v: k.matchKey })),
      )
        .groupBy('kind', 'match_key', 'source')
        .select('kind', 'match_key', db.raw('COUNT(DISTINCT record_id) AS n')),
    );
    const out = new Map<string, { total: number; busiest: number }>();
    for (const r of rows) {
      const k = `${r.kind}\u0000${r.match_key}`;
      const n = Number(r.n);
      const c = out.get(k) ?? { total: 0, busiest: 0 };
      out.set(k, { total: c.total + n, busiest: Math.max(c.busiest, n) });
    }
    return out;
  }

  /** Every live record currently carrying each value, with its customer and traits. */
  async function carriersOf(values: readonly ValueKey[]): Promise<Carrier[]> {
    const rows = await selectChunked(uniqueBy(values, valueKeyString), (chunk) =>
      whereValues(
        db(`${T.identifiers} as i`)
          .join(`${T.sourceRecords} as sr`, (j) => j.on('sr.source', 'i.source').andOn('sr.record_id', 'i.record_id'))
          .whereNull('i.valid_to')
          .whereNull('sr.deleted_at'),
        'i.match_key',
        chunk.map((k) => ({ kind: k.kind, v: k.matchKey })),
      ).select('i.kind', 'i.value', 'i.match_key', 'i.source', 'i.record_id', 'sr.customer_id', 'sr.pending', 'sr.name_key', 'sr.birthday_key'),
    );
    return rows.map((r) => ({
      kind: r.kind,
      value: r.value,
      matchKey: r.match_key,
      source: r.source,
      recordId: r.record_id,
      customerId: r.customer_id,
      pending: Boolean(r.pending),
      nameKey: r.name_key,
      birthdayKey: r.birthday_key,
    }));
  }

  /** Every record of each customer, one row per current identifier of the given kinds (or one bare row). */
  async function recordsOfCustomers(ids: readonly string[], kinds: readonly IdentifierKind[]): Promise<CustomerRecordIdentifier[]> {
    const rows = await selectChunked(unique(ids), (chunk) =>
      db(`${T.sourceRecords} as sr`)
        .leftJoin(`${T.identifiers} as i`, (j) =>
          j
            .on('i.source', 'sr.source')
            .andOn('i.record_id', 'sr.record_id')
            .andOnNull('i.valid_to')
            .andOnIn('i.kind', kinds.length ? [...kinds] : ['-']),
        )
        .whereIn('sr.customer_id', chunk)
        .select('sr.customer_id', 'sr.source', 'sr.record_id', 'sr.name_key', 'sr.birthday_key', 'i.kind', 'i.match_key'),
    );
    return rows.map((r) => ({
      customerId: r.customer_id,
      source: r.source,
      recordId: r.record_id,
      nameKey: r.name_key,
      birthdayKey: r.birthday_key,
      kind: r.kind ?? null,
      matchKey: r.match_key ?? null,
    }));
  }

  /** Pairs of active customers a person judged different, mapped to today's survivors. */
  async function differentPairs(): Promise<Array<[string, string]>> {
    const rows = await db(`${T.decisions} as d`)
      .join(`${T.customers} as a`, 'a.id', 'd.customer_id')
      .join(`${T.customers} as b`, 'b.id', 'd.other_customer_id')
      .where('d.verdict', 'different')
      .select('a.id as a_id', 'a.merged_into as a_into', 'b.id as b_id', 'b.merged_into as b_into');
    return rows.map((r) => [r.a_into ?? r.a_id, r.b_into ?? r.b_id] as [string, string]);
  }

  // ---------- resolution: applying a batch ----------

  /**
   * Applies one batch's plan in one transaction: new customers, merges, record assignments,
   * events, and candidates not reported before (each new pair candidate also logs a
   * `candidate` event). Throws StaleResolutionError, writing nothing, when a customer the
   * plan relies on is no longer active or a record no longer has the customer the plan read.
   */
  async function applyResolution(plan: ResolutionPlan): Promise<{ candidatesCreated: number }> {
    return writeTransaction(db, async (trx) => {
      const t = (iso: string) => toDbTime(trx, iso);
      const fresh = new Set(plan.newCustomerIds);
      const relied = unique([...plan.assignments.flatMap((a) => [a.customerId, a.expectedCustomerId]), ...plan.merges.flatMap((m) => [m.survivorId, m.mergedId])]).filter(
        (id): id is string => id != null && !fresh.has(id),
      );
      await requireActive(trx, relied, true);

      await insertMany(
        trx,
        T.customers,
        plan.newCustomerIds.map((id) => ({ id, status: 'active', merged_into: null, created_at: t(plan.at), updated_at: t(plan.at) })),
      );
      const survivorOf = new Map<string, string>();
      for (const m of plan.merges) {
        await mergeInto(trx, m, plan.at);
        survivorOf.set(m.mergedId, m.survivorId);
      }

      const fromNothing = plan.assignments.filter((a) => a.expectedCustomerId == null);
      for (const [source, group] of groupInto(
        fromNothing,
        (a) => a.source,
        (a) => a,
      )) {
        for (const part of chunks(group, 400)) {
          const changed = await trx(T.sourceRecords)
            .where('source', source)
            .whereNull('customer_id')
            .whereIn(
              'record_id',
              part.map((a) => a.recordId),
            )
            .update({
              customer_id: trx.raw(
                `CASE record_id ${part.map(() => 'WHEN ? THEN ?').join(' ')} END`,
                part.flatMap((a) => [a.recordId, a.customerId]),
              ),
              linked_at: t(plan.at),
              pending: 0,
            });
          if (changed !== part.length) throw new StaleResolutionError(`${part.length - changed} ${source} records were linked meanwhile`);
        }
      }
      for (const a of plan.assignments.filter((x) => x.expectedCustomerId != null)) {
        const expected = survivorOf.get(a.expectedCustomerId as string) ?? (a.expectedCustomerId as string);
        const set: Record<string, unknown> = { pending: 0 };
        if (expected !== a.customerId) Object.assign(set, { customer_id: a.customerId, linked_at: t(plan.at) });
        const changed = await trx(T.sourceRecords).where({ source: a.source, record_id: a.recordId, customer_id: expected }).update(set);
        if (changed !== 1) throw new StaleResolutionError(`${a.source}:${a.recordId} moved meanwhile`);
      }

      await insertEvents(trx, plan.at, plan.events);
      const candidatesCreated = await insertCandidates(trx, plan.at, plan.candidates);
      // Last, so that on MySQL the lock it takes on the decisions is held only until the commit.
      if (plan.decisionsSeen !== undefined) await requireNoDecisionSince(trx, plan.decisionsSeen);
      return { candidatesCreated };
    });
  }

  return {
    scanCursor,
    beginRestage,
    restageUnderWay,
    endRestage,
    storedRecords,
    applyScanChanges,
    applyScanPages,
    pendingRecords,
    pendingSources,
    currentIdentifiersOf,
    valueCounts,
    carriersOf,
    recordsOfCustomers,
    differentPairs,
    applyResolution,
  };
}
