/**
 * The review queue ordered by how likely each pair is one person: a probable candidate's match
 * weight (bits, from its evidence) as a column of its own, indexed with the status, so that a
 * steward's page of the strongest open candidates is read in index order. Existing probable
 * candidates get theirs from their evidence.
 */
import type { Knex } from 'knex';

export const CANDIDATES_WEIGHT_INDEX = 'idmap_candidates_weight_idx';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_review_candidates', (t) => {
    t.double('match_weight').nullable().comment('a probable candidate: its match weight in bits (log2 odds), as in evidence.weight');
  });
  // The weight descending, as the queue reads it (heaviest first, then by id): SQLite and MariaDB
  // 10.8+ / MySQL 8 then read a page in index order, with no sort.
  await knex.raw('CREATE INDEX ?? ON ?? (??, ?? DESC, ??)', [CANDIDATES_WEIGHT_INDEX, 'idmap_review_candidates', 'status', 'match_weight', 'id']);
  // Page by id: a store may hold many candidates.
  for (let after = 0; ;) {
    const rows: Array<{ id: number; evidence: string | null }> = await knex('idmap_review_candidates')
      .where('reason', 'probable')
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000)
      .select('id', 'evidence');
    if (!rows.length) break;
    for (const r of rows) {
      const weight = weightOf(r.evidence);
      if (weight !== null) await knex('idmap_review_candidates').where('id', r.id).update({ match_weight: weight });
    }
    after = rows[rows.length - 1].id;
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idmap_review_candidates', (t) => {
    t.dropIndex(['status', 'match_weight', 'id'], CANDIDATES_WEIGHT_INDEX);
    t.dropColumn('match_weight');
  });
}

function weightOf(evidence: string | null): number | null {
  try {
    const w = evidence ? (JSON.parse(evidence) as { weight?: unknown }).weight : null;
    return typeof w === 'number' && Number.isFinite(w) ? w : null;
  } catch {
    return null;
  }
}
