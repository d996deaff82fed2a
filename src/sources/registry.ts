/**
 * The source registry: the kinds this gateway knows (found, not listed: every directory
 * `src/sources/<kind>/` whose index exports `kind`), the instances the config names, and
 * their connectors and capabilities. The core loops over this and never names a source.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CAPABILITY_NAMES, capabilityProblems, type Capabilities, type CapabilityName } from '../capabilities';
import { isSourceName, SOURCE_NAME_PATTERN, type Connector, type EventKind, type SourceName } from '../vocabulary';
import { EVENT_KIND_PATTERN } from '../vocabulary';
import type { EventOrigins, SourceKind, KindResolvers } from './kind';
import type { SourceObserver } from './observe';
import type { CountryCode } from 'libphonenumber-js';
import { DEFAULT_PHONE_REGION } from '../canonical';
import { isSourceError } from '../errors';

/**
 * Names the gateway itself answers under where sources are named: `/readyz` checks OneID as
 * `oneid`, and errors no one source raised carry `extensions.source` `oneid`, `commerce` (money in
 * several currencies across commerce sources) or `audit`. A source so named would be mistaken for them.
 */
export const RESERVED_SOURCE_NAMES: readonly string[] = ['oneid', 'commerce', 'audit'];

/** What every instance entry of the config has, besides its kind's own options. */
export const sourceEntry = z
  .object({
    name: z
      .string()
      .regex(SOURCE_NAME_PATTERN, 'must be lower snake case, at most 32 characters (e.g. "crm", "shop_tmall")')
      .superRefine((n, ctx) => {
        if (RESERVED_SOURCE_NAMES.includes(n))
          ctx.addIssue({ code: 'custom', message: `"${n}" is reserved: ${RESERVED_SOURCE_NAMES.join(', ')} name the gateway's own checks and errors` });
      }),
    kind: z.string().min(1),
    /** HMAC secret for change notifications (`POST /webhooks/<name>`), from the environment; none: no webhook. */
    webhookSecret: z.string().min(16).optional(),
  })
  .loose();

/** One validated instance: its kind's options parsed and paths resolved. */
export interface SourceConfig {
  name: SourceName;
  kind: string;
  webhookSecret?: string;
  options: unknown;
}

let discovered: ReadonlyMap<string, SourceKind> | null = null;

/** Every source kind under src/sources/, by kind name. A module that breaks the contract fails here, naming its folder. */
export function sourceKinds(): ReadonlyMap<string, SourceKind> {
  if (discovered) return discovered;
  const kinds = new Map<string, SourceKind>();
  for (const entry of fs.readdirSync(__dirname, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(__dirname, entry.name);
    if (!['index.ts', 'index.js'].some((f) => fs.existsSync(path.join(dir, f)))) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(dir) as { kind?: SourceKind };
    const k = mod.kind;
    if (!k || typeof k.kind !== 'string' || typeof k.create !== 'function' || typeof k.capabilities !== 'function' || !k.options) {
      throw new Error(`src/sources/${entry.name}: its index must export \`kind\`, a SourceKind (src/sources/kind.ts)`);
    }
    if (kinds.has(k.kind)) throw new Error(`src/sources/${entry.name}: kind "${k.kind}" is declared twice`);
    for (const e of Object.keys(k.events ?? {})) {
      if (!EVENT_KIND_PATTERN.test(e)) throw new Error(`src/sources/${entry.name}: event kind "${e}" is not lower snake case`);
    }
    kinds.set(k.kind, k);
  }
  discovered = kinds;
  return kinds;
}

/**
 * Validates a kind's options of instance `index`; src/config.ts passes one that reads a whole `${VAR}`
 * reference as the number or boolean the kind wants (the environment holds only strings).
 */
export type ParseOptions = (schema: z.ZodType, value: unknown, index: number) => z.ZodSafeParseResult<unknown>;

/**
 * Validates the config's `sources` list: names unique, kinds known, each entry's options
 * valid for its kind. Errors name the entry (`sources[crm].connection.filename`), collected.
 */
export function parseSources(
  raw: unknown,
  resolvePath: (p: string) => string,
  parseOptions: ParseOptions = (schema, value) => schema.safeParse(value),
): { sources: SourceConfig[]; errors: string[] } {
  const kinds = sourceKinds();
  const errors: string[] = [];
  const sources: SourceConfig[] = [];
  if (!Array.isArray(raw)) return { sources, errors: ['  sources: must be a list of source instances ({ "name", "kind", …options })'] };
  const seen = new Set<string>();
  raw.forEach((item, i) => {
    const head = sourceEntry.safeParse(item);
    if (!head.success) {
      for (const issue of head.error.issues) errors.push(`  sources[${i}].${issue.path.join('.') || '(entry)'}: ${issue.message}`);
      return;
    }
    const { name, kind: kindName, webhookSecret, ...rest } = head.data;
    const at = `sources[${name}]`;
    if (seen.has(name)) errors.push(`  ${at}.name: "${name}" is used by two sources; each instance needs its own name`);
    seen.add(name);
    const kind = kinds.get(kindName);
    if (!kind) {
      errors.push(`  ${at}.kind: unknown kind "${kindName}"; known kinds: ${[...kinds.keys()].sort().join(', ')}`);
      return;
    }
    const parsed = parseOptions(kind.options, rest, i);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push(`  ${at}.${issue.path.join('.') || '(options)'}: ${issue.message}`);
      return;
    }
    const options = kind.resolvePaths ? kind.resolvePaths(parsed.data, resolvePath) : parsed.data;
    sources.push({ name, kind: kindName, webhookSecret, options });
  });
  return { sources, errors };
}

