/** The config's `access` section as parseConfig validates it (src/access/config.ts `AccessConfig`). */
import { configError, demoConfig, parseDemo } from '../helpers/config';

const withRetention = (days: unknown) => {
  const raw = demoConfig();
  raw.access.auditRetentionDays = days;
  return parseDemo(raw, 'retention.json');
};

describe('Config: the audit retention (access.auditRetentionDays)', () => {
  it('is absent by default: audit rows are kept until an operator says how long', () => {
    expect(parseDemo(demoConfig()).access.auditRetentionDays).toBeUndefined();
  });

  it('takes a whole number of days', () => {
    expect(withRetention(1095).access.auditRetentionDays).toBe(1095);
  });

  it.each([0, -5, 1.5, '30', 100_000])('refuses %p with BAD_CONFIG naming the key', (days) => {
    const error = configError(() => withRetention(days));
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message).toContain('access.auditRetentionDays');
  });
});
