/**
 * Fills the four systems' databases with a generated world and streams its ground truth.
 *
 * People come one at a time from `generatePeople`; their rows collect in per-table buffers
 * that go out as multi-row INSERTs inside periodically committed transactions, and their
 * record keys go to the truth CSV. Nothing holds more than a few batches, so memory stays
 * flat from 300 people to a million. Works on SQLite and MySQL/MariaDB for every store;
 * stores that share one database share one connection and one writer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { Knex } from 'knex';
import { openDatabase, isMysql, type SqlConnection } from '../src/db';
import { createTables, type SourceStore } from './schema';
import type { DemoSystem } from './system';
import {
  Rng,
  GENERATOR_VERSION,
  PLACEHOLDER_EMAILS,
  PLACEHOLDER_PHONES,
  RECORD_TABLES,
  TABLES,
  TABLE_NAMES,
  assertWorldOptions,
  generatePeople,
  parseAsOf,
  type PersonRecords,
  type TableName,
} from './world';
import { generateNoisyWorld, NOISY_GENERATOR_VERSION, NOISY_SYSTEMS, type NoisyRow } from './world-noisy';

export const STORES: readonly SourceStore[] = ['crm', 'orders', 'support', 'scrm'];

export interface GenerateWorldOptions {
  people: number;
  seed: number;
  /** The world's "now" (default today 00:00 UTC); see `parseAsOf`. */
  asOf?: Date | string | number;
  /** Where each system's tables go; stores may share one database. Existing tables are replaced. */
  connections: Record<SourceStore, SqlConnection>;
  /** Ground truth CSV `source,record_id,person_id`, one line per OneID source record. */
  truthFile: string;
  /** Demo systems beyond the four (demo/systems/), each with its store's connection. */
  systems?: ReadonlyArray<{ system: DemoSystem; connection: SqlConnection }>;
  /** Called every few thousand people. */
  onProgress?: (peopleDone: number, people: number) => void;
}

export interface WorldStats {
  generatorVersion: number;
  people: number;
  seed: number;
  /** ISO instant. */
  asOf: string;
  /** Rows per table. */
  counts: Record<TableName, number>;
  /** OneID source records per source (= truth lines per source), the demo systems' included. */
  records: Record<string, number>;
  /** How much of each kind of noise the world carries (people or records). */
  noise: {
    crmDuplicatePeople: number;
    secondShopAccountPeople: number;
    householdPeople: number;
    rebindPeople: number;
    scrmSecondOpenidPeople: number;
    /** Records whose phone or email field holds a staff placeholder. */
    placeholderRecords: number;
    /** People present in all four systems. */
    inAllFour: number;
  };
  elapsedMs: number;
}

/** Bind parameters per statement: under MySQL's 65,535 and SQLite's 32,766 with room to spare. */
const MAX_PARAMS = { mysql: 60_000, sqlite: 32_000 };
/** Rows per INSERT; beyond this, bigger statements stop paying for themselves. */
const MAX_ROWS_PER_INSERT = 1000;
/** Rows per transaction: keeps SQLite's WAL and InnoDB's undo log bounded on big worlds. */
const ROWS_PER_TRANSACTION = 100_000;
/** Statements queued per database before generation waits for the database to catch up. */
const MAX_QUEUED = 4;

/**
 * Batches rows into multi-row INSERTs on one database. Statements run strictly in order on one
 * transaction; generation runs ahead by at most MAX_QUEUED statements (MySQL round trips overlap
 * with generating the next people). The first failure stops all further writes and is rethrown
 * by `settle` / `finish`.
 */
class DatabaseWriter {
  private readonly buffers = new Map<string, { values: unknown[]; rows: number; columns: readonly string[] }>();
  private readonly quote: string;
  private readonly maxParams: number;
  private readonly sqlCache = new Map<string, string>();
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private failure: unknown = null;
  private trx: Knex.Transaction | null = null;
  private rowsInTrx = 0;

