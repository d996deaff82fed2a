/**
 * `/graphql/stream`: the change feed over Server-Sent Events, GraphQL over SSE (graphql-sse's
 * handler, distinct-connection mode: one subscription per request, as `curl -N` or EventSource
 * open it). Subscriptions only: queries and mutations stay on /graphql with Apollo.
 *
 * Before any GraphQL work, as on /graphql: credentials (API key or JWT), the role's schema (a role
 * the policy grants no Subscription is refused, 403 FORBIDDEN), the principal's request rate, and a
 * cap on the streams it holds open (429 RATE_LIMITED, `limit: "maxSubscriptions"`). Then the
 * role's token, size, depth and cost limits. Each change is executed on its own per-request context
 * (fresh loaders, the role's masks and row scope, the audit of unmasked personal fields).
 */
import type http from 'node:http';
import crypto from 'node:crypto';
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { createHandler, type OperationArgs, type Request as SseRequest, type Response as SseResponse } from 'graphql-sse';
import type { Gateway } from '../gateway';
import { createContext, type Context, type Viewer } from '../context';
import { beginAudit } from '../access/audit';
import { checkLimits, checkDocumentLimits, documentLimitsRule, measureDocument, measureOperation, notPersisted } from '../access/limits';
import { scopeCheck } from '../access/row-scope';
import type { Admission } from '../access/rate-limit';
import { formatErrorFor, malformedBySource, markRequest } from '../graphql';
import { createRepeatFilter } from '../observability/repeats';
import { safeError } from '../observability/scrub';
import { badUserInput, bounded, changesMissed } from '../errors';
import { bindFeed } from './binding';
import { Flow, type Delivery, type MissedDelivery, type ScopeFilter } from './hub';
import { FeedPositionError } from './replay';
import type { CustomerChange, CustomerChangeKind } from './changes';

export const STREAM_PATH = '/graphql/stream';

/** What the stream handler knows of one request, passed through graphql-sse as its request context. */
interface StreamState {
  viewer: Viewer;
  schema: GraphQLSchema;
  requestId: string;
  flow: Flow;
  /** The stream's subscription, once open: ending it completes the stream (the client sees `complete`). */
  subscription?: AsyncIterator<Delivery | MissedDelivery>;
  /** The SSE event id of each result handed to graphql-sse, in order, until its `next` event is written. */
  eventIds: string[];
}

type OpContext = Record<PropertyKey, unknown>;

/**
 * A stream's events are a role's view of customers, as a /graphql answer is: no cache may keep
 * them (`no-store`, not graphql-sse's `no-cache`, which lets a cache store and revalidate). Every
 * answer of the route says it, refusals included.
 */
const NO_STORE = { 'cache-control': 'no-store' } as const;

/** graphql-sse's headers for an answer, its cache-control replaced by ours. */
const ownHeaders = (headers: Record<string, string> | undefined): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => k.toLowerCase() !== 'cache-control')),
  ...NO_STORE,
});

const json = (res: http.ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers, ...NO_STORE });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code, ...extra } }] }));
};

const asResponse = (status: number, errors: readonly GraphQLError[] | Array<{ message: string; extensions: Record<string, unknown> }>): SseResponse => [
  JSON.stringify({
    errors: errors.map((e) => {
      const { http: _http, ...extensions } = (e.extensions ?? {}) as Record<string, unknown>;
      return { message: e.message, extensions };
    }),
  }),
  { status, statusText: status === 400 ? 'Bad Request' : 'Error', headers: { 'content-type': 'application/json; charset=utf-8' } },
];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Why a request's GraphQL parameters (a GET's search parameters, a POST's JSON body) cannot be
 * read, in our words, or null when they can. graphql-sse refuses the same requests, but with no
 * code and its own or the JSON parser's text.
 */
