/**
 * Personal data outside the API's answer: one real run of the test world (logging at debug,
 * spans recorded in memory, every demo system served) goes through what operators and attackers
 * see of a gateway — ordinary reads by each role, refusals, bad input, a failing source, webhooks
 * refused and applied, an export, the change of a OneID statement that fails — and then every
 * channel other than the answer's `data` is searched for every name, phone, email and platform id
 * the world's systems hold: log lines, span names, attributes, events and statuses, /metrics,
 * the audit table's rows, the IDE's files, the console and process warnings (where drivers write past
 * our logger), and the `errors` of every answer.
 *
 * A value the client itself sent in the request may come back in that request's own error (the
 * client's own data, told to the client); it must not reach any other channel.
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import knex from 'knex';
import { T } from '../../src/idmap/tables';
import { signWebhook } from '../../src/webhooks';
import { captureLog } from '../helpers/log-capture';
import { apiKeyFor, startTestWorld, WEBHOOK_SECRET, type TestRole, type TestWorld } from '../helpers/world';

const { log, lines } = captureLog('debug');
const exporter = new InMemorySpanExporter();

/** What reached the console or became a process warning (drivers and libraries write there, past our logger), kept and passed on. */
const consoled: string[] = [];
const onWarning = (w: Error) => consoled.push(`${w.name}: ${w.message}`);

let world: TestWorld;

beforeAll(async () => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      consoled.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      original(...args);
    });
  }
  process.on('warning', onWarning);
  world = await startTestWorld({ people: 150, seed: 11, log, spanExporter: exporter });
});

afterAll(async () => {
  process.off('warning', onWarning);
  jest.restoreAllMocks();
  await world?.close();
});

/** Every personal value the world's systems hold: as stored, and the last 11 digits of each phone (as the gateway normalizes them). */
async function personalValues(): Promise<Set<string>> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v !== 'string') return;
    // JSON lists of mobiles (WeCom's remark_mobiles) hold one value each.
    if (v.startsWith('[')) return (JSON.parse(v) as unknown[]).forEach(add);
    const s = v.trim();
    if (s.length < 2) return;
    out.add(s);
    const digits = s.replace(/\D/g, '');
    if (digits.length >= 11) out.add(digits.slice(-11));
  };
  const rows = async (db: knex.Knex, table: string, columns: string[]) =>
    (await db(table).select(columns)).forEach((r: Record<string, unknown>) => Object.values(r).forEach(add));
  await rows(world.dbs.crm.db, 'crm_contacts', ['name', 'mobile', 'email']);
  await rows(world.dbs.orders.db, 'shop_accounts', ['mobile', 'email']);
  await rows(world.dbs.support.db, 'support_users', ['name', 'phone', 'email']);
  await rows(world.dbs.scrm.db, 'scrm_followers', ['openid', 'unionid', 'bound_phone', 'nickname']);
  const wecom = knex({ client: 'better-sqlite3', connection: { filename: world.systemStores.wecom }, useNullAsDefault: true });
  const marketplace = knex({ client: 'better-sqlite3', connection: { filename: world.systemStores.marketplace }, useNullAsDefault: true });
  try {
    await rows(wecom, 'wecom_contacts', ['external_userid', 'name', 'unionid']);
    await rows(wecom, 'wecom_follows', ['remark', 'remark_mobiles']);
    await rows(marketplace, 'tb_buyers', ['buyer_open_uid', 'buyer_nick', 'mobile']);
  } finally {
    await wecom.destroy();
    await marketplace.destroy();
  }
  // Placeholders staff typed are nobody's data, and appear in rules and messages legitimately;
  // so do one-character-and-mask nicks the platform already masked (`张**`), which are not a person's value.
  for (const p of ['N/A', 'null', 'test@test.com', '00000000000']) out.delete(p);
  for (const v of [...out]) if (/^.\*+.?$/u.test(v)) out.delete(v);
  return out;
}

