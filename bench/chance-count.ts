/**
 * How long counting u and the prior on a store takes (`storeChance` with `recount`), and whether
 * the event loop turns meanwhile (a timer asks every 5 ms, and `ticks` says how often it got to),
 * and the process's peak RSS, the counting worker's included.
 *
 *   npm run eval:identity -- --world-csv FILE --data-dir DIR   # any evaluated store
 *   npx tsx bench/chance-count.ts DIR
 */
import path from 'node:path';
import knex from 'knex';
import { storeChance } from '../src/idmap/probabilistic/store-chance';
import { loadWeights } from '../src/idmap/probabilistic/model';
import { loadIdentityRules } from '../src/idmap';

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: npx tsx bench/chance-count.ts DATA_DIR (an eval:identity --data-dir)');
  const rules = loadIdentityRules(path.resolve(__dirname, '../config/identity-rules.json'));
  const db = knex({ client: 'better-sqlite3', connection: { filename: path.join(dir, 'oneid-eval.sqlite') }, useNullAsDefault: true });
  try {
    const records = Number((await db('idmap_match_features').count({ n: '*' }))[0].n);
    let last = Date.now();
    let longest = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }, 5);
    const started = Date.now();
    await storeChance(db, loadWeights(rules.probabilistic!.weightsFile), records, { maxBlock: rules.probabilistic!.maxBlock, recount: true });
    const ms = Date.now() - started;
    clearInterval(timer);
    console.log(JSON.stringify({ records, ms, ticks, longestGapMs: ticks ? longest : ms, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
  } finally {
    await db.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
