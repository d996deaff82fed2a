/**
 * Insight rules as data, validated at start-up: survivorship (config/survivorship.json, schema in
 * src/golden/rules.ts), tags (config/tags.json) and value & lifecycle (config/lifecycle.json:
 * lifecycle stage thresholds, RFM segments and boundary cache TTL, order summary settings).
 * An invalid file throws a RulesError naming the file and the key.
 */
import path from 'node:path';
import { z } from 'zod';
import { GOLDEN_FIELDS } from '../golden/fields';
import { parseSurvivorship, RulesError, zodFailure, type SurvivorshipRules } from '../golden/rules';
import { moneyFromDecimal } from '../canonical';
import { readJsonFile } from '../json-file';
import { optionProblems, type UnionIssue } from '../zod-union';
import type { Gender } from '../vocabulary';

// ---------- tags ----------

const decimal = z.string().regex(/^\d+(\.\d{1,4})?$/, 'an amount such as "5000.00"');
const days = z.number().int().min(1).max(3650);

/**
 * What zod's union of one-key objects says only as "Invalid input", named as the file spells it: a
 * key that is no condition (`recentOrder`) with the conditions there are, two keys in one object, or
 * a known condition's own problem (`recentOrders: Unrecognized key: "withinDay"`). `branches[i]` are the
 * keys the union's option i takes.
 */
function conditionError(branches: readonly string[][]) {
  const known = branches.flat();
  return (issue: UnionIssue): string | undefined => {
    const input = issue.input;
    if (!input || typeof input !== 'object' || Array.isArray(input)) return `a condition is an object of one of ${known.join(', ')}`;
    const keys = Object.keys(input);
    const unknown = keys.find((k) => !known.includes(k));
    if (unknown !== undefined) return `unknown condition ${JSON.stringify(unknown)}; the conditions are ${known.join(', ')}`;
    if (keys.length !== 1) return `one condition per object, not ${keys.join(' and ')}: combine them with allOf or anyOf`;
    return optionProblems(
      issue,
      branches.findIndex((b) => b.includes(keys[0])),
    );
  };
}

/** The keys an object schema takes, or every option's of a union. */
const keysOf = (schema: z.core.SomeType): string[] =>
  schema instanceof z.ZodUnion ? schema.options.flatMap(keysOf) : schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];

/** The leaf conditions: one fact about the customer each. */
const leafOptions = [
  z.object({ recentOrders: z.object({ atLeast: z.number().int().min(1), withinDays: days }).strict() }).strict(),
  z.object({ orderCount: z.object({ atLeast: z.number().int().min(1) }).strict() }).strict(),
  /** In `currency` (default CNY, yuan): a customer whose lifetime value is in another currency does not meet it (no rate is guessed). */
  z
    .object({
      lifetimeValue: z
        .object({
          atLeast: decimal,
          currency: z
            .string()
            .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as "CNY"')
            .default('CNY'),
        })
        .strict()
        // Else the tag would silently never match: ¥1000.5 is no amount.
        .refine((l) => moneyFromDecimal(l.atLeast, l.currency) !== null, {
          message: 'atLeast has more decimals than its currency (ISO 4217: none for JPY and KRW, three for KWD)',
          path: ['atLeast'],
        }),
    })
    .strict(),
  z.object({ golden: z.object({ field: z.enum(GOLDEN_FIELDS), in: z.array(z.string()).min(1) }).strict() }).strict(),
  z.object({ accountChannel: z.object({ in: z.array(z.string()).min(1) }).strict() }).strict(),
  z.object({ satisfaction: z.object({ atMost: z.number().int().min(1).max(5), withinDays: days }).strict() }).strict(),
  z.object({ rfmSegment: z.object({ in: z.array(z.string()).min(1) }).strict() }).strict(),
] as const;
const leafSchema = z.union(leafOptions, { error: conditionError(leafOptions.map(keysOf)) });
export type LeafCondition = z.infer<typeof leafSchema>;

/** `anyOf` / `allOf` nest leaves one level deep: enough for "platinum or big spender", simple to read. */
const conditionOptions = [
  leafSchema,
  z.object({ anyOf: z.array(leafSchema).min(1) }).strict(),
  z.object({ allOf: z.array(leafSchema).min(1) }).strict(),
  /** One tag per category the customer bought in at least `atLeast` orders; the tag name carries `{category}`. */
  z.object({ categoryOrders: z.object({ atLeast: z.number().int().min(1) }).strict() }).strict(),
] as const;
const conditionSchema = z.union(conditionOptions, { error: conditionError(conditionOptions.map(keysOf)) });
export type TagCondition = z.infer<typeof conditionSchema>;

