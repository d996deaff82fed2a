/**
 * Survivorship rules as data (`config/survivorship.json`), validated at load. Per golden field:
 * which sources feed it, which of their values are placeholders to ignore, how values compare
 * for `mostFrequent`, and an ordered list of rules that narrow the candidates until one value
 * is left (src/golden/survivorship.ts applies them).
 *
 * Rules:
 * - `sourcePriority` (`order`, default the field's `sources`): keep the candidates of the best
 *   source present;
 * - `mostRecent`: keep those with the latest record update time (unknown times lose);
 * - `earliest`: keep those with the earliest record creation time (unknown times lose);
 * - `mostFrequent`: keep the values carried by the most records (compared per `compare`).
 * Whatever remains tied after the list is settled by source order, then record id.
 */
import { z } from 'zod';
import { SOURCE_NAME_PATTERN, type SourceName } from '../vocabulary';
import { GOLDEN_FIELDS, type GoldenField } from './fields';

const sourceSchema = z.string().regex(SOURCE_NAME_PATTERN, 'not a source name');
const patternSchema = z.string().refine(
  (p) => {
    try {
      new RegExp(p, 'iu');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

const ruleSchema = z.discriminatedUnion('rule', [
  z.object({ rule: z.literal('sourcePriority'), order: z.array(sourceSchema).min(1).optional() }).strict(),
  z.object({ rule: z.literal('mostRecent') }).strict(),
  z.object({ rule: z.literal('earliest') }).strict(),
  z.object({ rule: z.literal('mostFrequent') }).strict(),
]);

const fieldSchema = z
  .object({
    description: z.string().optional(),
    /** The sources that feed the field, in tie-break order. Absent: every configured source whose profile offers it, in config order. */
    sources: z.array(sourceSchema).min(1).optional(),
    /** Case-insensitive patterns for placeholder values: shown in provenance, never chosen. */
    ignore: z.array(patternSchema).default([]),
    /** How `mostFrequent` tells values apart: exactly, ignoring case, or as place names (suffixes 省/市/… folded). */
    compare: z.enum(['exact', 'caseless', 'place']).default('exact'),
    rules: z.array(ruleSchema).min(1),
  })
  .strict();

export const survivorshipSchema = z
  .object({
    $comment: z.string().optional(),
    description: z.string().optional(),
    fields: z.object(Object.fromEntries(GOLDEN_FIELDS.map((f) => [f, fieldSchema])) as Record<GoldenField, typeof fieldSchema>).strict(),
  })
  .strict();

export type SurvivorshipRule = z.infer<typeof ruleSchema>;
export type RuleName = SurvivorshipRule['rule'];

export interface FieldRules {
  field: GoldenField;
  description?: string;
  /** The sources that feed the field, in tie-break order (filled from the registry when the file lists none: see `bindSurvivorship`). */
  sources: SourceName[];
  /** Whether the file listed the sources (else every profile source offering the field does). */
  listed: boolean;
  ignore: RegExp[];
  /** The patterns as written, for messages. */
  ignoreSources: string[];
  compare: 'exact' | 'caseless' | 'place';
  rules: SurvivorshipRule[];
}

export type SurvivorshipRules = Record<GoldenField, FieldRules>;

/** A validation failure named by file and key, as every config loader here reports it. */
export class RulesError extends Error {
  constructor(
    readonly origin: string,
    readonly key: string,
    message: string,
  ) {
    super(`${origin}: invalid rules at key "${key}": ${message}`);
    this.name = 'RulesError';
  }
}

/** The first zod issue as a RulesError naming its key. */
export function zodFailure(origin: string, error: z.ZodError): RulesError {
  const issue = error.issues[0];
  const keys = 'keys' in issue && Array.isArray(issue.keys) ? issue.keys : [];
  const key = [...issue.path, ...keys.slice(0, 1)].map(String).join('.') || '(top level)';
  return new RulesError(origin, key, issue.message);
}

/** Validates parsed JSON; checks zod cannot (a source that cannot feed a field) name their key too. */
export function parseSurvivorship(json: unknown, origin = 'survivorship rules'): SurvivorshipRules {
  const parsed = survivorshipSchema.safeParse(json);
  if (!parsed.success) throw zodFailure(origin, parsed.error);
  const out = {} as SurvivorshipRules;
  for (const field of GOLDEN_FIELDS) {
    const f = parsed.data.fields[field];
    if (f.sources && new Set(f.sources).size !== f.sources.length) throw new RulesError(origin, `fields.${field}.sources`, 'a source is listed twice');
    f.rules.forEach((r, i) => {
      if (r.rule !== 'sourcePriority' || !r.order) return;
      r.order.forEach((s, j) => {
        if (f.sources && !f.sources.includes(s)) throw new RulesError(origin, `fields.${field}.rules.${i}.order.${j}`, `${s} is not among the field's sources`);
      });
    });
    out[field] = {
      field,
      description: f.description,
      sources: f.sources ?? [],
      listed: !!f.sources,
      ignore: f.ignore.map((p) => new RegExp(p, 'iu')),
      ignoreSources: f.ignore,
      compare: f.compare,
      rules: f.rules,
    };
  }
  return out;
}

/** A field's rule list in words, e.g. "sourcePriority (crm > scrm), then mostRecent": what the SDL descriptions quote. */
export function describeRules(f: Pick<FieldRules, 'rules' | 'sources'>): string {
  return f.rules.map((r) => (r.rule === 'sourcePriority' ? `sourcePriority (${(r.order ?? f.sources).join(' > ')})` : r.rule)).join(', then ');
}

/**
 * The rules against the configured sources: a listed source must be configured and its profile
 * must offer the field (an error names the key); a field listing none takes every source that
 * offers it, in config order. `offered(source)` answers the profile fields of a source, or null
 * when it is not configured or has no profile.
 */
export function bindSurvivorship(
  rules: SurvivorshipRules,
  sources: readonly SourceName[],
  offered: (source: SourceName) => readonly GoldenField[] | null,
  origin = 'survivorship rules',
): SurvivorshipRules {
  const out = {} as SurvivorshipRules;
  for (const field of GOLDEN_FIELDS) {
    const f = rules[field];
    const possible = sources.filter((s) => offered(s)?.includes(field));
    if (f.listed) {
      f.sources.forEach((s, i) => {
        if (!possible.includes(s))
          throw new RulesError(
            origin,
            `fields.${field}.sources.${i}`,
            `${s} ${offered(s) ? `has no ${field}` : 'is not a configured profile source'} (possible: ${possible.join(', ') || 'none'})`,
          );
      });
    }
    out[field] = { ...f, sources: f.listed ? f.sources : possible };
  }
  return out;
}

/**
 * The rules a role computes golden fields by when it is told of some systems only (src/access/
 * role-schema.ts `sourceTeller`): each field fed by the sources `told` keeps, in the same order.
 * A value chosen from a system the role is not told of would tell it the customer has a record
 * there (a masked name that only the helpdesk holds: they contacted support), and so would that
 * system's outage failing the field; the system is not asked either.
 */
export function narrowSurvivorship(rules: SurvivorshipRules, told: (source: SourceName) => boolean): SurvivorshipRules {
  const out = {} as SurvivorshipRules;
  for (const field of GOLDEN_FIELDS) out[field] = { ...rules[field], sources: rules[field].sources.filter(told) };
  return out;
}