  constructor(readonly db: Knex) {
    const mysql = isMysql(db);
    this.quote = mysql ? '`' : '"';
    this.maxParams = mysql ? MAX_PARAMS.mysql : MAX_PARAMS.sqlite;
  }

  add(table: string, rows: readonly object[], columns: readonly string[] = TABLES[table as TableName].columns as readonly string[]): void {
    let buf = this.buffers.get(table);
    if (!buf) this.buffers.set(table, (buf = { values: [], rows: 0, columns }));
    for (const row of rows) {
      const r = row as Record<string, unknown>;
      for (const c of columns) buf.values.push(r[c]);
      if (++buf.rows >= this.rowsPerInsert(columns.length)) this.flush(table);
    }
  }

  /** Waits while too many statements are queued; rethrows a write failure. */
  async settle(): Promise<void> {
    if (this.queued > MAX_QUEUED) await this.tail;
    if (this.failure) throw this.failure;
  }

  /** Writes what is buffered and commits. */
  async finish(): Promise<void> {
    for (const table of this.buffers.keys()) this.flush(table);
    this.enqueue(async () => {
      if (this.trx) await this.trx.commit();
      this.trx = null;
    });
    await this.tail;
    if (this.failure) throw this.failure;
  }

  async abort(): Promise<void> {
    await this.tail;
    if (this.trx) await this.trx.rollback().catch(() => undefined);
    this.trx = null;
  }

  private rowsPerInsert(columns: number): number {
    return Math.min(MAX_ROWS_PER_INSERT, Math.floor(this.maxParams / columns));
  }

  private flush(table: string): void {
    const buf = this.buffers.get(table);
    if (!buf || !buf.rows) return;
    const { values, rows, columns } = buf;
    buf.values = [];
    buf.rows = 0;
    const sql = this.insertSql(table, rows, columns);
    this.enqueue(async () => {
      if (!this.trx) this.trx = await this.db.transaction();
      await this.trx.raw(sql, values as Knex.RawBinding[]);
      this.rowsInTrx += rows;
      if (this.rowsInTrx >= ROWS_PER_TRANSACTION) {
        await this.trx.commit();
        this.trx = null;
        this.rowsInTrx = 0;
      }
    });
  }

  private enqueue(step: () => Promise<void>): void {
    this.queued++;
    this.tail = this.tail
      .then(() => (this.failure ? undefined : step()))
      .catch((e) => {
        this.failure ??= e;
      })
      .finally(() => {
        this.queued--;
      });
  }

  private insertSql(table: string, rows: number, columns: readonly string[]): string {
    const key = `${table}:${rows}`;
    let sql = this.sqlCache.get(key);
    if (!sql) {
      const q = this.quote;
      const tuple = `(${columns.map(() => '?').join(',')})`;
      sql = `INSERT INTO ${q}${table}${q} (${columns.map((c) => `${q}${c}${q}`).join(',')}) VALUES ${Array(rows).fill(tuple).join(',')}`;
      // Only full batches recur; caching the odd tail sizes would just grow the map.
      if (rows === this.rowsPerInsert(columns.length)) this.sqlCache.set(key, sql);
    }
    return sql;
  }
}

/** The ground-truth CSV, written as a stream with backpressure. */
class TruthWriter {
  private readonly stream: fs.WriteStream;
  private chunk: string[] = [];
  private failure: unknown = null;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.stream = fs.createWriteStream(file, { encoding: 'utf8' });
    this.stream.on('error', (e) => {
      this.failure ??= e;
    });
    this.chunk.push('source,record_id,person_id\n');
  }

  add(source: string, recordId: string, personId: string): void {
    this.chunk.push(`${source},${recordId},${personId}\n`);
  }

  /** Hands the buffered lines to the stream once enough have gathered (or when forced). */
  async flush(force = false): Promise<void> {
    if (this.failure) throw this.failure;
    if (!force && this.chunk.length < 4096) return;
    const ok = this.stream.write(this.chunk.join(''));
    this.chunk = [];
    if (!ok) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush(true);
    this.stream.end();
    await once(this.stream, 'finish');
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.stream.destroy();
  }
}

