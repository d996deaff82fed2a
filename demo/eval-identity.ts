/**
 * npm run eval:identity [-- --people 5000 --seed 42 --data-dir data/eval] [--sources crm,orders,support,scrm]
 *                        [--profile default|noisy | --world-csv FILE] [--weights FILE] [--estimate]
 *                        [--missed-name-birth FILE] [--missed-shared FILE]
 *
 * `--profile noisy` evaluates the second world (demo/world-noisy.ts: five systems read through
 * the declarative SQL kind, with name, birthday, address and phone noise, international
 * customers). Figures are given per tier: the rules (deterministic), the probabilistic tier's
 * own links, and the pairs its review queue would add if every candidate were accepted; and,
 * apart, over the pairs that share no identifier but both carry a name and a birthday.
 * `--world-csv FILE` evaluates an external world instead: records written outside the project
 * (a labelled sample, a public benchmark such as FEBRL through demo/febrl.ts), one CSV line per
 * record with its system, its person (the truth) and its identity fields (format in
 * demo/world-csv.ts and docs/identity.md), loaded into the noisy profile's systems in their own
 * table format and scored the same way (`--people`/`--seed` do not apply).
 * `--estimate` first estimates the tier's weights on the evaluated world itself, without its
 * truth (as `npm run identity:estimate` does), into the data directory; `--weights` names a
 * weights file to use instead of the rules' own. `--missed-name-birth FILE` writes the true pairs
 * of the name-and-birthday figures left apart, with their names, name level and blocking;
 * `--missed-shared FILE` the true pairs inside the identifier ceiling left apart, each with its
 * class (demo/missed-pairs.ts `pairClass`) and the values the two share.
 *
 * Resolves a demo world into a fresh OneID map with the configured rules and scores it against
 * the generator's ground truth: pairwise precision, recall and F1, over-merged clusters, the
 * largest cluster, and whether any over-merge joined two people only through a blocked or
 * over-shared value (the failure identity graphs must never have). Three ceilings say how much
 * recall the data allows: through shared identifiers, through the identifiers one person alone
 * carries (a household's shared phone tells no one's records apart), and with perfect name
 * matching on top.
 *
 * Every source of the demo config is resolved (the four original systems and each demo system
 * of demo/systems/ whose store the world has), and the figures are broken down per system and
 * per pair of systems. `--sources a,b` resolves and scores only those sources (the truth is
 * restricted to their records): `--sources crm,orders,support,scrm` is the world as it was
 * before the demo systems, for comparing figures across the change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config';
import { openDatabase, type SqlConnection } from '../src/db';
import { createRegistry } from '../src/sources/registry';
import { noopObserver } from '../src/sources/observe';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve, type IdentityRules } from '../src/idmap';
import { matchKeyOf } from '../src/idmap/rules';
import { nameKey } from '../src/idmap/evidence';
import { T } from '../src/idmap/tables';
import { demoConnections, ensureDemoWorld, TRUTH_FILE } from './seed';
import { demoSourcesConfig, spawnStandIns } from './world-sources';
import { ensureNoisyWorld, noisySourcesConfig } from './generate';
import { NOISY_SYSTEMS } from './world-noisy';
import { estimateWeights, withUnseenLevelsFrom } from '../src/idmap/probabilistic/estimate';
import { loadWeights } from '../src/idmap/probabilistic/model';
import { featuresOfRecords } from '../src/idmap/probabilistic/store';
import { blockKeys, type MatchFeatures } from '../src/idmap/probabilistic/features';
import { compareNames } from '../src/idmap/probabilistic/names';
import { parseIdentityRules } from '../src/idmap/rules';
import {
  identifyingValues,
  linkableGroups,
  linkableRecall,
  missedPairsBySystems,
  overMerged,
  pairsBeyondIdentifying,
  pairsThroughValues,
  parseTruthCsv,
  scoreBySystems,
  scoreResolution,
  systemOf,
  truthOfSystems,
  unsharedPairFigures,
  type RecordAssignment,
} from './score';
import type { IdentifierKind } from '../src/vocabulary';
import { besideTheGuardOf, guardRefusedValues, missedPairsByCause, type MissedPair } from './missed-pairs';
import { loadWorldCsv, worldCsvSourcesConfig, WorldCsvError, type WorldCsv } from './world-csv';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function intArg(name: string, fallback: number): number {
  const raw = arg(name, String(fallback));
  if (!/^\d+$/.test(raw)) {
    process.stderr.write(`eval:identity: --${name} must be a whole number (got "${raw}")\n`);
    process.exit(2);
  }
  return Number(raw);
}

/**
 * Over-merges that went only through bad values: for each pair of people in one customer, the
 * values their records share. If they share some, and every one of them is blocked by the rules
 * or carried by more people than the kind allows, the merge went through a value it must not use.
 */
