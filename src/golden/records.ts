/**
 * Gathers a customer's records for a golden field through the request's loaders: the same
 * crmContact / shopAccount / supportRequester / scrmFollower loaders the per-source fields use,
 * so golden fields add no source call (DataLoader hands both the same batch and cache).
 *
 * A golden value is only as good as its evidence: when a source holding one of the customer's
 * records for the field fails (whole call or that record), the decision fails with that
 * source's error instead of quietly choosing among the rest.
 */
import type { Loaders } from '../loaders';
import type { SourceName } from '../sources/types';
import { candidatesFor, type SourceRecords } from './fields';
import type { FieldRules } from './rules';
import { decide, type Decision } from './survivorship';

/** The loader of each source's records, by OneID record key. */
function recordLoader(loaders: Loaders, source: SourceName) {
  switch (source) {
    case 'crm':
      return loaders.crmContact;
    case 'orders':
      return loaders.shopAccount;
    case 'support':
      return loaders.supportRequester;
    case 'scrm':
      return loaders.scrmFollower;
  }
}

/**
 * The customer's records in `sources`. All loads are issued in one tick after the OneID round,
 * so every customer of a level shares one call per source. Throws the first failure.
 */
export async function recordsOf(loaders: Loaders, customerId: string, sources: readonly SourceName[]): Promise<Partial<SourceRecords>> {
  const linked = await loaders.sourceRecords.load(customerId);
  const lists = await Promise.all(
    sources.map((s) => recordLoader(loaders, s).loadMany(linked.filter((r) => r.source === s).map((r) => r.recordId)) as Promise<Array<unknown>>),
  );
  const out: Partial<SourceRecords> = {};
  sources.forEach((s, i) => {
    const failed = lists[i].find((r): r is Error => r instanceof Error);
    if (failed) throw failed;
    (out as Record<string, unknown>)[s] = lists[i].filter((r) => r !== null);
  });
  return out;
}

/** The survivorship decision for one field of one customer. */
export async function goldenDecision(loaders: Loaders, rules: FieldRules, customerId: string): Promise<Decision> {
  const records = await recordsOf(loaders, customerId, rules.sources);
  return decide(rules, candidatesFor(rules.field, records, rules.sources));
}
