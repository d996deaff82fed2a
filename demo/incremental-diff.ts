/**
 * npx tsx demo/incremental-diff.ts [--profile default|noisy] [--people N] [--seed S] [--stream-seed K]
 *                                  [--via webhook|scan] [--batch N] [--orders 2] [--data-dir DIR] [--keep]
 *                                  [--engine sqlite|mariadb --mysql-url mysql://root@127.0.0.1:3406/]
 *
 * A differential test of OneID's incremental path: does a store built by a first load and then
 * a stream of changes end in the same customers as a fresh resolution of the final data, and
 * does the order of the stream matter?
 *
 * A demo world's records (every source, read once through the real connectors) are the final
 * data. A seeded split makes of them a first load and a stream: records that arrive later, records
 * whose first version carried another phone or email (a changed mobile, a dropped second email),
 * records the first load holds and the stream deletes (absent from the final data), and phones
 * that move from one person to another (a recycled number: the first holder's first version
 * carries it, the stream takes it away and gives it to the record that holds it in the final data).
 * Every record changes at most once in the stream, so any order of it ends in the same data.
 *
 * The stream is applied through the incremental paths: `resolveRecords` (what a webhook's
 * notification runs, `--batch` records per notification) or `resolve` over the changed records
 * (`--via scan`: a source's feed moves on, `--batch` records per run, each stamped after the records before it). Each order (`--orders`,
 * the stream shuffled by its own seed) builds its own store; a store resolved from scratch over
 * the final data is the reference. The report counts record pairs one store puts in one
 * customer and the other does not, and of them how many are one person (the world's truth).
 * Its last line is the same figures as JSON. The world is written into (and reused from) the
 * data directory `npm run eval:identity` uses; `--keep` leaves the stores there (SQLite) with the
 * split as `incremental-split.json`, to read what differs. On MariaDB each store is a database of
 * its own, dropped after. What it measured: docs/identity.md ("Changes after the first resolution").
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { parseConfig } from '../src/config';
import { openDatabase, type SqlConnection } from '../src/db';
import { createRegistry } from '../src/sources/registry';
import { noopObserver } from '../src/sources/observe';
import { loadIdentityRules, migrateLatest, resolve, resolveRecords } from '../src/idmap';
import { T } from '../src/idmap/tables';
import { mulberry32 as rng } from '../src/idmap/probabilistic/chance';
import type { Connector, ScanPage, ScannedRecord, SourceName } from '../src/vocabulary';
import { ensureDemoWorld, TRUTH_FILE } from './seed';
import { demoSourcesConfig, spawnStandIns } from './world-sources';
import { ensureNoisyWorld, noisySourcesConfig } from './generate';
import { parseTruthCsv } from './score';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A feed over records held in memory, paged by (updatedAt, recordId) after the cursor as the real feeds page. */
export class MemorySource implements Connector {
  readonly maxBatch = 1000;
  private readonly records = new Map<string, ScannedRecord>();
  constructor(readonly name: SourceName) {}
  put(r: ScannedRecord) {
    this.records.set(r.recordId, r);
  }
  async scan(cursor: string | null, pageSize = 1000): Promise<ScanPage> {
    const key = (r: ScannedRecord) => `${r.updatedAt}|${r.recordId}`;
    const after = [...this.records.values()].filter((r) => cursor == null || key(r) > cursor).sort((a, b) => (key(a) < key(b) ? -1 : 1));
    const page = after.slice(0, pageSize);
    return { records: page, cursor: page.length ? key(page[page.length - 1]) : cursor, done: after.length <= pageSize };
  }
  async scanRecords(ids: readonly string[]) {
    return ids.map((id) => this.records.get(id) ?? null);
  }
  async health() {}
  async close() {}
}

export type Change = { kind: 'later' | 'changed' | 'unbound' | 'recycled-from' | 'recycled-to' | 'deleted'; record: ScannedRecord };

export interface Split {
  first: ScannedRecord[];
  stream: Change[];
  /** The final data: what a fresh resolution reads. */
  final: ScannedRecord[];
}

/** The day before `iso`: a first version is older than the record's final one. */
const before = (iso: string) => new Date(Date.parse(iso) - 86_400_000).toISOString();

