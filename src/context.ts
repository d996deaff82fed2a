/**
 * The per-request context: built once per request, never mutated by resolvers.
 */
import type { Logger } from './observability/logger';
import { createLoaders, type LoaderDeps, type Loaders } from './loaders';
import type { Config } from './config';
import type { InsightsRuntime } from './insights/runtime';
import type { Stewardship } from './idmap/stewardship';
import type { GraphQLError } from 'graphql';
import type { RequestSignal } from './errors';
import type { CountryCode } from 'libphonenumber-js';
import type { PrincipalKind } from './principal';

export interface Viewer {
  /** Role name from the access policy. */
  role: string;
  /** API key name or token subject (at most MAX_PRINCIPAL_LENGTH characters); never a secret. With `principalKind`, who the caller is (src/principal.ts). */
  principal: string;
  /** How the caller proved who they are (absent for built-in viewers). */
  principalKind?: PrincipalKind;
  /** Teams the caller belongs to, for row scopes (e.g. sales sees its teams' customers). */
  teams?: string[];
}

export interface Context {
  requestId: string;
  viewer: Viewer;
  loaders: Loaders;
  limits: Config['limits'];
  /** The request's logger: its lines carry `requestId`. Made on first use (createContext). */
  log: Logger;
  /** Survivorship, tag and lifecycle rules and the RFM boundary cache (src/insights/runtime.ts). */
  insights: InsightsRuntime;
  /** OneID stewardship (src/idmap/stewardship.ts): the identity mutations and explanations; absent where not served. */
  stewardship?: Stewardship;
  /** BI list evaluations shared by the requests of one export (src/bi/list.ts): it pages through one plan. */
  listEvaluations?: ListEvaluations;
  /** The key timeline cursors are sealed with (src/timeline/cursor.ts); absent: the process's own. */
  timelineCursorKey?: Buffer;
  /** The region a looked-up phone without a country code is read in: the identity rules' `defaultPhoneRegion`, as resolution reads one (absent: CN). */
  phoneRegion?: CountryCode;
  /** Aborted when the client went away (src/errors.ts abortOnClientGone); the loaders and BI plans stop on it. */
  signal?: RequestSignal;
  /**
   * Coded errors about data that was answered all the same (a BI list without the customers a
   * source failed for): the response carries them in `errors` beside the data (src/graphql.ts).
   * The one member of the context resolvers add to.
   */
  notices: GraphQLError[];
}

/** BI list evaluations by (filter, order, viewer); opaque here (src/bi/list.ts fills it). */
export type ListEvaluations = Map<string, Promise<unknown>>;

/** What every request's context is made from: the gateway's parts, the same for each request (Gateway.requestDeps). */
export type ContextDeps = Omit<LoaderDeps, 'orderWindowDays' | 'rfmBoundaries' | 'account'> & {
  limits: Config['limits'];
  log: Logger;
  insights: InsightsRuntime;
  /** A role's own runtime where it differs (survivorship over the systems it is told of); absent: `insights` for every role. */
  insightsFor?: (role: string) => InsightsRuntime;
  stewardship?: Stewardship;
  timelineCursorKey?: Buffer;
  phoneRegion?: CountryCode;
};

/**
 * What the loaders of every context made from one ContextDeps are made from: the same for each
 * request, so made once per ContextDeps (the gateway's `requestDeps`) rather than copied per request.
 */
const loaderDepsMade = new WeakMap<ContextDeps, LoaderDeps>();
function loaderDepsOf(deps: ContextDeps): LoaderDeps {
  let made = loaderDepsMade.get(deps);
  if (!made) {
    const insights = deps.insights;
    made = { ...deps, orderWindowDays: insights.orderWindowDays, rfmBoundaries: (asOf, account) => insights.rfmBoundaries(asOf, account) };
    loaderDepsMade.set(deps, made);
  }
  return made;
}

/** Each context's loaders make an account of their own (`loaders.account`): the source calls made for it, and only those, are booked there. */
export function createContext(deps: ContextDeps, requestId: string, viewer: Viewer, extra: { listEvaluations?: ListEvaluations; signal?: RequestSignal } = {}): Context {
  return new RequestContext(deps, requestId, viewer, createLoaders(loaderDepsOf(deps), extra.signal), extra.listEvaluations, extra.signal);
}

/** The same request's context over other loaders (a BI row scope's own account): copied as Apollo copies a context, so its logger stays. */
export function withLoaders(ctx: Context, loaders: Loaders): Context {
  return Object.assign(Object.create(Object.getPrototypeOf(ctx) as object) as Context, ctx, { loaders });
}

/**
 * One request's context. Its logger is made when something first logs through it: almost no
 * request does (the request line is written without it, src/graphql.ts), and a pino child, with
 * the redaction of its bindings, cost every request ~2.5 KiB of garbage and ~2 µs (bench/HISTORY.md,
 * session 37). A class, not an object with a getter of its own: Apollo copies the context it is
 * given (its own properties onto an object of the same prototype), which would call such a getter.
 */
class RequestContext implements Context {
  readonly limits: Config['limits'];
  readonly insights: InsightsRuntime;
  readonly stewardship: Stewardship | undefined;
  readonly timelineCursorKey: Buffer | undefined;
  readonly phoneRegion: CountryCode | undefined;
  /** The logger the request's is made from. */
  private readonly baseLog: Logger;
  private madeLog: Logger | undefined = undefined;
  readonly notices: GraphQLError[] = [];

  constructor(
    deps: ContextDeps,
    readonly requestId: string,
    readonly viewer: Viewer,
    readonly loaders: Loaders,
    readonly listEvaluations: ListEvaluations | undefined,
    readonly signal: RequestSignal | undefined,
  ) {
    this.limits = deps.limits;
    this.insights = deps.insightsFor?.(viewer.role) ?? deps.insights;
    this.stewardship = deps.stewardship;
    this.timelineCursorKey = deps.timelineCursorKey;
    this.phoneRegion = deps.phoneRegion;
    this.baseLog = deps.log;
  }

  get log(): Logger {
    return (this.madeLog ??= this.baseLog.child({ requestId: this.requestId }));
  }
}
