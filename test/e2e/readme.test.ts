/**
 * The README is true: its shell examples run as written against a gateway with the demo's keys
 * and webhook secrets (only the address is the test's own, instead of 127.0.0.1:4000), and its
 * claims about who may read what match the access policy. Every demo world's first person has
 * the mobile 138 0013 8000, so the examples find a customer here too.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { startTestWorld, type TestWorld } from '../helpers/world';

const ROOT = path.resolve(__dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const DEMO = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
/** Every ```sh block of the README, in order. */
const SH = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
let world: TestWorld;

beforeAll(async () => {
  world = await startTestWorld({
    people: 200,
    seed: 42,
    configPatch: (c) => {
      c.auth = DEMO.auth;
      // Each source's demo secret, as the README's `${VAR:-default}` falls back to it.
      for (const s of c.sources) s.webhookSecret = DEMO.sources.find((d: { name: string }) => d.name === s.name).webhookSecret.replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1');
    },
  });
});

afterAll(async () => world?.close());

/** Runs one README block in bash (asynchronously: the gateway answering it runs in this process), aimed at the test gateway, with none of the C360_ variables set. */
async function run(block: string): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('C360_')));
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', block.replaceAll('http://127.0.0.1:4000', world.url)], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return stdout;
}

const blockWith = (text: string) => {
  const found = SH.filter((b) => b.includes(text));
  expect(found).toHaveLength(1);
  return found[0];
};

describe('README: the examples work as written', () => {
  it('example 1 finds one customer by any spelling of a phone, as admin', async () => {
    const out = JSON.parse(await run(blockWith('customerByIdentifier(kind: PHONE, value: \\"138 0013 8000\\") { id sourceRecords')));
    expect(out.errors).toBeUndefined();
    expect(out.data.customerByIdentifier.id).toEqual(expect.any(String));
  });

  it('example 2 answers marketing with masked contact points', async () => {
    const block = blockWith('demo-marketing-key');
    // The README's record id is the seed-42 demo world's; ask for this world's first CRM record instead.
    const out = JSON.parse(await run(block.replace(/recordId: \\"[^\\]+\\"/, 'recordId: \\"C0000001\\"')));
    expect(out.errors ?? []).toEqual([]);
  });

  it('example 3 answers bad input with BAD_USER_INPUT', async () => {
    const out = JSON.parse(await run(blockWith('call me')));
    expect(out.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('the webhook example is signed with the demo default secret and accepted', async () => {
    const out = JSON.parse(await run(blockWith('/webhooks/scrm')));
    expect(out).toMatchObject({ applied: expect.any(Number), duplicates: expect.any(Number) });
    // Run twice, the event is a duplicate, as the README says.
    expect(JSON.parse(await run(blockWith('/webhooks/scrm')))).toMatchObject({ applied: 0, duplicates: 1 });
  });

  it('the CLI commands run (all but resolve, which would rewrite the demo data directory)', async () => {
    const block = blockWith('npm run -s c360 -- check-config');
    for (const line of block.split('\n').filter((l) => l.startsWith('npm run -s c360') && !l.includes(' resolve'))) {
      const command = line.replace(/\s+#.*$/, '').replace(/ > \S+$/, ' > /dev/null');
      await expect(run(command)).resolves.toEqual(expect.any(String));
    }
  });
});

describe('README: its claims match the policy', () => {
  it('linkHistory is readable by the roles the README names, and only those', () => {
    expect(README).toContain('`Customer.linkHistory` (admin and support)');
    const withHistory = [...world.gw.access.schemas].filter(([, s]) => 'linkHistory' in (s.getType('Customer') as any).getFields()).map(([r]) => r);
    expect(withHistory.sort()).toEqual(['admin', 'support']);
  });

  it('names no Apollo Sandbox: the IDE is served by the gateway', () => {
    expect(README).not.toMatch(/Apollo Sandbox/);
  });
});