async function badValueMerges(db: ReturnType<typeof openDatabase>, truth: Map<string, string>, clusters: Map<string, Map<string, string[]>>, rules: IdentityRules) {
  const recordsOf = new Map<string, string>(); // record → person, for records in over-merged clusters
  for (const people of clusters.values()) for (const [person, recs] of people) for (const r of recs) recordsOf.set(r, person);
  if (recordsOf.size === 0) return { checked: 0, viaBadValue: 0, examples: [] as string[] };
  const rows: Array<{ source: string; record_id: string; kind: string; value: string }> = [];
  const keys = [...recordsOf.keys()].map((r) => r.split(':'));
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    rows.push(...(await db(T.identifiers).whereNull('valid_to').whereIn(['source', 'record_id'], chunk).select('source', 'record_id', 'kind', 'value')));
  }
  const valuesOf = new Map<string, Set<string>>(); // person → kind:value
  for (const r of rows) {
    const person = recordsOf.get(`${r.source}:${r.record_id}`)!;
    if (!valuesOf.has(person)) valuesOf.set(person, new Set());
    valuesOf.get(person)!.add(`${r.kind}\u0000${r.value}`);
  }
  // How many people carry each shared value, world-wide (from the truth, not the resolver).
  const shared = new Set<string>();
  for (const people of clusters.values()) {
    const list = [...people.keys()];
    for (let a = 0; a < list.length; a++)
      for (let b = a + 1; b < list.length; b++) for (const v of valuesOf.get(list[a]) ?? []) if (valuesOf.get(list[b])?.has(v)) shared.add(v);
  }
  const peopleCarrying = new Map<string, Set<string>>();
  for (const v of shared) {
    const [kind, value] = v.split('\u0000');
    const carriers = await db(T.identifiers)
      .where({ kind, match_key: matchKeyOf(kind as IdentifierKind, value), value })
      .select('source', 'record_id');
    peopleCarrying.set(v, new Set(carriers.map((c: { source: string; record_id: string }) => truth.get(`${c.source}:${c.record_id}`)).filter(Boolean) as string[]));
  }
  const isBad = (v: string) => {
    const [kind, value] = v.split('\u0000') as [IdentifierKind, string];
    const limit = rules.strongKind(kind)?.maxPeople ?? 1;
    return rules.blockedBy(kind, value) !== null || (peopleCarrying.get(v)?.size ?? 0) > limit;
  };
  let viaBadValue = 0;
  const examples: string[] = [];
  for (const [customer, people] of clusters) {
    const list = [...people.keys()];
    let bad = false;
    for (let a = 0; a < list.length && !bad; a++)
      for (let b = a + 1; b < list.length && !bad; b++) {
        const common = [...(valuesOf.get(list[a]) ?? [])].filter((v) => valuesOf.get(list[b])?.has(v));
        if (common.length > 0 && common.every(isBad)) bad = true;
      }
    if (bad) {
      viaBadValue++;
      if (examples.length < 5) examples.push(customer);
    }
  }
  return { checked: clusters.size, viaBadValue, examples };
}

/**
 * Where eval reads names in the demo systems' own stores: CRM and helpdesk names and SCRM
 * nicknames. Systems not listed here (the shop has no name; demo systems of demo/systems/ have
 * no name contract) count as unnamed: the name ceiling then adds nothing for their records.
 */
const NAME_COLUMNS: Readonly<Record<string, { table: string; key: string; name: string }>> = {
  crm: { table: 'crm_contacts', key: 'contact_id', name: 'name' },
  support: { table: 'support_users', key: 'id', name: 'name' },
  scrm: { table: 'scrm_followers', key: 'openid', name: 'nickname' },
};

/**
 * Records that carry something name-like, read straight from the demo systems (`NAME_COLUMNS`)
 * that the resolver's own name key accepts. Joining each of them to its person's other named
 * records (an oracle, right every time) bounds what any name matching could add.
 */
