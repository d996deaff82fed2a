/**
 * String similarity for names: Jaro-Winkler (the measure record-linkage tools use for short
 * strings with typos and transpositions) and American Soundex. Written here rather than taken
 * from a package: each is a few lines, and the tests pin the textbook values.
 */

/** Jaro similarity in [0, 1]. */
export function jaro(a: string, b: string): number {
  if (a === b) return a.length ? 1 : 0;
  const la = a.length;
  const lb = b.length;
  if (!la || !lb) return 0;
  // Scratch space reused across calls (names are short; the tier compares millions of pairs).
  if (lb > matchedB.length || la > matchesA.length) growScratch(Math.max(la, lb));
  matchedB.fill(0, 0, lb);
  const window = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  let m = 0;
  for (let i = 0; i < la; i++) {
    const lo = Math.max(0, i - window);
    const hi = Math.min(lb - 1, i + window);
    const c = a.charCodeAt(i);
    for (let j = lo; j <= hi; j++) {
      if (!matchedB[j] && c === b.charCodeAt(j)) {
        matchedB[j] = 1;
        matchesA[m++] = i;
        break;
      }
    }
  }
  if (!m) return 0;
  let t = 0;
  let j = 0;
  for (let k = 0; k < m; k++) {
    while (!matchedB[j]) j++;
    if (a.charCodeAt(matchesA[k]) !== b.charCodeAt(j)) t++;
    j++;
  }
  return (m / la + m / lb + (m - t / 2) / m) / 3;
}

let matchedB = new Uint8Array(64);
let matchesA = new Int32Array(64);

function growScratch(n: number): void {
  matchedB = new Uint8Array(n * 2);
  matchesA = new Int32Array(n * 2);
}

/** Jaro-Winkler with the usual prefix scale 0.1 over at most 4 characters. */
export function jaroWinkler(a: string, b: string): number {
  const j = jaro(a, b);
  let prefix = 0;
  while (prefix < 4 && prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  return j + prefix * 0.1 * (1 - j);
}

const SOUNDEX_CODE: Record<string, string> = {
  b: '1',
  f: '1',
  p: '1',
  v: '1',
  c: '2',
  g: '2',
  j: '2',
  k: '2',
  q: '2',
  s: '2',
  x: '2',
  z: '2',
  d: '3',
  t: '3',
  l: '4',
  m: '5',
  n: '5',
  r: '6',
};

/** American Soundex of one word (`Robert` → `R163`); empty for a word without letters. */
export function soundex(word: string): string {
  const s = word.toLowerCase().replace(/[^a-z]/g, '');
  if (!s) return '';
  let out = s[0].toUpperCase();
  let last = SOUNDEX_CODE[s[0]] ?? '';
  for (let i = 1; i < s.length && out.length < 4; i++) {
    const c = s[i];
    const code = SOUNDEX_CODE[c] ?? '';
    if (code && code !== last) out += code;
    // h and w do not separate equal codes; vowels do.
    if (c !== 'h' && c !== 'w') last = code;
  }
  return out.padEnd(4, '0');
}

/** Damerau-Levenshtein distance at most 1. */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/**
 * Whether the optimal-string-alignment distance (insertions, deletions, substitutions, adjacent
 * swaps) between two strings is at most `k`: a band of the table around its diagonal, stopped
 * once a row's best exceeds `k`.
 */
export function editsAtMost(a: string, b: string, k: number): boolean {
  if (Math.abs(a.length - b.length) > k) return false;
  const big = k + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => (j <= k ? j : big));
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(big);
    row[0] = i <= k ? i : big;
    let best = row[0];
    for (let j = Math.max(1, i - k); j <= Math.min(b.length, i + k); j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      row[j] = Math.min(d, big);
      best = Math.min(best, row[j]);
    }
    if (best > k) return false;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length] <= k;
}

/** Positions at which two strings of one length differ. */
export function diffCount(a: string, b: string): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}
