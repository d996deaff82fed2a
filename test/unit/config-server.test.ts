/** The config's `server` section as parseConfig validates it (src/config.ts). */
import { configError, demoConfig, parseDemo } from '../helpers/config';

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
