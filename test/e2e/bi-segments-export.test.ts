/**
 * BI segments and exports: segments are saved filters stored in OneID, writable by the roles
 * the policy allows; exports stream a segment or a filter as NDJSON or CSV with exactly what
 * GraphQL shows the role (masking, row scope), audit PII reads as GraphQL does, resume from a
 * cursor and gzip when asked.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { startTestWorld, apiKeyFor, SERIAL_ADMIN, type TestWorld, type TestRole } from '../helpers/world';

let world: TestWorld;
/** An admin allowed one request in flight: its place is free again only once an export has ended. */
const SERIAL_KEY = 'test-export-serial-key';

beforeAll(async () => {
  world = await startTestWorld({ people: 500, seed: 41, extraRoles: { serial_admin: { role: SERIAL_ADMIN, keys: [SERIAL_KEY] } } });
});
afterAll(async () => {
  await world?.close();
});

const as = (role: TestRole) => ({ 'x-api-key': apiKeyFor(role) });

const SEGMENT = `query S($name: String!) {
  segment(name: $name) { name filter size computedAt createdBy customers(first: 500) { totalCount edges { node { id } } pageInfo { hasNextPage } } }
}`;
const CREATE = `mutation C($input: SegmentInput!) { createSegment(input: $input) { name filter createdBy } }`;

async function exportOf(role: TestRole, params: Record<string, string>, format: 'ndjson' | 'csv' = 'ndjson', headers: Record<string, string> = {}) {
  const res = await fetch(`${world.url}/export/customers.${format}?${new URLSearchParams(params)}`, { headers: { ...as(role), ...headers } });
  const raw = Buffer.from(await res.arrayBuffer());
  return { res, raw };
}

/** Every line of an NDJSON export, rows and notes. */
const linesOf = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
/** The rows of an NDJSON export: the lines with a `_cursor`. */
const rowsOf = (text: string) => linesOf(text).filter((l) => l._cursor);

