/** The config's `access` section as parseConfig validates it (src/access/config.ts `AccessConfig`). */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');
const demo = () => JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
const withRetention = (days: unknown) => {
  const raw = demo();
  raw.access.auditRetentionDays = days;
  return parseConfig(raw, 'retention.json', {}, ROOT);
};

describe('Config: the audit retention (access.auditRetentionDays)', () => {
  it('is absent by default: audit rows are kept until an operator says how long', () => {
    expect(parseConfig(demo(), 'demo.json', {}, ROOT).access.auditRetentionDays).toBeUndefined();
  });

  it('takes a whole number of days', () => {
    expect(withRetention(1095).access.auditRetentionDays).toBe(1095);
  });

  it.each([0, -5, 1.5, '30', 100_000])('refuses %p with BAD_CONFIG naming the key', (days) => {
    let error: unknown;
    try {
      withRetention(days);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('BAD_CONFIG');
    expect((error as Error).message).toContain('access.auditRetentionDays');
  });
});
