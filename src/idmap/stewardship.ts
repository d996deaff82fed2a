/**
 * Stewardship: what the GraphQL layer may ask of OneID beyond the batched reads. People fix
 * the identity map (link, unlink, merge, split, settle review candidates) and ask why two
 * records or customers are one. A narrow face over the store, handed to each request's
 * context; every write is one store transaction that logs its events and the decision.
 *
 * Every change carries the steward's reason (required, at most MAX_REASON_LENGTH characters)
 * and who they are as the actor (`user:apiKey:<name>` or `user:jwt:<subject>`, stewardActor). Decisions are remembered: a pair judged
 * different is never linked again by resolution (`resolve.ts` reads them), and resolution
 * never separates what a steward put together.
 */
import { badUserInput, notFound } from '../errors';
import type { PrincipalKind } from '../principal';
import type { IdentifierKind } from '../vocabulary';
import { evidenceGraph, findPath, mergesOf, movedBy, recordFromLabel, DEFAULT_LINKING_KINDS, type LinkStep } from './explain';
import type { CandidatesAfter, IdMapStore, ReviewCandidate } from './store';
import type { CandidateReason, CandidateStatus, DecisionVerdict } from './tables';
import type { LinkEvent, SourceRecordKey } from './types';

/** The column that keeps reasons holds this many characters. */
export const MAX_REASON_LENGTH = 255;
/** Largest page of the review queue. */
export const MAX_CANDIDATE_PAGE = 100;
/** Link events read to explain one customer: enough for any customer a person could review. */
const HISTORY_FOR_EXPLAIN = 5000;

export type StewardshipStore = Pick<
  IdMapStore,
  | 'mergeCustomers'
  | 'linkRecords'
  | 'unmergeCustomer'
  | 'splitRecords'
  | 'resolveCandidate'
  | 'reviewCandidates'
  | 'customersByIds'
  | 'customerIdsBySourceRecords'
  | 'sourceRecordsByCustomerIds'
  | 'identifiersByCustomerIds'
  | 'linkEventsByCustomerIds'
>;

/** What a stewardship change did. */
export interface StewardshipOutcome {
  action: 'merge' | 'split' | 'decision';
  /** Where the records are now: the survivor of a merge, the customer a split restored or created; null for a decision about a value. */
  customerId: string | null;
  /** The other side: the customer merged away, or the one records left. */
  otherCustomerId: string | null;
  movedRecords: SourceRecordKey[];
  candidate: ReviewCandidate | null;
}

/** A review candidate with what its evidence names, read out. */
export interface CandidateView extends ReviewCandidate {
  records: SourceRecordKey[];
  /** For a conflict: the attributes on which the two sides differ (`EMAIL`, `name`, `decision`, …). */
  differ: string[];
}

