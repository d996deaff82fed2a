/**
 * The README is true: its shell examples run as written against a gateway with the demo's keys
 * and webhook secrets (only the address is the test's own, instead of 127.0.0.1:4000), and its
 * claims about who may read what match the access policy. Every demo world's first person has
 * the mobile 138 0013 8000, so the examples find a customer here too. So are docs/bi.md's: its
 * list query, segment operations and export commands run as the role its text names
 * (test/unit/docs-graphql.test.ts validates every doc's GraphQL; these run it).
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

const BI = fs.readFileSync(path.join(ROOT, 'docs/bi.md'), 'utf8');

/** A docs/bi.md block of the given language holding `text`, exactly one. */
function biBlock(lang: string, text: string): string {
  const found = [...BI.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]).filter((b) => b.includes(text));
  expect(found).toHaveLength(1);
  return found[0];
}

/** One GraphQL operation as `role` with its demo key, over HTTP like the IDE or curl. */
async function graphql(role: string, query: string, variables?: unknown): Promise<{ data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> }> {
  const res = await fetch(`${world.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': `demo-${role}-key` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as never;
}

describe('docs/bi.md: the examples work as written, as the role the text names', () => {
  it('the customersConnection query pages as analyst, and runs the grammar example as its filter as admin, with its conditions as steps of its plan', async () => {
    const query = biBlock('graphql', 'customersConnection(first: 500');
    expect(BI.slice(0, BI.indexOf(query))).toMatch(/As `analyst`:\s*```graphql\n$/);
    const filter = JSON.parse(biBlock('json', '"memberTier": ["gold", "platinum"]'));
    const unfiltered = await graphql('analyst', query, {});
    expect(unfiltered.errors ?? []).toEqual([]);
    expect(unfiltered.data.customersConnection.edges.length).toBe(Math.min(500, unfiltered.data.customersConnection.totalCount));
    // The grammar's example reads `city`, which the analyst does not see: the text asks it as admin.
    expect(BI).toMatch(/asked as admin the day the world was generated\) it\s+matches/);
    const filtered = await graphql('admin', query, { filter });
    expect(filtered.errors ?? []).toEqual([]);
    // Its conditions are steps of the plan it shows (the `or` runs only on the candidates the others leave).
    expect(filtered.data.customersConnection.plan.steps.map((s: { filter: string }) => s.filter)).toEqual(expect.arrayContaining(['memberTier', 'city']));
  });

  it('the segment operations run as marketing, in the order a reader runs them, and the export commands stream that segment and that filter', async () => {
    const block = biBlock('graphql', 'createSegment(input: { name: "vip_shanghai"');
    expect(BI.slice(0, BI.indexOf(block))).toMatch(/As `marketing` \(/);
    const ops = block.split('\n').filter((l) => l.trim());
    const [create, update, remove, list, read] = ops;
    expect([create, update, remove, list, read].map((op) => /^(mutation \{ )?\{? ?(\w+)/.exec(op)?.[2])).toEqual([
      'createSegment',
      'updateSegment',
      'deleteSegment',
      'segments',
      'segment',
    ]);
    for (const op of [create, update, list, read]) {
      const out = await graphql('marketing', op);
      expect({ op, errors: out.errors ?? [] }).toEqual({ op, errors: [] });
    }
    // The exports, as written (only the address is the test's): one reads the segment just saved, the other a filter.
    const [bySegment, byFilter] = biBlock('sh', '/export/customers.ndjson').split(/\n\s*\n/);
    const ndjson = (await run(bySegment))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(ndjson.at(-1)).toMatchObject({ _end: { code: 'EXPORT_COMPLETE', parameters: { segment: 'vip_shanghai' } } });
    expect(ndjson.slice(0, -1).every((row) => typeof row._cursor === 'string' && 'orderSummary.orderCount' in row)).toBe(true);
    const csv = (await run(byFilter)).trim().split('\r\n'); // RFC 4180 lines
    expect(csv[0]).toBe('_cursor,id,name,phone,province');
    expect(csv.at(-1)).toMatch(/^# export complete: \d+ rows for filter=/);
    const removed = await graphql('marketing', remove);
    expect(removed).toEqual({ data: { deleteSegment: true } });
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
