/**
 * One executable schema per role, derived at start-up from the full schema and the policy.
 *
 * What a role cannot see is absent from its schema, so a forbidden field fails validation
 * (GRAPHQL_VALIDATION_FAILED) before any source is called, and introspection shows each role
 * only what it may query. Fields are wrapped, never replaced: the original resolver runs, and
 * the wrapper then
 *  - masks the value (masked fields; a non-text scalar such as a Date becomes String, since
 *    `1990` is no longer a date);
 *  - notes unmasked personal values for the audit (audit.ts);
 *  - for fields returning Customer: applies the role's row scope and notes which customer
 *    each object is, so audited fields below it are attributed to that customer.
 *
 * The one exception to wrapping: under a row scope, `customerByIdentifier` answers from
 * `customersByIdentifier` filtered by the scope, so that a shared identifier whose other
 * holders are out of scope is not reported AMBIGUOUS (that would reveal they exist).
 *
 * Lookups by a value (LOOKUPS) run only for a role that reads that kind of value unmasked: else
 * "found" against "not found" would tell it what its masks hide. They are refused FORBIDDEN first.
 */
import {
  GraphQLString,
  defaultFieldResolver,
  getNamedType,
  getNullableType,
  isCompositeType,
  isEnumType,
  isListType,
  isNonNullType,
  isScalarType,
  validateSchema,
  GraphQLList,
  GraphQLNonNull,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import { MapperKind, mapSchema, pruneSchema } from '@graphql-tools/utils';
import type { Context } from '../context';
import type { IdentifierKind } from '../vocabulary';
import { ambiguousIdentifier, forbidden } from '../errors';
import { auditCollectorOf } from './audit';
import { masker, REDACTED, type MaskOptions, type Masker } from './masking';
import { PolicyError, type FieldMask, type PersonalRule, type Policy, type RolePolicy } from './policy';
import { PAD_CUSTOMER_ID, bothChecks, scopeCheck, toldOfCheck, toldOfHolderCheck, type ScopeCheck } from './row-scope';

/**
 * Root fields that find customers by a value the caller sends, and the field that value is read
 * as: `field`'s value of the kind (or source) named by the argument `by`. A role may look up only
 * by values it reads there unmasked, as they are; one that sees them masked (an openid hashed) or
 * not at all is refused, whether the value is anyone's or not, since "found" against "not found"
 * would be an oracle on what its masks hide (a resident id number, with a known birthday and region,
 * has about a thousand candidates). A mask choosing its style by any other sibling than `by` cannot
 * be decided from the arguments: refused too (deny by default).
 */
const LOOKUPS: Readonly<Record<string, { field: string; by: string; bySource?: true; byHolder?: true }>> = {
  // OneID matches every system's identifiers: a role not told of every system finds a customer only by its systems' (row-scope.ts `toldOfHolderCheck`).
  'Query.customerByIdentifier': { field: 'Identifier.value', by: 'kind', byHolder: true },
  'Query.customersByIdentifier': { field: 'Identifier.value', by: 'kind', byHolder: true },
  // `by` names a system: a role not told of that system's records (sourceFields) may not look one up.
  'Query.customerBySourceRecord': { field: 'SourceRecord.recordId', by: 'source', bySource: true },
};

/** The type a row scope filters. */
export const CUSTOMER_TYPE = 'Customer';

/**
 * Types that are not a customer but show personal values about the customers they name, outside
 * any Customer object: a review candidate's value and evidence, an explanation's steps, a change's
 * or a stewardship result's records. The audit attributes what is read under one of them to each
 * customer it names (none: a placeholder value no customer holds), so `auditLog(customerId:)`
 * lists these reads too. Keys are the objects' own properties, as the store answers them.
 */
const CUSTOMERS_CONCERNED: Readonly<Record<string, readonly string[]>> = {
  MergeCandidate: ['customerId', 'otherCustomerId'],
  LinkExplanation: ['customerId', 'aCustomerId', 'bCustomerId'],
  CustomerChange: ['customerId', 'otherCustomerId'],
  StewardshipResult: ['customerId', 'otherCustomerId'],
};

/**
 * Entry points whose resolver skips the OneID customer round when nothing matches; under a
 * row scope the wrapper makes that round itself, so "unknown" costs what "out of scope" does.
 */
const SKIPS_CUSTOMER_ROUND_WHEN_EMPTY = new Set(['Query.customerBySourceRecord', 'Query.customersByIdentifier', 'Query.customerByIdentifier']);

/**
 * Where a derived value comes from: `Type.field`, or that field of one object (`of`, its sibling
 * fields as the source gives them) where a mask chooses its style by a sibling (`SourceRecord.recordId`
 * of a marketplace account is hashed, of a shop account shown).
 */
export type DerivedOrigin = string | { ref: string; of: Readonly<Record<string, unknown>> };

export interface RoleSchemaOptions extends MaskOptions {
  /**
   * Derived fields: `Type.field` → which field its value is taken from, per parent object (a
   * timeline event's title is a refund's reason or a ticket's subject). A role that may not read
   * that field unmasked gets null here too: derived data keeps its origin's classification.
   */
  derived?: ReadonlyMap<string, (parent: unknown) => DerivedOrigin | readonly DerivedOrigin[] | null | undefined>;
  /**
   * Fields whose text may quote a sibling's value: `Type.field` → the sibling (a WeChat follow's
   * event id is `scrm:followed:<openid>`, its `recordId`). Where the role does not read the sibling
   * unmasked, the quoted value is shown as the sibling is: masked (hashed), or `***` where absent.
   */
  embeds?: ReadonlyMap<string, string>;
  /**
   * List fields whose items are each derived data (a tag is the fact its rule read: `unhappy` says a
   * ticket was rated 2 or lower): `Type.field` → the fields one item is read from. An item from a
   * field the role does not read unmasked is left out of the list, as the field is absent from its
   * schema: a role that reads no ticket is not told one was rated low.
   */
  derivedItems?: ReadonlyMap<string, (item: unknown) => readonly DerivedOrigin[]>;
  /**
   * Fields whose arguments narrow what they answer to what the role may read, before the resolver
   * runs (a timeline asks its sources only for the kinds of events the role may see, so its pages
   * stay full): `Type.field` → the arguments the resolver is given, from the caller's and the
   * role's reading of an origin.
   */
  narrowArgs?: ReadonlyMap<string, (args: Record<string, unknown>, reads: (origin: DerivedOrigin) => boolean) => Record<string, unknown>>;
  /**
   * Enums whose values are each some field's data (a timeline event kind is the field it is read
   * from: `TICKET_OPENED` is `Ticket.createdAt`): enum name → the origin of a value (by its internal
   * value). A value whose origin the role does not read is left out of its schema, as that field is:
   * naming it fails validation, and introspection does not list it.
   */
  enumOrigins?: ReadonlyMap<string, (value: unknown) => DerivedOrigin>;
  /**
   * The fields that carry a system's data about a customer, per source (by its internal `SourceName`
   * value): its kind's own (`Customer.supportRequesters`) and its capabilities' (`Customer.tickets`).
   * A role that sees none of them, masked or not, is not told that a customer has a record in that
   * system (SOURCE_LISTS leave the record out; a lookup by one of its record ids is refused): a
   * helpdesk record says the customer contacted support. Absent: every system is told.
   */
  sourceFields?: (source: unknown) => readonly string[];
  /**
   * Fields counting a parent's records of every system (a change's `recordCount`): `Type.field` →
   * how many of those records each system holds (by internal `SourceName` value). A role not told
   * of every system (sourceFields) is answered the count of the systems it is told of: the whole
   * count would say how many records its lists leave out.
   */
  sourceCounts?: ReadonlyMap<string, (parent: unknown) => ReadonlyMap<unknown, number> | undefined>;
  /**
   * Fields whose value may cite records of any system (a link event's `reason`: "shares a PHONE
   * with support:360000028616"; its `evidence`): withheld from a role not told of every system
   * (sourceFields), `***` where the field is non-null.
   */
  citesRecords?: ReadonlySet<string>;
}

/**
 * Lists whose items each name a system (`source`): a customer's records and identifiers, the events
 * of its link history, the records a change of the feed involves. An item of a system the role is
 * not told of (RoleSchemaOptions.sourceFields) is left out; so is an item naming none (a merge, a
 * split, a decision about a value, which move or cite records of any system) for a role not told
 * of every system.
 */
const SOURCE_LISTS = new Set(['Customer.sourceRecords', 'Customer.identifiers', 'Customer.linkHistory', 'CustomerChange.records']);

/**
 * Types whose objects cite records of any system, chosen by the data rather than the customer
 * asked about (an explanation's steps, a review candidate's records, what a steward's change
 * moved), and which the told-of rule cannot cut without making the answer false (a path with its
 * middle step left out). A role not told of every system may not see them: its policy is refused
 * at start-up, naming the grant and the systems it is not told of.
 */
const CITES_EVERY_SYSTEM = ['LinkExplanation', 'MergeCandidate', 'StewardshipResult'] as const;

/** What a role is told of: whether it sees a system's records (RoleSchemaOptions.sourceFields), and whether it sees every configured system's. */
export interface SourceTeller {
  /** Whether the role is told of the records of `source` (an internal `SourceName` value); a missing source: whether it is told of every system. */
  told(source: unknown): boolean;
  /** Whether it is told of every configured system (`SourceName`'s values): nothing it reads needs leaving out. */
  all: boolean;
}

/**
 * The systems a role is told of: those of which it sees some field carrying the system's data
 * (`sourceFields`), masked or not. Without `sourceFields`, every system.
 */
export function sourceTeller(fullSchema: GraphQLSchema, role: RolePolicy, sourceFields: RoleSchemaOptions['sourceFields']): SourceTeller {
  return tellerOver(fullSchema, effectiveFields(fullSchema, role), sourceFields);
}

function tellerOver(fullSchema: GraphQLSchema, visible: ReadonlyMap<string, ReadonlySet<string>>, fieldsOf: RoleSchemaOptions['sourceFields']): SourceTeller {
  if (!fieldsOf) return { told: () => true, all: true };
  const told = new Map<unknown, boolean>();
  const toldOf = (source: unknown): boolean => {
    let yes = told.get(source);
    if (yes === undefined) {
      yes = fieldsOf(source).some((ref) => {
        const [t, f] = ref.split('.');
        return !!visible.get(t)?.has(f);
      });
      told.set(source, yes);
    }
    return yes;
  };
  const names = fullSchema.getType('SourceName');
  const all = !!names && isEnumType(names) && names.getValues().every((v) => toldOf(v.value));
  return { told: (source) => (source === null || source === undefined ? all : toldOf(source)), all };
}

/**
 * Whether a role is told of none of the configured systems (`SourceName`'s values): a customer is
 * one of a role's only through a system it is told of, so such a role lists and reads no customer.
 */
export function toldOfNoSystem(fullSchema: GraphQLSchema, teller: SourceTeller): boolean {
  const names = fullSchema.getType('SourceName');
  const systems = names && isEnumType(names) ? names.getValues() : [];
  return systems.length > 0 && !systems.some((v) => teller.told(v.value));
}

/**
 * Whether a role reads an origin unmasked: `Type.field` granted and not masked; one field of a
 * given object where the mask chooses its style by a sibling there (`SourceRecord.recordId` of a
 * shop account, not of a marketplace buyer). The same answer the role's schema gives its derived fields.
 */
export function originReader(fullSchema: GraphQLSchema, role: RolePolicy): (origin: DerivedOrigin) => boolean {
  return readerOver(fullSchema, role, effectiveFields(fullSchema, role));
}

function readerOver(fullSchema: GraphQLSchema, role: RolePolicy, visible: ReadonlyMap<string, ReadonlySet<string>>): (origin: DerivedOrigin) => boolean {
  const readsUnmasked = (ref: string) => {
    const [t, f] = ref.split('.');
    return !!visible.get(t)?.has(f) && !role.masks.has(ref);
  };
  const siblingReaders = new Map<string, (parent: unknown) => string | undefined>();
  return (o) => {
    if (typeof o === 'string') return readsUnmasked(o);
    if (readsUnmasked(o.ref)) return true;
    const [t, f] = o.ref.split('.');
    const mask = role.masks.get(o.ref);
    if (!visible.get(t)?.has(f) || !mask || mask.kind === 'style') return false;
    const key = `${t}.${mask.parentField}`;
    let read = siblingReaders.get(key);
    if (!read) siblingReaders.set(key, (read = siblingReader(fullSchema, t, mask.parentField)));
    const sibling = read(o.of);
    return ((sibling !== undefined && mask.styles.get(sibling)) || mask.otherwise) === 'none';
  };
}

/** Builds every role's schema. Throws PolicyError when a role's schema would be invalid (e.g. it can query nothing). */
export function buildRoleSchemas(fullSchema: GraphQLSchema, policy: Policy, opts: RoleSchemaOptions = {}): Map<string, GraphQLSchema> {
  const out = new Map<string, GraphQLSchema>();
  for (const role of policy.roles.values()) out.set(role.name, buildRoleSchema(fullSchema, policy, role, opts));
  return out;
}

/** Fields the role keeps: granted, and leading to a type it sees (repeated until nothing changes). */
function effectiveFields(schema: GraphQLSchema, role: RolePolicy): Map<string, Set<string>> {
  const eff = new Map([...role.fields].map(([t, fs]) => [t, new Set(fs)]));
  for (let changed = true; changed;) {
    changed = false;
    for (const [typeName, fields] of eff) {
      const type = schema.getType(typeName) as { getFields(): Record<string, { type: GraphQLOutputType }> };
      for (const f of fields) {
        const target = getNamedType(type.getFields()[f].type);
        if (isCompositeType(target) && !eff.get(target.name)?.size) {
          fields.delete(f);
          changed = true;
        }
      }
      if (!fields.size) {
        eff.delete(typeName);
        changed = true;
      }
    }
  }
  return eff;
}

/** Reads a sibling field off the parent object, as its GraphQL name (an enum's upper-case name, not its internal value). */
function siblingReader(schema: GraphQLSchema, typeName: string, sibling: string): (parent: unknown) => string | undefined {
  const type = schema.getType(typeName) as { getFields(): Record<string, { type: GraphQLOutputType }> };
  const t = getNamedType(type.getFields()[sibling].type);
  const names = isEnumType(t) ? new Map(t.getValues().map((v) => [v.value, v.name])) : null;
  return (parent) => {
    const v = parent && typeof parent === 'object' ? (parent as Record<string, unknown>)[sibling] : undefined;
    if (v === undefined || v === null) return undefined;
    return names ? names.get(v) : String(v);
  };
}

/** Whether a personal field holds personal data on this parent. */
function personalTest(schema: GraphQLSchema, typeName: string, rule: PersonalRule): (parent: unknown) => boolean {
  if (!rule.when?.size) return () => true;
  const checks = [...rule.when].map(([sibling, values]) => ({ read: siblingReader(schema, typeName, sibling), values }));
  return (parent) =>
    checks.every((c) => {
      const v = c.read(parent);
      return v !== undefined && c.values.has(v);
    });
}

/** A masker choosing its style per parent; answers the masked value and whether it was left unmasked. */
function fieldMasker(schema: GraphQLSchema, typeName: string, mask: FieldMask, opts: MaskOptions, nonNull: boolean) {
  const safe =
    (m: Masker): Masker =>
    (v) => {
      try {
        return m(v);
      } catch {
        return nonNull ? REDACTED : null;
      }
    };
  if (mask.kind === 'style') {
    const m = safe(masker(mask.style, { ...opts, nonNull }));
    return (v: unknown) => ({ value: m(v), unmasked: false });
  }
  const read = siblingReader(schema, typeName, mask.parentField);
  const by = new Map([...mask.styles].map(([k, style]) => [k, { style, m: safe(masker(style, { ...opts, nonNull })) }]));
  const otherwise = { style: mask.otherwise, m: safe(masker(mask.otherwise, { ...opts, nonNull })) };
  return (v: unknown, parent: unknown) => {
    const key = read(parent);
    const chosen = (key !== undefined && by.get(key)) || otherwise;
    return { value: chosen.m(v), unmasked: chosen.style === 'none' };
  };
}

const describeMask = (mask: FieldMask) => (mask.kind === 'style' ? `Masked for this role (${mask.style}).` : `Masked for this role by ${mask.parentField}.`);

/** Same list/non-null wrapping, String inside: a masked Date or Int is no longer one. */
function asStringType(type: GraphQLOutputType): GraphQLOutputType {
  if (isNonNullType(type)) return new GraphQLNonNull(asStringType(type.ofType) as never);
  if (isListType(type)) return new GraphQLList(asStringType(type.ofType));
  const named = getNamedType(type);
  return isScalarType(named) && (named.name === 'String' || named.name === 'ID') ? type : GraphQLString;
}

const then = <T, U>(v: T | Promise<T>, f: (x: T) => U): U | Promise<U> => (v && typeof (v as Promise<T>).then === 'function' ? (v as Promise<T>).then(f) : f(v as T));

function isPresent(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  return Array.isArray(v) ? v.some(isPresent) : true;
}

export function buildRoleSchema(fullSchema: GraphQLSchema, policy: Policy, role: RolePolicy, opts: RoleSchemaOptions = {}): GraphQLSchema {
  const where = `${policy.source}: roles.${role.name}`;
  const visible = effectiveFields(fullSchema, role);
  const queryName = fullSchema.getQueryType()?.name ?? 'Query';
  if (!visible.get(queryName)?.size)
    throw new PolicyError(`${where}.grant.${queryName}: the role can query nothing (grant at least one ${queryName} field whose type it sees)`);

  /** Which systems' records the role is told of (RoleSchemaOptions.sourceFields). */
  const teller = tellerOver(fullSchema, visible, opts.sourceFields);
  // A customer known only to systems the role is not told of answers as an unknown one.
  const rowCheck = role.rowScope ? scopeCheck(role.rowScope) : null;
  const check: ScopeCheck | null = bothChecks(rowCheck, teller.all ? null : toldOfCheck(teller.told));
  /** A lookup by an identifier's check, for a role not told of every system: the value's holders in its systems (LOOKUPS `byHolder`). */
  const holderCheck = (args: Record<string, unknown>): ScopeCheck => {
    const holders = toldOfHolderCheck(teller.told, args as { kind: IdentifierKind; value: string });
    return bothChecks(rowCheck, holders) ?? holders;
  };
  const fullQueryFields = fullSchema.getQueryType()!.getFields();

  /** Whether the role reads `Type.field` unmasked. */
  const readsUnmasked = (ref: string) => {
    const [t, f] = ref.split('.');
    return !!visible.get(t)?.has(f) && !role.masks.has(ref);
  };
  /** Whether the role reads an origin unmasked; one of a given object, as the mask's sibling there says. */
  const readsOrigin = readerOver(fullSchema, role, visible);
  /** The role's view of a quoted sibling's value (`embeds`), and whether that is the value itself. */
  const quotedAs = (typeName: string, sibling: string): ((raw: string, parent: unknown) => { value: string; unmasked: boolean }) => {
    const ref = `${typeName}.${sibling}`;
    if (readsUnmasked(ref)) return (raw) => ({ value: raw, unmasked: true });
    const mask = role.masks.get(ref);
    if (!visible.get(typeName)?.has(sibling) || !mask) return () => ({ value: REDACTED, unmasked: false });
    const apply = fieldMasker(fullSchema, typeName, mask, opts, true);
    return (raw, parent) => {
      const { value, unmasked } = apply(raw, parent);
      return { value: unmasked ? raw : String(value ?? REDACTED), unmasked };
    };
  };

  const toldOfSource = teller.told;
  const citesEvery = CITES_EVERY_SYSTEM.filter((t) => visible.has(t));
  if (!teller.all && citesEvery.length) {
    const names = fullSchema.getType('SourceName');
    const untold =
      names && isEnumType(names)
        ? names
            .getValues()
            .filter((v) => !toldOfSource(v.value))
            .map((v) => v.name)
        : [];
    throw new PolicyError(
      `${where}.grant.${citesEvery[0]}: it cites records of every system, and the role is not told of ${untold.join(', ')} (it sees no field of their data); grant ${citesEvery.join(', ')} only to a role told of every system`,
    );
  }

  /** Whether the role may look customers up by a value `lookup.field` holds of the kind `args[lookup.by]` names (LOOKUPS). */
  const lookupAllowed = (lookup: (typeof LOOKUPS)[string]): ((args: Record<string, unknown>) => boolean) => {
    const reads = readsLookupField(lookup);
    return lookup.bySource ? (args) => toldOfSource(args[lookup.by]) && reads(args) : reads;
  };
  const readsLookupField = (lookup: (typeof LOOKUPS)[string]): ((args: Record<string, unknown>) => boolean) => {
    const [t, f] = lookup.field.split('.');
    if (!visible.get(t)?.has(f)) return () => false;
    const mask = role.masks.get(lookup.field);
    if (!mask) return () => true;
    if (mask.kind === 'style' || mask.parentField !== lookup.by) return () => false;
    const read = siblingReader(fullSchema, t, mask.parentField);
    return (args) => {
      const by = read(args);
      return ((by !== undefined && mask.styles.get(by)) || mask.otherwise) === 'none';
    };
  };
  /**
   * A lookup field (LOOKUPS) refusing, before it reads anything, values the role does not read
   * unmasked. One it runs answers who holds the value: a read of that personal field of each
   * customer found, audited as one (whatever the selection: `{ id }` alone tells as much).
   */
  const guardLookup = (mapped: GraphQLFieldConfig<unknown, Context> | null, fieldName: string, typeName: string): GraphQLFieldConfig<unknown, Context> | null => {
    const lookup = LOOKUPS[`${typeName}.${fieldName}`];
    if (!mapped || !lookup) return mapped;
    const allowed = lookupAllowed(lookup);
    const rule = policy.personal.get(lookup.field);
    const isPersonal = rule
      ? personalTest(fullSchema, lookup.field.split('.')[0], { ...rule, when: rule.when && new Map([...rule.when].filter(([s]) => s === lookup.by)) })
      : () => false;
    const resolve = mapped.resolve ?? defaultFieldResolver;
    const audited = (args: Record<string, unknown>, ctx: Context) => (result: unknown) => {
      const collector = auditCollectorOf(ctx);
      if (collector && isPersonal(args)) for (const c of Array.isArray(result) ? result : [result]) if (isParent(c)) collector.noteRead(c.id, lookup.field);
      return result;
    };
    return {
      ...mapped,
      resolve: (src, args, ctx, info) => {
        if (allowed(args)) return then(resolve(src, args, ctx, info), audited(args, ctx));
        const by = siblingReader(fullSchema, lookup.field.split('.')[0], lookup.by)(args) ?? String(args[lookup.by]);
        throw forbidden(`the role ${role.name} does not read ${lookup.field} of ${by} as it is, so it may not look customers up by one`, {
          argument: lookup.by,
          field: lookup.field,
        });
      },
    };
  };

  const mapField = (config: GraphQLFieldConfig<unknown, Context>, fieldName: string, typeName: string): GraphQLFieldConfig<unknown, Context> | null => {
    const mapped = narrowing(
      derivingItems(
        guardLookup(
          sourceListing(
            citing(sourceCounting(embedding(mapOwnField(config, fieldName, typeName), fieldName, typeName), fieldName, typeName), fieldName, typeName),
            fieldName,
            typeName,
          ),
          fieldName,
          typeName,
        ),
        fieldName,
        typeName,
      ),
      fieldName,
      typeName,
    );
    const originOf = opts.derived?.get(`${typeName}.${fieldName}`);
    if (!mapped || !originOf) return mapped;
    if (isNonNullType(mapped.type)) throw new PolicyError(`${where}: derived field ${typeName}.${fieldName} must be nullable to be withheld`);
    const resolve = mapped.resolve ?? defaultFieldResolver;
    return {
      ...mapped,
      resolve: (src, args, ctx, info) => {
        const origin = originOf(src);
        const origins: readonly DerivedOrigin[] = origin == null ? [] : Array.isArray(origin) ? origin : [origin as DerivedOrigin];
        return origins.some((o) => !readsOrigin(o)) ? null : resolve(src, args, ctx, info);
      },
    };
  };

  /** A list field of derived items (`derivedItems`): the items the role does not read every origin of are left out. */
  const derivingItems = (mapped: GraphQLFieldConfig<unknown, Context> | null, fieldName: string, typeName: string): GraphQLFieldConfig<unknown, Context> | null => {
    const originsOf = opts.derivedItems?.get(`${typeName}.${fieldName}`);
    if (!mapped || !originsOf) return mapped;
    if (!isListType(getNullableType(mapped.type))) throw new PolicyError(`${where}: derived items of ${typeName}.${fieldName} need a list field`);
    const resolve = mapped.resolve ?? defaultFieldResolver;
    return {
      ...mapped,
      resolve: (src, args, ctx, info) =>
        then(resolve(src, args, ctx, info), (v) => (Array.isArray(v) ? v.filter((item) => item instanceof Error || originsOf(item).every(readsOrigin)) : v)),
    };
  };

  /** A field counting records of every system (`sourceCounts`): for a role not told of every system, the count of those it is told of. */
  const sourceCounting = (mapped: GraphQLFieldConfig<unknown, Context> | null, fieldName: string, typeName: string): GraphQLFieldConfig<unknown, Context> | null => {
    const countsOf = opts.sourceCounts?.get(`${typeName}.${fieldName}`);
    if (!mapped || !countsOf || teller.all) return mapped;
    const resolve = mapped.resolve ?? defaultFieldResolver;
    return {
      ...mapped,
      resolve: (src, args, ctx, info) => {
        const counts = countsOf(src);
        if (!counts) return resolve(src, args, ctx, info);
        let n = 0;
        for (const [source, count] of counts) if (toldOfSource(source)) n += count;
        return n;
      },
    };
  };

  /** A field that may cite records of any system (`citesRecords`): withheld from a role not told of every system. */
  const citing = (mapped: GraphQLFieldConfig<unknown, Context> | null, fieldName: string, typeName: string): GraphQLFieldConfig<unknown, Context> | null => {
    if (!mapped || !opts.citesRecords?.has(`${typeName}.${fieldName}`) || teller.all) return mapped;
    const withheld = isNonNullType(mapped.type) ? REDACTED : null;
    return { ...mapped, resolve: () => withheld };
  };

  /** A list whose items name their system (SOURCE_LISTS): the items of systems the role is not told of are left out. */
  const sourceListing = (mapped: GraphQLFieldConfig<unknown, Context> | null, fieldName: string, typeName: string): GraphQLFieldConfig<unknown, Context> | null => {
    if (!mapped || teller.all || !SOURCE_LISTS.has(`${typeName}.${fieldName}`)) return mapped;
    const resolve = mapped.resolve ?? defaultFieldResolver;
    const told = (item: unknown) => !item || typeof item !== 'object' || item instanceof Error || toldOfSource((item as { source?: unknown }).source);
    return { ...mapped, resolve: (src, args, ctx, info) => then(resolve(src, args, ctx, info), (v) => (Array.isArray(v) ? v.filter(told) : v)) };
  };

  /** A field whose arguments narrow what it answers to what the role reads (`narrowArgs`). */
  const narrowing = (mapped: GraphQLFieldConfig<unknown, Context> | null, fieldName: string, typeName: string): GraphQLFieldConfig<unknown, Context> | null => {
    const narrow = opts.narrowArgs?.get(`${typeName}.${fieldName}`);
    if (!mapped || !narrow) return mapped;
    const resolve = mapped.resolve ?? defaultFieldResolver;
    return { ...mapped, resolve: (src, args, ctx, info) => resolve(src, narrow(args, readsOrigin), ctx, info) };
  };

  /** A field quoting a sibling's value (`embeds`): the quote masked as the sibling is, or, unmasked, audited as the sibling is. */
  const embedding = (mapped: GraphQLFieldConfig<unknown, Context> | null, fieldName: string, typeName: string): GraphQLFieldConfig<unknown, Context> | null => {
    const sibling = opts.embeds?.get(`${typeName}.${fieldName}`);
    if (!mapped || !sibling) return mapped;
    const siblingRef = `${typeName}.${sibling}`;
    const shown = quotedAs(typeName, sibling);
    const rule = policy.personal.get(siblingRef);
    const isPersonal = rule ? personalTest(fullSchema, typeName, rule) : () => false;
    const resolve = mapped.resolve ?? defaultFieldResolver;
    return {
      ...mapped,
      resolve: (src, args, ctx, info) =>
        then(resolve(src, args, ctx, info), (v) => {
          const raw = src && typeof src === 'object' ? (src as Record<string, unknown>)[sibling] : undefined;
          if (typeof v !== 'string' || typeof raw !== 'string' || raw === '' || !v.includes(raw)) return v;
          const quoted = shown(raw, src);
          if (!quoted.unmasked) return v.split(raw).join(quoted.value);
          if (isPersonal(src)) auditCollectorOf(ctx)?.notePersonal(info.path, siblingRef);
          return v;
        }),
    };
  };

  const mapOwnField = (config: GraphQLFieldConfig<unknown, Context>, fieldName: string, typeName: string): GraphQLFieldConfig<unknown, Context> | null => {
    if (!visible.get(typeName)?.has(fieldName)) return null;
    const ref = `${typeName}.${fieldName}`;
    const original: GraphQLFieldResolver<unknown, Context> = config.resolve ?? defaultFieldResolver;
    const returnsCustomer = getNamedType(config.type).name === CUSTOMER_TYPE;
    const mask = role.masks.get(ref);
    const personal = policy.personal.get(ref);

    if (returnsCustomer) {
      if (check && isNonNullType(config.type) && !isListType(getNullableType(config.type))) {
        throw new PolicyError(`${where}: ${ref} returns ${CUSTOMER_TYPE}! and cannot answer "unknown" for a customer outside the row scope; grant it only to unscoped roles`);
      }
      const checkOf = !check ? null : LOOKUPS[ref]?.byHolder && !teller.all ? holderCheck : () => check;
      return { ...config, resolve: customerResolver(ref, config.type, original, checkOf, fullQueryFields.customersByIdentifier?.resolve) };
    }
    const concerned = CUSTOMERS_CONCERNED[getNamedType(config.type).name];
    if (concerned) return { ...config, resolve: concernedResolver(config.type, original, concerned) };
    if (mask) {
      const nonNull = isNonNullType(config.type);
      const apply = fieldMasker(fullSchema, typeName, mask, opts, nonNull);
      const isPersonal = personal ? personalTest(fullSchema, typeName, personal) : () => false;
      return {
        ...config,
        type: asStringType(config.type),
        description: [config.description, describeMask(mask)].filter(Boolean).join(' '),
        resolve: (src, args, ctx, info) =>
          then(original(src, args, ctx, info), (v) => {
            const { value, unmasked } = apply(v, src);
            if (unmasked && isPresent(v) && isPersonal(src)) auditCollectorOf(ctx)?.notePersonal(info.path, ref);
            return value;
          }),
      };
    }
    if (personal) {
      const isPersonal = personalTest(fullSchema, typeName, personal);
      return {
        ...config,
        resolve: (src, args, ctx, info) =>
          then(original(src, args, ctx, info), (v) => {
            if (isPresent(v) && isPersonal(src)) auditCollectorOf(ctx)?.notePersonal(info.path, ref);
            return v;
          }),
      };
    }
    return config;
  };

  const mapped = mapSchema(fullSchema, {
    [MapperKind.COMPOSITE_TYPE]: (type) => (visible.has(type.name) ? type : null),
    [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => mapField(config as GraphQLFieldConfig<unknown, Context>, fieldName, typeName),
    [MapperKind.INTERFACE_FIELD]: (config, fieldName, typeName) => (visible.get(typeName)?.has(fieldName) ? config : null),
    [MapperKind.ENUM_VALUE]: (config, typeName) => {
      const originOf = opts.enumOrigins?.get(typeName);
      return !originOf || readsOrigin(originOf(config.value)) ? config : null;
    },
  });
  const schema = pruneSchema(mapped);
  const errors = validateSchema(schema);
  if (errors.length) throw new PolicyError(`${where}: the derived schema is invalid:\n  ${errors.map((e) => e.message).join('\n  ')}`);
  return schema;
}

type Parent = { id: string };
const isParent = (v: unknown): v is Parent => !!v && typeof v === 'object' && !(v instanceof Error) && typeof (v as Parent).id === 'string';

/** Wraps a field returning an object about customers (CUSTOMERS_CONCERNED): notes, for the audit, the customers each returned object names. */
function concernedResolver(type: GraphQLOutputType, original: GraphQLFieldResolver<unknown, Context>, keys: readonly string[]): GraphQLFieldResolver<unknown, Context> {
  const list = isListType(getNullableType(type));
  const customersOf = (o: Record<string, unknown>) => [...new Set(keys.map((k) => o[k]).filter((id): id is string => typeof id === 'string' && id !== ''))];
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !(v instanceof Error);
  return (src, args, ctx, info) =>
    then(original(src, args, ctx, info), (result) => {
      const collector = auditCollectorOf(ctx);
      if (!collector) return result;
      if (!list) {
        if (isObject(result)) collector.noteCustomer(info.path, customersOf(result));
      } else if (Array.isArray(result)) {
        result.forEach((item, i) => isObject(item) && collector.noteCustomer({ prev: info.path, key: i, typename: undefined }, customersOf(item)));
      }
      return result;
    });
}

/**
 * Wraps a field returning Customer (or a list of them): applies the row scope, then notes
 * each returned customer's response path for the audit.
 */
function customerResolver(
  ref: string,
  type: GraphQLOutputType,
  original: GraphQLFieldResolver<unknown, Context>,
  checkOf: ((args: Record<string, unknown>) => ScopeCheck) | null,
  customersByIdentifier: GraphQLFieldResolver<unknown, Context> | undefined,
): GraphQLFieldResolver<unknown, Context> {
  const list = isListType(getNullableType(type));
  const itemsNullable = list && !isNonNullType((getNullableType(type) as GraphQLList<GraphQLOutputType>).ofType);
  const padsCustomerRound = SKIPS_CUSTOMER_ROUND_WHEN_EMPTY.has(ref);

  const note = (ctx: Context, info: GraphQLResolveInfo, result: unknown) => {
    const collector = auditCollectorOf(ctx);
    if (!collector) return;
    if (!list) {
      if (isParent(result)) collector.noteCustomer(info.path, result.id);
      return;
    }
    if (Array.isArray(result)) {
      result.forEach((item, i) => {
        if (isParent(item)) collector.noteCustomer({ prev: info.path, key: i, typename: undefined }, item.id);
      });
    }
  };

  if (!checkOf) {
    return (src, args, ctx, info) =>
      then(original(src, args, ctx, info), (result) => {
        note(ctx, info, result);
        return result;
      });
  }

  const scoped = async (ctx: Context, check: ScopeCheck, result: unknown): Promise<unknown> => {
    const items: unknown[] = list ? (Array.isArray(result) ? result : []) : [result];
    const parents = items.filter(isParent);
    if (padsCustomerRound && parents.length === 0) await ctx.loaders.customer.load(PAD_CUSTOMER_ID);
    const allowed = await check(
      ctx,
      parents.map((p) => p.id),
    );
    const ok = new Set(parents.filter((_, i) => allowed[i]));
    if (!list) return isParent(result) && ok.has(result) ? result : null;
    if (!Array.isArray(result)) return result;
    return itemsNullable ? result.map((item) => (isParent(item) && !ok.has(item) ? null : item)) : result.filter((item) => !isParent(item) || ok.has(item));
  };

  if (ref === 'Query.customerByIdentifier' && customersByIdentifier) {
    return async (src, args, ctx, info) => {
      const candidates = (await customersByIdentifier(src, args, ctx, info)) as unknown[];
      const failed = candidates.find((c): c is Error => c instanceof Error);
      if (failed) throw failed;
      // Two ids merged into one survivor are one customer, not an ambiguity.
      const parents = [...new Map(candidates.filter(isParent).map((p) => [p.id, p])).values()];
      if (parents.length === 0) await ctx.loaders.customer.load(PAD_CUSTOMER_ID);
      const allowed = await checkOf(args)(
        ctx,
        parents.map((p) => p.id),
      );
      const inScope = parents.filter((_, i) => allowed[i]);
      if (inScope.length > 1) throw ambiguousIdentifier((args as { kind: string }).kind, inScope.length);
      const result = inScope[0] ?? null;
      note(ctx, info, result);
      return result;
    };
  }

  return async (src, args, ctx, info) => {
    const result = await scoped(ctx, checkOf(args), await original(src, args, ctx, info));
    note(ctx, info, result);
    return result;
  };
}
