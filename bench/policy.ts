/**
 * The access policy a throughput bench runs under: the project's own, but for the per-principal
 * request and lookup rates. Their defaults (3,000 requests and 60 lookups a minute) would answer a
 * bench's one key with 429s, which cost nothing and measure nothing.
 */
import fs from 'node:fs';

/**
 * Writes `policyFile` with the request and lookup rates lifted to `out`; answers `out`. The lookup
 * rate only where the policy names it: a baseline tree's policy from before the limit (`--baseline`)
 * knows no such key, and its code refuses one it does not know.
 */
export function benchPolicy(policyFile: string, out: string): string {
  const policy = JSON.parse(fs.readFileSync(policyFile, 'utf8')) as { defaults?: { limits?: Record<string, unknown> } };
  const limits = policy.defaults?.limits ?? {};
  policy.defaults = { ...policy.defaults, limits: { ...limits, requestsPerMinute: 1_000_000, ...('lookupsPerMinute' in limits ? { lookupsPerMinute: 1_000_000 } : {}) } };
  fs.writeFileSync(out, JSON.stringify(policy, null, 2));
  return out;
}
