/**
 * The connector boundary's observers composed into one: what each is told of a call, and in which
 * order; the call's answer or error passes through unchanged.
 */
import { composeObservers, CallRecorder, type CallObserver, type SourceCall } from '../../src/sources/observe';
import { SourceError } from '../../src/errors';
import type { SourceName } from '../../src/vocabulary';

const CALL: SourceCall = { source: 'crm' as SourceName, operation: 'contactsByIds', batchSize: 3 };

/** An observer that writes what it is told, named, into `log`. */
function told(name: string, log: string[], seconds: number[] = []): CallObserver {
  return {
    began: (c) => void log.push(`${name} began ${c.operation}`),
    answered: (c, s) => {
      seconds.push(s);
      log.push(`${name} answered ${c.operation}`);
    },
    failed: (c, s, e) => {
      seconds.push(s);
      log.push(`${name} failed ${c.operation}: ${(e as Error).message}`);
    },
    retried: (source, reason) => void log.push(`${name} retried ${source} ${reason}`),
  };
}

describe('Source observers: composed', () => {
  it('tells each observer once that a call began and once how it ended, in the order given, with one duration for all', async () => {
    const log: string[] = [];
    const seconds: number[] = [];
    const observer = composeObservers(told('metrics', log, seconds), told('account', log, seconds));
    const answer = await observer.call(CALL, async () => {
      log.push('run');
      await new Promise((r) => setTimeout(r, 20));
      return ['a', 'b', 'c'];
    });
    expect(answer).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['metrics began contactsByIds', 'account began contactsByIds', 'run', 'metrics answered contactsByIds', 'account answered contactsByIds']);
    expect(seconds[0]).toBe(seconds[1]);
    expect(seconds[0]).toBeGreaterThan(0.01);
  });

  it('rethrows what the call fails with, after telling each observer that error', async () => {
    const log: string[] = [];
    const observer = composeObservers(told('metrics', log), told('account', log));
    const error = new SourceError('crm' as SourceName, 'SOURCE_TIMEOUT', 'crm did not answer');
    await expect(observer.call(CALL, () => Promise.reject(error))).rejects.toBe(error);
    expect(log.slice(2)).toEqual(['metrics failed contactsByIds: crm did not answer', 'account failed contactsByIds: crm did not answer']);
  });

  it('runs the call inside each wrapping observer, the first outermost, and times it around them', async () => {
    const log: string[] = [];
    const around = (name: string): CallObserver => ({
      around: async (c, run) => {
        log.push(`${name} in`);
        try {
          return await run();
        } finally {
          log.push(`${name} out`);
        }
      },
    });
    const observer = composeObservers(told('metrics', log), around('tracing'), around('test'));
    expect(await observer.call(CALL, async () => (log.push('run'), 7))).toBe(7);
    expect(log).toEqual(['metrics began contactsByIds', 'tracing in', 'test in', 'run', 'test out', 'tracing out', 'metrics answered contactsByIds']);
  });

  it('tells every observer that listens of a retried attempt, and a recorder keeps them until reset', () => {
    const log: string[] = [];
    const recorder = new CallRecorder();
    const observer = composeObservers(told('metrics', log), { answered: () => undefined }, recorder);
    observer.retried?.('scrm' as SourceName, 'http_503');
    expect(log).toEqual(['metrics retried scrm http_503']);
    expect([recorder.retries, recorder.retryReasons]).toEqual([['scrm'], ['http_503']]);
    recorder.reset();
    expect([recorder.retries, recorder.retryReasons]).toEqual([[], []]);
  });

  it('records a call as it begins, before it answers', async () => {
    const recorder = new CallRecorder();
    const observer = composeObservers(recorder);
    let release!: () => void;
    const call = observer.call(CALL, () => new Promise<void>((r) => (release = r)));
    expect(recorder.of('crm' as SourceName, 'contactsByIds')).toEqual([{ source: 'crm', operation: 'contactsByIds', batchSize: 3 }]);
    release();
    await call;
  });
});
