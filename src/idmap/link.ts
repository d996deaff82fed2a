/**
 * Resolution, step two: linking a batch of pending records.
 *
 * Records and customers are nodes; a strong identifier value shared by several of them may
 * join them (union-find), strongest kind first (the rules' order), so that by the time a
 * phone or email is weighed, each side already carries the unionids, member numbers, names
 * and birthdays its stronger links brought in. A value joins NOTHING when:
 * - it matches a blocked pattern (a placeholder) or is over-shared: carried by more than
 *   `maxPeople` records of one source (each source holds about one record per person, so the
 *   busiest source's count estimates the people sharing it);
 * - any two of the groups carrying it look like different people (`evidence.ts`): different
 *   values of an exclusive kind (two unionids, two member numbers) or of a kind the rule
 *   compares (emails, for a phone), different birthdays, different names (unless a birthday
 *   or a second strong value is shared), or a steward's "different" decision;
 * - for a rule with `corroborateWithinSource` (phone): two records of ONE source carry it and
 *   nothing else ties them (one group already, same name or birthday), which is how a
 *   household looks when the second person has nothing but the shared phone. Such a value
 *   still joins those of its other carriers whose names agree, or one without a name whose own
 *   email spells a named carrier's name (`joinNamedCarriers`).
 * The groups weighed include every live record carrying the value, also ones not resolved
 * yet, so a household phone is recognised even when the second person's records come in a
 * later batch or source. A refused value becomes a review candidate instead: a link is never
 * made "because nothing contradicts it" across a value that others show to be shared.
 *
 * Then each group of the batch becomes one customer: an existing one (the oldest, when a
 * record bridged several: the others are merged into it), or a new one. Every create, link
 * and merge carries the rule, the value and the records it went through.
 */
import type { IdentifierKind, SourceName } from '../vocabulary';
import { addToProfile, compareNameKeys, conflictsBetween, emailSpellsNameOf, emptyProfile, hash16, nameCutShortSpelled, type Conflict, type Profile } from './evidence';
import { Groups, type Group } from './groups';
import type { IdentityRules, StrongKind } from './rules';
import type { Carrier, CustomerRecordIdentifier, PendingRecord, ResolutionPlan } from './resolution-store';
import type { LinkStore } from './link-store';
import { recordKeyString, valueKeyString, type ValueKey } from './tables';

export interface LinkStats {
  recordsResolved: number;
  customersCreated: number;
  recordsLinked: number;
  customersMerged: number;
  /** Values that would have joined groups but were refused, by why. */
  refusedBlocked: number;
  refusedOverShared: number;
  refusedConflict: number;
  orphans: number;
  /** Records that left their customer because no current shared value tied them to it any more (`detach.ts`). */
  recordsUntied: number;
  candidatesCreated: number;
  /** Open review candidates settled because their two customers became one (`writes.ts`, at the end of a run). */
  candidatesSuperseded: number;
}

export const emptyLinkStats = (): LinkStats => ({
  recordsResolved: 0,
  customersCreated: 0,
  recordsLinked: 0,
  customersMerged: 0,
  refusedBlocked: 0,
  refusedOverShared: 0,
  refusedConflict: 0,
  orphans: 0,
  recordsUntied: 0,
  candidatesCreated: 0,
  candidatesSuperseded: 0,
});

/** State one resolution run keeps across batches; all of it small. */
export interface LinkContext {
  rules: IdentityRules;
  /** Blocked or over-shared values already reported in this run: not counted or reported again. */
  settledValues: Set<string>;
  /** Customer pairs (`a\0b`, both orders) a steward judged different. */
  differentPairs: Set<string>;
  /** The newest decision `differentPairs` holds (`latestDecision`): a plan is applied only while no later one exists. */
  decisionsSeen: number;
  newCustomerId: () => string;
}

export const CREATE_ACTOR = 'rule:new-record';
const SAMPLE = 20;

interface BatchIdentifier {
  source: SourceName;
  recordId: string;
  kind: IdentifierKind;
  value: string;
  matchKey: string;
}

/** Everything planning one batch reads from the store. */
export interface BatchData {
  records: PendingRecord[];
  identifiers: BatchIdentifier[];
  counts: Map<string, { total: number; busiest: number }>;
  carriers: Carrier[];
  customerRecords: CustomerRecordIdentifier[];
  /** Strong and evidence-kind identifiers of unresolved records outside the batch that carry a batch value. */
  outsideEvidence: BatchIdentifier[];
}

