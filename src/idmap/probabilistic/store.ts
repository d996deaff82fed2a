/**
 * The probabilistic tier's tables: features and block keys written at staging, read back in
 * batches by the tier, and the one-transaction apply of its links and review candidates.
 */
import type { Knex } from 'knex';
import { isMysql, MAX_IN_LIST } from '../../db';
import { chunks, fromDbTime, fromDbTimeOrNull, insertRows, recordKeyString, selectChunked, uniqueBy, whereRecords, writeTransaction } from '../tables';
import type { SourceRecordKey } from '../types';
import { blockKeys, type HeldValue, type MatchFeatures } from './features';
import { nameFormOf } from './names';
import { FEATURES_NAME_INDEX } from '../migrations/20261203000100_match_features_name';
import { turnOfTheEventLoop, turnWhenDue } from '../turns';
import { buildMysqlIndexes, dropMysqlIndexes, forgetWholeIndexes, type MysqlIndexes } from '../bulk-load';

export const PT = {
  features: 'idmap_match_features',
  featuresLoad: 'idmap_match_features_load',
  blocks: 'idmap_match_blocks',
  blocksLoad: 'idmap_match_blocks_load',
} as const;

/**
 * SQLite, first resolution of a store (no features yet): block keys are hashes, so inserting
 * them into the blocks table's key order touches a random page per key, and with the features'
 * `scored` index that was most of staging's writes at a million records. Instead the run
 * appends block keys to an unindexed load table and leaves the `scored` index out while it
 * stages, then moves the keys over in key order and builds both indexes by sorting (`finishBulkLoad`).
 * The features go the same way: their primary key is by record while pages come in the sources'
 * update order, so each group of pages dirtied most of that index again. A run stopped in between
 * is finished by the next one. On MySQL/MariaDB InnoDB writes secondary indexes in place (no
 * change buffer by default since MariaDB 10.5.15), so the `scored`, name and blocks' record indexes
 * are left out there too and built after (`MYSQL_LOAD_INDEXES`); rows go straight to their tables.
 */
export async function startBulkLoad(db: Knex): Promise<boolean> {
  forgetWholeIndexes(db); // a full run reads what a load left out afresh (bulk-load.ts)
  await finishBulkLoad(db);
  if (await db(PT.features).first('source')) return false;
  if (isMysql(db)) {
    for (const indexes of MYSQL_LOAD_INDEXES) await dropMysqlIndexes(db, indexes);
    return true;
  }
  await db.raw('CREATE TABLE IF NOT EXISTS ?? (block_key varchar(16) NOT NULL, source varchar(32) NOT NULL, record_id varchar(64) NOT NULL)', [PT.blocksLoad]);
  // The features' columns without their key or index (read back by name in finishBulkLoad).
  await db.raw('CREATE TABLE IF NOT EXISTS ?? AS SELECT * FROM ?? WHERE 0', [PT.featuresLoad, PT.features]);
  await db.raw('DROP INDEX IF EXISTS ??', [SCORED_INDEX]);
  await db.raw('DROP INDEX IF EXISTS ??', [FEATURES_NAME_INDEX]);
  await db.raw('DROP INDEX IF EXISTS ??', [BLOCKS_RECORD_INDEX]);
  return true;
}

const SCORED_INDEX = 'idmap_match_features_scored_idx';

/** How many records carry each of `names` as written (the features' name), by name; a name no record carries is absent. */
export async function nameCounts(db: Knex, names: Iterable<string>, turn?: () => Promise<void> | undefined): Promise<Map<string, number>> {
  const wanted = new Set(names);
  // On MySQL/MariaDB the column takes the database's collation, which may hold two names equal
  // (utf8mb4_general_ci: every Han character outside the BMP weighs the same), so rows are grouped
  // by their bytes, as the tier compares names; the IN list may then find names not asked for.
  const mysql = isMysql(db);
  const rows: Array<{ name: string; n: number | string }> = await selectChunked(
    [...wanted],
    (chunk) => {
      const q = db(PT.features).whereIn('name', chunk);
      return (mysql ? q.groupByRaw('CAST(?? AS BINARY)', ['name']).select(db.raw('MIN(??) AS ??', ['name', 'name'])) : q.groupBy('name').select('name')).count({ n: '*' });
    },
    undefined,
    turn,
  );
  return new Map(rows.filter((r) => wanted.has(r.name)).map((r) => [r.name, Number(r.n)]));
}
const BLOCKS_RECORD_INDEX = 'idmap_match_blocks_record_idx';

