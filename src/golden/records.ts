/**
 * Gathers a customer's profile views for a golden field through the request's loaders: the
 * profile loader of each source is the same loader the kind's own fields use over those records
 * (src/loaders.ts), so golden fields add no source call.
 *
 * One failed source does not erase what the others know: it drops out of the candidates, the
 * survivors decide, and the decision names it (`missing`, shown by provenance). Only when every
 * source holding the customer's records for the field failed does the field fail, with the
 * first of their errors.
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
export async function viewsOf(
  loaders: Loaders,
  customerId: string,
  sources: readonly SourceName[],
): Promise<{ views: SourceViews[]; failed: Array<{ source: SourceName; error: Error }>; asked: number }> {
  const linked = await loaders.sourceRecords.load(customerId);
  const keys = sources.map((s) => linked.filter((r) => r.source === s).map((r) => r.recordId));
  const lists = await Promise.all(sources.map((s, i) => loaders.profile(s).loadMany(keys[i])));
  const views: SourceViews[] = [];
  const failed: Array<{ source: SourceName; error: Error }> = [];
  sources.forEach((source, i) => {
    const error = lists[i].find((r): r is Error => r instanceof Error);
    if (error) failed.push({ source, error });
    else views.push({ source, views: lists[i].filter((r) => r !== null) as SourceViews['views'] });
  });
  return { views, failed, asked: keys.filter((k) => k.length > 0).length };
}

/** The survivorship decision for one field of one customer, among the sources that answered. */
export async function goldenDecision(loaders: Loaders, rules: FieldRules, customerId: string): Promise<Decision> {
  const { views, failed, asked } = await viewsOf(loaders, customerId, rules.sources);
  if (failed.length && failed.length === asked) throw failed[0].error;
  const d = decide(rules, candidatesFor(rules.field, views, rules.sources));
  return { ...d, missing: failed.map((f) => ({ source: f.source, code: String((f.error as { extensions?: { code?: unknown } }).extensions?.code ?? 'SOURCE_UNAVAILABLE') })) };
}