/**
 * Reads what `planBatch` needs: a fixed number of batched statement rounds, whatever the
 * batch size. Carriers of a value are fetched once per run even when it turns out
 * over-shared (it is settled after that batch), so no count query precedes them; blocked
 * values are only counted.
 */
export async function loadBatch(
  store: Pick<LinkStore, 'currentIdentifiersOf' | 'valueCounts' | 'carriersOf' | 'recordsOfCustomers'>,
  records: PendingRecord[],
  ctx: LinkContext,
): Promise<BatchData> {
  const { rules } = ctx;
  const identifiers = await store.currentIdentifiersOf(records);
  const blocked: Array<ValueKey & { value: string }> = [];
  const open: Array<ValueKey & { value: string }> = [];
  for (const v of distinctValues(identifiers.filter((i) => rules.strongKind(i.kind) && !ctx.settledValues.has(valueKeyString(i)))))
    (isBlocked(rules, v) ? blocked : open).push(v);
  const [counts, allCarriers] = await Promise.all([store.valueCounts(blocked), store.carriersOf(open)]);
  const carriers: Carrier[] = [];
  for (const [key, list] of groupBy(allCarriers, valueKeyString)) {
    const n = countCarriers(list);
    counts.set(key, n);
    if (n.busiest <= (rules.strongKind(list[0].kind) as StrongKind).maxPeople) for (const c of list) carriers.push(c);
  }
  const batchKeys = new Set(records.map(recordKeyString));
  const customers = new Set<string>();
  for (const r of records) if (r.customerId) customers.add(r.customerId);
  for (const c of carriers) if (c.customerId) customers.add(c.customerId);
  const outside = carriers.filter((c) => !c.customerId && !batchKeys.has(recordKeyString(c)));
  const kinds = [...new Set([...rules.evidenceKinds, ...rules.strong.map((s) => s.kind)])];
  const [customerRecords, outsideEvidence] = await Promise.all([
    store.recordsOfCustomers([...customers], kinds),
    outside.length ? store.currentIdentifiersOf(outside, kinds) : Promise.resolve([]),
  ]);
  return { records, identifiers, counts, carriers, customerRecords, outsideEvidence };
}

/** Records carrying one value: in all, and in the source holding most of them. */
function countCarriers(list: readonly Carrier[]): { total: number; busiest: number } {
  if (list.length === 1) return { total: 1, busiest: 1 };
  const bySource = new Map<string, Set<string>>();
  for (const c of list) {
    const s = bySource.get(c.source) ?? new Set<string>();
    bySource.set(c.source, s);
    s.add(c.recordId);
  }
  let total = 0;
  let busiest = 0;
  for (const s of bySource.values()) {
    total += s.size;
    busiest = Math.max(busiest, s.size);
  }
  return { total, busiest };
}

function isBlocked(rules: IdentityRules, v: { kind: IdentifierKind; matchKey: string; value?: string }): string | null {
  return rules.blockedBy(v.kind, v.matchKey) ?? (v.value && v.value !== v.matchKey ? rules.blockedBy(v.kind, v.value) : null);
}

/** Whether a value says who someone is: a strong or evidence kind, and not a placeholder. */
function isEvidence(rules: IdentityRules, v: { kind: IdentifierKind; matchKey: string }): boolean {
  return (rules.strongKind(v.kind) != null || rules.evidenceKinds.includes(v.kind)) && !rules.blockedBy(v.kind, v.matchKey);
}

function distinctValues(xs: ReadonlyArray<ValueKey & { value: string }>): Array<ValueKey & { value: string }> {
  const m = new Map<string, ValueKey & { value: string }>();
  for (const x of xs) {
    const k = valueKeyString(x);
    if (!m.has(k)) m.set(k, { kind: x.kind, matchKey: x.matchKey, value: x.value });
  }
  return [...m.values()];
}

// ---------- planning ----------

interface Via {
  rule: string;
  kind: IdentifierKind;
  value: string;
  /** Records on the other side(s) of the shared value. */
  peers: string[];
}

interface Refusal {
  strong: StrongKind;
  value: string;
  matchKey: string;
  pairs: Array<{ a: string; b: string; conflicts: Conflict[] }>;
  carriersByNode: Map<string, string[]>;
}

