/**
 * Counting u and the prior (`store-count.ts`) on a worker thread. It is seconds of CPU (6.5-9.3 s
 * on 10,047 records, 18-19 s on 50,578, about 9 s even on a store of a thousand: the random pairs
 * drawn do not shrink with it), and on the calling thread nothing else ran meanwhile: a MariaDB
 * connection being opened then was closed by the server, whose `connect_timeout` (10 s) ran out
 * before the client could answer its greeting. A worker that fails to start or dies counts on
 * this thread instead, as before: the result is the same either way.
 */
import { countOnSample, type CountInput, type CountResult } from './store-count';
import { moduleFile, startModuleWorker } from '../worker-boot';

const WORKER_FILE = moduleFile(__dirname, 'count-worker', __filename);

export async function countOffThread(input: CountInput): Promise<CountResult> {
  let worker: ReturnType<typeof startModuleWorker>;
  try {
    worker = startModuleWorker(WORKER_FILE);
  } catch {
    return countOnSample(input);
  }
  try {
    return await new Promise<CountResult>((resolve, reject) => {
      worker.once('message', (reply: { result?: CountResult; error?: string }) => (reply.result ? resolve(reply.result) : reject(new Error(reply.error))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the counting worker exited (${code})`)));
      worker.postMessage(input);
    });
  } catch {
    // Out of memory, a module that would not load, a bug: counted here, which throws that bug if it is one.
    return countOnSample(input);
  } finally {
    void worker.terminate();
  }
}
