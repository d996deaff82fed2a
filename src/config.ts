/**
 * Gateway configuration: a JSON file validated at start-up. Secrets never sit in the file:
 * any string may be `${ENV_VAR}` or `${ENV_VAR:-default}`, filled from the environment
 * before validation; a number or boolean may be one whole reference (`"port": "${PORT:-4000}"`),
 * read as JSON spells it. A bad file stops the process with a message naming the file and key.
 */
import path from 'node:path';
import { z } from 'zod';
import { AuthConfig, AccessConfig } from './access/config';
import { sqlConnection, resolveSqlFile } from './sources/options';
import { parseSources, type SourceConfig } from './sources/registry';
import { ORIGIN_PATTERN } from './http/cors';
import { readJsonFile } from './json-file';

/** The request path's default deadline for a OneID read (config `oneid.timeoutMs`). */
export const DEFAULT_ONEID_TIMEOUT_MS = 2000;
/** The default deadline for a OneID change made on request (config `oneid.writeTimeoutMs`): a stewardship mutation, a webhook's notification. */
export const DEFAULT_ONEID_WRITE_TIMEOUT_MS = 10_000;

/** The logger's levels; `C360_LOG_LEVEL` in the environment overrides `log.level`. */
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(4000),
        /** Serve the self-hosted GraphiQL IDE (src/ide/) on GET /graphql from a browser and under /ide/. */
        ide: z.boolean().optional(),
        /** Deprecated: the old name of `ide` (it served Apollo's Sandbox, which loads from a CDN). */
        sandbox: z.boolean().optional(),
        /** A short note above the IDE, shown only when the config has a `demo` section (the demo keys). */
        ideHint: z.string().max(500).optional(),
        /** Origins whose browser apps may call the API; default none. */
        cors: z
          .object({
            origins: z.array(z.string().regex(ORIGIN_PATTERN, 'an origin like https://app.example.com, http://localhost:* or https://*.example.com')).default([]),
            maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
          })
          .strict()
          .prefault({}),
        /** Serve each role's schema as an Apollo Federation v2 subgraph (`_service`, `_entities`; src/federation/). */
        federation: z.boolean().default(false),
        /**
         * Exports (`/export/customers.*`) in flight on this server, every principal's together: each
         * walks a whole list, so many keys each within their own `maxConcurrentExports` could still
         * take every core and the heap. Beyond it: 503 EXPORTS_BUSY with Retry-After.
         */
        maxConcurrentExports: z.number().int().min(1).max(10_000).default(16),
        /**
         * When set, /metrics answers only `Authorization: Bearer <metricsToken>` (Prometheus's
         * `authorization.credentials`), from the environment: `${C360_METRICS_TOKEN}`. Unset, it is open
         * like /healthz and /readyz, for a network where only the scraper reaches the gateway.
         */
        metricsToken: z.string().min(16, 'must be at least 16 characters (use ${ENV_VAR})').max(512).optional(),
        /** How long /readyz waits for each dependency's probe before reporting it as TIMEOUT. */
        readinessTimeoutMs: z.number().int().min(50).max(60_000).default(1500),
        /**
         * On SIGTERM/SIGINT, how long /readyz answers 503 (`draining`) while everything else is still
         * served, before the listener closes and the drain proper begins: a load balancer or an
         * orchestrator that follows readiness stops sending new requests first (0: close at once).
         */
        drainDelayMs: z.number().int().min(0).max(600_000).default(0),
        /** gzip/Brotli for responses of at least `minBytes` when the client accepts it. */
        compression: z
          .object({ minBytes: z.number().int().min(0).default(1024) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    oneid: z
      .object({
        connection: sqlConnection,
        /**
         * The request path's deadline for one OneID read (ms): past it the request answers
         * ONEID_UNAVAILABLE. On MySQL/MariaDB also the pool acquire, connect and statement timeout of
         * those reads. Default DEFAULT_ONEID_TIMEOUT_MS (optional in the type: configs built in code
         * without parsing may leave it out).
         */
        timeoutMs: z.number().int().min(50).max(60_000).optional(),
        /**
         * On MySQL/MariaDB, the deadline (ms) for a change made on request (a stewardship mutation,
         * a webhook's notification): past it the request answers ONEID_UNAVAILABLE rather than wait
         * on a store that does not answer. SQLite runs in-process and has no such wait. Default
         * DEFAULT_ONEID_WRITE_TIMEOUT_MS.
         */
        writeTimeoutMs: z.number().int().min(100).max(300_000).optional(),
      })
      .strict(),
    /** Source instances: `{ "name", "kind", "webhookSecret"?, …the kind's options }` (src/sources/registry.ts validates each). */
    sources: z.array(z.unknown()).min(1, 'list at least one source'),
    identity: z
      .object({
        rulesFile: z.string().default('config/identity-rules.json'),
        /** Resolve identities from every source's scan when the gateway starts. */
        resolveOnStart: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Survivorship, tag and lifecycle rules (survivorship.json, tags.json, lifecycle.json in this directory). */
    insights: z
      .object({ rulesDir: z.string().default('config') })
      .strict()
      .prefault({}),
    /** Who may call: API key hashes and JWT verification (see src/access). Empty: every request is refused. */
    auth: AuthConfig.prefault({}),
    /** The access policy file and the key for hashed masks. */
    access: AccessConfig.prefault({}),
    limits: z
      .object({
        /** Most ids one `customers(ids:)` call may ask for. */
        maxIds: z.number().int().min(1).max(10_000).default(1000),
        /** Most items a list argument like `first` may ask for. */
        maxFirst: z.number().int().min(1).max(1000).default(100),
      })
      .strict()
      .prefault({}),
    /** The change feed at /graphql/stream (src/feed/): how far back a reconnecting reader is replayed what it missed. */
    feed: z
      .object({
        /** Link-log entries behind the log's end a reader may resume from at most. */
        replayMaxChanges: z.number().int().min(0).max(1_000_000).default(10_000),
        /** Minutes back a reader may resume from at most. */
        replayMaxAgeMinutes: z
          .number()
          .int()
          .min(0)
          .max(7 * 24 * 60)
          .default(60),
      })
      .strict()
      .prefault({}),
    /** When present, `start` seeds the demo world and runs the support and SCRM stand-ins itself. */
    demo: z
      .object({
        people: z.number().int().min(10).max(1_000_000).default(5000),
        seed: z.number().int().default(42),
        dataDir: z.string().default('data'),
        /** Ports of the demo's HTTP stand-ins, by demo system (support, scrm, and each of demo/systems/); 0: any free port. */
        ports: z.record(z.string(), z.number().int().min(0).max(65535)).default({}),
      })
      .strict()
      .optional(),
    /**
     * OpenTelemetry traces (src/observability/tracing.ts). Export is off unless `otlp` is set here
     * or OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set in the environment.
     */
    telemetry: z
      .object({
        serviceName: z.string().min(1).default('c360'),
        /** Resource attributes added to every span (deployment.environment, service.namespace, …). */
        resourceAttributes: z.record(z.string(), z.string()).default({}),
        otlp: z
          .object({
            /** The OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces. */
            url: z.string().url(),
            headers: z.record(z.string(), z.string()).default({}),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: logLevel.default('info') })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = Omit<z.infer<typeof configSchema>, 'sources'> & { sources: SourceConfig[] };

/** Whether the IDE is served: `server.ide`, else the deprecated `server.sandbox`, else on. */
export const ideEnabled = (config: Pick<Config, 'server'>): boolean => config.server.ide ?? config.server.sandbox ?? true;
export type SqlConnectionConfig = z.infer<typeof sqlConnection>;

export class ConfigError extends Error {
  readonly code = 'BAD_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Replaces `${VAR}` / `${VAR:-default}` in every string. Variables missing without a default are an
 * error naming each key and its variable, every one at once: a deployment's config reads a dozen
 * (the production example fifteen), and setting them one failed start at a time is a dozen starts.
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, where: string): unknown {
  const missing: Array<{ at: string[]; name: string }> = [];
  const filled = fill(value, env, [], missing);
  // A source's key as its other errors name it: by the source's name (`sources[crm].connection.url`).
  const sources = (value as { sources?: unknown } | null)?.sources;
  const keyOf = (at: string[]) => {
    const name = at[0] === 'sources' && Array.isArray(sources) ? (sources[Number(at[1])] as { name?: unknown } | undefined)?.name : undefined;
    const key = typeof name === 'string' && /^[a-z][a-z0-9_]{0,31}$/.test(name) ? [`sources[${name}]`, ...at.slice(2)] : at;
    return key.join('.') || '(root)';
  };
  const lines = missing.map((m) => `${keyOf(m.at)} needs environment variable ${m.name}`);
  if (lines.length === 1) throw new ConfigError(`${where}: ${lines[0]}, which is not set`);
  if (lines.length)
    throw new ConfigError(`${where}: ${lines.length} environment variables it reads are not set (and have no default):\n${lines.map((l) => `  ${l}`).join('\n')}`);
  return filled;
}

/** `interpolateEnv`'s walk: each reference it cannot fill is added to `missing`, with the key it is at. */
function fill(value: unknown, env: NodeJS.ProcessEnv, at: string[], missing: Array<{ at: string[]; name: string }>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, def: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      missing.push({ at, name });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => fill(v, env, [...at, String(i)], missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, env, [...at, k], missing)]));
  }
  return value;
}

/** A string that is one reference and nothing around it: `${PORT}`, `${PORT:-4000}`. */
const WHOLE_REFERENCE = /^\$\{[A-Z_][A-Z0-9_]*(?::-[^}]*)?\}$/;

/** The variable's text as the number or boolean JSON would spell it (`4000`, `-1.5`, `true`), else undefined. */
function scalarOf(text: string, expected: 'number' | 'boolean'): number | boolean | undefined {
  const t = text.trim();
  if (expected === 'number') return /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(t) ? Number(t) : undefined;
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

const at = (value: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);

/**
 * `schema.safeParse(filled)`, where a value the file gave as one whole `${VAR}` reference (`raw`, the
 * same shape before interpolation) is read as the number or boolean the schema wants there: the
 * environment holds only strings, and a container sets its port, timeouts and switches from it. Only
 * where the schema refused a string for a number or boolean, so a string key keeps `"0123"` as it is.
 * A value that is none: the issue says so (the variable is named by the caller, never the value shown).
 */
function parseFromEnv<T>(schema: z.ZodType<T>, filled: unknown, raw: unknown): z.ZodSafeParseResult<T> {
  for (let pass = 0; ; pass++) {
    const result = schema.safeParse(filled);
    if (result.success || pass === 8) return result;
    let coerced = false;
    const issues = result.error.issues;
    for (const [n, issue] of issues.entries()) {
      if (issue.code !== 'invalid_type') continue;
      const expected = issue.expected === 'number' ? 'number' : issue.expected === 'boolean' ? 'boolean' : undefined;
      if (!expected) continue;
      const reference = at(raw, issue.path);
      const parent = at(filled, issue.path.slice(0, -1));
      const key = issue.path[issue.path.length - 1];
      const text = key === undefined ? undefined : at(filled, issue.path);
      if (typeof reference !== 'string' || !WHOLE_REFERENCE.test(reference) || typeof text !== 'string' || !parent || typeof parent !== 'object') continue;
      const value = scalarOf(text, expected);
      if (value !== undefined) {
        (parent as Record<PropertyKey, unknown>)[key as PropertyKey] = value;
        coerced = true;
      } else {
        const message =
          expected === 'number'
            ? 'expected a number, and the environment variable it is set from holds none'
            : 'expected true or false, and the environment variable it is set from holds neither';
        issues[n] = { ...issue, message };
      }
    }
    if (!coerced) return result;
  }
}

/**
 * The environment variables each key's value came from, by the key as errors name it (`oneid.connection.url`;
 * a source's as `sources[crm].…` and `sources[0].…`): a bad value is fixed where it is set, and its error says where.
 */
function keysFromEnv(raw: unknown, filled: unknown, env: NodeJS.ProcessEnv): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (value: unknown, at: string[]) => {
    if (typeof value === 'string') {
      const names = [...value.matchAll(/\$\{([A-Z_][A-Z0-9_]*)(?::-[^}]*)?\}/g)].map((m) => m[1]).filter((n) => env[n] !== undefined && env[n] !== '');
      if (!names.length) return;
      const keys = [at.join('.')];
      if (at[0] === 'sources' && at.length > 1) {
        const name = ((filled as { sources?: Array<{ name?: unknown }> }).sources?.[Number(at[1])] ?? {}).name;
        keys.push([`sources[${at[1]}]`, ...at.slice(2)].join('.'));
        if (typeof name === 'string') keys.push([`sources[${name}]`, ...at.slice(2)].join('.'));
      }
      for (const k of keys) out.set(k, names);
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...at, String(i)]));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...at, k]);
  };
  walk(raw, []);
  return out;
}

