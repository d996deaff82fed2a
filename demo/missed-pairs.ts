/**
 * Why true pairs inside the identifier ceiling were missed: for each person, the records a
 * chain of shared usable values joins but resolution left in different customers, attributed
 * to what the rules said about the values between them (the review candidate each refused
 * value became: a household guard on two records of one system, a name, a birthday, two
 * values of an exclusive kind). And, for the household guard, what the truth says: how many of
 * the values it refused were one person's and how many were shared by different people. Reads
 * the truth: evaluation only, never resolution.
 */
import type { Knex } from 'knex';
import { T } from '../src/idmap/tables';
import { valueOfIdentifying } from './score';

export interface MissedPairs {
  /** Missed pairs inside the ceiling, by the causes of the refused values between the person's customers. */
  byCause: Array<{ cause: string; pairs: number }>;
  /** Values refused because two records of one system carried them (the household guard), by what the truth says. */
  sameSystem: { values: number; onePerson: number; differentPeople: number; bare: { onePerson: number; differentPeople: number } };
  /** The same missed pairs, one class each (`pairClass`), most first. */
  byPairClass: Array<{ cause: string; pairs: number }>;
  /** Every missed pair, for `--missed-shared FILE`. */
  pairs: MissedPair[];
}

export interface MissedPair {
  person: string;
  a: string;
  b: string;
  /** See `pairClass`. */
  pairClass: string;
  /** The values the two records share: kind, what refused it, how many people's records carry it. */
  shared: Array<{ kind: string; cause: string; people: number }>;
  /** Whether each record is one of the two records of one system a household-guard refusal names. */
  guarded: [boolean, boolean];
  /** Whether each record has a name key and a birthday key (what the rules and the tier can weigh). */
  named: [boolean, boolean];
  dated: [boolean, boolean];
}

/**
 * One class per missed pair, first that applies:
 * - `chain`: the two share no value; a chain through the person's other records joins them, and
 *   a link of it was missed (counted under its own class);
 * - `household value`: every value they share is carried by the records of two or more people
 *   (outside the identifying ceiling: nothing in the value says whose records they are);
 * - `one system, nothing else`: the two records of one system on a value the household guard
 *   refused (two records of one system sharing it and nothing else);
 * - `one of the guard's two`: one of those two records and a record of another system (which
 *   of the two is this person's the value cannot tell);
 * - `beside the guard`: neither is one of them: the value carried by the two is refused for
 *   all its carriers;
 * - `exclusive kind differs`, `names or birthdays differ`: the value refused for that (one
 *   person's records, as the truth says);
 * - `blocked or over-shared`: a placeholder, or a value more records carry than the kind allows;
 * - `not refused`: no refusal recorded for any value they share (a link the run never weighed).
 */
export function pairClass(p: Pick<MissedPair, 'a' | 'b' | 'shared' | 'guarded'>): string {
  if (!p.shared.length) return 'chain';
  if (p.shared.every((v) => v.people > 1)) return 'household value';
  const own = p.shared.filter((v) => v.people <= 1);
  if (own.some((v) => v.cause.split('+').includes('same-source'))) {
    if (p.guarded[0] && p.guarded[1] && p.a.split(':')[0] === p.b.split(':')[0]) return 'one system, nothing else';
    return p.guarded[0] || p.guarded[1] ? "one of the guard's two" : 'beside the guard';
  }
  if (own.some((v) => /(^|\+)[A-Z_]+(\+|$)/.test(v.cause))) return 'exclusive kind differs';
  if (own.some((v) => /(^|\+)(name|birthday)(\+|$)/.test(v.cause))) return 'names or birthdays differ';
  if (own.some((v) => v.cause === 'refused')) return 'blocked or over-shared';
  return 'not refused';
}

