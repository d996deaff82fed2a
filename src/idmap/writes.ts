/**
 * Write steps every OneID write shares, each inside the caller's transaction: link events,
 * candidates, decisions, and the merge itself. Kept here so stewardship and resolution write
 * the same rows the same way.
 */
import type { Knex } from 'knex';
import { isMysql } from '../db';
import { conflict } from '../errors';
import type { IdentifierKind, SourceName } from '../vocabulary';
import type { LinkAction, SourceRecordKey } from './types';
import { matchKeyOf } from './rules';
import {
  T,
  chunks,
  insertMany,
  insertRows,
  selectChunked,
  toDbTime,
  toRecordKey,
  unique,
  uniqueBy,
  whereRecords,
  whereValues,
  type CandidateReason,
  type DecisionVerdict,
} from './tables';

export interface NewLinkEvent {
  actor: string;
  action: LinkAction;
  customerId: string | null;
  otherCustomerId?: string | null;
  source?: SourceName | null;
  recordId?: string | null;
  reason: string;
  evidence?: Record<string, unknown> | null;
}

export interface NewCandidate {
  /** One candidate per finding: a second report of the same finding is ignored. */
  dedupeKey: string;
  reason: CandidateReason;
  rule: string;
  kind: IdentifierKind | null;
  value: string | null;
  customerId: string | null;
  otherCustomerId: string | null;
  evidence: Record<string, unknown>;
}

/** The store changed under a resolution plan (a steward merged meanwhile): re-plan and retry. */
export class StaleResolutionError extends Error {
  constructor(what: string) {
    super(`OneID changed while resolving: ${what}`);
    this.name = 'StaleResolutionError';
  }
}

/** Locks (MySQL) and checks customers are active; throws `conflict`, or StaleResolutionError when `stale`. */
export async function requireActive(trx: Knex, ids: readonly string[], stale = false): Promise<void> {
  const wanted = unique(ids);
  if (!wanted.length) return;
  const rows = await selectChunked(wanted, (chunk) => {
    const q = trx(T.customers).whereIn('id', chunk).where('status', 'active').select('id');
    return isMysql(trx) ? q.forUpdate() : q;
  });
  if (rows.length === wanted.length) return;
  const found = new Set(rows.map((r) => r.id));
  const missing = wanted.filter((id) => !found.has(id));
  if (stale) throw new StaleResolutionError(`customers ${missing.join(', ')} are no longer active`);
  throw conflict(`Customers ${missing.join(', ')} are not active (unknown, or merged into another)`);
}

/** The newest steward decision's id, 0 when there is none: where a resolution read the decisions it plans with. */
export async function latestDecision(db: Knex, lock = false): Promise<number> {
  const q = db(T.decisions).max({ n: 'id' });
  const [row] = await (lock && isMysql(db) ? q.forUpdate() : q);
  return Number(row?.n ?? 0);
}

/**
 * Refuses, as stale, a resolution plan made on the decisions as they were at `seen` when a
 * steward has decided since (a split, an unlink, a rejected candidate made while the run
 * planned): applied, the plan could link again two customers just judged different. Called in
 * the plan's transaction; on MySQL the read locks the end of the decisions' index, so no
 * decision lands between the check and the commit.
 */
export async function requireNoDecisionSince(trx: Knex, seen: number): Promise<void> {
  if ((await latestDecision(trx, true)) > seen) throw new StaleResolutionError('a steward recorded a decision');
}

/**
 * Settles the open review candidates about two customers that are one by now (joined by a later
 * link, merge or accepted candidate): `superseded`, so that the review queue holds only
 * questions still open. Customers are followed to their survivors (a merged customer's
 * `merged_into` is active). `survivorId`: only candidates about that customer need looking at
 * (a steward's merge; about 100 ms less at a million records than the whole open queue).
 * The value a settled `conflict` candidate refused is weighed again (`pendCarriers`): it was
 * refused because these two looked like different people, and they are one now.
 * Answers how many were settled.
 */