/** Each answer's errors, with the values its request sent (which the client may be told back). */
const answers: Array<{ what: string; errors: string; sent: string }> = [];

async function ask(what: string, role: TestRole, query: string, variables?: Record<string, unknown>) {
  const { status, body } = await world.query(query, variables, { 'x-api-key': apiKeyFor(role) });
  answers.push({ what, errors: JSON.stringify(body?.errors ?? []), sent: query + JSON.stringify(variables ?? {}) });
  return { status, body };
}

async function webhook(source: string, recordId: string, signed: boolean) {
  const raw = JSON.stringify({ events: [{ id: `evt-pii-${Math.random().toString(36).slice(2)}`, type: 'updated', recordId }] });
  const res = await fetch(`${world.url}/webhooks/${source}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signed ? { 'x-c360-signature': signWebhook(WEBHOOK_SECRET, raw) } : {}) },
    body: raw,
  });
  answers.push({ what: `webhook ${source} ${signed ? 'signed' : 'unsigned'}`, errors: await res.text(), sent: raw });
  return res.status;
}

describe('Personal data in every channel but the answer', () => {
  let values: Set<string>;

  beforeAll(async () => {
    const crm = await world.dbs.crm.db('crm_contacts').whereNotNull('mobile').whereNotNull('email').first('contact_id', 'name', 'mobile', 'email');
    const follower = await world.dbs.scrm.db('scrm_followers').first('openid');
    const fields = 'id name phone email birthday city crmContacts { name phone email } identifiers { kind value } sourceRecords { source recordId }';

    // Ordinary reads: unmasked (audited) and masked.
    await ask('admin by phone', 'admin', `query ByPhone($v: String!) { customerByIdentifier(kind: PHONE, value: $v) { ${fields} } }`, { v: crm.mobile });
    await ask('support by email', 'support', `{ customerByIdentifier(kind: EMAIL, value: "${crm.email}") { id name phone email } }`);
    await ask('marketing masked', 'marketing', `query M($r: String!) { customerBySourceRecord(source: CRM, recordId: $r) { id name phone email } }`, { r: crm.contact_id });
    await ask('marketing by openid', 'marketing', `query O($r: String!) { customerBySourceRecord(source: SCRM, recordId: $r) { id sourceRecords { source recordId } } }`, {
      r: follower.openid,
    });
    // Refusals and bad input, with personal values in the document and in variables.
    await ask('marketing forbidden field', 'marketing', `{ customerBySourceRecord(source: CRM, recordId: "${crm.contact_id}") { id city crmContacts { phone city } } }`);
    await ask('email that is not one', 'admin', `query E($v: String!) { customerByIdentifier(kind: EMAIL, value: $v) { id } }`, { v: `not an email ${crm.name}` });
    await ask('phone where an Int goes', 'admin', `query I($n: Int) { customersConnection(first: $n) { totalCount } }`, { n: crm.mobile });
    await ask('unknown enum', 'admin', `{ customerByIdentifier(kind: ${crm.email.replace(/\W/g, '_')}, value: "x") { id } }`);
    await ask('record of an unknown source', 'admin', `{ customerBySourceRecord(source: NOPE, recordId: "${crm.mobile}") { id } }`);
    await ask('filter with a name', 'marketing', `query F($f: CustomerFilter) { customersConnection(first: 5, filter: $f) { totalCount } }`, { f: { memberTier: crm.name } });
    // A source fails mid-request.
    const requester = await world.dbs.support.db('support_users').whereNotNull('phone').first('phone');
    world.support.setFaults({ status: 503 });
    try {
      const { body } = await ask(
        'support down',
        'support',
        `{ customerByIdentifier(kind: PHONE, value: "${requester.phone}") { supportRequesters { name phone } tickets { subject } } }`,
      );
      expect(body.errors?.[0]?.extensions?.code).toBe('SOURCE_UNAVAILABLE');
    } finally {
      world.support.setFaults({});
    }
    // GraphQL over GET: the variables travel in the request target.
    const get = await fetch(
      `${world.url}/graphql?${new URLSearchParams({ query: 'query G($v: String!) { customerByIdentifier(kind: PHONE, value: $v) { id name } }', variables: JSON.stringify({ v: crm.mobile }) })}`,
      { headers: { 'x-api-key': apiKeyFor('admin'), 'apollo-require-preflight': 'true' } },
    );
    expect(get.status).toBe(200);
    answers.push({ what: 'GET', errors: JSON.stringify(((await get.json()) as { errors?: unknown }).errors ?? []), sent: crm.mobile });
    // Credentials refused (logged at debug, with the reason).
    const refused = await fetch(`${world.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': `${crm.mobile}-${crm.email}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    answers.push({ what: 'unknown key', errors: await refused.text(), sent: `${crm.mobile}-${crm.email}` });
    // Webhooks: refused, malformed and applied, naming personal record ids.
    await webhook('crm', crm.mobile, false);
    await webhook('scrm', follower.openid, true);
    await webhook('crm', String(crm.contact_id), true);
    // An export of personal columns.
    const res = await fetch(`${world.url}/export/customers.csv?fields=id,name,phone,email&filter=${encodeURIComponent(JSON.stringify({ hasPhone: true }))}`, {
      headers: { 'x-api-key': apiKeyFor('admin') },
    });
    expect(res.status).toBe(200);
    await res.text();
    // OneID fails mid-request: knex's message for it carries the statement with the phone bound into it.
    const db = world.gw.oneidDb;
    await db.schema.renameTable(T.identifiers, `${T.identifiers}_away`);
    try {
      await ask('oneid down', 'admin', `query Down($v: String!) { customerByIdentifier(kind: PHONE, value: $v) { id } }`, { v: crm.mobile });
    } finally {
      await db.schema.renameTable(`${T.identifiers}_away`, T.identifiers);
    }
    // Spans end as their responses close; the last one may still be in flight.
    for (let i = 0; i < 250 && exporter.getFinishedSpans().filter((s) => s.name.startsWith('POST /graphql')).length < answers.length - 3; i++)
      await new Promise((r) => setTimeout(r, 20));
    values = await personalValues();
  });

  // A value's digits inside a number's decimal fraction (a latency sum, 0.0020691380000000003, holds
  // 13800000000) are not that value; anywhere else, a digit run around it included (8613800000000), they are.
  const inFraction = (t: string, at: number) => {
    let start = at;
    while (start > 0 && /\d/.test(t[start - 1])) start--;
    return start >= 2 && t[start - 1] === '.' && /\d/.test(t[start - 2]);
  };
  const leaksIn = (texts: Iterable<string>) => {
    const found: string[] = [];
    for (const t of texts)
      for (const v of values)
        for (let at = t.indexOf(v); at !== -1; at = t.indexOf(v, at + 1))
          if (!inFraction(t, at)) {
            found.push(`${v} in ${t.slice(0, 200)}`);
            break;
          }
    return found;
  };

  it('knows enough of the world to mean something', () => {
    expect(values.size).toBeGreaterThan(300);
    expect(answers.length).toBeGreaterThan(10);
  });

  it('no log line, at any level, holds one', () => {
    expect(lines.some((l) => l.includes('"level":20'))).toBe(true);
    expect(leaksIn(lines)).toEqual([]);
  });

  it('nothing written to the console or raised as a process warning holds one', () => {
    expect(leaksIn(consoled)).toEqual([]);
  });

  it('no span holds one: names, attributes, events, status', () => {
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(20);
    expect(leaksIn(spans.map((s) => JSON.stringify({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links })))).toEqual([]);
  });

  it('no metric series holds one', async () => {
    const text = await (await fetch(`${world.url}/metrics`)).text();
    expect(text).toContain('c360_graphql_requests_total');
    expect(leaksIn(text.split('\n'))).toEqual([]);
  });

  it('the audit records who read which fields of which customer, never a value', async () => {
    const rows = await world.gw.oneidDb('c360_access_audit').select();
    expect(rows.length).toBeGreaterThan(0);
    expect(leaksIn(rows.map((r) => JSON.stringify(r)))).toEqual([]);
  });

  it('the IDE’s files hold none', async () => {
    const page = await (await fetch(`${world.url}/ide/`)).text();
    const scripts = [...page.matchAll(/src="([^"]+)"/g)].map((m) => m[1]);
    const files = [page, ...(await Promise.all(scripts.map(async (s) => (await fetch(new URL(s, `${world.url}/ide/`))).text())))];
    expect(leaksIn(files)).toEqual([]);
  });

  it('an error tells a client no personal value but those it sent itself', () => {
    const found: string[] = [];
    for (const a of answers) for (const v of values) if (a.errors.includes(v) && !a.sent.includes(v)) found.push(`${a.what}: ${v} in ${a.errors.slice(0, 200)}`);
    expect(found).toEqual([]);
  });
});

