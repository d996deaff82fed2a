/**
 * A run directory that `npm run bench:gateway` left (bench/results/gateway-N: its config, sample
 * and OneID store), opened for the in-process benches (floor-work, floor-parts, gateway-work):
 * the world's stand-ins started from the working tree, the config pointed at them, and copies of
 * the run's OneID store in a temporary directory of this run's own (a bench run replaces its
 * store, and a gateway writes audit rows into its own).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseConfig } from '../src/config';
import { demoSourcesConfig, spawnStandIns } from '../demo/world-sources';
import type { Sample } from './gateway-scenarios';

/** Command-line `--name value`, or the fallback. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

export interface BenchRun {
  sample: Sample;
  /** A copy of the run's OneID store named `name`, in this run's temporary directory. */
  copyStore(name: string): Promise<string>;
  /** The run's config on the stand-ins started here, with its OneID store at `oneidFile` and `overrides` on top. */
  configFor(oneidFile: string, overrides?: Record<string, unknown>): ReturnType<typeof parseConfig>;
  /** The same config written as a file in this run's temporary directory, for a gateway started as a process of its own. */
  configFileFor(oneidFile: string, overrides?: Record<string, unknown>): string;
  /** Stops the stand-ins and removes the copies. */
  close(): void;
}

export async function openBenchRun(people: number, tmpPrefix: string): Promise<BenchRun> {
  // The working tree (run from it): compiled, a bench lives elsewhere, and the stand-ins run from TypeScript.
  const root = process.cwd();
  const runDir = path.resolve(root, 'bench/results', `gateway-${people}`);
  const worldDir = path.resolve(root, 'bench/results', `world-${people}-42`);
  const configFile = path.join(runDir, 'config.json');
  const rawConfig = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const sample = JSON.parse(fs.readFileSync(path.join(runDir, 'sample.json'), 'utf8')) as Sample;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const standIns = await spawnStandIns(worldDir, path.join(root, 'demo/stand-ins.ts'));
  const names = (rawConfig.sources as Array<{ name: string }>).map((s) => s.name);
  const sources = demoSourcesConfig(worldDir, standIns, 30_000).filter((s) => names.includes(s.name));
  const raw = (oneidFile: string, overrides: Record<string, unknown>) => ({
    ...rawConfig,
    sources,
    oneid: { ...rawConfig.oneid, connection: { ...rawConfig.oneid.connection, filename: oneidFile } },
    ...overrides,
  });
  return {
    sample,
    async copyStore(name) {
      const file = path.join(tmp, name);
      const original = new Database(rawConfig.oneid.connection.filename, { readonly: true });
      await original.backup(file);
      original.close();
      return file;
    },
    configFor: (oneidFile, overrides = {}) => parseConfig(raw(oneidFile, overrides), configFile),
    configFileFor(oneidFile, overrides = {}) {
      const file = path.join(tmp, `config-${path.basename(oneidFile)}.json`);
      fs.writeFileSync(file, JSON.stringify(raw(oneidFile, overrides)));
      return file;
    },
    close() {
      standIns.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
