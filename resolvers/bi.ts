/** BI lists and segments: thin over the filter planner (src/bi/). */
import { GraphQLScalarType, Kind, responsePathAsArray, type GraphQLResolveInfo, type ValueNode } from 'graphql';
import type { Context } from '../src/context';
import { badUserInput } from '../src/errors';
import type { CustomerOrder, CustomerPage } from '../src/bi/connection';
import { asFieldError, biOf, checkedFilter, countCustomers, insightNamesOf, listCustomers, noteUndecided, readableFilter, type ListArgs as PlanArgs } from '../src/bi/list';
import { checkSegmentText, createdByCaller, creatorFor, principalOf, segmentOwner } from '../src/bi/segments';
import type { SegmentRow } from '../src/idmap/bi-store';

/** A JSON literal as a plain value (a filter written inline in the query). */
function literal(node: ValueNode, variables?: Record<string, unknown> | null): unknown {
  switch (node.kind) {
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literal(f.value, variables)]));
    case Kind.LIST:
      return node.values.map((v) => literal(v, variables));
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.NULL:
      return null;
    case Kind.VARIABLE:
      return variables?.[node.name.value];
  }
}

/** Any JSON in and out; the grammar is checked by the planner's parser, which names the field at fault. */
export const CustomerFilterScalar = new GraphQLScalarType({
  name: 'CustomerFilter',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: (node, variables) => literal(node, variables),
});

/** The page as a connection; customers it could not decide are said beside it, at its path. */
function connection(page: CustomerPage, ctx: Context, info: GraphQLResolveInfo) {
  noteUndecided(ctx, page.undecided, responsePathAsArray(info.path));
  return shape(page);
}

/** Lists a page for `args`. */
const list = async (ctx: Context, info: GraphQLResolveInfo, args: PlanArgs, filterPath?: string) =>
  connection(await listCustomers(ctx, info.schema, args, filterPath), ctx, info);

const shape = (page: CustomerPage) => ({
  edges: page.ids.map((id, i) => ({ cursor: page.cursors[i], node: { id } })),
  pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors[page.cursors.length - 1] ?? null },
  totalCount: () => page.totalCount(),
  plan: () => ({ reused: false, ...page.plan() }),
});

interface ListArgs {
  first?: number | null;
  after?: string | null;
  filter?: unknown;
  orderBy?: CustomerOrder | null;
}

const SEGMENT_NAME = /^[a-z][a-z0-9_]{0,63}$/;

function checkName(name: string, argument: string) {
  if (!SEGMENT_NAME.test(name)) throw badUserInput(`${argument}: a segment name is lower snake case, 1 to 64 characters (e.g. vip_shanghai)`, { field: argument });
}

export const biResolvers = {
  CustomerFilter: CustomerFilterScalar,
  Query: {
    customersConnection: (_: unknown, args: ListArgs, ctx: Context, info: GraphQLResolveInfo) => list(ctx, info, args),
    segments: (_: unknown, __: unknown, ctx: Context) => biOf(ctx).store.segments(),
    segment: (_: unknown, { name }: { name: string }, ctx: Context) => biOf(ctx).store.segment(name),
  },
  Segment: {
    createdBy: (s: SegmentRow, _: unknown, ctx: Context) => creatorFor(ctx, s),
    createdByYou: (s: SegmentRow, _: unknown, ctx: Context) => createdByCaller(ctx, s),
    filter: (s: SegmentRow, _: unknown, __: Context, info: GraphQLResolveInfo) => readableFilter(s.filter, info.schema, `segment(${s.name}).filter`),
    size: async (s: SegmentRow, _: unknown, ctx: Context, info: GraphQLResolveInfo) => {
      const { count: n, undecided } = await asFieldError(() => countCustomers(ctx, info.schema, s.filter, `segment(${s.name}).filter`));
      noteUndecided(ctx, undecided, responsePathAsArray(info.path));
      // Unscoped sizes are the segment's own (a size missing undecided customers is not); a row-scoped role's is only its share.
      if (!undecided.length && !biOf(ctx).roleOf(ctx.viewer.role)?.scope) await biOf(ctx).store.noteSegmentSize(s.name, n, ctx.loaders.now);
      return n;
    },
    computedAt: (_: SegmentRow, __: unknown, ctx: Context) => ctx.loaders.now,
    customers: (s: SegmentRow, args: ListArgs, ctx: Context, info: GraphQLResolveInfo) =>
      asFieldError(() => list(ctx, info, { ...args, filter: s.filter }, `segment(${s.name}).filter`)),
  },
  Mutation: {
    createSegment: async (_: unknown, { input }: { input: { name: string; description?: string | null; filter: unknown } }, ctx: Context, info: GraphQLResolveInfo) => {
      checkName(input.name, 'input.name');
      checkSegmentText('input', input.description, input.filter);
      checkedFilter(input.filter, info.schema, 'input.filter', insightNamesOf(ctx));
      return biOf(ctx).store.createSegment({ name: input.name, description: input.description ?? null, filter: input.filter, actor: principalOf(ctx) });
    },
    updateSegment: async (_: unknown, { name, patch }: { name: string; patch: { description?: string | null; filter?: unknown } }, ctx: Context, info: GraphQLResolveInfo) => {
      checkSegmentText('patch', patch.description, patch.filter ?? undefined);
      if (patch.filter !== undefined) checkedFilter(patch.filter, info.schema, 'patch.filter', insightNamesOf(ctx));
      const createdBy = segmentOwner(ctx);
      return biOf(ctx).store.updateSegment({ name, description: patch.description, filter: patch.filter ?? undefined, actor: principalOf(ctx), createdBy });
    },
    deleteSegment: async (_: unknown, { name }: { name: string }, ctx: Context) => {
      return biOf(ctx).store.deleteSegment(name, segmentOwner(ctx));
    },
  },
};
