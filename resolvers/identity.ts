/**
 * OneID for people: the link history of a customer, why two customers or records are one, the
 * review queue, and the stewardship mutations (src/idmap/stewardship.ts). The role schemas
 * keep all but `Customer.linkHistory` for admin alone (config/access.json).
 */
import { GraphQLScalarType, Kind, valueFromASTUntyped, type ValueNode } from 'graphql';
import type { Context } from '../src/context';
import { SourceError, sourceNotConfigured } from '../src/errors';
import { MAX_CANDIDATE_PAGE, stewardActor, type CandidateOrder, type CandidateView, type StewardshipOutcome } from '../src/idmap/stewardship';
import type { CandidateReason, CandidateStatus, DecisionVerdict } from '../src/idmap/tables';
import type { LinkAction, LinkEvent, SourceRecordKey } from '../src/idmap/types';
import { IDENTIFIER_KINDS, type IdentifierKind } from '../src/vocabulary';
import type { CustomerParent } from './customer';
import { boundedFirst } from './args';

/** Most events `linkHistory` answers (the history loader reads this many per customer). */
const MAX_HISTORY = 100;

const stewardship = (ctx: Context) => {
  if (!ctx.stewardship) throw new SourceError('oneid', 'SOURCE_UNAVAILABLE', 'oneid: stewardship is not served by this server');
  return ctx.stewardship;
};
const actor = (ctx: Context) => stewardActor(ctx.viewer);
const toParent = (row: { id: string } | null): CustomerParent | null => (row ? { id: row.id } : null);

/** Any JSON value out; any JSON value in (not used as input today). */
export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value, as recorded.',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: (ast: ValueNode, variables) => (ast.kind === Kind.NULL ? null : valueFromASTUntyped(ast, variables)),
});

/**
 * A recorded source name for `SourceName`: OneID's history outlives the config, and the enum has no
 * value for a source taken out of it, so such a name is a coded error on this field alone (the
 * event or record stays readable, `sourceName` names it), not an internal error.
 */
function configuredSource(source: string | null, ctx: Context): string | null {
  if (source === null || ctx.loaders.registry.get(source)) return source;
  throw sourceNotConfigured(source);
}

interface RecordArgs {
  a: SourceRecordKey;
  b: SourceRecordKey;
  reason: string;
}

export const identityResolvers = {
  JSON: JSONScalar,

  Customer: {
    linkHistory: async (c: CustomerParent, args: { first?: number | null }, ctx: Context) =>
      (await ctx.loaders.linkEvents.load(c.id)).slice(0, boundedFirst(args.first, MAX_HISTORY)),
  },

  Query: {
    whyLinked: (_: unknown, { a, b }: { a: string; b: string }, ctx: Context) => stewardship(ctx).whyLinked(a, b),
    whyRecordsLinked: (_: unknown, { a, b }: Omit<RecordArgs, 'reason'>, ctx: Context) => stewardship(ctx).whyRecordsLinked(a, b),
    mergeCandidates: (
      _: unknown,
      args: { status?: CandidateStatus | null; reason?: CandidateReason | null; orderBy?: CandidateOrder | null; first?: number | null; after?: string | null },
      ctx: Context,
    ) =>
      stewardship(ctx).mergeCandidates({
        status: args.status ?? null,
        reason: args.reason ?? null,
        order: args.orderBy ?? null,
        first: boundedFirst(args.first, MAX_CANDIDATE_PAGE),
        after: args.after ?? null,
      }),
  },

  Mutation: {
    linkRecords: (_: unknown, { a, b, reason }: RecordArgs, ctx: Context) => stewardship(ctx).linkRecords({ a, b, reason, actor: actor(ctx) }),
    unlinkRecord: (_: unknown, { record, reason }: { record: SourceRecordKey; reason: string }, ctx: Context) =>
      stewardship(ctx).unlinkRecord({ record, reason, actor: actor(ctx) }),
    mergeCustomers: (_: unknown, args: { survivorId: string; mergedId: string; reason: string }, ctx: Context) =>
      stewardship(ctx).mergeCustomers({ ...args, actor: actor(ctx) }),
    splitCustomer: (_: unknown, args: { mergedId: string; reason: string }, ctx: Context) => stewardship(ctx).splitCustomer({ ...args, actor: actor(ctx) }),
    resolveCandidate: (_: unknown, args: { id: string; decision: DecisionVerdict; reason: string }, ctx: Context) =>
      stewardship(ctx).resolveCandidate({ id: args.id, verdict: args.decision, reason: args.reason, actor: actor(ctx) }),
  },

  LinkEvent: {
    source: (e: LinkEvent, _: unknown, ctx: Context) => configuredSource(e.source, ctx),
    sourceName: (e: LinkEvent) => e.source,
    identifierKind: (e: LinkEvent) => {
      const kind = e.evidence?.kind;
      return typeof kind === 'string' && (IDENTIFIER_KINDS as readonly string[]).includes(kind) ? (kind as IdentifierKind) : null;
    },
  },

  SourceRecordRef: {
    source: (r: SourceRecordKey, _: unknown, ctx: Context) => configuredSource(r.source, ctx),
    sourceName: (r: SourceRecordKey) => r.source,
  },

  MergeCandidate: {
    matchWeight: (c: CandidateView) => c.matchWeight,
    customerIds: (c: CandidateView) => [c.customerId, c.otherCustomerId].filter((id): id is string => !!id),
    customers: async (c: CandidateView, _: unknown, ctx: Context) => {
      const rows = await ctx.loaders.customer.loadMany([c.customerId, c.otherCustomerId].filter((id): id is string => !!id));
      const ids = [...new Set(rows.map((r) => (r instanceof Error ? null : (r?.id ?? null))).filter((id): id is string => !!id))];
      return ids.map((id) => ({ id }));
    },
  },

  StewardshipResult: {
    customer: async (r: StewardshipOutcome, _: unknown, ctx: Context) => (r.customerId ? toParent(await ctx.loaders.customer.load(r.customerId)) : null),
  },

  LinkAction: {
    CREATE: 'create',
    LINK: 'link',
    UNLINK: 'unlink',
    MERGE: 'merge',
    SPLIT: 'split',
    BIND: 'bind',
    UNBIND: 'unbind',
    CANDIDATE: 'candidate',
    DECISION: 'decision',
  } satisfies Record<string, LinkAction>,
  CandidateStatus: { OPEN: 'open', ACCEPTED: 'accepted', REJECTED: 'rejected', SUPERSEDED: 'superseded' } satisfies Record<string, CandidateStatus>,
  CandidateReason: { BLOCKED: 'blocked', OVER_SHARED: 'over_shared', CONFLICT: 'conflict', ORPHAN: 'orphan', PROBABLE: 'probable' } satisfies Record<string, CandidateReason>,
  CandidateOrder: { OLDEST: 'oldest', STRONGEST: 'strongest' } satisfies Record<string, CandidateOrder>,
  CandidateDecision: { ACCEPT: 'same', REJECT: 'different' } satisfies Record<string, DecisionVerdict>,
};
