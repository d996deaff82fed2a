/**
 * The GraphQL the docs show is GraphQL the gateway serves: every example in README.md and docs/*.md
 * (```graphql blocks and the queries of the curl commands), checked against the schema of the role
 * the text runs it as, so a renamed field or argument, or a role's schema losing what an example
 * reads, fails here instead of in a reader's terminal. A ```graphql block says its role in the
 * prose before it ("As `analyst`:"); a curl command by its demo key. Filters (in a segment, an
 * export's `filter=`) are checked as the gateway checks them, and an export's `fields=` as the
 * selection they stand for. Nothing is started: the schemas are `c360 check-config`'s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, validate, valueFromASTUntyped, visit, type GraphQLSchema } from 'graphql';
import { loadConfig } from '../../src/config';
import { inspectConfig } from '../../src/inspect';
import { federateRoleSchemas } from '../../src/federation';
import { checkedFilter } from '../../src/bi/list';

const ROOT = path.resolve(__dirname, '../..');
const FILES = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) => f.endsWith('.md'));

interface Example {
  /** file:line of the block. */
  where: string;
  /** The role the text runs it as, or null when the text names none. */
  role: string | null;
  query: string;
  /** The file's text before the block. */
  before: string;
}

/** One ```graphql block may hold several operations, each starting at the beginning of a line. */
const operationsOf = (block: string) => block.split(/\n(?=\{|query\b|mutation\b|subscription\b)/).filter((op) => op.trim());

function examples(): { graphql: Example[]; curl: Example[]; exports: { where: string; role: string | null; url: URL }[] } {
  const graphql: Example[] = [];
  const curl: Example[] = [];
  const exports: { where: string; role: string | null; url: URL }[] = [];
  for (const file of FILES) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const lineOf = (i: number) => `${file}:${text.slice(0, i).split('\n').length}`;
    for (const m of text.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
      const [, lang, body] = m;
      if (lang === 'graphql') {
        const prose = text.slice(text.lastIndexOf('```', m.index - 1) + 3, m.index);
        const role = [...prose.matchAll(/\bAs `(\w+)`/g)].pop()?.[1] ?? null;
        for (const op of operationsOf(body)) graphql.push({ where: lineOf(m.index), role, query: op, before: text.slice(0, m.index) });
      }
      if (lang === 'sh') {
        const role = /x-api-key: demo-(\w+)-key/i.exec(body)?.[1] ?? null;
        for (const d of body.matchAll(/-d '(\{"query":.*?\})'/g)) curl.push({ where: lineOf(m.index), role, query: JSON.parse(d[1]).query, before: text.slice(0, m.index) });
        for (const command of body.split(/\n\s*\n/)) {
          const key = /x-api-key: demo-(\w+)-key/i.exec(command)?.[1] ?? null;
          const u = /'(http:\/\/127\.0\.0\.1:4000\/export\/[^']+)'/.exec(command);
          if (!u) continue;
          const url = new URL(u[1]);
          for (const p of command.matchAll(/--data-urlencode '([^=]+)=([^']*)'/g)) url.searchParams.set(p[1], p[2]);
          exports.push({ where: lineOf(m.index), role: key, url });
        }
      }
    }
  }
  return { graphql, curl, exports };
}

const found = examples();
let roles: ReadonlyMap<string, GraphQLSchema>;
let federated: ReadonlyMap<string, GraphQLSchema>;

beforeAll(async () => {
  const inspection = await inspectConfig(loadConfig(path.join(ROOT, 'config/demo.json')));
  roles = inspection.roleSchemas;
  federated = federateRoleSchemas(roles, () => 1000);
});

/** Validation messages of one example against its role's schema (the subgraph's when it asks for federation's fields), then its filters as the BI planner checks them. */
function problems(ex: Example): string[] {
  const doc = parse(ex.query);
  const wantsFederation = /\b_(service|entities)\b/.test(ex.query);
  const schema = (wantsFederation ? federated : roles).get(ex.role!);
  if (!schema) return [`no role "${ex.role}"`];
  const out = validate(schema, doc).map((e) => e.message);
  visit(doc, {
    ObjectField(node) {
      if (node.name.value !== 'filter' || node.value.kind !== Kind.OBJECT) return;
      try {
        checkedFilter(valueFromASTUntyped(node.value), schema);
      } catch (e) {
        out.push((e as Error).message);
      }
    },
  });
  return out;
}

