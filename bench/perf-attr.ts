/**
 * On-CPU samples of a node process attributed to the project's modules: reads `perf script` output
 * (Linux perf's software clock, which samples a thread only while it runs on a CPU, so the
 * machine's other work does not land in the profile as a V8 profile's wall-clock samples do) and
 * the process's JIT symbol map (`node --perf-basic-prof-only-functions` writes /tmp/perf-PID.map).
 *
 *   NODE_ENV=production node --perf-basic-prof-only-functions bench/results/dist/bench/gateway-work.js --only 1 --http --server gateway --rounds 12 &
 *   perf record -g -e cpu-clock -F 2999 -p PID -o OUT.data -- sleep 10      # once it prints "round 1:"
 *   perf script -i OUT.data -F pid,tid,ip,sym | node --import tsx bench/perf-attr.ts --map /tmp/perf-PID.map [--by fn] [--cpu-us 1100]
 *
 * JIT frames are named from the map's last entry covering their address: V8 moves and frees code,
 * and perf itself may name a frame after code that lived there earlier (a start-up function's name
 * on a socket write). Each sample of the main thread goes to the nearest frame (from the leaf) of a
 * project file or a package, node's own JavaScript walked through to its caller; a sample without
 * one is named by node's frame or the native leaf; other threads' samples are counted apart.
 * `--cpu-us N` (the run's CPU per request) prints µs per request beside the shares.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { arg } from './bench-run';

const mapFile = arg('map', '');
const by = arg('by', 'module');
const cpuUs = Number(arg('cpu-us', '0'));
const top = Number(arg('top', '50'));

/** The map's entries, later ones cutting earlier ones they overlap: sorted, disjoint [start, end, name]. */
function loadMap(file: string): Array<[number, number, string]> {
  let spans: Array<[number, number, string]> = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1], 16);
    const end = start + parseInt(m[2], 16);
    const kept: Array<[number, number, string]> = [];
    for (const s of spans) {
      if (s[1] <= start || s[0] >= end) kept.push(s);
      else {
        if (s[0] < start) kept.push([s[0], start, s[2]]);
        if (s[1] > end) kept.push([end, s[1], s[2]]);
      }
    }
    kept.push([start, end, m[3]]);
    spans = kept;
  }
  return spans.sort((a, b) => a[0] - b[0]);
}

function lookup(spans: Array<[number, number, string]>, addr: number): string | undefined {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid][1] <= addr) lo = mid + 1;
    else if (spans[mid][0] > addr) hi = mid - 1;
    else return spans[mid][2];
  }
  return undefined;
}

function moduleOf(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  if (at >= 0) return 'npm:' + (/^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.slice(at))?.[1] ?? path);
  const dist = path.lastIndexOf('/dist/');
  return dist >= 0 ? path.slice(dist + 6) : path;
}

function keyOf(frames: string[], mainThread: boolean): string {
  if (!mainThread) return '[other threads]';
  for (const f of frames) {
    const m = /^JS:[*~^]?(\S*) (\S+?):\d+:\d+/.exec(f);
    if (!m || m[2].startsWith('node:')) continue;
    return by === 'fn' ? `${m[1] || '(anonymous)'} ${moduleOf(m[2])}` : moduleOf(m[2]);
  }
  for (const f of frames) {
    const m = /^JS:[*~^]?(\S*) (node:\S+?):\d+/.exec(f);
    if (m) return `[node ${m[2]} ${m[1]}]`;
  }
  const leaf = frames[0] ?? '?';
  return /Scaveng|Heap|GC|Mark|Sweep/.test(leaf) ? '[gc]' : `[native ${leaf}]`;
}

async function main() {
  const spans = mapFile ? loadMap(mapFile) : [];
  const counts = new Map<string, number>();
  let total = 0;
  let frames: string[] = [];
  let thread: [number, number] | null = null;
  const flush = () => {
    if (!thread) return;
    const key = keyOf(frames, thread[0] === thread[1]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    total++;
  };
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    if (!line.startsWith('\t')) {
      flush();
      frames = [];
      const [pid, tid] = line.trim().split(/\s+/)[0].split('/').map(Number);
      thread = [pid, tid];
      continue;
    }
    const [addr, ...rest] = line.trim().split(' ');
    frames.push(lookup(spans, parseInt(addr, 16)) ?? rest.join(' '));
  }
  flush();
  process.stdout.write(`${total} samples\n`);
  for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const share = (100 * n) / total;
    process.stdout.write(`${share.toFixed(2).padStart(6)}%${cpuUs ? `  ${((share / 100) * cpuUs).toFixed(1).padStart(7)} µs` : ''}  ${key}\n`);
  }
}

void main();