/** Validates an already-parsed config object; `where` names it in errors. Relative SQLite paths resolve against `baseDir`. */
export function parseConfig(raw: unknown, where: string, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): Config {
  const filled = interpolateEnv(raw, env, where);
  /** The error's lines, each naming the variables its key's value came from. */
  const invalid = (lines: string[]) => {
    const fromEnv = keysFromEnv(raw, filled, env);
    const named = lines.map((line) => {
      const names = fromEnv.get(/^ {2}([^:]+):/.exec(line)?.[1] ?? '');
      return names ? `${line} (set from ${names.map((n) => `$${n}`).join(', ')})` : line;
    });
    return new ConfigError(`${where} is not a valid c360 config:\n${named.join('\n')}`);
  };
  const result = parseFromEnv(configSchema, filled, raw);
  if (!result.success) throw invalid(result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`));
  const resolvePath = (p: string) => path.resolve(baseDir, p);
  const rawSources = (raw as { sources?: unknown[] }).sources;
  const parsedSources = parseSources(result.data.sources, resolvePath, (schema, value, i) => parseFromEnv(schema, value, rawSources?.[i]));
  if (parsedSources.errors.length) throw invalid(parsedSources.errors);
  const cfg: Config = { ...result.data, sources: parsedSources.sources };
  cfg.oneid.connection = resolveSqlFile(cfg.oneid.connection, resolvePath);
  cfg.identity.rulesFile = path.resolve(baseDir, cfg.identity.rulesFile);
  cfg.access.policyFile = path.resolve(baseDir, cfg.access.policyFile);
  cfg.insights.rulesDir = path.resolve(baseDir, cfg.insights.rulesDir);
  if (cfg.demo) cfg.demo.dataDir = path.resolve(baseDir, cfg.demo.dataDir);
  const strayed = cfg.demo ? standInsAstray(cfg.demo.ports, cfg.sources) : [];
  if (strayed.length) throw invalid(strayed);
  // The OTLP exporter reads these itself and, given one that is no URL, sends to localhost:4318 without a word.
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    const value = env[name];
    // Not echoed: an endpoint may carry credentials.
    if (value && !httpUrl(value)) throw new ConfigError(`${name} must be an http:// or https:// URL (the OTLP/HTTP collector, e.g. http://otel-collector:4318)`);
  }
  // An operator turns the log up for a while without editing the file.
  if (env.C360_LOG_LEVEL) {
    const level = logLevel.safeParse(env.C360_LOG_LEVEL);
    if (!level.success) throw new ConfigError(`C360_LOG_LEVEL must be one of ${logLevel.options.join(', ')}, got "${env.C360_LOG_LEVEL.slice(0, 16)}"`);
    cfg.log.level = level.data;
  }
  return cfg;
}