let memoryDatabases = 0;
/** Stores with the same key share a database; every `:memory:` connection is a database of its own. */
function connectionKey(c: SqlConnection): string {
  if (c.client === 'mysql') return `mysql:${c.url}`;
  return c.filename === ':memory:' ? `sqlite::memory:#${memoryDatabases++}` : `sqlite:${path.resolve(c.filename)}`;
}

const PLACEHOLDER_PHONE_SET = new Set<string>(PLACEHOLDER_PHONES);
const PLACEHOLDER_EMAIL_SET = new Set<string>(PLACEHOLDER_EMAILS);

function countPlaceholders({ rows }: PersonRecords): number {
  let n = 0;
  for (const r of rows.crm_contacts) if (PLACEHOLDER_PHONE_SET.has(r.mobile!) || PLACEHOLDER_EMAIL_SET.has(r.email!)) n++;
  for (const r of rows.shop_accounts) if (PLACEHOLDER_PHONE_SET.has(r.mobile!) || PLACEHOLDER_EMAIL_SET.has(r.email!)) n++;
  for (const r of rows.support_users) if (PLACEHOLDER_PHONE_SET.has(r.phone!) || PLACEHOLDER_EMAIL_SET.has(r.email!)) n++;
  return n;
}

/**
 * Generates a world into the four stores (tables recreated with demo/schema.ts) and writes
 * its ground truth. Same seed, people and asOf: identical rows and truth, on any engine.
 */
