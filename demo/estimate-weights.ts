/**
 * npm run identity:estimate [-- --profile default|noisy --people 5000 --seed 42 --data-dir DIR --out config/identity-weights.json --keep FILE|none]
 *
 * Estimates the probabilistic tier's m/u weights on a demo world WITHOUT its ground truth:
 * every source is scanned, each record's match features built as staging builds them, and
 * `estimateWeights` runs EM over the pairs the blocks compare and u over random pairs. The
 * truth file is never read here; the world's figures are for eval:identity.
 *
 * A level the world never shows (a street address, on a world without addresses) is taken from
 * `--keep`, by default the file written over, and the new file says what it was estimated on
 * (`estimated.kept`); `--keep none` leaves such levels out (the model weighs them as the next worse).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config';
import { createRegistry } from '../src/sources/registry';
import { noopObserver } from '../src/sources/observe';
import { loadIdentityRules } from '../src/idmap';
import { featuresOfPage, stagePage } from '../src/idmap/stage';
import { estimateWeights, withUnseenLevelsFrom } from '../src/idmap/probabilistic/estimate';
import { loadWeights } from '../src/idmap/probabilistic/model';
import type { MatchFeatures } from '../src/idmap/probabilistic/features';
import { ensureDemoWorld, TRUTH_FILE } from './seed';
import { demoSourcesConfig, spawnStandIns } from './world-sources';
import { ensureNoisyWorld, noisySourcesConfig } from './generate';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main() {
  const people = Number(arg('people', '5000'));
  const seed = Number(arg('seed', '42'));
  const noisy = arg('profile', 'default') === 'noisy';
  const dataDir = path.resolve(arg('data-dir', path.join('data', `eval-${noisy ? 'noisy-' : ''}${people}-${seed}`)));
  const out = path.resolve(arg('out', 'config/identity-weights.json'));
  const rules = loadIdentityRules(path.resolve(arg('rules', 'config/identity-rules.json')));
  if (!rules.probabilistic) throw new Error('the rules file has no "probabilistic" section');
  let standIns: { stop(): void } & Record<string, string>;
  let sources: unknown[];
  if (noisy) {
    // The truth file is written beside the world (eval reads it); this script never opens it.
    await ensureNoisyWorld({ dataDir, people, seed, truthFile: path.join(dataDir, TRUTH_FILE) });
    standIns = Object.assign({} as Record<string, string>, { stop() {} });
    sources = noisySourcesConfig(dataDir);
  } else {
    await ensureDemoWorld({ dataDir, people, seed });
    standIns = await spawnStandIns(dataDir);
    sources = demoSourcesConfig(dataDir, standIns, 30000);
  }
  const config = parseConfig({ oneid: { connection: { client: 'sqlite', filename: ':memory:' } }, sources }, 'estimate config');
  const registry = createRegistry(config.sources, noopObserver);
  const features: MatchFeatures[] = [];
  try {
    for (const { connector } of registry.sources) {
      let cursor: string | null = null;
      for (;;) {
        const page = await connector.scan(cursor, 1000);
        const changes = stagePage(connector.name, page.records, new Map(), rules, new Date().toISOString());
        features.push(...featuresOfPage(connector.name, page.records, changes, rules).features);
        if (page.done || page.cursor == null || page.cursor === cursor) break;
        cursor = page.cursor;
      }
    }
  } finally {
    await registry.close();
    standIns.stop();
  }
  const estimate = estimateWeights(features, {
    maxBlock: rules.probabilistic.maxBlock,
    describe: { on: `${noisy ? 'noisy' : 'default'} demo world people=${people} seed=${seed} (no ground truth read)`, at: new Date().toISOString().slice(0, 10) },
  });
  const keep = arg('keep', fs.existsSync(out) ? out : 'none');
  const weights = keep === 'none' ? estimate : withUnseenLevelsFrom(estimate, loadWeights(path.resolve(keep)));
  fs.writeFileSync(out, JSON.stringify(weights, null, 2) + '\n');
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)}: ${features.length} records, ${JSON.stringify(weights.estimated)}\n`);
}

main().catch((e) => {
  process.stderr.write(`identity:estimate: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
