/**
 * Resolution, step one: what a scanned page changes in the store, before any linking.
 *
 * Each record is compared with what the store holds for it. New records are stored pending;
 * a record whose identifiers changed ends the identifiers it no longer carries (`valid_to`,
 * an `unbind` event) and starts the new ones (a `bind` event), and becomes pending again;
 * an unchanged record writes nothing, which is what makes a re-run idempotent. Records older
 * than the stored version (a feed replaying history) are ignored.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import type { ScannedRecord, SourceName } from '../vocabulary';
import type { IdentityRules, NormalizedIdentifier } from './rules';
import { featuresWith, type HeldValue, type MatchFeatures } from './probabilistic/features';
import { identityOf, preparedOf, regionOf, type HeldIdentifier } from './prepare';
import type { StoredPeriod } from './probabilistic/store';
import type { ScanChanges, StoredRecord } from './resolution-store';
import type { NewLinkEvent } from './writes';

export interface StageStats {
  recordsRead: number;
  recordsNew: number;
  recordsChanged: number;
  recordsUnchanged: number;
  recordsDeleted: number;
  /** Identifier values that do not normalize (a malformed phone, an email without a domain). */
  identifiersUnusable: number;
  /** Records a restage read again whose match features alone changed (written again, compared again). */
  recordsRestaged: number;
}

export const emptyStageStats = (): StageStats => ({
  recordsRead: 0,
  recordsNew: 0,
  recordsChanged: 0,
  recordsUnchanged: 0,
  recordsDeleted: 0,
  identifiersUnusable: 0,
  recordsRestaged: 0,
});

/** Actor of the events that record what a source reported (binds, unbinds, deletions). */
export const SCAN_ACTOR = 'rule:scan';

/**
 * The changes one page makes, given the stored state of its records (`stored`, by record id).
 * Pure: reads nothing, writes nothing. `at` is the time events are stamped with. `restage`: an
 * unchanged record is listed in `recheck`, its match features to be computed again.
 */
export function stagePage(
  source: SourceName,
  records: readonly ScannedRecord[],
  stored: ReadonlyMap<string, StoredRecord>,
  rules: IdentityRules,
  at: string,
  stats: StageStats = emptyStageStats(),
  restage = false,
): ScanChanges {
  const changes: ScanChanges = { source, at, inserts: [], updates: [], addIdentifiers: [], endIdentifiers: [], events: [], ...(restage ? { recheck: [] } : {}) };
  const latest = new Map<string, ScannedRecord>();
  for (const r of records) {
    if (r.source !== source) throw new Error(`The ${source} scan returned a record of ${r.source} (${r.recordId})`);
    latest.set(r.recordId, r);
  }
  stats.recordsRead += records.length;

  for (const r of latest.values()) {
    const p = preparedOf(r, rules);
    stats.identifiersUnusable += p.unusable;
    const updatedAt = p.updatedAt ?? at;
    const idents = p.identifiers.filter((i) => !heldUntilBefore(i, updatedAt));
    const traits = { nameKey: p.nameKey, birthdayKey: p.birthday && !rules.isIgnoredBirthday(p.birthday) ? p.birthdayKey : null };
    const old = stored.get(r.recordId);

    if (!old) {
      if (r.deleted) continue;
      stats.recordsNew++;
      changes.inserts.push({ recordId: r.recordId, sourceUpdatedAt: updatedAt, ...traits });
      for (const i of idents) changes.addIdentifiers.push({ recordId: r.recordId, kind: i.kind, value: i.value, matchKey: i.matchKey, validFrom: i.since ?? updatedAt });
      continue;
    }
    if (old.sourceUpdatedAt && updatedAt < old.sourceUpdatedAt) {
      stats.recordsUnchanged++;
      continue;
    }
    const subject = { source, recordId: r.recordId };

    if (r.deleted) {
      if (old.deleted) {
        stats.recordsUnchanged++;
        continue;
      }
      stats.recordsDeleted++;
      changes.updates.push({ recordId: r.recordId, sourceUpdatedAt: updatedAt, ...traits, pending: false, deleted: true });
      for (const i of old.identifiers) changes.endIdentifiers.push({ id: i.id, validTo: updatedAt });
      if (old.customerId) {
        changes.events.push({
          actor: SCAN_ACTOR,
          action: 'unlink',
          customerId: old.customerId,
          ...subject,
          reason: `${source} deleted ${r.recordId}`,
          evidence: { endedIdentifiers: old.identifiers.map(({ kind, value }) => ({ kind, value })) },
        });
      }
      continue;
    }

    const had = new Set(old.identifiers.map(identityOf));
    const has = new Set(idents.map(identityOf));
    const ended = old.identifiers.filter((i) => !has.has(identityOf(i)));
    const added = idents.filter((i) => !had.has(identityOf(i)));
    const traitsChanged = traits.nameKey !== old.nameKey || traits.birthdayKey !== old.birthdayKey;
    if (!ended.length && !added.length && !traitsChanged && !old.deleted && updatedAt === old.sourceUpdatedAt) {
      stats.recordsUnchanged++;
      if (restage) changes.recheck?.push(r.recordId);
      continue;
    }
    stats.recordsChanged++;
    const relink = old.deleted || [...ended, ...added].some((i) => rules.strongKind(i.kind));
    changes.updates.push({
      recordId: r.recordId,
      sourceUpdatedAt: updatedAt,
      ...traits,
      pending: old.pending || relink,
      revived: old.deleted,
    });
    for (const i of ended) changes.endIdentifiers.push({ id: i.id, validTo: updatedAt });
    for (const i of added) changes.addIdentifiers.push({ recordId: r.recordId, kind: i.kind, value: i.value, matchKey: i.matchKey, validFrom: i.since ?? updatedAt });
    if (old.customerId) {
      for (const i of ended) changes.events.push(bindEvent('unbind', old.customerId, subject, i, rules, restage));
      for (const i of added) changes.events.push(bindEvent('bind', old.customerId, subject, i, rules, restage));
    }
  }
  return changes;
}

