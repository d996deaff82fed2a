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
import { pushCandidates, type Candidate, type GoldenValue } from './fields';
import type { FieldRules } from './rules';
import { choose, decide, type Decision } from './survivorship';

/** What one source holds for a customer: its records' views, or the first error reading them; `asked`: whether it has records. */
interface SourceSay {
  source: SourceName;
  views: readonly ProfileView[];
  error: Error | null;
  asked: boolean;
}

/**
 * One customer's evidence in one request, shared by all its golden fields: each source's say
 * read once, and the fields' decisions. A list of a thousand customers asks every field of every
 * customer and keeps every customer's evidence alive across the source calls: once the says are
 * in, a field is a pick among them, answered without a promise; the object stays small.
 */
interface Evidence {
  /** The customer's linked records, once the OneID round answered. */
  linked: readonly SourceRecordRow[] | null;
  /** Each source's say once read; its read while under way. */
  says: Map<SourceName, SourceSay | Promise<SourceSay>>;
  /** Sources asked for before the OneID round answered: read together when it does, so every customer of a level shares one call per source. */
  wanted: SourceName[];
  /** That first round: the OneID answer, then every wanted source read. */
  first: Promise<Evidence> | null;
  /** Decisions made (provenance, insights), per field's rules. */
  decisions: Map<FieldRules, Decision> | null;
}

/** Per request (the loaders object), per customer. */
const evidenceByRequest = new WeakMap<Loaders, Map<string, Evidence>>();

function evidenceOf(loaders: Loaders, customerId: string): Evidence {
  let byCustomer = evidenceByRequest.get(loaders);
  if (!byCustomer) evidenceByRequest.set(loaders, (byCustomer = new Map()));
  let e = byCustomer.get(customerId);
  if (!e) byCustomer.set(customerId, (e = { linked: null, says: new Map(), wanted: [], first: null, decisions: null }));
  return e;
}

const NO_VIEWS: readonly ProfileView[] = Object.freeze([]);

/** Per source, what it says of a customer without records there, and the handlers of a read (shared: no closures per customer). */
interface SourceReads {
  none: SourceSay;
  one: (v: ProfileView | Error | null) => SourceSay;
  many: (list: Array<ProfileView | Error | null>) => SourceSay;
  failed: (error: Error) => SourceSay;
}
const readsBySource = new Map<SourceName, SourceReads>();

function readsOf(source: SourceName): SourceReads {
  let r = readsBySource.get(source);
  if (r) return r;
  const none: SourceSay = Object.freeze({ source, views: NO_VIEWS, error: null, asked: false });
  r = {
    none,
    one: (v) => (v instanceof Error ? { source, views: NO_VIEWS, error: v, asked: true } : { source, views: v === null ? NO_VIEWS : [v], error: null, asked: true }),
    many: (list) => {
      let views = list as ProfileView[];
      for (let i = 0; i < list.length; i++) {
        const v = list[i];
        if (v instanceof Error) return { source, views: NO_VIEWS, error: v, asked: true };
        // The loaded list is this call's own: copied only when a record is unknown (null).
        if (v === null && views === list) views = list.slice(0, i) as ProfileView[];
        else if (v !== null && views !== list) views.push(v);
      }
      return { source, views, error: null, asked: true };
    },
    failed: (error) => ({ source, views: NO_VIEWS, error, asked: true }),
  };
  readsBySource.set(source, r);
  return r;
}

/** Reads one source's records of the customer (once per request and customer): its say, at once when it has none there. */
function read(loaders: Loaders, e: Evidence, source: SourceName): SourceSay | Promise<SourceSay> {
  const made = e.says.get(source);
  if (made) return made;
  let first = -1;
  let ids: string[] | null = null;
  const linked = e.linked!;
  for (let i = 0; i < linked.length; i++) {
    if (linked[i].source !== source) continue;
    if (first < 0) first = i;
    else (ids ??= [linked[first].recordId]).push(linked[i].recordId);
  }
  const r = readsOf(source);
  const profile = loaders.profile(source);
  // One record (the usual case): one load, without loadMany's list of promises.
  const say = first < 0 ? r.none : ids ? profile.loadMany(ids).then(r.many) : profile.load(linked[first].recordId).then(r.one, r.failed);
  e.says.set(source, say);
  return say;
}

/** Puts the says read in a round in place of their reads. */
function settle(e: Evidence, says: SourceSay[]): Evidence {
  for (let i = 0; i < says.length; i++) e.says.set(says[i].source, says[i]);
  return e;
}

/** Waits for the reads among `says`, if any. */
function whenRead(e: Evidence, says: Array<SourceSay | Promise<SourceSay>>): Evidence | Promise<Evidence> {
  let pending: Promise<SourceSay>[] | null = null;
  for (let i = 0; i < says.length; i++) {
    const s = says[i];
    if (s instanceof Promise) (pending ??= []).push(s);
  }
  if (!pending) return e;
  if (pending.length === 1) return pending[0].then((say) => settle(e, [say]));
  return Promise.all(pending).then((list) => settle(e, list));
}

const isIn = (e: Evidence, source: SourceName) => {
  const say = e.says.get(source);
  return say !== undefined && !(say instanceof Promise);
};

/**
 * The customer's evidence with the says of `sources` in: synchronously when they already are,
 * else a promise of it. All loads are issued in one tick after the OneID round, so every
 * customer of a level shares one call per source. Rejects with the OneID round's error.
 */
