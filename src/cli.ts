/**
 * c360 command line.
 *   start   [--config FILE]   serve the gateway (with `demo` in config: seed the demo world and run the stand-ins first)
 *   resolve [--config FILE]   run identity resolution once over every source, then exit
 * The config file defaults to $C360_CONFIG, then config/demo.json.
 */
import path from 'node:path';
import { loadConfig, ConfigError, type Config } from './config';
import { createLogger, type Logger } from './observability/logger';
import { createGateway, type Gateway } from './gateway';
import { startServer } from './server';
import { runResolution } from './resolution';
import { ResolutionBusyError } from './idmap';
import { startDemoSources, type DemoSources } from '../demo/sources';

/** How long start-up waits for another process's resolution before serving without its own. */
const START_RESOLUTION_WAIT_MS = 5000;

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
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await server.close();
    await gw.close();
    await demo?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
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
