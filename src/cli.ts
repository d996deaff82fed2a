/**
 * c360 command line.
 *   start   [--config FILE]   serve the gateway (with `demo` in config: seed the demo world and run the stand-ins first).
 *                             SIGTERM/SIGINT drain it: no new connections, in-flight requests finish (up to
 *                             DRAIN_TIMEOUT_MS), then the gateway and stand-ins close and it exits 0. A second
 *                             signal exits at once (130/143).
 *   resolve [--config FILE]   run identity resolution once over every source, then exit
 * The config file defaults to $C360_CONFIG, then config/demo.json.
 */
import path from 'node:path';
import { loadConfig, ConfigError, type Config } from './config';
import { createLogger, type Logger } from './observability/logger';
import { createGateway, type Gateway } from './gateway';
import { startServer, DRAIN_TIMEOUT_MS } from './server';
import { runResolution } from './resolution';
import { ResolutionBusyError } from './idmap';
import { startDemoSources, type DemoSources } from '../demo/sources';

/** How long start-up waits for another process's resolution before serving without its own. */
const START_RESOLUTION_WAIT_MS = 5000;

/**
 * A signal repeated within this window is the same request to stop (Ctrl-C under `npm start`
 * reaches the gateway from the terminal and again from npm); a later one exits at once.
 */
const REPEATED_SIGNAL_GRACE_MS = 500;

function parseArgs(argv: string[]): { command: string; config: string } {
  const [command = 'start', ...rest] = argv;
  let config = process.env.C360_CONFIG ?? 'config/demo.json';
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--config' && rest[i + 1]) config = rest[++i];
    else throw new ConfigError(`unknown argument ${rest[i]} (usage: c360 start|resolve [--config FILE])`);
  }
  return { command, config: path.resolve(config) };
}

async function withDemo<T>(config: Config, log: Logger, run: (demo: DemoSources | null) => Promise<T>): Promise<T> {
  if (!config.demo) return run(null);
  const demo = await startDemoSources(config, log);
  return run(demo);
}

async function start(config: Config, log: Logger) {
  const started = Date.now();
  const demo = config.demo ? await startDemoSources(config, log) : null;
  const gw: Gateway = await createGateway(config, { log });
  if (config.identity.resolveOnStart) {
    try {
      await runResolution(gw, { waitMs: START_RESOLUTION_WAIT_MS });
    } catch (e) {
      if (!(e instanceof ResolutionBusyError)) throw e;
      // A `c360 resolve` elsewhere is bringing the map up to date; serve what it has so far.
      log.warn({ code: e.code, holder: e.holder }, 'identity resolution skipped at start: another process holds the OneID store');
    }
  }
  const server = await startServer(gw);
  log.info({ url: `${server.url}/graphql`, startupMs: Date.now() - started }, `c360 ready: open ${server.url}/graphql`);
  let stopping: { signal: NodeJS.Signals; at: number } | null = null;
  const stop = async (signal: NodeJS.Signals) => {
    const drained = server.drain(DRAIN_TIMEOUT_MS);
    // Logged once the listener is closed: a connection attempted after this line is refused.
    log.info({ signal, timeoutMs: DRAIN_TIMEOUT_MS }, 'draining: no new connections, finishing in-flight requests');
    const { cut } = await drained;
    if (cut) log.warn({ cut, timeoutMs: DRAIN_TIMEOUT_MS }, 'drain timed out: cut the requests still running');
    await gw.close();
    await demo?.close();
    log.info({ signal }, 'stopped');
    process.exit(0);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) {
      stopping = { signal, at: Date.now() };
      stop(signal).catch((e) => {
        log.error({ err: { name: (e as Error).name, message: (e as Error).message } }, 'shutdown failed');
        process.exit(1);
      });
      return;
    }
    // Ctrl-C under `npm start` reaches the gateway twice: from the terminal and forwarded by npm.
    if (Date.now() - stopping.at < REPEATED_SIGNAL_GRACE_MS) return;
    log.warn({ signal }, 'second signal: exiting without finishing the drain');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main() {
  const { command, config: file } = parseArgs(process.argv.slice(2));
  const config = loadConfig(file);
  const log = createLogger(config.log.level);
  if (command === 'start') return start(config, log);
  if (command === 'resolve') {
    await withDemo(config, log, async (demo) => {
      const gw = await createGateway(config, { log });
      try {
        await runResolution(gw);
      } finally {
        await gw.close();
        await demo?.close();
      }
    });
    return;
  }
  throw new ConfigError(`unknown command ${command} (usage: c360 start|resolve [--config FILE])`);
}

main().catch((e) => {
  if (e instanceof ResolutionBusyError) {
    // Temporary: a scheduler may simply try again later (75 is EX_TEMPFAIL).
    process.stderr.write(`c360: ${e.code}: ${e.message}\n`);
    process.exit(75);
  }
  if (e instanceof ConfigError) {
    process.stderr.write(`c360: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`c360: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
