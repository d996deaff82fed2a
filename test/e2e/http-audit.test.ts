/**
 * GraphQL over HTTP: graphql-http's audits of the spec (MUST, SHOULD and MAY) against the real
 * server, as a client with a key. Every audit is ok: none fails and none merely warns.
 */
import { serverAudits } from 'graphql-http';
import { startTestWorld, apiKeyFor, type TestWorld } from '../helpers/world';

let world: TestWorld;

beforeAll(async () => {
  world = await startTestWorld({ people: 40, seed: 3, demoSystems: false });
});

afterAll(async () => world?.close());

describe('GraphQL over HTTP: the graphql-http audits', () => {
  it('passes every audit', async () => {
    const withKey: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('x-api-key', apiKeyFor('admin'));
      return fetch(input, { ...init, headers });
    };
    const results = [];
    for (const audit of serverAudits({ url: `${world.url}/graphql`, fetchFn: withKey })) {
      const result = await audit.fn();
      results.push({ id: audit.id, name: audit.name, status: result.status, reason: 'reason' in result ? result.reason : undefined });
    }
    expect(results.length).toBeGreaterThan(50);
    expect(results.filter((r) => r.status !== 'ok')).toEqual([]);
  });

  it('keeps 4xx for clients that accept anything, and for a request that is not well-formed', async () => {
    const post = (body: string, accept: string) =>
      fetch(`${world.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept, 'x-api-key': apiKeyFor('admin') }, body });
    expect((await post(JSON.stringify({ query: '{ nope }' }), '*/*')).status).toBe(400);
    expect((await post(JSON.stringify({ query: '{ nope }' }), 'application/graphql-response+json')).status).toBe(400);
    expect((await post(JSON.stringify({ query: '{ nope }' }), 'application/json')).status).toBe(200);
    expect((await post(JSON.stringify({ variables: {} }), 'application/json')).status).toBe(400);
  });
});
