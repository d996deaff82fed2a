#!/usr/bin/env node
/**
 * c360 command line: `c360 <command> [--config FILE] [options]`; `c360 --help` and
 * `c360 <command> --help` describe each command (COMMANDS below is the one list).
 * The config file defaults to $C360_CONFIG, then config/demo.json; with NODE_ENV=production
 * it must be named, never the demo's (its API keys are printed in the README).
 *
 * Exit statuses: 0 done; 1 failed (one line on stderr: a port in use, a system that refused;
 * an unexpected error, a bug, is its kind and message without the values it was about, then
 * where); 2 bad usage or config; 75 another process holds the OneID store (try again later);
 * 130/143 `resolve` stopped by SIGINT/SIGTERM before its end (or any command by a second signal).
 */
import net from 'node:net';
import path from 'node:path';
import { printSchema } from 'graphql';
import { loadConfig, ConfigError, type Config } from './config';
import { createLogger, type Logger } from './observability/logger';
import { createGateway, type Gateway } from './gateway';
import { startServer, DRAIN_TIMEOUT_MS } from './server';
import { runResolution } from './resolution';
import { ResolutionBusyError, ResolutionInterruptedError } from './idmap';
import { inspectConfig as inspect } from './inspect';
import { isSourceError, StartupError, systemErrorLine } from './errors';
import { safeError } from './observability/scrub';
import { startDemoSources, type DemoSources } from '../demo/sources';

/** How long start-up waits for another process's resolution before serving without its own. */
const START_RESOLUTION_WAIT_MS = 5000;

/**
 * A signal repeated within this window is the same request to stop (Ctrl-C under `npm start`
 * reaches the gateway from the terminal and again from npm); a later one exits at once.
 */
const REPEATED_SIGNAL_GRACE_MS = 500;

/**
 * How long a resolution asked to stop may take to reach its next write. A healthy store lets it stop
 * within a statement or two; one that hangs (MariaDB stopped with SIGSTOP, a silent network) holds
 * its statement for as long as it hangs, and a stopped `c360 resolve` waited 98 s, until the database
 * was resumed. Past this, the process exits as stopped: the store rolls back what the run had open once
 * its connection drops, and the lease it could not give back runs out (DEFAULT_LEASE.ttlMs, 30 s),
 * so the next run goes on from there. With CLOSE_TIMEOUT_MS after it, under a supervisor's 30 s grace.
 */
export const RESOLUTION_STOP_TIMEOUT_MS = 15_000;

/** A mistake in how the command was called: the message and a pointer to --help, status 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command it was for: its own usage is shown. */
    readonly command?: string,
  ) {
    super(message);
  }
}

interface Command {
  summary: string;
  /** Options beyond --config and --help, as `--name VALUE` (or `--name`, a flag) → help text. */
  options?: Record<string, string>;
  /** Longer help, after the usage line. */
  details?: string;
  run(config: Config, log: Logger, args: Record<string, string>): Promise<void>;
}

const CONFIG_HELP = 'the config file (default: $C360_CONFIG, else config/demo.json; in production it must be named)';

