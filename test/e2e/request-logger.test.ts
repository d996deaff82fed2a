/**
 * The request context's logger (src/context.ts): what is logged through it carries the request's
 * id, and it is made only when something logs through it. A request that logs nothing of its own
 * (nearly every one: its request line is written without it) makes no child logger, which with
 * its redaction paths was ~2.5 KiB of garbage per request (bench/HISTORY.md, session 37).
 */
import { readTruth, startTestWorld, type TestWorld } from '../helpers/world';
import { createContext } from '../../src/context';
import { createLogger } from '../../src/observability/logger';

const lines: Array<Record<string, unknown>> = [];
let world: TestWorld;
/** The child loggers made from the gateway's logger since the last reset. */
let children = 0;
/** A customer of the world, whose unmasked read the audit records. */
let customerId: string;

beforeAll(async () => {
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  world = await startTestWorld({ people: 60, seed: 7, demoSystems: false, log });
  // Counted on the logger every request's context is made from.
  const base = world.gw.requestDeps.log;
  const child = base.child.bind(base);
  base.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof base.child;
  const [first] = readTruth(world.truthFile).values();
  [customerId] = (await world.gw.idmap.customerIdsBySourceRecords([{ source: first[0].source, recordId: first[0].recordId }])) as string[];
});

afterAll(async () => world?.close());

describe('Request context: its logger', () => {
  it('makes no child logger for a request that logs nothing through it, and still writes its request line', async () => {
    children = 0;
    lines.length = 0;
    const typename = await world.query('{ __typename }', {}, { 'x-request-id': 'quiet-request' });
    expect(typename.body).toEqual({ data: { __typename: 'Query' } });
    // A customer read unmasked, with its audit row committed before the answer.
    const read = await world.query('query($id: ID!) { customer(id: $id) { id phone name } }', { id: customerId }, { 'x-request-id': 'audited-request' });
    expect(read.status).toBe(200);
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data.customer.id).toBe(customerId);
    expect((await world.gw.access.auditLog.query({ customerId })).map((e) => e.requestId)).toContain('audited-request');
    expect(children).toBe(0);
    expect(lines.filter((l) => l.msg === 'graphql request').map((l) => [l.requestId, l.outcome])).toEqual([
      ['quiet-request', 'ok'],
      ['audited-request', 'ok'],
    ]);
  });

  it('makes it on first use, once, and its lines carry the request id', () => {
    children = 0;
    lines.length = 0;
    const ctx = createContext(world.gw.requestDeps, 'req-42', { role: 'admin', principal: 'test' });
    expect(children).toBe(0);
    ctx.log.warn('first');
    ctx.log.warn('second');
    expect(children).toBe(1);
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ['first', 'req-42'],
      ['second', 'req-42'],
    ]);
  });
});
