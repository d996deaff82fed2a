/** Query entry points and the OneID-backed fields of Customer. */
import type { Context } from '../src/context';
import { ambiguousIdentifier, badUserInput } from '../src/errors';
import { normalizeIdentifier } from '../src/identifiers';
import type { IdentifierKind, SourceName } from '../src/vocabulary';

/** What a Customer resolves from: the surviving unified id. */
export interface CustomerParent {
  id: string;
}

const toParent = (row: { id: string } | null): CustomerParent | null => (row ? { id: row.id } : null);

function normalizedKey(kind: IdentifierKind, value: string) {
  const normalized = normalizeIdentifier(kind, value);
  if (normalized === null) throw badUserInput(`value is not a valid ${kind} identifier`, { argument: 'value', kind });
  return { kind, value: normalized };
}

async function customersCarrying(ctx: Context, kind: IdentifierKind, value: string): Promise<string[]> {
  const ids = await ctx.loaders.customerIdsByIdentifier.load(normalizedKey(kind, value));
  return [...new Set(ids)];
}

export const customerResolvers = {
  Query: {
    customer: async (_: unknown, { id }: { id: string }, ctx: Context) => toParent(await ctx.loaders.customer.load(id)),

    customerByIdentifier: async (_: unknown, { kind, value }: { kind: IdentifierKind; value: string }, ctx: Context) => {
      const ids = await customersCarrying(ctx, kind, value);
      if (ids.length > 1) throw ambiguousIdentifier(kind, ids.length);
      return ids.length ? toParent(await ctx.loaders.customer.load(ids[0])) : null;
    },

    customersByIdentifier: async (_: unknown, { kind, value }: { kind: IdentifierKind; value: string }, ctx: Context) => {
      const ids = await customersCarrying(ctx, kind, value);
      const rows = await ctx.loaders.customer.loadMany(ids);
      return rows.map((r) => (r instanceof Error ? r : toParent(r))).filter((r) => r !== null);
    },

    customerBySourceRecord: async (_: unknown, { source, recordId }: { source: SourceName; recordId: string }, ctx: Context) => {
      const id = await ctx.loaders.customerIdBySourceRecord.load({ source, recordId });
      return id ? toParent(await ctx.loaders.customer.load(id)) : null;
    },

    customers: async (_: unknown, { ids }: { ids: string[] }, ctx: Context) => {
      if (ids.length > ctx.limits.maxIds) {
        throw badUserInput(`customers accepts at most ${ctx.limits.maxIds} ids, got ${ids.length}`, { argument: 'ids' });
      }
      const rows = await ctx.loaders.customer.loadMany(ids);
      return rows.map((r) => (r instanceof Error ? r : toParent(r)));
    },
  },

  Customer: {
    identifiers: async (c: CustomerParent, _: unknown, ctx: Context) =>
      (await ctx.loaders.identifiers.load(c.id)).map((i) => ({ kind: i.kind, value: i.value, source: i.source, recordId: i.recordId, since: i.validFrom })),
    sourceRecords: async (c: CustomerParent, _: unknown, ctx: Context) =>
      (await ctx.loaders.sourceRecords.load(c.id)).map((r) => ({ source: r.source, recordId: r.recordId, linkedAt: r.linkedAt })),
  },
};