/**
 * A demo stand-in served on one port while its source reads another on this machine: the gateway would read whatever
 * answers there (another c360's stand-in, with another world), or nothing. Both are set together:
 * `demo.ports.<name>` and that source's `baseUrl` (the demo config reads both from one variable).
 */
function standInsAstray(ports: Record<string, number>, sources: readonly SourceConfig[]): string[] {
  const lines: string[] = [];
  for (const [name, port] of Object.entries(ports)) {
    const baseUrl = (sources.find((s) => s.name === name)?.options as { baseUrl?: unknown } | undefined)?.baseUrl;
    if (typeof baseUrl !== 'string') continue;
    const url = new URL(baseUrl);
    // A source aimed at a real system elsewhere leaves its stand-in unread, which misleads no one.
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) continue;
    const reads = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (port === reads) continue;
    lines.push(
      `  demo.ports.${name}: the stand-in would listen on ${port === 0 ? 'any free port' : `port ${port}`} while sources[${name}].baseUrl reads port ${reads}: set both to one port (npm start: C360_DEMO_PORT_${name.toUpperCase()})`,
    );
  }
  return lines;
}

function httpUrl(value: string): boolean {
  try {
    return /^https?:$/.test(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Reads and validates a config file. Relative paths inside it resolve against the working directory. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = readJsonFile(file, 'config', (message) => new ConfigError(message));
  return parseConfig(raw, file, env);
}
