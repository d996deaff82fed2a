/**
 * How long this process goes without a turn of its event loop, counted in CPU time: for tests of
 * work that must let a timer run while it lasts (a lease's renewal). A timer waits through the
 * longest stretch of synchronous work, and that stretch's wall time is its CPU time multiplied by
 * how loaded the machine is: a 0.4 s SQLite statement of the tier's first comparison took 4.4 s
 * and 10.7 s at load 19-20 on 2 cores (session 42), so no fixed wall-clock margin holds on a
 * loaded machine, while its CPU time stays near what a quiet one spends.
 *
 * A 10 ms ticker reads the process's CPU time at each tick: the CPU spent between two ticks is an
 * upper bound of the longest stretch without a turn in between (a turn lets a due timer run; the
 * count takes in every thread of the process, the garbage collector's helpers too).
 */
export interface TurnsSeen {
  /** The most CPU time (ms) the process spent between two ticks: no stretch without a turn was longer. */
  longestCpuMs: number;
  /** The longest wall time (ms) between two ticks, for the record: it grows with the machine's load. */
  longestWallMs: number;
  ticks: number;
}

export function watchTurns(): { stop(): TurnsSeen } {
  const seen: TurnsSeen = { longestCpuMs: 0, longestWallMs: 0, ticks: 0 };
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let lastCpu = cpuMs();
  let lastAt = performance.now();
  const tick = () => {
    const cpu = cpuMs();
    const at = performance.now();
    seen.longestCpuMs = Math.max(seen.longestCpuMs, cpu - lastCpu);
    seen.longestWallMs = Math.max(seen.longestWallMs, at - lastAt);
    seen.ticks += 1;
    lastCpu = cpu;
    lastAt = at;
  };
  const timer = setInterval(tick, 10);
  return {
    stop() {
      clearInterval(timer);
      tick(); // the stretch up to now counts too
      return { ...seen };
    },
  };
}
