/**
 * What the link phase reads and writes per batch, on SQLite as prepared better-sqlite3
 * statements run on the store's own connection (each prepared once per connection; a read takes
 * all of a batch's keys in one run, a write one run per row); on MySQL/MariaDB the resolution
 * store's batched knex queries.
 *
 * Why: a first resolution at a million records links about 500 batches, each reading the
 * carriers of some 6,000 values and writing a row or two per record. Through knex every read
 * and write was built, compiled and bound anew (IN lists of up to 1,000 keys, 400-branch CASE
 * updates, multi-row inserts), on top of the statement; prepared once, a statement run is a few
 * microseconds plus SQLite's own work, and the rows come back in the order the indexes hold them.
 *
 * Answers exactly what the resolution store's reads answer, in the same order wherever order
 * can reach the map (a value's carriers, a record's identifiers, a customer's records: each in
 * index order, as the batched reads' indexes gave them), and applies a plan with the same rows,
 * checks and errors as `applyResolution` (a merge as `mergeInto` writes it; candidates through
 * `insertCandidates` itself, a few a batch).
 */
import type Database from 'better-sqlite3';
import type { Knex } from 'knex';
import { isMysql } from '../db';
import type { IdentifierKind, SourceName } from '../vocabulary';
import type { Carrier, CustomerRecordIdentifier, PendingRecord, ResolutionPlan } from './resolution-store';
import type { IdMapStore } from './store';
import { T, onSqliteConnection, recordKeyString, unique, uniqueBy, valueKeyString, writeTransaction, type ValueKey } from './tables';
import type { SourceRecordKey } from './types';
import { StaleResolutionError, insertCandidates, insertEvents, mergeEvent, requireNoDecisionSince, type NewLinkEvent } from './writes';

/** The link phase's reads and its batch apply (see `createResolutionStore` for what each answers). */
export interface LinkStore {
  pendingRecords(source: SourceName, afterRecordId: string | null, limit: number): Promise<PendingRecord[]>;
  currentIdentifiersOf(
    keys: readonly SourceRecordKey[],
    kinds?: readonly IdentifierKind[],
  ): Promise<Array<{ source: SourceName; recordId: string; kind: IdentifierKind; value: string; matchKey: string }>>;
  valueCounts(values: readonly ValueKey[]): Promise<Map<string, { total: number; busiest: number }>>;
  carriersOf(values: readonly ValueKey[]): Promise<Carrier[]>;
  recordsOfCustomers(ids: readonly string[], kinds: readonly IdentifierKind[]): Promise<CustomerRecordIdentifier[]>;
  applyResolution(plan: ResolutionPlan): Promise<{ candidatesCreated: number }>;
}

/** The link store of `store`: direct statements on SQLite, the store's own methods elsewhere. */
export function linkStoreOf(store: IdMapStore): LinkStore {
  if (isMysql(store.db)) return store;
  return directLinkStore(store.db);
}

type Raw = Database.Database;

/**
 * Reads take their keys as one JSON array (`json_each`): one statement for any number of keys,
 * prepared once, each key looked up through the same index as the batched IN lists did (the
 * plans are in the comments), and measured about 20% cheaper than those per batch of carriers;
 * one statement per key cost 60% more (a statement's cursors are opened anew on every run).
 * Rows come back in the keys' order and, per key, in index order; `inIndexOrder` checks that and
 * sorts if a plan ever answers otherwise.
 */
