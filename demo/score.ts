/**
 * Scores an identity resolution against the generator's ground truth, pairwise: every pair of
 * records the resolver put in one customer is a predicted "same person" pair; every pair the
 * truth puts in one person is a true pair. Counting per (customer, person) cell keeps it linear.
 */

export interface RecordAssignment {
  /** `source:recordId` */
  record: string;
  customerId: string;
}

export interface IdentityScore {
  records: number;
  people: number;
  customers: number;
  truePairs: number;
  predictedPairs: number;
  correctPairs: number;
  precision: number;
  recall: number;
  f1: number;
  /** Customers whose records belong to more than one person. */
  overMergedClusters: number;
  /** Records of one customer, at most. */
  largestCluster: number;
  /** People whose records ended up in more than one customer. */
  splitPeople: number;
  /** Records the resolver assigned that the truth does not know (should be 0). */
  unknownRecords: number;
}

const pairs = (n: number) => (n * (n - 1)) / 2;

export function scoreResolution(truth: ReadonlyMap<string, string>, assignment: Iterable<RecordAssignment>): IdentityScore {
  const cell = new Map<string, number>();
  const customerSize = new Map<string, number>();
  const personSize = new Map<string, number>();
  const customersOfPerson = new Map<string, Set<string>>();
  const peopleOfCustomer = new Map<string, Set<string>>();
  let records = 0;
  let unknownRecords = 0;
  for (const a of assignment) {
    const person = truth.get(a.record);
    if (person === undefined) {
      unknownRecords++;
      continue;
    }
    records++;
    const key = `${a.customerId}\u0000${person}`;
    cell.set(key, (cell.get(key) ?? 0) + 1);
    customerSize.set(a.customerId, (customerSize.get(a.customerId) ?? 0) + 1);
    personSize.set(person, (personSize.get(person) ?? 0) + 1);
    if (!customersOfPerson.has(person)) customersOfPerson.set(person, new Set());
    customersOfPerson.get(person)!.add(a.customerId);
    if (!peopleOfCustomer.has(a.customerId)) peopleOfCustomer.set(a.customerId, new Set());
    peopleOfCustomer.get(a.customerId)!.add(person);
  }
  let correctPairs = 0;
  for (const n of cell.values()) correctPairs += pairs(n);
  let predictedPairs = 0;
  let largestCluster = 0;
  for (const n of customerSize.values()) {
    predictedPairs += pairs(n);
    largestCluster = Math.max(largestCluster, n);
  }
  let truePairs = 0;
  for (const n of personSize.values()) truePairs += pairs(n);
  const precision = predictedPairs === 0 ? 1 : correctPairs / predictedPairs;
  const recall = truePairs === 0 ? 1 : correctPairs / truePairs;
  return {
    records,
    people: personSize.size,
    customers: customerSize.size,
    truePairs,
    predictedPairs,
    correctPairs,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    overMergedClusters: [...peopleOfCustomer.values()].filter((s) => s.size > 1).length,
    largestCluster,
    splitPeople: [...customersOfPerson.values()].filter((s) => s.size > 1).length,
    unknownRecords,
  };
}

/** Customers holding records of several people, with those people's records. */
export function overMerged(truth: ReadonlyMap<string, string>, assignment: Iterable<RecordAssignment>): Map<string, Map<string, string[]>> {
  const byCustomer = new Map<string, Map<string, string[]>>();
  for (const a of assignment) {
    const person = truth.get(a.record);
    if (person === undefined) continue;
    if (!byCustomer.has(a.customerId)) byCustomer.set(a.customerId, new Map());
    const people = byCustomer.get(a.customerId)!;
    people.set(person, [...(people.get(person) ?? []), a.record]);
  }
  for (const [id, people] of byCustomer) if (people.size < 2) byCustomer.delete(id);
  return byCustomer;
}

/** Reads `source,record_id,person_id` CSV into record → person. */
export function parseTruthCsv(text: string): Map<string, string> {
  const truth = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const [source, recordId, person] = line.split(',');
    truth.set(`${source}:${recordId}`, person);
  }
  return truth;
}

/**
 * The most any resolver linking on exact shared values could reach: the pairs of one person's
 * records that are connected through a chain of values they share (each value usable, i.e. not
 * blocked). Pairs outside it share nothing and can only be joined by fuzzy evidence.
 */
export function linkableRecall(
  truth: ReadonlyMap<string, string>,
  values: Iterable<{ record: string; value: string }>,
): { truePairs: number; linkablePairs: number; ceiling: number } {
  let linkablePairs = 0;
  for (const group of linkableGroups(truth, values)) linkablePairs += pairs(group.length);
  let truePairs = 0;
  for (const group of groupsOf(truth, (_, person) => person)) truePairs += pairs(group.length);
  return { truePairs, linkablePairs, ceiling: truePairs === 0 ? 1 : linkablePairs / truePairs };
}

