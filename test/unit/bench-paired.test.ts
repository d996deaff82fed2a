/**
 * bench/paired.ts, the interleaving `npm run bench:gateway` measures its servers in: the order of
 * each set of slices favours no server (each is measured at the same mean time, first and last
 * equally often), and the pairs are read as a median with its interquartile range.
 */
import { pairedRatios, setOrder, spreadOf } from '../../bench/paired';

/** Each server's mean position over `sets` consecutive sets of `round`. */
function meanPositions(servers: string[], round: number, sets: number): Record<string, number> {
  const sum: Record<string, number> = {};
  for (let set = 0; set < sets; set++) setOrder(servers, round, set).forEach((s, pos) => (sum[s] = (sum[s] ?? 0) + set * servers.length + pos));
  return Object.fromEntries(Object.entries(sum).map(([s, v]) => [s, v / sets]));
}

describe('bench/paired', () => {
  it('alternates two servers A B B A within a round and starts the next round with the other', () => {
    const order = (round: number) => [0, 1, 2, 3].flatMap((set) => setOrder(['gateway', 'floor'], round, set));
    expect(order(0)).toEqual(['gateway', 'floor', 'floor', 'gateway', 'gateway', 'floor', 'floor', 'gateway']);
    expect(order(1)).toEqual(['floor', 'gateway', 'gateway', 'floor', 'floor', 'gateway', 'gateway', 'floor']);
  });

  it('puts every server at the same mean time over an even number of sets, two servers or three', () => {
    for (const servers of [
      ['gateway', 'floor'],
      ['gateway', 'floor', 'baseline'],
    ]) {
      for (let round = 0; round < servers.length; round++) {
        const mean = Object.values(meanPositions(servers, round, 4));
        expect(new Set(mean).size).toBe(1);
      }
    }
  });

  it('puts each server first as often as last over the rounds', () => {
    const servers = ['gateway', 'floor', 'baseline'];
    const first: Record<string, number> = {};
    const last: Record<string, number> = {};
    for (let round = 0; round < 3; round++) {
      for (let set = 0; set < 4; set++) {
        const o = setOrder(servers, round, set);
        first[o[0]] = (first[o[0]] ?? 0) + 1;
        last[o[o.length - 1]] = (last[o[o.length - 1]] ?? 0) + 1;
      }
    }
    expect(first).toEqual(last);
    expect(new Set(Object.values(first)).size).toBe(1);
  });

  it('reads ratios within a set, and their median and quartiles, leaving out a slice without requests', () => {
    expect(pairedRatios([2, 3, 4], [1, 2, 4])).toEqual([2, 1.5, 1]);
    expect(() => pairedRatios([1], [1, 2])).toThrow(/as many values/);
    expect(spreadOf([4, 1, 3, 2, NaN, 5])).toEqual({ median: 3, q1: 2, q3: 4, n: 5 });
    expect(spreadOf([1, 2, 3, 4])).toEqual({ median: 2.5, q1: 1.75, q3: 3.25, n: 4 });
    expect(spreadOf([]).n).toBe(0);
  });
});
