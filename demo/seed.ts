/**
 * The demo world on disk: four SQLite files, the ground truth and a manifest under one data dir.
 *
 *   npx tsx demo/seed.ts --people 5000 --seed 42 --data-dir data [--as-of 2026-11-01]
 *
 * writes crm.sqlite, orders.sqlite, support.sqlite, scrm.sqlite, truth.csv and world.json
 * (written last, so a half-generated world is never mistaken for a finished one).
 * `ensureDemoWorld` is what `npm start` calls: it only regenerates when the manifest is missing
 * or describes another world, so a start with the world in place costs one small file read.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SqlConnection } from '../src/db';
import { DEMO_SYSTEMS } from './systems';
import type { SourceStore } from './schema';
import { generateWorld, STORES, type WorldStats } from './generate';
import { GENERATOR_VERSION, MAX_PEOPLE, parseAsOf } from './world';

export const MANIFEST_FILE = 'world.json';
export const TRUTH_FILE = 'truth.csv';

export interface DemoWorldManifest extends WorldStats {
  /** When the files were written (informational; not part of the world's identity). */
  generatedAt: string;
}

export interface DemoWorldOptions {
  dataDir: string;
  people: number;
  seed: number;
  /** Omitted: any asOf of an existing matching world is accepted; a new world uses today 00:00 UTC. */
  asOf?: Date | string | number;
  onProgress?: (peopleDone: number, people: number) => void;
}

/** Where each store's SQLite file lives in a data dir. */
export function demoConnections(dataDir: string): Record<SourceStore, SqlConnection> {
  return Object.fromEntries(STORES.map((s) => [s, { client: 'sqlite', filename: path.join(dataDir, `${s}.sqlite`) }])) as Record<SourceStore, SqlConnection>;
}

/** The manifest in `dataDir`, or null when absent or unreadable. */
export function readManifest(dataDir: string): DemoWorldManifest | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, MANIFEST_FILE), 'utf8')) as DemoWorldManifest;
  } catch {
    return null;
  }
}

function matches(m: DemoWorldManifest | null, opts: DemoWorldOptions): m is DemoWorldManifest {
  if (!m || m.generatorVersion !== GENERATOR_VERSION || m.seed !== opts.seed || m.people !== opts.people) return false;
  if (opts.asOf !== undefined && m.asOf !== new Date(parseAsOf(opts.asOf)).toISOString()) return false;
  const files = [...STORES.map((s) => `${s}.sqlite`), ...DEMO_SYSTEMS.map((s) => `${s.store}.sqlite`), TRUTH_FILE];
  // A world made before a demo system existed lacks its records: regenerate.
  if (DEMO_SYSTEMS.some((s) => m.records?.[s.name] === undefined)) return false;
  return files.every((f) => fs.existsSync(path.join(opts.dataDir, f)));
}

/** Generates the world into `dataDir`, replacing whatever world was there. */
export async function writeDemoWorld(opts: DemoWorldOptions): Promise<DemoWorldManifest> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const manifestPath = path.join(opts.dataDir, MANIFEST_FILE);
  fs.rmSync(manifestPath, { force: true });
  const stores = [...STORES, ...DEMO_SYSTEMS.map((s) => s.store)];
  for (const s of stores) for (const ext of ['', '-wal', '-shm', '-journal']) fs.rmSync(path.join(opts.dataDir, `${s}.sqlite${ext}`), { force: true });
  const stats = await generateWorld({
    people: opts.people,
    seed: opts.seed,
    asOf: opts.asOf,
    connections: demoConnections(opts.dataDir),
    systems: DEMO_SYSTEMS.map((system) => ({ system, connection: { client: 'sqlite' as const, filename: path.join(opts.dataDir, `${system.store}.sqlite`) } })),
    truthFile: path.join(opts.dataDir, TRUTH_FILE),
    onProgress: opts.onProgress,
  });
  const manifest: DemoWorldManifest = { ...stats, generatedAt: new Date().toISOString() };
  const tmp = `${manifestPath}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
  fs.renameSync(tmp, manifestPath);
  return manifest;
}

/**
 * Makes sure `dataDir` holds the world described by (people, seed, asOf?) and answers its manifest.
 * `generated` says whether it had to be built now.
 */
export async function ensureDemoWorld(opts: DemoWorldOptions): Promise<{ generated: boolean; manifest: DemoWorldManifest }> {
  const existing = readManifest(opts.dataDir);
  if (matches(existing, opts)) return { generated: false, manifest: existing };
  return { generated: true, manifest: await writeDemoWorld(opts) };
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

/** A bad command line; the message names the flag. Exit status 2. */
export class UsageError extends Error {
  readonly code = 'BAD_ARG';
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SeedArgs {
  people: number;
  seed: number;
  dataDir: string;
  asOf?: string;
  help: boolean;
}

const USAGE = 'usage: npx tsx demo/seed.ts [--people 5000] [--seed 42] [--data-dir data] [--as-of YYYY-MM-DD]';

function integerFlag(flag: string, raw: string, min: number, max: number): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(flag, `${flag} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  return n;
}

/** Parses `--flag value` and `--flag=value`; throws UsageError on anything it does not understand. */
export function parseSeedArgs(argv: readonly string[]): SeedArgs {
  const out: SeedArgs = { people: 5000, seed: 42, dataDir: 'data', help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    const m = /^(--[a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(arg, `unexpected argument ${JSON.stringify(arg)}`);
    const flag = m[1];
    if (!['--people', '--seed', '--data-dir', '--as-of'].includes(flag)) throw new UsageError(flag, `unknown flag ${flag}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || (m[2] === undefined && value.startsWith('--'))) throw new UsageError(flag, `${flag} needs a value`);
    if (flag === '--people') out.people = integerFlag(flag, value, 1, MAX_PEOPLE);
    else if (flag === '--seed') out.seed = integerFlag(flag, value, 0, Number.MAX_SAFE_INTEGER);
    else if (flag === '--data-dir') {
      if (!value.trim()) throw new UsageError(flag, '--data-dir must not be empty');
      out.dataDir = value;
    } else {
      try {
        parseAsOf(value);
      } catch {
        throw new UsageError(flag, `--as-of must be a date such as 2026-11-01 or an ISO instant (got ${JSON.stringify(value)})`);
      }
      out.asOf = value;
    }
  }
  return out;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: SeedArgs;
  try {
    args = parseSeedArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`seed: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const manifest = await writeDemoWorld({
    dataDir: args.dataDir,
    people: args.people,
    seed: args.seed,
    asOf: args.asOf,
    onProgress: (done, total) => {
      if (done < total) process.stderr.write(`seed: ${done} / ${total} people\n`);
    },
  });
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(
    JSON.stringify(
      {
        dataDir: path.resolve(args.dataDir),
        people: manifest.people,
        seed: manifest.seed,
        asOf: manifest.asOf,
        records: manifest.records,
        counts: manifest.counts,
        noise: manifest.noise,
        elapsedMs: manifest.elapsedMs,
        peakRssMb,
      },
      null,
      2,
    ) + '\n',
  );
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`seed: failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