/**
 * The values that tell whose records they are: those the records of one person alone carry.
 * `linkableRecall` counts a value per person, so a phone a household shares joins each of its
 * people's records to each other, though nothing in the value says which records are whose;
 * the ceiling over these values leaves such pairs out. With `nameOf` (a record's name key, null
 * when it has none), a value several people carry still joins the records that carry it under
 * one name (`VALUE NUL name`): the name says whose they are, and a resolver may link them
 * (a household's phone on two records both named 王芳), so the ceiling counts them too.
 */
export function identifyingValues(
  truth: ReadonlyMap<string, string>,
  values: Iterable<{ record: string; value: string }>,
  nameOf?: (record: string) => string | null | undefined,
): Array<{ record: string; value: string }> {
  const list = [...values];
  const peopleOf = new Map<string, Set<string>>();
  for (const { record, value } of list) {
    const person = truth.get(record);
    if (person === undefined) continue;
    const people = peopleOf.get(value) ?? new Set<string>();
    people.add(person);
    peopleOf.set(value, people);
  }
  const out: Array<{ record: string; value: string }> = [];
  for (const v of list) {
    if ((peopleOf.get(v.value)?.size ?? 0) <= 1) out.push(v);
    else if (nameOf) {
      const name = nameOf(v.record);
      if (name) out.push({ record: v.record, value: `${v.value}\u0000${name}` });
    }
  }
  return out;
}

/**
 * The ceiling's pairs the identifying ceiling leaves out: one person's two records joined only
 * through values several people's records carry, under no one name (a household's phone on a
 * named contact and a nameless shop account). Nothing in those records says whose the value is,
 * so no rule that keeps precision links them except by chance; `linked` counts those the
 * resolution joined all the same (through evidence the ceiling does not count, a name the
 * tier read as agreeing). Both groupings partition the truth's records (`linkableGroups`), the
 * identifying one inside the other.
 */
export function pairsBeyondIdentifying(
  ceilingGroups: ReadonlyArray<readonly string[]>,
  identifyingGroups: ReadonlyArray<readonly string[]>,
  customerOf: ReadonlyMap<string, string | null>,
): { pairs: number; linked: number } {
  const part = new Map<string, number>();
  identifyingGroups.forEach((g, i) => g.forEach((r) => part.set(r, i)));
  let pairs = 0;
  let linked = 0;
  for (const g of ceilingGroups)
    for (let i = 0; i < g.length; i++)
      for (let j = i + 1; j < g.length; j++) {
        if (part.get(g[i]) === part.get(g[j])) continue;
        pairs++;
        const c = customerOf.get(g[i]);
        if (c && c === customerOf.get(g[j])) linked++;
      }
  return { pairs, linked };
}

/**
 * The identifying ceiling split at some values (session 43: those the household guard refused,
 * two records of one system carrying one and nothing tying them): `through`, the pairs only a
 * chain through one of them joins, and `rest`, the pairs joined without any, each with how many
 * the resolution linked. What lies through them is the pairs a matcher reaches only by deciding
 * whose the refused value is; the rest's share of the ceiling is the most a matcher that never
 * decides it could reach. `values` are `identifyingValues` entries; `at` holds bare values.
 */
export function pairsThroughValues(
  truth: ReadonlyMap<string, string>,
  values: ReadonlyArray<{ record: string; value: string }>,
  at: ReadonlySet<string>,
  customerOf: ReadonlyMap<string, string | null>,
): { through: { pairs: number; linked: number }; rest: { pairs: number; linked: number } } {
  const restGroups = linkableGroups(
    truth,
    values.filter((v) => !at.has(valueOfIdentifying(v.value))),
  );
  const through = pairsBeyondIdentifying(linkableGroups(truth, values), restGroups, customerOf);
  let pairs = 0;
  let linked = 0;
  for (const g of restGroups)
    for (let i = 0; i < g.length; i++)
      for (let j = i + 1; j < g.length; j++) {
        pairs++;
        const c = customerOf.get(g[i]);
        if (c && c === customerOf.get(g[j])) linked++;
      }
  return { through, rest: { pairs, linked } };
}

/** The value of an `identifyingValues` entry without the name a shared value was joined under. */
export const valueOfIdentifying = (value: string) => (value.includes('\u0000') ? value.slice(0, value.indexOf('\u0000')) : value);

/**
 * The records of each person that a chain of shared values connects (see `linkableRecall`):
 * one group per connected part of a person's records, every truth record in exactly one group.
 */
