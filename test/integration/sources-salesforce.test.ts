/**
 * The salesforce kind against the Salesforce stand-in (demo/salesforce-server.ts), which speaks
 * Salesforce's REST API: OAuth token requests, SOQL over `query`/`queryAll` with `nextRecordsUrl`
 * pages, error bodies `[{ message, errorCode }]` and `Sforce-Limit-Info` on every answer.
 */
import crypto from 'node:crypto';
import { makeExecutableSchema } from '@graphql-tools/schema';
import DataLoader from 'dataloader';
import { graphql } from 'graphql';
import { startSalesforceServer, type SalesforceContactRow, type SalesforceServer, type SalesforceTaskRow } from '../../demo/salesforce-server';
import { isSourceError, SourceRefusal, type SourceError } from '../../src/errors';
import { CallRecorder, composeObservers, type SourceObserver } from '../../src/sources/observe';
import { createMetrics } from '../../src/observability/metrics';
import type { KindContext } from '../../src/sources/kind';
import { kind } from '../../src/sources/salesforce';
import { createSalesforceConnector, type SalesforceConnectorConfig } from '../../src/sources/salesforce/connector';
import { salesforceId, soqlString } from '../../src/sources/salesforce/soql';
import type { SalesforceConnector, SalesforceContact } from '../../src/sources/salesforce/types';
import type { EventQuery, ScannedRecord, SourceEvent } from '../../src/vocabulary';

const CLIENT_ID = '3MVG9standin.client';
const CLIENT_SECRET = 'stand-in-client-secret';

/** The 18-character id of the Contact (or other object's record, by `prefix`) numbered `n`. */
const sfid = (n: number, prefix = '003') => salesforceId(`${prefix}Hs00000${String(n).padStart(5, '0')}`)!;
const at = (day: number, second = 0) => `2024-03-${String(day).padStart(2, '0')}T08:00:${String(second).padStart(2, '0')}.000Z`;

function contact(n: number, over: Partial<SalesforceContactRow> = {}): SalesforceContactRow {
  return {
    Id: sfid(n),
    Name: `Contact ${n}`,
    Email: ` C${n}@Example.com `,
    Phone: '020 7946 0958',
    MobilePhone: n % 2 ? `+44 7911 1234${String(n % 100).padStart(2, '0')}` : null,
    Birthdate: '1990-05-17',
    CreatedDate: at(1),
    LastModifiedDate: at(2),
    SystemModstamp: at(2, n % 60),
    IsDeleted: false,
    ...over,
  };
}
const task = (n: number, who: number, created: string, over: Partial<SalesforceTaskRow> = {}): SalesforceTaskRow => ({
  Id: sfid(n, '00T'),
  WhoId: sfid(who),
  Subject: `Call ${n}`,
  Status: 'Completed',
  CreatedDate: created,
  ...over,
});

let contacts: SalesforceContactRow[];
let tasks: SalesforceTaskRow[];
let server: SalesforceServer;
const recorder = new CallRecorder();

function freshRows() {
  contacts = [
    ...Array.from({ length: 7 }, (_, i) => contact(i + 1)),
    contact(8, { IsDeleted: true }),
    contact(9, { CreatedDate: 'yesterday' }),
    contact(10, { Name: 'O\'Brien \\ "Bob"' }),
  ];
  tasks = [task(1, 1, at(3)), task(2, 1, at(5), { Status: 'Open' }), task(3, 1, at(4)), task(4, 2, at(6)), task(5, 3, at(7, 1))];
}

async function start(over: Partial<Parameters<typeof startSalesforceServer>[0]> = {}) {
  await server?.close();
  freshRows();
  server = await startSalesforceServer({ contacts, tasks, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...over });
}

