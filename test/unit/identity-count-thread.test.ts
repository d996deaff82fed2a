/**
 * Counting u and the prior on the store's sample (`store-count.ts`) runs on a worker thread
 * (`count-thread.ts`): seconds of CPU during which the calling thread's connections and timers
 * must go on (a MariaDB server closes a connection whose greeting is not answered within its
 * `connect_timeout`). The result is the one the calling thread would have counted.
 */
import path from 'node:path';
import { countOffThread } from '../../src/idmap/probabilistic/count-thread';
import { countOnSample, type CountInput } from '../../src/idmap/probabilistic/store-count';
import { featuresOf } from '../../src/idmap/probabilistic/features';
import { loadWeights } from '../../src/idmap/probabilistic/model';
import { recordKeyString } from '../../src/idmap/tables';

const weights = loadWeights(path.resolve(__dirname, '../../config/identity-weights.json'));
const day = (n: number) => new Date(Date.UTC(1990, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
const letters = (i: number): string => (i < 26 ? 'abcdefghijklmnopqrstuvwxyz'[i] : letters(Math.floor(i / 26) - 1) + letters(i % 26));

/** 1,200 people with one record and 300 with two (one customer each), born on one of 60 days, in 12 cities. */
function input(): CountInput {
  const one = Array.from({ length: 1200 }, (_, i) => featuresOf('s', `a${i}`, { name: `${letters(i)} test`, birthday: day(i % 60), city: `City ${i % 12}` }, []));
  const two = Array.from({ length: 300 }, (_, i) =>
    [0, 1].map((k) => featuresOf('t', `b${i}-${k}`, { name: `${letters(1200 + i)} test`, birthday: day(i % 60), city: `City ${i % 12}` }, [])),
  ).flat();
  const customers = new Map(two.map((r) => [recordKeyString(r), `c-${r.recordId.split('-')[0]}`]));
  return { sample: [...one, ...two], weights, records: 1800, maxBlock: 200, customers, pairs: 20_000 };
}

describe('counting u and the prior off the calling thread', () => {
  it("answers what this thread counts, while this thread's event loop turns", async () => {
    let turns = 0;
    let counting = true;
    const turn = () => {
      if (!counting) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    const offThread = await countOffThread(input());
    counting = false;
    // Counted here, the loop would not have turned once before the answer.
    expect(turns).toBeGreaterThan(0);
    const here = countOnSample(input());
    expect(offThread).toEqual(here);
    expect(here.levels.find((l) => l.comparison === 'birthday' && l.level === 'exact')?.hits).toBeGreaterThan(0);
    expect(here.prior?.matches).toBeGreaterThan(0);
  });
});