async function namedRecords(dataDir: string, sources: readonly string[], noisy = false): Promise<string[]> {
  const conn = (
    noisy ? Object.fromEntries(NOISY_SYSTEMS.map((s) => [s, { client: 'sqlite', filename: path.join(dataDir, 'noisy.sqlite') }])) : demoConnections(dataDir)
  ) as Record<string, SqlConnection | undefined>;
  const out: string[] = [];
  for (const source of sources) {
    const columns = noisy ? { table: source, key: 'id', name: 'name' } : NAME_COLUMNS[source];
    const connection = conn[source];
    if (!columns || !connection) continue;
    const db = openDatabase(connection, { readOnly: true });
    try {
      for (const row of await db(columns.table).select({ key: columns.key, name: columns.name })) if (nameKey(row.name)) out.push(`${source}:${row.key}`);
    } finally {
      await db.destroy();
    }
  }
  return out;
}

const pad = (x: string | number, n: number) => String(x).padStart(n);

/** The rules of `rulesFile` with another weights file. */
function withWeights(rulesFile: string, weightsFile: string): IdentityRules {
  const json = JSON.parse(fs.readFileSync(rulesFile, 'utf8'));
  json.probabilistic.weightsFile = weightsFile;
  return parseIdentityRules(json, rulesFile);
}

/** Every record's match features, from the store (as staged). */
async function allFeatures(db: ReturnType<typeof openDatabase>) {
  const keys: Array<{ source: string; record_id: string }> = await db('idmap_match_features').select('source', 'record_id');
  return [
    ...(
      await featuresOfRecords(
        db,
        keys.map((k) => ({ source: k.source, recordId: k.record_id })),
      )
    ).values(),
  ];
}

const pairsIn = (n: number) => (n * (n - 1)) / 2;

/**
 * What each tier added, in record pairs: the probabilistic tier's own (pairs in one customer
 * now that were not after the rules), the review queue's (the record pairs of its open
 * probable candidates, and the recall if all were accepted), and the figures over the pairs
 * that share no identifier value but both carry a name and a birthday.
 */
async function tierFigures(
  db: ReturnType<typeof openDatabase>,
  truth: Map<string, string>,
  before: Array<{ source: string; record_id: string; customer_id: string | null }>,
  after: Array<{ source: string; record_id: string; customer_id: string | null }>,
) {
  const rec = (r: { source: string; record_id: string }) => `${r.source}:${r.record_id}`;
  const beforeOf = new Map(before.map((r) => [rec(r), r.customer_id]));
  const clusters = new Map<string, string[]>();
  for (const r of after) if (r.customer_id && truth.has(rec(r))) clusters.set(r.customer_id, [...(clusters.get(r.customer_id) ?? []), rec(r)]);
  let predicted = 0;
  let correct = 0;
  for (const list of clusters.values())
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const [a, b] = [list[i], list[j]];
        if (beforeOf.get(a) && beforeOf.get(a) === beforeOf.get(b)) continue;
        predicted++;
        if (truth.get(a) === truth.get(b)) correct++;
      }
  // Review queue: record pairs of open probable candidates, as if accepted (merging their customers).
  const cands: Array<{ evidence: string; customer_id: string; other_customer_id: string }> = await db(T.candidates)
    .where({ reason: 'probable', status: 'open' })
    .select('evidence', 'customer_id', 'other_customer_id');
  let reviewCorrect = 0;
  const parent = new Map<string, string>();
  const find = (x: string): string => (parent.has(x) ? (parent.set(x, find(parent.get(x)!)), parent.get(x)!) : x);
  for (const c of cands) {
    const [a, b] = (JSON.parse(c.evidence).pair ?? []) as string[];
    if (truth.get(a) && truth.get(a) === truth.get(b)) reviewCorrect++;
    const [x, y] = [find(c.customer_id), find(c.other_customer_id)];
    if (x !== y) parent.set(x, y);
  }
  const people = new Map<string, Map<string, number>>();
  let truePairs = 0;
  const perPerson = new Map<string, number>();
  for (const p of truth.values()) perPerson.set(p, (perPerson.get(p) ?? 0) + 1);
  for (const n of perPerson.values()) truePairs += pairsIn(n);
  for (const r of after) {
    if (!r.customer_id || !truth.has(rec(r))) continue;
    const root = find(r.customer_id);
    const m = people.get(root) ?? new Map<string, number>();
    people.set(root, m);
    m.set(truth.get(rec(r))!, (m.get(truth.get(rec(r))!) ?? 0) + 1);
  }
  let accepted = 0;
  for (const m of people.values()) for (const n of m.values()) accepted += pairsIn(n);
  // Pairs with no shared identifier, both named and with a birthday: as linked, and as if the review queue were accepted.
  const feats = await allFeatures(db);
  const eligible = feats.filter((f) => f.name && f.birth && truth.has(`${f.source}:${f.recordId}`));
  const custOf = new Map(after.map((r) => [rec(r), r.customer_id]));
  const records = eligible.map((f) => ({ record: `${f.source}:${f.recordId}`, values: new Set(f.values.map((v) => `${v.kind}:${v.key}`)) }));
  const nameBirth = unsharedPairFigures(records, truth, (k) => custOf.get(k) ?? null);
  const missedOut = arg('missed-name-birth', '');
  if (missedOut)
    fs.writeFileSync(
      missedOut,
      missedNameBirthPairs(eligible, truth, (k) => custOf.get(k) ?? null),
    );
  const nameBirthIfAccepted = unsharedPairFigures(records, truth, (k) => (custOf.get(k) ? find(custOf.get(k)!) : null));
  return {
    probabilistic: { predicted, correct },
    review: { candidates: cands.length, pairs: cands.length, correct: reviewCorrect, recallIfAccepted: truePairs ? accepted / truePairs : 0 },
    nameBirth: { ...nameBirth, ifAccepted: nameBirthIfAccepted },
  };
}

