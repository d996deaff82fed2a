/**
 * The access policy: data (config/access.json) checked against the full schema at start-up.
 * Every problem is reported at once, each naming the file and the key (`roles.sales.grant.Foo`),
 * so a typo stops the process instead of silently hiding or exposing a field at query time.
 *
 * Rules the policy encodes (see POLICY.md for the default table):
 *  - deny by default: a type or field not granted is absent from the role's schema;
 *  - wildcards (`"*"`) never grant a personal field: personal fields are granted by name;
 *  - the type wildcard never covers Mutation or Subscription: they are granted by name, so a
 *    Mutation added later is denied to every role that does not name it;
 *  - a masked field is granted (masked); `"none"` unmasks a field a parent role masked.
 */
import path from 'node:path';
import crypto from 'node:crypto';
import {
  isEnumType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  getNamedType,
  parse,
  type GraphQLField,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { z } from 'zod';
import { PolicyFile, SafelistFile, type Limits, type MaskSpecInput, type MaskStyle, type RoleEntry, type RowScope } from './config';
import { readJsonFile } from '../json-file';

export class PolicyError extends Error {
  readonly code = 'BAD_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** A mask resolved against the schema. Parent values are mapped to GraphQL names (the enum's upper-case names, not the internal values). */
export type FieldMask =
  { kind: 'style'; style: Exclude<MaskStyle, 'none'> } | { kind: 'byParent'; parentField: string; styles: ReadonlyMap<string, MaskStyle>; otherwise: MaskStyle };

/** When a personal field holds personal data: always, or only when sibling fields have some values. */
export interface PersonalRule {
  /** Sibling field → GraphQL values (enum names) for which the field is personal. Absent: always. */
  when?: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface RolePolicy {
  name: string;
  description?: string;
  /** Type → fields the role sees (masked or not). Types absent here are absent from the role's schema. */
  fields: ReadonlyMap<string, ReadonlySet<string>>;
  /** `Type.field` → mask, for granted fields shown masked. */
  masks: ReadonlyMap<string, FieldMask>;
  rowScope: RowScope | null;
  limits: Limits;
  persistedOnly: boolean;
  /** Whose saved segments the role may change and delete (with the mutations granted): its principal's own, or any. */
  segments: 'own' | 'any';
}

export interface Policy {
  /** The file the policy came from, for messages. */
  source: string;
  roles: ReadonlyMap<string, RolePolicy>;
  /** `Type.field` → when it is personal. Includes fields treated as personal by their name. */
  personal: ReadonlyMap<string, PersonalRule>;
  /** sha256 hex of the query text → query text. */
  safelist: ReadonlyMap<string, string>;
  /** Not errors, but worth a log line at start-up (unclassified personal-looking fields, dead grants). */
  warnings: string[];
}

/** Field names that hold personal data wherever they appear, unless the policy says otherwise. */
const PERSONAL_NAME =
  /^(name|realName|fullName|firstName|lastName|nickname|phone|mobile|tel|telephone|email|birthday|birthdate|dateOfBirth|dob|address|street|city|province|district|postcode|zipcode|zip|idCard|idNumber|passport|openid|unionid)$/i;

const ROOT_ONLY_BY_NAME = new Set(['Mutation', 'Subscription']);

type Issues = string[];

type FieldsType = GraphQLObjectType | GraphQLInterfaceType;

const isComposite = (t: GraphQLNamedType | undefined | null): t is FieldsType => !!t && (isObjectType(t) || isInterfaceType(t));

function compositeTypes(schema: GraphQLSchema): FieldsType[] {
  return Object.values(schema.getTypeMap()).filter((t): t is FieldsType => !t.name.startsWith('__') && isComposite(t));
}

function fieldOf(schema: GraphQLSchema, typeName: string, fieldName: string): GraphQLField<unknown, unknown> | undefined {
  const t = schema.getType(typeName);
  return isComposite(t) ? t.getFields()[fieldName] : undefined;
}

/**
 * Checks `Type.field` exists; returns the field or records an issue at `key`. A type in `optional`
 * (one of a source kind this deployment does not configure) is absent without an issue.
 */
function checkRef(schema: GraphQLSchema, ref: string, key: string, issues: Issues, optional: ReadonlySet<string> = NONE) {
  const [typeName, fieldName] = ref.split('.');
  const t = schema.getType(typeName);
  if (!t && optional.has(typeName)) return;
  if (!t) return void issues.push(`${key}: unknown type "${typeName}"`);
  if (!isComposite(t)) return void issues.push(`${key}: "${typeName}" is not an object type`);
  const f = fieldOf(schema, typeName, fieldName);
  if (!f && optional.has(ref)) return;
  if (!f) return void issues.push(`${key}: unknown field "${fieldName}" on ${typeName}`);
  return f;
}

/** The GraphQL names a sibling field can take (enum value names), or null for free scalars. */
function siblingValues(schema: GraphQLSchema, typeName: string, sibling: string, key: string, issues: Issues): Set<string> | null | undefined {
  const f = fieldOf(schema, typeName, sibling);
  if (!f) return void issues.push(`${key}: unknown field "${sibling}" on ${typeName}`);
  const t = getNamedType(f.type);
  if (isEnumType(t)) {
    const values = new Set(t.getValues().map((v) => v.name));
    // Source names are the deployment's instances: one policy may serve deployments with other sources.
    return t.name === 'SourceName' ? Object.assign(values, { lenient: true }) : values;
  }
  if (isScalarType(t)) return null;
  return void issues.push(`${key}: "${typeName}.${sibling}" must be an enum or scalar field to choose by`);
}

/**
 * Values must be among `allowed`. For source names (`lenient`), one this deployment does not
 * configure is a warning, not an error: the policy may be shared by deployments with other sources.
 */
function checkValues(allowed: (Set<string> & { lenient?: boolean }) | null | undefined, values: Iterable<string>, key: string, issues: Issues, warnings: string[]) {
  if (!allowed) return;
  for (const v of values) {
    if (allowed.has(v)) continue;
    if (allowed.lenient && /^[A-Z][A-Z0-9_]*$/.test(v))
      warnings.push(`${key}: "${v}" is not a configured source (kept for deployments that have it; configured: ${[...allowed].join(', ')})`);
    else issues.push(`${key}: "${v}" is not one of ${[...allowed].join(', ')}`);
  }
}

function resolveMask(
  schema: GraphQLSchema,
  ref: string,
  spec: MaskSpecInput,
  key: string,
  issues: Issues,
  warnings: string[],
  optional: ReadonlySet<string>,
): FieldMask | 'none' | undefined {
  const f = checkRef(schema, ref, key, issues, optional);
  if (!f) return;
  if (!isScalarType(getNamedType(f.type))) return void issues.push(`${key}: only scalar fields can be masked`);
  if (typeof spec === 'string') return spec === 'none' ? 'none' : { kind: 'style', style: spec };
  const typeName = ref.split('.')[0];
  const allowed = siblingValues(schema, typeName, spec.byParent, `${key}.byParent`, issues);
  checkValues(allowed, Object.keys(spec.styles), `${key}.styles`, issues, warnings);
  return { kind: 'byParent', parentField: spec.byParent, styles: new Map(Object.entries(spec.styles)), otherwise: spec.otherwise };
}

function readJson(file: string, what: string): unknown {
  return readJsonFile(file, what, (message) => new PolicyError(message));
}

function zodIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => `${prefix}${i.path.join('.') || '(root)'}: ${i.message}`);
}