export async function generateWorld(opts: GenerateWorldOptions): Promise<WorldStats> {
  const started = Date.now();
  assertWorldOptions(opts);
  const asOf = parseAsOf(opts.asOf);
  for (const s of STORES) if (!opts.connections?.[s]) throw new Error(`generateWorld: connections.${s} is missing`);

  const writersByKey = new Map<string, DatabaseWriter>();
  const writerOf = {} as Record<SourceStore, DatabaseWriter>;
  for (const store of STORES) {
    const key = connectionKey(opts.connections[store]);
    let w = writersByKey.get(key);
    if (!w) writersByKey.set(key, (w = new DatabaseWriter(openDatabase(opts.connections[store]))));
    writerOf[store] = w;
  }
  const systems = (opts.systems ?? []).map(({ system, connection }, i) => {
    const key = connectionKey(connection);
    let w = writersByKey.get(key);
    if (!w) writersByKey.set(key, (w = new DatabaseWriter(openDatabase(connection))));
    // Each system draws from a stream of its own, keyed by its name: adding one changes no other system's rows.
    return { system, writer: w, stream: nameKey(system.name), index: i };
  });
  const writers = [...writersByKey.values()];
  let truth: TruthWriter | null = null;
  try {
    for (const w of writers) {
      // The load is disposable (a failed run is regenerated), so skip fsyncs while it runs.
      if (!isMysql(w.db)) await w.db.raw('PRAGMA synchronous = OFF');
    }
    for (const store of STORES) await createTables[store](writerOf[store].db);
    for (const { system, writer } of systems) await system.createTables(writer.db);
    truth = new TruthWriter(opts.truthFile);

    const counts = Object.fromEntries(TABLE_NAMES.map((t) => [t, 0])) as Record<TableName, number>;
    const records: Record<string, number> = { crm: 0, orders: 0, support: 0, scrm: 0 };
    for (const { system } of systems) records[system.name] = 0;
    const [lo, hi] = [opts.seed >>> 0, Math.floor(opts.seed / 4294967296) >>> 0];
    const noise: WorldStats['noise'] = {
      crmDuplicatePeople: 0,
      secondShopAccountPeople: 0,
      householdPeople: 0,
      rebindPeople: 0,
      scrmSecondOpenidPeople: 0,
      placeholderRecords: 0,
      inAllFour: 0,
    };
    let done = 0;
    for (const pr of generatePeople({ people: opts.people, seed: opts.seed, asOf })) {
      const { person, rows } = pr;
      for (const table of TABLE_NAMES) {
        const r = rows[table];
        if (!r.length) continue;
        writerOf[TABLES[table].store].add(table, r);
        counts[table] += r.length;
      }
      for (const r of rows.crm_contacts) truth.add('crm', RECORD_TABLES.crm.id(r), person.id);
      for (const r of rows.shop_accounts) truth.add('orders', RECORD_TABLES.orders.id(r), person.id);
      for (const r of rows.support_users) truth.add('support', RECORD_TABLES.support.id(r), person.id);
      for (const r of rows.scrm_followers) truth.add('scrm', RECORD_TABLES.scrm.id(r), person.id);
      records.crm += rows.crm_contacts.length;
      records.orders += rows.shop_accounts.length;
      records.support += rows.support_users.length;
      records.scrm += rows.scrm_followers.length;
      for (const { system, writer, stream } of systems) {
        const rng = new Rng([lo, hi, stream, done]);
        if (!system.present(person, rng)) continue;
        const extra = system.rowsFor(person, rng, { seed: opts.seed, people: opts.people, asOf });
        for (const [table, list] of Object.entries(extra)) if (list.length) writer.add(table, list, system.tables[table]);
        for (const r of extra[system.records.table] ?? []) truth.add(system.name, system.records.id(r), person.id);
        records[system.name] += (extra[system.records.table] ?? []).length;
      }

      if (person.noise.crmDuplicate) noise.crmDuplicatePeople++;
      if (person.noise.secondAccount) noise.secondShopAccountPeople++;
      if (person.household) noise.householdPeople++;
      if (person.noise.rebind) noise.rebindPeople++;
      if (person.noise.scrmSecondOpenid) noise.scrmSecondOpenidPeople++;
      if (rows.crm_contacts.length && rows.shop_accounts.length && rows.support_users.length && rows.scrm_followers.length) noise.inAllFour++;
      noise.placeholderRecords += countPlaceholders(pr);

      if (++done % 64 === 0) {
        await truth.flush();
        for (const w of writers) await w.settle();
        if (done % 10_000 === 0) opts.onProgress?.(done, opts.people);
      }
    }
    for (const w of writers) await w.finish();
    await truth.close();
    truth = null;
    opts.onProgress?.(done, opts.people);
    return {
      generatorVersion: GENERATOR_VERSION,
      people: opts.people,
      seed: opts.seed,
      asOf: new Date(asOf).toISOString(),
      counts,
      records,
      noise,
      elapsedMs: Date.now() - started,
    };
  } catch (e) {
    for (const w of writers) await w.abort().catch(() => undefined);
    truth?.destroy();
    throw e;
  } finally {
    for (const w of writers) await w.db.destroy().catch(() => undefined);
  }
}

/** A 32-bit key from a name (FNV-1a), for a system's own random stream. */
function nameKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// The `noisy` world profile (demo/world-noisy.ts): five tables in one SQLite file, read
// through the declarative SQL source kind, and its ground truth.
// ---------------------------------------------------------------------------------------------

export const NOISY_DB_FILE = 'noisy.sqlite';

export const NOISY_COLUMNS: ReadonlyArray<keyof NoisyRow> = [
  'id',
  'updated_at',
  'name',
  'birthday',
  'gender',
  'city',
  'province',
  'phone',
  'email',
  'resident_id',
  'passport',
];

/** Writes the noisy world into `dataDir` (replacing one there) and its truth CSV; answers the records per system. */
export async function generateNoisyWorldFiles(opts: { dataDir: string; people: number; seed: number; truthFile: string }): Promise<Record<string, number>> {
  const world = generateNoisyWorld(opts.people, opts.seed);
  await writeNoisyTables({ ...opts, columns: NOISY_COLUMNS, rows: world.rows, truth: world.truth });
  return Object.fromEntries(NOISY_SYSTEMS.map((s) => [s, world.rows[s].length]));
}

