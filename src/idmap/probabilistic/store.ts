/**
 * The probabilistic tier's tables: features and block keys written at staging, read back in
 * batches by the tier, and the one-transaction apply of its links and review candidates.
 */
import type { Knex } from 'knex';
import { chunks, insertMany, recordKeyString, selectChunked, uniqueBy, whereRecords } from '../tables';
import type { SourceRecordKey } from '../types';
import { blockKeys, type HeldValue, type MatchFeatures } from './features';
import { nameFormOf } from './names';

export const PT = { features: 'idmap_match_features', blocks: 'idmap_match_blocks' } as const;

/** Replaces the features and block keys of records (staged new or changed); `deleted` removes them. */
export async function writeFeatures(
  db: Knex,
  source: string,
  features: readonly MatchFeatures[],
  deleted: readonly string[] = [],
  /** Records new to the store: nothing of theirs to replace. */
  fresh: ReadonlySet<string> = new Set(),
): Promise<void> {
  const ids = [...features.map((f) => f.recordId).filter((id) => !fresh.has(id)), ...deleted];
  if (!ids.length && !features.length) return;
  await db.transaction(async (trx) => {
    for (const part of chunks(ids)) {
      await trx(PT.blocks).where('source', source).whereIn('record_id', part).delete();
      await trx(PT.features).where('source', source).whereIn('record_id', part).delete();
    }
    await insertMany(
      trx,
      PT.features,
      features.map((f) => ({
        source,
        record_id: f.recordId,
        name: f.name?.text.slice(0, 128) ?? null,
        name_alt: f.name?.script === 'h' ? f.name.words.join(' ').slice(0, 255) : null,
        birth: f.birth,
        gender: f.gender,
        city: f.city?.slice(0, 64) ?? null,
        province: f.province?.slice(0, 64) ?? null,
        country: f.country,
        held: f.values.length ? JSON.stringify(f.values.map((v) => [v.kind, v.key, v.from, v.to])) : null,
        scored: 0,
      })),
    );
    const blocks = features.flatMap((f) => blockKeys(f).map((k) => ({ block_key: k, source, record_id: f.recordId })));
    await insertMany(
      trx,
      PT.blocks,
      uniqueBy(blocks, (b) => `${b.block_key}\u0000${b.record_id}`),
    );
  });
}

/** Live records with features: the n the prior is scaled to. */
export async function featureCount(db: Knex): Promise<number> {
  const row = await db(PT.features).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

/** Records waiting to be compared, in key order after `after`. */
export async function unscoredRecords(db: Knex, after: SourceRecordKey | null, limit: number): Promise<SourceRecordKey[]> {
  let q = db(PT.features).whereRaw('scored = 0').orderBy(['source', 'record_id']).limit(limit);
  if (after) q = q.where((w) => w.where('source', '>', after.source).orWhere((x) => x.where('source', after.source).where('record_id', '>', after.recordId)));
  const rows = await q.select('source', 'record_id');
  return rows.map((r) => ({ source: r.source, recordId: r.record_id }));
}

export async function markScored(db: Knex, keys: readonly SourceRecordKey[]): Promise<void> {
  for (const part of chunks(keys, 400)) await whereRecords(db(PT.features), 'source', 'record_id', part).update({ scored: 1 });
}

/** Block keys of records. */
export async function blocksOf(db: Knex, keys: readonly SourceRecordKey[]): Promise<Array<{ key: string; record: SourceRecordKey }>> {
  const rows = await selectChunked(keys, (part) => whereRecords(db(PT.blocks), 'source', 'record_id', part).select('block_key', 'source', 'record_id'), 400);
  return rows.map((r) => ({ key: r.block_key, record: { source: r.source, recordId: r.record_id } }));
}

/** Live members of blocks no larger than `maxBlock`, with their customers; larger blocks are answered in `skipped`. */
export async function blockMembers(
  db: Knex,
  blockKeys: readonly string[],
  maxBlock: number,
): Promise<{ members: Map<string, Array<SourceRecordKey & { customerId: string | null }>>; sizes: Map<string, number>; skipped: number }> {
  const sizes = await selectChunked([...new Set(blockKeys)], (part) =>
    db(PT.blocks).whereIn('block_key', part).groupBy('block_key').select('block_key', db.raw('COUNT(*) AS n')),
  );
  const small = sizes.filter((s) => Number(s.n) <= maxBlock).map((s) => s.block_key as string);
  const rows = await selectChunked(small, (part) =>
    db(`${PT.blocks} as b`)
      .join('idmap_source_records as sr', (j) => j.on('sr.source', 'b.source').andOn('sr.record_id', 'b.record_id'))
      .whereIn('b.block_key', part)
      .whereNull('sr.deleted_at')
      .select('b.block_key', 'b.source', 'b.record_id', 'sr.customer_id'),
  );
  const members = new Map<string, Array<SourceRecordKey & { customerId: string | null }>>();
  for (const r of rows) {
    const list = members.get(r.block_key) ?? [];
    members.set(r.block_key, list);
    list.push({ source: r.source, recordId: r.record_id, customerId: r.customer_id });
  }
  return { members, sizes: new Map(sizes.map((x) => [x.block_key as string, Number(x.n)])), skipped: sizes.length - small.length };
}

/** Features and current customer of live records, by record key string. */
export async function featuresOfRecords(db: Knex, keys: readonly SourceRecordKey[]): Promise<Map<string, MatchFeatures & { customerId: string | null; scored: boolean }>> {
  const rows = await selectChunked(
    uniqueBy(keys, recordKeyString),
    (part) =>
      whereRecords(
        db(`${PT.features} as f`)
          .join('idmap_source_records as sr', (j) => j.on('sr.source', 'f.source').andOn('sr.record_id', 'f.record_id'))
          .whereNull('sr.deleted_at'),
        'f.source',
        'f.record_id',
        part,
      ).select('f.*', 'sr.customer_id'),
    400,
  );
  const out = new Map<string, MatchFeatures & { customerId: string | null; scored: boolean }>();
  for (const r of rows) {
    const held: HeldValue[] = r.held
      ? (JSON.parse(r.held) as Array<[HeldValue['kind'], string, string | null, string | null]>).map(([kind, key, from, to]) => ({ kind, key, from, to }))
      : [];
    out.set(recordKeyString({ source: r.source, recordId: r.record_id }), {
      source: r.source,
      recordId: r.record_id,
      customerId: r.customer_id,
      scored: Boolean(r.scored),
      name: nameFormOf(r.name, r.name_alt),
      birth: r.birth,
      gender: r.gender,
      city: r.city,
      province: r.province,
      country: r.country,
      values: held,
    });
  }
  return out;
}
