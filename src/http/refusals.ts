/**
 * Requests refused before any GraphQL work (no or bad credentials, a limit, a body that is too
 * large, not JSON or not declared JSON, a method or path not served), which the GraphQL metrics and
 * the `graphql request` log line never see: each is counted by route and reason
 * (`c360_http_refusals_total`) and logged, so an operator sees an attack or a misconfigured client.
 *
 * The handler that refuses names its reason on the response (`markRefused`); refusals answered by a
 * route of its own (webhooks, exports, the change feed) are named by their status. The log line
 * (`request refused`: request id, route, status, reason) says nothing of the caller: not its
 * address (personal data), not what it presented. A flood is one line per reason and route every
 * 10 s, with how many were held back (`suppressed`), the first at once; the counter counts each.
 */
import type http from 'node:http';
import type { Logger } from '../observability/logger';
import type { HttpRoute } from '../observability/metrics';
import { createRepeatFilter, type RepeatFilter } from '../observability/repeats';

export const REFUSAL_REASONS = [
  'unauthenticated',
  'failed_logins',
  'rate_limited',
  'forbidden',
  'payload_too_large',
  'bad_json',
  'unsupported_media_type',
  'bad_request',
  'method_not_allowed',
  'not_found',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const REASON = Symbol('c360.refusal');

/** Names why this response refuses its request (counted and logged once it is over). */
export function markRefused(res: http.ServerResponse, reason: RefusalReason): void {
  (res as unknown as Record<symbol, RefusalReason>)[REASON] = reason;
}

/** Routes other than /graphql whose every 4xx is a refusal before GraphQL work, named by its status when the route did not name it. */
const BY_STATUS: Readonly<Record<number, RefusalReason>> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/**
 * Why a finished response refused its request, or undefined when it did not. On /graphql only what
 * the server marked counts: a 400 from Apollo (a document that does not parse) is GraphQL's own,
 * counted in `c360_graphql_requests_total`.
 */
export function refusalOf(route: HttpRoute, res: http.ServerResponse): RefusalReason | undefined {
  const marked = (res as unknown as Record<symbol, RefusalReason | undefined>)[REASON];
  if (marked) return marked;
  if (route === 'graphql' || !res.headersSent) return undefined;
  return BY_STATUS[res.statusCode];
}

export interface RefusalLog {
  (route: HttpRoute, res: http.ServerResponse, reason: RefusalReason): void;
}

/** The `request refused` log line, one per reason and route per interval (src/observability/repeats.ts). */
export function createRefusalLog(log: Logger, repeats: RepeatFilter = createRepeatFilter()): RefusalLog {
  return (route, res, reason) => {
    const { log: now, suppressed } = repeats.admit(`${route} ${reason}`);
    if (!now) return;
    const requestId = res.getHeader('x-request-id');
    log.info({ requestId, route, status: res.statusCode, reason, ...(suppressed ? { suppressed } : {}) }, 'request refused');
  };
}
