/**
 * The start-up check again, for the instances it left unchecked because their system did not
 * answer (registry.ts `checkSources`). One rule for every kind that has a check: such an instance
 * is served all the same (its fields SOURCE_UNAVAILABLE while it is down), and is checked the
 * first time its system answers a call after that: a request's, resolution's or a /readyz
 * probe's. So a database that comes back is used at once, without a restart, and a table or
 * mapping it can no longer serve is named then, not at the next start.
 *
 * - A check that passes ends the watch, logged once (info).
 * - One that finds the config wrong logs each problem by its config key (error,
 *   `sources[<name>].profile.fields.email.column: …`), and /readyz names the instance
 *   SOURCE_MISCONFIGURED until a later check passes.
 * - One the system again did not answer (a SourceError) waits for the next answer.
 *
 * One check in flight per instance; after one that did not pass, the next waits at least
 * `intervalMs`, so a flood of answered calls checks a system at most that often.
 */
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { isSourceError } from '../errors';
import type { SourceName } from '../vocabulary';
import type { CallObserver, SourceCall } from './observe';
import type { SourceCheck, SourceRegistry } from './registry';

/** How long after a check that did not pass the next may run. */
export const RECHECK_INTERVAL_MS = 30_000;

export interface SourceRechecks extends CallObserver {
  /** Starts watching the instances the start-up check left unchecked. */
  watch(registry: Pick<SourceRegistry, 'get'>, unchecked: SourceCheck['unchecked']): void;
  /**
   * For /readyz, after the instance's health check answered: waits for its check in flight, and
   * rejects with a coded error (SOURCE_MISCONFIGURED) while the last check found problems.
   */
  settled(source: SourceName): Promise<void>;
  /** The instances not checked yet, or found misconfigured (for tests and the log). */
  pending(): SourceName[];
}

interface Watched {
  inFlight: Promise<void> | null;
  notBefore: number;
  problems: string[] | null;
}

export function createSourceRechecks(log: Logger, intervalMs = RECHECK_INTERVAL_MS): SourceRechecks {
  const watched = new Map<SourceName, Watched>();
  let registry: Pick<SourceRegistry, 'get'> | undefined;

  const recheck = (source: SourceName, w: Watched) => {
    const s = registry?.get(source);
    if (!s?.kind.check) {
      watched.delete(source);
      return;
    }
    const check = s.kind.check.bind(s.kind);
    w.inFlight = (async () => {
      try {
        await check(s.connector);
        watched.delete(source);
        log.info({ source }, `sources[${source}]: checked now that its system answers; it fits the config`);
      } catch (e) {
        w.notBefore = Date.now() + intervalMs;
        if (isSourceError(e)) return; // did not answer after all: the next answer tries again
        w.problems = (e instanceof Error ? e.message : String(e))
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((l) => `sources[${source}].${l}`);
        log.error(
          { source, code: 'SOURCE_MISCONFIGURED', problems: w.problems },
          `sources[${source}]: its system answers again, and does not fit the config (a restart would stop on it): ${w.problems.join('; ')}`,
        );
      } finally {
        w.inFlight = null;
      }
    })();
  };

  return {
    watch(r, unchecked) {
      registry = r;
      for (const u of unchecked) watched.set(u.source, { inFlight: null, notBefore: 0, problems: null });
    },
    answered(call: SourceCall) {
      // The hot path of every source call: nothing but a size test once every instance is checked.
      if (watched.size === 0) return;
      const w = watched.get(call.source);
      if (!w || w.inFlight || Date.now() < w.notBefore) return;
      recheck(call.source, w);
    },
    async settled(source) {
      const w = watched.get(source);
      if (!w) return;
      if (w.inFlight) await w.inFlight;
      if (w.problems && watched.has(source)) throw new GraphQLError(`source ${source} does not fit the config`, { extensions: { code: 'SOURCE_MISCONFIGURED', source } });
    },
    pending: () => [...watched.keys()],
  };
}
