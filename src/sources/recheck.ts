/**
 * The start-up check again, while the gateway serves (registry.ts `checkSources`, SourceKind.check).
 * One rule for every kind that has a check, whatever made the gateway doubt an instance:
 *
 * - **Left unchecked at start** because its system did not answer: served all the same (its fields
 *   SOURCE_UNAVAILABLE while it is down), and checked the first time its system answers a call
 *   after that: a request's, resolution's or a /readyz probe's. So a database that comes back is
 *   used at once, without a restart, and a table or mapping it can no longer serve is named then.
 * - **Checked, then answering SOURCE_BAD_RESPONSE**: the system answers, and not as the mapping
 *   expects (a mapped column renamed or dropped under a running gateway: every read fails
 *   `ER_BAD_FIELD_ERROR`). Checked again at once, so the operator learns which key no longer fits
 *   from the log and /readyz instead of from each request's error; a bad answer the check finds
 *   nothing behind (one bad row) changes nothing.
 *
 * What a check finds:
 * - One that passes ends the watch, logged once (info; debug after a bad answer it explained nothing of).
 * - One that finds the config wrong logs each problem by its config key (error,
 *   `sources[<name>].profile.fields.email.column: …`), and /readyz names the instance
 *   SOURCE_MISCONFIGURED until a later check passes (tried on answered calls, as for an unchecked one).
 * - One the system again did not answer (a SourceError) waits for the next answer.
 *
 * One check in flight per instance; after one that did not pass, or one a bad answer started, the
 * next waits at least `intervalMs`, so a flood of calls (answered, or answered badly) checks a
 * system at most that often.
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
  /** Starts watching the instances the start-up check left unchecked, and every instance's bad answers. */
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
  /** Why it is watched: left unchecked at start, or a checked instance that answered badly. */
  why: 'unchecked' | 'badResponse';
}

export function createSourceRechecks(log: Logger, intervalMs = RECHECK_INTERVAL_MS): SourceRechecks {
  const watched = new Map<SourceName, Watched>();
  /** Per checked instance, when a bad answer may start a check again. */
  const badAnswerNotBefore = new Map<SourceName, number>();
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
        if (w.problems) log.info({ source }, `sources[${source}]: checked again; it fits the config again`);
        else if (w.why === 'unchecked') log.info({ source }, `sources[${source}]: checked now that its system answers; it fits the config`);
        else log.debug({ source }, `sources[${source}]: checked after a bad answer; it fits the config`);
      } catch (e) {
        w.notBefore = Date.now() + intervalMs;
        if (isSourceError(e)) return; // did not answer after all: the next answer tries again
        const problems = (e instanceof Error ? e.message : String(e))
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((l) => `sources[${source}].${l}`);
        // Said once while it stays the same: the later checks of a table still changed log nothing new.
        if (w.problems?.join('\n') !== problems.join('\n'))
          log.error(
            { source, code: 'SOURCE_MISCONFIGURED', problems },
            `sources[${source}]: ${w.why === 'unchecked' ? 'its system answers again' : 'it answers, but not as its mapping expects'}, and does not fit the config (a restart would stop on it): ${problems.join('; ')}`,
          );
        w.problems = problems;
      } finally {
        w.inFlight = null;
      }
    })();
  };

  return {
    watch(r, unchecked) {
      registry = r;
      for (const u of unchecked) watched.set(u.source, { inFlight: null, notBefore: 0, problems: null, why: 'unchecked' });
    },
    answered(call: SourceCall) {
      // The hot path of every source call: nothing but a size test once every instance is checked.
      if (watched.size === 0) return;
      const w = watched.get(call.source);
      if (!w || w.inFlight || Date.now() < w.notBefore) return;
      recheck(call.source, w);
    },
    failed(call: SourceCall, _seconds: number, error: unknown) {
      // Only an answer the mapping did not expect: a system that did not answer is not a changed one.
      if (!isSourceError(error) || error.code !== 'SOURCE_BAD_RESPONSE' || watched.has(call.source)) return;
      const now = Date.now();
      if (now < (badAnswerNotBefore.get(call.source) ?? 0) || !registry?.get(call.source)?.kind.check) return;
      badAnswerNotBefore.set(call.source, now + intervalMs);
      const w: Watched = { inFlight: null, notBefore: now + intervalMs, problems: null, why: 'badResponse' };
      watched.set(call.source, w);
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