function connect(over: Partial<SalesforceConnectorConfig> = {}, observer: SourceObserver = recorder): SalesforceConnector {
  return createSalesforceConnector(
    {
      name: 'salesforce',
      baseUrl: server.url,
      apiVersion: '62.0',
      auth: { flow: 'client_credentials', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      defaultRegion: 'GB',
      timeoutMs: 3000,
      ...over,
    },
    observer,
  );
}

beforeEach(async () => {
  recorder.calls.length = 0;
  await start();
});
afterAll(async () => {
  await server.close();
});

const failure = (slot: unknown) => (isSourceError(slot) ? { code: (slot as SourceError).code, errorCode: (slot as SourceError).detail?.errorCode } : slot);

describe('SOQL is built as SQL is', () => {
  it('quotes strings by Salesforce’s escapes and refuses control characters it has none for', () => {
    expect(soqlString("O'Brien")).toBe("'O\\'Brien'");
    expect(soqlString('a\\b"c\nd\te')).toBe("'a\\\\b\\\"c\\nd\\te'");
    expect(soqlString("') OR Id != ('")).toBe("'\\') OR Id != (\\''");
    expect(() => soqlString('a\u0000b')).toThrow(/control character/);
  });

  it('takes only record ids: 15 characters become 18, a wrong checksum or another object is none', () => {
    const id18 = sfid(1);
    expect(id18).toHaveLength(18);
    expect(salesforceId(id18.slice(0, 15))).toBe(id18);
    expect(salesforceId(id18, '003')).toBe(id18);
    expect(salesforceId(id18, '00T')).toBeNull();
    expect(salesforceId(id18.slice(0, 15) + 'AAA')).toBeNull();
    expect(salesforceId("003' OR Name != '")).toBeNull();
    expect(salesforceId('003Hs000000000')).toBeNull();
  });

  it('never asks for a key that is no Contact id, and sends the ids it asks for quoted', async () => {
    const sf = connect();
    const answers = await sf.contactsByIds(["003' OR Name != '", '001Hs0000000001AAA', sfid(1)]);
    expect(answers[0]).toBeNull();
    expect(answers[1]).toBeNull();
    expect((answers[2] as SalesforceContact).id).toBe(sfid(1));
    expect(server.queries).toEqual([`SELECT Id, Name, Email, Phone, MobilePhone, Birthdate, CreatedDate, LastModifiedDate FROM Contact WHERE Id IN ('${sfid(1)}')`]);
  });
});

describe('contactsByIds', () => {
  it('answers in the order asked, one query per chunk, null for unknown and deleted Contacts, a row error in its slot', async () => {
    const sf = connect({ maxBatch: 4 });
    const keys = [sfid(3), sfid(1), sfid(3), sfid(99), sfid(8), sfid(9), sfid(2), sfid(10), sfid(4).slice(0, 15)];
    const answers = await sf.contactsByIds(keys);
    expect(recorder.of('salesforce', 'contactsByIds').map((c) => c.batchSize)).toEqual([4, 4]);
    expect(answers.map((a) => (a === null ? null : isSourceError(a) ? 'error' : a.id))).toEqual([
      sfid(3),
      sfid(1),
      sfid(3),
      null,
      null,
      'error',
      sfid(2),
      sfid(10),
      sfid(4).slice(0, 15),
    ]);
    expect(failure(answers[5])).toEqual({ code: 'SOURCE_BAD_RESPONSE', errorCode: undefined });
    expect(answers[1]).toEqual({
      id: sfid(1),
      name: 'Contact 1',
      email: 'c1@example.com',
      phone: '+442079460958',
      mobilePhone: '+447911123401',
      birthday: '1990-05-17',
      createdAt: '2024-03-01T08:00:00.000Z',
      updatedAt: '2024-03-02T08:00:00.000Z',
    });
    // Quotes and backslashes in a value are the server's to escape on the way out, and come back as written.
    expect((answers[7] as SalesforceContact).name).toBe('O\'Brien \\ "Bob"');
  });

  it('follows nextRecordsUrl within the chunk’s one call', async () => {
    await start({ pageSize: 2 });
    const sf = connect();
    const answers = await sf.contactsByIds([1, 2, 3, 4, 5].map((n) => sfid(n)));
    expect(answers.map((a) => (a as SalesforceContact).name)).toEqual(['Contact 1', 'Contact 2', 'Contact 3', 'Contact 4', 'Contact 5']);
    expect(recorder.of('salesforce', 'contactsByIds').map((c) => c.batchSize)).toEqual([5]);
    expect(server.queries).toHaveLength(1);
    expect(server.requestCount()).toBe(1 + 3); // the token, the query, two locators
  });

  it('asks for a new token once when Salesforce says INVALID_SESSION_ID, and answers', async () => {
    const sf = connect();
    await sf.contactsByIds([sfid(1)]);
    server.expireTokens();
    const answers = await sf.contactsByIds([sfid(2)]);
    expect((answers[0] as SalesforceContact).id).toBe(sfid(2));
    expect(server.tokensIssued()).toBe(2);
    expect(recorder.of('salesforce', 'token')).toHaveLength(2);
  });

  it('asks once for the calls refused with the same stale token at once', async () => {
    const sf = connect();
    await sf.contactsByIds([sfid(1)]);
    server.expireTokens();
    const answers = await Promise.all([
      sf.contactsByIds([sfid(2)]),
      sf.contactsByIds([sfid(3)]),
      sf.eventsByRecordIds([sfid(4)], { after: null, since: null, kinds: null, limit: 5 }),
    ]);
    expect(answers.map((a) => a.length)).toEqual([1, 1, 1]);
    expect(server.tokensIssued()).toBe(2);
  });

  it('answers REQUEST_LIMIT_EXCEEDED as SOURCE_UNAVAILABLE, counted by the breaker until its circuit opens', async () => {
    await start({ dailyLimit: 1 });
    const sf = connect({ breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    await sf.contactsByIds([sfid(1)]);
    for (let i = 0; i < 2; i++) {
      const e = await sf.contactsByIds([sfid(1)]).catch((x: unknown) => x);
      expect(failure(e)).toEqual({ code: 'SOURCE_UNAVAILABLE', errorCode: 'REQUEST_LIMIT_EXCEEDED' });
      expect((e as Error).message).not.toContain(sfid(1));
    }
    const before = server.requestCount();
    const refused = await sf.contactsByIds([sfid(1)]).catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(SourceRefusal);
    expect(server.requestCount()).toBe(before);
  });

  it('names a refused query’s errorCode, never its message, and does not count it against the breaker', async () => {
    const sf = connect({ apiVersion: '10.0', breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    for (let i = 0; i < 2; i++) {
      const e = await sf.contactsByIds([sfid(1)]).catch((x: unknown) => x);
      expect(failure(e)).toEqual({ code: 'SOURCE_BAD_RESPONSE', errorCode: 'NOT_FOUND' });
      expect((e as Error).message).not.toMatch(/does not exist/);
    }
  });

  it('answers a body that is not Salesforce’s as SOURCE_BAD_RESPONSE, and a slow one as SOURCE_TIMEOUT', async () => {
    const sf = connect({ timeoutMs: 200, retries: 0 });
    await sf.contactsByIds([sfid(1)]);
    server.setFaults({ malformed: true, paths: ['/services/data/v62.0/query'] });
    expect(failure(await sf.contactsByIds([sfid(1)]).catch((x: unknown) => x))).toEqual({ code: 'SOURCE_BAD_RESPONSE', errorCode: undefined });
    server.setFaults({ latencyMs: 1000, paths: ['/services/data/v62.0/query'] });
    expect(failure(await sf.contactsByIds([sfid(1)]).catch((x: unknown) => x))).toEqual({ code: 'SOURCE_TIMEOUT', errorCode: undefined });
  });

  it('reports Sforce-Limit-Info’s api-usage to the observer', async () => {
    const quotas: Array<[string, number, number]> = [];
    const observer: SourceObserver = { call: (_c, run) => run(), quota: (s, used, limit) => quotas.push([s, used, limit]) };
    await start({ dailyLimit: 5000 });
    server.setUsage(41);
    await connect({}, observer).contactsByIds([sfid(1)]);
    expect(quotas).toEqual([['salesforce', 42, 5000]]);
  });

  it('exports the reported usage as c360_source_quota through the metrics observer', async () => {
    const metrics = createMetrics();
    await start({ dailyLimit: 5000 });
    server.setUsage(99);
    await connect({}, composeObservers(metrics.sourceObserver)).contactsByIds([sfid(1)]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('c360_source_quota{source="salesforce",bound="used"} 100');
    expect(text).toContain('c360_source_quota{source="salesforce",bound="limit"} 5000');
  });

  it('gets its token by the JWT bearer flow, signed with the connected app’s key', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    await start({ jwtPublicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string });
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const sf = connect({ auth: { flow: 'jwt_bearer', clientId: CLIENT_ID, username: 'integration@example.com', privateKey: key, audience: 'https://login.salesforce.com' } });
    expect(((await sf.contactsByIds([sfid(1)]))[0] as SalesforceContact).id).toBe(sfid(1));
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const wrong = connect({
      auth: { flow: 'jwt_bearer', clientId: CLIENT_ID, username: 'integration@example.com', privateKey: other, audience: 'https://login.salesforce.com' },
    });
    expect(failure(await wrong.contactsByIds([sfid(1)]).catch((x: unknown) => x))).toEqual({ code: 'SOURCE_BAD_RESPONSE', errorCode: undefined });
  });
});

describe('scan (queryAll by SystemModstamp)', () => {
  async function pass(sf: SalesforceConnector, cursor: string | null) {
    const records: ScannedRecord[] = [];
    let pages = 0;
    for (;;) {
      const page = await sf.scan(cursor);
      pages++;
      records.push(...page.records);
      cursor = page.cursor;
      if (page.done) return { records, cursor, pages };
    }
  }

  it('reads every Contact with its identifiers, a deleted one as deleted, then nothing when nothing changed', async () => {
    await start({ pageSize: 3 });
    const sf = connect();
    const first = await pass(sf, null);
    expect(first.pages).toBe(4);
    expect(first.records.map((r) => r.recordId).sort()).toEqual(contacts.map((c) => c.Id).sort());
    const one = first.records.find((r) => r.recordId === sfid(1))!;
    expect(one.identifiers).toEqual([
      { kind: 'EMAIL', value: ' C1@Example.com ' },
      { kind: 'PHONE', value: '020 7946 0958' },
      { kind: 'PHONE', value: '+44 7911 123401' },
    ]);
    expect(one.traits).toEqual({ name: 'Contact 1', birthday: '1990-05-17' });
    expect(first.records.find((r) => r.recordId === sfid(8))!.deleted).toBe(true);
    const again = await pass(sf, first.cursor);
    expect(again.records).toEqual([]);
  });

  it('reads again only what changed since, a Contact changed within the last second read too', async () => {
    const sf = connect();
    const first = await pass(sf, null);
    // Contact 10's stamp is the newest the pass read (second 10); 2 changes a week later, 6 within that same second.
    Object.assign(contacts[1], { SystemModstamp: at(9), Email: 'new@example.com' });
    Object.assign(contacts[5], { SystemModstamp: at(2, 10) });
    const next = await pass(sf, first.cursor);
    expect(next.records.map((r) => r.recordId).sort()).toEqual([sfid(2), sfid(6)].sort());
    Object.assign(contacts[2], { IsDeleted: true, SystemModstamp: at(10) });
    const deleted = await pass(sf, next.cursor);
    expect(deleted.records.map((r) => [r.recordId, r.deleted])).toEqual([[sfid(3), true]]);
  });

  it('starts its pass again when Salesforce no longer keeps the page’s locator', async () => {
    await start({ pageSize: 4 });
    const sf = connect();
    const page = await sf.scan(null);
    server.expireLocators();
    const rest = await pass(sf, page.cursor);
    expect(new Set([...page.records, ...rest.records].map((r) => r.recordId)).size).toBe(contacts.length);
  });

  it('refuses a cursor it did not make', async () => {
    await expect(connect().scan('zd1:abc')).rejects.toThrow(/cursor was not made by this connector/);
    await expect(connect().scan(`sf1:${Buffer.from(JSON.stringify({ t: 1, seen: ["x'"], next: null, max: null, atMax: [] })).toString('base64url')}`)).rejects.toThrow(
      /cursor was not made/,
    );
  });

  it('re-reads named Contacts for webhooks: deleted ones too, null for none', async () => {
    const records = await connect().scanRecords([sfid(8), sfid(99), sfid(1)]);
    expect(records.map((r) => r && !isSourceError(r) && [r.recordId, !!r.deleted])).toEqual([[sfid(8), true], null, [sfid(1), false]]);
  });

  it('answers a Contact it has but cannot place (no readable SystemModstamp) as a row error, never as gone', async () => {
    const stamp = contacts[0].SystemModstamp;
    contacts[0].SystemModstamp = 'yesterday';
    try {
      const [record] = await connect().scanRecords([sfid(1)]);
      expect(isSourceError(record) && record.code).toBe('SOURCE_BAD_RESPONSE');
    } finally {
      contacts[0].SystemModstamp = stamp;
    }
  });
});

describe('eventsByRecordIds', () => {
  const q = (over: Partial<EventQuery> = {}): EventQuery => ({ after: null, since: null, kinds: null, limit: 10, ...over });
  const shape = (list: unknown) => (list as SourceEvent[]).map((e) => [e.kind, e.at, e.title ?? null]);

  it('answers each Contact’s creation and Tasks newest first, in one call per chunk', async () => {
    const sf = connect();
    const [one, two, none] = await sf.eventsByRecordIds([sfid(1), sfid(2), sfid(99)], q());
    expect(recorder.of('salesforce', 'eventsByRecordIds').map((c) => c.batchSize)).toEqual([3]);
    expect(shape(one)).toEqual([
      ['salesforce_task_logged', '2024-03-05T08:00:00.000Z', 'Call 2'],
      ['salesforce_task_logged', '2024-03-04T08:00:00.000Z', 'Call 3'],
      ['salesforce_task_logged', '2024-03-03T08:00:00.000Z', 'Call 1'],
      ['salesforce_contact_created', '2024-03-01T08:00:00.000Z', null],
    ]);
    expect(shape(two)).toHaveLength(2);
    expect(none).toEqual([]);
  });

  it('pages by position, since and kinds as the timeline asks', async () => {
    const sf = connect();
    const [page1] = await sf.eventsByRecordIds([sfid(1)], q({ limit: 2 }));
    const last = (page1 as SourceEvent[])[1];
    const [page2] = await sf.eventsByRecordIds([sfid(1)], q({ limit: 2, after: { at: last.at, kind: last.kind, id: last.id } }));
    expect(shape(page2)).toEqual([
      ['salesforce_task_logged', '2024-03-03T08:00:00.000Z', 'Call 1'],
      ['salesforce_contact_created', '2024-03-01T08:00:00.000Z', null],
    ]);
    const [since] = await sf.eventsByRecordIds([sfid(1)], q({ since: '2024-03-04T00:00:00.000Z' }));
    expect(shape(since).map((e) => e[2])).toEqual(['Call 2', 'Call 3']);
    const [created] = await sf.eventsByRecordIds([sfid(1)], q({ kinds: ['salesforce_contact_created'] }));
    expect(shape(created)).toEqual([['salesforce_contact_created', '2024-03-01T08:00:00.000Z', null]]);
    expect(server.queries.at(-1)).not.toContain('Tasks');
  });
});

describe('Customer.salesforceContacts through GraphQL', () => {
  const coreSdl = /* GraphQL */ `
    scalar DateTime
    enum SourceName {
      SALESFORCE
    }
    type Customer {
      id: ID!
    }
    type Query {
      customers(ids: [ID!]!): [Customer!]!
    }
  `;
  const records: Record<string, string[]> = { c1: [sfid(1)], c2: [sfid(2), sfid(99)], c3: [sfid(9)], c4: [sfid(3), sfid(4)] };

  function run(sf: SalesforceConnector, ids: string[]) {
    const schema = makeExecutableSchema({
      typeDefs: [coreSdl, kind.sdl!],
      resolvers: [
        { Query: { customers: (_: unknown, a: { ids: string[] }) => a.ids.map((id) => ({ id })) }, SourceName: { SALESFORCE: 'salesforce' } },
        kind.resolvers!([{ name: 'salesforce', connector: sf }]) as never,
      ],
    });
    const loaders = new Map<string, DataLoader<string, unknown>>();
    const ctx: KindContext = {
      loaders: {
        connector: (() => sf) as never,
        together: (_group, p) => p,
        batch: (source, operation, call) => {
          const key = `${source}/${operation}`;
          if (!loaders.has(key)) loaders.set(key, new DataLoader((keys) => call(keys, new Map()), { maxBatchSize: sf.maxBatch }));
          return loaders.get(key)! as never;
        },
        recordIds: async (customerId) => records[customerId] ?? [],
      },
      limits: { maxFirst: 100 },
    };
    return graphql({
      schema,
      contextValue: ctx,
      variableValues: { ids },
      source: `query($ids: [ID!]!) { customers(ids: $ids) { id salesforceContacts { source id email phone mobilePhone } } }`,
    });
  }

  it('loads every customer’s Contacts in one query and keeps a malformed one as a null item with its error', async () => {
    const result = await run(connect(), ['c1', 'c2', 'c3', 'c4']);
    expect(recorder.of('salesforce', 'contactsByIds').map((c) => c.batchSize)).toEqual([6]);
    expect(server.queries).toHaveLength(1);
    const customers = result.data!.customers as Array<{ salesforceContacts: Array<{ id: string } | null> }>;
    expect(customers[0].salesforceContacts).toEqual([{ source: 'SALESFORCE', id: sfid(1), email: 'c1@example.com', phone: '+442079460958', mobilePhone: '+447911123401' }]);
    expect(customers[1].salesforceContacts.map((c) => c?.id)).toEqual([sfid(2)]);
    expect(customers[2].salesforceContacts).toEqual([null]);
    expect(customers[3].salesforceContacts.map((c) => c?.id)).toEqual([sfid(3), sfid(4)]);
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(['SOURCE_BAD_RESPONSE']);
  });

  it('nulls the field with one coded error when Salesforce is too slow, the other fields kept', async () => {
    const sf = connect({ timeoutMs: 200, retries: 0 });
    await sf.health();
    server.setFaults({ latencyMs: 1000, paths: ['/services/data/v62.0/query'] });
    const result = await run(sf, ['c1', 'c2']);
    expect((result.data!.customers as Array<{ id: string; salesforceContacts: unknown }>).map((c) => [c.id, c.salesforceContacts])).toEqual([
      ['c1', null],
      ['c2', null],
    ]);
    expect(result.errors?.map((e) => [e.extensions.code, e.extensions.source])).toEqual([
      ['SOURCE_TIMEOUT', 'salesforce'],
      ['SOURCE_TIMEOUT', 'salesforce'],
    ]);
    expect(recorder.of('salesforce', 'contactsByIds')).toHaveLength(1);
  });
});

describe('options', () => {
  const base = { baseUrl: 'https://acme.my.salesforce.com', auth: { flow: 'client_credentials', clientId: 'id', clientSecret: 'secret' } };

  it('defaults the API version and the batch to 200 ids, and refuses more than 300', () => {
    expect(kind.options.parse(base)).toMatchObject({ apiVersion: '62.0', maxBatch: 200, timeoutMs: 2000 });
    expect(kind.options.parse({ ...base, maxBatch: 300 }).maxBatch).toBe(300);
    expect(kind.options.safeParse({ ...base, maxBatch: 301 }).success).toBe(false);
  });

  it('refuses unknown keys, a bad version and a private key that is none, without printing it', () => {
    expect(kind.options.safeParse({ ...base, token: 'x' }).error?.issues[0].code).toBe('unrecognized_keys');
    expect(kind.options.safeParse({ ...base, apiVersion: 'v62' }).error?.issues[0].path).toEqual(['apiVersion']);
    const jwt = { ...base, auth: { flow: 'jwt_bearer', clientId: 'id', username: 'u@example.com', privateKey: 'not-a-key-secret' } };
    const issues = kind.options.safeParse(jwt).error!.issues;
    expect(issues.map((i) => i.path.join('.'))).toEqual(['auth.privateKey']);
    expect(JSON.stringify(issues)).not.toContain('not-a-key-secret');
  });

  it('reads a private key written on one line with \\n', () => {
    const pem = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const parsed = kind.options.parse({ ...base, auth: { flow: 'jwt_bearer', clientId: 'id', username: 'u@example.com', privateKey: pem.replace(/\n/g, '\\n') } });
    expect((parsed.auth as { privateKey: string }).privateKey).toBe(pem);
  });
});

describe('health', () => {
  it('answers when the API and the token do, and fails coded when the secret is refused', async () => {
    await expect(connect().health()).resolves.toBeUndefined();
    const bad = connect({ auth: { flow: 'client_credentials', clientId: CLIENT_ID, clientSecret: 'wrong' } });
    expect(failure(await bad.health().catch((x: unknown) => x))).toEqual({ code: 'SOURCE_BAD_RESPONSE', errorCode: undefined });
  });
});
