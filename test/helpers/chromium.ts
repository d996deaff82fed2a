/**
 * Debian's `chromium` for browser tests, driven by playwright-core (which ships no browser).
 * `.ci/run` installs it when missing; under CI=true a missing browser fails the test that needs
 * it, elsewhere the test is skipped with a loud message.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The chromium binary: $C360_CHROMIUM, else the first `chromium`/`chromium-browser` on PATH. */
export function findChromium(): string | null {
  if (process.env.C360_CHROMIUM) return fs.existsSync(process.env.C360_CHROMIUM) ? process.env.C360_CHROMIUM : null;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin'])) {
    for (const name of ['chromium', 'chromium-browser']) {
      const file = path.join(dir, name);
      if (fs.existsSync(file)) return file;
    }
  }
  return null;
}

/** `describe`, or (without chromium, outside CI) `describe.skip` after a loud warning. Under CI=true it never skips. */
export function describeWithChromium(name: string, fn: (chromium: () => string) => void): void {
  const found = findChromium();
  if (!found && process.env.CI !== 'true') {
    process.stderr.write(`\n*** ${name}: SKIPPED: no chromium found (apt-get install chromium, or set C360_CHROMIUM). Under CI=true this fails. ***\n\n`);
    describe.skip(name, () => fn(() => ''));
    return;
  }
  describe(name, () =>
    fn(() => {
      if (!found) throw new Error('CI=true and no chromium: install it (apt-get install chromium) or set C360_CHROMIUM');
      return found;
    }),
  );
}