/**
 * Splits the final records into a first load and a stream of changes (see the file's comment).
 * `truth` (record → person) keeps a recycled number's two holders two people.
 */
export function splitWorld(records: readonly ScannedRecord[], truth: ReadonlyMap<string, string>, seed: number): Split {
  const random = rng(seed);
  const first: ScannedRecord[] = [];
  const stream: Change[] = [];
  const final: ScannedRecord[] = [];
  const label = (r: ScannedRecord) => `${r.source}:${r.recordId}`;
  const phoneOf = (r: ScannedRecord) => r.identifiers.find((i) => i.kind === 'PHONE' && !i.until);
  let fresh = 0;
  const recycledTo = new Set<ScannedRecord>();
  // Recycled numbers first: a record holding a phone now gets it late, and another person's record held it first.
  const withPhone = records.filter((r) => phoneOf(r));
  for (const to of shuffled(withPhone, random).slice(0, Math.round(records.length * 0.02))) {
    const from = withPhone[Math.floor(random() * withPhone.length)];
    if (from === to || recycledTo.has(from) || recycledTo.has(to) || truth.get(label(from)) === truth.get(label(to))) continue;
    recycledTo.add(to);
    recycledTo.add(from);
    const phone = phoneOf(to)!;
    const t = before(to.updatedAt < from.updatedAt ? to.updatedAt : from.updatedAt);
    first.push({ ...from, updatedAt: t, identifiers: [...from.identifiers.filter((i) => i !== phoneOf(from)), phone] });
    stream.push({ kind: 'recycled-from', record: from });
    first.push({ ...to, updatedAt: t, identifiers: to.identifiers.filter((i) => i !== phone) });
    stream.push({ kind: 'recycled-to', record: to });
    final.push(from, to);
  }
  for (const r of records) {
    if (recycledTo.has(r)) continue;
    const x = random();
    if (x < 0.7) {
      first.push(r);
      final.push(r);
    } else if (x < 0.85) {
      stream.push({ kind: 'later', record: r });
      final.push(r);
    } else if (x < 0.91) {
      // A changed mobile or email: the first version carried another one.
      const i = r.identifiers.findIndex((v) => (v.kind === 'PHONE' || v.kind === 'EMAIL') && !v.until);
      const old =
        i >= 0 && r.identifiers[i].kind === 'PHONE'
          ? { kind: 'PHONE' as const, value: `+86 139 ${String(10_000_000 + fresh++).slice(0, 8)}` }
          : { kind: 'EMAIL' as const, value: `old${fresh++}@example-mail.cn` };
      first.push({ ...r, updatedAt: before(r.updatedAt), identifiers: i >= 0 ? r.identifiers.map((v, k) => (k === i ? old : v)) : [...r.identifiers, old] });
      stream.push({ kind: 'changed', record: r });
      final.push(r);
    } else if (x < 0.94) {
      // A second email the record gives up.
      first.push({ ...r, updatedAt: before(r.updatedAt), identifiers: [...r.identifiers, { kind: 'EMAIL', value: `second${fresh++}@example-mail.cn` }] });
      stream.push({ kind: 'unbound', record: r });
      final.push(r);
    } else if (x < 0.97) {
      // Deleted in the source: the first load has it, the final data does not.
      first.push({ ...r, updatedAt: before(r.updatedAt) });
      stream.push({ kind: 'deleted', record: { source: r.source, recordId: r.recordId, updatedAt: r.updatedAt, deleted: true, identifiers: [] } });
    } else {
      first.push(r);
      final.push(r);
    }
  }
  return { first, stream, final };
}

/** A store's partition: record → customer, live records only. */
export async function partitionOf(db: Knex): Promise<Map<string, string>> {
  const rows: Array<{ source: string; record_id: string; customer_id: string | null }> = await db(T.sourceRecords)
    .whereNull('deleted_at')
    .select('source', 'record_id', 'customer_id');
  const out = new Map<string, string>();
  for (const r of rows) out.set(`${r.source}:${r.record_id}`, r.customer_id ?? `unlinked:${r.source}:${r.record_id}`);
  return out;
}

