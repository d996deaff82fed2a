/**
 * Where a process's memory is, sampled while it runs: preload it into the gateway with
 *
 *   C360_BENCH_NODE_ARGS="--import ./bench/mem-trace.mjs" C360_MEM_TRACE=/tmp/mem.ndjson npm run bench:bi -- ...
 *
 * Every C360_MEM_TRACE_MS (250) it appends one line to C360_MEM_TRACE: resident set, V8 heap
 * (total / used), memory outside the heap (external, array buffers) and each V8 heap space's
 * committed and used size, in MiB. `node bench/mem-trace.mjs /tmp/mem.ndjson` summarises a trace:
 * the sample at peak RSS and the maximum of every column.
 */
import fs from 'node:fs';
import v8 from 'node:v8';

const MiB = (n) => Math.round((n / 1048576) * 10) / 10;

function sample() {
  const m = process.memoryUsage();
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name.replace(/_space$/, '')] = [MiB(s.space_size), MiB(s.space_used_size)];
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return {
    t: Date.now(),
    rss: MiB(m.rss),
    anon: MiB(kib('RssAnon') * 1024),
    file: MiB(kib('RssFile') * 1024),
    heapTotal: MiB(m.heapTotal),
    heapUsed: MiB(m.heapUsed),
    external: MiB(m.external),
    arrayBuffers: MiB(m.arrayBuffers),
    spaces,
  };
}

const file = process.env.C360_MEM_TRACE;
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  // Run as a script: summarise a trace.
  const rows = fs
    .readFileSync(process.argv[2], 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const peak = rows.reduce((a, b) => (b.rss > a.rss ? b : a));
  const max = {};
  for (const r of rows) {
    for (const k of ['rss', 'anon', 'file', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers']) max[k] = Math.max(max[k] ?? 0, r[k]);
    for (const [k, [size, used]] of Object.entries(r.spaces)) {
      max[`${k}.size`] = Math.max(max[`${k}.size`] ?? 0, size);
      max[`${k}.used`] = Math.max(max[`${k}.used`] ?? 0, used);
    }
  }
  console.log(`${rows.length} samples over ${((rows.at(-1).t - rows[0].t) / 1000).toFixed(0)} s`);
  console.log('at peak RSS:', JSON.stringify(peak));
  console.log('maxima:', JSON.stringify(max));
} else if (file) {
  const every = Number(process.env.C360_MEM_TRACE_MS ?? 250);
  setInterval(() => fs.appendFileSync(file, JSON.stringify(sample()) + '\n'), every).unref();
}

// C360_PROMOTED_PROF=<file>: a sampling heap profile, from C360_PROMOTED_PROF_FROM_S (10) to
// C360_PROMOTED_PROF_TO_S (60) seconds after start, of what was allocated and either is still live
// or was collected by a full collection, not by a scavenge: what survived the young generation.
const promoted = process.env.C360_PROMOTED_PROF;
if (promoted) {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const from = Number(process.env.C360_PROMOTED_PROF_FROM_S ?? 10) * 1000;
  const to = Number(process.env.C360_PROMOTED_PROF_TO_S ?? 60) * 1000;
  setTimeout(() => {
    session.post('HeapProfiler.enable', () =>
      session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false }, (err) => {
        if (err) console.error('mem-trace: startSampling', err);
      }),
    );
  }, from).unref();
  setTimeout(() => {
    session.post('HeapProfiler.stopSampling', (err, res) => {
      if (err) return console.error('mem-trace: stopSampling', err);
      fs.writeFileSync(promoted, JSON.stringify(res.profile));
    });
  }, to).unref();
}
