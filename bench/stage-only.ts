/**
 * Scan + stage alone (identity resolution with `tiers: 'none'`) over the demo world's four original
 * systems, into a fresh SQLite OneID file, with what the staging pass costs the machine:
 *
 *   npx tsx bench/stage-only.ts --people 110000                 # 236,816 records
 *   npx tsx bench/stage-only.ts --people 110000 --world DIR     # a world generated elsewhere (e.g. from a git archive of another commit)
 *   npx tsx bench/stage-only.ts --people 20000 --sources crm,orders   # only these systems
 *   node --require ./bench/sql-profile.cjs --import tsx bench/stage-only.ts --people 110000   # per statement
 *
 * The world is generated once under bench/results/ as bench:resolve does. Main-thread CPU comes from
 * /proc/self/task/<pid>/stat (the preparer's worker is left out), bytes written from /proc/self/io
 * (Linux only: elsewhere those two are left blank).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../src/config';
import { openDatabase } from '../src/db';
import { createRegistry } from '../src/sources/registry';
import { noopObserver } from '../src/sources/observe';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve } from '../src/idmap';
import { ensureWorldDir } from './world-dir';
import { cpuMs, gcPauses, ioCounter, memoryMiB } from './proc';
import { demoSourcesConfig, spawnStandIns } from '../demo/world-sources';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const people = Number(arg('people', '110000'));
if (!Number.isInteger(people) || people < 10) {
  process.stderr.write('stage-only: --people N (≥ 10)\n');
  process.exit(2);
}
const dataDir = path.resolve(arg('world', path.join('bench/results', `world-${people}-42`)));
/** By default the systems of the 1,000,901-record target world (bench/README.md). */
const SYSTEMS = arg('sources', 'crm,orders,support,scrm')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);

/** `null` where /proc does not say (not Linux). */
function procStats(): { mainCpuSeconds: number | null; writtenBytes: number | null; peakRssMiB: number | null } {
  if (!fs.existsSync('/proc/self/io')) return { mainCpuSeconds: null, writtenBytes: null, peakRssMiB: null };
  return { mainCpuSeconds: cpuMs(process.pid, process.pid) / 1000, writtenBytes: ioCounter('write_bytes'), peakRssMiB: memoryMiB(process.pid).peak };
}

async function main() {
  ensureWorldDir(people, dataDir);
  const standIns = await spawnStandIns(dataDir);
  const file = path.join(os.tmpdir(), `c360-stage-only-${process.pid}.sqlite`);
  const all = demoSourcesConfig(dataDir, standIns, 60000);
  const unknown = SYSTEMS.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length) {
    standIns.stop();
    throw new Error(`--sources: no system ${unknown.join(', ')} in the demo world (systems: ${all.map((s) => s.name).join(', ')})`);
  }
  const sources = all.filter((s) => SYSTEMS.includes(s.name));
  const config = parseConfig({ oneid: { connection: { client: 'sqlite', filename: file } }, sources }, 'bench/stage-only');
  const db = openDatabase(config.oneid.connection);
  const registry = createRegistry(config.sources, noopObserver);
  try {
    await migrateLatest(db);
    const rules = loadIdentityRules(path.resolve('config/identity-rules.json'));
    const cpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    const gc = gcPauses();
    const stats = await resolve({ store: createIdMapStore(db), db, connectors: registry.sources.map((s) => s.connector), rules, tiers: 'none' });
    const used = process.cpuUsage(cpu);
    const gcSeconds = gc.stop();
    const loop = performance.eventLoopUtilization(elu);
    const proc = procStats();
    const blank = (n: number | null, unit: string) => (n === null ? '' : `${n.toFixed(1)} ${unit}`);
    process.stdout.write(
      [
        `scan + stage alone, OneID on sqlite: ${people} people, ${stats.recordsRead} source records (${SYSTEMS.join(', ')})`,
        `  scan + stage     ${(stats.stageMs / 1000).toFixed(1)} s`,
        `  main thread      busy ${(loop.active / 1000).toFixed(1)} s, idle ${(loop.idle / 1000).toFixed(1)} s; CPU (whole process life) ${blank(proc.mainCpuSeconds, 's')}; GC pauses ${gcSeconds.toFixed(1)} s`,
        `  process CPU      ${((used.user + used.system) / 1e6).toFixed(1)} s (main thread and the preparer's worker)`,
        `  written          ${blank(proc.writtenBytes === null ? null : proc.writtenBytes / 2 ** 20, 'MiB')}`,
        `  peak RSS         ${blank(proc.peakRssMiB, 'MiB')}`,
      ].join('\n') + '\n',
    );
  } finally {
    await registry.close();
    await db.destroy();
    standIns.stop();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
