/**
 * The worker thread of `count-thread.ts`: counts u and the prior on the sample it is sent
 * (`store-count.ts`) and answers the result, or the error's message.
 */
import { parentPort } from 'node:worker_threads';
import { countOnSample, type CountInput } from './store-count';

parentPort?.once('message', (input: CountInput) => {
  try {
    parentPort!.postMessage({ result: countOnSample(input) });
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
