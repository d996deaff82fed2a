/**
 * A benchmark's command line: its flags read strictly (node:util `parseArgs`), so a mistyped or
 * unknown flag stops it at once with exit 2 instead of running the default for minutes, and
 * `--help` prints the benchmark's own header comment (its usage) and exits 0 before any work.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

type FlagSpec = Record<string, { type: 'string' | 'boolean' }>;
type FlagValues<T extends FlagSpec> = { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string };

/** The leading `/** … *\/` comment of `file`, without its stars: the usage a benchmark documents. */
export function usageOf(file: string): string {
  const head = /^\s*\/\*\*([\s\S]*?)\*\//.exec(fs.readFileSync(file, 'utf8'));
  if (!head) return '';
  return `${head[1]
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim()}\n`;
}

/** Exits 2 with `bench:NAME: message` and a pointer to `--help`. */
export function refuse(name: string, message: string): never {
  process.stderr.write(`bench:${name}: ${message} (--help lists the flags)\n`);
  process.exit(2);
}

/** Reads `argv` (the process's own by default) against `options`; `file` is the benchmark's source (`__filename`). */
export function benchFlags<T extends FlagSpec>(file: string, name: string, options: T, argv: string[] = process.argv.slice(2)): FlagValues<T> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (e) {
    refuse(name, (e as Error).message);
  }
  if (values.help) {
    process.stdout.write(usageOf(file));
    process.exit(0);
  }
  return values as FlagValues<T>;
}

/** A whole-number flag of at least `min`, or `fallback` when absent; anything else exits 2 naming the flag. */
export function wholeNumber(name: string, flag: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) refuse(name, `--${flag} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** A comma-separated flag's names, or `fallback` when absent; an empty list exits 2 naming the flag. */
export function commaList(name: string, flag: string, raw: string | undefined, fallback: string[]): string[] {
  if (raw === undefined) return fallback;
  const names = raw
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) refuse(name, `--${flag} needs a comma-separated list`);
  return names;
}