export async function supersedeJoinedCandidates(trx: Knex, at: string, survivorId?: string): Promise<number> {
  const joined = (ids?: readonly string[]) => {
    const q = trx(`${T.candidates} as c`)
      .join(`${T.customers} as a`, 'a.id', 'c.customer_id')
      .join(`${T.customers} as b`, 'b.id', 'c.other_customer_id')
      .where('c.status', 'open')
      .whereRaw('COALESCE(a.merged_into, a.id) = COALESCE(b.merged_into, b.id)');
    // Both sides of a joined candidate are the survivor or merged into it: one side's id is enough to find it by.
    return (ids ? q.whereIn('c.customer_id', [...ids]) : q).select('c.id', 'c.reason', 'c.kind', 'c.value') as Promise<
      Array<{ id: number; reason: string; kind: string | null; value: string | null }>
    >;
  };
  const rows = survivorId ? await selectChunked([survivorId, ...((await trx(T.customers).where('merged_into', survivorId).pluck('id')) as string[])], joined) : await joined();
  const ids = rows.map((r) => Number(r.id));
  for (const part of chunks(ids)) {
    await trx(T.candidates)
      .whereIn('id', part)
      .where('status', 'open')
      .update({ status: 'superseded', updated_at: toDbTime(trx, at) });
  }
  await pendCarriers(
    trx,
    rows.flatMap((r) => (r.reason === 'conflict' && r.kind && r.value ? [{ kind: r.kind as IdentifierKind, matchKey: matchKeyOf(r.kind as IdentifierKind, r.value) }] : [])),
  );
  return ids.length;
}

/**
 * Makes the live records currently carrying `values` pending, so that the next link phase weighs
 * each value again with the customers as they are now. A value the rules refused between two
 * customers (different names, an exclusive kind) joined none of its carriers, also those the
 * conflict was not about (a nameless shop account on the same phone); once the two are one
 * customer (the probabilistic tier or a steward merged them), what refused it is gone, and only
 * a new weighing links its other carriers. The same for a value one carrier let go of (`detach.ts`).
 */
export async function pendCarriers(trx: Knex, values: ReadonlyArray<{ kind: IdentifierKind; matchKey: string }>): Promise<void> {
  // The carriers first, then their records by key: as one UPDATE … WHERE (source, record_id) IN
  // (SELECT …), MariaDB (before 11.1, no semi-join for a single-table UPDATE) walked every source
  // record with the subquery per row, locking each until the commit (a webhook's or a steward's
  // write to any record waited on the run's sweep; seconds at a million records).
  for (const part of chunks(
    uniqueBy(values, (v) => `${v.kind}\u0000${v.matchKey}`),
    200,
  )) {
    const carriers = whereValues(
      trx(T.identifiers).whereNull('valid_to'),
      'match_key',
      part.map((v) => ({ kind: v.kind, v: v.matchKey })),
    ).distinct('source', 'record_id');
    // Read as the UPDATE's subquery read them on MySQL: a locking read (the latest committed carriers, held until the commit).
    const keys: Array<{ source: string; record_id: string }> = await (isMysql(trx) ? carriers.forShare() : carriers);
    for (const records of chunks(keys.map(toRecordKey)))
      await whereRecords(trx(T.sourceRecords), 'source', 'record_id', records).whereNull('deleted_at').whereRaw('pending = 0').update({ pending: 1 });
  }
}

/**
 * Merges one customer into another: re-points its records and the customers merged into it,
 * and logs the `merge` event with what moved (so it can be undone). Answers the moved records.
 */
export async function mergeInto(
  trx: Knex,
  m: { survivorId: string; mergedId: string; actor: string; reason: string; evidence: Record<string, unknown> },
  at: string,
): Promise<SourceRecordKey[]> {
  const moved = (await trx(T.sourceRecords).where('customer_id', m.mergedId).orderBy(['source', 'record_id']).select('source', 'record_id')).map(toRecordKey);
  const redirected = (await trx(T.customers).where('merged_into', m.mergedId).select('id')).map((r) => r.id as string);
  await trx(T.customers)
    .where('id', m.mergedId)
    .update({ status: 'merged', merged_into: m.survivorId, updated_at: toDbTime(trx, at) });
  if (redirected.length) await trx(T.customers).where('merged_into', m.mergedId).update({ merged_into: m.survivorId });
  if (moved.length) await trx(T.sourceRecords).where('customer_id', m.mergedId).update({ customer_id: m.survivorId });
  await insertEvents(trx, at, [mergeEvent(m, moved, redirected)]);
  return moved;
}

