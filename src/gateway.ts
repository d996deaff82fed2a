/**
 * Assembles a gateway from config: the OneID store, the source registry behind one observer,
 * metrics, the schema and its Apollo Server. Everything here happens once at start-up;
 * nothing on the request path is built twice.
 */
import type { Knex } from 'knex';
import { isEnumType, type GraphQLSchema } from 'graphql';
import type { ApolloServer } from '@apollo/server';
import { ConfigError, DEFAULT_ONEID_TIMEOUT_MS, DEFAULT_ONEID_WRITE_TIMEOUT_MS, type Config } from './config';
import { directReads, openDatabase, sqliteFileOf } from './db';
import { startCheckpointer } from './sqlite-checkpointer';
import { createMetrics, type Metrics } from './observability/metrics';
import { createTracing, tracedReader, type Tracing } from './observability/tracing';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger, type Logger } from './observability/logger';
import { composeObservers, type CallObserver } from './sources/observe';
import { EVENT_VALUES, eventOccurrence, eventOrigin } from './sources/kind';
import type { EventKind } from './vocabulary';
import { requestSourceObserver } from './observability/request-sources';
import { createRegistry, checkSources, uncheckedWarning, type SourceRegistry } from './sources/registry';
import { createSourceRechecks, type SourceRechecks } from './sources/recheck';
import { createIdMapStore, migrateLatest } from './idmap';
import type { IdMapReader } from './idmap/types';
import { guardReader, guardStewardship, guardStore } from './idmap/guarded';
import { buildSchema, sourceCustomerFields, unconfiguredTypes } from './schema';
import { createApollo } from './graphql';
import { entitiesLimitsPlugin, federateRoleSchemas } from './federation';
import type { Context, ContextDeps } from './context';
import { stewardshipFor } from './idmap/stewardship';
import { createAccess, migrateAccessLatest, type Access, type DerivedOrigin } from './access';
import { loadInsightsRuntime, type InsightsRuntime } from './insights/runtime';
import type { Tag } from './insights/tags';
import { createBiStore } from './idmap/bi-store';
import { loadIdentityRules } from './idmap/rules';
import { scopeCheck } from './access/row-scope';
import { createHub, type FeedOptions, type Hub } from './feed/hub';
import type { CustomerChange } from './feed/changes';
import { narrowSurvivorship } from './golden/rules';
import type { BiDeps } from './loaders';
import { StartupError, systemErrorLine } from './errors';
import { safeError } from './observability/scrub';
import { cursorKey } from './timeline/cursor';

export interface Gateway {
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** OpenTelemetry spans: the request, OneID batch reads, source calls (src/observability/tracing.ts). */
  tracing: Tracing;
  oneidDb: Knex;
  idmap: ReturnType<typeof createIdMapStore> & IdMapReader;
  /** The deadline of a OneID change made on request (stewardship, webhooks); undefined where the store runs in-process (SQLite). */
  oneidWriteTimeoutMs: number | undefined;
  /** The configured source instances, their connectors and capabilities. */
  registry: SourceRegistry;
  /** The start-up check of the instances it left unchecked, run once their system answers (/readyz reports what it finds). */
  sourceChecks: SourceRechecks;
  /** The full schema; each role is served its own derivation of it. */
  schema: GraphQLSchema;
  access: Access;
  /** Survivorship, tag and lifecycle rules and the RFM boundary cache, loaded once. */
  insights: InsightsRuntime;
  /** One Apollo Server per role, each over that role's schema. */
  apollos: ReadonlyMap<string, ApolloServer<Context>>;
  /** BI lists: the OneID store's BI reads and segments, and each role's page, cost and row-scope limits (src/bi/). */
  bi: BiDeps;
  /** What each request's context is made from (createContext): one object for every entry point (GraphQL, exports, the change feed). */
  requestDeps: ContextDeps;
  /** The change feed (src/feed/): polls OneID's link log only while a subscription is open. */
  feed: Hub;
  close(): Promise<void>;
}

/**
 * How long `Gateway.close` waits for the change feed, the sources' pools and OneID's to close. A
 * database that does not answer (stopped with SIGSTOP, a silent network) never completes its
 * connections' goodbyes nor gives back the connections of statements that already timed out, and
 * a stop would wait for it for as long as it hangs; nothing is lost by leaving instead: every
 * request has been answered, and the server rolls back whatever it had open once the connection drops.
 */
export const CLOSE_TIMEOUT_MS = 5_000;