/**
 * Record pairs in one customer in `a` and not in `b` (`onlyA`), and the reverse; each listed with
 * whether the truth calls the pair one person. Records only one side holds are counted apart.
 */
export function pairDiff(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>, truth?: ReadonlyMap<string, string>) {
  const common = [...a.keys()].filter((k) => b.has(k));
  const onlyIn = (x: ReadonlyMap<string, string>, y: ReadonlyMap<string, string>) => {
    const byX = new Map<string, string[]>();
    for (const k of common) byX.set(x.get(k)!, [...(byX.get(x.get(k)!) ?? []), k]);
    const pairs: Array<[string, string]> = [];
    for (const members of byX.values())
      for (let i = 0; i < members.length; i++) for (let j = i + 1; j < members.length; j++) if (y.get(members[i]) !== y.get(members[j])) pairs.push([members[i], members[j]]);
    return pairs;
  };
  const onlyA = onlyIn(a, b);
  const onlyB = onlyIn(b, a);
  const same = (p: [string, string]) => truth != null && truth.get(p[0]) != null && truth.get(p[0]) === truth.get(p[1]);
  return {
    recordsOnlyInOne: [...a.keys()].filter((k) => !b.has(k)).length + [...b.keys()].filter((k) => !a.has(k)).length,
    onlyA: onlyA.length,
    onlyAOnePerson: onlyA.filter(same).length,
    onlyB: onlyB.length,
    onlyBOnePerson: onlyB.filter(same).length,
    differing: onlyA.length + onlyB.length,
    examplesA: onlyA.slice(0, 10),
    examplesB: onlyB.slice(0, 10),
  };
}

