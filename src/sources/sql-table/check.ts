/**
 * The start-up check of a `sql-table` instance: its mapping against the real table.
 *
 * The table exists (a table, not a view), every mapped column exists (exact spelling: rows
 * come back keyed by the name as written), each column's type is one its conversion can read
 * (`unixSeconds` an integer, `local` text or DATETIME, …), and the key is the primary key or
 * leads an index, so a batch lookup never reads the whole table.
 *
 * Messages name the config key at fault *relative to the instance*, starting at the option
 * (`profile.fields.phone.column: …`, `identifiers[0].column: …`): the registry prefixes
 * `sources[<name>].` to each line. All problems are reported at once, one per line.
 */
import type { ProfileField } from '../../capabilities';
import type { ColumnShape, SqlTableConnector, TableShape } from './connector';
import { columnClassesFor, describeConversion, type ColumnClass, type ColumnMapping, type SqlTableOptions } from './mapping';

/** A failed start-up check; `problems` holds one message per line of `message`. */
export class SqlTableCheckError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'SqlTableCheckError';
  }
}

/**
 * Reads the mapped table's description through the connector and throws SqlTableCheckError when the
 * mapping does not fit it. A database that does not answer rejects with the connector's SourceError,
 * as for the crm and shop kinds: the instance is left unchecked, not refused (a source may be down at start).
 */
export async function checkSqlTable(connector: SqlTableConnector): Promise<void> {
  const shape: TableShape = await connector.describeTable();
  const problems = mappingProblems(connector.options, shape);
  if (problems.length > 0) throw new SqlTableCheckError(problems);
}

const KEY_CLASSES: readonly ColumnClass[] = ['text', 'integer', 'decimal', 'any', 'other'];
const IDENTIFIER_CLASSES: readonly ColumnClass[] = ['text', 'integer', 'decimal', 'any', 'other'];

/** Pure: what is wrong with `options` against `shape`, as `key: message` lines (none when it fits). */
export function mappingProblems(options: SqlTableOptions, shape: TableShape): string[] {
  const { profile } = options;
  const table = profile.table;
  if (!shape.exists) return [`profile.table: table "${table}" does not exist in the database (or this connection may not see it)`];
  if (shape.view) return [`profile.table: "${table}" is a view; map a table (a view has no index to look its key up by)`];

  const problems: string[] = [];
  const byName = new Map(shape.columns.map((c) => [c.name, c]));
  const listing = columnListing(shape.columns);

  /** The column, or null after recording why not. */
  const column = (key: string, name: string): ColumnShape | null => {
    const c = byName.get(name);
    if (c) return c;
    const near = shape.columns.find((x) => x.name.toLowerCase() === name.toLowerCase());
    problems.push(
      near
        ? `${key}: column "${name}" does not exist in table ${table}; it is spelled "${near.name}" (columns: ${listing})`
        : `${key}: column "${name}" does not exist in table ${table} (columns: ${listing})`,
    );
    return null;
  };

  const converted = (key: string, m: ColumnMapping, convertKey: string) => {
    const c = column(key, m.column);
    if (!c) return;
    const accepts = columnClassesFor(m.convert);
    if (!accepts.includes(c.class))
      problems.push(
        `${convertKey}: column ${m.column} is ${c.type} (${c.class}); a ${describeConversion(m.convert)} conversion reads ${accepts
          .filter((a) => a !== 'any')
          .join(', ')} columns`,
      );
  };

  const key = column('profile.key', profile.key);
  if (key) {
    if (!KEY_CLASSES.includes(key.class)) problems.push(`profile.key: column ${profile.key} is ${key.type} (${key.class}); a record key must be text or an integer`);
    if (!shape.indexes.some((i) => i.columns[0] === profile.key))
      problems.push(
        `profile.key: column ${profile.key} is neither the primary key nor the first column of an index of table ${table}; every lookup would read the whole table (indexes: ${
          shape.indexes.map((i) => `${i.name}(${i.columns.join(', ')})`).join(', ') || 'none'
        })`,
      );
  }
  converted('profile.updatedAt', profile.updatedAt, 'profile.updatedAt');
  if (profile.createdAt) converted('profile.createdAt', profile.createdAt, 'profile.createdAt');
  for (const [field, m] of Object.entries(profile.fields) as Array<[ProfileField, ColumnMapping]>)
    converted(`profile.fields.${field}.column`, m, `profile.fields.${field}.convert`);
  profile.filter.forEach((f, i) => column(`profile.filter[${i}].column`, f.column));
  for (const [trait, c] of Object.entries(options.traits ?? {})) if (c) column(`traits.${trait}`, c);
  options.identifiers.forEach((id, i) => {
    const c = column(`identifiers[${i}].column`, id.column);
    if (c && !IDENTIFIER_CLASSES.includes(c.class))
      problems.push(`identifiers[${i}].column: column ${id.column} is ${c.type} (${c.class}); an identifier must be text or an integer`);
  });
  return problems;
}

function columnListing(columns: readonly ColumnShape[]): string {
  const names = columns.map((c) => c.name);
  return names.length > 30 ? `${names.slice(0, 30).join(', ')}, …` : names.join(', ');
}
