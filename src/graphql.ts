/**
 * The Apollo Server for one schema: error masking, request metrics and logs as plugins.
 * Errors built deliberately (src/errors.ts, or graphql's own validation) reach the client
 * with their code; anything else is logged with the request id and masked.
 */
import { ApolloServer, type ApolloServerPlugin, type GraphQLRequestContextDidEncounterErrors, type GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, Kind, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Context } from './context';
import type { Metrics } from './observability/metrics';
import type { Logger } from './observability/logger';
import { safeError } from './observability/scrub';
import { bounded, SourceRowError } from './errors';
import { bookMalformed, sourcesExtension } from './observability/request-sources';
import type { SourceName } from './vocabulary';
import { createRepeatFilter, type RepeatFilter } from './observability/repeats';
import { asQueryTooComplex, type LimitsPlugin } from './access/limits';
import { activeSpan, traceIdOf } from './observability/tracing';

const PUBLIC_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'AMBIGUOUS_IDENTIFIER',
  'SOURCE_UNAVAILABLE',
  'SOURCE_TIMEOUT',
  'SOURCE_BAD_RESPONSE',
  'QUERY_TOO_COMPLEX',
  'CONFLICT',
  // OneID names a source taken out of the config (resolvers/identity.ts): the record stays, its enum value cannot.
  'SOURCE_NOT_CONFIGURED',
  // OneID failed or timed out (src/idmap/guarded.ts logs the cause, once per interval): not an unexpected error.
  'ONEID_UNAVAILABLE',
  // The client went away mid-request (src/errors.ts requestAborted): its work stopped; not an unexpected error.
  'REQUEST_ABORTED',
  // A change feed resumed from outside its replay window (src/feed/replay.ts).
  'CHANGES_MISSED',
  // A principal over its lookups a minute (src/access/lookup-budget.ts); its request-rate refusals come before GraphQL.
  'RATE_LIMITED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

/** Operation names are client-chosen: cap the label set so a client cannot grow the metric without bound. */
function operationLabeller(max = 200) {
  const seen = new Set<string>();
  return (name: string | null | undefined): string => {
    if (!name || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) return name ? 'invalid' : 'anonymous';
    if (seen.has(name)) return name;
    if (seen.size >= max) return 'other';
    seen.add(name);
    return name;
  };
}

/** graphql-js reports bad literal values during validation; recognise them by their origin or wording. */
function isBadArgumentValue(error: unknown, message: string): boolean {
  type Wrapped = { extensions?: { code?: unknown }; originalError?: unknown } | null | undefined;
  let e = error as Wrapped;
  for (let i = 0; e && i < 4; i++, e = e.originalError as Wrapped) if (e.extensions?.code === 'BAD_USER_INPUT') return true;
  return /^Expected value of type|does not exist in ".+" enum|cannot represent (a )?non/.test(message);
}

/**
 * Apollo's refusals of a persisted-query extension that carry no code (status 400, but formatted
 * as INTERNAL_SERVER_ERROR and logged as unexpected): the client's mistake, told in our words.
 */
const PERSISTED_QUERY_REFUSALS = new Map([
  ['provided sha does not match query', 'extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent with it'],
  ['Unsupported persisted query version', 'extensions.persistedQuery.version must be 1'],
]);

function persistedQueryRefusal(original: unknown): GraphQLFormattedError | undefined {
  if (!(original instanceof GraphQLError) || original.extensions?.code !== undefined || original.path) return undefined;
  const message = PERSISTED_QUERY_REFUSALS.get(original.message);
  return message ? { message, extensions: { code: 'BAD_REQUEST' } } : undefined;
}

/** The name of a document's only operation, if it has exactly one. */
function soleOperationName(document: DocumentNode | undefined): string | undefined {
  const operations = document?.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operations?.length === 1 ? operations[0].name?.value : undefined;
}

/** The request an error arose in, set before it is formatted (formatError itself is given no context). */
const REQUEST_ID = Symbol('c360.requestId');

/**
 * Marks errors with their request's id, so that an unexpected one is logged with it: the operator
 * finds the request line (role, operation, time) of the failure. Apollo calls `didEncounterErrors`
 * before it formats; the change feed marks a change's errors before it formats them.
 */
export function markRequest(errors: readonly unknown[], requestId: string | undefined): void {
  if (!requestId) return;
  for (const e of errors) if (e && typeof e === 'object') (e as { [REQUEST_ID]?: string })[REQUEST_ID] = requestId;
}