export interface NoisyWorldManifest {
  profile: 'noisy';
  generatorVersion: number;
  people: number;
  seed: number;
  /** Records per system. */
  records: Record<string, number>;
}

/**
 * The noisy world of a data dir, generated unless its manifest (`noisy-world.json`) says this
 * generator version made it there already for these people and seed.
 */
export async function ensureNoisyWorld(opts: {
  dataDir: string;
  people: number;
  seed: number;
  truthFile: string;
}): Promise<{ generated: boolean; manifest: NoisyWorldManifest }> {
  const manifestFile = path.join(opts.dataDir, 'noisy-world.json');
  const want = { profile: 'noisy' as const, generatorVersion: NOISY_GENERATOR_VERSION, people: opts.people, seed: opts.seed };
  try {
    const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as NoisyWorldManifest;
    if (m.profile === 'noisy' && m.generatorVersion === want.generatorVersion && m.people === opts.people && m.seed === opts.seed) return { generated: false, manifest: m };
  } catch {
    // none yet
  }
  const records = await generateNoisyWorldFiles(opts);
  const manifest = { ...want, records };
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  return { generated: true, manifest };
}

/**
 * Writes a world in the noisy profile's storage format into `dataDir`: one SQLite file with a
 * table per system (`id`, `updated_at`, then `columns`' others as text), replacing any there,
 * and its truth CSV (`source,record_id,person_id`). The generated world and an external one
 * (demo/world-csv.ts) are both written by it.
 */
export async function writeNoisyTables(opts: {
  dataDir: string;
  truthFile: string;
  columns: readonly string[];
  rows: Record<(typeof NOISY_SYSTEMS)[number], ReadonlyArray<object>>;
  truth: ReadonlyArray<readonly string[]>;
}): Promise<void> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const file = path.join(opts.dataDir, NOISY_DB_FILE);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  const db = openDatabase({ client: 'sqlite', filename: file });
  try {
    for (const system of NOISY_SYSTEMS) {
      await db.schema.createTable(system, (t) => {
        t.string('id', 64).primary();
        t.string('updated_at', 24).notNullable();
        for (const c of opts.columns) if (c !== 'id' && c !== 'updated_at') t.string(c, 255).nullable();
        t.index(['updated_at', 'id']);
      });
      const rows = opts.rows[system];
      for (let i = 0; i < rows.length; i += 500) await db(system).insert(rows.slice(i, i + 500));
    }
  } finally {
    await db.destroy();
  }
  fs.writeFileSync(opts.truthFile, ['source,record_id,person_id', ...opts.truth.map((t) => t.join(','))].join('\n') + '\n');
}

/** The `sources` config for the noisy world: one declarative SQL source per system, as a company would map its tables. */
export function noisySourcesConfig(dataDir: string) {
  const connection = { client: 'sqlite' as const, filename: path.join(dataDir, NOISY_DB_FILE) };
  const gender = { type: 'gender', codes: { M: 'MALE', F: 'FEMALE', 男: 'MALE', 女: 'FEMALE' } };
  return NOISY_SYSTEMS.map((system) => ({
    name: system,
    kind: 'sql-table',
    connection,
    profile: {
      table: system,
      key: 'id',
      updatedAt: 'updated_at',
      fields: {
        name: { column: 'name' },
        birthday: { column: 'birthday' },
        gender: { column: 'gender', convert: gender },
        city: { column: 'city' },
        province: { column: 'province' },
        phone: { column: 'phone', convert: { type: 'phone', region: system === 'global_store' ? 'US' : 'CN' } },
        email: { column: 'email' },
      },
    },
    identifiers: [
      { kind: 'PHONE', column: 'phone', region: system === 'global_store' ? 'US' : 'CN' },
      { kind: 'EMAIL', column: 'email' },
      ...(system === 'members' ? [{ kind: 'RESIDENT_ID', column: 'resident_id' }] : []),
      ...(system === 'global_store' ? [{ kind: 'PASSPORT', column: 'passport' }] : []),
    ],
  }));
}
