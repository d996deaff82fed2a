/**
 * Every error a client can see is built here, each with its `extensions.code`.
 * Anything not built here is masked as INTERNAL_SERVER_ERROR and logged (see server.ts).
 */
import { GraphQLError, type ASTNode } from 'graphql';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'AMBIGUOUS_IDENTIFIER'
  | 'SOURCE_UNAVAILABLE'
  | 'SOURCE_TIMEOUT'
  | 'SOURCE_BAD_RESPONSE'
  | 'QUERY_TOO_COMPLEX'
  | 'CONFLICT'
  | 'SOURCE_NOT_CONFIGURED'
  | 'ONEID_UNAVAILABLE'
  | 'CHANGES_MISSED';

export const SOURCE_ERROR_CODES = ['SOURCE_UNAVAILABLE', 'SOURCE_TIMEOUT', 'SOURCE_BAD_RESPONSE'] as const;
export type SourceErrorCode = (typeof SOURCE_ERROR_CODES)[number];

/** A source (or one of its rows) failed. Carries the source name so clients know which fields are missing and why. */
export class SourceError extends GraphQLError {
  constructor(
    readonly sourceName: string,
    readonly code: SourceErrorCode,
    message: string,
    readonly detail?: Record<string, unknown>,
  ) {
    super(message, { extensions: { code, source: sourceName, ...(detail ?? {}) } });
    this.name = 'SourceError';
  }
}

export function isSourceError(e: unknown): e is SourceError {
  return e instanceof SourceError;
}

/**
 * A source call the transport refused without reaching the system: its circuit is open, or it
 * asked (Retry-After) not to be called yet. The client sees SOURCE_UNAVAILABLE like any other;
 * metrics and spans tell it apart, as no call was made and no time was spent on one.
 */
export class SourceRefusal extends SourceError {
  constructor(sourceName: string, message: string, detail: Record<string, unknown>) {
    super(sourceName, 'SOURCE_UNAVAILABLE', message, detail);
  }
}

/** Most characters of a client's value (an id, a key) a message quotes. */
export const MAX_QUOTED = 64;
/** Longest message a client reads: past it, one listing many values ends with '…'. */
export const MAX_MESSAGE = 1000;
/** A run without spaces longer than any our messages write (a filter path: at most about 170), found only in a client's value. */
const CLIENT_VALUE = /\S{201,}/g;

/** The first `n` characters of `s` and '…', not ending in half a surrogate pair. */
function cut(s: string, n: number): string {
  const code = s.charCodeAt(n - 1);
  return `${s.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n)}…`;
}

/** A client's value as a message quotes it: its first MAX_QUOTED characters, and '…' when it is longer. */
export const quote = (value: string): string => (value.length <= MAX_QUOTED ? value : cut(value, MAX_QUOTED));

/**
 * A message as a client reads it. Messages quote the value they refuse (`No customer <id>`), some
 * whole, and a 100 KB id came back whole in its error: here such a run is quoted short, and a
 * message listing many values ends at MAX_MESSAGE.
 */
export function bounded(message: string): string {
  if (message.length <= 200) return message;
  const short = message.replace(CLIENT_VALUE, quote);
  return short.length <= MAX_MESSAGE ? short : cut(short, MAX_MESSAGE);
}

/** `node`: the value in the query at fault (a literal argument), for the error's `locations`. */
export const badUserInput = (message: string, detail?: Record<string, unknown>, node?: ASTNode) =>
  new GraphQLError(bounded(message), { nodes: node, extensions: { code: 'BAD_USER_INPUT', ...(detail ?? {}) } });

/** A change feed resumed from too far back (src/feed/replay.ts): what happened in between is not replayed. */
export const changesMissed = (detail: Record<string, unknown>) =>
  new GraphQLError(
    'Some changes since the event id to resume after were missed: it is older than the replay window. Read again what you keep (Customer.linkHistory); the stream carries on from here',
    { extensions: { code: 'CHANGES_MISSED', ...detail } },
  );

export const notFound = (message: string) => new GraphQLError(bounded(message), { extensions: { code: 'NOT_FOUND' } });

export const ambiguousIdentifier = (kind: string, matches: number) =>
  new GraphQLError(`The ${kind} identifier belongs to ${matches} customers; use customersByIdentifier to list them`, {
    extensions: { code: 'AMBIGUOUS_IDENTIFIER', matches },
  });

export const unauthenticated = (message = 'Missing or invalid credentials') => new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });

export const forbidden = (message: string, detail?: Record<string, unknown>) => new GraphQLError(bounded(message), { extensions: { code: 'FORBIDDEN', ...detail } });

export const queryTooComplex = (message: string, detail?: Record<string, unknown>) =>
  new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', ...(detail ?? {}) } });

/**
 * A BI list answered without some customers: a source failed for their records (one chunk of its
 * call, a row it could not read), so whether they match `filter` is unknown. Carried beside the
 * data (`Context.notices`), at the list's path, with the source's own code. `filter` `orderBy`: a
 * value order could not read their lifetime value whole, so they have no place in its ranking.
 */
export const undecidedCustomers = (u: { filter: string; source: string; code: string; customers: number }, path: ReadonlyArray<string | number>) =>
  new GraphQLError(
    `${u.customers} customer${u.customers === 1 ? '' : 's'} could not be ${u.filter === 'orderBy' ? 'ranked by lifetime value (orderBy)' : `decided for the filter key ${u.filter}`}: ${u.source} did not answer for their records (${u.code}); they are not in this list nor in its count`,
    { path, extensions: { code: u.code, source: u.source, filter: u.filter, undecided: u.customers } },
  );

