/**
 * The OneID store: the only code that reads or writes the `idmap_*` tables. This module holds
 * the reads (IdMapReader) and the stewardship writes; `resolution-store.ts` the resolution
 * job's batched reads and writes, `writes.ts` the write steps both share.
 *
 * Reads (IdMapReader) are batched: many keys in, answers in key order, one round of
 * statements per call whatever the number of keys (IN lists chunked to MAX_IN_LIST and sent
 * together). Writes run in one transaction each and write their link events in it.
 *
 * Invariants the writes keep, and the reads rely on:
 * - a source record's `customer_id` is null or an ACTIVE customer (merges re-point records);
 * - a merged customer's `merged_into` is an active customer (merges re-point earlier merges),
 *   so following a merge is one join, never a walk.
 */
import type { Knex } from 'knex';
import { ulid } from 'ulid';
import { isMysql, type DirectReads } from '../db';
import { conflict, notFound } from '../errors';
import type { IdentifierKind, SourceName } from '../vocabulary';
import { matchKeyOf } from './rules';
import type { CustomerRow, IdentifierKey, IdentifierRow, IdMapReader, LinkEvent, SourceRecordKey } from './types';
import {
  T,
  chunks,
  fromDbTime,
  fromDbTimeOrNull,
  groupInto,
  recordKeyString,
  selectChunked,
  toDbTime,
  toRecordKey,
  unique,
  uniqueBy,
  whereRecords,
  whereValues,
  writeTransaction,
  type CandidateReason,
  type CandidateStatus,
  type DbCustomerRow,
  type DbLinkEventRow,
  type DbReviewCandidateRow,
  type DbSourceRecordRow,
  type DecisionVerdict,
} from './tables';
import { insertDecision, insertEvents, mergeInto, requireActive, supersedeJoinedCandidates } from './writes';
import { createResolutionStore } from './resolution-store';

export interface ReviewCandidate {
  id: string;
  reason: CandidateReason;
  status: CandidateStatus;
  rule: string;
  kind: IdentifierKind | null;
  value: string | null;
  customerId: string | null;
  otherCustomerId: string | null;
  evidence: Record<string, unknown> | null;
  /** A probable candidate's match weight in bits (its evidence's `weight`); null for the other reasons. */
  matchWeight: number | null;
  createdAt: string;
  updatedAt: string;
}

/** Where a page of the review queue starts: after this candidate, in the page's order. */
export type CandidatesAfter = { id: string } | { id: string; matchWeight: number | null };

export interface MergeResult {
  survivorId: string;
  mergedId: string;
  movedRecords: SourceRecordKey[];
}

export type IdMapStore = ReturnType<typeof createIdMapStore>;

const DEFAULT_EVENT_LIMIT = 100;

/**
 * Builds the store over an open knex (migrated with `migrateLatest`). `opts.reads`: how the
 * reader's selects run (the gateway's request path: `directReads`, without knex's runner);
 * default, through knex.
 */
