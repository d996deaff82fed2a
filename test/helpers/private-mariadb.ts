/**
 * A MariaDB server of a test's own, on 127.0.0.1, in a temporary data directory: the test may
 * freeze it with SIGSTOP, stop it and start it again without touching the server the other test
 * files share. Needs `mariadb-install-db` and `mariadbd` (CI installs mariadb-server; see .ci/run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { tempDir } from './tmp';
import { freePort } from './ports';
import { closeAtFileEnd } from './file-end';

export interface PrivateMariadb {
  /** `mysql://root@127.0.0.1:<port>/` */
  url: string;
  pid(): number;
  /** SIGSTOP, returning once every thread is stopped: the process keeps its sockets open and answers nothing. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** SIGTERM, and wait for the process to exit. */
  stop(): Promise<void>;
  /** Start again on the same data directory and port. */
  start(): Promise<void>;
  /** Stop (thawing first if frozen) and remove the data directory. */
  close(): Promise<void>;
}

const SBIN = ['/usr/sbin', '/usr/local/sbin', '/usr/bin'];
const which = (name: string) => [...(process.env.PATH ?? '').split(':'), ...SBIN].map((d) => path.join(d, name)).find((p) => fs.existsSync(p));

/** Whether this machine can run a private MariaDB (the binaries are installed). */
export const privateMariadbAvailable = () => Boolean(which('mariadbd') && which('mariadb-install-db'));

export async function startPrivateMariadb(): Promise<PrivateMariadb> {
  const mariadbd = which('mariadbd');
  const installDb = which('mariadb-install-db');
  if (!mariadbd || !installDb) throw new Error('mariadbd and mariadb-install-db are needed for a private MariaDB (apt-get install mariadb-server)');
  const dir = tempDir('maria');
  const datadir = path.join(dir, 'data');
  const install = spawnSync(installDb, [`--datadir=${datadir}`, '--auth-root-authentication-method=normal'], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr.slice(-500)}`);
  const port = await freePort();
  const url = `mysql://root@127.0.0.1:${port}/`;
  let child: ChildProcess | undefined;
  let frozen = false;

  const start = async () => {
    const args = [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${path.join(dir, 'sock')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M',
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ];
    const proc = spawn(mariadbd, args, { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'server.log'), 'a')] });
    child = proc;
    // Generous: a loaded CI machine may take a while to bring InnoDB up.
    for (let i = 0; i < 240; i++) {
      if (proc.exitCode !== null) break;
      try {
        const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
        await c.end();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    // Not left running (it may yet come up): nobody would stop it, and jest would not exit.
    proc.kill('SIGKILL');
    const log = fs.readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-800);
    throw new Error(`private mariadbd did not start on port ${port}: ${log}`);
  };

  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    if (frozen) thaw();
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  };
  const freeze = () => {
    child!.kill('SIGSTOP');
    frozen = true;
    // kill() only queues the signal: wait until the kernel reports every thread stopped (state T).
    const pid = child!.pid!;
    const stopped = () => {
      try {
        return fs.readdirSync(`/proc/${pid}/task`).every((t) => /^\d+ \(.*\) T /.test(fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')));
      } catch {
        return true; // no /proc: nothing to wait for
      }
    };
    for (let i = 0; i < 10_000 && !stopped(); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  };
  const thaw = () => {
    child!.kill('SIGCONT');
    frozen = false;
  };

  // Stopped at the file's end if nobody closes it: a hook that timed out while it started, or a test that forgot.
  const forget = closeAtFileEnd('a private MariaDB', async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  try {
    await start();
  } catch (e) {
    forget();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url,
    pid: () => child!.pid!,
    freeze,
    thaw,
    stop,
    start,
    async close() {
      forget();
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
