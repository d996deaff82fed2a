/**
 * What bench/proc.ts reads from /proc for `npm run bench:gateway`'s machine table: the CPU of a
 * process with the processes under it (the stand-ins run under tsx's launcher, which spends
 * almost nothing itself), and the machine's busy and total time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { cpuMs, machineCpuMs, treeCpuMs } from '../../bench/proc';

/** A launcher that idles while its child works until the child's own CPU clock reads `ms`, then idles too. */
const LAUNCHER = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', \`
  const want = Number(process.argv[1]);
  let x = 0;
  while ((process.cpuUsage().user + process.cpuUsage().system) / 1000 < want) x++;
  console.log(process.pid);
  setInterval(() => {}, 1000);
\`, '300'], { stdio: ['ignore', 'inherit', 'inherit'] });
process.on('SIGTERM', () => { child.kill('SIGTERM'); process.exit(0); });
`;

describe('bench/proc', () => {
  let launcher: ChildProcess | undefined;
  afterEach(() => launcher?.kill('SIGTERM'));

  it("counts the CPU of a process's children with its own", async () => {
    launcher = spawn(process.execPath, ['-e', LAUNCHER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = Number(await new Promise<string>((resolve) => readline.createInterface({ input: launcher!.stdout! }).once('line', resolve)));
    const child = cpuMs(childPid);
    // The child reported after 300 ms of its own CPU time; /proc counts in clock ticks.
    expect(child).toBeGreaterThanOrEqual(290);
    const own = cpuMs(launcher.pid!);
    const tree = treeCpuMs(launcher.pid!);
    expect(tree).toBeGreaterThanOrEqual(own + child);
    // The launcher alone is far below what its child spent: reading only its pid would miss the work.
    expect(own).toBeLessThan(child);
  });

  it('reads the machine busy within its total, both growing', () => {
    const a = machineCpuMs();
    let x = 0;
    for (let i = 0; i < 5e7; i++) x += i;
    const b = machineCpuMs();
    expect(x).toBeGreaterThan(0);
    expect(a.busy).toBeLessThanOrEqual(a.total);
    expect(b.busy).toBeGreaterThanOrEqual(a.busy);
    expect(b.total).toBeGreaterThan(a.total);
  });
});
