/**
 * Config values set from the environment (`${VAR}`), as a production deployment sets its database
 * URLs and secrets: a value the driver would refuse is refused when the config is read (status 2,
 * the key and the variable named), never echoed (a database URL carries its password).
 */
import fs from 'node:fs';
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
    ['no database', `mysql://c360:${PASSWORD}@oneid-db:3306`, 'names no database: mysql://user:password@host:port/database'],
    ['no database after its slash', `mysql://c360:${PASSWORD}@oneid-db:3306/`, 'names no database: mysql://user:password@host:port/database'],
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

  it('names every variable that is not set at once, each at its key (a source by its name), never one failed start at a time', () => {
    const raw = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/production.example.json'), 'utf8'));
    const full = {
      C360_ONEID_MYSQL_URL: 'mysql://c360@oneid-db:3306/oneid',
      C360_CRM_MYSQL_URL: 'mysql://reader@crm-db:3306/crm',
      C360_ORDERS_MYSQL_URL: 'mysql://reader@orders-db:3306/shop',
      C360_SUPPORT_BASE_URL: 'https://helpdesk.example.com',
      C360_SUPPORT_TOKEN: 'token',
      C360_SCRM_BASE_URL: 'https://scrm.example.com',
      C360_SCRM_APP_ID: 'wx0123',
      C360_SCRM_APP_SECRET: 'secret',
      C360_BI_KEY_SHA256: 'a'.repeat(64),
      C360_MASK_KEY: 'mask-key-0123456789',
      C360_JWT_ISSUER: 'https://idp.example.com',
      C360_JWT_JWKS_FILE: '/etc/c360/jwks.json',
      C360_WEBHOOK_SECRET_SUPPORT: '0123456789abcdef',
      C360_WEBHOOK_SECRET_SCRM: '0123456789abcdef',
      C360_METRICS_TOKEN: '0123456789abcdef',
    };
    const without = (...names: string[]) => Object.fromEntries(Object.entries(full).filter(([k]) => !names.includes(k)));
    const run = (env: NodeJS.ProcessEnv) => parseConfig(raw, 'production.json', env, ROOT);
    expect(run(full).sources.map((s) => s.name)).toEqual(['crm', 'orders', 'support', 'scrm']);
    // One unset: the line it always was.
    expect(configError(() => run(without('C360_MASK_KEY'))).message).toBe('production.json: access.hashKey needs environment variable C360_MASK_KEY, which is not set');
    // Several: every one, in the file's order, so one round of `export`s fixes them all.
    const error = configError(() => run(without('C360_METRICS_TOKEN', 'C360_CRM_MYSQL_URL', 'C360_SCRM_APP_SECRET', 'C360_MASK_KEY')));
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message).toBe(
      [
        'production.json: 4 environment variables it reads are not set (and have no default):',
        '  server.metricsToken needs environment variable C360_METRICS_TOKEN',
        '  sources[crm].connection.url needs environment variable C360_CRM_MYSQL_URL',
        '  sources[scrm].appSecret needs environment variable C360_SCRM_APP_SECRET',
        '  access.hashKey needs environment variable C360_MASK_KEY',
      ].join('\n'),
    );
    // None set: the fifteen the example reads, each named, which the README's `export` block sets.
    const lines = configError(() => run({})).message.split('\n');
    expect(lines[0]).toBe(`production.json: ${Object.keys(full).length} environment variables it reads are not set (and have no default):`);
    const named = lines.slice(1).map((l) => / needs environment variable (\w+)$/.exec(l)?.[1]);
    expect(named.sort()).toEqual(Object.keys(full).sort());
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const exported = [...readme.matchAll(/^export (.*)$/gm)].flatMap((m) => [...m[1].matchAll(/\b(C360_\w+)=/g)].map((v) => v[1]));
    expect(Object.keys(full).filter((name) => !exported.includes(name))).toEqual([]);
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

  /** The demo config as a container sets it: port, a switch and a source's deadline from the environment. */
  function scalarsFromEnv() {
    const raw = fromEnv();
    raw.server.port = '${PORT:-4000}';
    raw.server.federation = '${C360_FEDERATION:-false}';
    raw.sources.find((s: { name: string }) => s.name === 'support').timeoutMs = '${C360_SUPPORT_TIMEOUT_MS}';
    raw.auth.apiKeys[0].name = '${C360_KEY_NAME:-admin}';
    return raw;
  }
  const mysql = { C360_ONEID_MYSQL_URL: 'mysql://c360@oneid-db:3306/oneid' };

  it('reads a number or a boolean from a whole ${VAR} reference, as JSON spells it (a container sets its port so)', () => {
    const cfg = parse(scalarsFromEnv(), { ...mysql, PORT: '8080', C360_FEDERATION: 'true', C360_SUPPORT_TIMEOUT_MS: '3500', C360_KEY_NAME: '0123' });
    expect(cfg.server.port).toBe(8080);
    expect(cfg.server.federation).toBe(true);
    expect(cfg.sources.find((s) => s.name === 'support')?.options).toMatchObject({ timeoutMs: 3500 });
    // A string key keeps its text: only where the config wants a number is one read.
    expect(cfg.auth.apiKeys[0].name).toBe('0123');
    const defaults = parse(scalarsFromEnv(), { ...mysql, C360_SUPPORT_TIMEOUT_MS: '2000' });
    expect([defaults.server.port, defaults.server.federation]).toEqual([4000, false]);
  });

  it.each([
    ['PORT', '80 80', 'server.port: expected a number, and the environment variable it is set from holds none (set from $PORT)'],
    ['PORT', '0x50', 'server.port: expected a number, and the environment variable it is set from holds none (set from $PORT)'],
    ['PORT', '80000', 'server.port: Too big: expected number to be <=65535 (set from $PORT)'],
    ['C360_FEDERATION', 'yes', 'server.federation: expected true or false, and the environment variable it is set from holds neither (set from $C360_FEDERATION)'],
    [
      'C360_SUPPORT_TIMEOUT_MS',
      '3s',
      'sources[support].timeoutMs: expected a number, and the environment variable it is set from holds none (set from $C360_SUPPORT_TIMEOUT_MS)',
    ],
  ])('refuses $%s=%j as BAD_CONFIG naming the key and the variable', (name, value, line) => {
    const error = configError(() => parse(scalarsFromEnv(), { ...mysql, C360_SUPPORT_TIMEOUT_MS: '2000', [name]: value }));
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message).toBe(`production.json is not a valid c360 config:\n  ${line}`);
  });

  it('reads no number out of a reference inside other text, nor out of a string written in the file', () => {
    const raw = scalarsFromEnv();
    raw.server.port = '${PORT}0';
    expect(configError(() => parse(raw, { ...mysql, PORT: '808', C360_SUPPORT_TIMEOUT_MS: '2000' })).message).toContain(
      'server.port: Invalid input: expected number, received string',
    );
    raw.server.port = '8080';
    expect(configError(() => parse(raw, { ...mysql, C360_SUPPORT_TIMEOUT_MS: '2000' })).message).toContain('server.port: Invalid input: expected number, received string');
  });
});