const COMMANDS: Record<string, Command> = {
  start: {
    summary: 'serve the gateway (with a `demo` section in the config: seed the demo world and run the stand-ins first)',
    details: [
      'Resolves identities first when identity.resolveOnStart is set. SIGTERM/SIGINT drain it (after server.drainDelayMs, /readyz 503 meanwhile): no new',
      `connections, in-flight requests finish (up to ${DRAIN_TIMEOUT_MS / 1000} s), then it exits 0; a second signal exits at once (130/143).`,
      'Before it serves, a signal stops it (exit 0): a start-up resolution first stops before its next write and gives the store back.',
    ].join('\n'),
    run: (config, log) => start(config, log),
  },
  resolve: {
    summary: 'run identity resolution once over every source, then exit',
    options: {
      '--recompare':
        'the probabilistic tier counts u on the store again and compares every record again, not only new and changed ones (after its weights or thresholds changed)',
      '--restage':
        'read every source from its start and stage every record again as this version normalizes it (after an upgrade that changed normalization); what changed is re-linked and compared again',
    },
    details: [
      'Exits 75 when another process holds the OneID store for longer than 60 s (a scheduler may retry).',
      'SIGTERM/SIGINT stop it before its next write and give the store back (exit 130/143; the next run goes on',
      'from there, a stopped --restage too: the store marks it under way, and a plain run resumes it and says so); a second signal exits at once.',
    ].join('\n'),
    run: async (config, log, args) => {
      // Stopped before its end: not done, for a scheduler that looks at the status.
      const stop = stopSignals(log, { status: signalStatus, msg: 'stopped before resolving' });
      await withDemo(config, log, async (demo) => {
        try {
          const gw = await createGateway(config, { log });
          try {
            await stop
              .resolving(() => runResolution(gw, { signal: stop.signal }, { recompare: args.recompare === 'true', restage: args.restage === 'true' }))
              .catch((e) => {
                if (e instanceof ResolutionInterruptedError) return;
                throw sourceFailure(e, 'identity resolution', 'run it again once it answers');
              });
          } finally {
            await gw.close();
          }
        } finally {
          await demo?.close();
        }
      });
      if (stop.received) {
        if (args.restage === 'true') {
          // The store keeps the restage marked under way: the next run restages on from the cursors this one reached
          // (another --restage would start again from every source's start).
          log.warn(
            { signal: stop.received, next: 'c360 resolve' },
            'identity resolution stopped before its end: the store is half-restaged; the next `c360 resolve` goes on restaging from where this one stopped',
          );
        } else log.warn({ signal: stop.received }, 'identity resolution stopped before its end: the lease is given back, the next run goes on from there');
        process.exit(signalStatus(stop.received));
      }
    },
  },
  schema: {
    summary: "print a role's GraphQL schema (SDL), as that role is served it",
    options: { '--role ROLE': "the role (required); one of the access policy's roles" },
    details: "Reads the config, the sources' SDL and the access policy; connects to nothing.",
    async run(config, _log, args) {
      if (!args.role) throw new UsageError('schema needs --role ROLE', 'schema');
      const { roleSchemas, policy } = await inspectConfig(config);
      const schema = roleSchemas.get(args.role);
      if (!schema) throw new UsageError(`no role "${args.role}" in ${policy.source} (roles: ${[...roleSchemas.keys()].join(', ')})`, 'schema');
      process.stdout.write(`${printSchema(schema)}\n`);
    },
  },
  'check-config': {
    summary: "validate the config, the rules and the access policy, and each SQL source's tables, without starting anything",
    details: [
      'Prints one line per role on success; on a problem, the file and key, and exits 2.',
      "Reads each SQL source's catalogue (read-only) for the tables and columns its kind reads: a missing one is named",
      '(sources[<name>].connection: table … does not exist …), status 2. OneID and the HTTP sources are not contacted;',
      'a SQL source that cannot be reached is not checked (as at start, where a source may be down): a warning names it.',
    ].join('\n'),
    async run(config, _log, args) {
      const { roleSchemas, warnings } = await inspectConfig(config, { checkSources: true });
      for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
      const sources = config.sources.map((s) => `${s.name} (${s.kind})`).join(', ');
      process.stdout.write(`${args.configFile}: ok\n  sources: ${sources}\n`);
      for (const [role, schema] of roleSchemas) {
        const fields = Object.keys(schema.getQueryType()?.getFields() ?? {}).length;
        process.stdout.write(`  role ${role}: ${fields} query fields${schema.getMutationType() ? ', mutations' : ''}\n`);
      }
    },
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: c360 <command> [--config FILE] [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'options:',
    `  --config FILE  ${CONFIG_HELP}`,
    '  -h, --help     help (c360 <command> --help for one command)',
    '',
  ].join('\n');
}

function commandUsage(name: string): string {
  const c = COMMANDS[name];
  const options = { '--config FILE': CONFIG_HELP, ...c.options };
  const width = Math.max(...Object.keys(options).map((o) => o.length));
  return [
    `usage: c360 ${name}${Object.keys(c.options ?? {})
      .map((o) => (o.includes(' ') ? ` ${o}` : ` [${o}]`)) // a flag is optional
      .join('')} [--config FILE]`,
    '',
    c.summary,
    ...(c.details ? ['', c.details] : []),
    '',
    'options:',
    ...Object.entries(options).map(([o, h]) => `  ${o.padEnd(width)}  ${h}`),
    '',
  ].join('\n');
}

type Parsed = { help: string } | { command: string; config: string; args: Record<string, string> };

/** Reads argv (without node and the script); throws UsageError on anything it does not know. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined) return { command: 'start', config: path.resolve(namedConfig(defaultConfig(env), 'start')), args: {} };
  if (first === '-h' || first === '--help') return { help: usage() };
  if (first === 'help') {
    if (rest[0] && !COMMANDS[rest[0]]) throw new UsageError(`unknown command ${rest[0]}`);
    return { help: rest[0] ? commandUsage(rest[0]) : usage() };
  }
  const command = first;
  const c = COMMANDS[command];
  if (!c) throw new UsageError(`unknown command ${command}`);
  const takes = new Set(['config', ...Object.keys(c.options ?? {}).map((o) => o.split(' ')[0].slice(2))]);
  // An option written without a value in its help (`--recompare`) is a flag.
  const flags = new Set(Object.keys(c.options ?? {}).flatMap((o) => (o.includes(' ') ? [] : [o.slice(2)])));
  let config = defaultConfig(env);
  const args: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '-h' || a === '--help') return { help: commandUsage(command) };
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !takes.has(m[1])) throw new UsageError(`unknown argument ${a} for ${command}`, command);
    if (flags.has(m[1])) {
      if (m[2] !== undefined) throw new UsageError(`${a}: --${m[1]} takes no value`, command);
      args[m[1]] = 'true';
      continue;
    }
    const value = m[2] ?? rest[++i];
    if (value === undefined || (m[2] === undefined && value.startsWith('--'))) throw new UsageError(`${a} needs a value`, command);
    if (m[1] === 'config') config = value;
    else args[m[1]] = value;
  }
  return { command, config: path.resolve(namedConfig(config, command)), args };
}

/** $C360_CONFIG, else the demo's outside production; in production nothing (a config must be named). */
function defaultConfig(env: NodeJS.ProcessEnv): string | undefined {
  return env.C360_CONFIG || (env.NODE_ENV === 'production' ? undefined : 'config/demo.json');
}

function namedConfig(config: string | undefined, command: string): string {
  if (config === undefined)
    throw new UsageError('NODE_ENV=production and no config named: set $C360_CONFIG or give --config FILE (production never falls back to the demo config)', command);
  return config;
}

/** The config as `inspect` reads it; anything it cannot read is a config problem (status 2), named by its loader. */
async function inspectConfig(config: Config, opts?: Parameters<typeof inspect>[1]) {
  try {
    return await inspect(config, opts);
  } catch (e) {
    throw e instanceof ConfigError ? e : new ConfigError((e as Error).message);
  }
}

/** Fails fast, before seeding or resolving, when the port is taken (the listen itself says so again if it is taken meanwhile). */
function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

async function withDemo<T>(config: Config, log: Logger, run: (demo: DemoSources | null) => Promise<T>): Promise<T> {
  if (!config.demo) return run(null);
  const demo = await startDemoSources(config, log);
  return run(demo);
}

async function start(config: Config, log: Logger) {
  const started = Date.now();
  // Installed first: a signal during start-up stops it too (before serving, exit 0).
  const stop = stopSignals(log, { status: () => 0, msg: 'stopped before serving' });
  await assertPortFree(config.server.host, config.server.port).catch((e) => {
    if (addressInUse(e)) throw e;
    const { host, port } = config.server;
    throw new StartupError('CANNOT_LISTEN', `cannot listen on ${host}:${port} (server.host, server.port): ${systemErrorLine(e)}`, { cause: e });
  });
  const demo = config.demo ? await startDemoSources(config, log) : null;
  const gw: Gateway = await createGateway(config, { log });
  if (config.identity.resolveOnStart) {
    try {
      await stop.resolving(() => runResolution(gw, { waitMs: START_RESOLUTION_WAIT_MS, signal: stop.signal }));
    } catch (e) {
      if (!(e instanceof ResolutionBusyError) && !(e instanceof ResolutionInterruptedError))
        throw sourceFailure(e, 'identity resolution at start-up', 'start again once it answers, or set identity.resolveOnStart to false to serve without resolving');
      // A `c360 resolve` elsewhere is bringing the map up to date; serve what it has so far.
      if (e instanceof ResolutionBusyError) log.warn({ code: e.code, holder: e.holder }, 'identity resolution skipped at start: another process holds the OneID store');
    }
  }
  if (stop.received) {
    // Stopped during the resolution, which gave its lease back: close what was opened, serve nothing.
    await gw.close();
    await demo?.close();
    log.info({ signal: stop.received }, 'stopped before serving');
    process.exit(0);
  }
  const server = await startServer(gw);
  log.info({ url: `${server.url}/graphql`, startupMs: Date.now() - started }, `c360 ready: open ${server.url}/graphql`);
  stop.onStop(async (signal) => {
    const delayMs = config.server.drainDelayMs;
    if (delayMs > 0) {
      // Out of the balancer's rotation before the listener closes: requests it still sends meanwhile are served.
      server.unready();
      log.info({ signal, delayMs }, 'stopping: /readyz answers 503 while requests are still served, then the drain');
      await new Promise((r) => setTimeout(r, delayMs));
    }
    const drained = server.drain(DRAIN_TIMEOUT_MS);
    // Logged once the listener is closed: a connection attempted after this line is refused.
    log.info({ signal, timeoutMs: DRAIN_TIMEOUT_MS }, 'draining: no new connections, finishing in-flight requests');
    const { cut } = await drained;
    if (cut) log.warn({ cut, timeoutMs: DRAIN_TIMEOUT_MS }, 'drain timed out: cut the requests still running');
    await gw.close();
    await demo?.close();
    log.info({ signal }, 'stopped');
    process.exit(0);
  });
}

/** The status of a process that ended on `signal`, as a shell reports one (128 + its number). */
const signalStatus = (signal: NodeJS.Signals) => (signal === 'SIGINT' ? 130 : 143);

interface StopSignals {
  /** Aborted on the first SIGTERM/SIGINT. */
  signal: AbortSignal;
  /** That first signal, once it came. */
  readonly received: NodeJS.Signals | null;
  /** Runs a resolution: a first signal meanwhile stops it before its next write (`signal`), not the process. */
  resolving<T>(run: () => Promise<T>): Promise<T>;
  /** Runs `onStop` on the first signal (at once if it came already); a failure of it exits 1. */
  onStop(run: (signal: NodeJS.Signals) => Promise<void>): void;
}

/**
 * SIGTERM/SIGINT for a command. The first one: with an `onStop` (a serving gateway's drain), that;
 * during a resolution, it stops the run before its next write, the lease given back, and the command
 * goes on to its end; otherwise (seeding, migrating, connecting: nothing a process killed there
 * leaves half done) the process logs `early.msg` and exits at once with `early.status(signal)`. A second one more than
 * REPEATED_SIGNAL_GRACE_MS later exits at once (130/143).
 */
function stopSignals(log: Logger, early: { status: (signal: NodeJS.Signals) => number; msg: string }): StopSignals {
  const controller = new AbortController();
  let first: { signal: NodeJS.Signals; at: number } | null = null;
  let onStop: ((signal: NodeJS.Signals) => Promise<void>) | null = null;
  let resolutions = 0;
  let resolutionStop: NodeJS.Timeout | undefined;
  const run = (signal: NodeJS.Signals) =>
    onStop!(signal).catch((e) => {
      log.error({ err: safeError(e) }, 'shutdown failed');
      process.exit(1);
    });
  const onSignal = (signal: NodeJS.Signals) => {
    if (!first) {
      first = { signal, at: Date.now() };
      controller.abort();
      if (onStop) run(signal);
      else if (resolutions) {
        log.info({ signal }, 'stopping: identity resolution stops before its next write (a second signal exits at once)');
        resolutionStop = setTimeout(() => {
          log.warn(
            { signal, timeoutMs: RESOLUTION_STOP_TIMEOUT_MS },
            'identity resolution did not stop in time (the OneID store or a source does not answer): exiting; the store rolls back what was open, and its lease runs out for the next run',
          );
          process.exit(early.status(signal));
        }, RESOLUTION_STOP_TIMEOUT_MS).unref();
      } else {
        log.info({ signal }, early.msg);
        process.exit(early.status(signal));
      }
      return;
    }
    // Ctrl-C under `npm start` reaches the gateway twice: from the terminal and forwarded by npm.
    if (Date.now() - first.at < REPEATED_SIGNAL_GRACE_MS) return;
    log.warn({ signal }, onStop ? 'second signal: exiting without finishing the drain' : 'second signal: exiting without finishing the resolution');
    process.exit(signalStatus(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    get received() {
      return first?.signal ?? null;
    },
    async resolving(job) {
      resolutions++;
      try {
        return await job();
      } finally {
        // Stopped in time: what follows (closing the store and the sources) has its own bound.
        if (--resolutions === 0) clearTimeout(resolutionStop);
      }
    },
    onStop(fn) {
      onStop = fn;
      if (first) run(first.signal);
    },
  };
}

async function main() {
  const parsed = parseArgs(process.argv.slice(2));
  if ('help' in parsed) {
    process.stdout.write(parsed.help);
    return;
  }
  const config = loadConfig(parsed.config);
  const log = createLogger(config.log.level);
  await COMMANDS[parsed.command].run(config, log, { ...parsed.args, configFile: path.relative(process.cwd(), parsed.config) || parsed.config });
}

/**
 * A source that failed a run (its scan refused, timed out, answered garbage) as one line naming
 * its config entry and what to do, instead of a stack trace; any other error as it is.
 */
function sourceFailure(e: unknown, what: string, remedy: string): unknown {
  if (!isSourceError(e)) return e;
  const line = e.message.split('\n')[0];
  return new StartupError(e.code, `${what} could not read source ${e.sourceName} (sources[${e.sourceName}]): ${line}; ${remedy}`, { cause: e });
}

/** One line for an address in use, whichever listener met it (the gateway, a demo stand-in). */
function addressInUse(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
  if (err?.code !== 'EADDRINUSE') return null;
  const where = err.port !== undefined ? `${err.address ?? ''}:${err.port}` : 'the configured address';
  return `${where} is already in use (another c360 running?): stop it, or choose other ports (server.port; a demo stand-in's in demo.ports and its source's baseUrl, both set by C360_PORT and C360_DEMO_PORT_<SOURCE> under npm start: README, Quick start)`;
}

// Run as a program; imported (tests of parseArgs), it only defines.
if (require.main === module) main().catch(fail);

function fail(e: unknown): never {
  if (e instanceof UsageError) {
    process.stderr.write(`c360: ${e.message}\n\n${e.command ? commandUsage(e.command) : usage()}`);
    process.exit(2);
  }
  if (e instanceof ResolutionBusyError) {
    // Temporary: a scheduler may simply try again later (75 is EX_TEMPFAIL).
    process.stderr.write(`c360: ${e.code}: ${e.message}\n`);
    process.exit(75);
  }
  // Config, policy, auth and rule errors name their file and key: the message is the whole story.
  if (e instanceof ConfigError || ['PolicyError', 'AuthConfigError', 'RulesError'].includes((e as Error)?.name)) {
    process.stderr.write(`c360: ${(e as Error).message}\n`);
    process.exit(2);
  }
  if (e instanceof StartupError) {
    process.stderr.write(`c360: ${e.code}: ${e.message}\n`);
    process.exit(1);
  }
  const inUse = addressInUse(e);
  if (inUse) {
    process.stderr.write(`c360: ${inUse}\n`);
    process.exit(1);
  }
  // Anything else is a bug: what failed and where, never the data it was about (a statement's
  // message from knex carries its values: record ids, name keys, phone numbers).
  const err = safeError(e);
  const frames = e instanceof Error && e.stack ? e.stack.split('\n').filter((line) => /^\s+at /.test(line)) : [];
  process.stderr.write(`c360: ${err.name}${err.code ? ` ${err.code}` : ''}: ${err.message}\n${frames.map((f) => `${f}\n`).join('')}`);
  process.exit(1);
}
