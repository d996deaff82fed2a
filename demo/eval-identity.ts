/**
 * npm run eval:identity [-- --people 5000 --seed 42 --data-dir data/eval] [--sources crm,orders,support,scrm]
 *
 * Resolves a demo world into a fresh OneID map with the configured rules and scores it against
 * the generator's ground truth: pairwise precision, recall and F1, over-merged clusters, the
 * largest cluster, and whether any over-merge joined two people only through a blocked or
 * over-shared value (the failure identity graphs must never have). Two ceilings say how much
 * recall the data allows: through shared identifiers, and with perfect name matching on top.
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
import {
  linkableGroups,
  linkableRecall,
  missedPairsBySystems,
  overMerged,
  parseTruthCsv,
  scoreBySystems,
  scoreResolution,
  systemOf,
  truthOfSystems,
  type RecordAssignment,
} from './score';
import type { IdentifierKind } from '../src/vocabulary';

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
    peopleCarrying.set(v, new Set(carriers.map((c: any) => truth.get(`${c.source}:${c.record_id}`)).filter(Boolean) as string[]));
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
async function namedRecords(dataDir: string, sources: readonly string[]): Promise<string[]> {
  const conn = demoConnections(dataDir) as Record<string, SqlConnection | undefined>;
  const out: string[] = [];
  for (const source of sources) {
    const columns = NAME_COLUMNS[source];
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

async function main() {
  const people = intArg('people', 5000);
  const seed = intArg('seed', 42);
  const dataDir = path.resolve(arg('data-dir', path.join('data', `eval-${people}-${seed}`)));
  const rulesFile = path.resolve(arg('rules', 'config/identity-rules.json'));
  const rules = loadIdentityRules(rulesFile);

  const world = await ensureDemoWorld({ dataDir, people, seed });
  const file = (n: string) => path.join(dataDir, n);
  const standIns = await spawnStandIns(dataDir);
  const oneidFile = file('oneid-eval.sqlite');
  for (const f of [oneidFile, `${oneidFile}-wal`, `${oneidFile}-shm`]) fs.rmSync(f, { force: true });
  const allSources = demoSourcesConfig(dataDir, standIns, 30000);
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
    const stats = await resolve({ store, db, connectors, rules });
    const fullTruth = parseTruthCsv(fs.readFileSync(file(TRUTH_FILE), 'utf8'));
    // Scored against the records of the sources resolved; truth records of any other system are left out (and said).
    const truth = truthOfSystems(fullTruth, sourceNames);
    const leftOut = new Map<string, number>();
    for (const r of fullTruth.keys()) if (!truth.has(r)) leftOut.set(systemOf(r), (leftOut.get(systemOf(r)) ?? 0) + 1);
    const rows: Array<{ source: string; record_id: string; customer_id: string | null }> = await db(T.sourceRecords).select('source', 'record_id', 'customer_id');
    const assignment: RecordAssignment[] = rows.filter((r) => r.customer_id).map((r) => ({ record: `${r.source}:${r.record_id}`, customerId: r.customer_id! }));
    const score = scoreResolution(truth, assignment);
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
    const named = [...usable, ...(await namedRecords(dataDir, sourceNames)).map((record) => ({ record, value: 'NAME' }))];
    const ceiling = linkableRecall(truth, usable);
    const withNames = linkableRecall(truth, named);
    const missed = missedPairsBySystems(truth, assignment);
    const bySystems = scoreBySystems(truth, assignment, { groups: linkableGroups(truth, usable), withNames: linkableGroups(truth, named) });
    const unnamed = sourceNames.filter((s) => !NAME_COLUMNS[s]);
    const f = (x: number) => x.toFixed(4);
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
    const lines = [
      `identity resolution on the demo world (people=${people}, seed=${seed}, rules=${path.relative(process.cwd(), rulesFile)})`,
      `  world            ${path.relative(process.cwd(), dataDir)} (${world.generated ? 'generated now' : 'reused'}, generator ${world.manifest.generatorVersion}; records ${Object.entries(
        world.manifest.records,
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
      `    with names     ${f(withNames.ceiling)}  (if, on top, every record carrying a name or name-like nickname were joined to its person's other named records, never wrongly)`,
      `                   names read from ${sourceNames.filter((s) => NAME_COLUMNS[s]).join(', ') || 'none'}${unnamed.length ? `; records of ${unnamed.join(', ')} count as unnamed (eval reads no names there)` : ''}`,
      `  over-merged clusters  ${score.overMergedClusters}  (joined only through a blocked or over-shared value: ${bad.viaBadValue})`,
      `  people split over several customers  ${score.splitPeople}`,
      `  largest cluster  ${score.largestCluster} records`,
      `  missed true pairs by systems  ${missed.map((m) => `${m.systems} ${m.pairs}`).join(', ') || 'none'}`,
      `  resolution       ${stats.ms} ms, ${stats.recordsRead} records read, ${stats.customersCreated} customers created`,
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
        worldPeople: people,
        seed,
        ...score,
        overMergedViaBadValue: bad.viaBadValue,
        recallCeiling: ceiling.ceiling,
        recallCeilingWithNames: withNames.ceiling,
        missedBySystems: missed,
        sources: sourceNames,
        unnamedSources: unnamed,
        bySystem: bySystems.systems,
        bySystemPair: bySystems.pairs,
        resolveMs: stats.ms,
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