function paramsRefusal(req: http.IncomingMessage, url: URL, body: string | undefined): { status: number; message: string } | null {
  const refuse = (message: string, status = 400) => ({ status, message });
  let params: Record<string, unknown>;
  if (req.method === 'GET') {
    params = { query: url.searchParams.get('query') ?? undefined, operationName: url.searchParams.get('operationName') ?? undefined };
    for (const name of ['variables', 'extensions']) {
      const raw = url.searchParams.get(name);
      if (!raw) continue;
      try {
        params[name] = JSON.parse(raw);
      } catch {
        return refuse(`the ${name} search parameter is not valid JSON`);
      }
    }
  } else {
    if (!body?.trim()) return refuse('send the subscription in a JSON body: {"query": "subscription { … }"}');
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch {
      return refuse('request body is not valid JSON');
    }
    if (!isObject(data)) return refuse('request body must be a JSON object');
    params = data;
  }
  if (params.query === undefined || params.query === null) return refuse(`send the subscription as "query"${req.method === 'GET' ? ' (a search parameter)' : ''}`);
  if (typeof params.query !== 'string') return refuse('"query" must be a string');
  if (params.operationName != null && typeof params.operationName !== 'string') return refuse('"operationName" must be a string');
  for (const name of ['variables', 'extensions']) if (params[name] != null && !isObject(params[name])) return refuse(`"${name}" must be a JSON object`);
  return null;
}

/** Whether every error of a refusal's body carries a code (ours do; graphql-sse's own do not). */
function coded(body: string | null): boolean {
  try {
    const errors = (JSON.parse(body ?? '') as { errors?: Array<{ extensions?: { code?: unknown } }> }).errors;
    return !!errors?.length && errors.every((e) => typeof e.extensions?.code === 'string');
  } catch {
    return false;
  }
}

export interface StreamRoute {
  (req: http.IncomingMessage, res: http.ServerResponse, url: URL, readBody: () => Promise<Buffer>): Promise<boolean>;
  /** Ends every open stream (each completes its subscription) and refuses new ones: the server's drain calls it. */
  endAll(): void;
  /** Streams open now. */
  open(): number;
}

