/**
 * Progress of a long resolution run, for the operator watching the logs: per phase (scanning
 * a source, linking by the rules, the probabilistic tier), records done, the rate, and when
 * the phase's total is known, the estimated time left. At most one line every `everyMs`
 * (10 s by default), counts and names of phases only: never a value from a record.
 */

/** The subset of a pino logger progress needs. */
export interface ProgressLog {
  info(obj: object, msg: string): void;
}

export interface Progress {
  /** A phase starts; `total` records when known. */
  phase(name: string, total: number | null): void;
  /** Records done so far in the phase; logs when the interval has passed. */
  tick(done: number): void;
  /** The phase ended: logs its summary if it ran for longer than one interval. */
  done(): void;
}

export const PROGRESS_EVERY_MS = 10_000;

export function createProgress(log: ProgressLog | undefined, everyMs = PROGRESS_EVERY_MS, now: () => number = Date.now): Progress | undefined {
  if (!log) return undefined;
  let name = '';
  let total: number | null = null;
  let started = 0;
  let last = 0;
  let count = 0;
  const line = (final: boolean) => {
    const secs = Math.max((now() - started) / 1000, 1e-3);
    const rate = count / secs;
    const eta = !final && total != null && rate > 0 ? Math.max(0, Math.round((total - count) / rate)) : null;
    log.info(
      { phase: name, records: count, total, ratePerSecond: Math.round(rate), elapsedSeconds: Math.round(secs), etaSeconds: eta },
      final ? `resolution: ${name} done` : `resolution: ${name} in progress`,
    );
  };
  return {
    phase(n, t) {
      name = n;
      total = t;
      started = last = now();
      count = 0;
    },
    tick(done) {
      count = done;
      if (now() - last >= everyMs) {
        last = now();
        line(false);
      }
    },
    done() {
      if (now() - started >= everyMs) line(true);
    },
  };
}
