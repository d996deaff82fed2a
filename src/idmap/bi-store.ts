/**
 * OneID reads and writes for BI lists (src/bi/): keyset pages over active customers, the
 * record → customer mapping in bulk, identifier presence, and the saved segments table.
 *
 * Every read is one statement per IN-list chunk (MAX_IN_LIST) or one keyset page, whatever the
 * number of customers; an id set never travels as one unbounded list. Only active customers
 * are answered: a merged-away id is gone from every list, its records answer its survivor.
 */
import type { Knex } from 'knex';
import { isMysql, retryWhileLocked, whereExactly, withoutLockWait } from '../db';
import { conflict, forbidden, notFound } from '../errors';
import type { IdentifierKind, SourceName } from '../vocabulary';
import { T, chunks, fromDbTimeOrNull, toDbTime, fromDbTime } from './tables';
import type { Principal, PrincipalKind } from '../principal';

const SEGMENTS = 'c360_segments';

export interface SegmentRow {
  name: string;
  description: string | null;
  /** The filter as stored (JSON text parsed). */
  filter: unknown;
  size: number | null;
  computedAt: string | null;
  /** The name of the principal that created it (its kind: `createdByKind`). */
  createdBy: string;
  /** Null for a segment from before kinds were recorded, not yet attributed (attributeSegments). */
  createdByKind: PrincipalKind | null;
  updatedBy: string;
  updatedByKind: PrincipalKind | null;
  createdAt: string;
  updatedAt: string;
}

interface DbSegmentRow {
  name: string;
  description: string | null;
  filter: string;
  size: number | null;
  computed_at: unknown;
  created_by: string;
  created_by_kind: PrincipalKind | null;
  updated_by: string;
  updated_by_kind: PrincipalKind | null;
  created_at: unknown;
  updated_at: unknown;
}

const toSegment = (r: DbSegmentRow): SegmentRow => ({
  name: r.name,
  description: r.description,
  filter: JSON.parse(r.filter),
  size: r.size == null ? null : Number(r.size),
  computedAt: fromDbTimeOrNull(r.computed_at),
  createdBy: r.created_by,
  createdByKind: r.created_by_kind,
  updatedBy: r.updated_by,
  updatedByKind: r.updated_by_kind,
  createdAt: fromDbTime(r.created_at),
  updatedAt: fromDbTime(r.updated_at),
});

export type BiStore = ReturnType<typeof createBiStore>;

/**
 * Narrows a segment write to the rows `createdBy` made, kind and name (no narrowing when absent: a
 * role that may change any). A row whose kind is not recorded is nobody's here: only such a role
 * changes it until it is attributed. The name is compared byte for byte on every engine (whereExactly),
 * so `Alice` and `alice ` are not `alice`.
 */
const ownedBy = (db: Knex, q: Knex.QueryBuilder, createdBy: Principal | undefined): Knex.QueryBuilder =>
  createdBy === undefined ? q : createdBy.kind === null ? q.whereRaw('0 = 1') : whereExactly(db, q, 'created_by', createdBy.name).where('created_by_kind', createdBy.kind);

/** Whether a stored creator is this principal, compared as the database's WHERE above compares it. */
const isOwner = (row: { created_by: string; created_by_kind: string | null }, p: Principal) =>
  row.created_by === p.name && row.created_by_kind !== null && row.created_by_kind === p.kind;

/** Whether a stored value is a placeholder (`+8613800000000`, `test@test.com`): the identity rules' blocked patterns. */
export type IsPlaceholder = (kind: IdentifierKind, value: string) => boolean;

/** Distinct values read per page when looking for placeholders among the identifiers of a kind. */
const VALUE_PAGE = 10_000;

/**
 * `told`: the systems a role is told of (absent: every system). A customer is one of such a role's
 * customers only if at least one of its records is in one of them: the condition is part of every
 * active-customer read below (an EXISTS on the record mapping), so pages, counts, segment sizes and
 * exports agree and stay one statement each. Its identifier filters (`hasPhone`) read only those
 * systems' identifiers.
 */
