/**
 * Identity rules as data (`config/identity-rules.json`), validated at load, and the questions
 * they answer: how a raw identifier is normalized, which kinds link and in what priority, how
 * many people one value may plausibly belong to, and which values are placeholders.
 *
 * Blocked patterns are case-insensitive regular expressions tested against the NORMALIZED
 * value (E.164 phone, lower-case email, trimmed id); the `ANY` list applies to every kind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js/max';
import { emailMatchKey } from '../canonical';
import { normalizeIdentifier } from '../identifiers';
import { IDENTIFIER_KINDS, type IdentifierKind } from '../vocabulary';
import { readJsonFile } from '../json-file';

const kindSchema = z.enum(IDENTIFIER_KINDS);
const patternSchema = z.string().refine(isRegExp, { message: 'not a valid regular expression' });
const regionSchema = z.string().refine((r) => isSupportedCountry(r), { message: 'not a supported ISO 3166 region' });

const probabilisticSchema = z
  .object({
    description: z.string().optional(),
    /** m/u probabilities per comparison level, estimated by EM (`npm run identity:estimate`); relative to this rules file (to `config/` for rules given in code). */
    weightsFile: z.string(),
    /**
     * Where u (how often two different people agree by chance) comes from: `store`, counted on
     * random pairs of the store's own records (`probabilistic/store-chance.ts`), the weights file's
     * m kept; `file`, the weights file's as well.
     */
    chance: z.enum(['store', 'file']).default('file'),
    /** Match weight (log2 of the likelihood ratio, prior included) at or above which two customers are linked. */
    autoLink: z.number(),
    /** At or above this and below autoLink: a review candidate. */
    review: z.number(),
    /** Added when two records share a phone or email but are clearly different people by name and birthday (a household). */
    householdPenalty: z.number().max(0),
    /** Blocks larger than this are skipped (counted), keeping comparisons far from quadratic. */
    maxBlock: z.number().int().min(2).max(10_000),
    /** A value carried by more records than this is no shared evidence (a shop's number, a reseller's). */
    maxCarriers: z.number().int().min(2).max(1000),
  })
  .strict()
  .refine((p) => p.review <= p.autoLink, { message: 'review must not be above autoLink' });

export type ProbabilisticRules = z.infer<typeof probabilisticSchema>;

const rulesSchema = z
  .object({
    description: z.string().optional(),
    defaultPhoneRegion: regionSchema,
    /** A source's own default region, by source name, for sources whose phones are written without a country code in another country. */
    sourceRegions: z.record(z.string(), regionSchema).optional(),
    /** Linking kinds, highest priority first. */
    strong: z
      .array(
        z
          .object({
            kind: kindSchema,
            rule: z.string().regex(/^[a-z][a-z0-9-]*$/, 'rule names are lower-case words joined by -'),
            /** Most people a value may be shared by and still link; see `peopleCarrying`. */
            maxPeople: z.number().int().min(1),
            /** Kinds whose values, when both sides carry some and share none, refuse a link through this kind. */
            refuseIfDiffer: z.array(kindSchema).optional(),
            /** A value on several records of one source links only when those records are tied by something else. */
            corroborateWithinSource: z.boolean().optional(),
            description: z.string().optional(),
          })
          .strict(),
      )
      .min(1)
      .refine((s) => new Set(s.map((k) => k.kind)).size === s.length, { message: 'a kind is listed twice' })
      .refine((s) => new Set(s.map((k) => k.rule)).size === s.length, { message: 'a rule name is used twice' }),
    /** Kinds one person carries at most one value of: two different values mean two people. */
    exclusive: z.array(kindSchema),
    /** Soft attributes that, when both sides know them and they differ, mean two people. */
    conflictTraits: z.array(z.enum(['name', 'birthday'])),
    /** Birthdays that are form defaults, not facts. */
    ignoredBirthdays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD')),
    blocked: z.partialRecord(z.enum(['ANY', ...IDENTIFIER_KINDS]), z.array(patternSchema)),
    /** The second tier (src/idmap/probabilistic/): Fellegi-Sunter over names, birthdays, places; absent = off. */
    probabilistic: probabilisticSchema.optional(),
  })
  .strict();

export type IdentityRulesFile = z.infer<typeof rulesSchema>;

export interface StrongKind {
  kind: IdentifierKind;
  /** Name used as the actor of links it makes: `rule:<name>`. */
  rule: string;
  maxPeople: number;
  /** Beyond the exclusive kinds: kinds whose disjoint values on the two sides refuse a link through this one. */
  refuseIfDiffer: readonly IdentifierKind[];
  /**
   * When several records of ONE source carry a value, it links only if those records are
   * already one group or share a name or birthday: one system rarely holds one person twice
   * under the same phone, a household often.
   */
  corroborateWithinSource: boolean;
  /** 0 is the highest. */
  priority: number;
}

export interface NormalizedIdentifier {
  kind: IdentifierKind;
  value: string;
  matchKey: string;
}

