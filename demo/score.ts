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
export function linkableRecall(truth: ReadonlyMap<string, string>, values: Iterable<{ record: string; value: string }>): { truePairs: number; linkablePairs: number; ceiling: number } {
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
  const cell = new Map<string, number>();
  const person = new Map<string, number>();
  for (const [r, p] of truth) {
    const k = `${find(r)}\u0000${p}`;
    cell.set(k, (cell.get(k) ?? 0) + 1);
    person.set(p, (person.get(p) ?? 0) + 1);
  }
  let linkablePairs = 0;
  let truePairs = 0;
  for (const n of cell.values()) linkablePairs += pairs(n);
  for (const n of person.values()) truePairs += pairs(n);
  return { truePairs, linkablePairs, ceiling: truePairs === 0 ? 1 : linkablePairs / truePairs };
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