/** The filter a documented `createSegment` saves under that name. */
function segmentFilter(name: string): unknown {
  for (const ex of found.graphql) {
    const doc = parse(ex.query);
    let filter: unknown;
    visit(doc, {
      Field(node) {
        if (node.name.value !== 'createSegment') return;
        const input = node.arguments?.find((a) => a.name.value === 'input');
        const value = input && (valueFromASTUntyped(input.value) as { name?: string; filter?: unknown });
        if (value?.name === name) filter = value.filter;
      },
    });
    if (filter !== undefined) return filter;
  }
  return undefined;
}

describe('the docs: every GraphQL example runs for the role the text says', () => {
  it('finds the examples (the extraction itself is not silently empty)', () => {
    expect(found.graphql.length).toBeGreaterThanOrEqual(7);
    expect(found.curl.length).toBeGreaterThanOrEqual(5);
    expect(found.exports.length).toBeGreaterThanOrEqual(2);
  });

  it('each ```graphql block names the role it runs as', () => {
    expect(found.graphql.filter((ex) => ex.role === null).map((ex) => ex.where)).toEqual([]);
  });

  it('each curl query carries a demo key', () => {
    expect(found.curl.filter((ex) => ex.role === null).map((ex) => ex.where)).toEqual([]);
  });

  it.each(found.graphql.map((ex) => [ex.where, ex.role, ex.query.slice(0, 40).replace(/\s+/g, ' '), ex] as const))('%s (as %s) %s… validates', (_w, _r, _q, ex) => {
    expect(problems(ex)).toEqual([]);
  });

  it.each(found.curl.map((ex) => [ex.where, ex.role, ex] as const))('curl at %s (as %s) validates', (_w, _r, ex) => {
    expect(problems(ex)).toEqual([]);
  });

  it('a query of the federation fields comes after the commands serving the demo with federation on (the demo config has it off)', () => {
    const needing = found.curl.filter((ex) => /\b_(service|entities)\b/.test(ex.query));
    expect(needing.length).toBeGreaterThan(0);
    const demo = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    expect(demo.server.federation ?? false).toBe(false);
    for (const ex of needing) {
      const blocks = [...ex.before.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
      const on = blocks.find((b) => b.includes('c.server.federation = true'));
      expect(on).toBeDefined();
      const file = /writeFileSync\("([^"]+)"/.exec(on!)?.[1];
      expect(on).toContain(`C360_CONFIG=${file} npm start`);
    }
  });

  it.each(found.exports.map((ex) => [ex.where, ex.role, ex] as const))('export at %s (as %s): its filter or segment and its fields are that role’s', (_w, role, ex) => {
    const schema = roles.get(role!)!;
    expect(schema).toBeDefined();
    const segment = ex.url.searchParams.get('segment');
    const raw = segment ? segmentFilter(segment) : JSON.parse(ex.url.searchParams.get('filter') ?? '{}');
    expect(raw).toBeDefined(); // a segment the docs create
    expect(() => checkedFilter(raw, schema)).not.toThrow();
    // fields=a,b.c is the selection { a b { c } } of each Customer
    const tree: Record<string, unknown> = {};
    for (const f of (ex.url.searchParams.get('fields') ?? 'id').split(',')) {
      let at = tree;
      for (const part of f.split('.')) at = (at[part] ??= {}) as Record<string, unknown>;
    }
    const selection = (t: Record<string, unknown>): string =>
      Object.entries(t)
        .map(([k, v]) => (Object.keys(v as object).length ? `${k} { ${selection(v as Record<string, unknown>)} }` : k))
        .join(' ');
    const query = `{ customersConnection(first: 1) { edges { node { ${selection(tree)} } } } }`;
    expect(validate(schema, parse(query)).map((e) => e.message)).toEqual([]);
  });
});
