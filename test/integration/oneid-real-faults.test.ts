/**
 * OneID failing for real, for every path that touches it on request: reads, stewardship changes
 * and webhook notifications answer ONEID_UNAVAILABLE (HTTP 503, Retry-After) within their
 * deadlines, never INTERNAL_SERVER_ERROR and never a hang, log no customer data, lose nothing,
 * and answer again once the store is back.
 *
 * On both engines a statement fails (a table gone). On MariaDB the gateway's OneID lives on a
 * server of this test's own (test/helpers/private-mariadb.ts), so the test can do to it what an
 * operator's bad day does: freeze the process with SIGSTOP, kill a running statement with KILL
 * QUERY, stop the server and start it again.
 */
import mysql from 'mysql2/promise';
import { T } from '../../src/idmap/tables';
import { WEBHOOK_EVENTS_TABLE } from '../../src/idmap/webhook-events';
import { signWebhook } from '../../src/webhooks';
import { captureLog } from '../helpers/log-capture';
import { itOn, testEngine } from '../helpers/db';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb';
import { startTestWorld, WEBHOOK_SECRET, type TestWorld } from '../helpers/world';

const { log, lines } = captureLog('info');

/** Deadlines of this world: long enough for a loaded machine, short enough to keep the file quick. */
const READ_DEADLINE_MS = 4000;
const WRITE_DEADLINE_MS = 4000;
const ONEID_DB = 'c360_private_oneid';

let world: TestWorld;
let maria: PrivateMariadb | undefined;
let customerId: string;
/** Two records of two different customers, for a stewardship change. */
let pair: [{ source: string; recordId: string }, { source: string; recordId: string }];
let crmRecordId: string;
let phone: string;
let eventSeq = 0;

