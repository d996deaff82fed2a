/** The config's `server` section as parseConfig validates it (src/config.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');
const demo = () => JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
const withReadiness = (ms: unknown) => {
  const raw = demo();
  raw.server.readinessTimeoutMs = ms;
  return parseConfig(raw, 'readiness.json', {}, ROOT);
};

describe('Config: the readiness probes’ deadline (server.readinessTimeoutMs)', () => {
  it('is 1,500 ms by default', () => {
    expect(parseConfig(demo(), 'demo.json', {}, ROOT).server.readinessTimeoutMs).toBe(1500);
  });

  it('takes a whole number of milliseconds', () => {
    expect(withReadiness(5000).server.readinessTimeoutMs).toBe(5000);
  });

  it.each([0, 10, -1, 2.5, '1500', 600_000])('refuses %p with BAD_CONFIG naming the key', (ms) => {
    let error: unknown;
    try {
      withReadiness(ms);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('BAD_CONFIG');
    expect((error as Error).message).toContain('server.readinessTimeoutMs');
  });
});