/**
 * Plans one batch: pure, given what `loadBatch` read (it does not touch `ctx`). Answers the
 * plan for `store.applyResolution`, what it would change, and the blocked and over-shared
 * values it reports, which the caller settles once the plan is applied.
 */
export function planBatch(data: BatchData, ctx: LinkContext, at: string): { plan: ResolutionPlan; stats: LinkStats; settled: string[] } {
  return new BatchPlanner(data, ctx, at).run();
}

class BatchPlanner {
  private readonly rules: IdentityRules;
  private readonly stats = emptyLinkStats();
  private readonly settled: string[] = [];
  private readonly plan: ResolutionPlan;
  private readonly groups = new Groups();
  /** How each node first joined another: the evidence of its link or merge. */
  private readonly via = new Map<string, Via>();
  private readonly refusals: Refusal[] = [];
  private readonly identsByRecord: Map<string, BatchIdentifier[]>;
  private readonly outsideEvidence: Map<string, BatchIdentifier[]>;
  private readonly carriersByValue: Map<string, Carrier[]>;
  private readonly batchOrder = new Map<string, number>();
  /** Customer → its records → their strong value keys, for the orphan check. */
  private readonly customerStrong = new Map<string, Map<string, Set<string>>>();
  private readonly customerOfRoot = new Map<string, string>();
  /** Each carrier's node, and each batch record's, made once (nodes are looked up many times a batch). */
  private readonly carrierNodes = new Map<Carrier, string>();
  private readonly recordNodes: string[] = [];

  constructor(
    private readonly data: BatchData,
    private readonly ctx: LinkContext,
    at: string,
  ) {
    this.rules = ctx.rules;
    this.plan = { at, newCustomerIds: [], assignments: [], merges: [], events: [], candidates: [] };
    this.identsByRecord = groupBy(data.identifiers, recordKeyString);
    this.outsideEvidence = groupBy(data.outsideEvidence, recordKeyString);
    this.carriersByValue = groupBy(data.carriers, valueKeyString);
  }

  run() {
    this.addNodes();
    this.weighValues();
    this.assignCustomers();
    this.reportRefusals();
    this.reportOrphans();
    return { plan: this.plan, stats: this.stats, settled: this.settled };
  }

  /** Customers touched by the batch and the batch's records, each with what it says about who it is. */
  private addNodes() {
    const { rules } = this;
    const profiles = new Map<string, Profile>();
    for (const row of this.data.customerRecords) {
      const p = profiles.get(row.customerId) ?? emptyProfile();
      profiles.set(row.customerId, p);
      const value = row.kind && row.matchKey ? { kind: row.kind, matchKey: row.matchKey } : null;
      addToProfile(p, { nameKey: row.nameKey, birthdayKey: row.birthdayKey, values: value && isEvidence(rules, value) ? [[value.kind, value.matchKey]] : [] });
      const records = this.customerStrong.get(row.customerId) ?? new Map<string, Set<string>>();
      this.customerStrong.set(row.customerId, records);
      const recordKey = recordKeyString(row);
      const strong = records.get(recordKey) ?? new Set<string>();
      records.set(recordKey, strong);
      if (value && rules.strongKind(value.kind)) strong.add(valueKeyString(value));
    }
    for (const [id, profile] of profiles) this.groups.add(customerNode(id), { profile, customers: [id], records: [], outsideOnly: false });

    this.data.records.forEach((r, i) => {
      const key = recordKeyString(r);
      const node = recordNode(key);
      this.batchOrder.set(key, i);
      this.recordNodes.push(node);
      const profile = this.recordProfile(r, this.identsByRecord.get(key));
      this.groups.add(node, { profile, customers: [], records: [key], outsideOnly: false });
      if (r.customerId) {
        this.groups.add(customerNode(r.customerId), { profile: emptyProfile(), customers: [r.customerId], records: [], outsideOnly: false });
        this.groups.union(node, customerNode(r.customerId));
      }
    });
  }

  private recordProfile(r: { nameKey: string | null; birthdayKey: string | null }, identifiers: readonly BatchIdentifier[] = []): Profile {
    return addToProfile(emptyProfile(), {
      nameKey: r.nameKey,
      birthdayKey: r.birthdayKey,
      values: identifiers.filter((x) => isEvidence(this.rules, x)).map((x) => [x.kind, x.matchKey] as const),
    });
  }

