/**
 * The OneID map a first resolution makes, written as text, to check that a speed change leaves
 * the map identical (diff two dumps):
 *
 *   npx tsx bench/map-dump.ts --people 5000 --out /tmp/map-5000.txt            # the demo world (bench/results/world-5000-42)
 *   npx tsx bench/map-dump.ts --people 20000 --sources crm,orders,support,scrm --out /tmp/map-20000.txt
 *   npx tsx bench/map-dump.ts --profile noisy --people 5000 --out /tmp/map-noisy.txt   # the noisy world (data/eval-noisy-5000-42)
 *
 * Resolves the world as bench/resolve.ts does (a fresh SQLite store, one run of both tiers,
 * default page and batch sizes), then writes: every active customer's records (clusters, sorted),
 * every link event in order (actor, action, customers, record, reason, evidence: a probabilistic
 * link's pair, weight and contributions), and every review candidate. Customer ids are ULIDs made
 * in creation order, so each is written as its rank (`C17`): two runs that create and merge the
 * same customers in the same order write the same text. Times are left out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config';
import { openDatabase } from '../src/db';
import { createRegistry } from '../src/sources/registry';
import { noopObserver } from '../src/sources/observe';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve } from '../src/idmap';
import { T } from '../src/idmap/tables';
import { ensureDemoWorld, TRUTH_FILE } from '../demo/seed';
import { demoSourcesConfig, spawnStandIns } from '../demo/world-sources';
import { ensureNoisyWorld, noisySourcesConfig } from '../demo/generate';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const people = Number(arg('people', '5000'));
const seed = Number(arg('seed', '42'));
const noisy = arg('profile', 'default') === 'noisy';
const out = arg('out', '');
const only = arg('sources', '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);

async function main() {
  if (!out) throw new Error('--out FILE is required');
  const dataDir = noisy ? path.resolve('data', `eval-noisy-${people}-${seed}`) : path.resolve('bench/results', `world-${people}-${seed}`);
  if (noisy) {
    await ensureNoisyWorld({ dataDir, people, seed, truthFile: path.join(dataDir, TRUTH_FILE) });
  } else await ensureDemoWorld({ dataDir, people, seed });
  const standIns = noisy ? Object.assign({} as Record<string, string>, { stop() {} }) : await spawnStandIns(dataDir);
  const all = noisy ? noisySourcesConfig(dataDir) : demoSourcesConfig(dataDir, standIns, 60000);
  const filename = path.join(dataDir, 'oneid-dump.sqlite');
  for (const f of [filename, `${filename}-wal`, `${filename}-shm`]) fs.rmSync(f, { force: true });
  const config = parseConfig(
    { oneid: { connection: { client: 'sqlite', filename } }, sources: only.length ? all.filter((s) => only.includes(s.name)) : all },
    'map dump config',
  );
  const db = openDatabase(config.oneid.connection);
  const registry = createRegistry(config.sources, noopObserver);
  try {
    await migrateLatest(db);
    const rules = loadIdentityRules(path.resolve('config/identity-rules.json'));
    const started = Date.now();
    const stats = await resolve({ store: createIdMapStore(db), db, connectors: registry.sources.map((s) => s.connector), rules });
    const seconds = (Date.now() - started) / 1000;
    const ids: string[] = (await db(T.customers).orderBy('id').select('id')).map((r: { id: string }) => r.id);
    const rank = new Map(ids.map((id, i) => [id, `C${i}`]));
    const anon = (s: string | null) => (s == null ? '-' : s.replace(/[0-9A-HJKMNP-TV-Z]{26}/g, (m) => rank.get(m) ?? m));
    const lines: string[] = [];
    const records: Array<{ source: string; record_id: string; customer_id: string | null }> = await db(T.sourceRecords).select('source', 'record_id', 'customer_id');
    const clusters = new Map<string, string[]>();
    for (const r of records) {
      const c = r.customer_id ?? `unlinked:${r.source}:${r.record_id}`;
      clusters.set(c, [...(clusters.get(c) ?? []), `${r.source}:${r.record_id}`]);
    }
    lines.push(`# clusters ${clusters.size}`);
    for (const [c, list] of [...clusters].sort((a, b) => (a[0] < b[0] ? -1 : 1))) lines.push(`${anon(c)} ${list.sort().join(' ')}`);
    const events = await db(T.linkEvents).orderBy('id').select('actor', 'action', 'customer_id', 'other_customer_id', 'source', 'record_id', 'reason', 'evidence');
    lines.push(`# link events ${events.length}`);
    for (const e of events)
      lines.push(
        [e.actor, e.action, anon(e.customer_id), anon(e.other_customer_id), `${e.source ?? '-'}:${e.record_id ?? '-'}`, anon(e.reason), anon(e.evidence)].join(' | '),
      );
    const candidates = await db(T.candidates).orderBy('id').select('dedupe_key', 'reason', 'status', 'rule', 'kind', 'value', 'customer_id', 'other_customer_id', 'evidence');
    lines.push(`# review candidates ${candidates.length}`);
    for (const c of candidates)
      lines.push(
        [anon(c.dedupe_key), c.reason, c.status, c.rule, c.kind ?? '-', c.value ?? '-', anon(c.customer_id), anon(c.other_customer_id), anon(c.evidence)].join(' | '),
      );
    fs.writeFileSync(out, lines.join('\n') + '\n');
    process.stdout.write(
      `${stats.recordsRead} records in ${seconds.toFixed(1)} s (stage ${(stats.stageMs / 1000).toFixed(1)}, link ${(stats.linkMs / 1000).toFixed(1)}, probabilistic ${(stats.probabilisticMs / 1000).toFixed(1)}): ${clusters.size} clusters, ${events.length} events, ${candidates.length} candidates, ${stats.pairsCompared} pairs → ${out}\n`,
    );
  } finally {
    await registry.close();
    await db.destroy();
    standIns.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`map-dump: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
