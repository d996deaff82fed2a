/**
 * Gathers a customer's profile views for golden fields through the request's loaders: the
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
import { candidatesFor, type GoldenValue, type SourceViews } from './fields';
import type { FieldRules } from './rules';
import { choose, decide, type Decision } from './survivorship';

/** What one source holds for a customer: its records' views, or the first error reading them; `asked`: whether it has records. */
interface SourceSay {
  source: SourceName;
  views: ProfileView[];
  error: Error | null;
  asked: boolean;
}

/**
 * One customer's evidence in one request, shared by all its golden fields: each source's say
 * read once, and the fields' decisions. A list of a thousand customers asks every field of every
 * customer; once the says are in, a field is a pick among them, answered without a promise.
 */
interface Evidence {
  /** The customer's linked records, once the OneID round answered. */
  linked: readonly SourceRecordRow[] | null;
  /** Each source's say, once read. */
  says: Map<SourceName, SourceSay>;
  /** Sources being read (or read: `says` is asked first). */
  reading: Map<SourceName, Promise<unknown>>;
  /** Sources asked for before the OneID round answered: read together when it does, so every customer of a level shares one call per source. */
  wanted: Set<SourceName>;
  /** That first round: the OneID answer, then every wanted source read. */
  first: Promise<Evidence> | null;
  /** Decisions made (provenance, insights), per field's rules. */
  decisions: Map<FieldRules, Decision>;
}

/** Per request (the loaders object), per customer. */
const evidenceByRequest = new WeakMap<Loaders, Map<string, Evidence>>();

function evidenceOf(loaders: Loaders, customerId: string): Evidence {
  let byCustomer = evidenceByRequest.get(loaders);
  if (!byCustomer) evidenceByRequest.set(loaders, (byCustomer = new Map()));
  let e = byCustomer.get(customerId);
  if (!e) byCustomer.set(customerId, (e = { linked: null, says: new Map(), reading: new Map(), wanted: new Set(), first: null, decisions: new Map() }));
  return e;
}

/** What a source says when read: its views, or its first error (views then empty). */
function sayOf(source: SourceName, list: Array<ProfileView | Error | null>, asked: boolean): SourceSay {
  let views = list as ProfileView[];
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    if (r instanceof Error) return { source, views: [], error: r, asked };
    // The loaded list is this call's own: copied only when a record is unknown (null).
    if (r === null && views === list) views = list.slice(0, i) as ProfileView[];
    else if (r !== null && views !== list) views.push(r);
  }
  return { source, views, error: null, asked };
}

/** Reads one source's records of the customer (once per request and customer) into its say; nothing to wait for when it has none there. */
function read(loaders: Loaders, e: Evidence, source: SourceName): Promise<unknown> | null {
  let p = e.reading.get(source);
  if (p) return p;
  const ids: string[] = [];
  for (const r of e.linked!) if (r.source === source) ids.push(r.recordId);
  if (ids.length === 0) {
    e.says.set(source, { source, views: [], error: null, asked: false });
    return null;
  }
  const profile = loaders.profile(source);
  // One record (the usual case): one load, without loadMany's list of promises.
  p =
    ids.length === 1
      ? profile.load(ids[0]).then(
          (v) => void e.says.set(source, sayOf(source, [v], true)),
          (error: Error) => void e.says.set(source, { source, views: [], error, asked: true }),
        )
      : profile.loadMany(ids).then((list) => void e.says.set(source, sayOf(source, list, true)));
  e.reading.set(source, p);
  return p;
}

/**
 * The customer's evidence with the says of `sources` in: synchronously when they already are,
 * else a promise of it. All loads are issued in one tick after the OneID round, so every
 * customer of a level shares one call per source. Rejects with the OneID round's error.
 */
function evidence(loaders: Loaders, customerId: string, sources: readonly SourceName[]): Evidence | Promise<Evidence> {
  const e = evidenceOf(loaders, customerId);
  let missing = false;
  for (const s of sources) if (!e.says.has(s)) missing = true;
  if (!missing) return e;
  if (e.linked === null) {
    for (const s of sources) e.wanted.add(s);
    e.first ??= loaders.sourceRecords.load(customerId).then((linked) => {
      e.linked = linked;
      const reads: Promise<unknown>[] = [];
      for (const s of e.wanted) {
        const p = read(loaders, e, s);
        if (p) reads.push(p);
      }
      e.wanted.clear();
      return reads.length === 0 ? e : reads.length === 1 ? reads[0].then(() => e) : Promise.all(reads).then(() => e);
    });
    return e.first;
  }
  // Asked after the first round (a later level, an insight): read what is not in yet.
  const reads: Promise<unknown>[] = [];
  for (const s of sources) {
    const p = e.says.has(s) ? null : read(loaders, e, s);
    if (p) reads.push(p);
  }
  return reads.length === 0 ? e : Promise.all(reads).then(() => e);
}

/** Throws when every source holding the customer's records for the field failed; else the sources that failed. */
function failuresOf(e: Evidence, rules: FieldRules): SourceSay[] | null {
  let failed: SourceSay[] | null = null;
  let asked = 0;
  for (const s of rules.sources) {
    const say = e.says.get(s)!;
    if (say.asked) asked++;
    if (say.error) (failed ??= []).push(say);
  }
  if (failed && failed.length === asked) throw failed[0].error;
  return failed;
}

function viewsIn(e: Evidence, rules: FieldRules): SourceViews[] {
  const views: SourceViews[] = [];
  for (const s of rules.sources) {
    const say = e.says.get(s)!;
    if (!say.error) views.push(say);
  }
  return views;
}

function decisionIn(e: Evidence, rules: FieldRules): Decision {
  let d = e.decisions.get(rules);
  if (d) return d;
  const failed = failuresOf(e, rules);
  d = decide(rules, candidatesFor(rules.field, viewsIn(e, rules), rules.sources));
  d.missing = (failed ?? []).map((f) => ({ source: f.source, code: String((f.error as { extensions?: { code?: unknown } }).extensions?.code ?? 'SOURCE_UNAVAILABLE') }));
  e.decisions.set(rules, d);
  return d;
}

function valueIn(e: Evidence, rules: FieldRules): GoldenValue | null {
  const made = e.decisions.get(rules);
  if (made) return made.chosen?.value ?? null;
  failuresOf(e, rules);
  return choose(rules, candidatesFor(rules.field, viewsIn(e, rules), rules.sources))?.value ?? null;
}

/** The survivorship decision for one field of one customer, among the sources that answered (made once per request). */
export async function goldenDecision(loaders: Loaders, rules: FieldRules, customerId: string): Promise<Decision> {
  return decisionIn(await evidence(loaders, customerId, rules.sources), rules);
}

/**
 * The field's value alone (what `goldenDecision` answers as `chosen.value`): synchronously when the
 * customer's says are in, else one promise; a failure throws (or rejects) as `goldenDecision` does.
 */
export function goldenValue(loaders: Loaders, rules: FieldRules, customerId: string): GoldenValue | null | Promise<GoldenValue | null> {
  const e = evidence(loaders, customerId, rules.sources);
  return e instanceof Promise ? e.then((x) => valueIn(x, rules)) : valueIn(e, rules);
}