beforeAll(async () => {
  if (testEngine === 'mariadb') {
    maria = await startPrivateMariadb();
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: Number(new URL(maria.url).port), user: 'root' });
    await admin.query(`CREATE DATABASE ${ONEID_DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await admin.end();
  }
  world = await startTestWorld({
    people: 60,
    seed: 13,
    demoSystems: false,
    log,
    configPatch: (raw) => {
      raw.oneid.timeoutMs = READ_DEADLINE_MS;
      raw.oneid.writeTimeoutMs = WRITE_DEADLINE_MS;
      raw.server.readinessTimeoutMs = READ_DEADLINE_MS; // /readyz must name the frozen store within it
      if (maria) raw.oneid.connection = { client: 'mysql', url: `${maria.url}${ONEID_DB}` };
    },
  });
  const db = world.gw.oneidDb;
  customerId = (await db(T.customers).where('status', 'active').orderBy('id').first('id')).id;
  const records = await db(T.sourceRecords).whereNotNull('customer_id').where('source', 'crm').orderBy('record_id').select('source', 'record_id', 'customer_id');
  const first = records[0];
  const other = records.find((r) => r.customer_id !== first.customer_id)!;
  pair = [
    { source: 'CRM', recordId: first.record_id },
    { source: 'CRM', recordId: other.record_id },
  ];
  crmRecordId = records[records.length - 1].record_id;
  phone = (await db(T.identifiers).where('kind', 'PHONE').whereNull('valid_to').orderBy('value').first('value')).value;
});

afterAll(async () => {
  maria?.thaw();
  await world?.close();
  await maria?.close();
});

const post = async (path: string, body: string, headers: Record<string, string>) => {
  const res = await fetch(`${world.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
};
const graphql = (query: string, variables: Record<string, unknown>) => post('/graphql', JSON.stringify({ query, variables }), { 'x-api-key': 'test-admin-key' });

const readCustomer = () =>
  graphql(
    `
      query ($id: ID!) {
        customer(id: $id) {
          id
        }
      }
    `,
    { id: customerId },
  );
const LINK = `mutation($a: SourceRecordInput!, $b: SourceRecordInput!) { linkRecords(a: $a, b: $b, reason: "same person, checked by phone") { customerId } }`;
const link = () => graphql(LINK, { a: pair[0], b: pair[1] });
/** A signed notification that the CRM record changed, with the given event id. */
const notify = (eventId: string) => {
  const raw = JSON.stringify({ events: [{ id: eventId, type: 'updated', recordId: crmRecordId }] });
  return post('/webhooks/crm', raw, { 'x-c360-signature': signWebhook(WEBHOOK_SECRET, raw) });
};
const readyz = async () => {
  const res = await fetch(`${world.url}/readyz`);
  return { status: res.status, body: (await res.json()) as any };
};

function expectGraphqlUnavailable(a: { status: number; retryAfter: string | null; body: any }) {
  // Status and body together, so a failure shows what was answered instead.
  expect({ status: a.status, body: a.body }).toMatchObject({ status: 503, body: { errors: [{ extensions: { code: 'ONEID_UNAVAILABLE' } }] } });
  expect(a.body.errors).toHaveLength(1);
  expect(Number(a.retryAfter)).toBeGreaterThan(0);
  expect(a.body.errors[0].message).not.toMatch(/select|insert|idmap_|\?/i);
}
function expectWebhookUnavailable(a: { status: number; retryAfter: string | null; body: any }) {
  expect(a.status).toBe(503);
  expect(Number(a.retryAfter)).toBeGreaterThan(0);
  expect(a.body.error.code).toBe('ONEID_UNAVAILABLE');
}

/** How long a wait for the gateway or MariaDB to get somewhere may take on a loaded machine (a wait, never the behaviour under test). */
const WAIT_MS = 60_000;

/** Until the gateway reads OneID again (a connection the outage broke may fail one read on its way out of the pool). */
async function expectAnswering() {
  let last: Awaited<ReturnType<typeof readCustomer>> | undefined;
  // Deadlines, not counts of tries: under load a try itself can take seconds.
  const deadline = Date.now() + WAIT_MS;
  for (let i = 0; !(last?.status === 200 && !last.body.errors) && (i === 0 || Date.now() < deadline); i++) {
    if (i) await new Promise((r) => setTimeout(r, 200));
    last = await readCustomer();
  }
  expect(last!.body).toEqual({ data: { customer: { id: customerId } } });
  // Readiness probes each dependency within its own short deadline, which a busy machine may miss once: ask until it answers.
  let ready = await readyz();
  while (ready.status !== 200 && Date.now() < deadline + WAIT_MS) {
    await new Promise((r) => setTimeout(r, 200));
    ready = await readyz();
  }
  expect(ready.status).toBe(200);
}

/** Which customer holds a record now. */
async function holder(r: { recordId: string }): Promise<string | null> {
  const row = await world.gw.oneidDb(T.sourceRecords).where({ source: 'crm', record_id: r.recordId }).first('customer_id');
  return row?.customer_id ?? null;
}

async function withTableAway<T>(table: string, run: () => Promise<T>): Promise<T> {
  await world.gw.oneidDb.schema.renameTable(table, `${table}_away`);
  try {
    return await run();
  } finally {
    await world.gw.oneidDb.schema.renameTable(`${table}_away`, table);
  }
}

/** No log line names the customer data the failing statements carried. */
function expectNoCustomerDataLogged() {
  const digits = phone.replace(/^\+86/, '');
  for (const l of lines) {
    expect(l).not.toContain(digits);
    expect(l).not.toContain(pair[0].recordId);
    expect(l).not.toContain(crmRecordId);
  }
}

describe('a failing statement (both engines)', () => {
  it('a stewardship change answers ONEID_UNAVAILABLE, changes nothing, and applies in full once the store is back', async () => {
    const before = [await holder(pair[0]), await holder(pair[1])];
    expect(before[0]).not.toBe(before[1]);
    await withTableAway(T.linkEvents, async () => expectGraphqlUnavailable(await link()));
    expect([await holder(pair[0]), await holder(pair[1])]).toEqual(before);
    const again = await link();
    expect(again.body.errors).toBeUndefined();
    expect(await holder(pair[0])).toBe(await holder(pair[1]));
    expectNoCustomerDataLogged();
  });

  it('a webhook answers 503 ONEID_UNAVAILABLE with Retry-After, and the same delivery retried is applied, not taken for a duplicate', async () => {
    const id = `evt-real-${++eventSeq}`;
    await withTableAway(WEBHOOK_EVENTS_TABLE, async () => expectWebhookUnavailable(await notify(id)));
    const retried = await notify(id);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ applied: 1, duplicates: 0 });
    expect((await notify(id)).body).toMatchObject({ applied: 0, duplicates: 1 });
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('webhook not applied: OneID store unavailable');
    expectNoCustomerDataLogged();
  });
});

