/**
 * The worker thread of `prepare-thread.ts`: prepares each page of records it is sent
 * (`prepare.ts`) and answers the list, in the page's order.
 */
import { parentPort } from 'node:worker_threads';
import type { CountryCode } from 'libphonenumber-js/max';
import type { ScannedRecord } from '../vocabulary';
import { prepareRecord } from './prepare';

export interface PrepareRequest {
  id: number;
  /** Each record's source's phone region, by source. */
  regions: Record<string, CountryCode>;
  records: readonly ScannedRecord[];
}

parentPort?.on('message', ({ id, regions, records }: PrepareRequest) => {
  parentPort!.postMessage({ id, prepared: records.map((r) => prepareRecord(r, regions[r.source])) });
});
