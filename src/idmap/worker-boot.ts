/**
 * Worker threads on modules of this code base: a worker loads its module by file, `.js` when
 * built and `.ts` under tsx or jest, where tsx's loader is registered in the worker first (no
 * loader comes with the thread's flags under jest).
 */
import path from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';

const BOOT = `
const file = require('node:worker_threads').workerData;
if (file.endsWith('.ts') && !require.extensions['.ts']) require('tsx/cjs');
require(file);
`;

/** The module `name` in `dir`, with the extension this code runs as (`module` is the caller's `__filename`). */
export function moduleFile(dir: string, name: string, module: string): string {
  return path.join(dir, `${name}${path.extname(module)}`);
}

/**
 * Starts a worker on `file`, unreferenced. A 'message' listener on it refs it again (Node refs the
 * worker's port while anyone listens), so a caller listening for answers keeps the process alive
 * until it stops the worker: the waits for an answer rely on that (nothing else may hold the loop),
 * and a caller that forgets to stop its worker holds the process (`worker.once('exit')` tells).
 */
export function startModuleWorker(file: string, resourceLimits?: ResourceLimits): Worker {
  const worker = new Worker(BOOT, { eval: true, workerData: file, resourceLimits });
  worker.unref();
  return worker;
}
