/**
 * Errors as a log line may carry them: without the data they were about. A failed statement's
 * message from knex embeds the SQL with its bindings interpolated (`… where match_key in
 * ('+8613800138000') - Connection lost`); drivers and HTTP clients quote values too. Before any
 * error reaches a log line it passes through here: SQL and every literal are cut away, what is
 * left is the error's kind and cause.
 */

/** Keywords a statement starts with, as knex prefixes them to a driver's message. */
const SQL_START = /^\s*(select|insert|update|delete|with|create|alter|drop|pragma|replace|begin|commit|rollback|set)\b/i;

/** What a log line may say about an error. */
export interface SafeError {
  name: string;
  /** The driver's or system's code (`ER_LOCK_WAIT_TIMEOUT`, `ECONNRESET`, `SQLITE_ERROR`), never data. */
  code?: string;
  message: string;
}

/** A message with SQL and every literal removed. */
export function scrubMessage(message: string): string {
  let m = message;
  // knex: "<sql> - <driver message>": keep only the driver's part.
  if (SQL_START.test(m)) {
    const cut = m.lastIndexOf(' - ');
    m = cut >= 0 ? `[statement] - ${m.slice(cut + 3)}` : '[statement]';
  }
  return (
    m
      // Quoted literals of any kind, then anything that still looks like a contact point or an id.
      .replace(/'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, '?')
      .replace(/[^\s@,;:()<>]+@[^\s@,;:()<>]+\.[A-Za-z]{2,}/g, '?')
      .replace(/\+?\d[\d\s-]{5,}\d/g, '?')
      .replace(/\b[A-Za-z0-9_-]{20,}\b/g, '?')
      .slice(0, 300)
  );
}

/** The loggable face of anything thrown. */
export function safeError(e: unknown): SafeError {
  if (!(e instanceof Error)) return { name: typeof e, message: '[not an Error]' };
  const code = (e as { code?: unknown }).code;
  return {
    name: e.name,
    ...(typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code) ? { code } : {}),
    message: scrubMessage(e.message),
  };
}