export async function missedPairsByCause(
  db: Knex,
  truth: ReadonlyMap<string, string>,
  usable: ReadonlyArray<{ record: string; value: string }>,
  customerOf: ReadonlyMap<string, string | null>,
): Promise<MissedPairs> {
  const cands: Array<{ kind: string | null; value: string | null; evidence: string | null }> = await db(T.candidates).select('kind', 'value', 'evidence');
  const records: Array<{ source: string; record_id: string; name_key: string | null; birthday_key: string | null }> = await db(T.sourceRecords).select(
    'source',
    'record_id',
    'name_key',
    'birthday_key',
  );
  const bare = new Set(records.filter((r) => !r.name_key && !r.birthday_key).map((r) => `${r.source}:${r.record_id}`));
  const causeOf = new Map<string, string>();
  const guardedRecords = new Set<string>();
  const sameSystem = { values: 0, onePerson: 0, differentPeople: 0, bare: { onePerson: 0, differentPeople: 0 } };
  for (const c of cands) {
    const ev = JSON.parse(c.evidence ?? '{}') as { differ?: string[]; records?: Record<string, string[]> };
    if (c.kind && c.value) causeOf.set(`${c.kind}:${c.value}`, ev.differ?.length ? ev.differ.join('+') : 'refused');
    if (!ev.differ?.includes('same-source')) continue;
    const recs = Object.values(ev.records ?? {}).flat();
    for (const r of recs) guardedRecords.add(r);
    const one = new Set(recs.map((r) => truth.get(r))).size === 1;
    sameSystem.values++;
    sameSystem[one ? 'onePerson' : 'differentPeople']++;
    if (recs.every((r) => bare.has(r))) sameSystem.bare[one ? 'onePerson' : 'differentPeople']++;
  }
  // `usable` values are `KIND:match key`; candidates name the value: map through the identifiers.
  const idRows: Array<{ kind: string; value: string; match_key: string }> = await db(T.identifiers).distinct('kind', 'value', 'match_key');
  const valueOfKey = new Map(idRows.map((r) => [`${r.kind}:${r.match_key}`, `${r.kind}:${r.value}`]));
  const valuesOf = new Map<string, string[]>();
  for (const { record, value } of usable) valuesOf.set(record, [...(valuesOf.get(record) ?? []), value]);
  const byPerson = new Map<string, string[]>();
  for (const [r, p] of truth) byPerson.set(p, [...(byPerson.get(p) ?? []), r]);
  // How many people's records carry each value (all of them, not only the ones given as usable).
  const peopleOf = new Map<string, Set<string>>();
  for (const { record, value } of usable) {
    const people = peopleOf.get(value) ?? new Set<string>();
    people.add(truth.get(record) ?? record);
    peopleOf.set(value, people);
  }
  const keyed = {
    name: new Set(records.filter((r) => r.name_key).map((r) => `${r.source}:${r.record_id}`)),
    birth: new Set(records.filter((r) => r.birthday_key).map((r) => `${r.source}:${r.record_id}`)),
  };
  const pairs: MissedPair[] = [];
  const classes = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const list of byPerson.values()) {
    if (list.length < 2) continue;
    const parent = new Map(list.map((r) => [r, r]));
    const find = (x: string): string => (parent.get(x) === x ? x : find(parent.get(x)!));
    const first = new Map<string, string>();
    for (const r of list)
      for (const v of valuesOf.get(r) ?? []) {
        const f = first.get(v);
        if (f) parent.set(find(r), find(f));
        else first.set(v, r);
      }
    const groups = new Map<string, string[]>();
    for (const r of list) groups.set(find(r), [...(groups.get(find(r)) ?? []), r]);
    for (const g of groups.values()) {
      let missed = 0;
      const causes = new Set<string>();
      for (let i = 0; i < g.length; i++)
        for (let j = i + 1; j < g.length; j++) {
          const [a, b] = [g[i], g[j]];
          if (customerOf.get(a) && customerOf.get(a) === customerOf.get(b)) continue;
          missed++;
          const shared: MissedPair['shared'] = [];
          for (const v of valuesOf.get(a) ?? [])
            if ((valuesOf.get(b) ?? []).includes(v)) {
              const cause = causeOf.get(valueOfKey.get(valueOfIdentifying(v)) ?? '') ?? 'no refusal recorded';
              causes.add(cause);
              shared.push({ kind: v.slice(0, v.indexOf(':')), cause, people: peopleOf.get(v)?.size ?? 0 });
            }
          const pair = {
            person: truth.get(a)!,
            a,
            b,
            shared,
            guarded: [guardedRecords.has(a), guardedRecords.has(b)],
            named: [keyed.name.has(a), keyed.name.has(b)],
            dated: [keyed.birth.has(a), keyed.birth.has(b)],
          } as MissedPair;
          pair.pairClass = pairClass(pair);
          pairs.push(pair);
          classes.set(pair.pairClass, (classes.get(pair.pairClass) ?? 0) + 1);
        }
      if (!missed) continue;
      const cause = [...causes].sort().join(' & ') || 'no value between them';
      counts.set(cause, (counts.get(cause) ?? 0) + missed);
    }
  }
  const most = (m: Map<string, number>) => [...m].map(([cause, n]) => ({ cause, pairs: n })).sort((x, y) => y.pairs - x.pairs);
  return { byCause: most(counts), sameSystem, byPairClass: most(classes), pairs };
}

