/**
 * One backstop, no shorter ones (docs/testing.md): jest's `testTimeout` bounds every test and
 * hook, and no test file sets a shorter bound on a test, a hook or the whole file. The work a test
 * does grows with the machine's load (a world's build, a call per customer, thousands of records
 * resolved): a bound of three minutes over what takes 25 s on a quiet machine fails on a loaded
 * CI machine, and fails the whole file when it is a hook's. Fault tests set short deadlines on what
 * they fault (a source, a lease), never on the test. Read from the files' syntax, not their text.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const BACKSTOP_MS: number = require('../../jest.config.js').testTimeout;
/** Where each function takes its timeout: the test's third argument, a hook's second. */
const TIMEOUT_ARG: Record<string, number> = { it: 2, test: 2, beforeAll: 1, beforeEach: 1, afterAll: 1, afterEach: 1 };

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return testFiles(p);
    return d.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** The name a call goes by: `it`, `it.each(...)`'s `it`, `jest.setTimeout`, an engine-only `itOn(engine)`'s `it`. */
function calleeName(e: ts.Expression): string | undefined {
  if (ts.isIdentifier(e)) return e.text === 'itOn' ? 'it' : e.text === 'describeOn' ? 'describe' : e.text;
  if (ts.isPropertyAccessExpression(e)) {
    const owner = calleeName(e.expression);
    if (owner === 'jest') return `jest.${e.name.text}`;
    return owner && ['only', 'skip', 'concurrent', 'failing', 'each'].includes(e.name.text) ? owner : undefined;
  }
  if (ts.isCallExpression(e)) return calleeName(e.expression); // itOn('mariadb')(...), it.each(table)(...)
  return undefined;
}

/** Every bound below the backstop a file sets: `file:line what ms`. */
function shorterBounds(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (node: ts.Node) => `${path.relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const ms = (arg: ts.Expression | undefined) => (arg && ts.isNumericLiteral(arg) ? Number(arg.text.replace(/_/g, '')) : undefined);
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      const name = calleeName(node.expression);
      const bound = name === 'jest.setTimeout' ? ms(node.arguments[0]) : name && name in TIMEOUT_ARG ? ms(node.arguments[TIMEOUT_ARG[name]]) : undefined;
      if (bound !== undefined && bound < BACKSTOP_MS) found.push(`${at(node)} ${name} ${bound}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('Test files: one backstop', () => {
  it('reads a bound where a file sets one (this check finds what it looks for)', () => {
    const file = path.join(ROOT, 'test/fixtures/left-open/building-at-file-end.fixture.ts');
    expect(shorterBounds(file)).toEqual(['test/fixtures/left-open/building-at-file-end.fixture.ts:10 beforeAll 1']);
  });

  it('sets no bound on a test, a hook or a file shorter than jest testTimeout', () => {
    expect(BACKSTOP_MS).toBe(600_000);
    expect(testFiles(path.join(ROOT, 'test')).flatMap(shorterBounds)).toEqual([]);
  });
});
