/**
 * SOQL built as SQL is: every value the query carries is an id checked to be one, quoted and
 * escaped by Salesforce's rules, or an instant written in SOQL's own format. Nothing a client or
 * a record sends is ever spliced in as text.
 *
 * Salesforce's rules (developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm):
 * a string literal is single-quoted, and a backslash escapes `\n \r \t \b \f \" \' \\` inside it;
 * any other backslash is an error. Dates are written unquoted (`2005-10-08T01:02:03Z`,
 * .../sforce_api_calls_soql_select_dateformats.htm), whole seconds only.
 */

const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '"': '\\"', "'": "\\'", '\\': '\\\\' };

/** `s` as a SOQL string literal. Control characters SOQL has no escape for are refused: they belong in no value we send. */
export function soqlString(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0007\u000b\u000e-\u001f]/.test(s)) throw new Error('soqlString: a control character SOQL cannot escape');
  return `'${s.replace(/[\n\r\t\b\f"'\\]/g, (c) => ESCAPES[c])}'`;
}

const ID_CHARS = /^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$/;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The three characters Salesforce appends to a 15-character id (case-sensitive) to make the 18-character one (case-safe). */
function suffixOf(id15: string): string {
  let out = '';
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(block * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    out += SUFFIX_ALPHABET[bits];
  }
  return out;
}

/**
 * The 18-character form of a record id, or null for anything that is not one: 15 letters and
 * digits, or 18 whose last three are the checksum of the first fifteen's case. With `prefix`,
 * the id must also be of that object (its key prefix: `003` a Contact, `00T` a Task).
 */
export function salesforceId(raw: unknown, prefix?: string): string | null {
  if (typeof raw !== 'string' || !ID_CHARS.test(raw)) return null;
  const head = raw.slice(0, 15);
  if (prefix !== undefined && !head.startsWith(prefix)) return null;
  const id = head + suffixOf(head);
  return raw.length === 18 && raw !== id ? null : id;
}

/** An instant in SOQL's dateTime format, whole seconds, rounded down (`2024-03-01T08:15:00Z`). */
export function soqlDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `field IN ('id', …)` for ids already checked with `salesforceId`. */
export function idsIn(field: string, ids: readonly string[]): string {
  return `${field} IN (${ids.map(soqlString).join(',')})`;
}
