/**
 * The worker thread of `count-thread.ts`: counts u on the sample it is sent first
 * (`store-count.ts`), then, sent the sampled records' customers, the prior, and answers both, or
 * the error's message.
 */
import { parentPort } from 'node:worker_threads';
import { countChance, countPrior, type CountedLevel, type CountInput } from './store-count';

export type CountRequest = { chance: Omit<CountInput, 'customers' | 'maxBlock'> } | { prior: Pick<CountInput, 'customers' | 'maxBlock'> };

let chance: Omit<CountInput, 'customers' | 'maxBlock'> | null = null;
let levels: CountedLevel[] | null = null;
let failed: string | null = null;

parentPort?.on('message', (request: CountRequest) => {
  try {
    if ('chance' in request) {
      chance = request.chance;
      levels = countChance(chance);
      return;
    }
    if (failed || !chance || !levels) throw new Error(failed ?? 'the prior was asked before u was counted');
    parentPort!.postMessage({ result: { levels, prior: countPrior({ ...chance, ...request.prior }, levels) } });
  } catch (e) {
    failed = e instanceof Error ? e.message : String(e);
    if ('prior' in request) parentPort!.postMessage({ error: failed });
  }
});
