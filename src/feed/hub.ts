/**
 * The change feed's fan-out: one link-log poller for the process, running only while at least one
 * subscription is open, and each subscription's own bounded queue.
 *
 * Memory per subscription is bounded whatever its reader does: changes wait in a queue of
 * `capacity`; a change is handed to the connection only when the previous one is on the wire
 * (`Flow`), so nothing piles up in the HTTP layer either. A full queue drops its oldest change and
 * counts it; the next change delivered carries the count (`Delivery.dropped`).
 */
import type { Knex } from 'knex';
import type { Logger } from '../observability/logger';
import { safeError } from '../observability/scrub';
import { createLinkEventPoller, type CustomerChange, type CustomerChangeKind } from './changes';
import { createReplays, type Resume } from './replay';
import { MAX_PENDING } from './position';

export interface FeedOptions {
  /** Pause between polls of the link log while anyone listens (the feed's latency). */
  pollIntervalMs: number;
  /** Link-log rows read per poll at most. */
  pollBatch: number;
  /** Changes a subscription holds for a slow reader before it drops the oldest. */
  bufferSize: number;
  /** Subscriptions one principal may hold open at once. */
  maxSubscriptionsPerPrincipal: number;
  /**
   * A reader that takes nothing for this long is disconnected: its queue stays bounded anyway, but the
   * stream's keep-alive comments would otherwise pile up behind it forever.
   */
  stallTimeoutMs: number;
  /**
   * A reader resuming from an event id is replayed what it missed only from this far back: at most
   * this many link-log entries behind the log's end...
   */
  replayMaxChanges: number;
  /** ...and none older than this. Further back, its first event says changes were missed (CHANGES_MISSED). */
  replayMaxAgeMs: number;
}

export const DEFAULT_FEED_OPTIONS: FeedOptions = {
  pollIntervalMs: 250,
  pollBatch: 500,
  bufferSize: 256,
  maxSubscriptionsPerPrincipal: 4,
  stallTimeoutMs: 5 * 60_000,
  replayMaxChanges: 10_000,
  replayMaxAgeMs: 60 * 60_000,
};

export interface Delivery {
  change: CustomerChange;
  /** Changes this subscription dropped just before this one, its reader being too slow. */
  dropped: number;
}

/** The first event of a resumed stream whose reader's place was outside the replay window: it carries on from `position`. */
export interface MissedDelivery {
  missed: true;
  position: CustomerChange['position'];
}

export interface FeedFilter {
  ids?: ReadonlySet<string>;
  kinds?: ReadonlySet<CustomerChangeKind>;
  /**
   * The systems whose records the reader is told of (its role's lists; src/access/role-schema.ts
   * `sourceTeller`); absent: every system. A change whose records are all elsewhere is not heard
   * of: a helpdesk record linked to a customer says the customer contacted support.
   */
  sources?: (source: string) => boolean;
}

/**
 * The subscriber's row scope, asked once per polled batch: per change, whether its customer is
 * visible (else the change is not heard of) and whether its other customer is (else it is hidden).
 */
export type ScopeFilter = (changes: readonly CustomerChange[]) => Promise<Array<{ customer: boolean; other: boolean }>>;

/**
 * How far a connection's writer is behind: the HTTP layer says when a change it was handed is
 * written; until then the subscription keeps the next ones in its own bounded queue.
 */