export interface GatewayOptions {
  /** Extra observer at the connector boundary (tests record calls with it). */
  observer?: CallObserver;
  log?: Logger;
  /** Where spans go besides any OTLP export in config (tests: an in-memory exporter). */
  spanExporter?: SpanExporter;
  /** The change feed's poll interval, buffer and caps (tests make them small). */
  feed?: Partial<FeedOptions>;
}

export async function createGateway(config: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  const log = opts.log ?? createLogger(config.log.level);
  const metrics = createMetrics();
  const telemetry = config.telemetry ?? { serviceName: 'c360', resourceAttributes: {} };
  const tracing = createTracing({ ...telemetry, exporter: opts.spanExporter });
  // Instances the start-up check below leaves unchecked are checked once their system answers a call (src/sources/recheck.ts).
  const sourceChecks = createSourceRechecks(log);
  const observer = composeObservers(metrics.sourceObserver, requestSourceObserver, tracing.sourceObserver, sourceChecks, ...(opts.observer ? [opts.observer] : []));

  // Read before anything opens: a wrong rules file stops start-up as check-config does.
  const identityRules = loadIdentityRules(config.identity.rulesFile);
  const phoneRegions = identityRules.regionOf;
  const oneidDb = openDatabase(config.oneid.connection);
  try {
    const applied = await migrateLatest(oneidDb);
    // The audit table lives in the same database: a newer version's migration of it, or a failure, is the same OneID problem.
    applied.push(...(await migrateAccessLatest(oneidDb)));
    // What an upgrade changed in the store, said once by the process that did it (of replicas starting at once, one).
    if (applied.length) log.info({ migrations: applied }, 'oneid: store migrated');
    // Segments saved before their creators' kinds were recorded get them from this config (once each).
    const attributed = await createBiStore(oneidDb).attributeSegments({ apiKeyNames: config.auth.apiKeys.map((k) => k.name), tokens: config.auth.jwt !== undefined });
    if (attributed) log.info({ columns: attributed }, 'oneid: segments from before principal kinds attributed');
  } catch (e) {
    await oneidDb.destroy().catch(() => undefined);
    throw new StartupError('ONEID_UNAVAILABLE', `the OneID database (oneid.connection) cannot be used: ${systemErrorLine(e)}`, { cause: e });
  }
  // SQLite: the reader's selects run on a connection of their own, without knex's runner (src/db.ts).
  // The access audit's rows are written on that connection too (without knex, unless another writer holds the lock), so they do not empty its page cache.
  const oneidReads = directReads(config.oneid.connection, { writes: true });
  // Its WAL is checkpointed by a worker thread, not by a commit on the event loop (src/sqlite-checkpointer.ts).
  const oneidFile = sqliteFileOf(config.oneid.connection);
  const checkpointer = oneidFile
    ? startCheckpointer(oneidFile, { onError: (code) => log.warn({ code }, 'oneid: WAL checkpoint failed; commits checkpoint it instead') })
    : null;
  const store = createIdMapStore(oneidDb, { reads: oneidReads });
  // The request path's reads answer within oneid.timeoutMs or fail as ONEID_UNAVAILABLE. On
  // MySQL/MariaDB they get a pool of their own whose acquire, connect and statement timeouts are
  // that deadline (resolution and stewardship keep the main pool and its long timeouts); SQLite
  // runs in-process, so its reads keep the one connection and only their errors are mapped.
  const timeoutMs = config.oneid.timeoutMs ?? DEFAULT_ONEID_TIMEOUT_MS;
  const readDb =
    config.oneid.connection.client === 'mysql'
      ? openDatabase(config.oneid.connection, { acquireTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs })
      : oneidDb;
  const reads = guardReader(readDb === oneidDb ? store : createIdMapStore(readDb), { timeoutMs: readDb === oneidDb ? undefined : timeoutMs, log });
  // Stewardship changes keep the main pool (a merge of a large customer may run long) but not
  // forever: on MySQL/MariaDB they answer within oneid.writeTimeoutMs.
  const writeTimeoutMs = readDb === oneidDb ? undefined : (config.oneid.writeTimeoutMs ?? DEFAULT_ONEID_WRITE_TIMEOUT_MS);
  const idmap = { ...store, ...tracedReader(reads, tracing), ...guardStewardship(store, { timeoutMs: writeTimeoutMs, log }) };
  const closeOneid = async () => {
    if (readDb !== oneidDb) await readDb.destroy();
    oneidReads.close();
    await checkpointer?.close();
    await oneidDb.destroy();
  };
  // Connectors read phones in the region OneID reads each source's in, so the golden phone is the number OneID linked.
  const registry = createRegistry(config.sources, observer, phoneRegions);
  // A kind that can check its mapping against the real system does so now: a wrong one stops
  // start-up, every problem named by its config key; one whose system is down is served unchecked.
  const { problems, unchecked } = await checkSources(registry);
  for (const u of unchecked) log.warn({ source: u.source, code: u.code }, uncheckedWarning(u));
  sourceChecks.watch(registry, unchecked);
  if (problems.length) {
    await registry.close();
    await closeOneid();
    throw new ConfigError(`the configured sources do not match their systems:\n${problems.join('\n')}`);
  }
  const insights = loadInsightsRuntime(config.insights.rulesDir, registry);
  const allKinds = [...registry.eventKinds.keys()];
  /** The event kinds asked for (null: every kind) that a role reads the field of. */
  const readableKinds = (asked: unknown, reads: (origin: string) => boolean): EventKind[] =>
    ((Array.isArray(asked) ? asked : allKinds) as EventKind[]).filter((k) => reads(eventOccurrence(registry.eventFields, k)));
  const schema = buildSchema(registry);
  const access = await createAccess({
    fullSchema: schema,
    auth: config.auth,
    db: oneidDb,
    directWrites: oneidReads,
    migrated: true,
    policyFile: config.access.policyFile,
    hashKey: config.access.hashKey,
    hardMaxIds: config.limits.maxIds,
    // The audit rows a response waits for: within the read deadline where the store can hang (MySQL/MariaDB).
    auditTimeoutMs: readDb === oneidDb ? null : timeoutMs,
    optionalTypes: unconfiguredTypes(schema),
    // A timeline event's values are their origin's data (a ticket's subject and rating, an order's
    // total): each is shown only to roles that read that field, and withheld where a kind declared none.
    // Likewise a tag's reason is the data of the fields its rule read (a ticket's rating, a golden field).
    derived: new Map<string, (parent: unknown) => DerivedOrigin | readonly DerivedOrigin[] | null>([
      ...EVENT_VALUES.map((value) => [`TimelineEvent.${value}`, (e: unknown) => eventOrigin(registry.eventFields, e, value)] as const),
      ['CustomerTag.reason', (t) => (t as Pick<Tag, 'reasonFrom'>).reasonFrom ?? null],
    ]),
    // An event's id is its system's, which may be the record's own id (a WeChat follow: the openid;
    // a WeCom contact added: the external userid): shown as the role shows the record id.
    embeds: new Map([['TimelineEvent.id', 'recordId']]),
    // A tag is the data its rule read (`unhappy`: a ticket rated 2 or lower), so it is given only to
    // roles that read every field of its rule; a timeline event is the field it is read from (a
    // ticket opened: Ticket.createdAt), so a role is shown only the kinds whose field it reads.
    derivedItems: new Map([['Customer.tags', (t: unknown) => (t as Pick<Tag, 'from'>).from]]),
    narrowArgs: new Map([['Customer.timeline', (args, reads) => ({ ...args, kinds: readableKinds(args.kinds, reads) })]]),
    // ...and its schema names only those kinds: introspection does not list, and `kinds:` does not
    // take, a kind of event the role could never be shown (TICKET_RATED to a role reading no ticket).
    enumOrigins: new Map([['TimelineEventKind', (kind: unknown) => eventOccurrence(registry.eventFields, kind as EventKind)]]),
    // That a customer has a record in a system is that system's data (a helpdesk record: they
    // contacted support): told only to a role that sees some field carrying that system's data.
    sourceFields: sourceCustomerFields(registry),
    // ...and of their number, where a field counts records of every system (a change's records), or
    // of records a field cites (a link event's reason, "shares a PHONE with support:…", and evidence).
    sourceCounts: new Map([['CustomerChange.recordCount', (c: unknown) => (c as Pick<CustomerChange, 'recordSources'>).recordSources]]),
    citesRecords: new Set(['LinkEvent.reason', 'LinkEvent.evidence']),
    observeLookups: (role, n, admitted) => metrics.observeLookups(role, n, admitted),
    log,
  });
  const feed = createHub({
    db: oneidDb,
    log,
    options: { replayMaxChanges: config.feed.replayMaxChanges, replayMaxAgeMs: config.feed.replayMaxAgeMinutes * 60_000, ...opts.feed },
  });
  const apollos = new Map<string, ApolloServer<Context>>();
  // In subgraph mode a router composes each role's schema with other subgraphs (src/federation/).
  const maxIdsOf = (role: string) => Math.min(access.policy.roles.get(role)!.limits.maxIds, config.limits.maxIds);
  const served = config.server.federation ? federateRoleSchemas(access.schemas, maxIdsOf) : access.schemas;
  for (const [role, roleSchema] of served) {
    apollos.set(
      role,
      await createApollo(roleSchema, {
        metrics,
        log,
        plugins: config.server.federation
          ? [...access.pluginsFor(role), entitiesLimitsPlugin(access.policy.roles.get(role)!.limits, config.limits.maxIds)]
          : access.pluginsFor(role),
        persistedQueries: access.persistedQueriesFor(role),
        // extensions.sources names the systems the role is told of (as `sourceRecords` decides).
        showsSource: access.tellerOf(role).told,
      }),
    );
  }

  // On the main pool (a list may read every customer), within the stewardship deadline, failing as ONEID_UNAVAILABLE.
  const biStore = (told?: readonly string[]) =>
    guardStore(
      createBiStore(oneidDb, (kind, value) => identityRules.blockedBy(kind, value) !== null, told),
      { timeoutMs: writeTimeoutMs, log },
      'OneID store unavailable for a BI list or segment',
    );
  // A role told of some systems only lists the customers known to one of them (deny by default):
  // one known only to the helpdesk is no customer of a role not told of the helpdesk.
  const sourceNames = schema.getType('SourceName');
  const everySource = sourceNames && isEnumType(sourceNames) ? sourceNames.getValues().map((v) => v.value as string) : [];
  const toldStores = new Map(
    [...access.policy.roles.keys()].flatMap((role) => {
      const teller = access.tellerOf(role);
      return teller.all ? [] : [[role, biStore(everySource.filter((s) => teller.told(s)))] as const];
    }),
  );
  const bi: BiDeps = {
    store: biStore(),
    roleOf: (name) => {
      const r = access.policy.roles.get(name);
      const check = r?.rowScope ? scopeCheck(r.rowScope) : undefined;
      const store = toldStores.get(name);
      return (
        r && {
          maxPage: r.limits.maxIds,
          maxCost: r.limits.maxCost,
          segments: r.segments,
          reads: access.readerOf(name),
          ...(store ? { store } : {}),
          ...(check ? { scope: (ctx: unknown, ids: readonly string[]) => check(ctx as Context, ids) } : {}),
        }
      );
    },
  };
  // A role told of some systems only computes golden fields (and the insights and filters on them)
  // from those systems: a value or an outage of another would tell it the customer has a record there.
  const insightsByRole = new Map(
    [...access.policy.roles.keys()].flatMap((role) => {
      const teller = access.tellerOf(role);
      return teller.all ? [] : [[role, { ...insights, rules: { ...insights.rules, survivorship: narrowSurvivorship(insights.rules.survivorship, teller.told) } }] as const];
    }),
  );
  const requestDeps: ContextDeps = {
    idmap,
    registry,
    limits: config.limits,
    log,
    insights,
    insightsFor: (role) => insightsByRole.get(role) ?? insights,
    stewardship: stewardshipFor(idmap),
    bi,
    ...(config.access.hashKey ? { timelineCursorKey: cursorKey(config.access.hashKey) } : {}),
    // A lookup reads a phone without a country code where resolution reads one from a source without a region of its own.
    phoneRegion: identityRules.defaultPhoneRegion,
    ...(tracing.enabled ? { span: tracing.span } : {}),
  };

  return {
    config,
    log,
    metrics,
    tracing,
    oneidDb,
    idmap,
    oneidWriteTimeoutMs: writeTimeoutMs,
    registry,
    sourceChecks,
    schema,
    access,
    insights,
    apollos,
    bi,
    requestDeps,
    feed,
    async close() {
      await Promise.all([...apollos.values()].map((a) => a.stop()));
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS, 'timeout')));
      const systems = (async () => {
        await feed.close();
        await registry.close();
        await closeOneid();
      })();
      const outcome = await Promise.race([systems, gaveUp]);
      clearTimeout(timer);
      if (outcome === 'timeout')
        log.warn({ timeoutMs: CLOSE_TIMEOUT_MS }, 'stop: closing the OneID store and the sources did not finish (a system that does not answer); going on without it');
      // The last spans not reaching a collector that is down is a lost batch, as any the exporter
      // could not send while serving: said once, and the stop goes on (not `shutdown failed`, exit 1).
      await tracing.shutdown().catch((e) => log.warn({ err: safeError(e) }, 'tracing: the last spans could not be exported'));
    },
  };
}