export function linkableGroups(truth: ReadonlyMap<string, string>, values: Iterable<{ record: string; value: string }>): string[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const r of truth.keys()) parent.set(r, r);
  const firstOf = new Map<string, string>(); // value + person → first record carrying it
  for (const { record, value } of values) {
    const person = truth.get(record);
    if (person === undefined) continue;
    const key = `${value}\u0000${person}`;
    const first = firstOf.get(key);
    if (first === undefined) firstOf.set(key, record);
    else parent.set(find(record), find(first));
  }
  return groupsOf(truth, (r, p) => `${find(r)}\u0000${p}`);
}

/** Records grouped by a key of (record, person), truth records only. */
function groupsOf(truth: ReadonlyMap<string, string>, keyOf: (record: string, person: string) => string): string[][] {
  const groups = new Map<string, string[]>();
  for (const [r, p] of truth) {
    const k = keyOf(r, p);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups.values()];
}

/**
 * True pairs the resolution did not join, by the two systems their records come from
 * (`crm–scrm`), most first: where recall is lost, for deciding which evidence to add.
 */
export function missedPairsBySystems(truth: ReadonlyMap<string, string>, assignment: Iterable<RecordAssignment>): Array<{ systems: string; pairs: number }> {
  const customerOf = new Map<string, string>();
  for (const a of assignment) customerOf.set(a.record, a.customerId);
  const recordsOf = new Map<string, string[]>();
  for (const [record, person] of truth) {
    const list = recordsOf.get(person);
    if (list) list.push(record);
    else recordsOf.set(person, [record]);
  }
  const missed = new Map<string, number>();
  for (const records of recordsOf.values()) {
    for (let i = 0; i < records.length; i++) {
      for (let j = i + 1; j < records.length; j++) {
        const [a, b] = [records[i], records[j]];
        const ca = customerOf.get(a);
        if (ca !== undefined && ca === customerOf.get(b)) continue;
        const systems = [a.split(':')[0], b.split(':')[0]].sort().join('–');
        missed.set(systems, (missed.get(systems) ?? 0) + 1);
      }
    }
  }
  return [...missed].map(([systems, pairs]) => ({ systems, pairs })).sort((x, y) => y.pairs - x.pairs || (x.systems < y.systems ? -1 : 1));
}

/** The system (OneID source) of a `source:recordId` record. */
export function systemOf(record: string): string {
  const i = record.indexOf(':');
  return i < 0 ? record : record.slice(0, i);
}

/** The truth restricted to records of some systems (to score a resolution of those systems only). */
export function truthOfSystems(truth: ReadonlyMap<string, string>, systems: Iterable<string>): Map<string, string> {
  const keep = new Set(systems);
  return new Map([...truth].filter(([record]) => keep.has(systemOf(record))));
}

/** `a–b` for a pair of records of systems a and b, in name order (as `missedPairsBySystems` names them). */
export const systemPairKey = (a: string, b: string) => (a <= b ? `${a}–${b}` : `${b}–${a}`);

/**
 * Pairs of records inside the groups (each group: records taken as one), counted by the two
 * systems of the pair: `n(n-1)/2` within a system, `n·m` across two. Linear in the records.
 */
export function pairsBySystemPair(groups: Iterable<readonly string[]>): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, n: number) => n > 0 && out.set(k, (out.get(k) ?? 0) + n);
  for (const group of groups) {
    const count = new Map<string, number>();
    for (const r of group) count.set(systemOf(r), (count.get(systemOf(r)) ?? 0) + 1);
    const systems = [...count.keys()];
    for (let i = 0; i < systems.length; i++) {
      add(systemPairKey(systems[i], systems[i]), pairs(count.get(systems[i])!));
      for (let j = i + 1; j < systems.length; j++) add(systemPairKey(systems[i], systems[j]), count.get(systems[i])! * count.get(systems[j])!);
    }
  }
  return out;
}

export interface PairFigures {
  /** Pairs of one person's records (all truth records, assigned or not). */
  truePairs: number;
  /** Pairs the resolver put in one customer (records the truth knows only). */
  predictedPairs: number;
  /** Predicted pairs that are true pairs. */
  correctPairs: number;
  /** True pairs a chain of shared usable values connects: the exact-matching ceiling. */
  linkablePairs: number;
  /** The same, with perfect name matching on top. */
  linkableWithNamesPairs: number;
}

export interface SystemFigures extends PairFigures {
  precision: number;
  recall: number;
  f1: number;
  ceiling: number;
  ceilingWithNames: number;
}

function figures(c: PairFigures): SystemFigures {
  const precision = c.predictedPairs === 0 ? 1 : c.correctPairs / c.predictedPairs;
  const recall = c.truePairs === 0 ? 1 : c.correctPairs / c.truePairs;
  return {
    ...c,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    ceiling: c.truePairs === 0 ? 1 : c.linkablePairs / c.truePairs,
    ceilingWithNames: c.truePairs === 0 ? 1 : c.linkableWithNamesPairs / c.truePairs,
  };
}

