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

describe('Config: the demo’s ports (server.port, demo.ports and the stand-ins’ sources)', () => {
  const ROOT = path.resolve(__dirname, '../..');
  const parseWith = (env: NodeJS.ProcessEnv, raw = demoConfig()) => parseConfig(raw, 'demo.json', env, ROOT);
  const baseUrlOf = (config: ReturnType<typeof parseWith>, name: string) => (config.sources.find((s) => s.name === name)!.options as { baseUrl: string }).baseUrl;

  it('are 4000 and 4101–4104 unless the environment chooses others, each stand-in’s port and its source’s baseUrl from one variable', () => {
    const plain = parseWith({});
    expect(plain.server.port).toBe(4000);
    expect(plain.demo!.ports).toEqual({ support: 4101, scrm: 4102, wecom: 4103, marketplace: 4104 });
    const moved = parseWith({
      C360_PORT: '5000',
      C360_DEMO_PORT_SUPPORT: '5101',
      C360_DEMO_PORT_SCRM: '5102',
      C360_DEMO_PORT_WECOM: '5103',
      C360_DEMO_PORT_MARKETPLACE: '5104',
    });
    expect(moved.server.port).toBe(5000);
    for (const [name, port] of Object.entries({ support: 5101, scrm: 5102, wecom: 5103, marketplace: 5104 })) {
      expect(moved.demo!.ports[name]).toBe(port);
      expect(baseUrlOf(moved, name)).toBe(`http://127.0.0.1:${port}`);
    }
  });

  it('refuses a stand-in port its source does not read (BAD_CONFIG naming both keys): the gateway would read another process’s stand-in', () => {
    const raw = demoConfig();
    raw.demo.ports.scrm = 5102;
    raw.demo.ports.wecom = 0;
    const error = configError(() => parseWith({}, raw));
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message.split('\n').slice(1)).toEqual([
      '  demo.ports.scrm: the stand-in would listen on port 5102 while sources[scrm].baseUrl reads port 4102: set both to one port (npm start: C360_DEMO_PORT_SCRM)',
      '  demo.ports.wecom: the stand-in would listen on any free port while sources[wecom].baseUrl reads port 4103: set both to one port (npm start: C360_DEMO_PORT_WECOM)',
    ]);
  });
});
