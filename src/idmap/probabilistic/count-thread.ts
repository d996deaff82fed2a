/**
 * Counting u and the prior (`store-count.ts`) on a worker thread. It is seconds of CPU (6.5-9.3 s
 * on 10,047 records, 18-19 s on 50,578, about 9 s even on a store of a thousand: the random pairs
 * drawn do not shrink with it), and on the calling thread nothing else ran meanwhile: a MariaDB
 * connection being opened then was closed by the server, whose `connect_timeout` (10 s) ran out
 * before the client could answer its greeting.
 *
 * u needs no customer, so a full resolution starts counting it before the rules link (`start`),
 * on the core the link phase leaves idle, and sends the sampled records' customers once they are
 * linked (`finish`) for the prior. A worker that fails to start or dies counts on the calling
 * thread instead, as before: the result is the same either way.
 */
import type { Worker } from 'node:worker_threads';
import { countOnSample, type CountInput, type CountResult } from './store-count';
import type { CountRequest } from './count-worker';
import { moduleFile, startModuleWorker } from '../worker-boot';

const WORKER_FILE = moduleFile(__dirname, 'count-worker', __filename);

export interface Counting {
  /** The count with the prior on these customers of the sampled records. */
  finish(customers: CountInput['customers']): Promise<CountResult>;
  /** Stops the worker (a run that failed before it finished); nothing after `finish`. */
  cancel(): void;
}

/** Starts counting u on `input`'s sample at once. */
export function startCount(input: Omit<CountInput, 'customers'>): Counting {
  const { maxBlock, ...chance } = input;
  let worker: Worker | null = null;
  let answer: Promise<CountResult> | null = null;
  try {
    worker = startModuleWorker(WORKER_FILE);
    const w = worker;
    answer = new Promise<CountResult>((resolve, reject) => {
      w.once('message', (reply: { result?: CountResult; error?: string }) => (reply.result ? resolve(reply.result) : reject(new Error(reply.error))));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`the counting worker exited (${code})`)));
    });
    answer.catch(() => undefined); // awaited by `finish`, or never when the run is cancelled
    w.postMessage({ chance } satisfies CountRequest);
  } catch {
    worker = null;
  }
  const stop = () => {
    void worker?.terminate();
    worker = null;
  };
  return {
    async finish(customers) {
      try {
        if (!worker || !answer) throw new Error('no counting worker');
        worker.postMessage({ prior: { customers, maxBlock } } satisfies CountRequest);
        return await answer;
      } catch {
        // Out of memory, a module that would not load, a bug: counted here, which throws that bug if it is one.
        return countOnSample({ ...input, customers });
      } finally {
        stop();
      }
    },
    cancel: stop,
  };
}

/** The whole count on a worker thread. */
export function countOffThread(input: CountInput): Promise<CountResult> {
  return startCount(input).finish(input.customers);
}
