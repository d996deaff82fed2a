/**
 * CLI: reading the command line. Every mistake is a UsageError (status 2, with the usage),
 * never a stack; --help anywhere answers the help of what comes before it.
 */
import path from 'node:path';
import { parseArgs, UsageError } from '../../src/cli';

const env = {} as NodeJS.ProcessEnv;

describe('CLI: arguments', () => {
  it('starts with the demo config when given nothing', () => {
    expect(parseArgs([], env)).toEqual({ command: 'start', config: path.resolve('config/demo.json'), args: {} });
    expect(parseArgs([], { C360_CONFIG: 'x.json' })).toMatchObject({ command: 'start', config: path.resolve('x.json') });
  });

  it('never falls back to the demo config in production: the config must be named', () => {
    const production = { NODE_ENV: 'production' } as NodeJS.ProcessEnv;
    for (const argv of [[], ['start'], ['resolve'], ['check-config']])
      expect(() => parseArgs(argv, production)).toThrow(/no config named: set \$C360_CONFIG or give --config/);
    expect(() => parseArgs(['resolve'], production)).toThrow(UsageError);
    expect(parseArgs(['start', '--config', 'prod.json'], production)).toMatchObject({ config: path.resolve('prod.json') });
    expect(parseArgs([], { ...production, C360_CONFIG: 'prod.json' })).toMatchObject({ command: 'start', config: path.resolve('prod.json') });
    // Asking for help needs no config.
    expect(parseArgs(['start', '--help'], production)).toHaveProperty('help');
  });

  it('answers --help, help and help <command> with usage text', () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = parseArgs(argv, env) as { help: string };
      expect(r.help).toMatch(/^usage: c360 <command>/);
      for (const c of ['start', 'resolve', 'schema', 'check-config']) expect(r.help).toContain(`  ${c} `);
    }
    expect((parseArgs(['schema', '--help'], env) as { help: string }).help).toMatch(/^usage: c360 schema --role ROLE \[--config FILE\]/);
    expect((parseArgs(['help', 'check-config'], env) as { help: string }).help).toMatch(/^usage: c360 check-config/);
  });

  it('reads --config and a command option, with a space or an equals sign', () => {
    expect(parseArgs(['schema', '--role', 'marketing', '--config', 'a.json'], env)).toEqual({
      command: 'schema',
      config: path.resolve('a.json'),
      args: { role: 'marketing' },
    });
    expect(parseArgs(['schema', '--role=sales'], env)).toMatchObject({ args: { role: 'sales' } });
  });

  it('reads a flag, an option without a value', () => {
    expect(parseArgs(['resolve', '--recompare'], env)).toMatchObject({ command: 'resolve', args: { recompare: 'true' } });
    expect(parseArgs(['resolve', '--recompare', '--config', 'a.json'], env)).toMatchObject({ config: path.resolve('a.json'), args: { recompare: 'true' } });
    expect(parseArgs(['resolve'], env)).toMatchObject({ args: {} });
    expect(parseArgs(['resolve', '--restage', '--recompare'], env)).toMatchObject({ args: { recompare: 'true', restage: 'true' } });
    expect((parseArgs(['resolve', '--help'], env) as { help: string }).help).toMatch(/^usage: c360 resolve \[--recompare\] \[--restage\] \[--config FILE\]/);
  });

  it.each([
    [['resolve', '--recompare=yes'], '--recompare=yes: --recompare takes no value'],
    [['launch'], 'unknown command launch'],
    [['start', '--port', '1'], 'unknown argument --port for start'],
    [['schema', '--role'], '--role needs a value'],
    [['schema', '--role', '--config'], '--role needs a value'],
    [['help', 'launch'], 'unknown command launch'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseArgs(argv, env)).toThrow(UsageError);
    expect(() => parseArgs(argv, env)).toThrow(message);
  });
});
