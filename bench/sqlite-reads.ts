/**
 * Where a SQLite read's time goes in the gateway: the same OneID read (one customer's source
 * records) timed in-process, CPU µs per read (best of several interleaved rounds), through each
 * layer the request path stacks on it. Run it on a resolved OneID store (bench:gateway leaves one):
 *
 *   node --import tsx bench/sqlite-reads.ts [--oneid bench/results/gateway-20000/oneid.sqlite]
 *   node bench/results/dist/bench/sqlite-reads.js   # the same, compiled (bench:gateway compiles it)
 *
 * The store is copied first (SQLite's backup API), so a running gateway is not disturbed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import { openDatabase } from '../src/db';
import { createIdMapStore } from '../src/idmap';
import { guardReader } from '../src/idmap/guarded';
import { benchFlags, refuse } from './args';

const READS = 3000;
const ROUNDS = 5;

const flags = benchFlags(__filename, 'sqlite-reads', { oneid: { type: 'string' } });

async function main() {
  const source = path.resolve(flags.oneid ?? 'bench/results/gateway-20000/oneid.sqlite');
  // Without it better-sqlite3 throws a stack trace ("the directory does not exist") at whoever ran the README's command first.
  if (!fs.existsSync(source))
    refuse(
      'sqlite-reads',
      `${path.relative(process.cwd(), source)} does not exist: run npm run bench:gateway first (it leaves one), or name a resolved OneID store with --oneid FILE`,
    );
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'c360-reads-')), 'oneid.sqlite');
  const original = new Database(source, { readonly: true });
  await original.backup(file);
  original.close();

  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  const ids = raw.prepare('select distinct customer_id from idmap_source_records where customer_id is not null limit 5000').pluck().all() as string[];
  if (ids.length === 0) throw new Error(`${source} has no linked source records: run npm run bench:gateway first`);
  const statement = raw.prepare('select * from `idmap_source_records` where `customer_id` in (?) order by `source` asc, `record_id` asc');
  const db = openDatabase({ client: 'sqlite', filename: file });
  const store = createIdMapStore(db);
  const guarded = guardReader(store, {});
  const sql = 'select * from `idmap_source_records` where `customer_id` in (?) order by `source` asc, `record_id` asc';

  const variants: Array<[string, (id: string) => unknown]> = [
    ['better-sqlite3 prepared statement', (id) => statement.all(id)],
    ['knex.raw (same SQL text)', (id) => db.raw(sql, [id])],
    ['knex query builder', (id) => db('idmap_source_records').whereIn('customer_id', [id]).orderBy(['source', 'record_id']).select('*')],
    ['OneID store sourceRecordsByCustomerIds', (id) => store.sourceRecordsByCustomerIds([id])],
    ['guarded OneID store (request path)', (id) => guarded.sourceRecordsByCustomerIds([id])],
  ];
  // The gateway runs every request inside AsyncLocalStorage scopes (per-request source accounting,
  // trace context): Node 20 then runs promise hooks for every promise, and knex makes many per query.
  const als = new AsyncLocalStorage<object>();
  const scoped = (read: (id: string) => unknown) => (id: string) => als.run({}, () => read(id));
  variants.push(['better-sqlite3, inside AsyncLocalStorage.run', scoped(variants[0][1])], ['guarded OneID store, inside AsyncLocalStorage.run', scoped(variants[4][1])]);
  // The gateway's OneID connection also commits an audit row per request: time the reads alone
  // (wall time of the synchronous call), with and without a commit between two reads.
  raw.exec('create table if not exists bench_audit (id integer primary key, request_id text, customer_id text, fields text)');
  raw.exec('create index if not exists bench_audit_customer on bench_audit (customer_id)');
  const insert = raw.prepare('insert into bench_audit (request_id, customer_id, fields) values (?, ?, ?)');
  const readsAlone = (withCommits: boolean) => {
    let spent = 0n;
    for (let i = 0; i < READS; i++) {
      const id = ids[(i * 7919) % ids.length];
      if (withCommits) insert.run(`r${i}`, id, '["Customer.phone"]');
      const t = process.hrtime.bigint();
      statement.all(id);
      spent += process.hrtime.bigint() - t;
    }
    return Number(spent) / 1000 / READS;
  };
  const walls = { alone: Infinity, afterCommit: Infinity };
  const best = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, read] of variants) {
      for (let i = 0; i < 200; i++) await read(ids[i % ids.length]);
      const before = process.cpuUsage();
      for (let i = 0; i < READS; i++) await read(ids[(i * 7919) % ids.length]);
      const used = process.cpuUsage(before);
      const perRead = (used.user + used.system) / READS;
      best.set(name, Math.min(best.get(name) ?? Infinity, perRead));
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    walls.alone = Math.min(walls.alone, readsAlone(false));
    walls.afterCommit = Math.min(walls.afterCommit, readsAlone(true));
  }
  const base = best.get(variants[0][0])!;
  process.stdout.write(`node ${process.version}, NODE_ENV=${process.env.NODE_ENV ?? '(unset)'}, ${process.execArgv.join(' ') || 'plain node'}\n`);
  for (const [name] of variants)
    process.stdout.write(`${name.padEnd(42)} ${best.get(name)!.toFixed(1).padStart(7)} µs CPU per read  ×${(best.get(name)! / base).toFixed(2)}\n`);
  process.stdout.write(
    `better-sqlite3 read, wall µs: ${walls.alone.toFixed(1)} alone, ${walls.afterCommit.toFixed(1)} when each follows an INSERT commit on the same connection (×${(walls.afterCommit / walls.alone).toFixed(2)})\n`,
  );
  await db.destroy();
  raw.close();
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

main().catch((e) => {
  process.stderr.write(`sqlite-reads: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