function bindEvent(
  action: 'bind' | 'unbind',
  customerId: string,
  subject: { source: SourceName; recordId: string },
  i: { kind: NormalizedIdentifier['kind']; value: string },
  rules: IdentityRules,
  /** Found by a restage: possibly the same value, stored in an earlier version's form. */
  restage: boolean,
): NewLinkEvent {
  return {
    actor: SCAN_ACTOR,
    action,
    customerId,
    ...subject,
    reason: action === 'bind' ? `${subject.source} record now carries this ${i.kind}` : `${subject.source} record no longer carries this ${i.kind}`,
    evidence: { kind: i.kind, value: i.value, ...(i.kind === 'PHONE' ? { assumedRegion: rules.regionOf(subject.source) } : {}), ...(restage ? { restage: true } : {}) },
  };
}

/** Where a record's phones without a country code are read: its own country when it says one, else its source's region. */
export function recordRegion(r: Pick<ScannedRecord, 'source' | 'traits'>, rules: IdentityRules): CountryCode {
  return regionOf(r, rules.regionOf(r.source));
}

export type { HeldIdentifier };

/**
 * What the probabilistic tier compares about each record a page inserted or changed, and the
 * records it deleted. Values the source says the record no longer holds (`until` passed) are
 * kept here with their period (a recycled number is told by it) though they are no longer
 * current identifiers. For a record staged before, `stored` (the identifiers table after this
 * page: `storedPeriods`) adds what it carried once and a re-scan found gone, ended when the
 * source stopped carrying it, and dates a value still carried from when it was first seen.
 */
export function featuresOfPage(
  source: SourceName,
  records: readonly ScannedRecord[],
  changes: ScanChanges,
  rules: IdentityRules,
  stored: ReadonlyMap<string, readonly StoredPeriod[]> = new Map(),
): { features: MatchFeatures[]; deleted: string[]; fresh: Set<string> } {
  const touched = new Set([...changes.inserts.map((i) => i.recordId), ...changes.updates.filter((u) => !u.deleted).map((u) => u.recordId), ...(changes.recheck ?? [])]);
  const deleted = changes.updates.filter((u) => u.deleted).map((u) => u.recordId);
  const latest = new Map(records.map((r) => [r.recordId, r]));
  const features: MatchFeatures[] = [];
  const day = (iso: string | null | undefined) => iso?.slice(0, 10) ?? null;
  // Placeholders are no evidence here either.
  const usable = (i: { kind: NormalizedIdentifier['kind']; value: string; key: string }) => !rules.blockedBy(i.kind, i.key) && !rules.blockedBy(i.kind, i.value);
  for (const id of touched) {
    const r = latest.get(id);
    if (!r) continue;
    // Prepared once for the two (identifiers, traits): by the stage, or a worker thread before it.
    const prepared = preparedOf(r, rules);
    const updatedAt = prepared.updatedAt;
    const periods = stored.get(id) ?? [];
    const firstSeen = new Map<string, string>();
    for (const p of periods) {
      const k = `${p.kind}\u0000${p.key}`;
      const seen = firstSeen.get(k);
      if (!p.to && (seen === undefined || p.from < seen)) firstSeen.set(k, p.from);
    }
    const held: HeldValue[] = prepared.identifiers
      .filter((i) => usable({ kind: i.kind, value: i.value, key: i.matchKey }))
      .map((i) => ({
        kind: i.kind,
        key: i.matchKey,
        from: day(i.since ?? firstSeen.get(`${i.kind}\u0000${i.matchKey}`) ?? updatedAt),
        to: day(i.until),
      }));
    const carried = new Set(held.map((v) => `${v.kind}\u0000${v.key}`));
    for (const p of periods) {
      if (!p.to || carried.has(`${p.kind}\u0000${p.key}`) || !usable(p)) continue;
      held.push({ kind: p.kind, key: p.key, from: day(p.from), to: day(p.to) });
    }
    features.push(featuresWith(source, id, prepared.traits, held, rules.isIgnoredBirthday));
  }
  return { features, deleted, fresh: new Set(changes.inserts.map((i) => i.recordId)) };
}

/** Whether the source says the value was given up by `at` (it is then history, not a current identifier). */
const heldUntilBefore = (i: HeldIdentifier, at: string) => i.until != null && i.until <= at;