/**
 * The values (`KIND:match key`) the household guard refused on a resolved store: each review
 * candidate whose refusal names `same-source` (two records of one system carrying the value),
 * by the match key of the value it names.
 */
export async function guardRefusedValues(db: Knex): Promise<Set<string>> {
  const cands: Array<{ kind: string; value: string; evidence: string | null }> = await db(T.candidates).whereNotNull('kind').select('kind', 'value', 'evidence');
  const ids: Array<{ kind: string; value: string; match_key: string }> = await db(T.identifiers).distinct('kind', 'value', 'match_key');
  const keyOf = new Map(ids.map((r) => [`${r.kind}:${r.value}`, `${r.kind}:${r.match_key}`]));
  const out = new Set<string>();
  for (const c of cands) {
    const ev = JSON.parse(c.evidence ?? '{}') as { differ?: string[] };
    const key = keyOf.get(`${c.kind}:${c.value}`);
    if (key && ev.differ?.includes('same-source')) out.add(key);
  }
  return out;
}

/**
 * What a matcher joining the household guard's refused values to their one named holder would
 * do (session 42): for each value the guard alone refused (two records of one system and
 * nothing tying them), the customers among its carriers that hold a name (`name_key` on any of
 * their records); where exactly one does, each other carrier's customer that holds no name and
 * none of the guard's two records is a record the rules could join to the holder (the guard's two
 * stay apart either way). Counted by the systems of that customer's records: carriers one
 * person's with the holder and carriers another person's, and the record pairs such a join
 * would add, right and wrong. Reads the truth: evaluation only.
 */
export interface BesideGuard {
  values: { noHolder: number; oneHolder: number; severalHolders: number };
  carriers: Array<{ systems: string; holders: number; others: number; rightPairs: number; wrongPairs: number }>;
}