export class Flow {
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  constructor(private readonly window = 1) {}
  get open(): boolean {
    return this.inFlight < this.window;
  }
  take(): void {
    this.inFlight++;
  }
  /** One change handed over is on the wire (or will never be: the stream ended). */
  written(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export interface SubscriptionStats {
  queued: number;
  droppedTotal: number;
  delivered: number;
}

export class FeedSubscription implements AsyncIterableIterator<Delivery | MissedDelivery> {
  private queue: CustomerChange[] = [];
  private dropped = 0;
  private wake: (() => void) | null = null;
  private roomWaiters: Array<() => void> = [];
  /** While a resumed subscription replays the log, the poller's deliveries are not its own (replay.ts reads them). */
  replaying = false;
  /** Told first: this reader's place was outside the replay window. */
  private missed: MissedDelivery | null = null;
  /** The ids asked for, and the customers they were merged into since (`followed`: survivor → ids merged into it). */
  private readonly ids: Set<string> | undefined;
  private readonly followed = new Map<string, Set<string>>();
  closed = false;
  readonly stats: SubscriptionStats = { queued: 0, droppedTotal: 0, delivered: 0 };

  constructor(
    readonly filter: FeedFilter,
    readonly scope: ScopeFilter | undefined,
    private readonly capacity: number,
    private readonly flow: Flow,
    private readonly onClose: (s: FeedSubscription) => void,
  ) {
    this.ids = filter.ids ? new Set(filter.ids) : undefined;
  }

  /**
   * Whether the reader asked for this change. Called once per change, in log order: an id filter
   * follows a customer merged into another (the survivor's changes are its changes now) until that
   * merge is undone, whatever the kinds asked for.
   */
  wants(c: CustomerChange): boolean {
    if (this.ids) {
      const other = c.otherCustomerId;
      if (!this.ids.has(c.customerId) && !(other && this.ids.has(other))) return false;
      if (other && c.kind === 'MERGED' && this.ids.has(other)) this.follow(c.customerId, other);
      if (other && c.kind === 'SPLIT') this.unfollow(c.customerId, other);
    }
    if (this.filter.kinds && !this.filter.kinds.has(c.kind)) return false;
    const told = this.filter.sources;
    return !told || c.recordSources.size === 0 || [...c.recordSources.keys()].some(told);
  }

  private follow(survivor: string, merged: string): void {
    const via = this.followed.get(survivor) ?? new Set<string>();
    via.add(merged);
    this.followed.set(survivor, via);
    this.ids!.add(survivor);
  }

  private unfollow(survivor: string, restored: string): void {
    const via = this.followed.get(survivor);
    if (!via?.delete(restored) || via.size) return;
    this.followed.delete(survivor);
    if (!this.filter.ids!.has(survivor)) this.ids!.delete(survivor);
  }

  /** Free places in the queue, once there is one (0 once closed): a replay reads no more than the reader has room for. */
  async room(): Promise<number> {
    while (!this.closed && this.queue.length >= this.capacity) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    return this.closed ? 0 : this.capacity - this.queue.length;
  }

  private roomMade(): void {
    const w = this.roomWaiters;
    this.roomWaiters = [];
    for (const f of w) f();
  }

  tellMissed(position: MissedDelivery['position']): void {
    this.missed = { missed: true, position };
    this.signal();
  }

  push(changes: readonly CustomerChange[]): void {
    if (this.closed) return;
    for (const c of changes) {
      if (this.queue.length >= this.capacity) {
        this.queue.shift();
        this.dropped++;
        this.stats.droppedTotal++;
      }
      this.queue.push(c);
    }
    this.stats.queued = this.queue.length;
    this.signal();
  }

  /** Changes that could not be checked against the scope (a source was down): lost, and counted as such. */
  lose(n: number): void {
    if (this.closed || n === 0) return;
    this.dropped += n;
    this.stats.droppedTotal += n;
  }

  private signal() {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async next(): Promise<IteratorResult<Delivery | MissedDelivery>> {
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      if (this.missed && this.flow.open) {
        const missed = this.missed;
        this.missed = null;
        this.flow.take();
        return { done: false, value: missed };
      }
      if (this.queue.length && this.flow.open) {
        const change = this.queue.shift()!;
        this.roomMade();
        this.stats.queued = this.queue.length;
        this.stats.delivered++;
        this.flow.take();
        const dropped = this.dropped;
        this.dropped = 0;
        return { done: false, value: { change, dropped } };
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (!this.flow.open) void this.flow.wait().then(() => this.signal());
      });
    }
  }

  async return(): Promise<IteratorResult<Delivery | MissedDelivery>> {
    if (!this.closed) {
      this.closed = true;
      this.queue = [];
      this.stats.queued = 0;
      this.onClose(this);
      this.signal();
      this.roomMade();
    }
    return { done: true, value: undefined };
  }

  async throw(e?: unknown): Promise<IteratorResult<Delivery | MissedDelivery>> {
    await this.return();
    throw e;
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

export interface Hub {
  /**
   * Opens a subscription; resolves once the feed knows where the log ends (later changes will be heard).
   * With `after` (an event id this feed gave), it first replays what was missed since (replay.ts);
   * an `after` that is not an event id of this store's feed throws FeedPositionError.
   */
  subscribe(opts: {
    filter: FeedFilter;
    scope?: ScopeFilter;
    flow: Flow;
    after?: string;
  }): Promise<AsyncIterableIterator<Delivery | MissedDelivery> & { stats: SubscriptionStats }>;
  /** The SSE event id of a place in the log (sealed with the store's key). */
  eventId(position: CustomerChange['position']): Promise<string>;
  /** Subscriptions open now. */
  size(): number;
  /** Each open subscription's queue length, drops and deliveries (its memory is `queued` changes at most `bufferSize`). */
  stats(): SubscriptionStats[];
  /** Ends every subscription (their streams complete) and stops the poller. */
  close(): Promise<void>;
  readonly options: FeedOptions;
}

export function createHub(deps: { db: Knex; log: Logger; options?: Partial<FeedOptions> }): Hub {
  const options = { ...DEFAULT_FEED_OPTIONS, ...deps.options };
  const subs = new Set<FeedSubscription>();

  /** One subscription's changes through its filter and row scope, into its queue: the same for live changes and replayed ones. */
  const deliverTo = async (s: FeedSubscription, changes: readonly CustomerChange[]) => {
    const wanted = changes.filter((c) => s.wants(c));
    if (!wanted.length || !s.scope) return s.push(wanted);
    try {
      const seen = await s.scope(wanted);
      s.push(wanted.flatMap((c, i) => (seen[i].customer ? [seen[i].other ? c : { ...c, otherCustomerId: null }] : [])));
    } catch (e) {
      deps.log.warn({ err: safeError(e), changes: wanted.length }, 'change feed: row scope could not be checked; changes dropped for a scoped subscription');
      s.lose(wanted.length);
    }
  };

  // The subscriptions are taken in the same tick as the poller's cursor moves (changes.ts): one added later replays up to it.
  const deliver = async (changes: CustomerChange[]) => {
    await Promise.all([...subs].filter((s) => !s.replaying).map((s) => deliverTo(s, changes)));
  };

  const poller = createLinkEventPoller({ db: deps.db, log: deps.log, intervalMs: options.pollIntervalMs, batch: options.pollBatch, onChanges: deliver });
  const replays = createReplays({ db: deps.db, log: deps.log, poller, options, deliverTo });

  const closed = (s: FeedSubscription) => {
    subs.delete(s);
    if (subs.size === 0) void poller.stop();
  };

  return {
    options,
    size: () => subs.size,
    stats: () => [...subs].map((s) => ({ ...s.stats })),
    eventId: (position) => replays.eventId(position),
    async subscribe({ filter, scope, flow, after }) {
      // Where to resume from is settled before the subscription counts: a bad event id opens nothing.
      const resume: Resume | null = after === undefined ? null : await replays.check(after);
      const s = new FeedSubscription(filter, scope, options.bufferSize, flow, closed);
      s.replaying = resume?.kind === 'replay';
      subs.add(s);
      try {
        await poller.start();
      } catch (e) {
        await s.return();
        throw e;
      }
      if (resume?.kind === 'replay') replays.run(s, resume.from);
      else if (resume?.kind === 'missed') {
        const { cursor, gaps } = poller.position();
        s.tellMissed({ cursor, pending: gaps.newest(MAX_PENDING) });
      }
      return s;
    },
    async close() {
      await Promise.all([...subs].map((s) => s.return()));
      await poller.stop();
    },
  };
}
