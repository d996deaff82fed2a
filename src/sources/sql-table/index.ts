/**
 * Source kind `sql-table`: a company's own MySQL/SQLite table mapped to the profile capability
 * by config alone, checked against the real table at start-up.
 *
 *   { "name": "crm_mapped", "kind": "sql-table",
 *     "connection": { "client": "mysql", "url": "${CRM_DB_URL}" },
 *     "profile": { "table": "crm_contacts", "key": "contact_id",
 *                  "updatedAt": { "column": "updated_at", "convert": { "type": "time", "format": "local", "zone": "Asia/Shanghai" } },
 *                  "fields": { "phone": { "column": "mobile" }, "gender": { "column": "gender", "convert": { "type": "gender", "codes": { "M": "MALE", "F": "FEMALE" } } } } },
 *     "identifiers": [{ "kind": "PHONE", "column": "mobile" }] }
 *
 * The mapping and its conversions: mapping.ts. The connector: connector.ts. The check, whose
 * messages name keys relative to the instance (`profile.fields.phone.column: …`, the
 * registry prefixes `sources[<name>].`): check.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProfileCapability, ProfileField } from '../../capabilities';
import { defineSourceKind } from '../kind';
import { checkSqlTable } from './check';
import { createSqlTableConnector, type SqlProfileRecord, type SqlTableConnector } from './connector';
import { optionsSchema, type SqlTableOptions } from './mapping';
import { sqlTableResolvers } from './resolvers';

export type { SqlProfileRecord, SqlTableConnector } from './connector';
export type { SqlTableOptions } from './mapping';

/** The profile capability of one instance: exactly the fields its mapping feeds. */
export function profileCapability(connector: SqlTableConnector): ProfileCapability<SqlProfileRecord> {
  return {
    fields: Object.keys(connector.options.profile.fields) as ProfileField[],
    operation: 'recordsByIds',
    records: (ids, account) => connector.recordsByIds(ids, account),
    recordIdsWhere: (field, values, account) => connector.recordIdsWhere(field, values, account),
    // As recordIdsWhere decides: a column mapped as it is, or as text, compares in SQL.
    searchable: (Object.entries(connector.options.profile.fields) as Array<[ProfileField, { convert?: { type: string } }]>)
      .filter(([, m]) => !m.convert || m.convert.type === 'text')
      .map(([f]) => f),
    // UNKNOWN says nothing about a person: no candidate, so it never outvotes a known gender.
    // A table that maps registeredAt but names no createdAt was created when the person registered:
    // else `earliest` would rank its registration as an unknown time, below every other source's.
    view: (r) => ({
      recordId: r.id,
      updatedAt: r.updatedAt,
      createdAt: r.createdAt ?? (typeof r.values.registeredAt === 'string' ? r.values.registeredAt : null),
      values: { ...r.values, ...(r.values.gender === 'UNKNOWN' ? { gender: null } : {}) },
    }),
  };
}

export const kind = defineSourceKind<SqlTableOptions, SqlTableConnector>({
  kind: 'sql-table',
  title: 'A SQL table (MySQL/MariaDB or SQLite) mapped to the profile capability by config',
  options: optionsSchema,
  resolvePaths: (o, resolve) => (o.connection.client === 'sqlite' ? { ...o, connection: { ...o.connection, filename: resolve(o.connection.filename) } } : o),
  create: (name, options, observer, settings) => createSqlTableConnector(name, options, observer, settings?.phoneRegion),
  check: checkSqlTable,
  capabilities: (connector) => ({ profile: profileCapability(connector) }),
  sdl: fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'),
  resolvers: sqlTableResolvers,
});
