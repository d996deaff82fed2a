/**
 * BI customer sets with undecided customers: three-valued logic (Kleene). A customer a source
 * failed for is in no set; another condition still settles it where it can.
 */
import { allBut, both, complement, decided, either, has, inRange, only, stillUnknown, type CustomerSet } from '../../src/bi/sets';

/** Every customer of the examples: each one's answer in `s` as true, false or unknown. */
const CUSTOMERS = ['a', 'b', 'c', 'd'];
const truth = (s: CustomerSet) => CUSTOMERS.map((id) => (s.unknown.has(id) ? '?' : has(s, id) ? 'T' : 'F')).join('');

describe('BI sets: undecided customers', () => {
  // a: true, b: false, c: unknown, d: false
  const x = only(['a', 'c'], ['c']);
  it('are in no set, and stay undecided under `not`', () => {
    expect(truth(x)).toBe('TF?F');
    expect(truth(complement(x))).toBe('FT?T');
    expect(has(complement(x), 'c')).toBe(false);
  });

  it('combine as Kleene: unknown and false is false, unknown or true is true, else unknown', () => {
    const yes = allBut([]); // every customer true
    const no = only([]); // every customer false
    expect(truth(both(x, yes))).toBe('TF?F');
    expect(truth(both(x, no))).toBe('FFFF');
    expect(truth(either(x, yes))).toBe('TTTT');
    expect(truth(either(x, no))).toBe('TF?F');
    // Both sides unknown for c, in the complement form too.
    const y = allBut(['b'], ['c']); // a: T, b: F, c: ?, d: T
    expect(truth(both(x, y))).toBe('TF?F');
    expect(truth(either(x, y))).toBe('TF?T');
    expect(truth(either(complement(x), complement(y)))).toBe('FT?T');
  });

  it('settle on the other side of an `or` even when it is listed among the unknown side’s ids', () => {
    // c unknown in x (though x's ids name it), true in z: true.
    const z = only(['c']);
    expect(truth(either(x, z))).toBe('TFTF');
    expect(truth(either(z, x))).toBe('TFTF');
  });

  it('leave a range undecided for a value that could not be read, whether zero is in the range or not', () => {
    const counts = new Map([
      ['a', 2],
      ['b', 0],
    ]);
    expect(truth(inRange(counts, 1, null, [], ['c']))).toBe('TF?F');
    expect(truth(inRange(counts, null, 0, [], ['c']))).toBe('FT?T');
  });

  it('page through only the decided members (`decided`)', () => {
    const d = decided(x);
    expect(d.unknown.size).toBe(0);
    expect(truth(d)).toBe('TFFF');
    expect(truth(decided(complement(x)))).toBe('FTFT');
  });

  describe('a count the unread records can only raise (`stillUnknown`)', () => {
    // What the answering sources counted: c 3 (a source failed for it too), d nothing read.
    const known = new Map([['c', 3]]);
    it('decides a customer whose known count already reaches the minimum of an open range', () => {
      expect(stillUnknown(['c', 'd'], known, 3, null)).toEqual(['d']);
      expect(truth(inRange(known, 3, null, [], stillUnknown(['c', 'd'], known, 3, null)))).toBe('FFT?');
      // No bound at all: every count is in it.
      expect(stillUnknown(['c', 'd'], known, null, null)).toEqual([]);
    });
    it('keeps it undecided short of the minimum, or with a maximum the rest could pass', () => {
      expect(stillUnknown(['c', 'd'], known, 4, null)).toEqual(['c', 'd']);
      expect(stillUnknown(['c', 'd'], known, 1, 5)).toEqual(['c', 'd']);
    });
  });
});
