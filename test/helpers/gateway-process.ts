/**
 * The gateway as a child process (`c360 start`, directly or through npm) on 127.0.0.1, its JSON log
 * lines read as they come: for tests of what only a real process shows (signals, exit codes,
 * several replicas starting at once on one store).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { closeAtFileEnd } from './file-end';

export const ROOT = path.resolve(__dirname, '../..');
const WAIT_MS = 45_000;

export type LogLine = Record<string, unknown> & { msg?: string };

export interface Running extends Spawned {
  url: URL;
}

/** A c360 command as a child process, its log lines read as they come. */
export interface Spawned {
  child: ChildProcess;
  lines: LogLine[];
  /** Resolves with the first log line (already seen or to come) whose `msg` starts with `prefix`. */
  logged(prefix: string): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the process wrote to stderr so far. */
  stderr(): string;
}

const running = new Set<ChildProcess>();

/** SIGKILLs every gateway started here that is still running (and npm above it): for a test's afterEach. */
export function killGateways(): void {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The args that run `c360 start` from the sources with `node`. */
export const gatewayArgs = (configFile: string) => ['--import', 'tsx', 'src/cli.ts', 'start', '--config', configFile];

/** Starts `command args` (the gateway, directly or through npm) and waits for `c360 ready`. */
export async function startGateway(command: string, args: string[], opts: SpawnOptions = {}): Promise<Running> {
  const spawned = spawnCli(command, args, opts);
  const ready = await spawned.logged('c360 ready');
  return { ...spawned, url: new URL(String(ready.url)) };
}

export interface SpawnOptions {
  waitMs?: number;
  /** Environment variables beyond the test's own. */
  env?: NodeJS.ProcessEnv;
}

/** Starts `command args` (any c360 command) without waiting for anything; `logged` waits up to `waitMs` for a line. */
export function spawnCli(command: string, args: string[], opts: SpawnOptions = {}): Spawned {
  const waitMs = opts.waitMs ?? WAIT_MS;
  // Its own process group, so that a failed test can kill npm and the gateway under it alike.
  // NODE_ENV as in production: under `test`, Apollo would not install its signal handlers anyway.
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', C360_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  // Killed at the file's end if still running: a hook that timed out waiting for `c360 ready` leaves it starting.
  const forget = closeAtFileEnd('a gateway process', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      return; // already gone
    }
    await gone;
  });
  const lines: LogLine[] = [];
  const waiters: Array<{ prefix: string; resolve: (l: LogLine) => void }> = [];
  let pending = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text);
      } catch {
        continue; // npm's banner
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (!line.msg?.startsWith(w.prefix)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      forget();
      resolve({ code, signal });
    }),
  );
  const logged = (prefix: string) =>
    new Promise<LogLine>((resolve, reject) => {
      const seen = lines.find((l) => l.msg?.startsWith(prefix));
      if (seen) return resolve(seen);
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`${why} "${prefix}"; stderr: ${stderr.slice(-2000)}`));
      };
      const timer = setTimeout(() => fail(`no log line within ${waitMs} ms:`), waitMs);
      waiters.push({
        prefix,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      // Lines already read are parsed before 'exit' is handled; a line still missing then never comes.
      void exited.then(() => setImmediate(() => fail('exited before')));
    });
  return { child, lines, logged, exited, stderr: () => stderr };
}
