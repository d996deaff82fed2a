/**
 * The demo systems beyond the original four: every folder `demo/systems/<name>/` whose index
 * exports `system` (demo/system.ts). Found, not listed, so adding one touches only its folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DemoSystem } from './system';

const DIR = path.join(__dirname, 'systems');

function discover(): DemoSystem[] {
  if (!fs.existsSync(DIR)) return [];
  const found: DemoSystem[] = [];
  for (const entry of fs.readdirSync(DIR, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isDirectory() || !['index.ts', 'index.js'].some((f) => fs.existsSync(path.join(DIR, entry.name, f)))) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(DIR, entry.name)) as { system?: DemoSystem };
    if (!mod.system || typeof mod.system.rowsFor !== 'function') throw new Error(`demo/systems/${entry.name}: its index must export \`system\` (demo/system.ts)`);
    found.push(mod.system);
  }
  return found;
}

export const DEMO_SYSTEMS: readonly DemoSystem[] = discover();