/**
 * MySQL/MariaDB: the secondary indexes a first resolution leaves out while it stages, as the
 * migrations create them there (InnoDB writes secondary indexes in place, bulk-load.ts); features
 * and block keys go straight to their tables (no load tables).
 */
const MYSQL_LOAD_INDEXES: readonly MysqlIndexes[] = [
  [
    PT.features,
    [
      [SCORED_INDEX, '(`scored`, `source`, `record_id`)'],
      [FEATURES_NAME_INDEX, '(`name`)'],
    ],
  ],
  [PT.blocks, [[BLOCKS_RECORD_INDEX, '(`source`, `record_id`)']]],
];

/** Moves a bulk load's block keys into the blocks table in key order and (re)builds the indexes it left out; nothing when none is under way. */
export async function finishBulkLoad(db: Knex): Promise<void> {
  if (isMysql(db)) {
    for (const indexes of MYSQL_LOAD_INDEXES) await buildMysqlIndexes(db, indexes);
    return;
  }
  if (await db.schema.hasTable(PT.blocksLoad)) {
    await writeTransaction(db, async (trx) => {
      await trx.raw('DROP INDEX IF EXISTS ??', [BLOCKS_RECORD_INDEX]);
      await trx.raw('INSERT OR IGNORE INTO ?? (block_key, source, record_id) SELECT block_key, source, record_id FROM ?? ORDER BY block_key, source, record_id', [
        PT.blocks,
        PT.blocksLoad,
      ]);
      await trx.raw('DROP TABLE ??', [PT.blocksLoad]);
    });
    await turnOfTheEventLoop(); // seconds a statement at a million records: the lease is renewed between them (turns.ts)
  }
  if (await db.schema.hasTable(PT.featuresLoad)) {
    // A record's features written since the load stopped are newer than its loaded ones: those stay (`resolveRecords` finishes a stopped load first).
    const columns = FEATURE_COLUMNS.map((c) => `\`${c}\``).join(', ');
    await writeTransaction(db, async (trx) => {
      await trx.raw(`INSERT OR IGNORE INTO ?? (${columns}) SELECT ${columns} FROM ?? ORDER BY source, record_id`, [PT.features, PT.featuresLoad]);
      await trx.raw('DROP TABLE ??', [PT.featuresLoad]);
    });
    await turnOfTheEventLoop();
  }
  await db.raw('CREATE INDEX IF NOT EXISTS ?? ON ?? (scored, source, record_id)', [SCORED_INDEX, PT.features]);
  await turnOfTheEventLoop();
  await db.raw('CREATE INDEX IF NOT EXISTS ?? ON ?? (name)', [FEATURES_NAME_INDEX, PT.features]);
  await turnOfTheEventLoop();
  await db.raw('CREATE INDEX IF NOT EXISTS ?? ON ?? (source, record_id)', [BLOCKS_RECORD_INDEX, PT.blocks]);
}

const COMPARED_COLUMNS = ['name', 'name_alt', 'birth', 'gender', 'city', 'province', 'country', 'postcode', 'street', 'held'] as const;
const FEATURE_COLUMNS = ['source', 'record_id', ...COMPARED_COLUMNS, 'scored'];

/** What the features table holds of a record's features, in `COMPARED_COLUMNS` order. */
function comparedColumnsOf(f: MatchFeatures): Array<string | null> {
  return [
    f.name?.text.slice(0, 128) ?? null,
    // Pinyin for a Han name, German spelt out for a Latin one written with umlauts, a Thai name's words (`nameFormOf`).
    f.name?.script === 'h' || (f.name?.script === 'o' && f.name.words.length > 1) ? f.name.words.join(' ').slice(0, 255) : (f.name?.spelt?.join(' ').slice(0, 255) ?? null),
    f.birth,
    f.gender,
    f.city?.slice(0, 64) ?? null,
    f.province?.slice(0, 64) ?? null,
    f.country,
    f.postcode,
    f.street,
    f.values.length ? JSON.stringify(f.values.map((v) => [v.kind, v.key, v.from, v.to])) : null,
  ];
}