/**
 * The pairwise figures broken down by system: for each pair of systems (`crm–scrm`, `crm–crm`),
 * the true, predicted, correct and linkable pairs between their records; for each system, the
 * same over every pair with at least one record of it (so a pair across two systems counts for
 * both, and the per-system rows do not add up to the total).
 */
export function scoreBySystems(
  truth: ReadonlyMap<string, string>,
  assignment: Iterable<RecordAssignment>,
  linkable: { groups: Iterable<readonly string[]>; withNames: Iterable<readonly string[]> },
): {
  systems: Array<{ system: string; records: number; people: number } & SystemFigures>;
  pairs: Array<{ systems: string } & SystemFigures>;
} {
  const byCustomer = new Map<string, string[]>();
  const byCell = new Map<string, string[]>();
  for (const a of assignment) {
    const person = truth.get(a.record);
    if (person === undefined) continue;
    for (const [map, key] of [
      [byCustomer, a.customerId],
      [byCell, `${a.customerId}\u0000${person}`],
    ] as const) {
      const g = map.get(key);
      if (g) g.push(a.record);
      else map.set(key, [a.record]);
    }
  }
  const counts = {
    truePairs: pairsBySystemPair(groupsOf(truth, (_, p) => p)),
    predictedPairs: pairsBySystemPair(byCustomer.values()),
    correctPairs: pairsBySystemPair(byCell.values()),
    linkablePairs: pairsBySystemPair(linkable.groups),
    linkableWithNamesPairs: pairsBySystemPair(linkable.withNames),
  };
  const fields = Object.keys(counts) as Array<keyof PairFigures>;
  const keys = new Set(Object.values(counts).flatMap((m) => [...m.keys()]));
  const zero = (): PairFigures => ({ truePairs: 0, predictedPairs: 0, correctPairs: 0, linkablePairs: 0, linkableWithNamesPairs: 0 });
  const perPair = new Map([...keys].map((k) => [k, Object.fromEntries(fields.map((f) => [f, counts[f].get(k) ?? 0])) as unknown as PairFigures]));
  const records = new Map<string, number>();
  const peopleOf = new Map<string, Set<string>>();
  for (const [r, p] of truth) {
    const s = systemOf(r);
    records.set(s, (records.get(s) ?? 0) + 1);
    if (!peopleOf.has(s)) peopleOf.set(s, new Set());
    peopleOf.get(s)!.add(p);
  }
  const systems = [...records.keys()].map((system) => {
    const sum = zero();
    for (const [k, c] of perPair) if (k.split('–').includes(system)) for (const f of fields) sum[f] += c[f];
    return { system, records: records.get(system)!, people: peopleOf.get(system)!.size, ...figures(sum) };
  });
  const pairList = [...perPair]
    .map(([systems, c]) => ({ systems, ...figures(c) }))
    .sort((x, y) => y.truePairs - x.truePairs || y.predictedPairs - x.predictedPairs || (x.systems < y.systems ? -1 : 1));
  return { systems, pairs: pairList };
}

/**
 * Precision, recall and F1 over the record pairs that share no identifier value (`values`),
 * customers as `customerOf` says: what linking on names, birthdays and places achieved where
 * identifiers could not. `records` are the records in scope (both sides named and with a birthday).
 */
export function unsharedPairFigures(
  records: ReadonlyArray<{ record: string; values: ReadonlySet<string> }>,
  truth: ReadonlyMap<string, string>,
  customerOf: (record: string) => string | null,
): { truePairs: number; predicted: number; found: number; precision: number; recall: number; f1: number } {
  const valuesOf = new Map(records.map((r) => [r.record, r.values]));
  const shares = (a: string, b: string) => [...valuesOf.get(a)!].some((v) => valuesOf.get(b)!.has(v));
  const eachUnsharedPair = (key: (record: string) => string | null | undefined, each: (a: string, b: string) => void) => {
    const groups = new Map<string, string[]>();
    for (const { record } of records) {
      const g = key(record);
      if (g) groups.set(g, [...(groups.get(g) ?? []), record]);
    }
    for (const list of groups.values()) for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) if (!shares(list[i], list[j])) each(list[i], list[j]);
  };
  let truePairs = 0;
  let found = 0;
  eachUnsharedPair(
    (r) => truth.get(r),
    (a, b) => {
      truePairs++;
      const c = customerOf(a);
      if (c && c === customerOf(b)) found++;
    },
  );
  let predicted = 0;
  eachUnsharedPair(customerOf, () => predicted++);
  const precision = predicted ? found / predicted : 0;
  const recall = truePairs ? found / truePairs : 0;
  return { truePairs, predicted, found, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
}