export function createIdMapStore(db: Knex, opts: { reads?: DirectReads } = {}) {
  const nowIso = () => new Date().toISOString();
  /**
   * A steward's change: on MySQL/MariaDB at READ COMMITTED, so that what it reads after taking
   * its locks is what is committed now (at REPEATABLE READ a read after the lock still answered
   * the transaction's first snapshot, and a change made meanwhile was lost: a link answered as
   * done merged the customer a record had just left). A server writing a binary log then needs
   * `binlog_format` ROW or MIXED (README, oneid.connection).
   *
   * On SQLite holding the file's write lock from the start (`writeTransaction`): the steward's
   * reads come first, and a commit by another connection between them and the first write (the
   * gateway's checkpointer does one a second) failed the change as ONEID_UNAVAILABLE.
   */
  const stewardTransaction = <R>(work: (trx: Knex.Transaction) => Promise<R>): Promise<R> => writeTransaction(db, work, { isolationLevel: 'read committed' });
  const read: (q: Knex.QueryBuilder | Knex.Raw) => Promise<any[]> = opts.reads ? (q) => opts.reads!.read(q) : (q) => Promise.resolve(q as unknown as any[]);
  /** The hot reads of every request: built and compiled once per IN-list length where reads are direct (src/db.ts `shaped`). */
  const shaped = (shape: string, ids: readonly string[], build: (ids: string[]) => Knex.QueryBuilder): Promise<any[]> =>
    opts.reads ? opts.reads.shaped(`${shape} ${ids.length}`, ids, (v) => build(v as string[])) : read(build(ids as string[]));

  const reader: IdMapReader = {
    async customersByIds(ids) {
      const rows = await selectChunked(unique(ids), (chunk) =>
        shaped('customers', chunk, (keys) =>
          db(`${T.customers} as c`)
            .leftJoin(`${T.customers} as s`, 's.id', 'c.merged_into')
            .whereIn('c.id', keys)
            .select('c.id', 'c.status', 'c.created_at', 's.id as s_id', 's.status as s_status', 's.created_at as s_created_at'),
        ),
      );
      const byId = new Map<string, CustomerRow>();
      for (const r of rows) {
        if (r.status === 'active') byId.set(r.id, { requestedId: r.id, id: r.id, createdAt: fromDbTime(r.created_at), mergedFrom: null });
        else if (r.s_status === 'active') byId.set(r.id, { requestedId: r.id, id: r.s_id, createdAt: fromDbTime(r.s_created_at), mergedFrom: r.id });
        else throw new Error(`OneID invariant broken: customer ${r.id} is merged into ${r.s_id ?? 'nothing'}, which is not active`);
      }
      return ids.map((id) => byId.get(id) ?? null);
    },

    async customerIdsByIdentifiers(keys) {
      // By the (kind, match_key) index and answered by match key: a lookup finds whatever
      // resolution treats as the same identifier (a Gmail address with or without its dots or a
      // +tag), not only the spelling a source happened to store.
      const keyOf = (k: IdentifierKey) => `${k.kind}\u0000${matchKeyOf(k.kind, k.value)}`;
      const rows = await selectChunked(uniqueBy(keys, keyOf), (chunk) =>
        read(
          whereValues(
            db(`${T.identifiers} as i`)
              .join(`${T.sourceRecords} as sr`, (j) => j.on('sr.source', 'i.source').andOn('sr.record_id', 'i.record_id'))
              .whereNull('i.valid_to')
              .whereNotNull('sr.customer_id'),
            'i.match_key',
            chunk.map((k) => ({ kind: k.kind, v: matchKeyOf(k.kind, k.value) })),
          ).distinct('i.kind', 'i.match_key', 'sr.customer_id'),
        ),
      );
      const byKey = groupInto(
        rows,
        (r) => `${r.kind}\u0000${r.match_key}`,
        (r) => r.customer_id as string,
      );
      return keys.map((k) => [...new Set(byKey.get(keyOf(k)) ?? [])].sort());
    },

    async customerIdsBySourceRecords(keys) {
      const rows = await selectChunked(uniqueBy(keys, recordKeyString), (chunk) =>
        read(whereRecords(db(T.sourceRecords), 'source', 'record_id', chunk).select('source', 'record_id', 'customer_id')),
      );
      const byKey = new Map(rows.map((r) => [`${r.source}\u0000${r.record_id}`, r.customer_id as string | null]));
      return keys.map((k) => byKey.get(recordKeyString(k)) ?? null);
    },

    async sourceRecordsByCustomerIds(ids) {
      const rows: Array<Pick<DbSourceRecordRow, 'customer_id' | 'source' | 'record_id' | 'linked_at' | 'source_updated_at'>> = await selectChunked(unique(ids), (chunk) =>
        shaped('source records', chunk, (keys) =>
          // Only the columns answered: the rows are read for every customer of every request (select * cost about 2x on SQLite).
          db(T.sourceRecords).whereIn('customer_id', keys).orderBy(['source', 'record_id']).select('customer_id', 'source', 'record_id', 'linked_at', 'source_updated_at'),
        ),
      );
      const byCustomer = groupInto(
        rows,
        (r) => r.customer_id as string,
        (r) => ({
          customerId: r.customer_id as string,
          source: r.source as SourceName,
          recordId: r.record_id,
          linkedAt: fromDbTime(r.linked_at),
          sourceUpdatedAt: fromDbTimeOrNull(r.source_updated_at),
        }),
      );
      return ids.map((id) => byCustomer.get(id) ?? []);
    },

    async identifiersByCustomerIds(ids, opts = {}) {
      const rows = await selectChunked(unique(ids), (chunk) => {
        const q = db(`${T.sourceRecords} as sr`)
          .join(`${T.identifiers} as i`, (j) => j.on('i.source', 'sr.source').andOn('i.record_id', 'sr.record_id'))
          .whereIn('sr.customer_id', chunk)
          .orderBy([{ column: 'sr.customer_id' }, { column: 'i.kind' }, { column: 'i.value' }, { column: 'i.id' }])
          .select('sr.customer_id', 'i.kind', 'i.value', 'i.source', 'i.record_id', 'i.valid_from', 'i.valid_to');
        return read(opts.history ? q : q.whereNull('i.valid_to'));
      });
      const byCustomer = groupInto(
        rows,
        (r) => r.customer_id as string,
        (r): IdentifierRow => ({
          customerId: r.customer_id,
          kind: r.kind,
          value: r.value,
          source: r.source,
          recordId: r.record_id,
          validFrom: fromDbTime(r.valid_from),
          validTo: fromDbTimeOrNull(r.valid_to),
        }),
      );
      return ids.map((id) => byCustomer.get(id) ?? []);
    },

    /**
     * Events whose customer or other customer is the one asked for, or a customer merged
     * into it (their history is the survivor's), newest first, at most `limit` each.
     */
    async linkEventsByCustomerIds(ids, opts = {}) {
      const limit = opts.limit ?? DEFAULT_EVENT_LIMIT;
      const rows = await selectChunked(unique(ids), (chunk) => {
        const marks = chunk.map(() => '?').join(',');
        return read(
          db.raw(
            `WITH m AS (
               SELECT id AS cid, id AS member FROM ${T.customers} WHERE id IN (${marks})
               UNION ALL SELECT merged_into AS cid, id AS member FROM ${T.customers} WHERE merged_into IN (${marks})
             ), hits AS (
               SELECT m.cid, e.id AS eid FROM m JOIN ${T.linkEvents} e ON e.customer_id = m.member
               UNION
               SELECT m.cid, e.id AS eid FROM m JOIN ${T.linkEvents} e ON e.other_customer_id = m.member
             )
             SELECT * FROM (
               SELECT hits.cid, e.*, ROW_NUMBER() OVER (PARTITION BY hits.cid ORDER BY e.id DESC) AS rn
               FROM hits JOIN ${T.linkEvents} e ON e.id = hits.eid
             ) ranked WHERE rn <= ? ORDER BY cid, id DESC`,
            [...chunk, ...chunk, limit],
          ),
        ).then(rawRows);
      });
      const byCustomer = groupInto(rows, (r) => r.cid as string, toLinkEvent);
      return ids.map((id) => byCustomer.get(id) ?? []);
    },

    async health() {
      await db(T.customers).select('id').limit(1);
    },
  };

  // ---------- stewardship writes ----------

  /**
   * A steward merges `mergedId` into `survivorId`: re-points its records and any customer
   * merged into it, logs a `merge` event whose evidence lists what moved (so it can be
   * undone), and records a `same` decision, all in one transaction. Unknown ids are
   * NOT_FOUND; a merged id, or the same id twice, is a CONFLICT.
   */
  async function mergeCustomers(input: { survivorId: string; mergedId: string; actor: string; reason: string; evidence?: Record<string, unknown> }): Promise<MergeResult> {
    if (input.survivorId === input.mergedId) throw conflict(`Cannot merge customer ${input.mergedId} into itself`);
    return stewardTransaction(async (trx) => {
      await requireStewardable(trx, [input.survivorId, input.mergedId]);
      const at = nowIso();
      const moved = await mergeInto(trx, { ...input, evidence: input.evidence ?? {} }, at);
      await insertDecision(trx, at, { verdict: 'same', customerId: input.survivorId, otherCustomerId: input.mergedId, actor: input.actor, reason: input.reason });
      await supersedeJoinedCandidates(trx, at, input.survivorId);
      return { survivorId: input.survivorId, mergedId: input.mergedId, movedRecords: moved };
    });
  }

  /**
   * A steward says two source records are one person: their customers are merged (the older
   * survives, as in resolution) with a `same` decision, the merge's evidence naming the two
   * records. Unknown records are NOT_FOUND; a record no customer holds, or two records of
   * one customer already, are a CONFLICT.
   */
  async function linkRecords(input: { a: SourceRecordKey; b: SourceRecordKey; actor: string; reason: string }): Promise<MergeResult> {
    return stewardTransaction(async (trx) => {
      const rows = await recordsWithOwnersLocked(trx, [input.a, input.b]);
      const ownerOf = (k: SourceRecordKey, name: string): string => {
        const row = rows.find((r) => r.source === k.source && r.record_id === k.recordId);
        if (!row) throw notFound(`Record ${name} (${k.source}:${k.recordId}) is not known to OneID`);
        if (!row.customer_id) throw conflict(`Record ${name} (${k.source}:${k.recordId}) belongs to no customer: deleted in its source, or awaiting resolution`);
        return row.customer_id;
      };
      const [ca, cb] = [ownerOf(input.a, 'a'), ownerOf(input.b, 'b')];
      if (ca === cb) throw conflict(`Records a and b already belong to one customer, ${ca}`);
      // ULIDs sort by creation time: the older customer survives, as resolution does.
      const [survivorId, mergedId] = [ca, cb].sort();
      await requireActive(trx, [survivorId, mergedId]);
      const at = nowIso();
      const evidence = { records: [input.a, input.b].map((k) => ({ source: k.source, recordId: k.recordId })) };
      const moved = await mergeInto(trx, { survivorId, mergedId, actor: input.actor, reason: input.reason, evidence }, at);
      await insertDecision(trx, at, { verdict: 'same', customerId: survivorId, otherCustomerId: mergedId, actor: input.actor, reason: input.reason });
      await supersedeJoinedCandidates(trx, at, survivorId);
      return { survivorId, mergedId, movedRecords: moved };
    });
  }

  /**
   * Undoes the latest merge of `mergedId`: it becomes active again with the records that
   * moved in that merge and still sit on the survivor, and a `different` decision is
   * recorded so resolution does not merge them again. CONFLICT when none of them is left there.
   */
  async function unmergeCustomer(input: { mergedId: string; actor: string; reason: string }) {
    return stewardTransaction(async (trx) => {
      // Locked (MySQL): a second steward splitting it at once waits, then finds it split.
      const c: DbCustomerRow | undefined = await forUpdate(trx, trx(T.customers).where('id', input.mergedId)).first();
      if (!c) throw notFound(`No customer ${input.mergedId}`);
      if (c.status !== 'merged' || !c.merged_into) throw conflict(`Customer ${input.mergedId} is not merged`);
      const survivorId = c.merged_into;
      const ev: DbLinkEventRow | undefined = await trx(T.linkEvents).where({ action: 'merge', other_customer_id: input.mergedId }).orderBy('id', 'desc').first();
      const evidence = ev?.evidence ? (JSON.parse(ev.evidence) as { movedRecords?: SourceRecordKey[]; redirected?: string[] }) : {};
      const at = nowIso();
      const moveBack = (evidence.movedRecords ?? []).filter(Boolean);
      for (const part of chunks(moveBack, 500)) {
        await whereRecords(trx(T.sourceRecords), 'source', 'record_id', part)
          .where('customer_id', survivorId)
          .update({ customer_id: input.mergedId, linked_at: toDbTime(trx, at) });
      }
      // A merged customer owns no records, so what it owns now is what moved back.
      const back = await trx(T.sourceRecords).where('customer_id', input.mergedId).orderBy(['source', 'record_id']).select('source', 'record_id');
      // Undone, such a merge would bring back a customer with no record (the transaction writes nothing).
      if (!back.length) throw conflict(`Customer ${input.mergedId} has nothing to take back from ${survivorId}: the records its merge moved have left it since`);
      await trx(T.customers)
        .where('id', input.mergedId)
        .update({ status: 'active', merged_into: null, updated_at: toDbTime(trx, at) });
      if (evidence.redirected?.length) {
        await trx(T.customers).whereIn('id', evidence.redirected).where('merged_into', survivorId).update({ merged_into: input.mergedId });
      }
      await insertEvents(trx, at, [
        {
          actor: input.actor,
          action: 'split',
          customerId: survivorId,
          otherCustomerId: input.mergedId,
          reason: input.reason,
          evidence: { undoes: ev ? String(ev.id) : null, movedRecords: back.map(toRecordKey) },
        },
      ]);
      await insertDecision(trx, at, { verdict: 'different', customerId: survivorId, otherCustomerId: input.mergedId, actor: input.actor, reason: input.reason });
      return { customerId: input.mergedId, survivorId, movedBack: back.map(toRecordKey) };
    });
  }

  /**
   * Moves records of one customer to a new customer (a steward saying "these are someone
   * else"), and records a `different` decision between the two.
   */
  async function splitRecords(input: { records: SourceRecordKey[]; actor: string; reason: string }) {
    if (input.records.length === 0) throw conflict('Nothing to split');
    return stewardTransaction(async (trx) => {
      const rows = await recordsWithOwnersLocked(trx, input.records);
      if (rows.length !== uniqueBy(input.records, recordKeyString).length) throw notFound('Some records to split are unknown');
      const owners = unique(rows.map((r) => r.customer_id));
      if (owners.includes(null)) throw conflict('Records to split must belong to a customer; some belong to none (deleted in their source, or awaiting resolution)');
      if (owners.length !== 1) throw conflict('Records to split must all belong to one customer');
      const from = owners[0] as string;
      const [{ n }] = await trx(T.sourceRecords).where('customer_id', from).count({ n: '*' });
      if (Number(n) <= rows.length) throw conflict(`Cannot split every record off customer ${from}: at least one must stay`);
      const at = nowIso();
      const id = ulid();
      await trx(T.customers).insert({ id, status: 'active', merged_into: null, created_at: toDbTime(trx, at), updated_at: toDbTime(trx, at) });
      await whereRecords(trx(T.sourceRecords), 'source', 'record_id', input.records).update({ customer_id: id, linked_at: toDbTime(trx, at) });
      await insertEvents(trx, at, [
        { actor: input.actor, action: 'split', customerId: from, otherCustomerId: id, reason: input.reason, evidence: { movedRecords: rows.map(toRecordKey) } },
      ]);
      await insertDecision(trx, at, { verdict: 'different', customerId: from, otherCustomerId: id, actor: input.actor, reason: input.reason });
      return { customerId: id, fromCustomerId: from };
    });
  }

  /** A person's verdict on two customers; `different` stops resolution linking them. Settles `candidateId` if given. */
  async function recordDecision(input: { verdict: DecisionVerdict; customerId: string; otherCustomerId: string; actor: string; reason: string; candidateId?: string | null }) {
    return writeTransaction(db, async (trx) => {
      const at = nowIso();
      const id = await insertDecision(trx, at, input);
      if (input.candidateId) {
        await trx(T.candidates)
          .where('id', Number(input.candidateId))
          .update({ status: input.verdict === 'same' ? 'accepted' : 'rejected', updated_at: toDbTime(trx, at) });
      }
      return { id: String(id) };
    });
  }

  /**
   * A steward settles an open review candidate. `same` (accept) merges the candidate's two
   * customers, as they are now (merged ids followed to their survivor), and records the
   * decision; `different` (reject) records that they are different people, which resolution
   * then never links. A candidate about a value rather than a pair (blocked, over-shared,
   * orphan) can only be rejected (dismissed). Unknown ids are NOT_FOUND; a settled candidate,
   * accepting one without a pair, or rejecting a pair that is one customer already, CONFLICT.
   */
  async function resolveCandidate(input: { id: string; verdict: DecisionVerdict; actor: string; reason: string }): Promise<{
    candidate: ReviewCandidate;
    merge: MergeResult | null;
    /** The customers the decision is about, as they are now; null for a candidate about a value. */
    customerId: string | null;
    otherCustomerId: string | null;
  }> {
    const key = /^\d{1,9}$/.test(input.id) ? Number(input.id) : null;
    if (key === null) throw notFound(`No review candidate ${input.id}`);
    return stewardTransaction(async (trx) => {
      const q = trx(T.candidates).where('id', key);
      const row: DbReviewCandidateRow | undefined = await (isMysql(trx) ? q.forUpdate() : q).first();
      if (!row) throw notFound(`No review candidate ${input.id}`);
      if (row.status !== 'open') throw conflict(`Review candidate ${input.id} is already ${row.status}`);
      const at = nowIso();
      const settle = async (status: CandidateStatus) => {
        await trx(T.candidates)
          .where('id', key)
          .update({ status, updated_at: toDbTime(trx, at) });
        return toCandidate({ ...row, status, updated_at: at });
      };

      if (!row.customer_id || !row.other_customer_id) {
        if (input.verdict === 'same') {
          throw conflict(`Review candidate ${input.id} (${row.reason}) names no pair of customers to link; link its records with linkRecords`);
        }
        await insertEvents(trx, at, [
          {
            actor: input.actor,
            action: 'decision',
            customerId: row.customer_id,
            reason: input.reason,
            evidence: { verdict: 'different', candidate: input.id, candidateReason: row.reason },
          },
        ]);
        return { candidate: await settle('rejected'), merge: null, customerId: row.customer_id, otherCustomerId: null };
      }

      const found: DbCustomerRow[] = await trx(T.customers).whereIn('id', [row.customer_id, row.other_customer_id]).select('*');
      const now = (id: string) => {
        const c = found.find((x) => x.id === id);
        if (!c) throw new Error(`OneID invariant broken: review candidate ${input.id} names unknown customer ${id}`);
        return c.status === 'active' ? c.id : (c.merged_into as string);
      };
      const [a, b] = [now(row.customer_id), now(row.other_customer_id)].sort();
      const decision = { actor: input.actor, reason: input.reason, candidateId: input.id };
      if (a === b) {
        if (input.verdict === 'different') {
          throw conflict(`The customers of review candidate ${input.id} are one customer already (${a}); separate them with splitCustomer or unlinkRecord`);
        }
        await insertDecision(trx, at, { ...decision, verdict: 'same', customerId: row.customer_id, otherCustomerId: row.other_customer_id });
        return { candidate: await settle('accepted'), merge: null, customerId: a, otherCustomerId: a };
      }
      if (input.verdict === 'different') {
        await insertDecision(trx, at, { ...decision, verdict: 'different', customerId: a, otherCustomerId: b });
        return { candidate: await settle('rejected'), merge: null, customerId: a, otherCustomerId: b };
      }
      await requireActive(trx, [a, b]);
      const evidence = { candidate: input.id, kind: row.kind, value: row.value };
      const moved = await mergeInto(trx, { survivorId: a, mergedId: b, actor: input.actor, reason: input.reason, evidence }, at);
      await insertDecision(trx, at, { ...decision, verdict: 'same', customerId: a, otherCustomerId: b });
      const candidate = await settle('accepted');
      await supersedeJoinedCandidates(trx, at, a); // the other candidates about these two
      return { candidate, merge: { survivorId: a, mergedId: b, movedRecords: moved }, customerId: a, otherCustomerId: b };
    });
  }

  /**
   * A page of the review queue, of one status and one reason when given: oldest first, or
   * `strongest` first (the largest match weight first, then the oldest; candidates without one
   * after every weighed one). Keyset paging from `after`, the last candidate of the previous page
   * in the same order.
   */
  async function reviewCandidates(
    opts: { status?: CandidateStatus; reason?: CandidateReason; order?: 'oldest' | 'strongest'; after?: CandidatesAfter | null; limit?: number } = {},
  ): Promise<ReviewCandidate[]> {
    const q = db(T.candidates).limit(opts.limit ?? 100);
    if (opts.status) q.where('status', opts.status);
    if (opts.reason) q.where('reason', opts.reason);
    const after = opts.after;
    if (opts.order === 'strongest') {
      // Descending puts NULL last on both engines (it sorts lowest on each).
      q.orderBy([
        { column: 'match_weight', order: 'desc' },
        { column: 'id', order: 'asc' },
      ]);
      if (after && 'matchWeight' in after) {
        const id = Number(after.id);
        const w = after.matchWeight;
        if (w === null) q.whereNull('match_weight').where('id', '>', id);
        else
          q.where((k) =>
            k
              .where('match_weight', '<', w)
              .orWhere((e) => e.where('match_weight', w).where('id', '>', id))
              .orWhereNull('match_weight'),
          );
      }
    } else {
      q.orderBy('id');
      if (after) q.where('id', '>', Number(after.id));
    }
    const rows: DbReviewCandidateRow[] = await q.select('*');
    return rows.map(toCandidate);
  }

  /** Review candidates naming each customer (either side), newest first. */
  async function candidatesByCustomerIds(ids: readonly string[]): Promise<ReviewCandidate[][]> {
    const rows: DbReviewCandidateRow[] = await selectChunked(unique(ids), (chunk) =>
      db(T.candidates).whereIn('customer_id', chunk).orWhereIn('other_customer_id', chunk).orderBy('id', 'desc').select('*'),
    );
    return ids.map((id) => rows.filter((r) => r.customer_id === id || r.other_customer_id === id).map(toCandidate));
  }

  return {
    ...reader,
    db,
    // stewardship
    mergeCustomers,
    linkRecords,
    unmergeCustomer,
    splitRecords,
    recordDecision,
    resolveCandidate,
    reviewCandidates,
    candidatesByCustomerIds,
    // resolution (resolve.ts)
    ...createResolutionStore(db),
  };
}