/** The `merge` event of a merge: what moved and what was redirected, so that it can be undone (the link phase's direct writes log the same). */
export function mergeEvent(
  m: { survivorId: string; mergedId: string; actor: string; reason: string; evidence: Record<string, unknown> },
  moved: readonly SourceRecordKey[],
  redirected: readonly string[],
): NewLinkEvent {
  return {
    actor: m.actor,
    action: 'merge',
    customerId: m.survivorId,
    otherCustomerId: m.mergedId,
    reason: m.reason,
    evidence: { ...m.evidence, movedRecords: moved, redirected },
  };
}

const EVENT_COLUMNS = ['at', 'actor', 'action', 'customer_id', 'other_customer_id', 'source', 'record_id', 'reason', 'evidence'];

/** Events in order (ids increase with it); as arrays (`insertRows`): the link phase writes one a record. */
export async function insertEvents(trx: Knex, at: string, events: readonly NewLinkEvent[]): Promise<void> {
  const when = toDbTime(trx, at);
  await insertRows(
    trx,
    T.linkEvents,
    EVENT_COLUMNS,
    events.map((e) => [
      when,
      e.actor,
      e.action,
      e.customerId,
      e.otherCustomerId,
      e.source,
      e.recordId,
      e.reason.slice(0, 255),
      e.evidence == null ? null : JSON.stringify(e.evidence),
    ]),
  );
}

/** A probable candidate's match weight from its evidence, kept beside it so that the queue can be read strongest first. */
function matchWeightOf(c: NewCandidate): number | null {
  const w = c.reason === 'probable' ? c.evidence.weight : null;
  return typeof w === 'number' && Number.isFinite(w) ? w : null;
}

/** Inserts the candidates not reported before; a new pair candidate also logs a `candidate` event. Answers how many were new. */
export async function insertCandidates(trx: Knex, at: string, candidates: readonly NewCandidate[]): Promise<number> {
  const wanted = uniqueBy(candidates, (c) => c.dedupeKey);
  if (!wanted.length) return 0;
  const known = new Set(
    (
      await selectChunked(
        wanted.map((c) => c.dedupeKey),
        (chunk) => trx(T.candidates).whereIn('dedupe_key', chunk).select('dedupe_key'),
      )
    ).map((r) => r.dedupe_key as string),
  );
  const created = wanted.filter((c) => !known.has(c.dedupeKey));
  const when = toDbTime(trx, at);
  await insertMany(
    trx,
    T.candidates,
    created.map((c) => ({
      dedupe_key: c.dedupeKey,
      reason: c.reason,
      status: 'open',
      rule: c.rule,
      kind: c.kind,
      value: c.value,
      customer_id: c.customerId,
      other_customer_id: c.otherCustomerId,
      evidence: JSON.stringify(c.evidence),
      match_weight: matchWeightOf(c),
      created_at: when,
      updated_at: when,
    })),
  );
  await insertEvents(
    trx,
    at,
    created
      .filter((c) => c.customerId && c.otherCustomerId)
      .map((c) => ({
        actor: `rule:${c.rule}`,
        action: 'candidate' as const,
        customerId: c.customerId,
        otherCustomerId: c.otherCustomerId,
        reason: `not linked: ${c.reason.replace('_', '-')} ${c.kind ?? ''} value`.trim(),
        evidence: { candidate: c.dedupeKey, kind: c.kind, value: c.value, ...c.evidence },
      })),
  );
  return created.length;
}

export async function insertDecision(
  trx: Knex,
  at: string,
  d: { verdict: DecisionVerdict; customerId: string; otherCustomerId: string; actor: string; reason: string; candidateId?: string | null },
): Promise<number> {
  const [id] = await trx(T.decisions).insert({
    at: toDbTime(trx, at),
    actor: d.actor,
    verdict: d.verdict,
    customer_id: d.customerId,
    other_customer_id: d.otherCustomerId,
    candidate_id: d.candidateId ? Number(d.candidateId) : null,
    reason: d.reason.slice(0, 255),
  });
  await insertEvents(trx, at, [
    {
      actor: d.actor,
      action: 'decision',
      customerId: d.customerId,
      otherCustomerId: d.otherCustomerId,
      reason: d.reason,
      evidence: { verdict: d.verdict, decision: String(id), candidate: d.candidateId ?? null },
    },
  ]);
  return Number(id);
}
