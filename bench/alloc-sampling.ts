/** `--alloc-prof` of the in-process benches (floor-work.ts, gateway-work.ts). */

/**
 * V8's sampling heap profiler through the inspector, keeping samples of objects the GC has since
 * collected. `survivors`: only objects that outlived the young generation (promoted to the old
 * one, whether a mark-compact collected them later or not): what a request keeps past two scavenges.
 */
export async function startAllocationSampling(opts: { survivors?: boolean } = {}) {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  await post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !opts.survivors });
  return {
    async stop() {
      const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
      session.disconnect();
      return profile;
    },
  };
}

/** A V8 CPU profile through the inspector, from now until `stop` (`--rounds-cpu-prof` of bench/gateway-work.ts). */
export async function startCpuProfile(samplingIntervalMicros = 250) {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: samplingIntervalMicros });
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      session.disconnect();
      return profile;
    },
  };
}
