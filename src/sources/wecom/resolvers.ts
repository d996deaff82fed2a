/** WeCom fields: Customer.wecomContacts across every instance of the kind, one batched load per instance. */
import { SourceRowError } from '../../errors';
import type { Slot } from '../../vocabulary';
import type { KindContext, SourceInstance } from '../kind';
import type { WecomConnector, WecomContact } from './connector';

/** The operation the field loads under; profile and engagement share it, so they add no call. */
export const CONTACTS_OPERATION = 'contactsByIds';

/**
 * A failed call (WeCom down, timed out, refused) fails the field once: null plus one coded
 * error. A malformed contact stays in place as an Error (a null item with its own coded error);
 * contacts WeCom no longer has (null) are left out.
 */
function settle(results: Array<Slot<WecomContact> | null | Error>): Array<WecomContact | Error> {
  const failedCall = results.find((r): r is Error => r instanceof Error && !(r instanceof SourceRowError));
  if (failedCall) throw failedCall;
  return results.filter((r): r is WecomContact | Error => r !== null);
}

export function wecomResolvers(instances: ReadonlyArray<SourceInstance<WecomConnector>>) {
  return {
    Customer: {
      wecomContacts: async (c: { id: string }, _: unknown, ctx: KindContext) => {
        // Every instance is asked in the same tick, so each instance's loader batches all customers of the level.
        const lists = await Promise.all(
          instances.map(async ({ name }) => {
            const connector = ctx.loaders.connector<WecomConnector>(name);
            const ids = await ctx.loaders.recordIds(c.id, name);
            return settle(
              await ctx.loaders.batch<Slot<WecomContact> | null>(name, CONTACTS_OPERATION, (keys, account) => connector.contactsByIds(keys, account)).loadMany(ids),
            );
          }),
        );
        return lists.flat();
      },
    },
  };
}