export function formatErrorFor(log: Logger, repeats: RepeatFilter = createRepeatFilter()) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // The parser's token limit and the pre-validation counts are query limits, not syntax or validation errors.
    const refused = asQueryTooComplex(formatted, error);
    if (refused) return refused;
    const original = unwrapResolverError(error);
    const code = formatted.extensions?.code as string | undefined;
    // A bad literal argument value (unknown enum value, unparseable scalar) is bad user input, not a broken query.
    if (code === 'GRAPHQL_VALIDATION_FAILED' && isBadArgumentValue(error, formatted.message)) {
      return { ...formatted, message: bounded(formatted.message), extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
    }
    const apq = persistedQueryRefusal(original);
    if (apq) return apq;
    if (original instanceof GraphQLError && code && PUBLIC_CODES.has(code)) {
      const { http: _http, ...extensions } = formatted.extensions ?? {};
      // graphql-js quotes a variable's whole value (`got invalid value "…100 KB…"`): quoted short, as ours are.
      return { ...formatted, message: bounded(formatted.message), extensions };
    }
    // The error as it may be logged: its kind and cause, never the SQL or values it carried; an
    // outage repeating the same error is logged once per interval, with how often it recurred.
    const err = safeError(original);
    const { log: now, suppressed } = repeats.admit(`${err.name}|${err.code ?? ''}|${err.message}`);
    const requestId = (error as { [REQUEST_ID]?: string } | null)?.[REQUEST_ID];
    if (now) log.error({ ...(requestId ? { requestId } : {}), err, path: formatted.path, ...(suppressed ? { repeatedSinceLastLog: suppressed } : {}) }, 'unexpected error');
    return { message: 'Unexpected error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

function observabilityPlugin(metrics: Metrics, log: Logger, showsSource: ((source: string) => boolean) | undefined): ApolloServerPlugin<Context> {
  const label = operationLabeller();
  // The request line's fields are ours (an operation label, an outcome, a time, error codes, a
  // role, the request id), none of them a key the logger redacts: the same line without the
  // redaction pass, which cost more than the rest of the line (bench/HISTORY.md, the fixed per-request cost).
  const lines = log.child({}, { redact: [] });
  return {
    async requestDidStart() {
      return new ObservedRequest(metrics, label, lines, performance.now(), showsSource);
    },
  };
}

/**
 * One request's metrics, span attributes, `extensions.sources` and log line. A class, so that its
 * hook is a prototype method made once (a closure per request loses its optimized code at every
 * major GC: bench/HISTORY.md, "Why a round costs the gateway more than its soak").
 */
class ObservedRequest {
  constructor(
    private readonly metrics: Metrics,
    private readonly label: (name: string | null | undefined) => string,
    private readonly lines: Logger,
    /** performance.now() at the request's start: a number, where hrtime.bigint() made two BigInts a request. */
    private readonly started: number,
    private readonly showsSource: ((source: string) => boolean) | undefined,
  ) {}

  async didEncounterErrors({ errors, contextValue }: GraphQLRequestContextDidEncounterErrors<Context>): Promise<void> {
    markRequest(errors, contextValue?.requestId);
  }

  async willSendResponse({ response, operationName, errors, contextValue, request, document }: GraphQLRequestContextWillSendResponse<Context>): Promise<void> {
    const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
    // Errors about data that was answered all the same (src/context.ts `notices`), after the execution's own.
    const notices = contextValue?.notices;
    if (body && body.data && notices?.length) body.errors = [...(body.errors ?? []), ...notices.map((e) => e.toJSON())];
    const errs = body?.errors ?? errors ?? [];
    // A request whose client left before its answer is `aborted`, whatever it did meanwhile: no answer reached anyone.
    const outcome = contextValue?.signal?.aborted ? 'aborted' : errs.length === 0 ? 'ok' : body?.data ? 'partial' : 'error';
    // Unresolved (the document failed to parse or validate): the name the client sent or wrote, so a
    // client's query broken by a schema change shows under its own name, not among every anonymous one.
    const operation = this.label(operationName !== undefined ? operationName : (request.operationName ?? soleOperationName(document)));
    const role = contextValue?.viewer?.role ?? 'none';
    const ms = performance.now() - this.started;
    this.metrics.observeRequest(operation, outcome, role, ms / 1e3);
    // The span and the request line name each other: the request id on the span, the trace id (a
    // caller's, also when nothing is recorded here) on the line.
    const span = activeSpan();
    span?.setAttributes({ 'graphql.operation.name': operation, 'c360.role': role, 'c360.outcome': outcome, 'c360.request_id': contextValue?.requestId });
    // What the request cost each source it touched, and how those calls went: on the response, and
    // on the request line, where an operator finds the slow or failing source without a client's help.
    const uses = contextValue?.loaders?.account;
    // Records a source answered that could not be read: its calls answered (ok), so only the answer's errors tell of them.
    const malformed = errs.length ? malformedBySource(errors) : null;
    if (malformed)
      for (const [source, n] of malformed) {
        this.metrics.observeMalformed(source, n);
        if (uses) bookMalformed(uses, source as SourceName);
      }
    const sources = uses?.size ? sourcesExtension(uses) : undefined;
    const shown = sources && this.showsSource ? Object.fromEntries(Object.entries(sources).filter(([source]) => this.showsSource!(source))) : sources;
    if (body && shown && Object.keys(shown).length) body.extensions = { ...body.extensions, sources: shown };
    // The line its context's logger would write (the same bindings: the request id first), without a
    // child logger made for it: `in`, because reading `log` would make the context's (src/context.ts).
    if (contextValue && 'log' in contextValue)
      this.lines.info(
        {
          requestId: contextValue.requestId,
          operation,
          outcome,
          ms,
          errorCodes: errs.length ? [...new Set(errs.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))] : undefined,
          role: contextValue?.viewer?.role,
          sources,
          traceId: traceIdOf(span),
        },
        'graphql request',
      );
  }
}

/** The malformed records (SourceRowError) among a request's errors by source, each once: one record's error reaches every field that read it. */
export function malformedBySource(errors: readonly GraphQLError[] | undefined): Map<string, number> | null {
  let seen: Set<SourceRowError> | null = null;
  let by: Map<string, number> | null = null;
  for (const e of errors ?? []) {
    const row = e instanceof SourceRowError ? e : e.originalError;
    if (!(row instanceof SourceRowError) || seen?.has(row)) continue;
    (seen ??= new Set()).add(row);
    (by ??= new Map()).set(row.sourceName, (by.get(row.sourceName) ?? 0) + 1);
  }
  return by;
}

export interface ApolloOptions {
  metrics: Metrics;
  log: Logger;
  /** Extra plugins (a role's limits and audit). */
  plugins?: ApolloServerPlugin<Context>[];
  /** Apollo's persisted-queries option (a role's safelist). */
  persistedQueries?: ConstructorParameters<typeof ApolloServer<Context>>[0]['persistedQueries'];
  /**
   * The sources whose use `extensions.sources` tells this role of (absent: every one). A source a
   * role is not told of (src/access/role-schema.ts `sourceFields`) is still called where a field it
   * reads needs it (the helpdesk for a golden name), and that call would say the customer has a
   * record there; the request line keeps every source, for operators.
   */
  showsSource?: (source: string) => boolean;
}

export async function createApollo(schema: GraphQLSchema, opts: ApolloOptions) {
  // A role's limits plugin also sets the parser's token limit and a validation rule that refuses oversized documents at their root.
  const limits = (opts.plugins ?? []).find((p): p is LimitsPlugin => 'apolloOptions' in p)?.apolloOptions;
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // The CLI drains HTTP and stops these servers itself on SIGTERM/SIGINT; Apollo's own handlers
    // would stop them and re-raise the signal (process.kill) before the drain could finish.
    stopOnTerminationSignals: false,
    // Every operation carries a key or a token in a header a browser may not send cross-origin without a
    // preflight (which the CORS allowlist answers), so a GET carrying one is no cross-site request forgery.
    csrfPrevention: { requestHeaders: ['x-api-key', 'authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    formatError: formatErrorFor(opts.log),
    plugins: [
      // The IDE is served by src/ide/ from files shipped with the gateway; Apollo's landing page loads from a CDN.
      ApolloServerPluginLandingPageDisabled(),
      // No field carries a cache hint and no response a cache policy: Apollo's default cache-control plugin would wrap every field's resolver for nothing.
      ApolloServerPluginCacheControlDisabled(),
      // In subgraph mode (src/federation/) Apollo would send per-field timings (ftv1) to any caller asking with a header; spans go through OpenTelemetry instead.
      ApolloServerPluginInlineTraceDisabled(),
      observabilityPlugin(opts.metrics, opts.log, opts.showsSource),
      ...(opts.plugins ?? []),
    ],
    ...(opts.persistedQueries ? { persistedQueries: opts.persistedQueries } : {}),
    ...(limits ? { parseOptions: limits.parseOptions, validationRules: limits.validationRules } : {}),
  });
  await apollo.start();
  return apollo;
}
