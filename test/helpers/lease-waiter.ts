/**
 * A second process waiting for a OneID store's resolution lease, for lease tests: run with
 * `node --import tsx test/helpers/lease-waiter.ts '<SqlConnection JSON>' <ttlMs>`. Prints
 * `{"held":true}` when it finds the lease held by another process (then waits for it, asking
 * every 5 ms), and once it holds the lease, one line with what the store looked like then: the
 * records the probabilistic tier had not yet compared.
 */
import { openDatabase, type SqlConnection } from '../../src/db';
import { withLease } from '../../src/idmap/lock';
import { RESOLUTION_LEASE } from '../../src/idmap/resolve';

async function main() {
  const connection = JSON.parse(process.argv[2]) as SqlConnection;
  const ttlMs = Number(process.argv[3]);
  const db = openDatabase(connection);
  try {
    const lease = await db('idmap_locks').where({ name: RESOLUTION_LEASE }).first('holder', 'expires_at');
    process.stdout.write(`${JSON.stringify({ held: Boolean(lease?.holder) && Number(lease.expires_at) > Date.now() })}\n`);
    const seen = await withLease(
      db,
      RESOLUTION_LEASE,
      async () => {
        const row = await db('idmap_match_features').where('scored', 0).count({ n: '*' }).first();
        return { unscored: Number(row?.n ?? 0) };
      },
      { ttlMs, waitMs: 600_000, pollMs: 5 },
    );
    process.stdout.write(`${JSON.stringify({ acquired: true, ...seen })}\n`);
  } finally {
    await db.destroy();
  }
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ error: String((e as Error).message ?? e) })}\n`);
  process.exit(1);
});
