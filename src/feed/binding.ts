/**
 * How the `customerChanged` resolver reaches its connection's feed: the stream route binds a
 * subscriber to the subscription's context (a WeakMap, as the audit collector is), so the
 * per-request Context type stays as it is and an operation outside the stream route has no feed.
 */
import type { CustomerChange, CustomerChangeKind } from './changes';

export interface FeedSubscriber {
  /** `after`: the event id to resume after (the `after` argument; the stream's Last-Event-ID header, when sent, wins). */
  subscribe(args: { ids?: readonly string[] | null; kinds?: readonly CustomerChangeKind[] | null; after?: string | null }): Promise<AsyncIterable<unknown>>;
}

const bound = new WeakMap<object, FeedSubscriber>();

export function bindFeed(ctx: object, subscriber: FeedSubscriber): void {
  bound.set(ctx, subscriber);
}

/** The feed of a subscription's context; undefined outside the stream route. */
export function feedOf(ctx: unknown): FeedSubscriber | undefined {
  return ctx && typeof ctx === 'object' ? bound.get(ctx) : undefined;
}

export type { CustomerChange, CustomerChangeKind };
