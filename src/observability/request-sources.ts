/**
 * What each request cost its sources, for `extensions.sources` on the response: per source
 * touched, how its calls went (`ok`, `timeout`, `unavailable`, `bad_response`, `circuit_open`;
 * the worst outcome wins), how many calls it took and how long they ran. Each call carries its
 * request's account (`SourceCall.account`, from the request's loaders): nothing here looks for
 * the request in an async context, whose propagation would tax every promise of every request.
 */
import { isSourceError } from '../errors';
import type { CallObserver } from '../sources/observe';
import type { SourceAccount, SourceName, SourceStatus, SourceUse } from '../vocabulary';

/** Worse outcomes replace better ones in a request's summary. */
const SEVERITY: Record<SourceStatus, number> = { ok: 0, bad_response: 1, timeout: 2, unavailable: 3, circuit_open: 4 };

function statusOf(e: unknown): SourceStatus {
  if (!isSourceError(e)) return 'bad_response';
  if ((e.extensions as { circuit?: unknown }).circuit === 'open') return 'circuit_open';
  switch (e.code) {
    case 'SOURCE_TIMEOUT':
      return 'timeout';
    case 'SOURCE_UNAVAILABLE':
      return 'unavailable';
    default:
      return 'bad_response';
  }
}

/** One call booked to its request's account: one more call, its time, and its outcome if worse than the source's so far. */
function book(uses: SourceAccount, source: SourceName, status: SourceStatus, seconds: number): void {
  const u = uses.get(source) ?? { status: 'ok', calls: 0, ms: 0 };
  u.calls += 1;
  u.ms += seconds * 1000;
  if (SEVERITY[status] > SEVERITY[u.status]) u.status = status;
  uses.set(source, u);
}

/**
 * A source whose calls answered but some of whose records could not be read (SourceRowError):
 * `bad_response` in the request's account unless a call of it went worse. Nothing for a source
 * this request made no call to (its records came from a cache another request filled).
 */
export function bookMalformed(uses: SourceAccount, source: SourceName): void {
  const u = uses.get(source);
  if (u && SEVERITY.bad_response > SEVERITY[u.status]) u.status = 'bad_response';
}

/** The observer that books each call to its request's account (nothing for a call made outside a request). */
export const requestSourceObserver: CallObserver = {
  answered(c, seconds) {
    if (c.account) book(c.account, c.source, 'ok', seconds);
  },
  failed(c, seconds, e) {
    if (c.account) book(c.account, c.source, statusOf(e), seconds);
  },
};

/** The summary as the response shows it: ms rounded to 0.1. */
export function sourcesExtension(uses: ReadonlyMap<string, SourceUse>): Record<string, SourceUse> {
  return Object.fromEntries([...uses].map(([source, u]) => [source, { status: u.status, calls: u.calls, ms: Math.round(u.ms * 10) / 10 }]));
}