export interface CandidatePage {
  edges: Array<{ cursor: string; node: CandidateView }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface LinkExplanation {
  linked: boolean;
  /** The customer both are part of; null when not linked. */
  customerId: string | null;
  /** What each side is now (merged ids followed); null for a record no customer holds. */
  aCustomerId: string | null;
  bCustomerId: string | null;
  summary: string;
  /** From a to b; empty when not linked, or when nothing needs explaining (the same record or id). */
  path: LinkStep[];
  /** The merges (not undone) that took a and b into the customer, each through any customer in between, oldest first; empty for records. */
  merges: LinkEvent[];
}

export interface Stewardship {
  linkRecords(input: { a: SourceRecordKey; b: SourceRecordKey; actor: string; reason: string }): Promise<StewardshipOutcome>;
  unlinkRecord(input: { record: SourceRecordKey; actor: string; reason: string }): Promise<StewardshipOutcome>;
  mergeCustomers(input: { survivorId: string; mergedId: string; actor: string; reason: string }): Promise<StewardshipOutcome>;
  splitCustomer(input: { mergedId: string; actor: string; reason: string }): Promise<StewardshipOutcome>;
  resolveCandidate(input: { id: string; verdict: DecisionVerdict; actor: string; reason: string }): Promise<StewardshipOutcome>;
  /**
   * The review queue, oldest first or strongest first (`order`, default oldest); `status` null for
   * every status, `reason` null (or absent) for every reason.
   */
  mergeCandidates(input: {
    status: CandidateStatus | null;
    reason?: CandidateReason | null;
    order?: CandidateOrder | null;
    first: number;
    after: string | null;
  }): Promise<CandidatePage>;
  whyLinked(a: string, b: string): Promise<LinkExplanation>;
  whyRecordsLinked(a: SourceRecordKey, b: SourceRecordKey): Promise<LinkExplanation>;
}

/**
 * The actor of a person's change: `user:`, the kind of credential they proved themselves with and
 * their name (`user:apiKey:etl-bot`, `user:jwt:<token subject>`), whole (the columns hold
 * MAX_PRINCIPAL_LENGTH and more), so an API key and a token subject of one name are two actors.
 * `user:<name>` where no kind is known: built-in callers, and every event from before kinds were
 * recorded (cut at 64 characters then). `user:` stays what tells a person's change from a rule's.
 */
export const stewardActor = (viewer: { principal: string; principalKind?: PrincipalKind }) =>
  viewer.principalKind ? `user:${viewer.principalKind}:${viewer.principal}` : `user:${viewer.principal}`;

/** A reason as stored, or BAD_USER_INPUT. */
export function checkReason(reason: string | null | undefined): string {
  const r = (reason ?? '').trim();
  if (!r) throw badUserInput('reason is required: say why, for the link history', { argument: 'reason' });
  if (r.length > MAX_REASON_LENGTH) {
    throw badUserInput(`reason must be at most ${MAX_REASON_LENGTH} characters, got ${r.length}`, { argument: 'reason' });
  }
  return r;
}

/** The review queue's orders: by id (oldest first), or by match weight (strongest first, unweighed last). */
export type CandidateOrder = 'oldest' | 'strongest';

/**
 * A queue cursor names the page's order and its last candidate: `mc1:<id>` oldest first,
 * `mc2:<weight or none>:<id>` strongest first (a weight as JavaScript writes the number, so it
 * reads back the same).
 */
function encodeCursor(order: CandidateOrder, c: ReviewCandidate): string {
  const text = order === 'strongest' ? `mc2:${c.matchWeight ?? 'none'}:${c.id}` : `mc1:${c.id}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}
function decodeCursor(cursor: string): { order: CandidateOrder; after: CandidatesAfter } | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const oldest = /^mc1:(\d{1,9})$/.exec(text);
  if (oldest) return { order: 'oldest', after: { id: oldest[1] } };
  const strongest = /^mc2:(none|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?):(\d{1,9})$/.exec(text);
  if (!strongest) return null;
  return { order: 'strongest', after: { id: strongest[2], matchWeight: strongest[1] === 'none' ? null : Number(strongest[1]) } };
}

const cache = new WeakMap<object, Stewardship>();

/** The stewardship face of a store, built once per store (cheap either way). */
export function stewardshipFor(store: StewardshipStore, opts: { linkingKinds?: readonly IdentifierKind[] } = {}): Stewardship {
  if (opts.linkingKinds) return createStewardship(store, opts);
  let s = cache.get(store);
  if (!s) cache.set(store, (s = createStewardship(store)));
  return s;
}

export function createStewardship(store: StewardshipStore, opts: { linkingKinds?: readonly IdentifierKind[] } = {}): Stewardship {
  const linkingKinds = opts.linkingKinds ?? DEFAULT_LINKING_KINDS;

  async function evidenceOf(customerId: string) {
    const [[records], [identifiers], [events]] = await Promise.all([
      store.sourceRecordsByCustomerIds([customerId]),
      store.identifiersByCustomerIds([customerId], { history: true }),
      store.linkEventsByCustomerIds([customerId], { limit: HISTORY_FOR_EXPLAIN }),
    ]);
    return { records: records.map((r) => ({ source: r.source, recordId: r.recordId })), identifiers, events };
  }

  return {
    async linkRecords({ a, b, actor, reason }) {
      const m = await store.linkRecords({ a, b, actor, reason: checkReason(reason) });
      return { action: 'merge', customerId: m.survivorId, otherCustomerId: m.mergedId, movedRecords: m.movedRecords, candidate: null };
    },

    async unlinkRecord({ record, actor, reason }) {
      const s = await store.splitRecords({ records: [record], actor, reason: checkReason(reason) });
      return { action: 'split', customerId: s.customerId, otherCustomerId: s.fromCustomerId, movedRecords: [record], candidate: null };
    },

    async mergeCustomers({ survivorId, mergedId, actor, reason }) {
      const m = await store.mergeCustomers({ survivorId, mergedId, actor, reason: checkReason(reason) });
      return { action: 'merge', customerId: m.survivorId, otherCustomerId: m.mergedId, movedRecords: m.movedRecords, candidate: null };
    },

    async splitCustomer({ mergedId, actor, reason }) {
      const s = await store.unmergeCustomer({ mergedId, actor, reason: checkReason(reason) });
      return { action: 'split', customerId: s.customerId, otherCustomerId: s.survivorId, movedRecords: s.movedBack, candidate: null };
    },

    async resolveCandidate({ id, verdict, actor, reason }) {
      const r = await store.resolveCandidate({ id, verdict, actor, reason: checkReason(reason) });
      return {
        action: r.merge ? 'merge' : 'decision',
        customerId: r.customerId,
        otherCustomerId: r.otherCustomerId,
        movedRecords: r.merge?.movedRecords ?? [],
        candidate: r.candidate,
      };
    },

    async mergeCandidates({ status, reason, order, first, after }) {
      const by = order ?? 'oldest';
      const cursor = after == null ? null : decodeCursor(after);
      if (after != null && cursor === null)
        throw badUserInput('after is not a review queue cursor (use an endCursor or edge cursor from an earlier page)', { argument: 'after' });
      if (cursor && cursor.order !== by)
        throw badUserInput(`after is a cursor of the queue ordered ${cursor.order} first; ask with the same orderBy to continue it`, { argument: 'after' });
      const rows = await store.reviewCandidates({ status: status ?? undefined, reason: reason ?? undefined, order: by, after: cursor?.after ?? null, limit: first + 1 });
      const edges = rows.slice(0, first).map((c) => ({ cursor: encodeCursor(by, c), node: viewOf(c) }));
      return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.length ? edges[edges.length - 1].cursor : null } };
    },

    async whyRecordsLinked(a, b) {
      const [ca, cb] = await store.customerIdsBySourceRecords([a, b]);
      const sides = { aCustomerId: ca, bCustomerId: cb, merges: [] as LinkEvent[] };
      if (!ca || !cb) {
        const nobody = !ca && !cb ? 'neither a nor b belongs to any customer' : `${ca ? 'b' : 'a'} belongs to no customer`;
        return { ...sides, linked: false, customerId: null, path: [], summary: `Not linked: ${nobody} (unknown to OneID, deleted in its source, or awaiting resolution).` };
      }
      if (ca !== cb) return { ...sides, linked: false, customerId: null, path: [], summary: `Not linked: a belongs to customer ${ca} and b to customer ${cb}.` };
      if (a.source === b.source && a.recordId === b.recordId)
        return { ...sides, linked: true, customerId: ca, path: [], summary: `a and b are the same record, of customer ${ca}.` };
      const ev = await evidenceOf(ca);
      const path = findPath(evidenceGraph(ev, linkingKinds), [a], [b]);
      return { ...sides, linked: true, customerId: ca, path: path ?? [], summary: linkedSummary(ca, path) };
    },

    async whyLinked(a, b) {
      const [ra, rb] = await store.customersByIds([a, b]);
      if (!ra) throw notFound(`No customer ${a}`);
      if (!rb) throw notFound(`No customer ${b}`);
      const sides = { aCustomerId: ra.id, bCustomerId: rb.id };
      if (ra.id !== rb.id) {
        return { ...sides, linked: false, customerId: null, path: [], merges: [], summary: `Not linked: a is customer ${ra.id} and b is customer ${rb.id}.` };
      }
      const s = ra.id;
      if (a === b) return { ...sides, linked: true, customerId: s, path: [], merges: [], summary: `a and b are the same id, of customer ${s}.` };
      const ev = await evidenceOf(s);
      const merges = mergesOf(ev.events);
      const on = new Set(ev.records.map(key));
      // The records each id brought: those its merge moved (still here).
      const brought = (id: string): string[] | null =>
        id === s
          ? null
          : merges.has(id)
            ? movedBy(merges.get(id)!)
                .map(key)
                .filter((k) => on.has(k))
            : [];
      let ka = brought(a);
      let kb = brought(b);
      // One merged into the other before it was merged here: its records travelled inside the other's.
      if (ka && kb) {
        const inA = new Set(ka);
        const inB = new Set(kb);
        if (ka.every((k) => inB.has(k))) kb = kb.filter((k) => !inA.has(k));
        else if (kb.every((k) => inA.has(k))) ka = ka.filter((k) => !inB.has(k));
      }
      // The survivor's own: what no merge brought (all but the other side's, when every record came by a merge).
      const byMerges = new Set([...merges.values()].flatMap((m) => movedBy(m).map(key)));
      const ownOf = (other: string[]) => {
        const own = [...on].filter((k) => !byMerges.has(k));
        return own.length ? own : [...on].filter((k) => !other.includes(k));
      };
      if (ka === null) ka = ownOf(kb as string[]);
      if (kb === null) kb = ownOf(ka);
      // Each id's way in: its merge, then the merge of the customer it went into, and so on up to the survivor.
      const chain = new Map<string, LinkEvent>();
      for (let id of [a, b]) {
        for (let m = merges.get(id); m && !chain.has(m.id); m = merges.get(id)) {
          chain.set(m.id, m);
          id = m.customerId as string;
        }
      }
      const mergeEvents = [...chain.values()].sort((x, y) => (BigInt(x.id) < BigInt(y.id) ? -1 : 1));
      const path = ka.length && kb.length ? findPath(evidenceGraph(ev, linkingKinds), ka.map(unkey), kb.map(unkey)) : null;
      return { ...sides, linked: true, customerId: s, path: path ?? [], merges: mergeEvents, summary: linkedSummary(s, path) };
    },
  };
}

const key = (k: SourceRecordKey) => `${k.source}\u0000${k.recordId}`;
const unkey = (k: string): SourceRecordKey => {
  const [source, recordId] = k.split('\u0000');
  return { source: source as SourceRecordKey['source'], recordId };
};

function linkedSummary(customerId: string, path: LinkStep[] | null): string {
  if (!path) return `Linked: both are customer ${customerId}, but no recorded evidence connects their records.`;
  if (!path.length) return `Linked: both are customer ${customerId}.`;
  const what = path.map((s) => (s.via === 'SHARED_IDENTIFIER' ? `a shared ${s.kind}` : s.via === 'MANUAL_DECISION' ? `a steward's decision` : 'a merge'));
  return `Linked in customer ${customerId} through ${path.length} step${path.length === 1 ? '' : 's'}: ${what.join(', then ')}.`;
}

/** The records a candidate's evidence names, and the attributes it found different. */
function viewOf(c: ReviewCandidate): CandidateView {
  const ev = c.evidence ?? {};
  const labels: unknown[] = [];
  if (ev.records && typeof ev.records === 'object') for (const list of Object.values(ev.records)) if (Array.isArray(list)) labels.push(...list);
  if (Array.isArray(ev.sample)) labels.push(...ev.sample);
  if (ev.record) labels.push(ev.record);
  const seen = new Set<string>();
  const records = labels.map(recordFromLabel).filter((k): k is SourceRecordKey => k !== null && !seen.has(key(k)) && !!seen.add(key(k)));
  return { ...c, records, differ: Array.isArray(ev.differ) ? ev.differ.map(String) : [] };
}
