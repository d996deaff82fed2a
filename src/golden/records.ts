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
import type { ProfileView } from '../capabilities';
import type { SourceRecordRow } from '../idmap/types';
import type { SourceName } from '../vocabulary';
import { candidatesFor, type SourceViews } from './fields';
import type { FieldRules } from './rules';
import { decide, type Decision } from './survivorship';

/** What one source holds for a customer: its records' views, or the first error reading them; `asked`: whether it has records. */
interface SourceSay {
  source: SourceName;
  views: ProfileView[];
  error: Error | null;
  asked: boolean;
}

/**
 * Per request (the loaders object), per customer and source: every golden field reading that
 * source shares one load and one result. Keyed by customer, then source: no key string per field
 * and source (a list of a thousand customers made twenty per customer).
 */
const saysByRequest = new WeakMap<Loaders, Map<string, Map<SourceName, Promise<SourceSay>>>>();

function sayOf(loaders: Loaders, memo: Map<SourceName, Promise<SourceSay>>, source: SourceName, linked: readonly SourceRecordRow[]): Promise<SourceSay> {
  let say = memo.get(source);
  if (!say) {
    const ids: string[] = [];
    for (const r of linked) if (r.source === source) ids.push(r.recordId);
    say = loaders
      .profile(source)
      .loadMany(ids)
      .then((list) => {
        const error = list.find((r): r is Error => r instanceof Error) ?? null;
        return { source, views: error ? [] : (list.filter((r) => r !== null) as ProfileView[]), error, asked: ids.length > 0 };
      });
    memo.set(source, say);
  }
  return say;
}

/**
 * The customer's records in `sources` as profile views. All loads are issued in one tick after
 * the OneID round, so every customer of a level shares one call per source; the fields of one
 * customer share each source's load (a list of a thousand customers spends its time on
 * promises and garbage per field and customer). Throws the first failure.
 */
export async function viewsOf(
  loaders: Loaders,
  customerId: string,
  sources: readonly SourceName[],
): Promise<{ views: SourceViews[]; failed: Array<{ source: SourceName; error: Error }>; asked: number }> {
  const linked = await loaders.sourceRecords.load(customerId);
  let byCustomer = saysByRequest.get(loaders);
  if (!byCustomer) saysByRequest.set(loaders, (byCustomer = new Map()));
  let memo = byCustomer.get(customerId);
  if (!memo) byCustomer.set(customerId, (memo = new Map()));
  const m = memo;
  const says = await Promise.all(sources.map((source) => sayOf(loaders, m, source, linked)));
  const views: SourceViews[] = [];
  const failed: Array<{ source: SourceName; error: Error }> = [];
  let asked = 0;
  for (const say of says) {
    if (say.asked) asked++;
    if (say.error) failed.push({ source: say.source, error: say.error });
    else views.push({ source: say.source, views: say.views });
  }
  return { views, failed, asked };
}

/** The survivorship decision for one field of one customer, among the sources that answered. */
export async function goldenDecision(loaders: Loaders, rules: FieldRules, customerId: string): Promise<Decision> {
  const { views, failed, asked } = await viewsOf(loaders, customerId, rules.sources);
  if (failed.length && failed.length === asked) throw failed[0].error;
  const d: Decision = decide(rules, candidatesFor(rules.field, views, rules.sources));
  d.missing = failed.map((f) => ({ source: f.source, code: String((f.error as { extensions?: { code?: unknown } }).extensions?.code ?? 'SOURCE_UNAVAILABLE') }));
  return d;
}
