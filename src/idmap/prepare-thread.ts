/**
 * Staging's pure work on another core: a full scan sends each page to a worker thread as soon
 * as the source answers it, and the worker prepares its records (`prepare.ts`: phones parsed,
 * names romanized, keys hashed) while this thread writes the page before. What comes back is
 * remembered for the stage, which prepares anything else itself, the same way: a worker that
 * failed, or was never started, changes nothing but the time.
 *
 * The worker is started for the first page of at least MIN_WORKER_PAGE records (a run of a few
 * records is not worth its start) and stopped by `close` (`worker-boot.ts` starts it).
 */
import type { Worker } from 'node:worker_threads';
import type { ScannedRecord } from '../vocabulary';
import { rememberPrepared, type PreparedRecord } from './prepare';
import type { PrepareRequest } from './prepare-worker';
import type { IdentityRules } from './rules';
import { moduleFile, startModuleWorker } from './worker-boot';

export interface Preparer {
  /**
   * Prepares `records` for the stage; answers how many the worker prepared (all or none) when
   * it is done. Never rejects: the stage prepares what the worker did not.
   */
  prepare(records: readonly ScannedRecord[], rules: IdentityRules): Promise<number>;
  close(): Promise<void>;
}

/** Smaller pages are prepared by the stage itself. */
export const MIN_WORKER_PAGE = 200;

const WORKER_FILE = moduleFile(__dirname, 'prepare-worker', __filename);

/**
 * The worker's heap, bounded: it holds a page or two and the name and phone caches, and with
 * V8's defaults a 236,816-record scan's peak RSS went from 571 to 926 MiB (measured with the CPU
 * profiler on). A worker over it stops, and the stage prepares the rest itself.
 */
const WORKER_HEAP = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 };

export function startPreparer(): Preparer {
  let worker: Worker | null = null;
  let failed = false;
  let nextId = 0;
  const waiting = new Map<number, { records: readonly ScannedRecord[]; done: (prepared: number) => void }>();
  const giveUp = () => {
    failed = true;
    for (const w of waiting.values()) w.done(0);
    waiting.clear();
  };
  const start = () => {
    const w = startModuleWorker(WORKER_FILE, WORKER_HEAP);
    w.on('message', ({ id, prepared }: { id: number; prepared: PreparedRecord[] }) => {
      const job = waiting.get(id);
      if (!job) return;
      waiting.delete(id);
      rememberPrepared(job.records, prepared);
      job.done(prepared.length);
    });
    w.on('error', giveUp);
    w.on('exit', giveUp);
    return w;
  };
  return {
    prepare(records, rules) {
      if (failed || records.length < MIN_WORKER_PAGE) return Promise.resolve(0);
      worker ??= start();
      const regions: PrepareRequest['regions'] = {};
      for (const r of records) regions[r.source] ??= rules.regionOf(r.source);
      const id = nextId++;
      return new Promise<number>((done) => {
        waiting.set(id, { records, done });
        try {
          worker!.postMessage({ id, regions, records } satisfies PrepareRequest);
        } catch {
          // A record that cannot be copied to another thread: the stage prepares this page itself.
          waiting.delete(id);
          done(0);
        }
      });
    },
    async close() {
      const w = worker;
      worker = null;
      failed = true;
      if (w) await w.terminate();
      giveUp();
    },
  };
}
