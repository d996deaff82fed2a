/**
 * The server's record of responses not yet finished (src/http/in-flight.ts): what a drain walks,
 * and that a finished response is kept alive by nothing in it, not even by V8's young-generation
 * collections (a Set in the old generation did keep them: each was promoted after its answer).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { createInFlight } from '../../src/http/in-flight';

describe('HTTP in-flight responses', () => {
  it('hold what was added and not yet finished, oldest first, and count it', () => {
    const inFlight = createInFlight<string>();
    const finishA = inFlight.add('a');
    inFlight.add('b');
    const finishC = inFlight.add('c');
    expect([...inFlight]).toEqual(['a', 'b', 'c']);
    expect(inFlight.size).toBe(3);
    finishA();
    finishA();
    finishC();
    expect([...inFlight]).toEqual(['b']);
    expect(inFlight.size).toBe(1);
    inFlight.add('d');
    expect([...inFlight]).toEqual(['b', 'd']);
  });

  it('let a drain finish responses while it walks them, and still visit every one', () => {
    const inFlight = createInFlight<number>();
    const finish = new Map([1, 2, 3, 4].map((n) => [n, inFlight.add(n)]));
    const seen: number[] = [];
    for (const n of inFlight) {
      seen.push(n);
      // The one being visited and the next one both finish during the walk.
      finish.get(n)!();
      finish.get(n + 1)?.();
    }
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(inFlight.size).toBe(0);
    expect([...inFlight]).toEqual([]);
  });

  it('promote no finished response to the old generation, however many came and went', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;
    const oldSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
    const inFlight = createInFlight<{ payload: object[] }>();
    // The server's record lives for the process: in the old generation, as there.
    gc();
    gc();
    const before = oldSpaceUsed();
    // 2,000 responses of ~10 KB each, 8 in flight at a time, young-generation collections in between.
    const open: Array<() => void> = [];
    for (let i = 0; i < 2000; i++) {
      open.push(inFlight.add({ payload: Array.from({ length: 200 }, (_, j) => ({ j })) }));
      if (open.length > 8) open.shift()!();
      if (i % 50 === 49) gc({ type: 'minor' });
    }
    while (open.length) open.shift()!();
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    // A Set kept ~3–15 MiB of them here (its old tables, replaced as entries came and went, held the
    // responses in flight at each replacement); in flight at any collection are 8, ~80 KB.
    expect(oldSpaceUsed() - before).toBeLessThan(2 ** 20);
  });
});