export function besideTheGuard(input: {
  /** Values the guard alone refused, each with the records its refusal named. */
  refused: ReadonlyArray<{ value: string; guarded: readonly string[] }>;
  /** The records (`source:id`) carrying each value now. */
  carriersOf: ReadonlyMap<string, readonly string[]>;
  customerOf: ReadonlyMap<string, string | null>;
  /** Records with a name key. */
  named: ReadonlySet<string>;
  truth: ReadonlyMap<string, string>;
}): BesideGuard {
  const { refused, carriersOf, customerOf, named, truth } = input;
  // A record in no customer stands for itself.
  const customer = (r: string) => customerOf.get(r) ?? `record:${r}`;
  const recordsOf = new Map<string, string[]>();
  for (const r of customerOf.keys()) recordsOf.set(customer(r), [...(recordsOf.get(customer(r)) ?? []), r]);
  const membersOf = (c: string) => recordsOf.get(c) ?? [c.slice('record:'.length)];
  const values = { noHolder: 0, oneHolder: 0, severalHolders: 0 };
  const bySystems = new Map<string, BesideGuard['carriers'][number]>();
  for (const { value, guarded } of refused) {
    const guard = new Set(guarded);
    const customers = [...new Set((carriersOf.get(value) ?? []).map(customer))];
    const holders = customers.filter((c) => membersOf(c).some((r) => named.has(r)));
    if (holders.length !== 1) {
      values[holders.length ? 'severalHolders' : 'noHolder']++;
      continue;
    }
    values.oneHolder++;
    const holder = membersOf(holders[0]);
    const holderPeople = new Map<string, number>();
    for (const r of holder) holderPeople.set(truth.get(r) ?? r, (holderPeople.get(truth.get(r) ?? r) ?? 0) + 1);
    for (const c of customers) {
      const recs = membersOf(c);
      if (c === holders[0] || recs.some((r) => guard.has(r))) continue;
      const systems = [...new Set(recs.map((r) => r.split(':')[0]))].sort().join('+');
      const row = bySystems.get(systems) ?? { systems, holders: 0, others: 0, rightPairs: 0, wrongPairs: 0 };
      const right = recs.reduce((n, r) => n + (holderPeople.get(truth.get(r) ?? r) ?? 0), 0);
      row[right ? 'holders' : 'others']++;
      row.rightPairs += right;
      row.wrongPairs += recs.length * holder.length - right;
      bySystems.set(systems, row);
    }
  }
  const carriers = [...bySystems.values()].sort((a, b) => b.holders + b.others - (a.holders + a.others) || (a.systems < b.systems ? -1 : 1));
  return { values, carriers };
}

/** `besideTheGuard` on a resolved store: the guard's refusals, the values' current carriers, the named records. */
export async function besideTheGuardOf(db: Knex, truth: ReadonlyMap<string, string>, customerOf: ReadonlyMap<string, string | null>): Promise<BesideGuard> {
  const cands: Array<{ kind: string | null; value: string | null; evidence: string | null }> = await db(T.candidates).whereNotNull('kind').select('kind', 'value', 'evidence');
  // One entry a value, however many candidates its refusals left (the guard's records of each).
  const guardedOf = new Map<string, Set<string>>();
  for (const c of cands) {
    const ev = JSON.parse(c.evidence ?? '{}') as { differ?: string[]; records?: Record<string, string[]> };
    if (ev.differ?.length !== 1 || ev.differ[0] !== 'same-source') continue;
    const v = `${c.kind}:${c.value}`;
    for (const r of Object.values(ev.records ?? {}).flat()) guardedOf.set(v, (guardedOf.get(v) ?? new Set()).add(r));
  }
  const refused = [...guardedOf].map(([value, guarded]) => ({ value, guarded: [...guarded] }));
  // A candidate names the value as one carrier wrote it: its carriers are those of its match key.
  const ids: Array<{ source: string; record_id: string; kind: string; value: string; match_key: string }> = await db(T.identifiers)
    .whereNull('valid_to')
    .select('source', 'record_id', 'kind', 'value', 'match_key');
  const keyOf = new Map(ids.map((i) => [`${i.kind}:${i.value}`, `${i.kind}:${i.match_key}`]));
  const byKey = new Map<string, Set<string>>();
  for (const i of ids) {
    const k = `${i.kind}:${i.match_key}`;
    byKey.set(k, (byKey.get(k) ?? new Set()).add(`${i.source}:${i.record_id}`));
  }
  const carriersOf = new Map(refused.map((r) => [r.value, [...(byKey.get(keyOf.get(r.value) ?? '') ?? [])]]));
  const named = new Set(
    (await db(T.sourceRecords).whereNotNull('name_key').select('source', 'record_id')).map((r: { source: string; record_id: string }) => `${r.source}:${r.record_id}`),
  );
  return besideTheGuard({ refused, carriersOf, customerOf, named, truth });
}
