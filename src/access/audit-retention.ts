/**
 * The audit's retention (config `access.auditRetentionDays`): every unmasked personal read adds a
 * row, so without it the table grows with the traffic for ever (`npm run bench:gateway` wrote
 * about 1,400 rows a second). A pass runs when the gateway starts and then every `everyMs`,
 * deleting the rows older than the retention in chunks, the oldest first, resting between chunks
 * four times as long as the last one took: on SQLite a delete runs on the event loop (500 rows of
 * a 400,000-row table took 23–34 ms, the first, on cold pages, about 240), so a backlog takes at
 * most a fifth of the loop, and millions of rows still go within the hour.
 *
 * Never fatal: a pass that fails (the store unreachable) logs a warning and leaves its rows to the
 * next one. Several replicas may prune the same store; their deletes only overlap.
 */
import type { Logger } from '../observability/logger';
import { safeError } from '../observability/scrub';
import type { AuditLog } from './audit';

const DAY_MS = 86_400_000;

/** A rest between chunks this many times the last chunk's time: a backlog takes at most 1 / (1 + REST_FACTOR) of the event loop. */
const REST_FACTOR = 4;

export interface AuditRetentionOptions {
  /** Rows older than this many days are deleted. */
  days: number;
  log?: Logger;
  /** Between passes (default an hour). */
  everyMs?: number;
  /** Rows a delete statement takes at most (default 500). */
  chunk?: number;
  /** Least pause between chunks (default 50 ms); it is four times the last chunk's time when that is longer. */
  pauseMs?: number;
  now?: () => number;
}

export interface AuditRetention {
  /** One pass: every row past the retention deleted, chunk by chunk; answers how many. */
  runOnce(): Promise<number>;
  /** Stops the schedule and waits for a pass in progress to end after its current chunk. */
  close(): Promise<void>;
}

export function startAuditRetention(auditLog: Pick<AuditLog, 'prune'>, opts: AuditRetentionOptions): AuditRetention {
  const { days, log, everyMs = 3_600_000, chunk = 500, pauseMs = 50, now = Date.now } = opts;
  let closed = false;
  let running: Promise<number> | null = null;
  let pause: { timer: NodeJS.Timeout; done: () => void } | null = null;
  const wait = (ms: number) =>
    new Promise<void>((done) => {
      pause = { timer: setTimeout(done, ms), done };
    }).finally(() => (pause = null));

  const pass = async (): Promise<number> => {
    const before = new Date(now() - days * DAY_MS).toISOString();
    let deleted = 0;
    try {
      for (;;) {
        const started = performance.now();
        const n = await auditLog.prune(before, chunk);
        deleted += n;
        if (n < chunk || closed) break;
        await wait(Math.max(pauseMs, REST_FACTOR * (performance.now() - started)));
        if (closed) break;
      }
    } catch (e) {
      log?.warn({ err: safeError(e), deleted }, 'audit rows past the retention could not all be deleted; the next pass goes on');
      return deleted;
    }
    if (deleted) log?.info({ deleted, before }, 'audit rows past the retention deleted');
    return deleted;
  };
  const runOnce = (): Promise<number> => (running ??= pass().finally(() => (running = null)));

  const timer = setInterval(() => void runOnce(), everyMs);
  timer.unref();
  void runOnce();

  return {
    runOnce,
    async close() {
      closed = true;
      clearInterval(timer);
      if (pause) {
        clearTimeout(pause.timer);
        pause.done();
      }
      await running;
    },
  };
}
