/**
 * The link phase alone, on a store staged once and copied for every run (profiling the rules'
 * tier without re-scanning the world each time):
 *
 *   npx tsx bench/link-phase.ts --people 20000 --sources crm,orders,support,scrm              # stages once into bench/results/, then links a copy
 *   node --cpu-prof --import tsx bench/link-phase.ts --people 20000 --sources crm,orders,support,scrm
 *   node --require ./bench/sql-profile.cjs --import tsx bench/link-phase.ts --people 20000 --sources crm,orders,support,scrm
 *
 * The staged store (`link-staged-<sources>.sqlite` in the world's folder) is what a first
 * resolution has before it links: every record staged pending, the identifiers' value index
 * built, match features staged. The link run resolves a copy of it with connectors that scan
 * nothing (same names, same order), the probabilistic tier left off, and prints the link time,
 * what it did, and a digest of the map (customers by their records, link events in order,
 * review candidates; customer ids as ranks), so two runs of different code compare in one line.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config';
import { openDatabase } from '../src/db';
import { createRegistry } from '../src/sources/registry';
import { noopObserver } from '../src/sources/observe';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve } from '../src/idmap';
import { DEFAULT_LINK_BATCH } from '../src/idmap/resolve';
import { T } from '../src/idmap/tables';
import type { Connector } from '../src/vocabulary';
import { ensureDemoWorld } from '../demo/seed';
import { gcPauses, ioCounter } from './proc';
import { demoSourcesConfig, spawnStandIns } from '../demo/world-sources';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const people = Number(arg('people', '20000'));
const batchSize = Number(arg('batch', String(DEFAULT_LINK_BATCH)));
const only = arg('sources', 'crm,orders,support,scrm')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
const dataDir = path.resolve(arg('data-dir', path.resolve('bench/results', `world-${people}-42`)));
const staged = path.join(dataDir, `link-staged-${only.join('-')}.sqlite`);
const work = path.resolve(arg('work', path.join(dataDir, `link-run-${process.pid}.sqlite`)));

const rm = (f: string) => {
  for (const x of [f, `${f}-wal`, `${f}-shm`]) fs.rmSync(x, { force: true });
};

/** Stages the world into `staged`, linking nothing. */
async function stage() {
  await ensureDemoWorld({ dataDir, people, seed: 42 });
  const standIns = await spawnStandIns(dataDir);
  const all = demoSourcesConfig(dataDir, standIns, 60000);
  const tmp = `${staged}.part`;
  rm(tmp);
  const config = parseConfig({ oneid: { connection: { client: 'sqlite', filename: tmp } }, sources: all.filter((s) => only.includes(s.name)) }, 'link-phase config');
  const db = openDatabase(config.oneid.connection);
  const registry = createRegistry(config.sources, noopObserver);
  try {
    await migrateLatest(db);
    const rules = loadIdentityRules(path.resolve('config/identity-rules.json'));
    const store = createIdMapStore(db);
    const started = Date.now();
    const stats = await resolve({ store, db, connectors: registry.sources.map((s) => s.connector), rules, tiers: 'none' });
    process.stdout.write(`staged ${stats.recordsRead} records in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await registry.close();
    await db.destroy();
    standIns.stop();
  }
  fs.renameSync(tmp, staged);
  rm(tmp);
}

const nothing = (name: string): Connector => ({
  name,
  maxBatch: 1000,
  scan: async () => ({ records: [], cursor: null, done: true }),
  scanRecords: async (ids) => ids.map(() => null),
  health: async () => undefined,
  close: async () => undefined,
});

async function link() {
  rm(work);
  fs.copyFileSync(staged, work);
  const db = openDatabase({ client: 'sqlite', filename: work });
  try {
    const rules = loadIdentityRules(path.resolve('config/identity-rules.json'));
    const store = createIdMapStore(db);
    const cpu = process.cpuUsage();
    const writtenBefore = writtenBytes();
    const readsBefore = readCalls();
    const gc = gcPauses();
    const stats = await resolve({ store, db, connectors: only.map(nothing), rules, tiers: 'deterministic', batchSize });
    const used = process.cpuUsage(cpu);
    const gcSeconds = gc.stop();
    const written = writtenBytes() - writtenBefore;
    const reads = readCalls() - readsBefore;
    process.stdout.write(
      `link ${(stats.linkMs / 1000).toFixed(2)} s (CPU ${(used.user / 1e6).toFixed(2)} user + ${(used.system / 1e6).toFixed(2)} sys, GC pauses ${gcSeconds.toFixed(2)} s, ${(written / 2 ** 20).toFixed(0)} MiB written, ${(reads / 1e6).toFixed(2)}M read calls): ${stats.recordsResolved} records resolved in ${stats.batches} batches (${stats.retries} re-planned), ` +
        `${stats.customersCreated} customers created, ${stats.recordsLinked} linked, ${stats.customersMerged} merged, ${stats.candidatesCreated} candidates, ` +
        `refused ${stats.refusedBlocked}/${stats.refusedOverShared}/${stats.refusedConflict}, ${stats.orphans} orphans; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
    );
    process.stdout.write(`map digest ${await digest(db)}\n`);
  } finally {
    await db.destroy();
    if (!process.argv.includes('--keep')) rm(work);
  }
}

/** Bytes this process has written to files so far: the WAL's and checkpoints' writes. */
const writtenBytes = () => ioCounter('write_bytes');
/** Read system calls so far: about one a page SQLite's cache did not hold. */
const readCalls = () => ioCounter('syscr');

/** A hash of the map with customer ids written as creation ranks (ULIDs sort by creation). */
async function digest(db: ReturnType<typeof openDatabase>): Promise<string> {
  const h = crypto.createHash('sha256');
  const ids = (await db(T.customers).orderBy('id').select('id')).map((r) => r.id as string);
  const rank = new Map(ids.map((id, i) => [id, `C${i}`]));
  const c = (id: string | null) => (id == null ? '' : (rank.get(id) ?? id));
  for (const r of await db(T.customers).orderBy('id').select('id', 'status', 'merged_into')) h.update(`${c(r.id)} ${r.status} ${c(r.merged_into)}\n`);
  for (const r of await db(T.sourceRecords).orderBy(['source', 'record_id']).select('source', 'record_id', 'customer_id', 'pending')) {
    h.update(`${r.source}:${r.record_id} ${c(r.customer_id)} ${r.pending}\n`);
  }
  const swap = (s: string | null) => (s ?? '').replace(/[0-9A-HJKMNP-TV-Z]{26}/g, (id) => c(id));
  for (const r of await db(T.linkEvents).orderBy('id').select('actor', 'action', 'customer_id', 'other_customer_id', 'source', 'record_id', 'reason', 'evidence')) {
    h.update(`${r.actor} ${r.action} ${c(r.customer_id)} ${c(r.other_customer_id)} ${r.source}:${r.record_id} ${swap(r.reason)} ${swap(r.evidence)}\n`);
  }
  for (const r of await db(T.candidates).orderBy('id').select('dedupe_key', 'reason', 'status', 'rule', 'kind', 'value', 'customer_id', 'other_customer_id', 'evidence')) {
    h.update(`${swap(r.dedupe_key)} ${r.reason} ${r.status} ${r.rule} ${r.kind} ${r.value} ${c(r.customer_id)} ${c(r.other_customer_id)} ${swap(r.evidence)}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

async function main() {
  if (!fs.existsSync(staged)) await stage();
  if (!process.argv.includes('--stage-only')) await link();
}

main().catch((e) => {
  process.stderr.write(`link-phase: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
