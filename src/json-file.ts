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
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(json);
  } catch (e) {
    throw fail(`${file}: not valid JSON (${syntaxReason((e as Error).message, json)})`, e);
  }
}

/** How many characters of the file V8 quotes on each side of a syntax error. */
const QUOTED_CONTEXT = 10;

/**
 * JSON.parse's reason, without the piece of the file V8 quotes in it (`Unexpected token 'S',
 * ..."pSecret": S3cretValu"... is not valid JSON`): a config may hold a secret beside the mistake,
 * and the message goes to a terminal, CI logs, a supervisor's journal. The line is given instead.
 */
export function syntaxReason(message: string, json: string): string {
  const lineAt = (i: number) => json.slice(0, i).split('\n').length;
  const quoted = /^(.*?), (\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/.exec(message);
  if (quoted) {
    const [, what, cut, context] = quoted;
    const reason = what.replace(/^Unexpected token .*$/s, 'Unexpected token');
    const at = json.indexOf(context);
    return at < 0 ? reason : `${reason} at line ${lineAt(at + (cut ? QUOTED_CONTEXT : 0))}`;
  }
  const position = / at position (\d+)/.exec(message);
  return position ? `${message} (line ${lineAt(Number(position[1]))})` : message;
}