describe('a failing statement under a BI list (both engines)', () => {
  it('a list and a segment mutation answer ONEID_UNAVAILABLE, naming no table, and answer again once the store is back', async () => {
    const list = () => graphql('{ customersConnection(first: 5, filter: { hasWechat: true }) { totalCount edges { node { id } } } }', {});
    const exported = async (query: string) => {
      const res = await fetch(`${world.url}/export/customers.ndjson?${query}`, { headers: { 'x-api-key': 'test-admin-key' } });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
    };
    await withTableAway(T.customers, async () => {
      expectGraphqlUnavailable(await list());
      // An export answers the outage as /graphql does: 503 with Retry-After, not 400.
      expectGraphqlUnavailable(await exported('fields=id&filter=%7B%22hasWechat%22%3Atrue%7D'));
    });
    await withTableAway('c360_segments', async () => {
      expectGraphqlUnavailable(await graphql('mutation { createSegment(input: { name: "away", filter: { hasWechat: true } }) { name } }', {}));
      expectGraphqlUnavailable(await exported('fields=id&segment=away'));
    });
    const back = await list();
    expect(back.body.errors).toBeUndefined();
    expect(back.body.data.customersConnection.totalCount).toBeGreaterThan(0);
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('OneID store unavailable for a BI list or segment');
    expectNoCustomerDataLogged();
  });
});

