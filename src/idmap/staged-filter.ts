/**
 * The records a first resolution has staged so far, as a Bloom filter: its "no" is certain, its
 * "maybe" sometimes wrong. A run that started on an empty store can hold only the records it
 * staged itself, so a record the filter says no to has no stored state to read: at a million
 * records that is two index reads a record saved, for 8 MiB (a set of the ids would take some
 * 60 MiB). A wrong "maybe" costs the read, and the write of the pages staging holds before it
 * (staged-pages.ts): about one record in ten million at a million records, one in 2,000 at four
 * million (with 2 MiB it was one in 2,000 at a million: some 80 wrong maybes in a run).
 */
export interface StagedFilter {
  add(source: string, recordId: string): void;
  mayHave(source: string, recordId: string): boolean;
}

const BITS = 1 << 26;
const PROBES = 7;

export function createStagedFilter(): StagedFilter {
  const words = new Uint32Array(BITS / 32);
  /** Calls `at` with each of the key's bit positions until it answers false (Kirsch–Mitzenmacher: PROBES positions from two FNV-1a hashes). */
  const positions = (source: string, recordId: string, at: (word: number, mask: number) => boolean): boolean => {
    let h1 = 0x811c9dc5;
    let h2 = 0x1b873593;
    const key = `${source}\u0000${recordId}`;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    h2 |= 1;
    for (let k = 0; k < PROBES; k++) {
      const bit = (h1 + Math.imul(k, h2)) & (BITS - 1);
      if (!at(bit >>> 5, 1 << (bit & 31))) return false;
    }
    return true;
  };
  return {
    add: (source, recordId) => void positions(source, recordId, (w, m) => ((words[w] |= m), true)),
    mayHave: (source, recordId) => positions(source, recordId, (w, m) => (words[w] & m) !== 0),
  };
}
