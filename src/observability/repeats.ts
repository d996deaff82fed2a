/**
 * Repeated identical errors are logged once per interval, with a count: an outage that fails
 * every request must not flood the log (one stopped database once wrote 6,438 stack traces in
 * 30 s). The first occurrence of a kind of error is logged at once; later identical ones within
 * the interval are counted and reported with the next occurrence after it ends.
 */
export interface RepeatFilter {
  /** Whether to log this occurrence now, and how many identical ones were held back since the last logged one. */
  admit(key: string): { log: boolean; suppressed: number };
}

export function createRepeatFilter(intervalMs = 10_000, clock: () => number = Date.now, maxKeys = 1000): RepeatFilter {
  const seen = new Map<string, { loggedAt: number; suppressed: number }>();
  return {
    admit(key) {
      const now = clock();
      const entry = seen.get(key);
      if (entry && now - entry.loggedAt < intervalMs) {
        entry.suppressed++;
        return { log: false, suppressed: entry.suppressed };
      }
      const suppressed = entry?.suppressed ?? 0;
      // Bounded: the keys are error kinds, few in practice; a flood of distinct ones forgets the oldest.
      if (!entry && seen.size >= maxKeys) seen.delete(seen.keys().next().value as string);
      seen.set(key, { loggedAt: now, suppressed: 0 });
      return { log: true, suppressed };
    },
  };
}