  /** The node a carrier joins as: its customer, or the record itself (added, as evidence only, when outside the batch). */
  private nodeOf(c: Carrier): string {
    const known = this.carrierNodes.get(c);
    if (known !== undefined) return known;
    let node: string;
    if (c.customerId) node = customerNode(c.customerId);
    else {
      const key = recordKeyString(c);
      node = recordNode(key);
      if (!this.groups.has(node)) {
        this.groups.add(node, { profile: this.recordProfile(c, this.outsideEvidence.get(key)), customers: [], records: [], outsideOnly: true });
      }
    }
    this.carrierNodes.set(c, node);
    return node;
  }

  /** The batch's strong values, strongest kind first, then in value order (a plan independent of row order). */
  private weighValues() {
    const { rules } = this;
    const byValue = groupBy(
      this.data.identifiers.filter((i) => rules.strongKind(i.kind)),
      valueKeyString,
    );
    const ordered = [...byValue].map(([key, carriers]) => ({ key, carriers, priority: (rules.strongKind(carriers[0].kind) as StrongKind).priority }));
    ordered.sort((a, b) => a.priority - b.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const deferred: Array<[string, BatchIdentifier[]]> = [];
    for (const { key, carriers } of ordered) if (this.weigh(key, carriers, false) === 'deferred') deferred.push([key, carriers]);
    // Values that waited for the rest of the batch to tie their same-source records together.
    for (const [key, carriers] of deferred) this.weigh(key, carriers, true);
  }

  /** Weighs one value and joins what it may join. `lastTry`: a deferred value's final weighing. */
  private weigh(key: string, batchCarriers: BatchIdentifier[], lastTry: boolean): 'deferred' | void {
    const { rules, groups } = this;
    const first = batchCarriers[0];
    const strong = rules.strongKind(first.kind) as StrongKind;
    if (this.ctx.settledValues.has(key)) return;
    const count = this.data.counts.get(key);
    if (!count || count.total < 2) return;
    const blockedBy = isBlocked(rules, first);
    if (blockedBy || count.busiest > strong.maxPeople) {
      this.reportValue(key, first, strong, batchCarriers, count, blockedBy);
      return;
    }

    const carriers = this.carriersByValue.get(key) ?? [];
    const carriersByNode = new Map<string, string[]>();
    const rootSet = new Set<string>();
    for (const c of carriers) {
      const n = this.nodeOf(c);
      const labels = carriersByNode.get(n);
      if (labels) labels.push(recordLabel(c));
      else {
        carriersByNode.set(n, [recordLabel(c)]);
        rootSet.add(groups.find(n));
      }
    }
    if (rootSet.size < 2) return;
    const roots = [...rootSet];

    // Conflicts only grow as groups join, so a value refused for one is refused for good.
    const pairs: Refusal['pairs'] = [];
    for (let i = 0; i < roots.length; i++) {
      for (let j = i + 1; j < roots.length; j++) {
        const ga = groups.of(roots[i]);
        const gb = groups.of(roots[j]);
        const conflicts = conflictsBetween(ga.profile, gb.profile, strong, rules);
        if (judgedDifferent(ga, gb, this.ctx)) conflicts.push({ attribute: 'decision', left: [], right: [] });
        if (conflicts.length) pairs.push({ a: roots[i], b: roots[j], conflicts });
      }
    }
    // Records of one source not tied yet may be tied by the rest of the batch: weigh again at the end.
    if (!pairs.length && strong.corroborateWithinSource) {
      const rootOf = (c: Carrier) => groups.find(this.nodeOf(c));
      for (const [x, y] of uncorroborated(carriers, rootOf, (c) => groups.of(rootOf(c)).profile)) {
        pairs.push({ a: this.nodeOf(x), b: this.nodeOf(y), conflicts: [{ attribute: 'same-source', left: [recordLabel(x)], right: [recordLabel(y)] }] });
      }
      if (pairs.length && !lastTry) return 'deferred';
    }
    if (pairs.length) {
      this.stats.refusedConflict++;
      this.refusals.push({ strong, value: first.value, matchKey: first.matchKey, pairs, carriersByNode });
      if (pairs.every((p) => p.conflicts.every((c) => c.attribute === 'same-source'))) this.joinNamedCarriers(first, strong, carriersByNode, pairs);
      return;
    }

    const joining = [...carriersByNode.keys()].filter((n) => !groups.of(n).outsideOnly);
    for (const n of joining) {
      if (this.via.has(n)) continue;
      const peers = [...carriersByNode.entries()].filter(([m]) => m !== n).flatMap(([, labels]) => labels);
      this.via.set(n, { rule: strong.rule, kind: first.kind, value: first.value, peers: peers.slice(0, 5) });
    }
    for (let i = 1; i < joining.length; i++) groups.union(joining[0], joining[i]);
  }

  /**
   * A value the household guard refused still joins those of its carriers whose customers both
   * carry names, and names that agree: the guard is unsure whose the value is among the records
   * that carry nothing else (two shop accounts with the phone alone), not whether a contact and a
   * helpdesk user of one name who carry it are one person. The guard's own records stay apart
   * (no join puts both of a refused pair in one customer), and so does every carrier without a
   * name (a household's second person shows in such records too), unless an email of its own
   * spells the other side's name whole (`emailSpellsNameOf`: `chunlei.wang49473@126.com` beside
   * 王春蕾): that address is the named holder's, and so is the record. Joins here are checked as
   * any link is (conflicts, a steward's "different").
   */
  private joinNamedCarriers(first: BatchIdentifier, strong: StrongKind, carriersByNode: Map<string, string[]>, refused: Refusal['pairs']) {
    const { groups } = this;
    const nodes = [...carriersByNode.keys()].filter((n) => !groups.of(n).outsideOnly);
    const joinsRefused = (ra: string, rb: string) =>
      refused.some((p) => {
        const [x, y] = [groups.find(p.a), groups.find(p.b)];
        return (x === ra && y === rb) || (x === rb && y === ra);
      });
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const [a, b] = [nodes[i], nodes[j]];
        const ra = groups.find(a);
        const rb = groups.find(b);
        if (ra === rb) continue;
        const ga = groups.of(ra);
        const gb = groups.of(rb);
        const named = ga.profile.names.size && gb.profile.names.size ? groupNamesAgree(ga.profile.names, gb.profile.names) : emailNamesHolder(ga.profile, gb.profile);
        if (!named) continue;
        if (conflictsBetween(ga.profile, gb.profile, strong, this.rules).length || judgedDifferent(ga, gb, this.ctx) || joinsRefused(ra, rb)) continue;
        for (const [n, other] of [
          [a, b],
          [b, a],
        ]) {
          if (!this.via.has(n)) this.via.set(n, { rule: strong.rule, kind: first.kind, value: first.value, peers: (carriersByNode.get(other) ?? []).slice(0, 5) });
        }
        groups.union(a, b);
      }
    }
  }

  /** A blocked or over-shared value that would have joined records: one candidate per value. */
  private reportValue(
    key: string,
    first: BatchIdentifier,
    strong: StrongKind,
    batchCarriers: BatchIdentifier[],
    count: { total: number; busiest: number },
    blockedBy: string | null,
  ) {
    if (blockedBy) this.stats.refusedBlocked++;
    else this.stats.refusedOverShared++;
    this.settled.push(key);
    this.plan.candidates.push({
      dedupeKey: `${blockedBy ? 'blocked' : 'over_shared'}:${first.kind}:${hash16(first.matchKey)}`,
      reason: blockedBy ? 'blocked' : 'over_shared',
      rule: strong.rule,
      kind: first.kind,
      value: first.value,
      customerId: null,
      otherCustomerId: null,
      evidence: {
        ...(blockedBy ? { pattern: blockedBy } : { peopleEstimate: count.busiest, maxPeople: strong.maxPeople }),
        recordsCarrying: count.total,
        sample: batchCarriers.slice(0, SAMPLE).map(recordLabel),
      },
    });
  }

  /** Each group of the batch becomes one customer: the oldest it holds (others merged into it), or a new one. */
  private assignCustomers() {
    const { plan, stats, groups } = this;
    const roots = [...new Set(this.recordNodes.map((n) => groups.find(n)))];
    for (const root of roots) {
      const g = groups.of(root);
      const existing = [...new Set(g.customers)].sort();
      let survivor = existing[0];
      const created = survivor == null;
      if (created) {
        survivor = this.ctx.newCustomerId();
        plan.newCustomerIds.push(survivor);
        stats.customersCreated++;
      }
      this.customerOfRoot.set(root, survivor);
      for (const merged of existing.slice(1)) {
        const v = this.via.get(customerNode(merged));
        stats.customersMerged++;
        plan.merges.push({
          survivorId: survivor,
          mergedId: merged,
          actor: v ? `rule:${v.rule}` : CREATE_ACTOR,
          reason: v ? `shares a ${v.kind} with customer ${survivor}` : `joined customer ${survivor}`,
          evidence: v ? viaEvidence(v, this.rules) : {},
        });
      }
      let createHere = created;
      const keys = [...g.records].sort((a, b) => (this.batchOrder.get(a) as number) - (this.batchOrder.get(b) as number));
      for (const key of keys) {
        const rec = this.data.records[this.batchOrder.get(key) as number];
        stats.recordsResolved++;
        plan.assignments.push({ source: rec.source, recordId: rec.recordId, customerId: survivor, expectedCustomerId: rec.customerId });
        if (rec.customerId) continue;
        const v = this.via.get(recordNode(key));
        if (createHere || !v) {
          createHere = false;
          plan.events.push({
            actor: CREATE_ACTOR,
            action: 'create',
            customerId: survivor,
            source: rec.source,
            recordId: rec.recordId,
            reason: `new customer for ${rec.source} record ${rec.recordId}`,
            evidence: { identifiers: (this.identsByRecord.get(key) ?? []).map(({ kind, value }) => ({ kind, value })) },
          });
        } else {
          stats.recordsLinked++;
          plan.events.push({
            actor: `rule:${v.rule}`,
            action: 'link',
            customerId: survivor,
            source: rec.source,
            recordId: rec.recordId,
            reason: `shares a ${v.kind} with ${v.peers[0] ?? 'the customer'}`,
            evidence: viaEvidence(v, this.rules),
          });
        }
      }
    }
  }

  /** The customer a node ends up in; null for unresolved records outside the batch. */
  private customerOf(node: string): string | null {
    const root = this.groups.find(node);
    const g = this.groups.of(root);
    return this.customerOfRoot.get(root) ?? (g.customers.length ? [...g.customers].sort()[0] : null);
  }

  /** Links refused between people who differ: one candidate per value and pair of customers. */
  private reportRefusals() {
    for (const r of this.refusals) {
      for (const p of r.pairs) {
        const a = this.customerOf(p.a);
        const b = this.customerOf(p.b);
        if (!a || !b || a === b) continue;
        const [left, right, ca, cb] = a < b ? [p.a, p.b, a, b] : [p.b, p.a, b, a];
        const recordsOf = (node: string) =>
          [...r.carriersByNode]
            .filter(([n]) => this.groups.find(n) === this.groups.find(node))
            .flatMap(([, labels]) => labels)
            .slice(0, SAMPLE);
        this.plan.candidates.push({
          dedupeKey: `conflict:${r.strong.kind}:${hash16(r.matchKey)}:${ca}:${cb}`,
          reason: 'conflict',
          rule: r.strong.rule,
          kind: r.strong.kind,
          value: r.value,
          customerId: ca,
          otherCustomerId: cb,
          evidence: {
            differ: p.conflicts.map((c) => c.attribute),
            ...identifierConflicts(p.conflicts, left === p.a),
            records: { [ca]: recordsOf(left), [cb]: recordsOf(right) },
          },
        });
      }
    }
  }

  /** A changed record that no longer shares any strong value with the rest of its customer stays there, flagged. */
  private reportOrphans() {
    const { rules } = this;
    for (const rec of this.data.records) {
      if (!rec.customerId) continue;
      const key = recordKeyString(rec);
      const others = [...(this.customerStrong.get(rec.customerId) ?? new Map<string, Set<string>>())].filter(([k]) => k !== key);
      if (!others.length) continue;
      const idents = this.identsByRecord.get(key) ?? [];
      const mine = idents.filter((i) => rules.strongKind(i.kind) && !isBlocked(rules, i)).map(valueKeyString);
      if (others.some(([, values]) => mine.some((m) => values.has(m)))) continue;
      this.stats.orphans++;
      this.plan.candidates.push({
        dedupeKey: `orphan:${rec.customerId}:${hash16(`${key}\u0000${[...mine].sort().join('\u0001')}`)}`,
        reason: 'orphan',
        rule: 'scan',
        kind: null,
        value: null,
        customerId: rec.customerId,
        otherCustomerId: null,
        evidence: {
          record: recordLabel(rec),
          note: 'shares no strong identifier with the other records of its customer any more; kept where it is',
          identifiers: idents.map(({ kind, value }) => ({ kind, value })),
        },
      });
    }
  }
}