describe('a MariaDB server of its own', () => {
  itOn('mariadb')('frozen with SIGSTOP: reads, stewardship changes, webhooks and /readyz each answer within their deadline; all answer again after SIGCONT', async () => {
    await expectAnswering();
    // Undo the link the previous test made, so there is a change to make.
    const split = await graphql(
      `
        mutation ($r: SourceRecordInput!) {
          unlinkRecord(record: $r, reason: "test: separate again") {
            customerId
          }
        }
      `,
      { r: pair[1] },
    );
    expect(split.body.errors).toBeUndefined();
    expect(await holder(pair[0])).not.toBe(await holder(pair[1]));

    maria!.freeze();
    try {
      const [read, change, webhook, ready] = await Promise.all([readCustomer(), link(), notify(`evt-real-${++eventSeq}`), readyz()]);
      expectGraphqlUnavailable(read);
      expectGraphqlUnavailable(change);
      expectWebhookUnavailable(webhook);
      expect(ready.status).toBe(503);
      expect(ready.body.checks.oneid).toBe('TIMEOUT');
    } finally {
      maria!.thaw();
    }
    await expectAnswering();
    // The change that missed its deadline was held by the frozen server and may land now; a retry
    // either applies it or answers CONFLICT naming what it found: it is never applied twice.
    let retry: Awaited<ReturnType<typeof link>> | undefined;
    for (let i = 0; i < 50; i++) {
      retry = await link();
      if (!retry.body.errors || retry.body.errors[0].extensions.code === 'CONFLICT') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(retry!.body.errors?.[0]?.extensions?.code ?? 'applied').toMatch(/^(applied|CONFLICT)$/);
    expect(await holder(pair[0])).toBe(await holder(pair[1]));
    expectNoCustomerDataLogged();
  });

  itOn('mariadb')('a statement killed with KILL QUERY answers ONEID_UNAVAILABLE and logs the cause without the value it looked up', async () => {
    await expectAnswering();
    lines.length = 0;
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: Number(new URL(maria!.url).port), user: 'root', database: ONEID_DB });
    const killer = await mysql.createConnection({ host: '127.0.0.1', port: Number(new URL(maria!.url).port), user: 'root' });
    try {
      // Hold the table so the lookup waits inside the server, where it can be killed.
      await admin.query(`LOCK TABLES ${T.identifiers} WRITE`);
      const answer = graphql(
        `
          query ($v: String!) {
            customersByIdentifier(kind: PHONE, value: $v) {
              id
            }
          }
        `,
        { v: phone },
      );
      let killed = 0;
      // Until the lookup shows in the process list, however long a loaded machine takes to send it.
      for (const deadline = Date.now() + WAIT_MS; !killed && Date.now() < deadline;) {
        const [rows] = (await killer.query(`SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Query' AND INFO LIKE ? AND ID <> CONNECTION_ID()`, [
          ONEID_DB,
          `%${T.identifiers}%`,
        ])) as [Array<{ ID: number }>, unknown];
        for (const r of rows) {
          await killer.query(`KILL QUERY ${Number(r.ID)}`);
          killed += 1;
        }
        if (!killed) await new Promise((r) => setTimeout(r, 10));
      }
      await admin.query('UNLOCK TABLES');
      expect(killed).toBeGreaterThan(0);
      expectGraphqlUnavailable(await answer);
    } finally {
      await admin.end();
      await killer.end();
    }
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 40);
    expect(logged.map((l) => l.msg)).toContain('OneID store unavailable');
    expect(JSON.stringify(logged)).toMatch(/interrupted|max_statement_time/i);
    expectNoCustomerDataLogged();
    await expectAnswering();
  });

  itOn('mariadb')('an audit table held by another session withholds the personal data a request read, answering ONEID_UNAVAILABLE within the deadline', async () => {
    await expectAnswering();
    const PII = `query($id: ID!) { customer(id: $id) { id crmContacts { phone email } } }`;
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: Number(new URL(maria!.url).port), user: 'root', database: ONEID_DB });
    try {
      await admin.query('LOCK TABLES c360_access_audit WRITE');
      const held = await graphql(PII, { id: customerId });
      expectGraphqlUnavailable(held);
      // Fail closed: an unrecorded read of personal data is never answered.
      expect(held.body.data ?? null).toBeNull();
    } finally {
      await admin.query('UNLOCK TABLES');
      await admin.end();
    }
    const answered = await graphql(PII, { id: customerId });
    expect(answered.status).toBe(200);
    expect(answered.body.data.customer.id).toBe(customerId);
  });

  itOn('mariadb')('stopped, every path answers ONEID_UNAVAILABLE at once with a handful of log lines; started again, the gateway answers without a restart', async () => {
    await expectAnswering();
    lines.length = 0;
    await maria!.stop();
    try {
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(Array.from({ length: 8 }, readCustomer));
        for (const a of answers) expectGraphqlUnavailable(a);
      }
      expectGraphqlUnavailable(await link());
      expectWebhookUnavailable(await notify(`evt-real-${++eventSeq}`));
      expect((await readyz()).status).toBe(503);
    } finally {
      await maria!.start();
    }
    const alarms = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 40);
    expect(alarms.length).toBeGreaterThan(0);
    expect(alarms.length).toBeLessThanOrEqual(8);
    expect(alarms.map((l) => l.msg)).not.toContain('unexpected error');
    expectNoCustomerDataLogged();
    await expectAnswering();
  });
});
