/**
 * How far V8 lets its heap grow while a full resolution runs.
 *
 * After each full collection V8 sets the next one's threshold at a multiple of what it left live,
 * and while collecting is cheap against the work (a resolution's hot loops), that multiple is 4.
 * A first resolution's probabilistic tier keeps about 95 MB live at a million records while it
 * scores, and every group of blocks it reads (rows, features, pairs) lives long enough to be
 * promoted and dies a group later: the old generation grew to 450-570 MB, four fifths of it
 * garbage, which was the run's peak RSS and the 1 GiB target's whole margin (bench/HISTORY.md,
 * "The peak RSS at a million, session 37"). While a full resolution's tier runs, the multiple is
 * held at 1 + RESOLUTION_HEAP_GROWING_PERCENT / 100, and V8's own (dynamic) choice is given back
 * after. Held from the scan on, the run peaked lower still (603 against 755 MiB: the link phase
 * and the counting worker's end held too) but read 210 s of CPU against 197 s held in the tier
 * alone and 188 s before, on a machine at load 16-24: not resolved, so the hold stays where the
 * isolated scoring showed it costs no CPU. A process started with its own
 * `--heap-growing-percent` keeps it.
 */
import v8 from 'node:v8';

/** 1.5× what a full collection left live: the scoring's old generation 450-570 → 200 MB at a million, for the same CPU. */
export const RESOLUTION_HEAP_GROWING_PERCENT = 50;

/** `--heap-growing-percent` (or its underscore spelling) among a process's node options. */
export function setsHeapGrowth(execArgv: readonly string[], nodeOptions: string | undefined = ''): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a));
}

let holders = 0;

/**
 * Runs `job` with V8's heap growth held at `percent`; overlapping jobs (two stores in one
 * process) share it, and the last to finish gives V8's default (0: its dynamic factor) back.
 */
export async function withHeapGrowth<T>(job: () => Promise<T>, percent = RESOLUTION_HEAP_GROWING_PERCENT): Promise<T> {
  if (setsHeapGrowth(process.execArgv, process.env.NODE_OPTIONS)) return job();
  if (holders++ === 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  try {
    return await job();
  } finally {
    if (--holders === 0) v8.setFlagsFromString('--heap-growing-percent=0');
  }
}
