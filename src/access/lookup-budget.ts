/**
 * Lookups by a personal value per principal: `customerByIdentifier`, `customersByIdentifier` and
 * `customerBySourceRecord` of a source whose record ids are personal each answer whether someone
 * holds the value sent, so each is one guess confirmed or not (a phone number, an email, an openid). The request budget bounds requests, and a request
 * may carry `maxAliases` of them: a support key confirmed 3,000 phones in 3.3 s (100 requests of
 * 30 aliases, session 41). The role's `lookupsPerMinute` bounds the guesses themselves: a token
 * bucket holding a minute's worth, refilled continuously, taken from once the operation is known
 * (src/access/limits.ts, after validation, before anything is read). An operation asking more
 * than the bucket holds is refused whole: no lookup of it runs.
 *
 * Memory stays bounded as in rate-limit.ts: a principal whose bucket is full again is forgotten
 * (swept once a minute); beyond `maxPrincipals` the least recently seen go first.
 */
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getDirectiveValues,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Viewer } from '../context';
import type { PersonalRule } from './policy';

/** Root fields that look customers up by a value the caller sends: each one a guess answered. */
export const LOOKUP_FIELDS: ReadonlySet<string> = new Set(['customerByIdentifier', 'customersByIdentifier', 'customerBySourceRecord']);

/** Whether a lookup field, with its arguments as sent (enum values by their GraphQL names), is by a personal value. */
export type CountsLookup = (field: string, argument: (name: string) => unknown) => boolean;

/**
 * Which lookups a policy counts: those by a personal value. `customerByIdentifier` and
 * `customersByIdentifier` always (an identifier's value is a phone, an email, an openid…);
 * `customerBySourceRecord` where the policy classifies the source's record ids as personal
 * (`SourceRecord.recordId` when `source` is SCRM, WECOM, MARKETPLACE: openids, buyer ids), not a CRM
 * contact id, which confirms no one's contact point. A source given some other way than by name
 * counts (deny by default).
 */
export function countsPersonalLookups(personal: ReadonlyMap<string, PersonalRule>): CountsLookup {
  const records = personal.get('SourceRecord.recordId');
  return (field, argument) => {
    if (field !== 'customerBySourceRecord') return true;
    if (!records) return false;
    const sources = records.when?.get('source');
    if (!records.when?.size || !sources) return true;
    const source = argument('source');
    return typeof source !== 'string' || sources.has(source);
  };
}

/**
 * The lookups an operation asks: its root fields in LOOKUP_FIELDS that `counts` (all, by default),
 * each alias one, through root fragments too. A field, fragment or spread that `@skip`/`@include`
 * leaves out is not counted: execution decides the same from the same variables, so it never runs.
 * A condition the variables do not settle as a Boolean counts (execution then refuses the variable).
 * Until session 42 (2026-12-06) a skipped lookup counted: two requests of 30 skipped aliases, which
 * ran nothing, spent a support key's minute of lookups.
 */
export function countLookups(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
  counts: CountsLookup = () => true,
): number {
  if (operation.operation !== 'query') return 0;
  const argumentOf = (field: FieldNode) => (name: string) => {
    const node = field.arguments?.find((a) => a.name.value === name)?.value;
    if (!node) return undefined;
    return node.kind === Kind.VARIABLE ? variables[node.name.value] : valueFromASTUntyped(node, variables);
  };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const seen = new Set<string>();
  const runs = (node: SelectionNode): boolean => {
    if (!node.directives?.length) return true;
    try {
      if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
      return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
    } catch {
      return true;
    }
  };
  const count = (set: SelectionSetNode): number => {
    let n = 0;
    for (const s of set.selections) {
      if (!runs(s)) continue;
      if (s.kind === Kind.FIELD) n += LOOKUP_FIELDS.has(s.name.value) && counts(s.name.value, argumentOf(s)) ? 1 : 0;
      else if (s.kind === Kind.INLINE_FRAGMENT) n += count(s.selectionSet);
      else {
        // A fragment spread twice at the root runs its fields once (GraphQL merges them): counted once, and a cycle cannot loop.
        const f = fragments.get(s.name.value);
        if (f && !seen.has(f.name.value)) {
          seen.add(f.name.value);
          n += count(f.selectionSet);
        }
      }
    }
    return n;
  };
  return count(operation.selectionSet);
}

export type LookupAdmission = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface LookupBudget {
  /** Takes `n` lookups from the principal's bucket of `perMinute`, or says when enough will have grown back. */
  take(viewer: Viewer, n: number, perMinute: number): LookupAdmission;
  /** Principals remembered now. */
  size(): number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  fullAt: number;
}

const SWEEP_EVERY_MS = 60_000;

export function createLookupBudget(opts: { maxPrincipals?: number; now?: () => number } = {}): LookupBudget {
  const maxPrincipals = opts.maxPrincipals ?? 10_000;
  const now = opts.now ?? (() => performance.now());
  /** Insertion order is recency. */
  const buckets = new Map<string, Bucket>();
  let lastSweep = now();
  const sweep = (t: number) => {
    lastSweep = t;
    for (const [k, b] of buckets) if (t >= b.fullAt) buckets.delete(k);
    if (buckets.size > maxPrincipals) {
      const target = Math.floor(maxPrincipals * 0.9);
      for (const k of buckets.keys()) {
        if (buckets.size <= target) break;
        buckets.delete(k);
      }
    }
  };
  return {
    size: () => buckets.size,
    take(viewer, n, perMinute) {
      const t = now();
      if (t - lastSweep >= SWEEP_EVERY_MS || buckets.size >= maxPrincipals) sweep(t);
      const key = `${viewer.principalKind ?? 'other'}:${viewer.principal}`;
      const rate = perMinute / 60_000;
      let b = buckets.get(key);
      if (b) {
        buckets.delete(key);
        b.tokens = Math.min(perMinute, b.tokens + (t - b.updatedAt) * rate);
        b.updatedAt = t;
      } else b = { tokens: perMinute, updatedAt: t, fullAt: t };
      buckets.set(key, b);
      if (b.tokens < n) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((n - b.tokens) / rate / 1000)) };
      b.tokens -= n;
      b.fullAt = t + (perMinute - b.tokens) / rate;
      return { ok: true };
    },
  };
}