export function createBiStore(db: Knex, isPlaceholder: IsPlaceholder = () => false, told?: readonly SourceName[]) {
  /** Active customers, known to a system the role is told of when `told` is given. */
  const active = () => {
    const q = db(T.customers).where('status', 'active');
    if (told)
      q.whereExists(
        db(`${T.sourceRecords} as told`)
          .select(db.raw('1'))
          .whereRaw('?? = ??', ['told.customer_id', `${T.customers}.id`])
          .whereIn('told.source', [...told]),
      );
    return q;
  };
  /**
   * A segment change. On SQLite, a lock another process holds (a `c360 resolve` sharing the file)
   * is waited for on timers, as long as SQLite would have waited, not inside SQLite on the event
   * loop, which held every other request with it.
   */
  const change: <T>(write: (k: Knex) => Promise<T>) => Promise<T> = isMysql(db) ? (write) => write(db) : (write) => retryWhileLocked(() => withoutLockWait(db, write));

  /**
   * After a segment write that touched no row: FORBIDDEN if the segment exists but another principal
   * created it, else what `absent` makes of a missing segment (thrown when it is an error).
   */
  async function refuseOthers(name: string, createdBy: Principal | undefined, absent: () => Error | null): Promise<void> {
    const row: { created_by: string; created_by_kind: string | null } | undefined = await db(SEGMENTS).where('name', name).first('created_by', 'created_by_kind');
    if (row && createdBy !== undefined && !isOwner(row, createdBy)) {
      throw forbidden(`Segment ${name} was created by someone else: your role may change and delete only the segments you created`);
    }
    const error = row ? null : absent();
    if (error) throw error;
  }

  /** The current values of `kind` that are placeholders, read a page of distinct values at a time. */
  async function placeholderValues(kind: IdentifierKind): Promise<Set<string>> {
    const found = new Set<string>();
    for (let after: string | null = null; ;) {
      // On the (kind, match_key) index: what resolution compares, and what its blocked patterns test first.
      const q = db(T.identifiers).where('kind', kind).whereNull('valid_to').distinct('match_key').orderBy('match_key').limit(VALUE_PAGE);
      if (after !== null) q.where('match_key', '>', after);
      const values: string[] = (await q).map((r: { match_key: string }) => r.match_key);
      for (const v of values) if (isPlaceholder(kind, v)) found.add(v);
      if (values.length < VALUE_PAGE) return found;
      after = values[values.length - 1];
    }
  }

  return {
    /** Active customer ids after `after` (exclusive), ascending, at most `limit`: one keyset page on the primary key. */
    async activeIdsAfter(after: string | null, limit: number): Promise<string[]> {
      const q = active().orderBy('id').limit(limit).select('id');
      if (after) q.where('id', '>', after);
      return (await q).map((r: { id: string }) => r.id);
    },

    /** How many customers are active now. */
    async countActive(): Promise<number> {
      const [r] = await active().count({ n: '*' });
      return Number((r as { n: number | string }).n);
    },

    /** Which of `ids` are active now (a customer merged away meanwhile is not). */
    async activeAmong(ids: readonly string[]): Promise<Set<string>> {
      const out = new Set<string>();
      for (const chunk of chunks([...new Set(ids)])) {
        const rows = await active().whereIn('id', chunk).select('id');
        for (const r of rows) out.add(r.id);
      }
      return out;
    },

    /** The customer owning each record of `source` now; records without one are left out. One statement per chunk. */
    async customersOfRecords(source: SourceName, recordIds: readonly string[]): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (const chunk of chunks([...new Set(recordIds)])) {
        const rows = await db(T.sourceRecords).where('source', source).whereIn('record_id', chunk).whereNotNull('customer_id').select('record_id', 'customer_id');
        for (const r of rows) out.set(r.record_id, r.customer_id);
      }
      return out;
    },

    /** A keyset page of the records of `source` that belong to a customer, by record id: `{recordId, customerId}`. */
    async recordsOfSource(source: SourceName, afterRecordId: string | null, limit: number): Promise<Array<{ recordId: string; customerId: string }>> {
      const q = db(T.sourceRecords).where('source', source).whereNotNull('customer_id').orderBy('record_id').limit(limit).select('record_id', 'customer_id');
      if (afterRecordId !== null) q.where('record_id', '>', afterRecordId);
      return (await q).map((r: { record_id: string; customer_id: string }) => ({ recordId: r.record_id, customerId: r.customer_id }));
    },

    /** Records per source that belong to a customer (the planner's size estimates). */
    async recordCounts(): Promise<Map<string, number>> {
      const rows = await db(T.sourceRecords).whereNotNull('customer_id').groupBy('source').select('source', db.raw('count(*) as n'));
      return new Map(rows.map((r: { source: string; n: number | string }) => [r.source, Number(r.n)]));
    },

    /**
     * Active customers with at least one current identifier of one of `kinds` on their records
     * that is not a placeholder: a customer whose only phone is `+8613800000000` has none. Memory
     * stays with the customers answered: the values are checked a page of distinct values at a
     * time, and only the few customers carrying a placeholder are read again, value by value.
     */
    async customersWithIdentifierKinds(kinds: readonly IdentifierKind[]): Promise<string[]> {
      if (!kinds.length) return [];
      const current = () => {
        const q = db(`${T.identifiers} as i`)
          .join(`${T.sourceRecords} as sr`, (j) => j.on('sr.source', 'i.source').andOn('sr.record_id', 'i.record_id'))
          .whereIn('i.kind', [...kinds])
          .whereNull('i.valid_to')
          .whereNotNull('sr.customer_id');
        // A role told of some systems only: their identifiers (a phone only the helpdesk holds is not one it knows).
        if (told) q.whereIn('i.source', [...told]);
        return q;
      };
      const carriers: string[] = (await current().distinct('sr.customer_id')).map((r: { customer_id: string }) => r.customer_id);
      // Those carrying a placeholder keep their place only with another, real value of the kinds.
      const suspects = new Set<string>();
      const placeholders = new Set<string>();
      for (const kind of kinds) {
        const values = await placeholderValues(kind);
        for (const v of values) placeholders.add(`${kind} ${v}`);
        for (const chunk of chunks([...values]))
          for (const r of await current().where('i.kind', kind).whereIn('i.match_key', chunk).distinct('sr.customer_id')) suspects.add(r.customer_id);
      }
      if (!suspects.size) return carriers;
      const real = new Set<string>();
      for (const chunk of chunks([...suspects])) {
        for (const r of await current().whereIn('sr.customer_id', chunk).distinct('sr.customer_id', 'i.kind', 'i.match_key'))
          if (!placeholders.has(`${r.kind} ${r.match_key}`)) real.add(r.customer_id);
      }
      return carriers.filter((c) => !suspects.has(c) || real.has(c));
    },

    // ---------- segments ----------

    async segments(): Promise<SegmentRow[]> {
      return (await db(SEGMENTS).orderBy('name').select('*')).map(toSegment);
    },

    async segment(name: string): Promise<SegmentRow | null> {
      const row = await db(SEGMENTS).where('name', name).first();
      return row ? toSegment(row) : null;
    },

    /** CONFLICT when the name is taken. */
    async createSegment(input: { name: string; description: string | null; filter: unknown; actor: Principal }): Promise<SegmentRow> {
      const now = toDbTime(db, new Date().toISOString());
      try {
        await change((k) =>
          k(SEGMENTS).insert({
            name: input.name,
            description: input.description,
            filter: JSON.stringify(input.filter),
            size: null,
            computed_at: null,
            created_by: input.actor.name,
            created_by_kind: input.actor.kind,
            updated_by: input.actor.name,
            updated_by_kind: input.actor.kind,
            created_at: now,
            updated_at: now,
          }),
        );
      } catch (e) {
        if ((await db(SEGMENTS).where('name', input.name).first()) !== undefined) throw conflict(`A segment named ${input.name} exists already`);
        throw e;
      }
      return (await this.segment(input.name))!;
    },

    /**
     * NOT_FOUND when there is no such segment; FORBIDDEN when `createdBy` is given and another
     * principal created it (checked in the UPDATE's own WHERE, so a segment deleted and made again
     * by someone else in between is not changed). A changed filter forgets the last computed size.
     */
    async updateSegment(input: { name: string; description?: string | null; filter?: unknown; actor: Principal; createdBy?: Principal }): Promise<SegmentRow> {
      const patch: Record<string, unknown> = { updated_by: input.actor.name, updated_by_kind: input.actor.kind, updated_at: toDbTime(db, new Date().toISOString()) };
      if (input.description !== undefined) patch.description = input.description;
      if (input.filter !== undefined) Object.assign(patch, { filter: JSON.stringify(input.filter), size: null, computed_at: null });
      const n = await change((k) => ownedBy(db, k(SEGMENTS).where('name', input.name), input.createdBy).update(patch));
      if (!n) await refuseOthers(input.name, input.createdBy, () => notFound(`No segment named ${input.name}`));
      return (await this.segment(input.name))!;
    },

    /** False when there is no such segment; FORBIDDEN as updateSegment's when `createdBy` is given. */
    async deleteSegment(name: string, createdBy?: Principal): Promise<boolean> {
      const n = await change((k) => ownedBy(db, k(SEGMENTS).where('name', name), createdBy).delete());
      if (!n) await refuseOthers(name, createdBy, () => null);
      return n > 0;
    },

    /**
     * Gives the segments saved before kinds were recorded (kind null) the kind of principal their
     * names were: an API key's when the config has a key of that name (names the operator chose, so a
     * token subject that happens to match one does not take its segments), else a token subject's
     * when tokens are configured; else they stay unattributed, changed only by a role that may change
     * any. The writer's kind likewise. Run at every start: a row once attributed is never touched
     * again, one left over is looked at again when the config changes. Answers the rows attributed.
     */
    async attributeSegments(by: { apiKeyNames: readonly string[]; tokens: boolean }): Promise<number> {
      let n = 0;
      for (const [name, kind] of [
        ['created_by', 'created_by_kind'],
        ['updated_by', 'updated_by_kind'],
      ] as const) {
        if (by.apiKeyNames.length)
          n += await change((k) =>
            k(SEGMENTS)
              .whereNull(kind)
              .whereIn(name, [...by.apiKeyNames])
              .update({ [kind]: 'apiKey' }),
          );
        if (by.tokens)
          n += await change((k) =>
            k(SEGMENTS)
              .whereNull(kind)
              .update({ [kind]: 'jwt' }),
          );
      }
      return n;
    },

    /** Notes the size an evaluation found (so `segments` can show it without evaluating each). */
    async noteSegmentSize(name: string, size: number, at: string): Promise<void> {
      await change((k) =>
        k(SEGMENTS)
          .where('name', name)
          .update({ size, computed_at: toDbTime(db, at) }),
      );
    },
  };
}
