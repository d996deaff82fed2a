/**
 * Row scopes: which customers a role may see at all. A customer outside the caller's scope
 * answers exactly as an unknown one: null (or absent from a list), never FORBIDDEN.
 *
 * The check also runs the same rounds whether or not the customer exists: one OneID round
 * (`sourceRecords`) and one CRM round (`crmContact`), padded with a key that matches nothing
 * when there is nothing real to ask for, so neither the answer, the errors (a CRM outage fails
 * unknown and out-of-scope customers alike) nor the number of source calls tells them apart.
 * Loads go through the request's loaders in one tick: a 200-id `customers` query costs one
 * OneID call and one CRM call, and the contacts are cached for the fields that follow.
 */
import type { Context } from '../context';
import { isSourceError } from '../errors';
import type { RowScope } from './config';

/** A customer id no customer has; asked for so an empty check makes the same OneID round. */
export const PAD_CUSTOMER_ID = '~c360-scope-pad';
/** A CRM contact id no contact has; asked for so an empty check makes the same CRM round. */
export const PAD_CRM_ID = '~c360-scope-pad';

export type ScopeCheck = (ctx: Context, customerIds: readonly string[]) => Promise<boolean[]>;

/** The check for a scope: answers, per id, whether the caller may see that customer. */
export function scopeCheck(scope: RowScope): ScopeCheck {
  switch (scope.kind) {
    case 'crmOwnerTeam':
      return crmOwnerTeamCheck;
  }
}

async function crmOwnerTeamCheck(ctx: Context, customerIds: readonly string[]): Promise<boolean[]> {
  const teams = new Set(ctx.viewer.teams ?? []);
  const asked = customerIds.length ? customerIds : [PAD_CUSTOMER_ID];
  const records = await ctx.loaders.sourceRecords.loadMany(asked);
  const failed = records.find((r): r is Error => r instanceof Error);
  if (failed) throw failed;
  const crmIds = (records as Array<Array<{ source: string; recordId: string }>>).map((rs) =>
    rs.filter((r) => r.source === 'crm').map((r) => r.recordId),
  );
  const allCrmIds = crmIds.flat();
  const contacts = await ctx.loaders.crmContact.loadMany(allCrmIds.length ? allCrmIds : [PAD_CRM_ID]);
  // A CRM that cannot be reached fails the check, for unknown and known customers alike (the pad
  // key makes the same call); a malformed contact just does not match.
  const outage = contacts.find((c): c is Error => c instanceof Error && !(isSourceError(c) && c.code === 'SOURCE_BAD_RESPONSE'));
  if (outage) throw outage;
  const teamOf = new Map<string, string | null>();
  allCrmIds.forEach((id, i) => {
    const c = contacts[i];
    teamOf.set(id, c && !(c instanceof Error) ? c.ownerTeam : null);
  });
  return customerIds.map((_, i) => crmIds[i].some((id) => {
    const team = teamOf.get(id);
    return team != null && teams.has(team);
  }));
}