/**
 * `features` of one source without those of `recheck` the store already holds as they are (a
 * restage, `resolve --restage`: only features a normalization or comparison form changed since
 * they were written are written again).
 */
export async function withoutUnchanged(db: Knex, source: string, features: readonly MatchFeatures[], recheck: ReadonlySet<string>): Promise<MatchFeatures[]> {
  const stored = new Map<string, string>();
  for (const part of chunks(features.filter((f) => recheck.has(f.recordId)).map((f) => f.recordId))) {
    const rows: Array<Record<string, string | null>> = await db(PT.features)
      .where('source', source)
      .whereIn('record_id', part)
      .select('record_id', ...COMPARED_COLUMNS);
    for (const r of rows) stored.set(r.record_id as string, JSON.stringify(COMPARED_COLUMNS.map((c) => r[c] ?? null)));
  }
  return features.filter((f) => !recheck.has(f.recordId) || stored.get(f.recordId) !== JSON.stringify(comparedColumnsOf(f)));
}
const BLOCK_COLUMNS = ['block_key', 'source', 'record_id'];

/** Replaces the features and block keys of records (staged new or changed); `deleted` removes them. */
export async function writeFeatures(
  db: Knex,
  source: string,
  features: readonly MatchFeatures[],
  deleted: readonly string[] = [],
  /** Records new to the store: nothing of theirs to replace. */
  fresh: ReadonlySet<string> = new Set(),
  /** A bulk load is under way (`startBulkLoad`): features and block keys go to its load tables. */
  bulk = false,
): Promise<void> {
  const ids = [...features.map((f) => f.recordId).filter((id) => !fresh.has(id)), ...deleted];
  if (!ids.length && !features.length) return;
  // MySQL/MariaDB's bulk load leaves indexes out but has no load tables (`startBulkLoad`).
  const loadTables = bulk && !isMysql(db);
  const blocksTable = loadTables ? PT.blocksLoad : PT.blocks;
  const featuresTable = loadTables ? PT.featuresLoad : PT.features;
  await writeTransaction(db, async (trx) => {
    for (const part of chunks(ids)) {
      // Rare during a bulk load (a record changed while the scan ran): the load tables have no index to find it by.
      await trx(blocksTable).where('source', source).whereIn('record_id', part).delete();
      await trx(featuresTable).where('source', source).whereIn('record_id', part).delete();
    }
    await insertRows(
      trx,
      featuresTable,
      FEATURE_COLUMNS,
      features.map((f) => [source, f.recordId, ...comparedColumnsOf(f), 0]),
    );
    // A key once per record (the first time it comes).
    const seen = new Set<string>();
    const blocks: string[][] = [];
    for (const f of features) {
      for (const k of blockKeys(f)) {
        const key = `${k}\u0000${f.recordId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        blocks.push([k, source, f.recordId]);
      }
    }
    await insertRows(trx, blocksTable, BLOCK_COLUMNS, blocks);
  });
}

/** A value a stored record carries or carried, with the period the store knows (ISO instants; `to` null: still held). */
export interface StoredPeriod {
  kind: HeldValue['kind'];
  value: string;
  key: string;
  from: string;
  to: string | null;
}

/**
 * Every value records of one source carry or carried, as the identifiers table holds them: a
 * value a re-scan found gone was ended then (`valid_to`), which is when the source stopped
 * carrying it. Read only for records staged before (a new record has no history).
 */
export async function storedPeriods(db: Knex, source: string, recordIds: readonly string[]): Promise<Map<string, StoredPeriod[]>> {
  const out = new Map<string, StoredPeriod[]>();
  if (!recordIds.length) return out;
  const rows = await selectChunked([...new Set(recordIds)], (part) =>
    db('idmap_record_identifiers').where('source', source).whereIn('record_id', part).select('record_id', 'kind', 'value', 'match_key', 'valid_from', 'valid_to'),
  );
  for (const r of rows) {
    const list = out.get(r.record_id) ?? [];
    out.set(r.record_id, list);
    list.push({ kind: r.kind, value: r.value, key: r.match_key, from: fromDbTime(r.valid_from), to: fromDbTimeOrNull(r.valid_to) });
  }
  return out;
}

/** Live records with features: the n the prior is scaled to. */
export async function featureCount(db: Knex): Promise<number> {
  const row = await db(PT.features).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

/** Whether any record was compared before (false: a first comparison of the whole store). */
export async function anyScored(db: Knex): Promise<boolean> {
  return (await db(PT.features).whereRaw('scored = 1').first('source')) != null;
}

/** Marks every record not yet compared, so the next run compares the whole store again (`resolve`'s `recompare`); how many were marked. */
export async function markAllUnscored(db: Knex): Promise<number> {
  return db(PT.features).whereRaw('scored = 1').update({ scored: 0 });
}

/** Records waiting to be compared, in key order after `after`. */
export async function unscoredRecords(db: Knex, after: SourceRecordKey | null, limit: number): Promise<SourceRecordKey[]> {
  const q = db(PT.features).whereRaw('scored = 0').orderBy(['source', 'record_id']).limit(limit);
  if (after) afterKey(db, q, '>', after);
  const rows = await q.select('source', 'record_id');
  return rows.map((r) => ({ source: r.source, recordId: r.record_id }));
}

export async function markScored(db: Knex, keys: readonly SourceRecordKey[]): Promise<void> {
  for (const part of chunks(keys, 400)) await whereRecords(db(PT.features), 'source', 'record_id', part).update({ scored: 1 });
}

/** Block keys of records. */
export async function blocksOf(db: Knex, keys: readonly SourceRecordKey[], turn?: () => Promise<void> | undefined): Promise<Array<{ key: string; record: SourceRecordKey }>> {
  const rows = await selectChunked(keys, (part) => whereRecords(db(PT.blocks), 'source', 'record_id', part).select('block_key', 'source', 'record_id'), 400, turn);
  return rows.map((r) => ({ key: r.block_key, record: { source: r.source, recordId: r.record_id } }));
}

/**
 * Counting a block reads all of it, and a common name's or birthday's block was counted again by
 * every batch that holds one of its records: sizes of blocks over REMEMBERED_BLOCK records are
 * kept for the run (at most REMEMBERED_BLOCKS of them, a few MB).
 */
const REMEMBERED_BLOCK = 32;
const REMEMBERED_BLOCKS = 200_000;

/**
 * Live members of blocks no larger than `maxBlock`, with their customers; larger blocks are
 * answered in `skipped`. `upTo`: only members at or before this record in key order (sizes still
 * count every member).
 */
export async function blockMembers(
  db: Knex,
  blockKeys: readonly string[],
  maxBlock: number,
  upTo: SourceRecordKey | null = null,
  /** Sizes of large blocks counted earlier in this run (blocks do not change while the tier runs): not counted again, and added to. */
  known?: Map<string, number>,
): Promise<{ members: Map<string, Array<SourceRecordKey & { customerId: string | null }>>; sizes: Map<string, number>; skipped: number }> {
  const keys = [...new Set(blockKeys)];
  const counted: Array<{ block_key: string; n: number }> = await selectChunked(known ? keys.filter((k) => !known.has(k)) : keys, (part) =>
    db(PT.blocks).whereIn('block_key', part).groupBy('block_key').select('block_key', db.raw('COUNT(*) AS n')),
  );
  const sizes = [...counted, ...(known ? keys.filter((k) => known.has(k)).map((k) => ({ block_key: k, n: known.get(k)! })) : [])];
  if (known) for (const s of counted) if (Number(s.n) > REMEMBERED_BLOCK && known.size < REMEMBERED_BLOCKS) known.set(s.block_key, Number(s.n));
  // A block of one record has no one else to compare.
  const small = sizes.filter((s) => Number(s.n) <= maxBlock && Number(s.n) > 1).map((s) => s.block_key as string);
  const rows = await selectChunked(small, (part) => {
    const q = db(`${PT.blocks} as b`)
      .join('idmap_source_records as sr', (j) => j.on('sr.source', 'b.source').andOn('sr.record_id', 'b.record_id'))
      .whereIn('b.block_key', part)
      .whereNull('sr.deleted_at');
    // A range of the blocks' key (block_key, source, record_id) within each block.
    if (upTo) q.whereRaw('(b.source, b.record_id) <= (?, ?)', [upTo.source, upTo.recordId]);
    return q.select('b.block_key', 'b.source', 'b.record_id', 'sr.customer_id');
  });
  const members = new Map<string, Array<SourceRecordKey & { customerId: string | null }>>();
  for (const r of rows) {
    const list = members.get(r.block_key) ?? [];
    members.set(r.block_key, list);
    list.push({ source: r.source, recordId: r.record_id, customerId: r.customer_id });
  }
  return { members, sizes: new Map(sizes.map((x) => [x.block_key as string, Number(x.n)])), skipped: sizes.filter((s) => Number(s.n) > maxBlock).length };
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
  for (const r of rows) out.set(recordKeyString({ source: r.source, recordId: r.record_id }), featuresOfRow(r));
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function featuresOfRow(r: any): MatchFeatures & { customerId: string | null; scored: boolean } {
  const held: HeldValue[] = r.held
    ? (JSON.parse(r.held) as Array<[HeldValue['kind'], string, string | null, string | null]>).map(([kind, key, from, to]) => ({ kind, key, from, to }))
    : [];
  return {
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
    postcode: r.postcode ?? null,
    street: r.street ?? null,
    values: held,
  };
}

/**
 * A uniform sample of up to `size` records' features (reservoir sampling over their keys in key
 * order, then the kept records read; `rand` seeded, the same store gives the same sample): what
 * the tier counts u on (`chance.ts`).
 */
export async function sampleFeatures(db: Knex, size: number, rand: () => number): Promise<MatchFeatures[]> {
  const kept: SourceRecordKey[] = [];
  let seen = 0;
  let after: SourceRecordKey | null = null;
  for (;;) {
    const q = db(PT.features).orderBy(['source', 'record_id']).limit(SAMPLE_PAGE);
    if (after) afterKey(db, q, '>', after);
    const rows: Array<{ source: string; record_id: string }> = await q.select('source', 'record_id');
    for (const r of rows) {
      const j = seen < size ? seen : Math.floor(rand() * (seen + 1));
      if (j < size) kept[j] = { source: r.source, recordId: r.record_id };
      seen++;
    }
    if (rows.length < SAMPLE_PAGE) break;
    const last = rows[rows.length - 1];
    after = { source: last.source, recordId: last.record_id };
    await turnOfTheEventLoop(); // every record's key read: seconds at a million
  }
  const rows = await selectChunked(kept, (part) => whereRecords(db(PT.features), 'source', 'record_id', part).select('*'), 400);
  // In key order whatever order the chunks answered in: the same sample draws the same pairs on every engine.
  const key = (r: { source: string; record_id: string }) => `${r.source}\u0000${r.record_id}`;
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : 1)).map(featuresOfRow);
}

const SAMPLE_PAGE = 20_000;

/**
 * Blocks a first comparison must know the size of before it walks them (`first-run.ts`): those
 * over `maxBlock` records (never compared within), identifier blocks over `maxCarriers` (values
 * too shared to be evidence) and name blocks over two (a name's frequency). One pass over the
 * blocks' key order, counting.
 */
export async function notableBlocks(db: Knex, maxBlock: number, maxCarriers: number): Promise<Array<{ key: string; n: number }>> {
  const rows: Array<{ block_key: string; n: number | string }> = await db(PT.blocks)
    .groupBy('block_key')
    .havingRaw("COUNT(*) > ? OR (COUNT(*) > ? AND block_key LIKE 'i%') OR (COUNT(*) > 2 AND block_key LIKE 'n%')", [maxBlock, maxCarriers])
    .select('block_key', db.raw('COUNT(*) AS n'));
  return rows.map((r) => ({ key: r.block_key, n: Number(r.n) }));
}

/**
 * Blocks of two to `maxBlock` records whose live records are more than one customer, in key
 * order after block `after`: the only blocks with a pair to compare. Counted in SQL, not read:
 * most identifier blocks hold one customer's records after the rules.
 */
export async function mixedBlocksAfter(db: Knex, after: string | null, maxBlock: number, limit: number): Promise<string[]> {
  if (!isMysql(db)) {
    // Blocks sized from the key index alone first: most blocks hold one record, and only the others' records are looked up.
    const rows: Array<{ k: string }> = await db.raw(
      `SELECT k FROM (SELECT block_key AS k FROM ?? WHERE block_key > ? GROUP BY block_key HAVING COUNT(*) BETWEEN 2 AND ? ORDER BY block_key) AS g
       WHERE (SELECT COUNT(DISTINCT sr.customer_id) FROM ?? AS b JOIN idmap_source_records AS sr ON sr.source = b.source AND sr.record_id = b.record_id AND sr.deleted_at IS NULL WHERE b.block_key = g.k) > 1
       ORDER BY k LIMIT ?`,
      [PT.blocks, after ?? '', maxBlock, PT.blocks, limit],
    );
    return rows.map((r) => r.k);
  }
  const q = db(`${PT.blocks} as b`)
    .leftJoin('idmap_source_records as sr', (j) => j.on('sr.source', 'b.source').andOn('sr.record_id', 'b.record_id').andOnNull('sr.deleted_at'))
    .groupBy('b.block_key')
    .havingRaw('COUNT(*) BETWEEN 2 AND ? AND COUNT(DISTINCT sr.customer_id) > 1', [maxBlock])
    .orderBy('b.block_key')
    .limit(limit);
  if (after != null) q.where('b.block_key', '>', after);
  return (await q.select('b.block_key')).map((r) => r.block_key as string);
}

/**
 * Members of blocks that are live records with a customer: each one's features and customer, by
 * block (one row per membership; a record in two of the blocks is one object).
 */
export async function membersOfBlocks(db: Knex, blockKeys: readonly string[]): Promise<Map<string, Array<MatchFeatures & { customerId: string | null; scored: boolean }>>> {
  const rows = await selectChunked(blockKeys, (part) =>
    db(`${PT.blocks} as m`)
      .join('idmap_source_records as sr', (j) => j.on('sr.source', 'm.source').andOn('sr.record_id', 'm.record_id'))
      .join(`${PT.features} as f`, (j) => j.on('f.source', 'm.source').andOn('f.record_id', 'm.record_id'))
      .whereIn('m.block_key', part)
      .whereNull('sr.deleted_at')
      .whereNotNull('sr.customer_id')
      .select('m.block_key as member_of', 'f.*', 'sr.customer_id'),
  );
  const members = new Map<string, Array<MatchFeatures & { customerId: string | null; scored: boolean }>>();
  const byRecord = new Map<string, MatchFeatures & { customerId: string | null; scored: boolean }>();
  for (const r of rows) {
    const k = recordKeyString({ source: r.source, recordId: r.record_id });
    let f = byRecord.get(k);
    if (!f) byRecord.set(k, (f = featuresOfRow(r)));
    const list = members.get(r.member_of) ?? [];
    members.set(r.member_of, list);
    list.push(f);
  }
  return members;
}

/**
 * Each record's blocks among `blockKeys` (given in key order), as indexes into it, in the order
 * the store lists a record's blocks (the record index's: by row id on SQLite, by block key on
 * MariaDB), by record key string; a record in one of them only is left out (its one block is the
 * one it is met in). Read from the blocks' key index alone (it holds the row id), not a record's
 * every block row, a chunk of keys at a time: at a million records that is about a million rows,
 * and holding them all as row objects before sorting cost some 300 MB of heap.
 */
export async function blocksInOrder(db: Knex, blockKeys: readonly string[]): Promise<Map<string, number[]>> {
  const mysql = isMysql(db);
  // Per record: its blocks as [order, index, order, index, …]; MariaDB's order is the key's, which is the index's.
  const byRecord = new Map<string, number[]>();
  // Every record of every block with a pair in it: seconds at a million records, with turns (turns.ts).
  const turn = turnWhenDue();
  for (let from = 0; from < blockKeys.length; from += MAX_IN_LIST) {
    await turn();
    const part = blockKeys.slice(from, from + MAX_IN_LIST);
    const indexOf = new Map(part.map((k, i) => [k, from + i]));
    const rows: Array<{ block_key: string; source: string; record_id: string; ord?: number }> = await db(PT.blocks)
      .whereIn('block_key', part)
      .select('block_key', 'source', 'record_id', ...(mysql ? [] : [db.raw('rowid AS ord')]));
    for (const r of rows) {
      const k = recordKeyString({ source: r.source, recordId: r.record_id });
      const index = indexOf.get(r.block_key)!;
      const list = byRecord.get(k);
      if (list) list.push(mysql ? index : Number(r.ord), index);
      else byRecord.set(k, [mysql ? index : Number(r.ord), index]);
    }
  }
  for (const [k, list] of byRecord) {
    const due = turn(); // a clock read per record; a microtask only when a turn is due
    if (due) await due;
    if (list.length === 2) {
      byRecord.delete(k);
      continue;
    }
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < list.length; i += 2) pairs.push([list[i], list[i + 1]]);
    byRecord.set(
      k,
      pairs.sort((a, b) => a[0] - b[0]).map((p) => p[1]),
    );
  }
  return byRecord;
}

/** Records of one block in key order after `after`. */
export async function recordsOfBlock(db: Knex, key: string, after: SourceRecordKey | null, limit: number): Promise<SourceRecordKey[]> {
  const q = db(PT.blocks).where('block_key', key).orderBy(['source', 'record_id']).limit(limit);
  if (after) q.where((w) => w.where('source', '>', after.source).orWhere((x) => x.where('source', after.source).where('record_id', '>', after.recordId)));
  return (await q.select('source', 'record_id')).map((r) => ({ source: r.source, recordId: r.record_id }));
}

/** Marks compared every record after `after` up to `upTo` in key order (a first comparison's batches, many at a time). */
export async function markScoredRange(db: Knex, after: SourceRecordKey | null, upTo: SourceRecordKey): Promise<void> {
  const q = db(PT.features).whereRaw('scored = 0');
  afterKey(db, q, '<=', upTo);
  if (after) afterKey(db, q, '>', after);
  await q.update({ scored: 1 });
}

/**
 * Records on one side of a key (`source`, `record_id`). SQLite's planner uses a row value as a
 * range of the `scored` index; the same test spelled with OR made each page of unscored records,
 * and each range marked, scan every unscored entry from the first.
 */
function afterKey(db: Knex, q: Knex.QueryBuilder, op: '>' | '<=', key: SourceRecordKey): void {
  if (!isMysql(db)) q.whereRaw(`(source, record_id) ${op} (?, ?)`, [key.source, key.recordId]);
  else if (op === '>') q.where((w) => w.where('source', '>', key.source).orWhere((x) => x.where('source', key.source).where('record_id', '>', key.recordId)));
  else q.where((w) => w.where('source', '<', key.source).orWhere((x) => x.where('source', key.source).where('record_id', '<=', key.recordId)));
}

/** Current customers of live records, by record key string (deleted records and records without a customer left out). */
export async function customersOfRecords(db: Knex, keys: readonly SourceRecordKey[]): Promise<Map<string, string>> {
  const rows = await selectChunked(
    uniqueBy(keys, recordKeyString),
    (part) =>
      whereRecords(db('idmap_source_records'), 'source', 'record_id', part).whereNull('deleted_at').whereNotNull('customer_id').select('source', 'record_id', 'customer_id'),
    400,
  );
  return new Map(rows.map((r) => [recordKeyString({ source: r.source, recordId: r.record_id }), r.customer_id as string]));
}

/** Live records of customers, with their customer. */
export async function recordsOfCustomers(db: Knex, customerIds: readonly string[]): Promise<Array<SourceRecordKey & { customerId: string }>> {
  const rows = await selectChunked([...new Set(customerIds)], (part) =>
    db('idmap_source_records').whereIn('customer_id', part).whereNull('deleted_at').select('source', 'record_id', 'customer_id'),
  );
  return rows.map((r) => ({ source: r.source, recordId: r.record_id, customerId: r.customer_id }));
}