/**
 * Pairs of records of one source carrying the value with nothing else tying them: not
 * already one group (`rootOf`), no name in agreement and no shared birthday. A name agrees as
 * the rules read names everywhere else (`compareNameKeys`): written the same, or the same name
 * in characters and in pinyin (`高静莉`, `Gao Jingli`), or a homophone typed for a character
 * (`林艳悦`, `林艳月`); a CRM's two contacts so named are one person entered twice, not a
 * household, whose second person has another name or none. The names are also read on the
 * groups the two records are in (`profileOf`): a contact without a name whose email is a named
 * helpdesk user's carries that name as far as the phone is concerned, and a second contact of
 * that name on the phone is the same person (on the held-out Hong Kong world, one person's two
 * shop records, one with the birthday and an email, the other with the name). Birthdays only on
 * the records themselves: twins share one and often the family's phone, and a group's birthday
 * says less about the record that brought it than its name does. A group without a name whose
 * own email spells the other group's name whole (`emailSpellsNameOf`) is that name's holder's too.
 */
function uncorroborated(carriers: readonly Carrier[], rootOf: (c: Carrier) => string, profileOf: (c: Carrier) => Profile): Array<[Carrier, Carrier]> {
  const out: Array<[Carrier, Carrier]> = [];
  const bySource = groupBy(carriers, (c) => c.source);
  for (const list of bySource.values()) {
    const records = [...new Map(list.map((c) => [c.recordId, c])).values()];
    for (let i = 0; i < records.length; i++) {
      for (let j = i + 1; j < records.length; j++) {
        const [x, y] = [records[i], records[j]];
        const tied =
          rootOf(x) === rootOf(y) ||
          namesAgree(x.nameKey, y.nameKey) ||
          (x.birthdayKey != null && x.birthdayKey === y.birthdayKey) ||
          groupNamesAgree(profileOf(x).names, profileOf(y).names) ||
          nameCutShortSpelled(profileOf(x), profileOf(y)) ||
          emailNamesHolder(profileOf(x), profileOf(y));
        if (!tied) out.push([x, y]);
      }
    }
  }
  return out;
}

