/**
 * Why two source records of one customer are linked: the chain of records between them and,
 * at each step, what joined the two (a shared identifier, a steward's decision, a merge) with
 * the link event that made the join. Pure: it reads nothing; `stewardship.ts` hands it one
 * customer's records, identifiers and link events.
 *
 * The graph's nodes are the customer's records now. Its edges come from the event log first,
 * because the log is what actually happened:
 * - a `link` event joined its record to the records named in `evidence.with` through
 *   `evidence.kind` / `evidence.value`;
 * - a `merge` event (not undone by a later `split`) joined the records it moved to those the
 *   survivor held then: the two records a steward named (`evidence.records`) or the
 *   probabilistic tier scored (`evidence.pair`, its weight and contributions beside), else the records
 *   named in `evidence.with`, else the survivor's records carrying `evidence.value`, else all
 *   of the survivor's records (a merge naming no record).
 * A `split` event (a steward's unlink, or a merge undone) ends the joins made before it between
 * the records it moved and the others: records joined again later are joined by what did it.
 * Records that share a current identifier with no event to show for it are joined too, at a
 * cost above any chain of logged joins, so they are used only where the log alone does not
 * connect the two (events beyond the history read, `with` lists cut short, a group whose own
 * link events point only at each other), and then as few as possible. The answer is the
 * cheapest chain: fewest unlogged steps, then fewest steps.
 */
import type { IdentifierKind } from '../vocabulary';
import type { IdentifierRow, LinkEvent, SourceRecordKey } from './types';
import { PROBABILISTIC_ACTOR } from './probabilistic/tier';

export type LinkVia = 'SHARED_IDENTIFIER' | 'MANUAL_DECISION' | 'MERGE' | 'PROBABLE_MATCH';

export interface LinkStep {
  from: SourceRecordKey;
  to: SourceRecordKey;
  via: LinkVia;
  /** The shared identifier, when one joined them (also shown for a decision made about one). */
  kind: IdentifierKind | null;
  value: string | null;
  /** The event that made the join; null when the two share a value but the log does not show the join. */
  event: LinkEvent | null;
}

export interface CustomerEvidence {
  records: readonly SourceRecordKey[];
  /** Identifiers of those records, ended ones included. */
  identifiers: readonly IdentifierRow[];
  /** Link events of the customer and of customers merged into it (any order). */
  events: readonly LinkEvent[];
}

/** Kinds that join records when no event shows the join (the default rules' strong kinds). */
export const DEFAULT_LINKING_KINDS: readonly IdentifierKind[] = ['UNIONID', 'MEMBER_NO', 'PHONE', 'EMAIL'];

/** A join the log shows costs 1; one it does not, more than any chain of joins it shows. */
const EVENT_COST = 1;
const FALLBACK_COST = 10_000;

interface Edge {
  to: string;
  cost: number;
  label: Omit<LinkStep, 'from' | 'to'>;
  /** One edge per pair of records and way of joining (`via`, kind, value). */
  dedupe: string;
}

const keyOf = (k: SourceRecordKey) => `${k.source}\u0000${k.recordId}`;
const fromKey = (key: string): SourceRecordKey => {
  const [source, recordId] = key.split('\u0000');
  return { source: source as SourceRecordKey['source'], recordId };
};

/** `crm:C1` (how events name records) as a key; null when malformed. */
export function recordFromLabel(label: unknown): SourceRecordKey | null {
  if (typeof label !== 'string') return null;
  const at = label.indexOf(':');
  if (at <= 0 || at === label.length - 1) return null;
  return { source: label.slice(0, at) as SourceRecordKey['source'], recordId: label.slice(at + 1) };
}

function asRecordKey(v: unknown): SourceRecordKey | null {
  if (!v || typeof v !== 'object') return recordFromLabel(v);
  const r = v as { source?: unknown; recordId?: unknown };
  return typeof r.source === 'string' && typeof r.recordId === 'string' ? { source: r.source as SourceRecordKey['source'], recordId: r.recordId } : null;
}

const viaOf = (e: LinkEvent, kind: unknown): LinkVia =>
  e.actor.startsWith('user:') ? 'MANUAL_DECISION' : e.actor === PROBABILISTIC_ACTOR ? 'PROBABLE_MATCH' : typeof kind === 'string' && kind ? 'SHARED_IDENTIFIER' : 'MERGE';

