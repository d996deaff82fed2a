/** A MySQL/MariaDB connection's `pool` as parseConfig validates it, for OneID and for SQL sources (src/sources/options.ts). */
import { configError, demoConfig, parseDemo } from '../helpers/config';

const mysql = (pool: unknown) => ({ client: 'mysql', url: 'mysql://reader@db.example.com:3306/crm', pool });

describe('Config: a SQL connection pool', () => {
  it('takes min up to max, and max alone', () => {
    const raw = demoConfig();
    raw.oneid.connection = mysql({ min: 2, max: 2 });
    raw.sources[0].connection = mysql({ max: 3 });
    const cfg = parseDemo(raw);
    expect(cfg.oneid.connection).toMatchObject({ pool: { min: 2, max: 2 } });
    expect(cfg.sources[0].options).toMatchObject({ connection: { pool: { max: 3 } } });
  });

  it.each([
    ['OneID, min above max', (raw: any) => (raw.oneid.connection = mysql({ min: 5, max: 2 })), 'oneid.connection.pool.min'],
    ['a source, min above max', (raw: any) => (raw.sources[0].connection = mysql({ min: 5, max: 2 })), 'sources[crm].connection.pool.min'],
    ['a source, min above the default max of 10', (raw: any) => (raw.sources[0].connection = mysql({ min: 20 })), 'sources[crm].connection.pool.min'],
  ])('refuses %s with BAD_CONFIG naming the key, before any pool is opened', (_, edit, key) => {
    const raw = demoConfig();
    edit(raw);
    const error = configError(() => parseDemo(raw));
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message).toContain(`${key}: min must not be more than max (max is 10 when not given)`);
  });
});
