/**
 * The production build: `npm run build` compiles to plain JavaScript (tsconfig.build.json) and
 * copies what the code reads at run time (SDL, the IDE's boot script, config) next to it, so
 * `node dist/src/cli.js` runs without tsx. Built here into a temporary folder under dist/ (the same two
 * steps), then run from there: the schema, the policy and the IDE are found from the compiled location.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
let out: string;

beforeAll(() => {
  // Inside the project (under dist/, ignored), so the compiled code finds node_modules as dist/ does.
  fs.mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  out = fs.mkdtempSync(path.join(ROOT, 'dist', 'test-build-'));
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
  execFileSync(process.execPath, ['scripts/copy-build-assets.mjs', out], { cwd: ROOT, stdio: 'pipe' });
});

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const compiled = (...args: string[]) => execFileSync(process.execPath, [path.join(out, 'src/cli.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('Production build: plain node on compiled JavaScript', () => {
  it('prints the same role schema as the TypeScript sources', () => {
    const fromTs = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'schema', '--role', 'support'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(compiled('schema', '--role', 'support')).toBe(fromTs);
  });

  it('checks the demo config', () => {
    expect(compiled('check-config')).toMatch(/^config\/demo\.json: ok$/m);
  });

  it('finds the IDE files from the compiled location', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createIde } = require(path.join(out, 'src/ide/index.js'));
    expect(createIde({ endpoint: '/graphql', streamEndpoint: '/graphql/stream' }).assets.size).toBe(6);
  });
});
