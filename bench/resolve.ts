/**
 * Identity resolution at scale: resolve about 1,000,000 demo source records into a fresh OneID
 * map and report records per second and the resolver process's peak RSS.
 *
 *   npm run bench:resolve                                   # OneID on SQLite, 465,000 people ≈ 1M records
 *   npm run bench:resolve -- --engine mariadb               # OneID on MariaDB at $C360_BENCH_MYSQL_URL
 *   npm run bench:resolve -- --people 50000                 # a smaller world
 *   npm run bench:resolve -- --batch 5000                   # records linked per transaction (default 2000)
 *   npm run bench:resolve -- --page 5000                    # records per scan page (default 1000; HTTP APIs cap at 1000)
 *   npm run bench:resolve -- --sources crm,orders,support,scrm   # only these systems (the 1,000,901 records of the
 *                                                           # world before the marketplace and WeCom systems joined it)
 *   npm run bench:resolve -- --restage                      # then `resolve --restage` on the store now current: the
 *                                                           # least an upgrade's restage costs (every record read and checked)
 *
 * The demo world (sources as SQLite files) is generated once under bench/results/ by a child
 * process, so the peak RSS printed here is the resolver's alone. The support and SCRM stand-ins
 * run in another child process and are scanned over HTTP on 127.0.0.1, as in production.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config';
import { openDatabase, type SqlConnection } from '../src/db';
import { createRegistry } from '../src/sources/registry';
import { noopObserver } from '../src/sources/observe';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve } from '../src/idmap';
import { DEFAULT_LEASE } from '../src/idmap/lock';
import { DEFAULT_LINK_BATCH, DEFAULT_SCAN_PAGE } from '../src/idmap/resolve';
import { ensureWorldDir } from './world-dir';
import { benchFlags, refuse, wholeNumber } from './args';
import { gcPauses, loopBlocks } from './proc';
import { demoSourcesConfig, spawnStandIns } from '../demo/world-sources';

const flags = benchFlags(__filename, 'resolve', {
  people: { type: 'string' },
  engine: { type: 'string' },
  batch: { type: 'string' },
  page: { type: 'string' },
  sources: { type: 'string' },
  restage: { type: 'boolean' },
});
const people = wholeNumber('resolve', 'people', flags.people, 465000, 10);
const engine = flags.engine ?? 'sqlite';
if (!['sqlite', 'mariadb'].includes(engine)) refuse('resolve', `--engine is sqlite or mariadb, got ${JSON.stringify(engine)}`);
const batchSize = wholeNumber('resolve', 'batch', flags.batch, DEFAULT_LINK_BATCH);
const pageSize = wholeNumber('resolve', 'page', flags.page, DEFAULT_SCAN_PAGE);
const restage = flags.restage === true;
const only = (flags.sources ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);

async function oneidConnection(dataDir: string): Promise<SqlConnection> {
  if (engine === 'sqlite') {
    const filename = path.join(dataDir, 'oneid-bench.sqlite');
    for (const f of [filename, `${filename}-wal`, `${filename}-shm`]) fs.rmSync(f, { force: true });
    return { client: 'sqlite', filename };
  }
  const base = process.env.C360_BENCH_MYSQL_URL;
  if (!base) throw new Error('--engine mariadb needs C360_BENCH_MYSQL_URL, e.g. mysql://root@127.0.0.1:3307/');
  const admin = openDatabase({ client: 'mysql', url: base });
  await admin.raw('DROP DATABASE IF EXISTS c360_bench_oneid');
  await admin.raw('CREATE DATABASE c360_bench_oneid CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
  await admin.destroy();
  const url = new URL(base);
  url.pathname = '/c360_bench_oneid';
  return { client: 'mysql', url: url.toString() };
}

async function main() {
  const dataDir = path.resolve('bench/results', `world-${people}-42`);
  ensureWorldDir(people, dataDir);
  const standIns = await spawnStandIns(dataDir);
  const all = demoSourcesConfig(dataDir, standIns, 60000);
  const unknown = only.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length) {
    standIns.stop();
    throw new Error(`--sources: no such source ${unknown.join(', ')} (there are ${all.map((s) => s.name).join(', ')})`);
  }
  const config = parseConfig(
    {
      oneid: { connection: await oneidConnection(dataDir) },
      sources: only.length ? all.filter((s) => only.includes(s.name)) : all,
    },
    'bench config',
  );
  const db = openDatabase(config.oneid.connection);
  const registry = createRegistry(config.sources, noopObserver);
  const connectors = registry.sources.map((s) => s.connector);
  let peakSampled = 0;
  const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, process.memoryUsage().rss)), 250);
  try {
    await migrateLatest(db);
    const rules = loadIdentityRules(path.resolve('config/identity-rules.json'));
    const store = createIdMapStore(db);
    const started = Date.now();
    const log = { info: (o: object, msg: string) => process.stderr.write(`${msg} ${JSON.stringify(o)}\n`) };
    // CPU and GC of this process beside the wall time: on a shared machine they move less with the load.
    const cpu = process.cpuUsage();
    const gc = gcPauses();
    const loop = loopBlocks();
    const stats = await resolve({ store, db, connectors, rules, batchSize, pageSize, log });
    const seconds = (Date.now() - started) / 1000;
    const blocks = loop.stop();
    const used = process.cpuUsage(cpu);
    const gcSeconds = gc.stop();
    const again = Date.now();
    const rerun = await resolve({ store, db, connectors, rules });
    const rerunSeconds = (Date.now() - again) / 1000;
    const restageFrom = Date.now();
    const restaged = restage ? await resolve({ store, db, connectors, rules, pageSize, restage: true }) : null;
    const restageSeconds = (Date.now() - restageFrom) / 1000;
    // The longest stretch the event loop could not turn (the lease's renewal timer could not run), by the phase it began in.
    const phaseOf = (at: number) => (at < stats.stageMs ? 'stage' : at < stats.stageMs + stats.linkMs ? 'link' : 'probabilistic');
    const longest: Record<string, number> = { stage: 0, link: 0, probabilistic: 0 };
    for (const b of blocks) longest[phaseOf(b.at)] = Math.max(longest[phaseOf(b.at)], b.ms);
    const loopSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const bySource = (st: typeof rerun) => config.sources.map((s) => `${s.name} ${st.recordsReadBySource[s.name] ?? 0}`).join(', ');
    const peakMiB = Math.max(peakSampled, process.resourceUsage().maxRSS * 1024) / 2 ** 20;
    process.stdout.write(
      [
        `resolution, OneID on ${engine}: ${people} people, ${stats.recordsRead} source records (${config.sources.map((s) => s.name).join(', ')}), link batches of ${batchSize}, scan pages of ${pageSize}`,
        `  total            ${seconds.toFixed(1)} s  (scan + stage ${(stats.stageMs / 1000).toFixed(1)} s, link ${(stats.linkMs / 1000).toFixed(1)} s, probabilistic ${(stats.probabilisticMs / 1000).toFixed(1)} s)`,
        `  probabilistic    ${stats.recordsCompared} records compared, ${stats.pairsCompared} pairs, ${stats.probableLinks} links, ${stats.probableReviews} review candidates, ${stats.blocksSkipped} blocks over the cap, u ${stats.chanceCountedOn ? `counted on the store (${stats.chanceCountedOn} records)` : 'from the weights file'}`,
        `  rate             ${Math.round(stats.recordsRead / seconds)} records/s`,
        `  CPU              ${(used.user / 1e6).toFixed(1)} s user + ${(used.system / 1e6).toFixed(1)} s system (main thread and the preparer's worker), main thread's GC pauses ${gcSeconds.toFixed(1)} s`,
        `  CPU by phase     scan + stage ${(stats.stageCpuMs / 1000).toFixed(1)} s, link ${(stats.linkCpuMs / 1000).toFixed(1)} s (the counting worker's beside it), probabilistic ${(stats.probabilisticCpuMs / 1000).toFixed(1)} s`,
        `  peak RSS         ${peakMiB.toFixed(0)} MiB (this process: resolver, connectors, OneID client)`,
        `  longest loop block  stage ${loopSeconds(longest.stage)}, link ${loopSeconds(longest.link)}, probabilistic ${loopSeconds(longest.probabilistic)} (the lease lasts ${DEFAULT_LEASE.ttlMs / 1000} s without renewal)`,
        `  customers        ${stats.customersCreated} created, ${stats.customersMerged} merged`,
        `  incremental re-run  ${rerunSeconds.toFixed(1)} s, ${rerun.recordsRead} records read (${bySource(rerun)}), ${rerun.recordsChanged} changed`,
        ...(restaged
          ? [
              `  restage          ${restageSeconds.toFixed(1)} s (stage ${(restaged.stageMs / 1000).toFixed(1)} s), ${restaged.recordsRead} records read, ${restaged.recordsChanged} changed, ${restaged.recordsRestaged} with other features, ${restaged.recordsCompared} compared again`,
            ]
          : []),
      ].join('\n') + '\n',
    );
    process.stdout.write(
      JSON.stringify({
        engine,
        people,
        sources: config.sources.map((s) => s.name),
        records: stats.recordsRead,
        seconds,
        probabilisticSeconds: stats.probabilisticMs / 1000,
        pairsCompared: stats.pairsCompared,
        recordsPerSecond: stats.recordsRead / seconds,
        peakRssMiB: peakMiB,
        longestLoopBlockMs: longest,
        loopBlocksOverOneSecond: blocks.filter((b) => b.ms >= 1000).map((b) => ({ at: b.at, ms: b.ms, phase: phaseOf(b.at) })),
        cpuSeconds: (used.user + used.system) / 1e6,
        cpuSecondsByPhase: { stage: stats.stageCpuMs / 1000, link: stats.linkCpuMs / 1000, probabilistic: stats.probabilisticCpuMs / 1000 },
        gcSeconds,
        rerunSeconds,
        rerunRecordsRead: rerun.recordsReadBySource,
        ...(restaged ? { restageSeconds, restageChanged: restaged.recordsChanged, restageRestaged: restaged.recordsRestaged } : {}),
      }) + '\n',
    );
  } finally {
    clearInterval(sampler);
    await registry.close();
    await db.destroy();
    standIns.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`bench:resolve: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