const SQL = {
  pending: `SELECT source, record_id, customer_id, name_key, birthday_key FROM ${T.sourceRecords} WHERE pending = 1 AND source = ? ORDER BY record_id LIMIT ?`,
  pendingAfter: `SELECT source, record_id, customer_id, name_key, birthday_key FROM ${T.sourceRecords} WHERE pending = 1 AND source = ? AND record_id > ? ORDER BY record_id LIMIT ?`,
  // json_each k; SEARCH i USING INDEX idmap_identifiers_record_idx (source=? AND record_id=?)
  identifiersOfRecords:
    `SELECT k.key, i.id, i.kind, i.value, i.match_key FROM json_each(?) AS k ` +
    `JOIN ${T.identifiers} AS i ON i.source = k.value ->> 0 AND i.record_id = k.value ->> 1 WHERE i.valid_to IS NULL`,
  // json_each k; SEARCH i USING INDEX idmap_identifiers_match_idx (kind=? AND match_key=?); SEARCH sr USING PRIMARY KEY
  carriersOfValues:
    `SELECT k.key, i.id, i.value, i.source, i.record_id, sr.customer_id, sr.pending, sr.name_key, sr.birthday_key FROM json_each(?) AS k ` +
    `JOIN ${T.identifiers} AS i ON i.kind = k.value ->> 0 AND i.match_key = k.value ->> 1 ` +
    `JOIN ${T.sourceRecords} AS sr ON sr.source = i.source AND sr.record_id = i.record_id WHERE i.valid_to IS NULL AND sr.deleted_at IS NULL`,
  countsOfValue: `SELECT COUNT(DISTINCT record_id) AS n FROM ${T.identifiers} WHERE kind = ? AND match_key = ? AND valid_to IS NULL GROUP BY source`,
  // json_each k; SEARCH sr USING INDEX idmap_source_records_customer_idx (customer_id=?); SEARCH i USING INDEX idmap_identifiers_record_idx LEFT-JOIN
  recordsOfCustomers:
    `SELECT k.key, sr.source, sr.record_id, sr.name_key, sr.birthday_key, i.id, i.kind, i.match_key FROM json_each(?) AS k ` +
    `JOIN ${T.sourceRecords} AS sr ON sr.customer_id = k.value ` +
    `LEFT JOIN ${T.identifiers} AS i ON i.source = sr.source AND i.record_id = sr.record_id AND i.valid_to IS NULL`,
  isActive: `SELECT 1 AS ok FROM ${T.customers} WHERE id = ? AND status = 'active'`,
  insertCustomer: `INSERT INTO ${T.customers} (id, status, merged_into, created_at, updated_at) VALUES (?, 'active', NULL, ?, ?)`,
  linkNew: `UPDATE ${T.sourceRecords} SET customer_id = ?, linked_at = ?, pending = 0 WHERE source = ? AND record_id = ? AND customer_id IS NULL`,
  settle: `UPDATE ${T.sourceRecords} SET pending = 0 WHERE source = ? AND record_id = ? AND customer_id = ?`,
  move: `UPDATE ${T.sourceRecords} SET pending = 0, customer_id = ?, linked_at = ? WHERE source = ? AND record_id = ? AND customer_id = ?`,
  recordsOfMerged: `SELECT source, record_id FROM ${T.sourceRecords} WHERE customer_id = ? ORDER BY source, record_id`,
  mergedInto: `SELECT id FROM ${T.customers} WHERE merged_into = ?`,
  markMerged: `UPDATE ${T.customers} SET status = 'merged', merged_into = ?, updated_at = ? WHERE id = ?`,
  redirect: `UPDATE ${T.customers} SET merged_into = ? WHERE merged_into = ?`,
  moveRecords: `UPDATE ${T.sourceRecords} SET customer_id = ? WHERE customer_id = ?`,
} as const;

/** Reads answering rows as arrays (no object per row), in the columns' order above. */
const RAW: ReadonlySet<keyof typeof SQL> = new Set(['identifiersOfRecords', 'carriersOfValues', 'recordsOfCustomers'] as const);

type Statements = { -readonly [K in keyof typeof SQL]: Database.Statement };

/** Statements prepared once per connection (a pooled connection lives as long as the store). */
const prepared = new WeakMap<Raw, Statements>();

function statementsOf(raw: Raw): Statements {
  let s = prepared.get(raw);
  if (!s) {
    s = {} as Statements;
    for (const [k, sql] of Object.entries(SQL) as Array<[keyof typeof SQL, string]>) {
      const statement = raw.prepare(sql);
      s[k] = RAW.has(k) ? statement.raw(true) : statement;
    }
    prepared.set(raw, s);
  }
  return s;
}