export function streamRoute(gw: Gateway, admit: (viewer: Viewer) => Admission): StreamRoute {
  const format = formatErrorFor(gw.log);
  const streams = new Set<{ end(): void }>();
  const perPrincipal = new Map<string, number>();
  /** The subscribe option sees only the operation's arguments: the stream's state is found from its context. */
  const stateOf = new WeakMap<object, StreamState>();
  let draining = false;
  const max = gw.feed.options.maxSubscriptionsPerPrincipal;

  const contextFor = (viewer: Viewer, requestId: string): Context => createContext(gw.requestDeps, requestId, viewer);
  // A source's malformed records met by changes' selections: one line per source every 10 s, every one counted.
  const malformedLines = createRepeatFilter();

  const scopeFor = (viewer: Viewer, requestId: string): ScopeFilter | undefined => {
    const rowScope = gw.access.policy.roles.get(viewer.role)?.rowScope;
    if (!rowScope) return undefined;
    const check = scopeCheck(rowScope);
    return async (changes: readonly CustomerChange[]) => {
      const ids = [...new Set(changes.flatMap((c) => (c.otherCustomerId ? [c.customerId, c.otherCustomerId] : [c.customerId])))];
      const allowed = await check(contextFor(viewer, requestId), ids);
      const visible = new Set(ids.filter((_, i) => allowed[i]));
      // A customer merged into a visible one has no records of its own any more, and its id answers as the survivor: it is shown.
      return changes.map((c) => {
        const customer = visible.has(c.customerId);
        return { customer, other: !!c.otherCustomerId && (visible.has(c.otherCustomerId) || (customer && c.kind === 'MERGED')) };
      });
    };
  };

  /** One change as the subscriber's result: executed on a fresh per-request context, audited like a response. */
  const executeChange = async (args: ExecutionArgs, state: StreamState, delivery: Delivery | MissedDelivery): Promise<ExecutionResult> => {
    if ('missed' in delivery) return { data: null, errors: [changesMissed({})] };
    const ctx = contextFor(state.viewer, state.requestId);
    const collector = beginAudit(ctx, gw.access.auditLog);
    let result = (await execute({ ...args, rootValue: delivery.change, contextValue: ctx })) as ExecutionResult;
    // Counted as a /graphql answer counts them (src/graphql.ts): each record once per change delivered.
    const malformed = result.errors?.length ? malformedBySource(result.errors) : null;
    if (malformed)
      for (const [source, records] of malformed) {
        gw.metrics.observeMalformed(source, records);
        const { log, suppressed } = malformedLines.admit(source);
        if (log)
          gw.log.warn(
            { requestId: state.requestId, source, records, ...(suppressed ? { repeatedSinceLastLog: suppressed } : {}) },
            'change feed: records a source answered could not be read (answered null with SOURCE_BAD_RESPONSE)',
          );
      }
    if (!collector.isEmpty) {
      try {
        await gw.access.auditLog.record(
          collector.entries({ viewer: state.viewer, requestId: state.requestId, operationName: args.operationName ?? null, at: new Date().toISOString() }),
        );
      } catch (e) {
        gw.log.error({ requestId: state.requestId, err: safeError(e) }, 'access audit write failed; change feed data withheld');
        result = {
          data: null,
          errors: [new GraphQLError('The access audit could not be written; the data was withheld', { extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } })],
        };
      }
    }
    return delivery.dropped ? { ...result, extensions: { ...result.extensions, dropped: delivery.dropped } } : result;
  };

  /** graphql-js's subscribe, with each event executed on its own context (graphql-js would reuse the subscription's). */
  const subscribe = async (args: OperationArgs<OpContext>, state: StreamState) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source as ExecutionResult;
    const it = (source as AsyncIterable<Delivery | MissedDelivery>)[Symbol.asyncIterator]() as AsyncIterator<Delivery | MissedDelivery>;
    const mapped: AsyncGenerator<ExecutionResult> = {
      async next() {
        const n = await it.next();
        if (n.done) return { done: true, value: undefined };
        // Its event id: where the reader stands once it has this result, whatever the result says.
        state.eventIds.push(await gw.feed.eventId('missed' in n.value ? n.value.position : n.value.change.position));
        try {
          return { done: false, value: await executeChange(args, state, n.value) };
        } catch (e) {
          gw.log.error({ requestId: state.requestId, err: safeError(e) }, 'change feed: a change could not be executed');
          return { done: false, value: { errors: [new GraphQLError('Unexpected error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] } };
        }
      },
      // Not an async generator function: one blocked in `await it.next()` would not return until the next change.
      async return() {
        await it.return?.();
        return { done: true, value: undefined };
      },
      async throw(e) {
        await it.return?.();
        throw e;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return mapped;
  };

  const handler = createHandler<http.IncomingMessage, StreamState, OpContext>({
    // Distinct connections only: no reservation tokens (the single-connection mode's PUT/DELETE).
    authenticate: () => null,
    onSubscribe(req, params) {
      const { schema, viewer, requestId, flow } = req.context;
      const role = gw.access.policy.roles.get(viewer.role)!;
      const limits = role.limits;
      let document: DocumentNode;
      try {
        document = parse(params.query, { maxTokens: limits.maxTokens });
      } catch (e) {
        const tooMany = /token limit/i.test((e as Error).message);
        return asResponse(400, [
          tooMany
            ? { message: `Document exceeds ${limits.maxTokens} tokens`, extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'maxTokens', max: limits.maxTokens } }
            : { message: (e as Error).message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } },
        ]);
      }
      const sizeError = checkDocumentLimits(measureDocument(document), limits);
      if (sizeError) return asResponse(400, [sizeError]);
      const operation = getOperationAST(document, params.operationName);
      if (!operation) return asResponse(400, [{ message: 'Name the operation to run (operationName)', extensions: { code: 'BAD_REQUEST' } }]);
      if (operation.operation !== 'subscription')
        return asResponse(400, [{ message: `${STREAM_PATH} serves subscriptions; send queries and mutations to /graphql`, extensions: { code: 'BAD_REQUEST' } }]);
      const errors = validate(schema, document, [...specifiedRules, documentLimitsRule(limits)]);
      if (errors.length)
        return asResponse(
          400,
          errors.map((e) => new GraphQLError(e.message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })),
        );
      // A persisted-only role runs only the safelist's documents, as written: here as on /graphql (limits.ts).
      if (role.persistedOnly && gw.access.policy.safelist.get(crypto.createHash('sha256').update(params.query).digest('hex')) !== params.query)
        return asResponse(403, [notPersisted()]);
      const variables = (params.variables ?? {}) as Record<string, unknown>;
      // Before the stream opens, as /graphql does before executing: a variable of the wrong type is the client's mistake.
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
      if (coerced.errors)
        return asResponse(
          400,
          coerced.errors.map((e) => ({ message: bounded(e.message), extensions: { code: 'BAD_USER_INPUT' } })),
        );
      const tooComplex = checkLimits(measureOperation(schema, document, operation, variables, limits.defaultListSize), limits, gw.config.limits.maxIds);
      if (tooComplex) return asResponse(400, [tooComplex]);

      const contextValue = contextFor(viewer, requestId);
      stateOf.set(contextValue, req.context);
      const scope = scopeFor(viewer, requestId);
      const teller = gw.access.tellerOf(viewer.role);
      // What EventSource sends by itself on a reconnect is newer than the `after` its URL was opened with.
      const lastEventId = ([] as string[]).concat(req.raw.headers['last-event-id'] ?? []).join(',') || undefined;
      bindFeed(contextValue, {
        subscribe: async ({ ids, kinds, after }) => {
          try {
            return (req.context.subscription = await gw.feed.subscribe({
              filter: {
                ...(ids ? { ids: new Set(ids) } : {}),
                ...(kinds ? { kinds: new Set<CustomerChangeKind>(kinds) } : {}),
                ...(teller.all ? {} : { sources: teller.told }),
              },
              scope,
              flow,
              after: lastEventId ?? after ?? undefined,
            }));
          } catch (e) {
            if (e instanceof FeedPositionError) throw badUserInput(e.message);
            throw e;
          }
        },
      });
      return { schema, document, operationName: params.operationName, variableValues: variables, contextValue: contextValue as unknown as OpContext };
    },
    subscribe: (args) => subscribe(args, stateOf.get(args.contextValue as object)!),
    onNext: (_ctx, req, result) => {
      if (!result.errors?.length) return undefined;
      markRequest(result.errors, req.context.requestId);
      return { ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) as never };
    },
  });

  const route = (async (req, res, url, readBody) => {
    if (url.pathname !== STREAM_PATH) return false;
    if (draining) {
      json(res, 503, 'SHUTTING_DOWN', 'the gateway is shutting down; reconnect to another instance', {}, { 'retry-after': '1' });
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      json(res, 405, 'BAD_REQUEST', 'use GET or POST', {}, { allow: 'GET, POST' });
      return true;
    }
    // GraphQL over HTTP: a POST body is JSON, and says so (as on /graphql).
    if (req.method === 'POST' && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      json(res, 415, 'BAD_REQUEST', 'send the request body as application/json');
      return true;
    }
    if (!/(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(req.headers.accept ?? '')) {
      json(res, 406, 'BAD_REQUEST', `${STREAM_PATH} streams Server-Sent Events: send accept: text/event-stream`);
      return true;
    }
    const viewer = await gw.access.authenticate(req);
    const schema = viewer && gw.access.schemas.get(viewer.role);
    if (!viewer || !schema) {
      json(res, 401, 'UNAUTHENTICATED', 'Missing or invalid credentials');
      return true;
    }
    // Deny by default: a role the policy grants no Subscription has none in its schema.
    if (!schema.getSubscriptionType()) {
      json(res, 403, 'FORBIDDEN', `the role ${viewer.role} has no change feed`);
      return true;
    }
    const admission = admit(viewer);
    if (!admission.ok) {
      json(
        res,
        429,
        'RATE_LIMITED',
        admission.message,
        { limit: admission.limit, max: admission.max, retryAfterSeconds: admission.retryAfterSeconds },
        { 'retry-after': String(admission.retryAfterSeconds) },
      );
      return true;
    }
    const principal = `${viewer.principalKind ?? 'other'}:${viewer.principal}`;
    const holding = perPrincipal.get(principal) ?? 0;
    if (holding >= max) {
      admission.release();
      json(
        res,
        429,
        'RATE_LIMITED',
        `Too many open streams: this principal may hold ${max} at once`,
        { limit: 'maxSubscriptions', max, retryAfterSeconds: 1 },
        { 'retry-after': '1' },
      );
      return true;
    }
    perPrincipal.set(principal, holding + 1);
    const flow = new Flow();
    const requestId = String(res.getHeader('x-request-id') ?? crypto.randomUUID());
    const state: StreamState = { viewer, schema, requestId, flow, eventIds: [] };
    let stream: { end(): void } | undefined;
    try {
      let body: string | undefined;
      try {
        if (req.method === 'POST') body = (await readBody()).toString('utf8');
      } catch {
        // readBody answered its own 413, or the client left mid-upload: nothing to stream, and the place is given back below.
        return true;
      }
      const refused = paramsRefusal(req, url, body);
      if (refused) {
        json(res, refused.status, 'BAD_REQUEST', refused.message);
        return true;
      }
      const sseRequest: SseRequest<http.IncomingMessage, StreamState> = {
        method: req.method,
        url: req.url ?? STREAM_PATH,
        // graphql-sse compares the accept header exactly; it was checked above.
        headers: { get: (key) => (key === 'accept' ? 'text/event-stream' : ([] as string[]).concat(req.headers[key.toLowerCase()] ?? []).join(', ') || undefined) },
        body: body ?? null,
        raw: req,
        context: state,
      };
      const [out, init] = await handler(sseRequest);
      // The request-rate admission is for opening the stream; an open stream holds only its place under maxSubscriptions.
      admission.release();
      if (!out || typeof out === 'string') {
        // Every refusal is coded: one of graphql-sse's own that the checks above did not foresee is told in general terms.
        if (init.status >= 400 && !coded(out)) json(res, init.status, 'BAD_REQUEST', `${STREAM_PATH} could not read the request as a GraphQL subscription`, {}, init.headers);
        else {
          res.writeHead(init.status, ownHeaders(init.headers));
          res.end(out ?? undefined);
        }
        return true;
      }
      res.writeHead(init.status, ownHeaders(init.headers));
      stream = { end: () => void (state.subscription ?? out).return?.(undefined) };
      streams.add(stream);
      res.once('close', () => void out.return(undefined));
      for await (let message of out) {
        if (!res.writable) break;
        // graphql-sse writes no SSE id: each `next` of a change gets its own, after the event line (clients match `event: next` first).
        const eventId = message.startsWith('event: next') ? state.eventIds.shift() : undefined;
        if (eventId) message = message.replace('\n', `\nid: ${eventId}\n`);
        const ok = await new Promise<boolean>((resolve) => {
          const settle = (written: boolean) => {
            clearTimeout(stalled);
            res.off('close', gone);
            resolve(written);
          };
          // A write made after the connection was destroyed but before the response's 'close' never calls
          // back (Node drops it): a server closed at once, then its gateway, writes each stream's `complete`
          // just then. The close ends the wait; the stall timer would otherwise hold the stream's place,
          // and the process, for stallTimeoutMs, then report a reader long gone as stalled.
          const gone = () => settle(false);
          const stalled = setTimeout(() => {
            gw.log.warn({ requestId, stallTimeoutMs: gw.feed.options.stallTimeoutMs }, 'change feed: the reader took nothing for too long; disconnected');
            res.destroy();
            settle(false);
          }, gw.feed.options.stallTimeoutMs);
          res.once('close', gone);
          res.write(message, (err) => settle(!err));
        });
        if (message.startsWith('event: next')) flow.written();
        if (!ok) break;
      }
      res.end();
    } catch (e) {
      gw.log.error({ requestId, err: safeError(e) }, 'change feed stream failed');
      if (!res.headersSent) json(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error');
      else res.end();
    } finally {
      admission.release();
      if (stream) streams.delete(stream);
      const n = (perPrincipal.get(principal) ?? 1) - 1;
      if (n > 0) perPrincipal.set(principal, n);
      else perPrincipal.delete(principal);
    }
    return true;
  }) as StreamRoute;

  route.endAll = () => {
    draining = true;
    for (const s of streams) s.end();
  };
  route.open = () => streams.size;
  return route;
}
