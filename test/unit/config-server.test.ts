/** The config's `server` section and log level as parseConfig validates them (src/config.ts). */
import path from 'node:path';
import { configError, demoConfig, parseDemo } from '../helpers/config';
import { parseConfig } from '../../src/config';

const withReadiness = (ms: unknown) => {
  const raw = demoConfig();
  raw.server.readinessTimeoutMs = ms;
  return parseDemo(raw, 'readiness.json');
};

describe('Config: the readiness probes’ deadline (server.readinessTimeoutMs)', () => {
  it('is 1,500 ms by default', () => {
    expect(parseDemo(demoConfig()).server.readinessTimeoutMs).toBe(1500);
  });

  it('takes a whole number of milliseconds', () => {
    expect(withReadiness(5000).server.readinessTimeoutMs).toBe(5000);
  });

  it.each([0, 10, -1, 2.5, '1500', 600_000])('refuses %p with BAD_CONFIG naming the key', (ms) => {
    const error = configError(() => withReadiness(ms));
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message).toContain('server.readinessTimeoutMs');
  });
});

describe('Config: the log level (log.level, C360_LOG_LEVEL)', () => {
  const ROOT = path.resolve(__dirname, '../..');
  const parseWith = (env: NodeJS.ProcessEnv) => parseConfig(demoConfig(), 'demo.json', env, ROOT);

  it('is the file’s, unless C360_LOG_LEVEL in the environment says otherwise', () => {
    expect(parseWith({}).log.level).toBe('info');
    expect(parseWith({ C360_LOG_LEVEL: 'debug' }).log.level).toBe('debug');
    expect(parseWith({ C360_LOG_LEVEL: '' }).log.level).toBe('info');
  });

  it('refuses a C360_LOG_LEVEL that is no level with BAD_CONFIG naming the variable and the levels', () => {
    const error = configError(() => parseWith({ C360_LOG_LEVEL: 'loud' }));
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message).toBe('C360_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"');
  });
});
