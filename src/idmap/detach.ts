/**
 * Resolution, between staging and linking: links whose evidence is gone are undone.
 *
 * The rules join records through shared strong values. When a record stops carrying a value (a
 * changed mobile, a recycled number handed on) or is deleted, the records of its customer may no
 * longer be connected through any value they carry now: a fresh resolution of the same data would
 * keep them apart, and one built change by change must end where it would, whatever order the
 * changes came in. So each customer a staged page ended a value of, or deleted a record of, is
 * checked: its live records are grouped by the current strong values they share (placeholders
 * are no tie), the largest group keeps the customer (on a tie, the group holding the record first
 * in key order), and the records of every other group leave it, with an `unlink` event, pending,
 * to be linked again by what they carry now, and compared again by the probabilistic tier.
 *
 * Only customers the rules alone built: one the probabilistic tier merged or a steward changed
 * (their links rest on evidence this check does not read, or on a person's word) keeps its
 * records, and a record there that shares nothing with the rest is flagged as an `orphan`
 * review candidate instead (`link.ts`).
 */
import type { Knex } from 'knex';
import type { IdentityRules } from './rules';
import { Groups } from './groups';
import { emptyProfile } from './evidence';
import { chunks, T, valueKeyString, writeTransaction, type ValueKey } from './tables';
import type { ScanChanges, StoredRecord } from './resolution-store';
import { insertEvents, pendCarriers, type NewLinkEvent } from './writes';
import { SCAN_ACTOR } from './stage';
import { PROBABILISTIC_ACTOR } from './probabilistic/tier';
import { PT } from './probabilistic/store';

/** A person's change of any kind, or a link or merge the probabilistic tier made (its proposals pin nothing). */
const pins = (e: { actor: string; action: string }) => !e.actor.startsWith('rule:') || (e.actor === PROBABILISTIC_ACTOR && (e.action === 'merge' || e.action === 'link'));

/**
 * Undoes the links of `customers` that no current shared value supports any more (see the file's
 * comment). Answers how many records left their customer. `beforeWrite` runs before the write
 * (the lease's check).
 */
export async function detachUntied(db: Knex, rules: IdentityRules, released: Released, at: string, beforeWrite: () => Promise<void>): Promise<number> {
  let detached = 0;
  // The other carriers of a value let go of are weighed again: a value refused because of the carrier
  // that left (a recycled number's old holder, a household member's deleted record) may join them now.
  for (const part of chunks([...released.values.values()], 200)) {
    await beforeWrite();
    await pendCarriers(db, part);
  }
  for (const part of chunks([...released.customers].sort(), 200)) {
    const pinned = await pinnedCustomers(db, part);
    const open = part.filter((c) => !pinned.has(c));
    if (!open.length) continue;
    const rows: Array<{ customer_id: string; source: string; record_id: string; kind: string | null; match_key: string | null }> = await db(`${T.sourceRecords} as sr`)
      .leftJoin(`${T.identifiers} as i`, (j) => j.on('i.source', 'sr.source').andOn('i.record_id', 'sr.record_id').andOnNull('i.valid_to'))
      .whereIn('sr.customer_id', open)
      .whereNull('sr.deleted_at')
      .select('sr.customer_id', 'sr.source', 'sr.record_id', 'i.kind', 'i.match_key');
    const byCustomer = new Map<string, Map<string, Set<string>>>();
    for (const r of rows) {
      const records = byCustomer.get(r.customer_id) ?? new Map<string, Set<string>>();
      byCustomer.set(r.customer_id, records);
      const key = `${r.source}\u0000${r.record_id}`;
      const values = records.get(key) ?? new Set<string>();
      records.set(key, values);
      if (r.kind && r.match_key && rules.strongKind(r.kind as never) && !rules.blockedBy(r.kind as never, r.match_key)) values.add(`${r.kind}\u0000${r.match_key}`);
    }
    const leaving: Array<{ customerId: string; source: string; recordId: string; kept: number }> = [];
    for (const [customerId, records] of byCustomer) {
      const groups = untiedGroups(records);
      if (groups.length < 2) continue;
      const [kept, ...rest] = groups;
      for (const g of rest)
        for (const key of g) {
          const [source, recordId] = key.split('\u0000');
          leaving.push({ customerId, source, recordId, kept: kept.length });
        }
    }
    if (!leaving.length) continue;
    await beforeWrite();
    await writeTransaction(db, async (trx) => {
      const events: NewLinkEvent[] = [];
      for (const l of leaving) {
        // Guarded by the customer read: a record a steward moved meanwhile is left where it is.
        const n = await trx(T.sourceRecords)
          .where({ source: l.source, record_id: l.recordId, customer_id: l.customerId })
          .update({ customer_id: null, linked_at: null, pending: 1 });
        if (!n) continue;
        detached++;
        events.push({
          actor: SCAN_ACTOR,
          action: 'unlink',
          customerId: l.customerId,
          source: l.source as never,
          recordId: l.recordId,
          reason: `${l.source} record ${l.recordId} no longer shares a strong identifier with the rest of its customer`,
          evidence: { untied: true, recordsKept: l.kept },
        });
        if (rules.probabilistic) await trx(PT.features).where({ source: l.source, record_id: l.recordId }).update({ scored: 0 });
      }
      await insertEvents(trx, at, events);
    });
  }
  return detached;
}

