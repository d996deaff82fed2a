/**
 * WAL checkpoints off the event loop. A SQLite connection in WAL mode checkpoints when one of its
 * commits finds `wal_autocheckpoint` frames in the WAL: it copies them into the database and
 * fsyncs both files, synchronously, on the committing thread. In the gateway that thread serves
 * every request and the access audit commits on it: under load each checkpoint stalled it
 * 80–140 ms (strace of `bench/gateway-work.ts --http`: about four in 10,000 requests).
 *
 * A worker thread with a connection of its own runs a PASSIVE checkpoint every `everyMs` (it
 * never waits for a lock nor holds up a writer). Copying is not enough: the WAL only starts over
 * from its beginning when a writer begins after a complete checkpoint, and a busy gateway always
 * commits something in between, so its WAL would still fill up to the autocheckpoint. When the
 * worker finds its checkpoint complete it therefore writes itself (the header's user_version,
 * unchanged), which starts the WAL over. The gateway's commits then never reach their
 * autocheckpoint, which stays as the backstop should the worker stop.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface Checkpointer {
  /** A last checkpoint, then the worker's connection closed. */
  close(): Promise<void>;
}

export const DEFAULT_CHECKPOINT_EVERY_MS = 1000;

// CommonJS run by the worker (`eval`): it needs nothing of ours but the driver's path.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
// Waiting for the write lock is fine here (this is not the event loop), but only briefly.
db.pragma('busy_timeout = 100');
let failed = false;
const version = db.prepare('PRAGMA user_version');
const checkpoint = () => {
  try {
    const [status] = db.pragma('wal_checkpoint(PASSIVE)');
    // Caught up: a write now (the header's own user_version, unchanged) starts the WAL over from
    // its beginning, which only a writer does; the connections' commits then never reach their
    // autocheckpoint. Not caught up (a commit came in between): the next second tries again.
    if (status.busy === 0 && status.log > 0 && status.checkpointed === status.log) db.pragma('user_version = ' + version.pluck().get());
    failed = false;
  } catch (e) {
    const code = String((e && e.code) || 'SQLITE_ERROR');
    // Another writer holding the lock (a resolution's batch) is no failure: the next second tries again.
    if (code.startsWith('SQLITE_BUSY')) return;
    // Said once per run of failures, not every second.
    if (!failed) parentPort.postMessage({ error: code });
    failed = true;
  }
};
// Holds, counted by the main thread (holdCheckpoints) in shared memory: seen at once, no message to wait for.
const held = new Int32Array(workerData.held);
const timer = setInterval(() => Atomics.load(held, 0) > 0 || checkpoint(), workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints the WAL of the SQLite file `filename` from a worker thread. `onError` hears the
 * SQLite error code of a failed checkpoint (never a path or a value): the WAL then grows until
 * the connections' own `wal_autocheckpoint` checkpoints it as before.
 */
export function startCheckpointer(filename: string, opts: { everyMs?: number; onError?: (code: string) => void } = {}): Checkpointer {
  const held = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { filename, everyMs: opts.everyMs ?? DEFAULT_CHECKPOINT_EVERY_MS, driver: require.resolve('better-sqlite3'), held: held.buffer },
  });
  worker.unref();
  const key = path.resolve(filename);
  running.set(key, [...(running.get(key) ?? []), held]);
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      running.set(
        key,
        (running.get(key) ?? []).filter((h) => h !== held),
      );
      resolve();
    }),
  );
  worker.on('message', (m: { error?: string }) => {
    if (m?.error) opts.onError?.(m.error);
  });
  worker.on('error', (e) => opts.onError?.((e as { code?: string }).code ?? 'WORKER_ERROR'));
  let closing: Promise<void> | null = null;
  return {
    close() {
      closing ??= (async () => {
        worker.postMessage('close');
        // A worker that never answers (it could not open the file) is stopped.
        const timer = setTimeout(() => void worker.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

/** The hold counters of the checkpointers running in this process, by the file they checkpoint. */
const running = new Map<string, Int32Array[]>();

/**
 * Holds off this process's checkpointers of `filename` until the returned release is called: a
 * resolution writes the file in long batches and checkpoints it rarely on purpose (each page
 * copied once however many batches rewrote it, src/idmap/resolve.ts), which a checkpoint every
 * second would undo. Nothing to hold when no checkpointer runs here.
 */
export function holdCheckpoints(filename: string): () => void {
  const counters = running.get(path.resolve(filename)) ?? [];
  for (const c of counters) Atomics.add(c, 0, 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const c of counters) Atomics.sub(c, 0, 1);
  };
}
