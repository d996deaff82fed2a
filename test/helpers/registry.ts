/**
 * A source registry as the demo config declares it, for tests that need the schema or the
 * capabilities but no live system: connectors open their databases and sockets lazily, so
 * building one calls nothing.
 */
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { noopObserver } from '../../src/sources/observe';
import { createRegistry, type SourceRegistry } from '../../src/sources/registry';

let cached: SourceRegistry | null = null;

export function demoRegistry(): SourceRegistry {
  return (cached ??= createRegistry(loadConfig(path.resolve(__dirname, '../../config/demo.json')).sources, noopObserver));
}