describe('Audit: whose data the identity tools showed', () => {
  const auditOf = async (requestId: string) =>
    (await world.gw.oneidDb('c360_access_audit').where({ request_id: requestId }).select('customer_id', 'fields'))
      .map((r: { customer_id: string | null; fields: string }) => ({ customerId: r.customer_id, fields: JSON.parse(r.fields) as string[] }))
      .sort((a, b) => String(a.customerId).localeCompare(String(b.customerId)));

  it('names the customers of each review candidate whose value an admin read, one row each', async () => {
    const requestId = `audit-queue-${Date.now()}`;
    const { body } = await world.query(`query Queue { mergeCandidates(status: null, first: 20) { edges { node { customerIds value } } } }`, undefined, {
      'x-request-id': requestId,
    });
    const nodes: Array<{ customerIds: string[]; value: string | null }> = body.data.mergeCandidates.edges.map((e: { node: unknown }) => e.node);
    const read = nodes.filter((n) => n.value !== null);
    // The queue holds both kinds: pairs of customers, and placeholder values no customer holds.
    expect(read.some((n) => n.customerIds.length > 0)).toBe(true);
    const customers = [...new Set(read.flatMap((n) => n.customerIds))].sort();
    const expected = customers.map((customerId) => ({ customerId, fields: ['MergeCandidate.value'] }));
    if (read.some((n) => n.customerIds.length === 0)) expected.push({ customerId: null as unknown as string, fields: ['MergeCandidate.value'] });
    expect(await auditOf(requestId)).toEqual(expected.sort((a, b) => String(a.customerId).localeCompare(String(b.customerId))));
  });

  it('names the customer whose records an explanation walked, for the identifier values of its steps', async () => {
    const { body } = await world.query(`{ customersConnection(first: 100) { edges { node { id sourceRecords { source recordId } } } } }`);
    const customer = body.data.customersConnection.edges
      .map((e: { node: { id: string; sourceRecords: Array<{ source: string; recordId: string }> } }) => e.node)
      .find((c: { sourceRecords: unknown[] }) => c.sourceRecords.length >= 2);
    const [a, b] = customer.sourceRecords;
    const requestId = `audit-why-${Date.now()}`;
    const why = await world.query(
      `query Why($a: SourceRecordInput!, $b: SourceRecordInput!) { whyRecordsLinked(a: $a, b: $b) { customerId path { value } } }`,
      { a, b },
      { 'x-request-id': requestId },
    );
    expect(why.body.data.whyRecordsLinked.customerId).toBe(customer.id);
    expect(why.body.data.whyRecordsLinked.path.some((s: { value: string | null }) => s.value !== null)).toBe(true);
    expect(await auditOf(requestId)).toEqual([{ customerId: customer.id, fields: ['LinkStep.value'] }]);
  });
});