/** Loads a safelist file: every key must be the sha256 of its query, and every query must parse. */
export function loadSafelist(file: string): Map<string, string> {
  const result = SafelistFile.safeParse(readJson(file, 'safelist'));
  if (!result.success) throw new PolicyError(`${file}: invalid safelist:\n  ${zodIssues(result.error).join('\n  ')}`);
  const issues: Issues = [];
  for (const [hash, query] of Object.entries(result.data)) {
    if (sha256Hex(query) !== hash) issues.push(`${hash}: is not the sha256 of its query`);
    try {
      parse(query);
    } catch (e) {
      issues.push(`${hash}: query does not parse (${(e as Error).message})`);
    }
  }
  if (issues.length) throw new PolicyError(`${file}: invalid safelist:\n  ${issues.join('\n  ')}`);
  return new Map(Object.entries(result.data));
}

export const sha256Hex = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/**
 * Validates a parsed policy object against the full schema. `where` names it in errors;
 * `baseDir` resolves the safelist path. Throws PolicyError listing every problem.
 */
const NONE: ReadonlySet<string> = new Set();

/**
 * Validates a policy against the schema. `optionalTypes`: types the policy may name that this
 * schema lacks, because they belong to source kinds the deployment does not configure (one
 * policy serves deployments with different sources); refs to them are dropped, not errors.
 */
