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

export interface MissedPairs {
  /** Missed pairs inside the ceiling, by the causes of the refused values between the person's customers. */
  byCause: Array<{ cause: string; pairs: number }>;
  /** Values refused because two records of one system carried them (the household guard), by what the truth says. */
  sameSystem: { values: number; onePerson: number; differentPeople: number; bare: { onePerson: number; differentPeople: number } };
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
  const sameSystem = { values: 0, onePerson: 0, differentPeople: 0, bare: { onePerson: 0, differentPeople: 0 } };
  for (const c of cands) {
    const ev = JSON.parse(c.evidence ?? '{}') as { differ?: string[]; records?: Record<string, string[]> };
    if (c.kind && c.value) causeOf.set(`${c.kind}:${c.value}`, ev.differ?.length ? ev.differ.join('+') : 'refused');
    if (!ev.differ?.includes('same-source')) continue;
    const recs = Object.values(ev.records ?? {}).flat();
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
          for (const v of valuesOf.get(a) ?? []) if ((valuesOf.get(b) ?? []).includes(v)) causes.add(causeOf.get(valueOfKey.get(v) ?? '') ?? 'no refusal recorded');
        }
      if (!missed) continue;
      const cause = [...causes].sort().join(' & ') || 'no value between them';
      counts.set(cause, (counts.get(cause) ?? 0) + missed);
    }
  }
  return { byCause: [...counts].map(([cause, pairs]) => ({ cause, pairs })).sort((x, y) => y.pairs - x.pairs), sameSystem };
}
