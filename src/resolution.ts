/**
 * Runs identity resolution over every source of a gateway, with the rules from config.
 * Used at start-up (`resolveOnStart`) and by `c360 resolve`.
 */
import type { Gateway } from './gateway';
import { loadIdentityRules, resolve, type LeaseOptions } from './idmap';

/**
 * Throws ResolutionBusyError when another process holds the store for longer than `lease.waitMs`.
 * `recompare`: the probabilistic tier compares every record again; `restage`: every record is read
 * and staged again as this version normalizes it (see ResolveOptions).
 */
export async function runResolution(gw: Gateway, lease?: LeaseOptions, opts: { recompare?: boolean; restage?: boolean } = {}) {
  const rules = loadIdentityRules(gw.config.identity.rulesFile);
  const started = Date.now();
  const stats = await resolve({
    db: gw.oneidDb,
    store: gw.idmap,
    connectors: gw.registry.sources.map((s) => s.connector),
    rules,
    lease,
    log: gw.log,
    recompare: opts.recompare,
    restage: opts.restage,
  });
  // Records a source answered that could not be read were left out: counted and said, as a request
  // counts them (c360_source_malformed_records_total), or they would stay unresolved unnoticed.
  for (const [source, records] of Object.entries(stats.recordsMalformedBySource)) {
    if (!records) continue;
    gw.metrics.observeMalformed(source, records);
    gw.log.warn({ source, records }, 'identity resolution: records the source answered could not be read (no id or last-update time); left out, not resolved');
  }
  gw.log.info({ ms: Date.now() - started, stats }, 'identity resolution done');
  return stats;
}