async function main() {
  const profile = arg('profile', 'noisy');
  const people = Number(arg('people', '1000'));
  const seed = Number(arg('seed', '42'));
  const streamSeed = Number(arg('stream-seed', '1'));
  const via = arg('via', 'webhook');
  const batch = Number(arg('batch', '1'));
  const orders = Number(arg('orders', '2'));
  const engine = arg('engine', 'sqlite');
  const keep = process.argv.includes('--keep');
  const dataDir = path.resolve(arg('data-dir', `data/eval-${profile === 'noisy' ? 'noisy-' : ''}${people}-${seed}`));
  const rules = loadIdentityRules(path.resolve(arg('rules', 'config/identity-rules.json')));
  if (profile === 'noisy') await ensureNoisyWorld({ dataDir, people, seed, truthFile: path.join(dataDir, TRUTH_FILE) });
  else await ensureDemoWorld({ dataDir, people, seed });
  const truth = parseTruthCsv(fs.readFileSync(path.join(dataDir, TRUTH_FILE), 'utf8'));
  const standIns = profile === 'noisy' ? { stop() {} } : await spawnStandIns(dataDir);
  const sources = profile === 'noisy' ? noisySourcesConfig(dataDir) : demoSourcesConfig(dataDir, standIns as never, 30000);
  const config = parseConfig({ oneid: { connection: { client: 'sqlite', filename: path.join(dataDir, 'unused.sqlite') } }, sources }, 'incremental-diff config');
  const registry = createRegistry(config.sources, noopObserver);
  // A feed may answer one record more than once (a WeCom contact two staff members follow): the last answer is the record.
  const latest = new Map<string, ScannedRecord>();
  try {
    for (const s of registry.sources) {
      let cursor: string | null = null;
      for (;;) {
        const page = await s.connector.scan(cursor, 1000);
        for (const r of page.records) latest.set(`${r.source}:${r.recordId}`, r);
        if (page.done || page.cursor == null || page.cursor === cursor) break;
        cursor = page.cursor;
      }
    }
  } finally {
    await Promise.all(registry.sources.map((s) => s.connector.close?.()));
    standIns.stop();
  }
  const records = [...latest.values()];
  const names = [...new Set(records.map((r) => r.source))];
  const split = splitWorld(records, truth, streamSeed);
  const newest = records.reduce((m, r) => (r.updatedAt > m ? r.updatedAt : m), '');
  if (keep) fs.writeFileSync(path.join(dataDir, 'incremental-split.json'), JSON.stringify(split));

  let stores = 0;
  const newStore = async (): Promise<{ db: Knex; drop: () => Promise<void> }> => {
    const n = `c360_incr_${process.pid}_${stores++}`;
    let connection: SqlConnection;
    if (engine === 'mariadb') {
      const url = arg('mysql-url', 'mysql://root@127.0.0.1:3406/');
      const admin = openDatabase({ client: 'mysql', url });
      await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [n]);
      await admin.destroy();
      connection = { client: 'mysql', url: `${url.replace(/\/$/, '')}/${n}` };
    } else {
      connection = { client: 'sqlite', filename: path.join(dataDir, `${n}.sqlite`) };
    }
    const db = openDatabase(connection);
    await migrateLatest(db);
    return {
      db,
      drop: async () => {
        await db.destroy();
        if (engine === 'mariadb') {
          const admin = openDatabase({ client: 'mysql', url: arg('mysql-url', 'mysql://root@127.0.0.1:3406/') });
          await admin.raw('DROP DATABASE ??', [n]);
          await admin.destroy();
        } else for (const f of ['', '-wal', '-shm']) fs.rmSync(path.join(dataDir, `${n}.sqlite${f}`), { force: true });
      },
    };
  };
  const feeds = (list: readonly ScannedRecord[]) => {
    const bySource = new Map(names.map((n) => [n, new MemorySource(n)]));
    for (const r of list) bySource.get(r.source)!.put(r);
    return bySource;
  };

  const started = Date.now();
  const scratch = await newStore();
  await resolve({ db: scratch.db, connectors: [...feeds(split.final).values()], rules });
  const reference = await partitionOf(scratch.db);
  await (keep ? scratch.db.destroy() : scratch.drop());

  const incremental: Array<Map<string, string>> = [];
  for (let o = 0; o < orders; o++) {
    const s = await newStore();
    const live = feeds(split.first);
    await resolve({ db: s.db, connectors: [...live.values()], rules });
    const stream = shuffled(split.stream, rng(streamSeed * 1000 + o + 1));
    for (let i = 0; i < stream.length; i += batch) {
      // A feed pages by time after its cursor: a change a scan is to find is stamped after every record before it.
      const at = new Date(Date.parse(newest) + (i + 1) * 1000).toISOString();
      const part = stream.slice(i, i + batch).map((c) => (via === 'scan' ? { ...c, record: { ...c.record, updatedAt: at } } : c));
      for (const c of part) live.get(c.record.source)!.put(c.record);
      if (via === 'scan') await resolve({ db: s.db, connectors: [...live.values()], rules });
      else await resolveRecords({ db: s.db, rules, records: part.map((c) => c.record) });
    }
    incremental.push(await partitionOf(s.db));
    await (keep ? s.db.destroy() : s.drop());
  }

  const kinds: Record<string, number> = {};
  for (const c of split.stream) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
  const fig = {
    profile,
    people,
    seed,
    streamSeed,
    via,
    batch,
    engine,
    records: records.length,
    firstLoad: split.first.length,
    stream: split.stream.length,
    streamKinds: kinds,
    finalRecords: split.final.length,
    againstFresh: incremental.map((p) => pairDiff(p, reference, truth)),
    betweenOrders: incremental.length > 1 ? pairDiff(incremental[0], incremental[1], truth) : null,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  const line = (d: ReturnType<typeof pairDiff>) =>
    `${d.differing} differing pairs (${d.onlyA} only incremental, ${d.onlyAOnePerson} of them one person; ${d.onlyB} only the other, ${d.onlyBOnePerson} one person); ${d.recordsOnlyInOne} records in one only`;
  process.stdout.write(
    `world ${profile} people=${people} seed=${seed}: ${records.length} records; first load ${split.first.length}, stream ${split.stream.length} ${JSON.stringify(kinds)} via ${via} (batch ${batch}), ${engine}\n`,
  );
  fig.againstFresh.forEach((d, i) => process.stdout.write(`order ${i + 1} vs fresh: ${line(d)}\n`));
  if (fig.betweenOrders) process.stdout.write(`order 1 vs order 2: ${line(fig.betweenOrders)}\n`);
  process.stdout.write(JSON.stringify(fig) + '\n');
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
