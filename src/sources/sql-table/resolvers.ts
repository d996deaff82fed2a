/**
 * Resolvers of the `sql-table` SDL: `Customer.tableRecords` over every configured instance.
 *
 * Each instance's records load under the operation the profile capability names
 * (`recordsByIds`), so golden fields and this field share one loader and one call per level.
 * A malformed record stays in its place as an Error (a null item with its coded error). A
 * failed call of one instance answers one Error item for that instance and leaves the others'
 * records standing; when every instance failed, the field fails with the first error.
 */
import type { ProfileField } from '../../capabilities';
import type { Slot } from '../../vocabulary';
import { SourceRowError } from '../../errors';
import type { KindContext, KindResolvers, SourceInstance } from '../kind';
import type { SqlProfileRecord, SqlTableConnector } from './connector';

/** The customer as parent resolvers hand it down (only its id is read here). */
interface CustomerParent {
  id: string;
}

const value = (field: ProfileField) => (r: SqlProfileRecord) => r.values[field] ?? null;

export function sqlTableResolvers(instances: ReadonlyArray<SourceInstance<SqlTableConnector>>): KindResolvers {
  return {
    Customer: {
      tableRecords: async (c: CustomerParent, _args: unknown, ctx: KindContext): Promise<Array<SqlProfileRecord | Error>> => {
        const perInstance = await Promise.all(
          instances.map(async (inst): Promise<Array<Slot<SqlProfileRecord> | null | Error>> => {
            try {
              const ids = await ctx.loaders.recordIds(c.id, inst.name);
              if (ids.length === 0) return [];
              return await ctx.loaders
                .batch<Slot<SqlProfileRecord> | null>(inst.name, 'recordsByIds', (keys, account) =>
                  ctx.loaders.connector<SqlTableConnector>(inst.name).recordsByIds(keys, account),
                )
                .loadMany(ids);
            } catch (e) {
              return [e as Error];
            }
          }),
        );
        const failedCalls = perInstance.map((slots) => slots.find((s): s is Error => s instanceof Error && !(s instanceof SourceRowError)));
        if (instances.length > 0 && failedCalls.every((e) => e !== undefined)) throw failedCalls[0];
        return perInstance.flatMap((slots, i) => (failedCalls[i] ? [failedCalls[i] as Error] : slots.filter((s): s is SqlProfileRecord | Error => s !== null)));
      },
    },
    TableRecord: {
      name: value('name'),
      phone: value('phone'),
      email: value('email'),
      gender: value('gender'),
      birthday: value('birthday'),
      city: value('city'),
      province: value('province'),
      memberTier: value('memberTier'),
    },
  };
}