function rawRows(result: any): any[] {
  // better-sqlite3 answers the rows; mysql2 answers [rows, fields].
  return Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result;
}

function toLinkEvent(r: any): LinkEvent {
  return {
    id: String(r.id),
    at: fromDbTime(r.at),
    actor: r.actor,
    action: r.action,
    customerId: r.customer_id,
    otherCustomerId: r.other_customer_id,
    source: r.source,
    recordId: r.record_id,
    reason: r.reason,
    evidence: r.evidence ? JSON.parse(r.evidence) : null,
  };
}

function toCandidate(r: DbReviewCandidateRow): ReviewCandidate {
  return {
    id: String(r.id),
    reason: r.reason,
    status: r.status,
    rule: r.rule,
    kind: r.kind as IdentifierKind | null,
    value: r.value,
    customerId: r.customer_id,
    otherCustomerId: r.other_customer_id,
    evidence: r.evidence ? JSON.parse(r.evidence) : null,
    matchWeight: r.match_weight == null ? null : Number(r.match_weight),
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
  };
}

/**
 * The records (as rows with their customer), once their customers are locked (MySQL): the
 * customers first, then the records read again, until the two agree (a record that changed
 * customer in between is read again). Two stewards changing one customer's records at once, or
 * a steward and a resolution batch, so act one after the other, each on what the other left;
 * locking the records first and then their customer deadlocked two unlinks of one customer.
 */