export interface IdentityRules {
  /** Where they were loaded from, for messages. */
  origin: string;
  defaultPhoneRegion: CountryCode;
  /** Highest priority first. */
  strong: readonly StrongKind[];
  strongKind(kind: IdentifierKind): StrongKind | undefined;
  isExclusive(kind: IdentifierKind): boolean;
  readonly exclusiveKinds: readonly IdentifierKind[];
  /** Every kind some evidence check compares: the exclusive ones and all `refuseIfDiffer` kinds. */
  readonly evidenceKinds: readonly IdentifierKind[];
  readonly conflictTraits: { name: boolean; birthday: boolean };
  isIgnoredBirthday(isoDate: string): boolean;
  /** The first blocked pattern the normalized value matches, or null. */
  blockedBy(kind: IdentifierKind, value: string): string | null;
  /** The default phone region of a source (`sourceRegions`, else `defaultPhoneRegion`). */
  regionOf(source: string): CountryCode;
  /**
   * The stored form of a raw identifier, or null when it is not a usable value of its kind.
   * Phones without a country code are read in `region` (the record's country, its source's region), else the default.
   */
  normalize(kind: IdentifierKind, raw: string, region?: CountryCode): NormalizedIdentifier | null;
  /** The second tier's settings, with `weightsFile` resolved against the rules file; null when off. */
  readonly probabilistic: ProbabilisticRules | null;
}

/** Reads and validates a rules file; throws naming the file and the offending key. */
export function loadIdentityRules(path: string): IdentityRules {
  const json = readJsonFile(path, 'identity rules', (message, cause) => new Error(message, { cause }));
  return parseIdentityRules(json, path);
}

/** Validates rules already parsed from JSON; `origin` names them in errors. */
export function parseIdentityRules(json: unknown, origin = 'identity rules'): IdentityRules {
  const parsed = rulesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = 'keys' in issue && Array.isArray(issue.keys) ? issue.keys : [];
    const key = [...issue.path, ...keys.slice(0, 1)].map(String).join('.') || '(top level)';
    throw new Error(`${origin}: invalid identity rules at key "${key}": ${issue.message}`);
  }
  return compile(parsed.data, origin);
}

function compile(file: IdentityRulesFile, origin: string): IdentityRules {
  const region = file.defaultPhoneRegion as CountryCode;
  const strong = file.strong.map((s, priority) => ({
    kind: s.kind,
    rule: s.rule,
    maxPeople: s.maxPeople,
    refuseIfDiffer: s.refuseIfDiffer ?? [],
    corroborateWithinSource: s.corroborateWithinSource ?? false,
    priority,
  }));
  const strongByKind = new Map(strong.map((s) => [s.kind, s]));
  const exclusive = new Set(file.exclusive);
  const ignoredBirthdays = new Set(file.ignoredBirthdays);
  const patterns = new Map<IdentifierKind, RegExp[]>();
  for (const kind of IDENTIFIER_KINDS) {
    patterns.set(
      kind,
      [...(file.blocked.ANY ?? []), ...(file.blocked[kind] ?? [])].map((p) => new RegExp(p, 'i')),
    );
  }
  const sourceRegions = new Map(Object.entries(file.sourceRegions ?? {}) as Array<[string, CountryCode]>);
  const probabilistic = file.probabilistic
    ? {
        ...file.probabilistic,
        weightsFile: path.resolve(fs.existsSync(origin) ? path.dirname(origin) : 'config', file.probabilistic.weightsFile),
      }
    : null;
  return {
    origin,
    defaultPhoneRegion: region,
    regionOf: (source) => sourceRegions.get(source) ?? region,
    probabilistic,
    strong,
    strongKind: (kind) => strongByKind.get(kind),
    isExclusive: (kind) => exclusive.has(kind),
    exclusiveKinds: [...exclusive],
    evidenceKinds: [...new Set([...exclusive, ...strong.flatMap((s) => s.refuseIfDiffer)])],
    conflictTraits: { name: file.conflictTraits.includes('name'), birthday: file.conflictTraits.includes('birthday') },
    isIgnoredBirthday: (d) => ignoredBirthdays.has(d),
    blockedBy(kind, value) {
      for (const re of patterns.get(kind) ?? []) if (re.test(value)) return re.source;
      return null;
    },
    normalize: (kind, raw, r) => normalizeWithMatchKey(kind, raw, r ?? region),
  };
}

/**
 * Per-kind canonical form (the lookup side uses the same `normalizeIdentifier`, so a value
 * stored here is found by any spelling a caller types) plus the key resolution compares.
 */
export function normalizeWithMatchKey(kind: IdentifierKind, raw: string, region: CountryCode): NormalizedIdentifier | null {
  const value = normalizeIdentifier(kind, raw, region);
  if (value == null || value.length > 255) return null;
  return { kind, value, matchKey: matchKeyOf(kind, value) };
}

function isRegExp(p: string): boolean {
  try {
    new RegExp(p, 'i');
    return true;
  } catch {
    return false;
  }
}

/** What resolution compares for a normalized value: the value, with email provider aliases folded. */
export function matchKeyOf(kind: IdentifierKind, value: string): string {
  return kind === 'EMAIL' ? emailMatchKey(value) : value;
}
