/** Logs: repeated identical errors are logged once per interval, with a count of the rest. */
import { createRepeatFilter } from '../../src/observability/repeats';

describe('Logs: repeated errors', () => {
  it('logs the first occurrence, holds back identical ones within the interval, and reports their count with the next', () => {
    let now = 0;
    const f = createRepeatFilter(10_000, () => now);
    expect(f.admit('db down')).toEqual({ log: true, suppressed: 0 });
    for (let i = 0; i < 500; i++) {
      now += 10;
      expect(f.admit('db down').log).toBe(false);
    }
    expect(f.admit('other error')).toEqual({ log: true, suppressed: 0 });
    now = 10_000;
    expect(f.admit('db down')).toEqual({ log: true, suppressed: 500 });
    expect(f.admit('db down')).toEqual({ log: false, suppressed: 1 });
  });

  it('keeps a bounded number of kinds, forgetting the oldest', () => {
    let now = 0;
    const f = createRepeatFilter(10_000, () => now, 2);
    f.admit('a');
    f.admit('b');
    f.admit('c'); // forgets "a"
    now += 1;
    expect(f.admit('a').log).toBe(true);
    expect(f.admit('c').log).toBe(false);
  });
});