/** What the start-up check found: the config's problems, and the instances it could not check. */
export interface SourceCheck {
  /** Lines of a config error, `  sources[<name>].<key>: <problem>`: every problem of every instance at once. */
  problems: string[];
  /** Instances whose system did not answer the check (a SourceError): not checked, not a problem of the config. */
  /** `cause`: the SourceError's message, codes only (`crm describeTable: source unavailable (ER_BAD_DB_ERROR)`). */
  unchecked: Array<{ source: SourceName; code: string; cause?: string }>;
}

/**
 * Every instance's start-up check against its real system (SourceKind.check). One rule for every
 * kind: a check that throws a SourceError met a system that did not answer, and a source may be
 * down at start (its fields are then SOURCE_UNAVAILABLE and /readyz names it, as for a source
 * down later), so that instance is `unchecked`; anything else it throws is the config's fault
 * (a table, column or mapping its system can never serve) and stops start-up.
 */
export async function checkSources(registry: Pick<SourceRegistry, 'sources'>): Promise<SourceCheck> {
  const problems: string[] = [];
  const unchecked: SourceCheck['unchecked'] = [];
  for (const s of registry.sources) {
    try {
      await s.kind.check?.(s.connector);
    } catch (e) {
      if (isSourceError(e)) {
        unchecked.push({ source: s.name, code: e.code, cause: e.message });
        continue;
      }
      const lines = (e instanceof Error ? e.message : String(e)).split('\n').filter((l) => l.trim());
      problems.push(...lines.map((l) => `  sources[${s.name}].${l.trim()}`));
    }
  }
  return { problems, unchecked };
}

/**
 * The line start-up logs and check-config prints for an instance left unchecked, with the driver's
 * code: a server that is down (ECONNREFUSED) waits it out, a database name or password it refuses
 * (ER_BAD_DB_ERROR, ER_ACCESS_DENIED_ERROR) is the config's to fix, and only the code tells them apart.
 */
export function uncheckedWarning(u: SourceCheck['unchecked'][number]): string {
  const why = u.cause ? `${u.code}: ${u.cause}` : u.code;
  return `sources[${u.source}]: not checked, its system could not be read (${why}); served unchecked (its fields SOURCE_UNAVAILABLE while it is down), checked once its system answers`;
}

/** One configured, connected instance. */
export interface RegisteredSource<C extends Connector = Connector> {
  name: SourceName;
  kind: SourceKind<unknown, C>;
  connector: C;
  capabilities: Capabilities;
  webhookSecret?: string;
}

export interface SourceRegistry {
  /** Every instance, in config order (the order ties are broken in where no rule says otherwise). */
  readonly sources: readonly RegisteredSource[];
  get(name: SourceName): RegisteredSource | undefined;
  /** The instances providing a capability, with it. */
  providing<K extends CapabilityName>(capability: K): Array<{ name: SourceName; capability: NonNullable<Capabilities[K]> }>;
  /** The kinds with at least one instance, each with its instances. */
  readonly kinds: ReadonlyArray<{ kind: SourceKind; sources: RegisteredSource[] }>;
  /** Every timeline event kind of the configured sources → its description and the sources emitting it. */
  readonly eventKinds: ReadonlyMap<EventKind, { description: string; sources: SourceName[] }>;
  /** Event kind → the field (`Type.field`) each of its values is taken from, per the kinds that emit it (SourceKind.eventFields). */
  readonly eventFields: ReadonlyMap<EventKind, EventOrigins>;
  /** The kinds' SDL and resolvers, for the schema. */
  readonly typeDefs: string[];
  readonly resolvers: KindResolvers[];
  close(): Promise<void>;
}