const tagRuleSchema = z
  .object({
    /** The rule's name, reported with every tag it produces. */
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'rule ids are lower-case words joined by -'),
    /** The tag it produces; `{category}` is replaced for categoryOrders rules. */
    tag: z.string().regex(/^[a-z][a-z0-9_]*(\{category\}[a-z0-9_]*)?$/, 'tags are lower-case words joined by _ (optionally with {category})'),
    description: z.string().min(1),
    when: conditionSchema,
  })
  .strict();
export type TagRule = z.infer<typeof tagRuleSchema>;

const tagsSchema = z
  .object({
    $comment: z.string().optional(),
    description: z.string().optional(),
    tags: z.array(tagRuleSchema),
  })
  .strict();

/** The golden fields whose values are a closed set, as a `golden` condition compares them (`displayValue`): a value outside it never matches. */
const GOLDEN_VALUES: Partial<Record<(typeof GOLDEN_FIELDS)[number], readonly string[]>> = {
  gender: ['MALE', 'FEMALE', 'UNKNOWN'] satisfies Gender[],
  'marketingConsent.sms': ['true', 'false'],
  'marketingConsent.email': ['true', 'false'],
  'marketingConsent.wechat': ['true', 'false'],
};

/** A condition's leaves, each with its key in the file (`tags.0.when.anyOf.1`). */
function leavesAt(c: TagCondition, at: string): Array<{ leaf: LeafCondition; at: string }> {
  if ('anyOf' in c) return c.anyOf.map((leaf, k) => ({ leaf, at: `${at}.anyOf.${k}` }));
  if ('allOf' in c) return c.allOf.map((leaf, k) => ({ leaf, at: `${at}.allOf.${k}` }));
  if ('categoryOrders' in c) return [];
  return [{ leaf: c, at }];
}

export function parseTagRules(json: unknown, origin = 'tag rules'): TagRule[] {
  const parsed = tagsSchema.safeParse(json);
  if (!parsed.success) throw zodFailure(origin, parsed.error);
  const ids = new Set<string>();
  parsed.data.tags.forEach((t, i) => {
    if (ids.has(t.id)) throw new RulesError(origin, `tags.${i}.id`, `rule id ${t.id} is used twice`);
    ids.add(t.id);
    leavesAt(t.when, `tags.${i}.when`).forEach(({ leaf, at }) => {
      if (!('golden' in leaf)) return;
      const values = GOLDEN_VALUES[leaf.golden.field];
      if (!values) return;
      leaf.golden.in.forEach((v, j) => {
        if (!values.includes(v)) throw new RulesError(origin, `${at}.golden.in.${j}`, `${leaf.golden.field} is never "${v}" (its values: ${values.join(', ')})`);
      });
    });
    const templated = t.tag.includes('{category}');
    const perCategory = 'categoryOrders' in t.when;
    if (templated !== perCategory)
      throw new RulesError(origin, `tags.${i}.tag`, perCategory ? 'a categoryOrders rule needs {category} in its tag' : '{category} only works with a categoryOrders rule');
  });
  return parsed.data.tags;
}

// ---------- value & lifecycle ----------

const scoreRange = z
  .tuple([z.number().int().min(1).max(5), z.number().int().min(1).max(5)])
  .refine(([lo, hi]) => lo <= hi, { message: 'a range is [low, high] with low <= high' });

const segmentSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'segment names are lower-case words joined by _'),
    description: z.string().min(1),
    /** Inclusive score ranges; an absent dimension matches any score. */
    r: scoreRange.optional(),
    f: scoreRange.optional(),
    m: scoreRange.optional(),
  })
  .strict();
export type RfmSegmentRule = z.infer<typeof segmentSchema>;