/** Merge events a later `split` undid (by `evidence.undoes`). */
export function undoneMerges(events: readonly LinkEvent[]): Set<string> {
  const out = new Set<string>();
  for (const e of events) if (e.action === 'split' && e.evidence && e.evidence.undoes != null) out.add(String(e.evidence.undoes));
  return out;
}

/** The latest merge (not undone) that merged each customer away, by merged id. */
export function mergesOf(events: readonly LinkEvent[]): Map<string, LinkEvent> {
  const undone = undoneMerges(events);
  const out = new Map<string, LinkEvent>();
  for (const e of [...events].sort(byIdAsc)) if (e.action === 'merge' && e.otherCustomerId && !undone.has(e.id)) out.set(e.otherCustomerId, e);
  return out;
}

/** Records a merge event moved, as keys. */
export function movedBy(e: LinkEvent): SourceRecordKey[] {
  const moved = e.evidence?.movedRecords;
  return Array.isArray(moved) ? moved.map(asRecordKey).filter((k): k is SourceRecordKey => k !== null) : [];
}

function byIdAsc(a: LinkEvent, b: LinkEvent): number {
  const x = BigInt(a.id);
  const y = BigInt(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The evidence graph of one customer. */
export function evidenceGraph(input: CustomerEvidence, linkingKinds: readonly IdentifierKind[] = DEFAULT_LINKING_KINDS): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  for (const r of input.records) graph.set(keyOf(r), []);
  const join = (a: string, b: string, cost: number, label: Edge['label'], dedupe: string) => {
    if (a === b || !graph.has(a) || !graph.has(b)) return;
    if (graph.get(a)!.some((x) => x.to === b && x.dedupe === dedupe)) return;
    graph.get(a)!.push({ to: b, cost, label, dedupe });
    graph.get(b)!.push({ to: a, cost, label, dedupe });
  };
  /** A split moved `moved` away from the rest: the joins made before it between the two sides no longer hold. */
  const sever = (moved: ReadonlySet<string>) => {
    for (const k of moved) {
      const edges = graph.get(k);
      if (!edges) continue;
      for (const x of edges)
        if (!moved.has(x.to))
          graph.set(
            x.to,
            graph.get(x.to)!.filter((y) => y.to !== k),
          );
      graph.set(
        k,
        edges.filter((x) => moved.has(x.to)),
      );
    }
  };

  const carriers = new Map<string, string[]>();
  for (const i of input.identifiers) {
    const k = `${i.kind}\u0000${i.value}`;
    const list = carriers.get(k) ?? [];
    const rk = keyOf(i);
    if (!list.includes(rk)) list.push(rk);
    carriers.set(k, list);
  }
  const carrying = (kind: unknown, value: unknown) => (typeof kind === 'string' && typeof value === 'string' ? (carriers.get(`${kind}\u0000${value}`) ?? []) : []);

  const undone = undoneMerges(input.events);
  const ordered = [...input.events].sort(byIdAsc);
  const merges = ordered.filter((e) => e.action === 'merge' && !undone.has(e.id));
  const mergedAway = mergesOf(input.events);
  const movedKeys = (e: LinkEvent) =>
    movedBy(e)
      .map(keyOf)
      .filter((k) => graph.has(k));
  /**
   * The records a merge's survivor held when it merged: what the survivor's own later merge
   * moved (or, still a survivor, every record), less what this merge and later merges into it
   * brought.
   */
  const survivorSide = (m: LinkEvent): string[] => {
    const own = m.customerId ? mergedAway.get(m.customerId) : undefined;
    const base = own ? movedKeys(own) : [...graph.keys()];
    const later = new Set(merges.filter((x) => x.customerId === m.customerId && byIdAsc(x, m) >= 0).flatMap(movedKeys));
    return base.filter((k) => !later.has(k));
  };

  /** The records a merge moved that were the merged customer's own, not brought to it by an earlier merge. */
  const mergedSide = (m: LinkEvent): string[] => {
    const moved = movedKeys(m);
    const earlier = new Set(merges.filter((x) => x.customerId === m.otherCustomerId && byIdAsc(x, m) < 0).flatMap(movedKeys));
    const own = moved.filter((k) => !earlier.has(k));
    return own.length ? own : moved;
  };

  // Oldest first: the event that first made a join is the one shown for it.
  for (const e of ordered) {
    const ev = e.evidence ?? {};
    const kind = typeof ev.kind === 'string' ? (ev.kind as IdentifierKind) : null;
    const value = typeof ev.value === 'string' ? ev.value : null;
    const peers = Array.isArray(ev.with)
      ? ev.with
          .map(recordFromLabel)
          .filter((k): k is SourceRecordKey => k !== null)
          .map(keyOf)
      : [];
    const label = { via: viaOf(e, kind), kind, value, event: e };
    const dedupe = `${label.via}\u0000${kind}\u0000${value}`;

    if (e.action === 'split') {
      // A steward's unlink (or a merge undone): what joined the records it moved to the others
      // is over; a later link, merge or decision that brings them together again is the join.
      sever(new Set(movedKeys(e)));
      continue;
    }
    if (e.action === 'link' && e.source && e.recordId) {
      const self = keyOf({ source: e.source, recordId: e.recordId });
      for (const p of peers) join(self, p, EVENT_COST, label, dedupe);
      continue;
    }
    if (e.action !== 'merge' || undone.has(e.id)) continue;
    const moved = movedKeys(e);
    // A steward's merge names the two records; the probabilistic tier's, the pair it scored.
    const listed = Array.isArray(ev.records) ? ev.records : Array.isArray(ev.pair) ? ev.pair : null;
    const named = listed
      ? listed
          .map(asRecordKey)
          .filter((k): k is SourceRecordKey => k !== null)
          .map(keyOf)
      : [];
    if (named.length === 2) {
      join(named[0], named[1], EVENT_COST, label, dedupe);
      continue;
    }
    const others = survivorSide(e);
    const valueCarriers = carrying(kind, value);
    const movedCarriers = moved.filter((k) => valueCarriers.includes(k));
    const otherCarriers = others.filter((k) => valueCarriers.includes(k));
    const from = movedCarriers.length ? movedCarriers : mergedSide(e);
    // The records named on the other side, else those there carrying the value, else all there.
    const to = peers.length ? peers : otherCarriers.length ? otherCarriers : others;
    for (const a of from) for (const b of to) join(a, b, EVENT_COST, label, dedupe);
  }

  // Records sharing a current value the log does not show a join through: a costlier step.
  const current = new Map<string, string[]>();
  for (const i of input.identifiers) {
    if (i.validTo != null || !linkingKinds.includes(i.kind)) continue;
    const k = `${i.kind}\u0000${i.value}`;
    const list = current.get(k) ?? [];
    if (!list.includes(keyOf(i))) list.push(keyOf(i));
    current.set(k, list);
  }
  for (const [k, live] of current) {
    const [kind, value] = k.split('\u0000') as [IdentifierKind, string];
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++) {
        join(live[i], live[j], FALLBACK_COST, { via: 'SHARED_IDENTIFIER', kind, value, event: null }, `fallback\u0000${k}`);
      }
    }
  }
  return graph;
}