export function parsePolicy(raw: unknown, where: string, schema: GraphQLSchema, baseDir = process.cwd(), optionalTypes: ReadonlySet<string> = NONE): Policy {
  const parsed = PolicyFile.safeParse(raw);
  if (!parsed.success) throw new PolicyError(`${where}: invalid access policy:\n  ${zodIssues(parsed.error).join('\n  ')}`);
  const file = parsed.data;
  const issues: Issues = [];
  const warnings: string[] = [];

  // ----- classification -----
  const notPersonal = new Set<string>();
  file.notPersonal.forEach((ref, i) => checkRef(schema, ref, `notPersonal[${i}]`, issues, optionalTypes) && notPersonal.add(ref));
  const personal = new Map<string, PersonalRule>();
  file.personal.forEach((entry, i) => {
    const key = `personal[${i}]`;
    const ref = typeof entry === 'string' ? entry : entry.field;
    if (!checkRef(schema, ref, key, issues, optionalTypes)) return;
    if (notPersonal.has(ref)) issues.push(`${key}: "${ref}" is also listed in notPersonal`);
    if (typeof entry === 'string') return void personal.set(ref, {});
    const when = new Map<string, Set<string>>();
    for (const [sibling, values] of Object.entries(entry.when)) {
      checkValues(siblingValues(schema, ref.split('.')[0], sibling, `${key}.when.${sibling}`, issues), values, `${key}.when.${sibling}`, issues, warnings);
      when.set(sibling, new Set(values));
    }
    personal.set(ref, { when });
  });
  for (const t of compositeTypes(schema)) {
    for (const f of Object.keys(t.getFields())) {
      const ref = `${t.name}.${f}`;
      if (PERSONAL_NAME.test(f) && !personal.has(ref) && !notPersonal.has(ref)) {
        personal.set(ref, {});
        warnings.push(`${where}: ${ref} looks like personal data and is not classified; treated as personal (list it under "personal" or "notPersonal")`);
      }
    }
  }

  // ----- safelist -----
  let safelist = new Map<string, string>();
  if (file.safelist) {
    try {
      safelist = loadSafelist(path.resolve(baseDir, file.safelist));
    } catch (e) {
      issues.push(`safelist: ${(e as Error).message}`);
    }
  }

  // ----- roles -----
  const roles = new Map<string, RolePolicy>();
  const resolving = new Set<string>();
  const resolveRole = (name: string, key: string): RolePolicy | undefined => {
    const done = roles.get(name);
    if (done) return done;
    const entry = file.roles[name];
    if (!entry) return void issues.push(`${key}: unknown role "${name}"`);
    if (resolving.has(name)) return void issues.push(`${key}: role "${name}" extends itself (${[...resolving, name].join(' → ')})`);
    resolving.add(name);
    const parent = entry.extends !== undefined ? resolveRole(entry.extends, `roles.${name}.extends`) : undefined;
    resolving.delete(name);
    const role = resolveEntry(schema, name, entry, parent, file.defaults.limits, personal, issues, warnings, where, optionalTypes);
    if (role.persistedOnly && !file.safelist) issues.push(`roles.${name}.persistedOnly: needs a "safelist" file in the policy`);
    roles.set(name, role);
    return role;
  };
  for (const name of Object.keys(file.roles)) resolveRole(name, `roles.${name}`);

  if (issues.length) throw new PolicyError(`${where}: invalid access policy:\n  ${[...new Set(issues)].join('\n  ')}`);
  return { source: where, roles, personal, safelist, warnings };
}

