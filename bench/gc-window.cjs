/**
 * The main thread's garbage collections of a benchmarked server, counted for bench:gateway's
 * per-measurement figures (not used by c360 itself): loaded into every server the bench starts
 * (gateway, floor, baseline alike) with `--require`, it counts perf_hooks' `gc` entries by kind
 * (scavenge, mark-compact, incremental marking step, weak callbacks) with their main-thread pause,
 * and on SIGUSR2 writes the counts so far to the file named by C360_BENCH_GC_FILE (written whole,
 * then renamed, so that a reader never sees half of it). Concurrent marking and sweeping on V8's
 * helper threads are not pauses: they show in the helper threads' CPU, which the bench reads from /proc.
 */
'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');
const perfHooks = require('node:perf_hooks');
const { constants } = perfHooks;

const file = process.env.C360_BENCH_GC_FILE;
if (file) {
  const counts = { scavenges: 0, scavengeMs: 0, markCompacts: 0, markCompactMs: 0, incremental: 0, incrementalMs: 0, weak: 0, weakMs: 0 };
  new perfHooks.PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = entry.detail ? entry.detail.kind : entry.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        counts.scavenges++;
        counts.scavengeMs += entry.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        counts.markCompacts++;
        counts.markCompactMs += entry.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) {
        counts.incremental++;
        counts.incrementalMs += entry.duration;
      } else {
        counts.weak++;
        counts.weakMs += entry.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGUSR2', () => {
    // The young generation's size now: V8 shrinks it while a process idles (its memory reducer) and grows it again under load, a scavenge per semi-space filled.
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ ...counts, heapUsedMiB: process.memoryUsage().heapUsed / 1048576, newSpaceKiB: young ? young.space_size / 1024 : 0 }));
    fs.renameSync(`${file}.tmp`, file);
  });
}