/**
 * The cheapest chain of steps from any record of `from` to any record of `to` (record keys
 * of the customer), or null when the evidence does not connect them. Ties go to the chain
 * found first, which is deterministic for a given input.
 */
export function findPath(graph: Map<string, Edge[]>, from: readonly SourceRecordKey[], to: readonly SourceRecordKey[]): LinkStep[] | null {
  const targets = new Set(to.map(keyOf).filter((k) => graph.has(k)));
  const dist = new Map<string, number>();
  const prev = new Map<string, { node: string; edge: Edge }>();
  const open = new Set<string>();
  for (const k of from.map(keyOf)) {
    if (!graph.has(k)) continue;
    dist.set(k, 0);
    open.add(k);
  }
  if (!open.size || !targets.size) return null;
  while (open.size) {
    let u: string | null = null;
    for (const k of open) if (u === null || (dist.get(k) as number) < (dist.get(u) as number)) u = k;
    open.delete(u as string);
    const node = u as string;
    if (targets.has(node)) return stepsTo(node, prev);
    const here = dist.get(node) as number;
    for (const edge of graph.get(node) ?? []) {
      const d = here + edge.cost;
      if (dist.has(edge.to) && (dist.get(edge.to) as number) <= d) continue;
      dist.set(edge.to, d);
      prev.set(edge.to, { node, edge });
      open.add(edge.to);
    }
  }
  return null;
}

function stepsTo(end: string, prev: Map<string, { node: string; edge: Edge }>): LinkStep[] {
  const steps: LinkStep[] = [];
  for (let at = end; prev.has(at);) {
    const p = prev.get(at)!;
    steps.unshift({ from: fromKey(p.node), to: fromKey(at), ...p.edge.label });
    at = p.node;
  }
  return steps;
}
