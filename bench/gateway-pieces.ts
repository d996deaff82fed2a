/**
 * What the request path's small per-call pieces cost, each timed alone (CPU from `process.cpuUsage`,
 * median of alternating rounds): the suspects a V8 `--cpu-prof` of a loaded machine inflates, read
 * without it (bench/HISTORY.md, "Per field and per source call (session 15, engineer H51)").
 *
 *   NODE_ENV=production node --import tsx bench/gateway-pieces.ts
 *
 * - the gateway's composed source observer (metrics, the request's account, tracing off) per
 *   call, against a bare call: 8 calls in flight, each answering a resolved promise;
 * - the trace headers every HTTP source call asks for (`outgoingHeaders`), tracing off;
 * - a request's child logger (what `createContext` makes for `ctx.log`);
 * - a request's loaders used as the admin 360 uses them: six batch loaders, eighteen loads, each
 *   capability method called three times, every batch answered at once (no source behind it).
 */
import fs from 'node:fs';
import { composeObservers, type SourceObserver } from '../src/sources/observe';
import { createMetrics } from '../src/observability/metrics';
import { requestSourceObserver } from '../src/observability/request-sources';
import { createTracing } from '../src/observability/tracing';
import { outgoingHeaders } from '../src/sources/outgoing';
import { createLogger } from '../src/observability/logger';
import { createLoaders, type LoaderDeps } from '../src/loaders';
import type { SourceAccount } from '../src/vocabulary';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** ns per unit of `run(n)`, median of `rounds` rounds after two warm-up rounds. */
async function time(run: (n: number) => unknown, n: number, rounds = 16): Promise<number> {
  const out: number[] = [];
  for (let r = 0; r < rounds + 2; r++) {
    const before = process.cpuUsage();
    await run(n);
    const used = process.cpuUsage(before);
    if (r >= 2) out.push(((used.user + used.system) / n) * 1000);
  }
  return median(out);
}

async function observerCalls(observer: SourceObserver, n: number) {
  const account: SourceAccount = new Map();
  const value = [1, 2, 3];
  const run = () => Promise.resolve(value);
  for (let i = 0; i < n; i += 8) {
    const calls: Promise<unknown>[] = [];
    for (let k = 0; k < 8; k++) calls.push(observer.call({ source: k & 1 ? 'crm' : 'orders', operation: 'contactsByIds', batchSize: 1, account }, run));
    await Promise.all(calls);
  }
}

async function main() {
  const tracing = createTracing({ serviceName: 'c360-bench' }, {});
  const composed = composeObservers(createMetrics().sourceObserver, requestSourceObserver, tracing.sourceObserver);
  const bare: SourceObserver = { call: (_c, run) => run() };
  const withObservers = await time((n) => observerCalls(composed, n), 100_000);
  const without = await time((n) => observerCalls(bare, n), 100_000);
  process.stdout.write(
    `composed source observer: ${withObservers.toFixed(0)} ns a call, a bare call ${without.toFixed(0)} ns: ${(withObservers - without).toFixed(0)} ns of observers\n`,
  );

  const headers = await time((n) => {
    let k = 0;
    for (let i = 0; i < n; i++) k += Object.keys({ accept: 'application/json', ...outgoingHeaders() }).length;
    return k;
  }, 300_000);
  process.stdout.write(`outgoingHeaders() spread into a call's headers, tracing off: ${headers.toFixed(0)} ns a call\n`);

  const log = createLogger('info', fs.createWriteStream('/dev/null'));
  const child = await time((n) => {
    let last: unknown;
    for (let i = 0; i < n; i++) last = log.child({ requestId: `bench-${i}` });
    return last;
  }, 200_000);
  process.stdout.write(`a request's child logger (log.child({ requestId })): ${child.toFixed(0)} ns\n`);

  const answer = async (ids: readonly string[]) => ids.map(() => []);
  const commerce = {
    ordersByRecordIds: answer,
    orderSummariesByRecordIds: async (ids: readonly string[]) => ids.map(() => null),
    linesByOrderIds: answer,
    refundsByOrderIds: answer,
  };
  const deps = {
    idmap: { customersByIds: async (ids: readonly string[]) => ids.map((id) => ({ id })) },
    registry: { get: () => ({ capabilities: { commerce, service: { ticketsByRecordIds: answer } } }), providing: () => [] },
  } as unknown as LoaderDeps;
  const request = async () => {
    const l = createLoaders(deps);
    const query = { since: null, limit: 5 };
    const loads: Promise<unknown>[] = [];
    for (let k = 0; k < 3; k++) {
      loads.push(
        l.orderSummaries('orders').load(`a${k}`),
        l.orders('orders', query).load(`a${k}`),
        l.tickets('support').load(`t${k}`),
        l.orderLines('orders').load(`o${k}`),
        l.refunds('orders').load(`o${k}`),
        l.customer.load(`c${k}`),
      );
    }
    await Promise.all(loads);
  };
  const loaders = await time(async (n) => {
    for (let i = 0; i < n; i += 8) await Promise.all([request(), request(), request(), request(), request(), request(), request(), request()]);
  }, 20_000);
  process.stdout.write(`a request's loaders, six batch loaders and eighteen loads: ${(loaders / 1000).toFixed(2)} µs a request\n`);
  await tracing.shutdown();
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`gateway-pieces: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