/** One side carries no name and an email of its own spelling the other side's (`emailSpellsNameOf`): the named holder's record. */
function emailNamesHolder(a: Profile, b: Profile): boolean {
  return emailSpellsNameOf(a, b) || emailSpellsNameOf(b, a);
}

function namesAgree(x: string | null, y: string | null): boolean {
  return x != null && y != null && (x === y || compareNameKeys(x, y) === 'agree');
}

/** Two groups' names: one of them agrees with one of the other's, and none conflicts (a group may hold two people's names). */
function groupNamesAgree(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  let agree = false;
  for (const x of a)
    for (const y of b) {
      const v = x === y ? 'agree' : compareNameKeys(x, y);
      if (v === 'conflict') return false;
      if (v === 'agree') agree = true;
    }
  return agree;
}

function judgedDifferent(a: Group, b: Group, ctx: LinkContext): boolean {
  if (!ctx.differentPairs.size) return false;
  for (const x of a.customers) for (const y of b.customers) if (ctx.differentPairs.has(`${x}\u0000${y}`)) return true;
  return false;
}

function viaEvidence(v: Via, rules: IdentityRules): Record<string, unknown> {
  return {
    kind: v.kind,
    value: v.value,
    with: v.peers,
    ...(v.kind === 'PHONE' ? { assumedRegion: rules.defaultPhoneRegion } : {}),
  };
}

/** Identifier values that differ (shown: they are identifiers); differing traits are only named. */
function identifierConflicts(conflicts: Conflict[], leftIsA: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of conflicts) {
    if (c.attribute === 'name' || c.attribute === 'birthday' || c.attribute === 'decision' || c.attribute === 'same-source') continue;
    out[c.attribute] = leftIsA ? [c.left, c.right] : [c.right, c.left];
  }
  return out;
}

/**
 * A node is a customer's id or a record's key (`source\0recordId`): a ULID holds no NUL, so the two
 * never collide, and no key is built again to look a node up.
 */
const customerNode = (id: string) => id;
const recordNode = (key: string) => key;
const recordLabel = (r: { source: string; recordId: string }) => `${r.source}:${r.recordId}`;

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}
