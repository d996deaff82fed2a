/**
 * Who may change and delete a saved segment. Every role granted the segment mutations creates
 * segments, each recording the principal that made it; changing or deleting one is denied by
 * default to anyone else (another user of the same role included), unless the role's policy says
 * `"segments": "any"` (admin). And a filter may use only keys whose field the writer's role may
 * select, however deep it sits.
 */
import { SignJWT } from 'jose';
import { hashApiKey } from '../../src/access';
import { apiKeyFor, startTestWorld, type TestRole, type TestWorld } from '../helpers/world';

/** A second marketing user: same role, another principal. */
const OTHER_MARKETING_KEY = 'test-marketing-colleague-key';
const ISSUER = 'https://idp.c360.test';
const AUDIENCE = 'c360-gateway';
const HS_SECRET = 'segment-owners-hs256-secret-0123456789';

let world: TestWorld;

beforeAll(async () => {
  world = await startTestWorld({
    people: 60,
    seed: 3,
    demoSystems: false,
    configPatch: (raw) => {
      raw.auth.apiKeys.push({ name: 'test-marketing-colleague', role: 'marketing', sha256: hashApiKey(OTHER_MARKETING_KEY) });
      raw.auth.jwt = { issuer: ISSUER, audience: AUDIENCE, keys: [{ type: 'secret', alg: 'HS256', secret: HS_SECRET }] };
    },
  });
});

afterAll(async () => {
  await world?.close();
});

const as = (role: TestRole) => ({ 'x-api-key': apiKeyFor(role) });
const colleague = { 'x-api-key': OTHER_MARKETING_KEY };

const CREATE = `mutation C($input: SegmentInput!) { createSegment(input: $input) { name createdBy } }`;
const UPDATE = `mutation U($name: String!, $patch: SegmentPatch!) { updateSegment(name: $name, patch: $patch) { name description filter } }`;
const DELETE = `mutation D($name: String!) { deleteSegment(name: $name) }`;

