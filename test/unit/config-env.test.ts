/**
 * Config values set from the environment (`${VAR}`), as a production deployment sets its database
 * URLs and secrets: a value the driver would refuse is refused when the config is read (status 2,
 * the key and the variable named), never echoed (a database URL carries its password).
 */
import path from 'node:path';
import { parseConfig } from '../../src/config';
import { configError, demoConfig } from '../helpers/config';

const ROOT = path.resolve(__dirname, '../..');
const PASSWORD = 'S3cret-pw';

/** The demo config with OneID on MySQL at `${C360_ONEID_MYSQL_URL}` and the helpdesk at `${C360_SUPPORT_BASE_URL}`. */
function fromEnv() {
  const raw = demoConfig();
  raw.oneid.connection = { client: 'mysql', url: '${C360_ONEID_MYSQL_URL}' };
  raw.sources.find((s: { name: string }) => s.name === 'support').baseUrl = '${C360_SUPPORT_BASE_URL}';
  return raw;
}
const parse = (raw: unknown, env: NodeJS.ProcessEnv) => parseConfig(raw, 'production.json', { C360_SUPPORT_BASE_URL: 'https://helpdesk.example.com', ...env }, ROOT);

describe('Config: values from the environment', () => {
  it('takes a MySQL URL with a percent-encoded password and a port', () => {
    const cfg = parse(fromEnv(), { C360_ONEID_MYSQL_URL: `mysql://c360:${encodeURIComponent('p@ss%word')}@oneid-db:3306/oneid` });
    expect(cfg.oneid.connection).toMatchObject({ client: 'mysql', url: 'mysql://c360:p%40ss%25word@oneid-db:3306/oneid' });
  });

  it.each([
    ['a port that is no number', `mysql://c360:${PASSWORD}@oneid-db:33o6/oneid`, 'is not a valid URL: mysql://user:password@host:port/database (port a number up to 65535)'],
    ['a port above 65535', `mysql://c360:${PASSWORD}@oneid-db:330600/oneid`, 'is not a valid URL: mysql://user:password@host:port/database (port a number up to 65535)'],
    ['no host', `mysql:///oneid`, 'names no host: mysql://user:password@host:port/database'],
    [
      'a password with a bare %',
      `mysql://c360:${PASSWORD}%zz@oneid-db:3306/oneid`,
      'has a user or password that is not percent-encoded (write % as %25, @ as %40, : as %3A, / as %2F)',
    ],
  ])('refuses a OneID URL with %s as BAD_CONFIG naming the key and the variable, without the URL', (_, url, problem) => {
    const error = configError(() => parse(fromEnv(), { C360_ONEID_MYSQL_URL: url }));
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message).toBe(`production.json is not a valid c360 config:\n  oneid.connection.url: ${problem} (set from $C360_ONEID_MYSQL_URL)`);
    expect(error.message).not.toContain(PASSWORD);
  });

  it("names the variable behind a source's bad value, by the source's name", () => {
    const error = configError(() => parse(fromEnv(), { C360_ONEID_MYSQL_URL: 'mysql://c360@oneid-db:3306/oneid', C360_SUPPORT_BASE_URL: 'ftp://helpdesk.example.com' }));
    expect(error.message).toBe('production.json is not a valid c360 config:\n  sources[support].baseUrl: an http:// or https:// URL (set from $C360_SUPPORT_BASE_URL)');
  });

  it('names no variable for a bad value written in the file itself', () => {
    const raw = fromEnv();
    raw.oneid.connection.url = 'mysql://c360@oneid-db:33o6/oneid';
    const error = configError(() => parse(raw, {}));
    expect(error.message).toBe(
      'production.json is not a valid c360 config:\n  oneid.connection.url: is not a valid URL: mysql://user:password@host:port/database (port a number up to 65535)',
    );
  });

  it.each(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'])(
    'refuses %s that is no http(s) URL, naming it (the exporter would send to localhost:4318 instead, silently)',
    (name) => {
      const raw = fromEnv();
      const env = { C360_ONEID_MYSQL_URL: 'mysql://c360@oneid-db:3306/oneid' };
      expect(parse(raw, { ...env, [name]: 'https://otel-collector.example.com:4318' }).telemetry).toBeDefined();
      for (const bad of ['otel-collector:4318', 'grpc://otel-collector:4317']) {
        const error = configError(() => parse(raw, { ...env, [name]: bad }));
        expect(error.message).toBe(`${name} must be an http:// or https:// URL (the OTLP/HTTP collector, e.g. http://otel-collector:4318)`);
      }
    },
  );
});