const lifecycleSchema = z
  .object({
    $comment: z.string().optional(),
    description: z.string().optional(),
    stages: z
      .object({
        /** First order (or, never having ordered, registration) within this many days: NEW. */
        newWithinDays: days,
        /** Last order within this many days: ACTIVE. */
        activeWithinDays: days,
        /** Last order within this many days (and not active): AT_RISK; older: CHURNED. */
        atRiskWithinDays: days,
      })
      .strict()
      .refine((s) => s.activeWithinDays < s.atRiskWithinDays, { message: 'activeWithinDays must be less than atRiskWithinDays', path: ['atRiskWithinDays'] }),
    rfm: z
      .object({
        /** How long quintile boundaries are reused before the order system is asked again. */
        boundaryTtlSeconds: z
          .number()
          .int()
          .min(0)
          .max(7 * 86_400),
        /** First match wins; together they must cover every (r, f, m). */
        segments: z.array(segmentSchema).min(1),
      })
      .strict(),
    orderSummary: z
      .object({
        /** How many categories `favouriteCategories` lists. */
        favouriteCategories: z.number().int().min(1).max(20),
      })
      .strict(),
  })
  .strict();
export type LifecycleRules = z.infer<typeof lifecycleSchema>;

export function parseLifecycleRules(json: unknown, origin = 'lifecycle rules'): LifecycleRules {
  const parsed = lifecycleSchema.safeParse(json);
  if (!parsed.success) throw zodFailure(origin, parsed.error);
  const segs = parsed.data.rfm.segments;
  const names = new Set<string>();
  segs.forEach((s, i) => {
    if (names.has(s.name)) throw new RulesError(origin, `rfm.segments.${i}.name`, `segment ${s.name} is listed twice`);
    names.add(s.name);
  });
  // Every score combination must land in a segment, or some customer would have none; and every
  // segment must be the first match of one, or no customer is ever in it (a tag on it never holds).
  const reached = new Set<number>();
  for (let r = 1; r <= 5; r++)
    for (let f = 1; f <= 5; f++)
      for (let m = 1; m <= 5; m++) {
        const first = segs.findIndex((s) => segmentMatches(s, r, f, m));
        if (first < 0) throw new RulesError(origin, 'rfm.segments', `no segment matches r=${r} f=${f} m=${m}: add one, or a catch-all without ranges at the end`);
        reached.add(first);
      }
  segs.forEach((s, i) => {
    if (!reached.has(i))
      throw new RulesError(origin, `rfm.segments.${i}`, `segment ${s.name} is never reached: the segments before it (first match wins) take every score it covers`);
  });
  return parsed.data;
}

export function segmentMatches(s: RfmSegmentRule, r: number, f: number, m: number): boolean {
  const inside = (range: [number, number] | undefined, v: number) => !range || (v >= range[0] && v <= range[1]);
  return inside(s.r, r) && inside(s.f, f) && inside(s.m, m);
}

// ---------- loading ----------

export interface InsightRules {
  survivorship: SurvivorshipRules;
  tags: TagRule[];
  lifecycle: LifecycleRules;
  /** Where they came from, for messages. */
  dir: string;
}

export const RULE_FILES = { survivorship: 'survivorship.json', tags: 'tags.json', lifecycle: 'lifecycle.json' } as const;

function readJson(file: string): unknown {
  return readJsonFile(file, 'rules', (message, cause) => new Error(message, { cause }));
}

/** Reads and validates the three rule files in `dir`; throws naming the file and key of the first problem. */
export function loadInsightRules(dir = 'config'): InsightRules {
  const file = (name: string) => path.join(dir, name);
  const survivorship = parseSurvivorship(readJson(file(RULE_FILES.survivorship)), file(RULE_FILES.survivorship));
  const tags = parseTagRules(readJson(file(RULE_FILES.tags)), file(RULE_FILES.tags));
  const lifecycle = parseLifecycleRules(readJson(file(RULE_FILES.lifecycle)), file(RULE_FILES.lifecycle));
  checkSegmentNames(tags, lifecycle, file(RULE_FILES.tags));
  return { survivorship, tags, lifecycle, dir };
}

/** An `rfmSegment` condition names segments of lifecycle.json: a misspelt one would never hold. */
export function checkSegmentNames(tags: readonly TagRule[], lifecycle: LifecycleRules, origin = 'tag rules'): void {
  const names = lifecycle.rfm.segments.map((s) => s.name);
  tags.forEach((t, i) =>
    leavesAt(t.when, `tags.${i}.when`).forEach(({ leaf, at }) => {
      if (!('rfmSegment' in leaf)) return;
      leaf.rfmSegment.in.forEach((name, j) => {
        if (!names.includes(name))
          throw new RulesError(origin, `${at}.rfmSegment.in.${j}`, `no RFM segment is named ${name} in ${RULE_FILES.lifecycle} (its segments: ${names.join(', ')})`);
      });
    }),
  );
}
