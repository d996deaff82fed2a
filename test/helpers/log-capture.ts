/** A gateway logger whose lines a test can read: every JSON line it writes, in order. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger';

export interface CapturedLog {
  /** Pass to startTestWorld({ log }). */
  log: ReturnType<typeof createLogger>;
  /** Every line written so far (clear with `lines.length = 0`). */
  lines: string[];
}

export function captureLog(level: Parameters<typeof createLogger>[0]): CapturedLog {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { log: createLogger(level, sink), lines };
}