function evidence(loaders: Loaders, customerId: string, sources: readonly SourceName[]): Evidence | Promise<Evidence> {
  const e = evidenceOf(loaders, customerId);
  let missing = false;
  for (let i = 0; i < sources.length; i++) if (!isIn(e, sources[i])) missing = true;
  if (!missing) return e;
  if (e.linked === null) {
    for (const s of sources) if (!e.wanted.includes(s)) e.wanted.push(s);
    e.first ??= loaders.sourceRecords.load(customerId).then((linked) => {
      e.linked = linked;
      return whenRead(
        e,
        e.wanted.map((s) => read(loaders, e, s)),
      );
    });
    return e.first;
  }
  // Asked after the first round (a later level, an insight): read what is not in yet.
  return whenRead(
    e,
    sources.map((s) => read(loaders, e, s)),
  );
}

/** Throws when every source holding the customer's records for the field failed; else the sources that failed. */
function failuresOf(e: Evidence, rules: FieldRules): SourceSay[] | null {
  let failed: SourceSay[] | null = null;
  let asked = 0;
  const sources = rules.sources;
  for (let i = 0; i < sources.length; i++) {
    const say = e.says.get(sources[i]) as SourceSay;
    if (say.asked) asked++;
    if (say.error) (failed ??= []).push(say);
  }
  if (failed && failed.length === asked) throw failed[0].error;
  return failed;
}

/** The field's candidates among the sources that answered (as `candidatesFor` over their views). */
function candidatesIn(e: Evidence, rules: FieldRules): Candidate[] {
  const out: Candidate[] = [];
  const sources = rules.sources;
  for (let i = 0; i < sources.length; i++) {
    const say = e.says.get(sources[i]) as SourceSay;
    if (!say.error) pushCandidates(out, rules.field, sources[i], say.views);
  }
  return out;
}

function decisionIn(e: Evidence, rules: FieldRules): Decision {
  let d = e.decisions?.get(rules);
  if (d) return d;
  const failed = failuresOf(e, rules);
  d = decide(rules, candidatesIn(e, rules));
  d.missing = (failed ?? []).map((f) => ({ source: f.source, code: String((f.error as { extensions?: { code?: unknown } }).extensions?.code ?? 'SOURCE_UNAVAILABLE') }));
  (e.decisions ??= new Map()).set(rules, d);
  return d;
}

function valueIn(e: Evidence, rules: FieldRules): GoldenValue | null {
  const made = e.decisions?.get(rules);
  if (made) return made.chosen?.value ?? null;
  failuresOf(e, rules);
  return choose(rules, candidatesIn(e, rules))?.value ?? null;
}

/**
 * Makes the evidence of every customer of a level ready for `sources` (the sources of the golden
 * fields its query selects): the same OneID round and the same one call per source the fields
 * would make, issued here in one tick for the whole level, so that afterwards each of those
 * fields answers without a promise (`goldenValue`). One load list per source for the level, not
 * a chain of promises per customer. Resolves when every read is in; never rejects: a failed
 * round or source is kept in the evidence and answered by the field, as it would have been (its
 * coded error, the other sources' value).
 */
export function evidenceReady(loaders: Loaders, customerIds: readonly string[], sources: readonly SourceName[]): Promise<void> | null {
  const fresh: Evidence[] = [];
  const freshIds: string[] = [];
  const seen = new Set<Evidence>();
  let pending: Array<Promise<unknown>> | null = null;
  for (let i = 0; i < customerIds.length; i++) {
    const e = evidenceOf(loaders, customerIds[i]);
    if (e.linked === null && e.first === null && !seen.has(e)) {
      seen.add(e);
      fresh.push(e);
      freshIds.push(customerIds[i]);
      continue;
    }
    // Already under way or read (another entry point of the query, a repeated id): as a field would ask.
    const x = evidence(loaders, customerIds[i], sources);
    if (x instanceof Promise) (pending ??= []).push(x);
  }
  if (fresh.length) (pending ??= []).push(loaders.sourceRecords.loadMany(freshIds).then((linked) => readLevel(loaders, fresh, linked, sources)));
  return pending && Promise.allSettled(pending).then(() => undefined);
}

/** The OneID round's answer for a level's fresh evidence, then every source's read for all of them at once. */
function readLevel(loaders: Loaders, level: Evidence[], linked: Array<readonly SourceRecordRow[] | Error>, sources: readonly SourceName[]): Promise<unknown> {
  const reads: Array<Promise<unknown>> = [];
  const read: Evidence[] = [];
  for (let i = 0; i < level.length; i++) {
    const l = linked[i];
    if (l instanceof Error) {
      // As the field's own round would have failed: every golden field of the customer answers this error.
      const failed = Promise.reject(l);
      failed.catch(() => undefined);
      level[i].first = failed;
    } else {
      level[i].linked = l;
      read.push(level[i]);
    }
  }
  for (let s = 0; s < sources.length; s++) {
    const source = sources[s];
    const r = readsOf(source);
    const keys: string[] = [];
    // Per customer with records there: where its keys start in `keys` (they follow each other).
    const owners: Evidence[] = [];
    const starts: number[] = [];
    for (let i = 0; i < read.length; i++) {
      const e = read[i];
      if (e.says.has(source)) continue;
      const start = keys.length;
      const l = e.linked!;
      for (let k = 0; k < l.length; k++) if (l[k].source === source) keys.push(l[k].recordId);
      if (keys.length === start) e.says.set(source, r.none);
      else {
        owners.push(e);
        starts.push(start);
      }
    }
    if (!keys.length) continue;
    reads.push(
      loaders
        .profile(source)
        .loadMany(keys)
        .then((views) => {
          for (let o = 0; o < owners.length; o++) {
            const start = starts[o];
            const end = o + 1 < owners.length ? starts[o + 1] : keys.length;
            owners[o].says.set(source, end - start === 1 ? r.one(views[start]) : r.many(views.slice(start, end)));
          }
        }),
    );
  }
  return Promise.all(reads);
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
