/**
 * Row scopes: which customers a role may see at all. A customer outside the caller's scope
 * answers exactly as an unknown one: null (or absent from a list), never FORBIDDEN.
 *
 * The check also runs the same rounds whether or not the customer exists: one OneID round
 * (`sourceRecords`) and one round per source whose records have owners (the CRM's contacts), padded with a key that matches nothing
 * when there is nothing real to ask for, so neither the answer, the errors (an outage fails
 * unknown and out-of-scope customers alike) nor the number of source calls tells them apart.
 * Loads go through the request's loaders in one tick: a 200-id `customers` query costs one
 * OneID call and one call per owning source, and the records are cached for the fields that follow.
 */
import type { Context } from '../context';
import { isSourceError } from '../errors';
import { lookupKey } from '../identifiers';
import { matchKeyOf } from '../idmap/rules';
import type { IdentifierRow } from '../idmap/types';
import type { IdentifierKind } from '../vocabulary';
import type { RowScope } from './config';

/** A customer id no customer has; asked for so an empty check makes the same OneID round. */
export const PAD_CUSTOMER_ID = '~c360-scope-pad';
/** A record id no record has; asked for so an empty check makes the same source round. */
export const PAD_RECORD_ID = '~c360-scope-pad';

export type ScopeCheck = (ctx: Context, customerIds: readonly string[]) => Promise<boolean[]>;

/** The check for a scope: answers, per id, whether the caller may see that customer. */
export function scopeCheck(scope: RowScope): ScopeCheck {
  switch (scope.kind) {
    case 'ownerTeam':
      return ownerTeamCheck;
  }
}

async function ownerTeamCheck(ctx: Context, customerIds: readonly string[]): Promise<boolean[]> {
  const teams = new Set(ctx.viewer.teams ?? []);
  const asked = customerIds.length ? customerIds : [PAD_CUSTOMER_ID];
  const records = await ctx.loaders.sourceRecords.loadMany(asked);
  const failed = records.find((r): r is Error => r instanceof Error);
  if (failed) throw failed;
  const owning = ctx.loaders.registry.providing('profile').filter((p) => p.capability.owners);
  const idsBySource = owning.map(({ name }) =>
    (records as Array<Array<{ source: string; recordId: string }>>).map((rs) => rs.filter((r) => r.source === name).map((r) => r.recordId)),
  );
  const owned = await Promise.all(
    owning.map(async ({ name }, s) => {
      const all = idsBySource[s].flat();
      const views = await ctx.loaders.profile(name).loadMany(all.length ? all : [PAD_RECORD_ID]);
      // A source that cannot be reached fails the check, for unknown and known customers alike (the
      // pad key makes the same call); a malformed record just does not match.
      const outage = views.find((v): v is Error => v instanceof Error && !(isSourceError(v) && v.code === 'SOURCE_BAD_RESPONSE'));
      if (outage) throw outage;
      const teamOf = new Map<string, string | null>();
      all.forEach((id, i) => {
        const v = views[i];
        teamOf.set(id, v && !(v instanceof Error) ? (v.ownerTeam ?? null) : null);
      });
      return teamOf;
    }),
  );
  return customerIds.map((_, i) =>
    owning.some((_, s) =>
      idsBySource[s][i].some((id) => {
        const team = owned[s].get(id);
        return team != null && teams.has(team);
      }),
    ),
  );
}

/**
 * For a role told of some systems only (role-schema.ts `sourceTeller`): a customer is one of its
 * customers only if at least one of its records is in a system it is told of. Another answers as
 * an unknown one (null, absent from a list), so the role learns neither that the customer exists
 * nor that only other systems know it. One OneID round, padded as the row scope's.
 */
export function toldOfCheck(told: (source: unknown) => boolean): ScopeCheck {
  return async (ctx, customerIds) => {
    const records = await ctx.loaders.sourceRecords.loadMany(customerIds.length ? customerIds : [PAD_CUSTOMER_ID]);
    const failed = records.find((r): r is Error => r instanceof Error);
    if (failed) throw failed;
    return customerIds.map((_, i) => (records[i] as Array<{ source: string }>).some((r) => told(r.source)));
  };
}

/**
 * For a lookup by an identifier (`customerByIdentifier`), a role told of some systems only: a
 * customer found is one of its only if a record of a system it is told of carries the value (as
 * the lookup matches it, by match key). OneID matches every system's identifiers, and a value only
 * another system holds (a phone only the helpdesk has) would tell the role that system's data; it
 * answers as nobody's value. Implies toldOfCheck (that record is in one of its systems) and takes
 * its one OneID round, the customers' identifiers in place of their records, padded as it is.
 */
export function toldOfHolderCheck(told: (source: unknown) => boolean, args: { kind: IdentifierKind; value: string }): ScopeCheck {
  return async (ctx, customerIds) => {
    const key = lookupKey(args.kind, args.value, ctx.phoneRegion);
    const match = matchKeyOf(key.kind, key.value);
    const held = await ctx.loaders.identifiers.loadMany(customerIds.length ? customerIds : [PAD_CUSTOMER_ID]);
    const failed = held.find((r): r is Error => r instanceof Error);
    if (failed) throw failed;
    return customerIds.map((_, i) => (held[i] as IdentifierRow[]).some((r) => r.kind === key.kind && told(r.source) && matchKeyOf(r.kind, r.value) === match));
  };
}

/** Both checks: a customer either leaves out is not the caller's. Each runs its rounds over every id asked, so neither's calls tell the other's answer. */
export function bothChecks(a: ScopeCheck | null, b: ScopeCheck | null): ScopeCheck | null {
  if (!a || !b) return a ?? b;
  return async (ctx, ids) => {
    const [x, y] = await Promise.all([a(ctx, ids), b(ctx, ids)]);
    return x.map((ok, i) => ok && y[i]);
  };
}