describe('BI segments', () => {
  it('marketing saves a segment; its size and customers are those of the filter now', async () => {
    const filter = { orders: { min: 2 }, subscribed: true };
    const created = await world.query(CREATE, { input: { name: 'loyal_followers', description: 'two orders, following', filter } }, as('marketing'));
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data.createSegment).toEqual({ name: 'loyal_followers', filter, createdBy: 'test-marketing' });
    const { body } = await world.query(SEGMENT, { name: 'loyal_followers' }, as('marketing'));
    const s = body.data.segment;
    const direct = await world.query(
      `query($f: CustomerFilter) { customersConnection(first: 500, filter: $f) { totalCount edges { node { id } } } }`,
      { f: filter },
      as('marketing'),
    );
    expect(s.size).toBe(direct.body.data.customersConnection.totalCount);
    expect(s.customers.edges).toEqual(direct.body.data.customersConnection.edges);
    expect(s.size).toBeGreaterThan(0);
    expect(Date.parse(s.computedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('is stored in the OneID database', async () => {
    const row = await world.gw.oneidDb('c360_segments').where('name', 'loyal_followers').first();
    expect(JSON.parse(row.filter)).toEqual({ orders: { min: 2 }, subscribed: true });
  });

  it('updates and deletes; a taken name is CONFLICT, a bad name or filter BAD_USER_INPUT naming it', async () => {
    const again = await world.query(CREATE, { input: { name: 'loyal_followers', filter: { subscribed: true } } }, as('analyst'));
    expect(again.body.errors[0].extensions.code).toBe('CONFLICT');
    const badName = await world.query(CREATE, { input: { name: 'Loyal Followers', filter: { subscribed: true } } }, as('analyst'));
    expect([badName.body.errors[0].extensions.code, badName.body.errors[0].extensions.field]).toEqual(['BAD_USER_INPUT', 'input.name']);
    const badFilter = await world.query(CREATE, { input: { name: 'x', filter: { orders: { min: -1 } } } }, as('analyst'));
    expect([badFilter.body.errors[0].extensions.code, badFilter.body.errors[0].extensions.field]).toEqual(['BAD_USER_INPUT', 'input.filter.orders.min']);

    const updated = await world.query(
      `mutation { updateSegment(name: "loyal_followers", patch: { filter: { orders: { min: 3 } } }) { name filter } }`,
      undefined,
      // Its creator: another principal may not change it (bi-segment-owners.test.ts).
      as('marketing'),
    );
    expect(updated.body.data.updateSegment.filter).toEqual({ orders: { min: 3 } });
    const missing = await world.query(`mutation { updateSegment(name: "nope", patch: { description: "x" }) { name } }`, undefined, as('analyst'));
    expect(missing.body.errors[0].extensions.code).toBe('NOT_FOUND');
    await world.query(CREATE, { input: { name: 'doomed', filter: { subscribed: true } } }, as('analyst'));
    const deleted = await world.query(`mutation { deleteSegment(name: "doomed") }`, undefined, as('analyst'));
    expect(deleted.body.data.deleteSegment).toBe(true);
    const list = await world.query(`{ segments { name } }`, undefined, as('analyst'));
    expect(list.body.data.segments.map((s: { name: string }) => s.name)).toEqual(['loyal_followers']);
  });

  it('refuses to save an orders window longer than 36,500 days, naming it', async () => {
    const { body } = await world.query(CREATE, { input: { name: 'forever', filter: { orders: { withinDays: 1_000_000_000 } } } }, as('analyst'));
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.filter.orders.withinDays' });
    expect(await world.gw.oneidDb('c360_segments').where('name', 'forever').first()).toBeUndefined();
  });

  it('answers a list of segments when one was saved before a rule its filter now breaks: only that size is null, with its error', async () => {
    await world.query(CREATE, { input: { name: 'stale', filter: { subscribed: true } } }, as('analyst'));
    // As a segment saved when withinDays had no upper bound reads now.
    await world.gw
      .oneidDb('c360_segments')
      .where('name', 'stale')
      .update({ filter: JSON.stringify({ orders: { withinDays: 1_000_000_000 } }) });
    try {
      const { body } = await world.query(`{ segments { name size } }`, undefined, as('analyst'));
      const stale = body.data.segments.findIndex((s: { name: string }) => s.name === 'stale');
      expect(body.data.segments[stale].size).toBeNull();
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0].path).toEqual(['segments', stale, 'size']);
      expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'segment(stale).filter.orders.withinDays' });
      const others = body.data.segments.filter((s: { name: string }) => s.name !== 'stale');
      expect(others.length).toBeGreaterThan(0);
      for (const s of others) expect(s.size).toEqual(expect.any(Number));
    } finally {
      await world.query(`mutation { deleteSegment(name: "stale") }`, undefined, as('analyst'));
    }
  });

  it('shows a saved filter only to a role that may select every field it reads; the list of segments, their sizes and customers, still answers, with HTTP 200', async () => {
    // Marketing reads province; analyst and finance do not (a personal field), so the filter's value is theirs to see no more than the field's.
    const filter = { or: [{ memberTier: 'platinum' }, { not: { province: '上海' } }] };
    expect((await world.query(CREATE, { input: { name: 'platinum_or_not_shanghai', filter } }, as('marketing'))).body.errors).toBeUndefined();
    expect((await world.query(CREATE, { input: { name: 'any_buyer', filter: { orders: { min: 1 } } } }, as('marketing'))).body.errors).toBeUndefined();
    try {
      for (const role of ['analyst', 'finance'] as const) {
        const list = await world.query(`{ segments { name filter size customers(first: 1) { totalCount } } }`, undefined, as(role));
        expect(list.status).toBe(200);
        expect(JSON.stringify(list.body)).not.toContain('上海');
        const i = list.body.data.segments.findIndex((x: { name: string }) => x.name === 'platinum_or_not_shanghai');
        expect(list.body.data.segments[i]).toEqual({ name: 'platinum_or_not_shanghai', filter: null, size: null, customers: null });
        const mine = list.body.errors.filter((e: { path: unknown[] }) => e.path[1] === i);
        expect(mine.map((e: { path: unknown[]; extensions: { code: string; field: string } }) => [e.path[2], e.extensions.code, e.extensions.field])).toEqual(
          expect.arrayContaining([
            ['filter', 'FORBIDDEN', 'segment(platinum_or_not_shanghai).filter.or[1].not.province'],
            ['size', 'GRAPHQL_VALIDATION_FAILED', 'segment(platinum_or_not_shanghai).filter.or[1].not.province'],
            ['customers', 'GRAPHQL_VALIDATION_FAILED', 'segment(platinum_or_not_shanghai).filter.or[1].not.province'],
          ]),
        );
        // The segments it may read are shown whole.
        expect(list.body.data.segments.find((x: { name: string }) => x.name === 'any_buyer')).toMatchObject({
          filter: { orders: { min: 1 } },
          customers: { totalCount: expect.any(Number) },
        });
        const one = await world.query(`{ segment(name: "platinum_or_not_shanghai") { name filter } }`, undefined, as(role));
        expect(one.body.data.segment).toEqual({ name: 'platinum_or_not_shanghai', filter: null });
        expect(one.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN' });
      }
      for (const role of ['marketing', 'admin'] as const) {
        const { body } = await world.query(`{ segment(name: "platinum_or_not_shanghai") { filter } }`, undefined, as(role));
        expect(body.errors).toBeUndefined();
        expect(body.data).toEqual({ segment: { filter } });
      }
    } finally {
      for (const name of ['platinum_or_not_shanghai', 'any_buyer']) await world.query(`mutation { deleteSegment(name: "${name}") }`, undefined, as('marketing'));
    }
  });

  it('refuses a description or filter the store cannot hold with BAD_USER_INPUT naming it, on every engine, and saves nothing', async () => {
    const long = 'd'.repeat(501);
    const tooLong = await world.query(CREATE, { input: { name: 'long_description', description: long, filter: { hasPhone: true } } }, as('marketing'));
    expect(tooLong.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.description' });
    // Four conditions of 100 texts of 180 characters: the grammar takes it, its JSON is over 64 KiB.
    const texts = (p: string) => Array.from({ length: 100 }, (_, i) => `${p}${i}`.padEnd(180, 'x'));
    const big = { memberTier: texts('t'), registrationChannel: texts('c'), province: texts('p'), not: { memberTier: texts('n') } };
    const tooBig = await world.query(CREATE, { input: { name: 'big_filter', filter: big } }, as('marketing'));
    expect(tooBig.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.filter' });
    expect(await world.gw.oneidDb('c360_segments').whereIn('name', ['long_description', 'big_filter'])).toEqual([]);
    // At the limits, saved; an update past them refused, the segment as it was.
    const fits = await world.query(CREATE, { input: { name: 'fits', description: 'd'.repeat(500), filter: { hasPhone: true } } }, as('marketing'));
    expect(fits.body.errors).toBeUndefined();
    try {
      const update = await world.query(
        `mutation U($p: SegmentPatch!) { updateSegment(name: "fits", patch: $p) { name } }`,
        { p: { description: `${long}é`, filter: big } },
        as('marketing'),
      );
      expect(update.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'patch.description' });
      const row = await world.gw.oneidDb('c360_segments').where('name', 'fits').first();
      expect([row.description, JSON.parse(row.filter)]).toEqual(['d'.repeat(500), { hasPhone: true }]);
    } finally {
      await world.query(`mutation { deleteSegment(name: "fits") }`, undefined, as('marketing'));
    }
  });

  it('is writable only by roles the policy allows: sales and support cannot', async () => {
    for (const role of ['sales', 'support'] as const) {
      const { body } = await world.query(CREATE, { input: { name: 'mine', filter: { hasEmail: true } } }, as(role));
      expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
  });
});

const FIELDS = ['id', 'name', 'phone', 'email', 'province', 'memberTier', 'gender', 'orderSummary.orderCount', 'orderSummary.lifetimeValue.amount'];
const GQL = `query($ids: [ID!]!) { customers(ids: $ids) { id name phone email province memberTier gender orderSummary { orderCount lifetimeValue { amount } } } }`;
const flat = (c: Record<string, any>) => ({
  id: c.id,
  name: c.name,
  phone: c.phone,
  email: c.email,
  province: c.province,
  memberTier: c.memberTier,
  gender: c.gender,
  'orderSummary.orderCount': c.orderSummary?.orderCount ?? null,
  'orderSummary.lifetimeValue.amount': c.orderSummary?.lifetimeValue.amount ?? null,
});

describe('BI exports', () => {
  beforeAll(async () => {
    await world.query(CREATE, { input: { name: 'buyers', filter: { orders: { min: 1 } } } }, as('marketing'));
  });

  it('as marketing, a segment export masks exactly what GraphQL masks', async () => {
    const { res, raw } = await exportOf('marketing', { segment: 'buyers', fields: FIELDS.join(',') });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const rows = rowsOf(raw.toString('utf8'));
    const size = (await world.query(`{ segment(name: "buyers") { size } }`, undefined, as('marketing'))).body.data.segment.size;
    expect(rows).toHaveLength(size);
    const ids = rows.map((r) => r.id);
    const seen = [];
    for (let i = 0; i < ids.length; i += 200) {
      const { body } = await world.query(GQL, { ids: ids.slice(i, i + 200) }, as('marketing'));
      seen.push(...body.data.customers.map(flat));
    }
    expect(rows.map(({ _cursor, ...r }) => r)).toEqual(seen);
    // Masked indeed: no full phone number leaves for marketing.
    expect(rows.filter((r) => r.phone).every((r) => !/^\+86\d{11}$/.test(r.phone))).toBe(true);
  });

  it('as marketing, a field the role cannot select is refused as GraphQL refuses it', async () => {
    const { res, raw } = await exportOf('marketing', { fields: 'id,city' });
    expect(res.status).toBe(400);
    expect(JSON.parse(raw.toString()).errors[0].message).toMatch(/Cannot query field "city" on type "Customer"/);
    const filter = await exportOf('marketing', { filter: JSON.stringify({ city: '上海' }) });
    expect(JSON.parse(filter.raw.toString()).errors[0].message).toBe('Cannot query field "city" on type "Customer".');
  });

  it('as sales, an export holds only the team’s customers, and its PII reads are audited as in GraphQL', async () => {
    const { raw } = await exportOf('sales', { fields: 'id,phone' }, 'csv');
    const lines = raw.toString('utf8').trim().split('\r\n').slice(0, -1);
    expect(lines[0]).toBe('_cursor,id,phone');
    const ids = lines.slice(1).map((l) => l.split(',')[1]);
    // The team's customers, from the raw CRM table and OneID: those with a contact owned by team_north.
    const owned = (await world.dbs.crm.db('crm_contacts').where('owner_team', 'team_north').select('contact_id')).map((r: { contact_id: string }) => r.contact_id);
    const teamCustomers = new Set(
      (await world.gw.oneidDb('idmap_source_records').where('source', 'crm').whereIn('record_id', owned).whereNotNull('customer_id').select('customer_id')).map(
        (r: { customer_id: string }) => r.customer_id,
      ),
    );
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids)).toEqual(teamCustomers);
    const audited = await world.gw.access.auditLog.query({ principal: 'test-sales', first: 500 });
    const withPhone = lines.slice(1).filter((l) => l.split(',')[2] !== '');
    const auditedCustomers = new Set(audited.filter((e) => e.fields.includes('Customer.phone')).map((e) => e.customerId));
    for (const l of withPhone) expect(auditedCustomers.has(l.split(',')[1])).toBe(true);
  });

  it('resumes from a cursor and gzips when asked, with the same rows', async () => {
    const whole = rowsOf((await exportOf('analyst', { filter: JSON.stringify({ orders: { min: 1 } }), fields: 'id,memberTier' })).raw.toString());
    expect(whole.length).toBeGreaterThan(20);
    const { res, raw } = await exportOf('analyst', { filter: JSON.stringify({ orders: { min: 1 } }), fields: 'id,memberTier', after: whole[9]._cursor }, 'ndjson', {
      'accept-encoding': 'gzip',
    });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    // fetch decompresses for us when it can; either way the rows after the tenth come back.
    const text = raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw).toString() : raw.toString();
    expect(rowsOf(text)).toEqual(whole.slice(10));
  });

  it('ends a complete export with a line saying so, its rows and the parameters asked: a file without it was cut short', async () => {
    // Until session 40 a complete export simply stopped, so a file cut short on the way (a proxy,
    // the gateway restarted) looked like a complete one, and nothing in the file said what it held.
    const filter = { orders: { min: 1 } };
    const lines = linesOf((await exportOf('analyst', { filter: JSON.stringify(filter), fields: 'id,memberTier' })).raw.toString('utf8'));
    const rows = lines.filter((l) => l._cursor);
    expect(rows.length).toBeGreaterThan(100);
    expect(lines).toHaveLength(rows.length + 1);
    expect(lines[lines.length - 1]).toEqual({
      _end: { code: 'EXPORT_COMPLETE', rows: rows.length, parameters: { filter, fields: ['id', 'memberTier'], orderBy: 'ID_ASC' } },
    });
    const resumed = linesOf((await exportOf('marketing', { segment: 'buyers', after: rows[9]._cursor })).raw.toString('utf8'));
    expect(resumed[resumed.length - 1]._end).toEqual({
      code: 'EXPORT_COMPLETE',
      rows: resumed.length - 1,
      parameters: { segment: 'buyers', fields: ['id'], orderBy: 'ID_ASC', after: rows[9]._cursor },
    });

    // CSV: a last `#` line without commas, the parameters URL-encoded as they would be sent.
    const csv = (await exportOf('analyst', { segment: 'buyers', fields: 'id,memberTier', orderBy: 'LIFETIME_VALUE_DESC' }, 'csv')).raw.toString('utf8').split('\r\n');
    expect(csv.pop()).toBe('');
    const end = csv.pop()!;
    expect(end).toBe(`# export complete: ${csv.length - 1} rows for segment=buyers&fields=id%2CmemberTier&orderBy=LIFETIME_VALUE_DESC`);
    expect(csv.length - 1).toBeGreaterThan(100);
    expect(csv.slice(1).every((l) => !l.startsWith('#'))).toBe(true);
  });

  it('a client gone while the next page is computed ends the export and frees its place', async () => {
    // Each page waits on the helpdesk: the client leaves after the first page, while the second is computed.
    world.support.setFaults({ latencyMs: 1500 });
    try {
      const first = await new Promise<{ status: number; chunk: string }>((resolve, reject) => {
        const req = http.get(`${world.url}/export/customers.ndjson?fields=id,supportRequesters.id`, { headers: { 'x-api-key': SERIAL_KEY } }, (res) => {
          res.once('data', (chunk: Buffer) => {
            req.destroy(); // the client goes, its socket closed
            resolve({ status: res.statusCode ?? 0, chunk: chunk.toString('utf8') });
          });
        });
        req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
      });
      expect(first.status).toBe(200);
      expect(first.chunk).toMatch(/^\{"_cursor"/);
      // One request in flight for this key: it is admitted again once the export has let go.
      let status = 429;
      for (let i = 0; i < 600 && status === 429; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await world.query('{ __typename }', undefined, { 'x-api-key': SERIAL_KEY })).status;
      }
      expect(status).toBe(200);
    } finally {
      world.support.setFaults({});
    }
  });

  it('refuses a role with no customer lists with 403 FORBIDDEN, not with the errors of a query it cannot run', async () => {
    const { res, raw } = await exportOf('support', { fields: 'id' });
    expect(res.status).toBe(403);
    expect(JSON.parse(raw.toString()).errors).toEqual([
      { message: 'the role support has no customer lists (customersConnection), so no exports', extensions: { code: 'FORBIDDEN' } },
    ]);
  });

  it('says which fields a failed source left null, and in how many rows: after each page (NDJSON), once at the end (CSV)', async () => {
    world.support.setFaults({ status: 400 });
    try {
      const params = { filter: JSON.stringify({ orders: { min: 1 } }), fields: 'id,memberTier,supportRequesters.id' };
      const ndjson = linesOf((await exportOf('admin', params)).raw.toString('utf8'));
      const rows = ndjson.filter((l) => l._cursor);
      const notes = ndjson.filter((l) => l._partial);
      expect(rows.length).toBeGreaterThan(100);
      // A customer with a helpdesk record lost the field (null); one without has none to lose ([]).
      const lost = (page: any[]) => page.filter((r) => r['supportRequesters.id'] === null).length;
      expect(rows.every((r) => r['supportRequesters.id'] === null || r['supportRequesters.id'].length === 0)).toBe(true);
      expect(lost(rows.slice(0, 100))).toBeGreaterThan(0);
      // One note after each page that lost something, counting its rows.
      expect(ndjson.findIndex((l) => l._partial)).toBe(100);
      expect(notes[0]._partial).toEqual({
        code: 'PARTIAL_DATA',
        message: 'some fields of the rows above are null: a source did not answer for them',
        sources: [{ source: 'support', code: expect.stringMatching(/^SOURCE_/), fields: ['supportRequesters'], rows: lost(rows.slice(0, 100)) }],
      });
      expect(notes.map((n) => n._partial.sources[0].rows)).toEqual(
        Array.from({ length: Math.ceil(rows.length / 100) }, (_, i) => lost(rows.slice(i * 100, i * 100 + 100))).filter((n) => n > 0),
      );

      // CSV: one comment line at the end over the whole export, without commas; the rows stay a plain table.
      const csv = (await exportOf('admin', params, 'csv')).raw.toString('utf8').trimEnd().split('\r\n');
      expect(csv.slice(1, -2).every((l) => !l.startsWith('#'))).toBe(true);
      expect(csv).toHaveLength(rows.length + 3);
      expect(csv[csv.length - 1]).toMatch(new RegExp(`^# export complete: ${rows.length} rows for `));
      expect(csv[csv.length - 2]).toBe(
        `# some fields are null where a source did not answer for them: support ${notes[0]._partial.sources[0].code} in supportRequesters of ${lost(rows)} rows`,
      );
    } finally {
      world.support.setFaults({});
    }
  });

  it('says which rows’ timelines miss a failed source’s events, though no column asked for the timeline’s gaps', async () => {
    world.support.setFaults({ status: 503, paths: ['/api/v2/requesters/events'] });
    try {
      const params = { filter: JSON.stringify({ openTickets: { min: 1 } }), fields: 'id,timeline.edges.node.source' };
      const ndjson = linesOf((await exportOf('admin', params)).raw.toString('utf8'));
      const rows = ndjson.filter((l) => l._cursor);
      expect(rows.length).toBeGreaterThan(0);
      // The rows keep their shape: the column asked for, no gaps column added.
      expect(Object.keys(rows[0])).toEqual(['_cursor', 'id', 'timeline.edges.node.source']);
      expect(rows.some((r) => r['timeline.edges.node.source'].includes('SUPPORT'))).toBe(false);
      const notes = ndjson.filter((l) => l._partial).flatMap((l) => l._partial.sources);
      expect(notes.length).toBeGreaterThan(0);
      expect(notes.every((n) => n.source === 'support' && n.code === 'SOURCE_UNAVAILABLE' && n.fields.join() === 'timeline')).toBe(true);
      expect(notes.reduce((sum, n) => sum + n.rows, 0)).toBe(rows.length);
    } finally {
      world.support.setFaults({});
    }
  });

  it('answers BAD_USER_INPUT for a bad filter and 401 without credentials', async () => {
    const bad = await exportOf('analyst', { filter: JSON.stringify({ orders: { min: 'x' } }) });
    expect(bad.res.status).toBe(400);
    expect(JSON.parse(bad.raw.toString()).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.orders.min' });
    const anon = await fetch(`${world.url}/export/customers.ndjson`);
    expect(anon.status).toBe(401);
  });

  it('refuses a misspelt or repeated parameter with BAD_USER_INPUT naming it, instead of exporting every customer', async () => {
    const get = async (query: string) => {
      const res = await fetch(`${world.url}/export/customers.ndjson?${query}`, { headers: as('marketing') });
      return { status: res.status, body: await res.text() };
    };
    // `segement` for `segment`: ignored, the export was every customer the role may see.
    const typo = await get('segement=buyers&fields=id');
    expect(typo.status).toBe(400);
    expect(JSON.parse(typo.body).errors[0]).toMatchObject({
      message: '"segement" is not an export parameter; an export takes segment, filter, fields, orderBy, after',
      extensions: { code: 'BAD_USER_INPUT', field: 'segement' },
    });
    const twice = await get('segment=buyers&fields=id&fields=name');
    expect(twice.status).toBe(400);
    expect(JSON.parse(twice.body).errors[0]).toMatchObject({ message: 'fields: give it once', extensions: { code: 'BAD_USER_INPUT', field: 'fields' } });
    expect((await get('segment=buyers&fields=id')).status).toBe(200);
  });
});
