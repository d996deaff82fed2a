// `npm run build`, after tsc: copies what the compiled code reads next to itself (SDL files, the
// IDE's boot script, JSON data, the default config and policy), so `node dist/src/cli.js` finds
// them by the same relative paths as the TypeScript does. Everything else in dist/ is tsc's.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where tsc wrote (default dist/; the build test compiles elsewhere). */
const dist = path.resolve(root, process.argv[2] ?? 'dist');
/** Folders whose non-TypeScript files the code reads at run time, and the two read whole. */
const MIXED = ['src', 'resolvers', 'demo'];
const WHOLE = ['schema', 'config'];

let copied = 0;
function copyTree(rel, keep) {
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const child = path.join(rel, entry.name);
    if (entry.isDirectory()) copyTree(child, keep);
    else if (keep(entry.name)) {
      fs.mkdirSync(path.join(dist, rel), { recursive: true });
      fs.copyFileSync(path.join(root, child), path.join(dist, child));
      copied++;
    }
  }
}
for (const dir of MIXED) copyTree(dir, (name) => !name.endsWith('.ts') && !name.endsWith('.md'));
for (const dir of WHOLE) copyTree(dir, () => true);
console.log(`copied ${copied} run-time files into ${path.relative(root, dist) || dist}/`);