/**
 * Connects every configured instance (connectors open lazily; nothing is called here).
 * `phoneRegionOf` is the identity rules' region of a source (`IdentityRules.regionOf`), so that
 * connectors read phones as OneID does; without it, every source reads them in CN.
 */
export function createRegistry(
  configs: readonly SourceConfig[],
  observer: SourceObserver,
  phoneRegionOf: (source: SourceName) => CountryCode = () => DEFAULT_PHONE_REGION,
): SourceRegistry {
  const kinds = sourceKinds();
  return registryOf(
    configs.map((c) => {
      const kind = kinds.get(c.kind);
      if (!kind) throw new Error(`sources[${c.name}].kind: unknown kind "${c.kind}"`);
      return { name: c.name, kind: c.kind, connector: kind.create(c.name, c.options, observer, { phoneRegion: phoneRegionOf(c.name) }), webhookSecret: c.webhookSecret };
    }),
  );
}

/** A registry over connectors already made (tests hand in their own stand-in connectors of a kind). */
export function registryOf(connected: ReadonlyArray<{ name: SourceName; kind: string; connector: Connector; webhookSecret?: string }>): SourceRegistry {
  const kinds = sourceKinds();
  const sources: RegisteredSource[] = connected.map((c) => {
    const kind = kinds.get(c.kind);
    if (!kind) throw new Error(`sources[${c.name}].kind: unknown kind "${c.kind}"`);
    const connector = c.connector;
    const capabilities = kind.capabilities(connector);
    for (const cap of Object.keys(capabilities)) {
      if (!(CAPABILITY_NAMES as readonly string[]).includes(cap)) throw new Error(`kind ${c.kind}: unknown capability "${cap}"`);
    }
    // A capability provided in part would fail every request that computes on it: refuse it now.
    const problems = capabilityProblems(capabilities);
    if (problems.length) throw new Error(`kind ${c.kind} (source ${c.name}): a capability it provides is incomplete (src/capabilities/index.ts):\n  ${problems.join('\n  ')}`);
    return { name: c.name, kind, connector, capabilities, webhookSecret: c.webhookSecret };
  });
  const byName = new Map(sources.map((s) => [s.name, s]));

  const byKind = new Map<SourceKind, RegisteredSource[]>();
  for (const s of sources) byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), s]);
  const kindList = [...byKind].map(([kind, list]) => ({ kind, sources: list }));

  const eventKinds = new Map<EventKind, { description: string; sources: SourceName[] }>();
  for (const s of sources) {
    const events = s.capabilities.events;
    if (!events) continue;
    for (const e of events.kinds) {
      const entry = eventKinds.get(e) ?? { description: s.kind.events?.[e] ?? e, sources: [] };
      entry.sources.push(s.name);
      eventKinds.set(e, entry);
    }
  }

  const eventFields = new Map<EventKind, EventOrigins>();
  for (const { kind } of kindList) {
    for (const [e, origins] of Object.entries(kind.eventFields ?? {}) as Array<[EventKind, EventOrigins]>) {
      const before = eventFields.get(e);
      if (before && JSON.stringify(before) !== JSON.stringify(origins))
        throw new Error(`kind ${kind.kind}: the values of ${e} come from ${JSON.stringify(origins)}, another kind says ${JSON.stringify(before)}`);
      eventFields.set(e, origins);
    }
  }

  return {
    sources,
    eventFields,
    get: (name) => (isSourceName(name) ? byName.get(name) : undefined),
    providing: (capability) => sources.filter((s) => s.capabilities[capability]).map((s) => ({ name: s.name, capability: s.capabilities[capability]! })),
    kinds: kindList,
    eventKinds,
    typeDefs: kindList.map((k) => k.kind.sdl).filter((sdl): sdl is string => !!sdl),
    resolvers: kindList.filter((k) => k.kind.resolvers).map((k) => k.kind.resolvers!(k.sources.map((s) => ({ name: s.name, connector: s.connector })))),
    async close() {
      await Promise.allSettled(sources.map((s) => s.connector.close()));
    },
  };
}