/** What staging let go of in a run: customers a value was ended or a record deleted in, and those values. */
export interface Released {
  customers: Set<string>;
  values: Map<string, ValueKey>;
}

export const emptyReleased = (): Released => ({ customers: new Set(), values: new Map() });

/** Adds what one staged page let go of (ended identifiers, deleted records) to `into`. */
export function noteReleased(into: Released, changes: ScanChanges, stored: ReadonlyMap<string, StoredRecord>, rules: IdentityRules) {
  for (const e of changes.events) if ((e.action === 'unbind' || e.action === 'unlink') && e.customerId) into.customers.add(e.customerId);
  if (!changes.endIdentifiers.length) return;
  const ended = new Set(changes.endIdentifiers.map((e) => e.id));
  for (const r of stored.values())
    for (const i of r.identifiers)
      if (ended.has(i.id) && rules.strongKind(i.kind) && !rules.blockedBy(i.kind, i.matchKey)) into.values.set(valueKeyString(i), { kind: i.kind, matchKey: i.matchKey });
}

/**
 * A customer's records grouped by the current strong values they share: largest first, then by
 * the first record key, so the same records give the same answer however the store got there.
 */
export function untiedGroups(records: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const groups = new Groups();
  const holder = new Map<string, string>();
  for (const [key, values] of records) {
    groups.add(key, { profile: emptyProfile(), customers: [], records: [key], outsideOnly: false });
    for (const v of values) {
      const other = holder.get(v);
      if (other) groups.union(other, key);
      else holder.set(v, key);
    }
  }
  const byRoot = new Map<string, string[]>();
  for (const key of records.keys()) {
    const root = groups.find(key);
    byRoot.set(root, [...(byRoot.get(root) ?? []), key]);
  }
  const out = [...byRoot.values()].map((g) => g.sort());
  return out.sort((a, b) => b.length - a.length || (a[0] < b[0] ? -1 : 1));
}

/**
 * Customers whose links rest on more than shared values: any event of theirs (or of a customer
 * merged into them, or of one of their records) by a person or by the probabilistic tier.
 */
async function pinnedCustomers(db: Knex, customers: readonly string[]): Promise<Set<string>> {
  // Every customer id each one has absorbed, through chains of merges.
  const rootOf = new Map(customers.map((c) => [c, c]));
  let frontier = [...customers];
  while (frontier.length) {
    const merged: Array<{ id: string; merged_into: string }> = await db(T.customers).whereIn('merged_into', frontier).select('id', 'merged_into');
    frontier = [];
    for (const m of merged) {
      if (rootOf.has(m.id)) continue;
      rootOf.set(m.id, rootOf.get(m.merged_into) as string);
      frontier.push(m.id);
    }
  }
  const pinned = new Set<string>();
  const byCustomer: Array<{ customer_id: string; actor: string; action: string }> = await db(T.linkEvents)
    .whereIn('customer_id', [...rootOf.keys()])
    .distinct('customer_id', 'actor', 'action');
  for (const e of byCustomer) if (pins(e)) pinned.add(rootOf.get(e.customer_id) as string);
  // A steward's link of a record is logged under the customer it went to; the record's own history says it too.
  const byRecord: Array<{ customer_id: string; actor: string; action: string }> = await db(`${T.sourceRecords} as sr`)
    .join(`${T.linkEvents} as e`, (j) => j.on('e.source', 'sr.source').andOn('e.record_id', 'sr.record_id'))
    .whereIn('sr.customer_id', customers)
    .distinct('sr.customer_id', 'e.actor', 'e.action');
  for (const e of byRecord) if (pins(e)) pinned.add(e.customer_id);
  return pinned;
}
