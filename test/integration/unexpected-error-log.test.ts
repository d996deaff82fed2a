/**
 * An unexpected error (a resolver's bug, not a coded refusal) reaches the client masked as
 * INTERNAL_SERVER_ERROR and the operator as one log line that carries the request's id, so that
 * the request line beside it (role, operation, time) can be found. Apollo Server as the gateway
 * makes it (src/graphql.ts createApollo), over a schema whose one field fails.
 */
import assert from 'node:assert';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { ApolloServer } from '@apollo/server';
import { createApollo } from '../../src/graphql';
import { createMetrics } from '../../src/observability/metrics';
import type { Context } from '../../src/context';
import { captureLog } from '../helpers/log-capture';

const { log, lines } = captureLog('info');

const schema = makeExecutableSchema({
  typeDefs: 'type Query { broken: String, fine: String }',
  resolvers: {
    Query: {
      broken: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'amount')");
      },
      fine: () => 'ok',
    },
  },
});

let apollo: ApolloServer<Context>;

beforeAll(async () => {
  apollo = await createApollo(schema, { metrics: createMetrics(), log });
});

afterAll(async () => apollo?.stop());

const contextFor = (requestId: string) => ({ requestId, log, viewer: { role: 'admin', principal: 'ops', principalKind: 'key', teams: [] } }) as unknown as Context;

it('logs a resolver’s failure once, with the request id, and answers the client without its message', async () => {
  const res = await apollo.executeOperation({ query: 'query Report { fine broken }' }, { contextValue: contextFor('req-unexpected-1') });
  assert(res.body.kind === 'single');
  expect(res.body.singleResult.data).toEqual({ fine: 'ok', broken: null });
  expect(res.body.singleResult.errors).toEqual([
    { message: 'Unexpected error', path: ['broken'], locations: [{ line: 1, column: 21 }], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
  ]);

  const unexpected = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'unexpected error');
  expect(unexpected).toHaveLength(1);
  expect(unexpected[0]).toMatchObject({ level: 50, requestId: 'req-unexpected-1', path: ['broken'], err: { name: 'TypeError' } });
  // The request line of the same request names it too: the two can be joined.
  expect(lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'graphql request')).toMatchObject({
    requestId: 'req-unexpected-1',
    outcome: 'partial',
    errorCodes: ['INTERNAL_SERVER_ERROR'],
  });
});