/**
 * `--missed-name-birth FILE`: every true pair of the name-and-birthday set left in two customers,
 * one tab-separated line each (person, both records, both names as compared, both birthdays, the
 * name level, whether the two share a block key: a pair that shares none is never compared).
 * For finding causes by hand; reads the truth, so evaluation only.
 */
function missedNameBirthPairs(eligible: MatchFeatures[], truth: ReadonlyMap<string, string>, customerOf: (record: string) => string | null): string {
  const byPerson = new Map<string, MatchFeatures[]>();
  for (const f of eligible) {
    const p = truth.get(`${f.source}:${f.recordId}`)!;
    byPerson.set(p, [...(byPerson.get(p) ?? []), f]);
  }
  const lines = ['person\ta\tb\tname_a\tname_b\tbirth_a\tbirth_b\tlevel\tblocked_together'];
  for (const [person, list] of byPerson)
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const [x, y] = [list[i], list[j]];
        const [a, b] = [`${x.source}:${x.recordId}`, `${y.source}:${y.recordId}`];
        if (x.values.some((v) => y.values.some((w) => w.kind === v.kind && w.key === v.key))) continue;
        if (customerOf(a) && customerOf(a) === customerOf(b)) continue;
        const together = blockKeys(x).some((k) => blockKeys(y).includes(k));
        lines.push([person, a, b, x.name!.text, y.name!.text, x.birth, y.birth, compareNames(x.name, y.name) ?? 'not compared', together ? 'yes' : 'no'].join('\t'));
      }
  return lines.join('\n') + '\n';
}

/**
 * `--missed-shared FILE`: every true pair inside the identifier ceiling left in two customers, one
 * tab-separated line each (person, both records, the pair's class, the values they share as
 * `KIND:what refused it:people carrying it`, whether each side has a name and a birthday key).
 * For finding causes by hand; reads the truth, so evaluation only.
 */
function missedSharedPairs(pairs: readonly MissedPair[]): string {
  const yn = (x: boolean) => (x ? 'yes' : 'no');
  const lines = ['person\ta\tb\tclass\tshared\tnamed_a\tnamed_b\tdated_a\tdated_b'];
  for (const p of pairs)
    lines.push([p.person, p.a, p.b, p.pairClass, p.shared.map((v) => `${v.kind}:${v.cause}:${v.people}`).join(' ') || '-', ...p.named.map(yn), ...p.dated.map(yn)].join('\t'));
  return lines.join('\n') + '\n';
}