/** A marketing user signed in through the identity provider, as `sub`: the headers it sends. */
async function tokenUser(sub: string) {
  const token = await new SignJWT({ role: 'marketing' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(HS_SECRET));
  return { authorization: `Bearer ${token}` };
}

/** POST as the headers say, with no API key added (the world's `query` adds admin's). */
async function send(query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${world.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

const stored = (name: string) => world.gw.oneidDb('c360_segments').where('name', name).first();

describe('BI segments: who may change and delete them', () => {
  it('records who created a segment', async () => {
    const { body } = await world.query(CREATE, { input: { name: 'followers', filter: { subscribed: true } } }, as('marketing'));
    expect(body.errors).toBeUndefined();
    expect(body.data.createSegment).toEqual({ name: 'followers', createdBy: 'test-marketing' });
  });

  /**
   * A principal is a staff member's API key name or token subject, often their email. Until session
   * 41 (2026-12-06) every segment reader (finance, sales, analyst, a colleague) read it on every segment.
   */
  it('tells a segment’s creator to its creator and to admin alone; every reader learns whether it is theirs', async () => {
    const email = 'li.na@corp.example';
    const created = await send(CREATE, { input: { name: 'by_email', filter: { subscribed: true } } }, await tokenUser(email));
    expect(created.body.data.createSegment).toEqual({ name: 'by_email', createdBy: email });
    const READ = `query($name: String!) { segment(name: $name) { createdBy createdByYou } }`;
    const readers: Array<[string, Record<string, string>]> = [
      ['creator', await tokenUser(email)],
      ['admin', as('admin')],
      ['colleague', colleague],
      ['finance', as('finance')],
      ['sales', as('sales')],
      ['analyst', as('analyst')],
    ];
    const seen = [];
    for (const [who, headers] of readers) seen.push([who, (await send(READ, { name: 'by_email' }, headers)).body.data.segment]);
    expect(seen).toEqual([
      ['creator', { createdBy: email, createdByYou: true }],
      ['admin', { createdBy: email, createdByYou: false }],
      ['colleague', { createdBy: null, createdByYou: false }],
      ['finance', { createdBy: null, createdByYou: false }],
      ['sales', { createdBy: null, createdByYou: false }],
      ['analyst', { createdBy: null, createdByYou: false }],
    ]);
    expect((await world.query(DELETE, { name: 'by_email' })).body.data).toEqual({ deleteSegment: true });
  });

  it.each([
    ['another user of the same role', colleague],
    ['a user of another role granted the mutations (analyst)', as('analyst')],
  ])('refuses %s: FORBIDDEN, the segment untouched', async (_, headers) => {
    const before = await stored('followers');
    const update = await world.query(UPDATE, { name: 'followers', patch: { description: 'mine now', filter: { subscribed: false } } }, headers);
    expect(update.body.data).toBeNull();
    expect(update.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const remove = await world.query(DELETE, { name: 'followers' }, headers);
    expect(remove.body.data).toBeNull();
    expect(remove.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await stored('followers')).toEqual(before);
  });

  it.each([
    ['a token whose subject is the API key’s name', 'test-marketing'],
    ['a token whose subject differs from it in case only', 'Test-Marketing'],
    ['a token whose subject differs from it by a trailing space', 'test-marketing '],
  ])('refuses %s: a principal is its kind and its name, compared exactly', async (_, sub) => {
    const before = await stored('followers');
    const headers = await tokenUser(sub);
    const update = await send(UPDATE, { name: 'followers', patch: { description: 'mine now' } }, headers);
    expect(update.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const remove = await send(DELETE, { name: 'followers' }, headers);
    expect(remove.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect(await stored('followers')).toEqual(before);
  });

  it('records a token subject of 255 characters whole, and lets that subject alone change the segment', async () => {
    const long = `https://idp.c360.test/users/${'u'.repeat(255 - 28)}`;
    expect(long).toHaveLength(255);
    const created = await send(CREATE, { input: { name: 'long_subject', filter: { subscribed: true } } }, await tokenUser(long));
    expect(created.body).toEqual({ data: { createSegment: { name: 'long_subject', createdBy: long } } });
    const other = await send(UPDATE, { name: 'long_subject', patch: { description: 'x' } }, await tokenUser(`${long.slice(0, 254)}v`));
    expect(other.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const own = await send(UPDATE, { name: 'long_subject', patch: { description: 'still mine' } }, await tokenUser(long));
    expect(own.body.errors).toBeUndefined();
    expect(await stored('long_subject')).toMatchObject({ created_by: long, created_by_kind: 'jwt', updated_by: long, updated_by_kind: 'jwt', description: 'still mine' });
  });

  it('refuses a token whose subject is over 255 characters (OpenID Connect’s bound) before any work: 401', async () => {
    const { status, body } = await send(CREATE, { input: { name: 'too_long', filter: { subscribed: true } } }, await tokenUser('u'.repeat(256)));
    expect(status).toBe(401);
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await stored('too_long')).toBeUndefined();
  });

  it('lets its creator change and delete it', async () => {
    await world.query(CREATE, { input: { name: 'owned', filter: { subscribed: true } } }, as('marketing'));
    const update = await world.query(UPDATE, { name: 'owned', patch: { description: 'still mine' } }, as('marketing'));
    expect(update.body.errors).toBeUndefined();
    expect(update.body.data.updateSegment).toMatchObject({ description: 'still mine' });
    const remove = await world.query(DELETE, { name: 'owned' }, as('marketing'));
    expect(remove.body).toEqual({ data: { deleteSegment: true } });
  });

  it('lets a role whose policy says "segments": "any" (admin) change and delete anyone’s', async () => {
    const update = await world.query(UPDATE, { name: 'followers', patch: { description: 'reviewed' } }, as('admin'));
    expect(update.body.errors).toBeUndefined();
    expect(update.body.data.updateSegment).toMatchObject({ description: 'reviewed' });
    expect(await stored('followers')).toMatchObject({ created_by: 'test-marketing', created_by_kind: 'apiKey', updated_by: 'test-admin', updated_by_kind: 'apiKey' });
    const remove = await world.query(DELETE, { name: 'followers' }, as('admin'));
    expect(remove.body.data.deleteSegment).toBe(true);
    expect(await stored('followers')).toBeUndefined();
  });

  it('answers an unknown segment as before: NOT_FOUND to update, false to delete', async () => {
    const update = await world.query(UPDATE, { name: 'nobody_made_this', patch: { description: 'x' } }, as('marketing'));
    expect(update.body.errors[0].extensions.code).toBe('NOT_FOUND');
    const remove = await world.query(DELETE, { name: 'nobody_made_this' }, as('marketing'));
    expect(remove.body.data.deleteSegment).toBe(false);
  });
});

describe('BI segments: a filter uses only fields the writer’s role may select', () => {
  // Marketing may select province but not city, nor tickets.
  it.each([
    [{ city: '上海' }, 'input.filter.city', 'city'],
    [{ not: { city: '上海' } }, 'input.filter.not.city', 'city'],
    [{ or: [{ province: '上海' }, { openTickets: { min: 1 } }] }, 'input.filter.or[1].openTickets', 'tickets'],
  ])('refuses to save %j as selecting the field would be refused', async (filter, field, reads) => {
    const { status, body } = await world.query(CREATE, { input: { name: 'peek', filter } }, as('marketing'));
    expect(status).toBe(400);
    expect(body.errors[0].message).toBe(`Cannot query field "${reads}" on type "Customer".`);
    expect(body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', field });
    expect(await stored('peek')).toBeUndefined();
  });

  it('refuses such a filter in an update of the writer’s own segment, the segment untouched', async () => {
    await world.query(CREATE, { input: { name: 'by_province', filter: { province: '上海' } } }, as('marketing'));
    const before = await stored('by_province');
    const { body } = await world.query(UPDATE, { name: 'by_province', patch: { filter: { and: [{ province: '上海' }, { city: '上海' }] } } }, as('marketing'));
    expect(body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', field: 'patch.filter.and[1].city' });
    expect(await stored('by_province')).toEqual(before);
  });
});