/**
 * Tag rules a customer's tags were answered without: a fact they turn on could not be read (the RFM
 * segment while a commerce source's base cannot be read), so whether they give their tag is unknown.
 * Carried beside the tags (`Context.notices`), at their path, with that fact's source and code.
 */
export const undecidedTagRules = (rules: readonly string[], cause: SourceError, path: ReadonlyArray<string | number>) =>
  new GraphQLError(
    `tag rule${rules.length === 1 ? '' : 's'} ${rules.join(', ')} could not be decided: ${cause.sourceName} did not answer (${cause.code}); the other tags are answered`,
    { path, extensions: { code: cause.code, source: cause.sourceName, rules: [...rules] } },
  );

export const conflict = (message: string) => new GraphQLError(bounded(message), { extensions: { code: 'CONFLICT' } });

/**
 * OneID names a source this deployment no longer configures (its history outlives the config):
 * `SourceName` has no value for it, so the field is null with this error; `sourceName` answers the name.
 */
export const sourceNotConfigured = (source: string) =>
  new GraphQLError(bounded(`source "${source}" is not configured any more; sourceName answers its name as recorded`), {
    extensions: { code: 'SOURCE_NOT_CONFIGURED', source },
  });

/** How long a client is told to wait before retrying while OneID is unavailable. */
export const ONEID_RETRY_AFTER_SECONDS = 5;

/**
 * The OneID store failed or did not answer in time: nothing about a customer can be answered.
 * The response is 503 with `Retry-After` (Apollo takes both from `extensions.http`); the message
 * is generic: the cause (a statement, its bindings) stays in the server's log.
 */
export const oneidUnavailable = (retryAfterSeconds = ONEID_RETRY_AFTER_SECONDS) =>
  new GraphQLError('The identity store (OneID) is unavailable; retry later', {
    extensions: {
      code: 'ONEID_UNAVAILABLE',
      retryAfterSeconds,
      http: { status: 503, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
    },
  });

/**
 * A principal over one of its role's budgets found once the operation is known (`lookupsPerMinute`,
 * src/access/lookup-budget.ts): 429 with `Retry-After`, as the request-rate refusals before any
 * GraphQL work answer (src/access/rate-limit.ts), and the same extensions.
 */
export const rateLimited = (message: string, limit: string, max: number, retryAfterSeconds: number) =>
  new GraphQLError(message, {
    extensions: { code: 'RATE_LIMITED', limit, max, retryAfterSeconds, http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) } },
  });

/**
 * The client went away (its connection closed) before the answer was sent: the request's
 * remaining source calls and OneID reads are not made. Nobody reads the error; the request's log
 * line and metrics carry its code.
 */
export const requestAborted = () => new GraphQLError('The client closed the request before it was answered', { extensions: { code: 'REQUEST_ABORTED' } });

/**
 * What a request's work reads of its "client gone" signal (the loaders, BI plans, the request
 * line): an AbortSignal meets it too, so a caller may pass one (tests do).
 */
export interface RequestSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** Throws `reason` once aborted. */
  throwIfAborted(): void;
}

/**
 * abortOnClientGone's signal: the three members its readers use, without an AbortController
 * (an EventTarget with its listener map, made for every request and read by no listener: about
 * 6 µs a request against under 0.5: bench/HISTORY.md, "The machine per request, and the floor" and "Where the admin 360's instructions go").
 */
class ClientGone implements RequestSignal {
  aborted = false;
  reason: unknown = undefined;

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** The first abort's reason stays, as AbortController's does. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
  }
}

/**
 * A signal for a request on `res`: aborted (reason: `requestAborted()`) when the connection
 * closes before the response has been written whole, so the work for it stops.
 */
export function abortOnClientGone(res: { once(event: 'close', fn: () => void): unknown; writableFinished: boolean }): RequestSignal {
  const signal = new ClientGone();
  res.once('close', () => {
    if (!res.writableFinished) signal.abort(requestAborted());
  });
  return signal;
}

/** One record of a source was malformed; the call itself, and every other record, succeeded. */
export class SourceRowError extends SourceError {
  constructor(source: string, what: string, reason: string) {
    super(source, 'SOURCE_BAD_RESPONSE', `${source} returned a malformed ${what}: ${reason}`);
    this.name = 'SourceRowError';
  }
}

/** The one way a malformed source row is reported: the record answers null, the request goes on. */
export const badRow = (source: string, what: string, reason: string) => new SourceRowError(source, what, reason);

/** A record a source has but resolution cannot read (no id, or no readable last-update time): `scanRecords` answers it in the record's place, never null (null is a deleted record). */
export const unreadableRecord = (source: string) => badRow(source, 'record', 'its id or last-update time cannot be read');

/**
 * Start-up could not use something the config names (the OneID database, the address to listen
 * on): not a bug, so the CLI prints one line, the code and the config key, without a stack.
 */
export class StartupError extends Error {
  constructor(
    readonly code: 'ONEID_UNAVAILABLE' | 'CANNOT_LISTEN' | SourceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** A system or driver error in one line: its code and message (`ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1`). */
export function systemErrorLine(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