/**
 * Rows as the batched reads ordered them: by key (column 0, the key's place in the JSON array),
 * then by the `by` columns (index order within a key). A stable sort only if a plan did not.
 */
function inIndexOrder(rows: unknown[][], by: readonly number[]): unknown[][] {
  const cmp = (a: unknown[], b: unknown[]) => {
    if (a[0] !== b[0]) return (a[0] as number) - (b[0] as number);
    for (const c of by) {
      const [x, y] = [a[c], b[c]];
      if (x === y) continue;
      if (x == null) return -1;
      if (y == null) return 1;
      return typeof x === 'number' ? x - (y as number) : Buffer.compare(Buffer.from(x as string), Buffer.from(y as string));
    }
    return 0;
  };
  for (let i = 1; i < rows.length; i++) if (cmp(rows[i - 1], rows[i]) > 0) return rows.sort(cmp);
  return rows;
}

/** Runs `fn` with the link statements of the connection `db` runs on (a transaction's own inside one). */
const onConnection = <T>(db: Knex, fn: (s: Statements, raw: Raw) => T): Promise<T> => onSqliteConnection<Raw, T>(db, (raw) => fn(statementsOf(raw), raw));

function directLinkStore(db: Knex): LinkStore {
  return {
    pendingRecords: (source, after, limit) =>
      onConnection(db, (s) => {
        const rows = (after == null ? s.pending.all(source, limit) : s.pendingAfter.all(source, after, limit)) as Array<{
          source: SourceName;
          record_id: string;
          customer_id: string | null;
          name_key: string | null;
          birthday_key: string | null;
        }>;
        return rows.map((r) => ({ source: r.source, recordId: r.record_id, customerId: r.customer_id, nameKey: r.name_key, birthdayKey: r.birthday_key }));
      }),

    currentIdentifiersOf: (keys, kinds) =>
      onConnection(db, (s) => {
        const wanted = kinds ? new Set<string>(kinds) : null;
        const list = uniqueBy(keys, recordKeyString);
        const rows = inIndexOrder(s.identifiersOfRecords.all(JSON.stringify(list.map((k) => [k.source, k.recordId]))) as unknown[][], [1]);
        const out: Array<{ source: SourceName; recordId: string; kind: IdentifierKind; value: string; matchKey: string }> = [];
        for (const [key, , kind, value, matchKey] of rows as Array<[number, number, IdentifierKind, string, string]>) {
          if (wanted && !wanted.has(kind)) continue;
          const k = list[key];
          out.push({ source: k.source, recordId: k.recordId, kind, value, matchKey });
        }
        return out;
      }),

    valueCounts: (values) =>
      onConnection(db, (s) => {
        const out = new Map<string, { total: number; busiest: number }>();
        for (const v of uniqueBy(values, valueKeyString)) {
          const rows = s.countsOfValue.all(v.kind, v.matchKey) as Array<{ n: number }>;
          if (!rows.length) continue;
          let total = 0;
          let busiest = 0;
          for (const r of rows) {
            total += r.n;
            busiest = Math.max(busiest, r.n);
          }
          out.set(valueKeyString(v), { total, busiest });
        }
        return out;
      }),

    carriersOf: (values) =>
      onConnection(db, (s) => {
        const list = uniqueBy(values, valueKeyString);
        const rows = inIndexOrder(s.carriersOfValues.all(JSON.stringify(list.map((v) => [v.kind, v.matchKey]))) as unknown[][], [1]);
        const out: Carrier[] = [];
        for (const [key, , value, source, recordId, customerId, pending, nameKey, birthdayKey] of rows as Array<
          [number, number, string, SourceName, string, string | null, number, string | null, string | null]
        >) {
          const v = list[key];
          out.push({ kind: v.kind, value, matchKey: v.matchKey, source, recordId, customerId, pending: Boolean(pending), nameKey, birthdayKey });
        }
        return out;
      }),

    recordsOfCustomers: (ids, kinds) =>
      onConnection(db, (s) => {
        const wanted = new Set<string>(kinds);
        const list = unique(ids);
        const rows = inIndexOrder(s.recordsOfCustomers.all(JSON.stringify(list)) as unknown[][], [1, 2, 5]);
        const out: CustomerRecordIdentifier[] = [];
        // One row per identifier of the kinds asked for; a record carrying none, one bare row (as a left join on those kinds answers).
        let open: CustomerRecordIdentifier | null = null;
        let carried = false;
        const close = () => {
          if (open && !carried) out.push(open);
        };
        for (const [key, source, recordId, nameKey, birthdayKey, , kind, matchKey] of rows as Array<
          [number, SourceName, string, string | null, string | null, number | null, IdentifierKind | null, string | null]
        >) {
          const customerId = list[key];
          if (!open || open.customerId !== customerId || open.source !== source || open.recordId !== recordId) {
            close();
            open = { customerId, source, recordId, nameKey, birthdayKey, kind: null, matchKey: null };
            carried = false;
          }
          if (kind != null && wanted.has(kind)) {
            carried = true;
            out.push({ ...open, kind, matchKey });
          }
        }
        close();
        return out;
      }),

    applyResolution: (plan) =>
      writeTransaction(db, async (trx) => {
        const fresh = new Set(plan.newCustomerIds);
        const relied = unique([...plan.assignments.flatMap((a) => [a.customerId, a.expectedCustomerId]), ...plan.merges.flatMap((m) => [m.survivorId, m.mergedId])]).filter(
          (id): id is string => id != null && !fresh.has(id),
        );
        const survivorOf = new Map<string, string>();
        // Written after the checks, in this order (merges', then the plan's), many rows a statement.
        const events: NewLinkEvent[] = [];
        if (plan.decisionsSeen !== undefined) await requireNoDecisionSince(trx, plan.decisionsSeen);
        await onConnection(trx, (s) => {
          const missing = relied.filter((id) => !s.isActive.get(id));
          if (missing.length) throw new StaleResolutionError(`customers ${missing.join(', ')} are no longer active`);
          for (const id of plan.newCustomerIds) s.insertCustomer.run(id, plan.at, plan.at);
          // The same statements, rows and `merge` event as `mergeInto` (writes.ts), which stewardship uses.
          for (const m of plan.merges) {
            const moved = (s.recordsOfMerged.all(m.mergedId) as Array<{ source: SourceName; record_id: string }>).map((r) => ({ source: r.source, recordId: r.record_id }));
            const redirected = (s.mergedInto.all(m.mergedId) as Array<{ id: string }>).map((r) => r.id);
            s.markMerged.run(m.survivorId, plan.at, m.mergedId);
            if (redirected.length) s.redirect.run(m.survivorId, m.mergedId);
            if (moved.length) s.moveRecords.run(m.survivorId, m.mergedId);
            events.push(mergeEvent(m, moved, redirected));
            survivorOf.set(m.mergedId, m.survivorId);
          }
          let stale = 0;
          let staleSource = '';
          for (const a of plan.assignments) {
            if (a.expectedCustomerId != null) continue;
            if (s.linkNew.run(a.customerId, plan.at, a.source, a.recordId).changes !== 1) {
              stale++;
              staleSource = a.source;
            }
          }
          if (stale) throw new StaleResolutionError(`${stale} ${staleSource} records were linked meanwhile`);
          for (const a of plan.assignments) {
            if (a.expectedCustomerId == null) continue;
            const expected = survivorOf.get(a.expectedCustomerId) ?? a.expectedCustomerId;
            const changed =
              expected === a.customerId ? s.settle.run(a.source, a.recordId, expected).changes : s.move.run(a.customerId, plan.at, a.source, a.recordId, expected).changes;
            if (changed !== 1) throw new StaleResolutionError(`${a.source}:${a.recordId} moved meanwhile`);
          }
        });
        await insertEvents(trx, plan.at, [...events, ...plan.events]);
        const candidatesCreated = await insertCandidates(trx, plan.at, plan.candidates);
        return { candidatesCreated };
      }),
  };
}
