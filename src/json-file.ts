import fs from 'node:fs';

/**
 * A JSON file a person wrote (config, policy, rules, weights): read, a UTF-8 byte-order mark
 * dropped (editors on Windows save one, and JSON.parse refuses it), parsed. Either failure is
 * thrown as `fail` makes it, with a message naming the file: `<file>: cannot read <what> (<code>)`
 * or `<file>: not valid JSON (<reason>)`.
 */
export function readJsonFile(file: string, what: string, fail: (message: string, cause: unknown) => Error): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw fail(`${file}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw fail(`${file}: not valid JSON (${(e as Error).message})`, e);
  }
}
