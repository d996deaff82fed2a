/**
 * What bench/proc.ts reads from /proc for `npm run bench:gateway`'s machine table: the CPU of a
 * process with the processes under it (the stand-ins run under tsx's launcher, which spends
 * almost nothing itself), and the machine's busy and total time; the per-measurement figures that
 * say why one round reads apart from another (a process's CPU by thread, its system calls, its
 * main thread's collections as bench/gc-window.cjs counts them in a server).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { cpuMs, ioSyscalls, machineCpuMs, threadClocks, treeCpuMs } from '../../bench/proc';

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

  /** Starts `code` in a node process and answers it once it printed its first line. */
  async function started(code: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
    const child = spawn(process.execPath, [...args, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    launcher = child;
    await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
    return child;
  }

  it("splits a process's CPU into its main thread and its other threads", async () => {
    // A worker thread does a fixed amount of work (a few hundred ms of CPU) and stays alive; the main thread only waits for it.
    const child = await started(`
      const { Worker } = require('node:worker_threads');
      const w = new Worker('let x = 0; for (let i = 0; i < 2e8; i++) x = (x + i) | 0; require("node:worker_threads").parentPort.postMessage(x); setInterval(() => {}, 1000);', { eval: true });
      w.once('message', () => { console.log('done'); setInterval(() => {}, 1000); });
    `);
    const t = threadClocks(child.pid!);
    expect(t.helpersMs).toBeGreaterThanOrEqual(100);
    expect(t.mainMs).toBeLessThan(t.helpersMs);
    expect(t.threads).toBeGreaterThan(1);
  });

  it('counts the read and write system calls a process made', async () => {
    const child = await started(`
      const fs = require('node:fs');
      const fd = fs.openSync('/dev/null', 'w');
      for (let i = 0; i < 500; i++) fs.writeSync(fd, 'x');
      console.log('done');
      setInterval(() => {}, 1000);
    `);
    expect(ioSyscalls(child.pid!)).toBeGreaterThanOrEqual(500);
  });

  it("writes a server's main-thread collections when asked (bench/gc-window.cjs)", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gc-window-')), 'gc.json');
    const child = await started(
      `gc(); gc(); let keep = []; for (let i = 0; i < 200000; i++) keep.push({ i }); keep = null; console.log('done'); setInterval(() => {}, 1000);`,
      ['--expose-gc', '--require', path.resolve(__dirname, '../../bench/gc-window.cjs')],
      { C360_BENCH_GC_FILE: file },
    );
    // The observer is told of collections asynchronously: ask until the two forced ones are counted.
    let counts: { markCompacts: number; scavenges: number; newSpaceKiB: number } | undefined;
    for (let i = 0; i < 100 && !(counts && counts.markCompacts >= 2); i++) {
      fs.rmSync(file, { force: true });
      child.kill('SIGUSR2');
      for (let j = 0; j < 200 && !fs.existsSync(file); j++) await new Promise((r) => setTimeout(r, 10));
      counts = JSON.parse(fs.readFileSync(file, 'utf8'));
    }
    expect(counts!.markCompacts).toBeGreaterThanOrEqual(2);
    expect(counts!.newSpaceKiB).toBeGreaterThan(0);
  });
});