function resolveEntry(
  schema: GraphQLSchema,
  name: string,
  entry: RoleEntry,
  parent: RolePolicy | undefined,
  defaultLimits: Limits,
  personal: ReadonlyMap<string, PersonalRule>,
  issues: Issues,
  warnings: string[],
  where: string,
  optionalTypes: ReadonlySet<string>,
): RolePolicy {
  const fields = new Map<string, Set<string>>();
  const grant = (typeName: string, fieldName: string) => {
    let s = fields.get(typeName);
    if (!s) fields.set(typeName, (s = new Set()));
    s.add(fieldName);
  };
  for (const [t, fs] of parent?.fields ?? []) for (const f of fs) grant(t, f);

  const everyNonPersonal = (t: FieldsType) => {
    for (const f of Object.keys(t.getFields())) if (!personal.has(`${t.name}.${f}`)) grant(t.name, f);
  };
  const rootNames = new Set([schema.getMutationType()?.name, schema.getSubscriptionType()?.name, ...ROOT_ONLY_BY_NAME]);

  for (const [typeName, list] of Object.entries(entry.grant)) {
    const key = `roles.${name}.grant.${typeName}`;
    if (typeName === '*') {
      if (list.length !== 1 || list[0] !== '*') issues.push(`${key}: the type wildcard takes only ["*"]`);
      else for (const t of compositeTypes(schema)) if (!rootNames.has(t.name)) everyNonPersonal(t);
      continue;
    }
    const t = schema.getType(typeName);
    // Granting a root type the schema does not have yet (Mutation before the first mutation lands) is allowed,
    // so the policy can say today who gets mutations tomorrow; every other unknown type is a typo.
    if (!t && ROOT_ONLY_BY_NAME.has(typeName) && list.length === 1 && list[0] === '*') continue;
    if (!t && optionalTypes.has(typeName)) continue;
    if (!t) {
      issues.push(`${key}: unknown type "${typeName}"`);
      continue;
    }
    if (!isComposite(t)) {
      issues.push(`${key}: "${typeName}" is not an object type (scalars, enums and inputs follow the fields that use them)`);
      continue;
    }
    const typeFields = t.getFields();
    list.forEach((f, i) => {
      if (f === '*') everyNonPersonal(t);
      else if (!(f in typeFields)) {
        if (!optionalTypes.has(`${typeName}.${f}`)) issues.push(`${key}[${i}]: unknown field "${f}" on ${typeName}`);
      } else grant(typeName, f);
    });
  }

  const masks = new Map<string, FieldMask>(parent?.masks ?? []);
  for (const [ref, spec] of Object.entries(entry.mask)) {
    const m = resolveMask(schema, ref, spec, `roles.${name}.mask.${ref}`, issues, warnings, optionalTypes);
    if (!m) continue;
    const [typeName, fieldName] = ref.split('.');
    grant(typeName, fieldName);
    if (m === 'none') masks.delete(ref);
    else masks.set(ref, m);
  }

  // A grant that leads nowhere (a field whose type the role cannot see) is dropped from the role's schema; say so.
  for (const [typeName, fs] of fields) {
    for (const f of fs) {
      const target = getNamedType(fieldOf(schema, typeName, f)!.type);
      if (isComposite(target) && !fields.has(target.name)) {
        warnings.push(`${where}: roles.${name}.grant.${typeName}: "${f}" returns ${target.name}, which the role is not granted; the field is left out`);
      }
    }
  }

  return {
    name,
    description: entry.description ?? parent?.description,
    fields,
    masks,
    rowScope: entry.rowScope !== undefined ? entry.rowScope : (parent?.rowScope ?? null),
    limits: { ...defaultLimits, ...(parent?.limits ?? {}), ...(entry.limits ?? {}) },
    persistedOnly: entry.persistedOnly ?? parent?.persistedOnly ?? false,
    segments: entry.segments ?? parent?.segments ?? 'own',
  };
}

/** Reads and validates a policy file against the full schema. A relative safelist path resolves against the policy file's folder. */
export function loadPolicy(file: string, schema: GraphQLSchema, optionalTypes: ReadonlySet<string> = NONE): Policy {
  return parsePolicy(readJson(file, 'access policy'), file, schema, path.dirname(path.resolve(file)), optionalTypes);
}

/** The default policy shipped with c360. */
export const DEFAULT_POLICY_FILE = path.resolve(__dirname, '..', '..', 'config', 'access.json');

/**
 * The warning for a policy that hashes values (openids, resident ids) with no `access.hashKey`:
 * the public default key lets anyone holding a guessed value test it against the hash. Null when
 * a key is set or no role hashes anything.
 */
export function hashKeyWarning(policy: Policy, hashKey: string | undefined): string | null {
  if (hashKey) return null;
  const hashes = (m: FieldMask) => (m.kind === 'style' ? m.style === 'hash' : m.otherwise === 'hash' || [...m.styles.values()].includes('hash'));
  const roles = [...policy.roles].filter(([, r]) => [...r.masks.values()].some(hashes)).map(([name]) => name);
  if (!roles.length) return null;
  return `access.hashKey is not set: the hash masks of ${roles.join(', ')} use a public key, so anyone holding a guessed value can test it; set it from the environment ("\${C360_MASK_KEY}")`;
}
