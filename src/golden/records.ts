/**
 * Gathers a customer's profile views for a golden field through the request's loaders: the
 * profile loader of each source is the same loader the kind's own fields use over those records
 * (src/loaders.ts), so golden fields add no source call.
 *
 * A golden value is only as good as its evidence: when a source holding one of the customer's
 * records for the field fails (whole call or that record), the decision fails with that
 * source's error instead of quietly choosing among the rest.
 */
import type { Loaders } from '../loaders';
import type { SourceName } from '../vocabulary';
import { candidatesFor, type SourceViews } from './fields';
import type { FieldRules } from './rules';
import { decide, type Decision } from './survivorship';

/**
 * The customer's records in `sources` as profile views. All loads are issued in one tick after
 * the OneID round, so every customer of a level shares one call per source. Throws the first failure.
 */
export async function viewsOf(loaders: Loaders, customerId: string, sources: readonly SourceName[]): Promise<SourceViews[]> {
  const linked = await loaders.sourceRecords.load(customerId);
  const lists = await Promise.all(sources.map((s) => loaders.profile(s).loadMany(linked.filter((r) => r.source === s).map((r) => r.recordId))));
  return sources.map((source, i) => {
    const failed = lists[i].find((r): r is Error => r instanceof Error);
    if (failed) throw failed;
    return { source, views: lists[i].filter((r) => r !== null) as SourceViews['views'] };
  });
}

/** The survivorship decision for one field of one customer. */
export async function goldenDecision(loaders: Loaders, rules: FieldRules, customerId: string): Promise<Decision> {
  const views = await viewsOf(loaders, customerId, rules.sources);
  return decide(rules, candidatesFor(rules.field, views, rules.sources));
}
