/**
 * What a benchmark reads about another process from Linux's /proc: CPU time used (user + system)
 * and memory (resident now, and its high-water mark). Only the server's own process is read, so
 * the load generator's and the stand-ins' work never counts as the server's. Also the benchmark's
 * own main-thread GC pauses, which perf_hooks gives (`gcPauses`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';

/**
 * The V8 heap flags a package.json script runs the gateway with (`start`, `start:prod`), so that a
 * bench measures the process production runs.
 */
export function startHeapFlags(root: string, script = 'start:prod'): string[] {
  return String(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts?.[script] ?? '')
    .split(/\s+/)
    .filter((a) => /^--max-(old|semi)-space-size=\d+$/.test(a));
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, nearly always 100). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU milliseconds (user + system) the process has used so far; with `tid`, that one thread's (`/proc/<pid>/task/<tid>`). */
export function cpuMs(pid: number, tid?: number): number {
  const stat = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/**
 * The whole machine's CPU time so far, every core and every process (/proc/stat's first line):
 * busy (all but idle and iowait) and total, in milliseconds summed over the cores.
 */
export function machineCpuMs(): { busy: number; total: number; steal: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // user nice system idle iowait irq softirq steal: idle and iowait are the machine waiting; steal is the hypervisor running someone else on our cores.
  return {
    busy: ((total - fields[3] - fields[4]) * 1000) / TICKS_PER_SECOND,
    total: (total * 1000) / TICKS_PER_SECOND,
    steal: (fields[7] * 1000) / TICKS_PER_SECOND,
  };
}

/**
 * A process's threads as the scheduler counts them (`/proc/<pid>/task/<tid>/schedstat`: nanoseconds
 * on a CPU, nanoseconds runnable but waiting for one, exact rather than sampled at the tick), split
 * into its main thread (tid = pid: the event loop, JavaScript, the main thread's GC pauses) and
 * every other thread (V8's helpers: concurrent marking and sweeping, optimizing compiles; libuv's
 * pool; worker threads). A thread that ended since the last read is no longer counted; with the
 * context switches of all threads (`/proc/<pid>/task/<tid>/status`).
 */
export function threadClocks(pid: number): { mainMs: number; helpersMs: number; waitMs: number; involuntarySwitches: number; threads: number } {
  let mainMs = 0;
  let helpersMs = 0;
  let waitMs = 0;
  let involuntarySwitches = 0;
  let threads = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      involuntarySwitches += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      if (Number(tid) === pid) mainMs += run / 1e6;
      else helpersMs += run / 1e6;
      waitMs += wait / 1e6;
      threads++;
    } catch {
      // ended between the listing and the read
    }
  }
  return { mainMs, helpersMs, waitMs, involuntarySwitches, threads };
}

/** The read and write system calls a process has made so far (`/proc/<pid>/io` syscr + syscw); 0 where Linux does not keep them. */
export function ioSyscalls(pid: number): number {
  try {
    const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/^syscr: (\d+)$/m.exec(io)?.[1] ?? 0) + Number(/^syscw: (\d+)$/m.exec(io)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * CPU milliseconds used so far by a process and every process under it (a launcher such as tsx's
 * CLI runs the real program as its child). A process that already exited is not counted.
 */
export function treeCpuMs(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The parent's pid is the second field after the command name.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid);
      if (list) list.push(Number(entry));
      else children.set(ppid, [Number(entry)]);
    } catch {
      // gone between the listing and the read
    }
  }
  let ms = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      ms += cpuMs(pid);
    } catch {
      // gone meanwhile
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return ms;
}

/** Resident memory now and at its peak (VmRSS, VmHWM), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Samples VmRSS every `everyMs` until stopped; answers the samples (MiB), oldest first. */
export function sampleRss(pid: number, everyMs = 1000): { stop(): number[] } {
  const samples: number[] = [];
  const timer = setInterval(() => {
    try {
      samples.push(memoryMiB(pid).rss);
    } catch {
      // the process has gone; the caller finds out on its own
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** A counter of this process's `/proc/self/io` (`write_bytes`, `syscr`, …); 0 where Linux does not keep it. */
export function ioCounter(name: string): number {
  try {
    return Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(fs.readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** This process's main-thread garbage-collection pauses from now until `stop` (seconds). */
export function gcPauses(): { stop(): number } {
  let ms = 0;
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => (ms += e.duration)));
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      observer.disconnect();
      return ms / 1000;
    },
  };
}

/**
 * The event loop's blocks: stretches during which a timer due every `everyMs` could not run
 * (synchronous work, a SQLite statement, a chain of settled promises), each longer than
 * `atLeastMs` with when it began (ms since the probe started). A resolution's lease is renewed by
 * a timer between writes: a block longer than the lease's lifetime lets another process take it.
 */
export function loopBlocks(everyMs = 20, atLeastMs = 200): { stop(): Array<{ at: number; ms: number }> } {
  const started = Date.now();
  const blocks: Array<{ at: number; ms: number }> = [];
  let last = started;
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last - everyMs >= atLeastMs) blocks.push({ at: last - started, ms: now - last - everyMs });
    last = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return blocks;
    },
  };
}

/**
 * How fast this machine runs a fixed piece of work right now: the CPU milliseconds (this
 * process's, user + system) of a deterministic mix of arithmetic, small objects and a Map,
 * the median of `repeats` runs. Between two reads of one run its ratio is the machine's change
 * of speed per instruction (a virtual machine's host busy on the same physical cores, caches
 * shared with other processes), which no /proc counter shows; each measured server's CPU per
 * request moves with it.
 */
export function speedProbeMs(repeats = 5): number {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.cpuUsage();
    probeWork();
    const t = process.cpuUsage(t0);
    times.push((t.user + t.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

let probeSink = 0;
function probeWork(): void {
  const m = new Map<number, { a: number; b: string }>();
  let x = 0;
  for (let i = 0; i < 200_000; i++) {
    x = (x * 1103515245 + 12345 + i) >>> 0;
    m.set(x & 4095, { a: x, b: i % 7 === 0 ? String(x) : 'k' });
  }
  let sum = 0;
  for (const v of m.values()) sum += v.a & 255;
  probeSink = (probeSink + sum) >>> 0;
}