async function recordsWithOwnersLocked(trx: Knex, records: readonly SourceRecordKey[]): Promise<Array<Pick<DbSourceRecordRow, 'source' | 'record_id' | 'customer_id'>>> {
  const read = (): Promise<Array<Pick<DbSourceRecordRow, 'source' | 'record_id' | 'customer_id'>>> =>
    whereRecords(trx(T.sourceRecords), 'source', 'record_id', records).select('source', 'record_id', 'customer_id');
  let rows = await read();
  if (!isMysql(trx)) return rows;
  for (let attempt = 0; attempt < 5; attempt++) {
    const owners = unique(rows.map((r) => r.customer_id).filter((id): id is string => id != null));
    if (owners.length) await trx(T.customers).whereIn('id', owners).select('id').forUpdate();
    const now = await read();
    const ownerNow = new Map(now.map((r) => [recordKeyString(toRecordKey(r)), r.customer_id]));
    if (now.length === rows.length && rows.every((r) => ownerNow.get(recordKeyString(toRecordKey(r))) === r.customer_id)) return now;
    rows = now;
  }
  throw conflict('The records changed customer while this change was made (other stewards or a resolution at work); try again');
}

/** A read that locks what it reads on MySQL/MariaDB (and reads it as committed now, not as the transaction's snapshot); SQLite writes one transaction at a time. */
function forUpdate<Q extends Knex.QueryBuilder>(trx: Knex, q: Q): Q {
  return isMysql(trx) ? (q.forUpdate() as Q) : q;
}

/**
 * Locks (MySQL) and checks customers a steward acts on: unknown ids are NOT_FOUND, merged
 * ones a CONFLICT naming the customer they now are.
 */
async function requireStewardable(trx: Knex, ids: readonly string[]): Promise<void> {
  const q = trx(T.customers).whereIn('id', unique(ids)).select('id', 'status', 'merged_into');
  const rows: Array<Pick<DbCustomerRow, 'id' | 'status' | 'merged_into'>> = await (isMysql(trx) ? q.forUpdate() : q);
  for (const id of ids) {
    const row = rows.find((r) => r.id === id);
    if (!row) throw notFound(`No customer ${id}`);
    if (row.status !== 'active') throw conflict(`Customer ${id} is not active: it was merged into ${row.merged_into}; use that id`);
  }
}
