import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');

/** config/demo.json as raw JSON, to change one key of. */
export const demoConfig = () => JSON.parse(fs.readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));

/** parseConfig as the gateway runs it from the project root. */
export const parseDemo = (raw: unknown, file = 'demo.json') => parseConfig(raw, file, {}, ROOT);

/** The ConfigError `parse` throws; no error, or another kind, fails the test. */
export function configError(parse: () => unknown): ConfigError {
  try {
    parse();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected the config to be refused');
}
