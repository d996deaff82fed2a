/** Query entry points and the OneID-backed fields of Customer. */
import type { Context } from '../src/context';
import { ambiguousIdentifier, badUserInput } from '../src/errors';
import { lookupKey } from '../src/identifiers';
import type { IdentifierKind, SourceName } from '../src/vocabulary';
import type { GraphQLResolveInfo } from 'graphql';
import { makeReady, readinessOf } from './level';

/** What a Customer resolves from: the surviving unified id. */
export interface CustomerParent {
  id: string;
}

const toParent = (row: { id: string } | null): CustomerParent | null => (row ? { id: row.id } : null);
/** A loaded row as a parent, an error as it is. Made once, not per call: V8 keeps a closure's optimized code only weakly (src/db.ts `bindingsOf`). */
const parentOrError = (r: { id: string } | null | Error): CustomerParent | null | Error => (r instanceof Error ? r : toParent(r));

/**
 * Every entry point below makes the customers it returns ready for their golden fields and order
 * summary before returning them (resolvers/level.ts): one call per source for the level, as the
 * fields would make, and no promise per field or customer. Not under a row scope: its check runs
 * after this resolver returns, and reading sources for customers it then drops would make an
 * out-of-scope customer cost source calls an unknown one does not; there the fields read lazily,
 * for the customers the scope keeps, as before.
 */
async function ready<T extends CustomerParent | Error | null>(ctx: Context, info: GraphQLResolveInfo, customers: T[]): Promise<T[]> {
  const role = ctx.loaders.bi ? ctx.loaders.bi.roleOf(ctx.viewer.role) : { scope: undefined };
  if (!role || role.scope) return customers;
  const readiness = readinessOf(info, ctx.insights.rules.survivorship);
  if (!readiness) return customers;
  const ids: string[] = [];
  for (const c of customers) if (c && !(c instanceof Error)) ids.push(c.id);
  await makeReady(ctx.loaders, ids, readiness);
  return customers;
}

const readyOne = async (ctx: Context, info: GraphQLResolveInfo, customer: CustomerParent | null) => (customer ? (await ready(ctx, info, [customer]))[0] : null);

async function customersCarrying(ctx: Context, kind: IdentifierKind, value: string): Promise<string[]> {
  const ids = await ctx.loaders.customerIdsByIdentifier.load(lookupKey(kind, value, ctx.phoneRegion));
  return [...new Set(ids)];
}

export const customerResolvers = {
  Query: {
    customer: async (_: unknown, { id }: { id: string }, ctx: Context, info: GraphQLResolveInfo) => readyOne(ctx, info, toParent(await ctx.loaders.customer.load(id))),

    customerByIdentifier: async (_: unknown, { kind, value }: { kind: IdentifierKind; value: string }, ctx: Context, info: GraphQLResolveInfo) => {
      const ids = await customersCarrying(ctx, kind, value);
      if (ids.length > 1) throw ambiguousIdentifier(kind, ids.length);
      return ids.length ? readyOne(ctx, info, toParent(await ctx.loaders.customer.load(ids[0]))) : null;
    },

    customersByIdentifier: async (_: unknown, { kind, value }: { kind: IdentifierKind; value: string }, ctx: Context, info: GraphQLResolveInfo) => {
      const ids = await customersCarrying(ctx, kind, value);
      const rows = await ctx.loaders.customer.loadMany(ids);
      return ready(
        ctx,
        info,
        rows.map(parentOrError).filter((r) => r !== null),
      );
    },

    customerBySourceRecord: async (_: unknown, { source, recordId }: { source: SourceName; recordId: string }, ctx: Context, info: GraphQLResolveInfo) => {
      const id = await ctx.loaders.customerIdBySourceRecord.load({ source, recordId });
      return id ? readyOne(ctx, info, toParent(await ctx.loaders.customer.load(id))) : null;
    },

    customers: async (_: unknown, { ids }: { ids: string[] }, ctx: Context, info: GraphQLResolveInfo) => {
      if (ids.length > ctx.limits.maxIds) {
        throw badUserInput(`customers accepts at most ${ctx.limits.maxIds} ids, got ${ids.length}`, { argument: 'ids' });
      }
      const rows = await ctx.loaders.customer.loadMany(ids);
      return ready(ctx, info, rows.map(parentOrError));
    },
  },

  // OneID keeps the records of a source taken out of the config; `SourceName` has no value for it,
  // so they are left out here rather than fail the customer (both lists are non-null).
  Customer: {
    identifiers: async (c: CustomerParent, _: unknown, ctx: Context) =>
      (await ctx.loaders.identifiers.load(c.id))
        .filter((i) => ctx.loaders.registry.get(i.source))
        .map((i) => ({ kind: i.kind, value: i.value, source: i.source, recordId: i.recordId, since: i.validFrom })),
    sourceRecords: async (c: CustomerParent, _: unknown, ctx: Context) =>
      (await ctx.loaders.sourceRecords.load(c.id))
        .filter((r) => ctx.loaders.registry.get(r.source))
        .map((r) => ({ source: r.source, recordId: r.recordId, linkedAt: r.linkedAt })),
  },
};