async function main() {
  const people = intArg('people', 5000);
  const seed = intArg('seed', 42);
  const worldCsv = arg('world-csv', '');
  const profile = worldCsv ? 'csv' : arg('profile', 'default');
  if (profile !== 'default' && profile !== 'noisy' && profile !== 'csv') {
    process.stderr.write(`eval:identity: --profile must be default or noisy (got "${profile}")\n`);
    process.exit(2);
  }
  // An external world (--world-csv) is loaded into the noisy profile's systems and read like them.
  const noisy = profile !== 'default';
  const dataDir = path.resolve(
    arg('data-dir', path.join('data', worldCsv ? `eval-csv-${path.basename(worldCsv).replace(/\.csv$/i, '')}` : `eval-${noisy ? 'noisy-' : ''}${people}-${seed}`)),
  );
  const rulesFile = path.resolve(arg('rules', 'config/identity-rules.json'));
  let rules = loadIdentityRules(rulesFile);

  let csvWorld: WorldCsv | null = null;
  let world: { generated: boolean; manifest: { generatorVersion: number | string; records: Record<string, number> } };
  if (worldCsv) {
    try {
      const loaded = await loadWorldCsv({ file: path.resolve(worldCsv), dataDir, truthFile: path.join(dataDir, TRUTH_FILE) });
      csvWorld = loaded.world;
      world = { generated: true, manifest: { generatorVersion: `csv ${path.relative(process.cwd(), path.resolve(worldCsv))}`, records: loaded.records } };
    } catch (e) {
      if (!(e instanceof WorldCsvError)) throw e;
      process.stderr.write(`eval:identity: --world-csv: ${e.message}\n`);
      process.exit(2);
    }
  } else world = noisy ? await ensureNoisyWorld({ dataDir, people, seed, truthFile: path.join(dataDir, TRUTH_FILE) }) : await ensureDemoWorld({ dataDir, people, seed });
  const file = (n: string) => path.join(dataDir, n);
  const standIns = noisy ? Object.assign({} as Record<string, string>, { stop() {} }) : await spawnStandIns(dataDir);
  const oneidFile = file('oneid-eval.sqlite');
  for (const f of [oneidFile, `${oneidFile}-wal`, `${oneidFile}-shm`]) fs.rmSync(f, { force: true });
  const allSources = csvWorld ? worldCsvSourcesConfig(dataDir, csvWorld) : noisy ? noisySourcesConfig(dataDir) : demoSourcesConfig(dataDir, standIns, 30000);
  const wanted = arg('sources', '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const unknown = wanted.filter((w) => !allSources.some((s) => s.name === w));
  if (unknown.length) {
    standIns.stop();
    process.stderr.write(`eval:identity: --sources: no such source ${unknown.join(', ')} (there are ${allSources.map((s) => s.name).join(', ')})\n`);
    process.exit(2);
  }
  const sources = wanted.length ? allSources.filter((s) => wanted.includes(s.name)) : allSources;
  const sourceNames = sources.map((s) => s.name);
  const config = parseConfig(
    {
      oneid: { connection: { client: 'sqlite', filename: oneidFile } },
      sources,
    },
    'eval config',
  );
  const db = openDatabase(config.oneid.connection);
  const registry = createRegistry(config.sources, noopObserver);
  const connectors = registry.sources.map((s) => s.connector);
  try {
    await migrateLatest(db);
    const store = createIdMapStore(db);
    const weightsArg = arg('weights', '');
    if (weightsArg && rules.probabilistic) rules = withWeights(rulesFile, path.resolve(weightsArg));
    // The rules' tier first, scored on its own; then the probabilistic tier over what it left.
    const first = await resolve({ store, db, connectors, rules, tiers: 'deterministic' });
    if (process.argv.includes('--estimate') && rules.probabilistic) {
      const feats = await allFeatures(db);
      // Levels this world never shows keep the weights file's, as `identity:estimate` keeps them.
      const weights = withUnseenLevelsFrom(
        estimateWeights(feats, {
          maxBlock: rules.probabilistic.maxBlock,
          describe: { on: `the evaluated world (${worldCsv ? `--world-csv ${path.basename(worldCsv)}` : `${profile}, people=${people}, seed=${seed}`}), no truth read` },
        }),
        loadWeights(rules.probabilistic.weightsFile),
      );
      const out = file('identity-weights.estimated.json');
      fs.writeFileSync(out, JSON.stringify(weights, null, 2) + '\n');
      rules = withWeights(rulesFile, out);
    }
    const deterministicRows: Array<{ source: string; record_id: string; customer_id: string | null }> = await db(T.sourceRecords).select('source', 'record_id', 'customer_id');
    const second = await resolve({ store, db, connectors, rules });
    const stats = { ...first, ...second, recordsRead: first.recordsRead, customersCreated: first.customersCreated, ms: first.ms + second.ms };
    const fullTruth = parseTruthCsv(fs.readFileSync(file(TRUTH_FILE), 'utf8'));
    // Scored against the records of the sources resolved; truth records of any other system are left out (and said).
    const truth = truthOfSystems(fullTruth, sourceNames);
    const leftOut = new Map<string, number>();
    for (const r of fullTruth.keys()) if (!truth.has(r)) leftOut.set(systemOf(r), (leftOut.get(systemOf(r)) ?? 0) + 1);
    const rows: Array<{ source: string; record_id: string; customer_id: string | null }> = await db(T.sourceRecords).select('source', 'record_id', 'customer_id');
    const assignment: RecordAssignment[] = rows.filter((r) => r.customer_id).map((r) => ({ record: `${r.source}:${r.record_id}`, customerId: r.customer_id! }));
    const score = scoreResolution(truth, assignment);
    const deterministic = scoreResolution(
      truth,
      deterministicRows.filter((r) => r.customer_id).map((r) => ({ record: `${r.source}:${r.record_id}`, customerId: r.customer_id! })),
    );
    const tiers = await tierFigures(db, truth, deterministicRows, rows);
    const bad = await badValueMerges(db, truth, overMerged(truth, assignment), rules);
    // Every value any record ever carried (history included), usable ones only, emails by match key.
    const idRows: Array<{ source: string; record_id: string; kind: IdentifierKind; value: string; match_key: string }> = await db(T.identifiers).select(
      'source',
      'record_id',
      'kind',
      'value',
      'match_key',
    );
    const usable = idRows.filter((r) => rules.blockedBy(r.kind, r.value) === null).map((r) => ({ record: `${r.source}:${r.record_id}`, value: `${r.kind}:${r.match_key}` }));
    const named = [...usable, ...(await namedRecords(dataDir, sourceNames, noisy)).map((record) => ({ record, value: 'NAME' }))];
    const ceiling = linkableRecall(truth, usable);
    // A value several people carry joins a person's records only under one name (`identifyingValues`).
    const nameKeyOf = new Map(
      (await db(T.sourceRecords).whereNotNull('name_key').select('source', 'record_id', 'name_key')).map((r: { source: string; record_id: string; name_key: string }) => [
        `${r.source}:${r.record_id}`,
        r.name_key,
      ]),
    );
    const identifyingUsable = identifyingValues(truth, usable, (r) => nameKeyOf.get(r));
    const identifying = linkableRecall(truth, identifyingUsable);
    const identifyingUnnamed = linkableRecall(truth, identifyingValues(truth, usable));
    const customerOf = new Map(rows.map((r) => [`${r.source}:${r.record_id}`, r.customer_id]));
    const beyondIdentifying = pairsBeyondIdentifying(linkableGroups(truth, usable), linkableGroups(truth, identifyingUsable), customerOf);
    const throughGuard = pairsThroughValues(truth, identifyingUsable, await guardRefusedValues(db), customerOf);
    const why = await missedPairsByCause(db, truth, usable, customerOf);
    const whyIdentifying = await missedPairsByCause(db, truth, identifyingUsable, customerOf);
    const beside = await besideTheGuardOf(db, truth, customerOf);
    const missedSharedOut = arg('missed-shared', '');
    if (missedSharedOut) fs.writeFileSync(missedSharedOut, missedSharedPairs(why.pairs));
    const withNames = linkableRecall(truth, named);
    const missed = missedPairsBySystems(truth, assignment);
    const bySystems = scoreBySystems(truth, assignment, { groups: linkableGroups(truth, usable), withNames: linkableGroups(truth, named) });
    const unnamed = noisy ? [] : sourceNames.filter((s) => !NAME_COLUMNS[s]);
    const f = (x: number) => x.toFixed(4);
    // No pair shares an identifier (a world without them): there is no ceiling to be a share of.
    const ofCeiling = (recall: number) =>
      ceiling.ceiling > 0 ? `${f(recall / ceiling.ceiling)} of ceiling, ${identifying.ceiling > 0 ? f(recall / identifying.ceiling) : '-'} of identifying` : '- of ceiling';
    const order = (s: string) => (sourceNames.indexOf(s) < 0 ? sourceNames.length : sourceNames.indexOf(s));
    const systemRows = [...bySystems.systems].sort((a, b) => order(a.system) - order(b.system));
    const w = Math.max(12, ...bySystems.pairs.map((p) => p.systems.length));
    const head = `${'records'.padStart(8)} ${'people'.padStart(7)} ${'true pairs'.padStart(10)} ${'predicted'.padStart(9)} ${'correct'.padStart(8)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'F1'.padStart(7)} ${'ceiling'.padStart(7)} ${'w/ names'.padStart(8)}`;
    // A rate with nothing to count (no true pairs, no predicted pairs) is shown as '-', not as 0 or 1.
    const row = (x: {
      truePairs: number;
      predictedPairs: number;
      correctPairs: number;
      precision: number;
      recall: number;
      f1: number;
      ceiling: number;
      ceilingWithNames: number;
    }) => {
      const t = (v: number) => (x.truePairs ? f(v) : '-');
      const p = x.predictedPairs ? f(x.precision) : '-';
      return `${pad(x.truePairs, 10)} ${pad(x.predictedPairs, 9)} ${pad(x.correctPairs, 8)} ${pad(p, 9)} ${pad(t(x.recall), 7)} ${pad(x.truePairs && x.predictedPairs ? f(x.f1) : '-', 7)} ${pad(t(x.ceiling), 7)} ${pad(t(x.ceilingWithNames), 8)}`;
    };
    const tierLines = [
      `  by tier (pairs of records; recall against all true pairs, and against the identifier ceiling)`,
      `    deterministic    precision ${f(deterministic.precision)}  recall ${f(deterministic.recall)}  (${ofCeiling(deterministic.recall)})  F1 ${f(deterministic.f1)}  predicted ${deterministic.predictedPairs}`,
      `    + probabilistic  precision ${f(score.precision)}  recall ${f(score.recall)}  (${ofCeiling(score.recall)})  F1 ${f(score.f1)}  predicted ${score.predictedPairs}`,
      `      its own pairs  ${tiers.probabilistic.predicted} new pairs, ${tiers.probabilistic.correct} correct (precision ${tiers.probabilistic.predicted ? f(tiers.probabilistic.correct / tiers.probabilistic.predicted) : '-'}); ${stats.probableLinks} links from ${stats.pairsCompared} pairs compared, ${stats.blocksSkipped} blocks over the size cap; u and prior ${stats.chanceCountedOn ? `counted on the store's ${stats.chanceCountedOn} records` : 'as stored or from the weights file'}, prior ${stats.priorWeight} bits`,
      `    review queue     ${tiers.review.candidates} candidates; their record pairs ${tiers.review.pairs}, same person ${tiers.review.correct} (precision ${tiers.review.pairs ? f(tiers.review.correct / tiers.review.pairs) : '-'}); accepting all would reach recall ${f(tiers.review.recallIfAccepted)}`,
      `  pairs sharing no identifier, both sides with a name and a birthday: ${tiers.nameBirth.truePairs} true, ${tiers.nameBirth.predicted} predicted, precision ${f(tiers.nameBirth.precision)} recall ${f(tiers.nameBirth.recall)} F1 ${f(tiers.nameBirth.f1)}`,
      `    with the review queue accepted: ${tiers.nameBirth.ifAccepted.predicted} predicted, precision ${f(tiers.nameBirth.ifAccepted.precision)} recall ${f(tiers.nameBirth.ifAccepted.recall)} F1 ${f(tiers.nameBirth.ifAccepted.f1)}`,
    ];
    const lines = [
      `identity resolution on the ${worldCsv ? 'external' : noisy ? 'noisy' : 'demo'} world (${worldCsv ? `--world-csv ${worldCsv}` : `people=${people}, seed=${seed}`}, rules=${path.relative(process.cwd(), rulesFile)}${rules.probabilistic ? `, weights=${path.relative(process.cwd(), rules.probabilistic.weightsFile)}` : ''})`,
      `  world            ${path.relative(process.cwd(), dataDir)} (${worldCsv ? 'loaded now' : world.generated ? 'generated now' : 'reused'}, ${worldCsv ? 'from' : 'generator'} ${world.manifest.generatorVersion}; records ${Object.entries(
        world.manifest.records as Record<string, number>,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
      `  sources          ${sourceNames.join(', ')}${wanted.length ? ' (--sources)' : ''}${leftOut.size ? `; truth records left out: ${[...leftOut].map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`,
      `  records          ${score.records} (unassigned: ${rows.length - assignment.length}, unknown to truth: ${score.unknownRecords})`,
      `  people / customers ${score.people} / ${score.customers}`,
      `  precision        ${f(score.precision)}  (${score.correctPairs} of ${score.predictedPairs} predicted pairs)`,
      `  recall           ${f(score.recall)}  (${score.correctPairs} of ${score.truePairs} true pairs)`,
      `  F1               ${f(score.f1)}`,
      `  recall ceiling   ${f(ceiling.ceiling)}  (true pairs joined by a chain of shared usable values; the rest share none)`,
      `    identifying    ${f(identifying.ceiling)}  (through values one person alone carries; a value several people carry, a household's phone, only between records under one name: it tells no other records apart)`,
      `      left out     ${beyondIdentifying.pairs} of the ceiling's ${ceiling.linkablePairs} pairs, joined only through a value several people's records carry and no one name: nothing in them says whose the value is (${beyondIdentifying.linked} linked all the same)`,
      `      through the guard  ${throughGuard.through.pairs} of its ${identifying.linkablePairs} pairs joined only through a value the household guard refused (${throughGuard.through.linked} linked all the same); the other ${throughGuard.rest.pairs} (${f(throughGuard.rest.pairs / (ceiling.linkablePairs || 1))} of the ceiling) ${f(throughGuard.rest.linked / (throughGuard.rest.pairs || 1))} linked: what a matcher reaches without deciding whose a refused value is`,
      `      no names     ${f(identifyingUnnamed.ceiling)}  (the same, a value several people carry never counted: the definition until 2026-12-05; recall is ${f(score.recall / (identifyingUnnamed.ceiling || 1))} of it)`,
      `    with names     ${f(withNames.ceiling)}  (if, on top, every record carrying a name or name-like nickname were joined to its person's other named records, never wrongly)`,
      `                   names read from ${sourceNames.filter((s) => noisy || NAME_COLUMNS[s]).join(', ') || 'none'}${unnamed.length ? `; records of ${unnamed.join(', ')} count as unnamed (eval reads no names there)` : ''}`,
      `  over-merged clusters  ${score.overMergedClusters}  (joined only through a blocked or over-shared value: ${bad.viaBadValue})`,
      `  people split over several customers  ${score.splitPeople}`,
      `  largest cluster  ${score.largestCluster} records`,
      `  missed true pairs by systems  ${missed.map((m) => `${m.systems} ${m.pairs}`).join(', ') || 'none'}`,
      `  missed inside the ceiling, by what refused the values between the person's customers  ${why.byCause.map((c) => `${c.cause} ${c.pairs}`).join(', ') || 'none'}`,
      `    inside the identifying ceiling  ${whyIdentifying.byCause.map((c) => `${c.cause} ${c.pairs}`).join(', ') || 'none'}`,
      `    by kind of pair  ${why.byPairClass.map((c) => `${c.cause} ${c.pairs}`).join(', ') || 'none'}; inside the identifying ceiling  ${whyIdentifying.byPairClass.map((c) => `${c.cause} ${c.pairs}`).join(', ') || 'none'}`,
      `  two records of one system sharing a value and nothing else (refused as a household): ${why.sameSystem.values} values, ${why.sameSystem.onePerson} one person's, ${why.sameSystem.differentPeople} different people's; with neither record named or dated ${why.sameSystem.bare.onePerson} / ${why.sameSystem.bare.differentPeople}`,
      `    their other carriers beside one named holder (values: ${beside.values.oneHolder} with one, ${beside.values.severalHolders} with several, ${beside.values.noHolder} with none), customers holding no name and none of the two, the holder's person's / another's (pairs a join would add, right / wrong): ${beside.carriers.map((c) => `${c.systems} ${c.holders} / ${c.others} (${c.rightPairs} / ${c.wrongPairs})`).join(', ') || 'none'}`,
      `  resolution       ${stats.ms} ms (rules ${first.ms} ms, probabilistic ${second.probabilisticMs} ms), ${stats.recordsRead} records read, ${stats.customersCreated} customers created`,
      ...tierLines,
      `  by system (pairs with at least one record of the system; a pair across two systems counts for both)`,
      `    ${'system'.padEnd(w)} ${head}`,
      ...systemRows.map((s) => `    ${s.system.padEnd(w)} ${pad(s.records, 8)} ${pad(s.people, 7)} ${row(s)}`),
      `  by pair of systems`,
      `    ${'systems'.padEnd(w)} ${' '.repeat(17)}${head.slice(17)}`,
      ...bySystems.pairs.map((p) => `    ${p.systems.padEnd(w)} ${' '.repeat(17)}${row(p)}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    process.stdout.write(
      JSON.stringify({
        ...(worldCsv ? { worldCsv } : { worldPeople: people, seed }),
        ...score,
        overMergedViaBadValue: bad.viaBadValue,
        recallCeiling: ceiling.ceiling,
        recallCeilingWithNames: withNames.ceiling,
        recallCeilingIdentifying: identifying.ceiling,
        recallCeilingIdentifyingUnnamed: identifyingUnnamed.ceiling,
        ceilingPairs: { ceiling: ceiling.linkablePairs, identifying: identifying.linkablePairs, beyondIdentifying, throughGuard },
        missedBySystems: missed,
        missedByCause: { byCause: why.byCause, sameSystem: why.sameSystem },
        missedByCauseIdentifying: whyIdentifying.byCause,
        missedByPairClass: why.byPairClass,
        missedByPairClassIdentifying: whyIdentifying.byPairClass,
        besideTheGuard: beside,
        sources: sourceNames,
        unnamedSources: unnamed,
        bySystem: bySystems.systems,
        bySystemPair: bySystems.pairs,
        resolveMs: stats.ms,
        profile,
        deterministic: { precision: deterministic.precision, recall: deterministic.recall, f1: deterministic.f1 },
        tiers,
      }) + '\n',
    );
  } finally {
    await registry.close();
    await db.destroy();
    standIns.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`eval:identity: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
