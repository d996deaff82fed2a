/**
 * Every OneID migration, listed in code so they run the same under ts-jest, tsx and compiled
 * JS (a directory scan would find `.ts` in one and `.js` in another). Append new ones; never
 * edit or reorder one that has been applied.
 */
import type { Knex } from 'knex';
import * as customers from './20250601000000_customers';
import * as sourceRecords from './20250601000100_source_records';
import * as recordIdentifiers from './20250601000200_record_identifiers';
import * as linkEvents from './20250601000300_link_events';
import * as scanCursors from './20250601000400_scan_cursors';
import * as review from './20250601000500_review';
import * as dropValueIndex from './20261122000000_drop_value_index';
import * as sourceRecordsClustered from './20261122000100_source_records_clustered';
import * as locks from './20261122000200_locks';
import * as webhookEvents from './20261122000300_webhook_events';
import * as segments from './20261201000100_segments';
import * as matchFeatures from './20261201000500_match_features';
import * as coveringIdentifierIndexes from './20261202000100_covering_identifier_indexes';
import * as narrowIdentifierIndexes from './20261202000200_narrow_identifier_indexes';
import * as matchFeaturesAddress from './20261202000300_match_features_address';
import * as matchFeaturesName from './20261203000100_match_features_name';
import * as matchChance from './20261203000200_match_chance';
import * as candidateMatchWeight from './20261203000300_candidate_match_weight';
import * as matchPrior from './20261204000100_match_prior';
import * as webhookEventApplied from './20261205000100_webhook_event_applied';
import * as sourceNameWidth from './20261205000200_source_name_width';
import * as feedKey from './20261205000300_feed_key';
import * as restageMarker from './20261206000100_restage_marker';
import * as principalKinds from './20261206000200_principal_kinds';

export const MIGRATIONS: ReadonlyArray<readonly [string, Knex.Migration]> = [
  ['20250601000000_customers', customers],
  ['20250601000100_source_records', sourceRecords],
  ['20250601000200_record_identifiers', recordIdentifiers],
  ['20250601000300_link_events', linkEvents],
  ['20250601000400_scan_cursors', scanCursors],
  ['20250601000500_review', review],
  ['20261122000000_drop_value_index', dropValueIndex],
  ['20261122000100_source_records_clustered', sourceRecordsClustered],
  ['20261122000200_locks', locks],
  ['20261122000300_webhook_events', webhookEvents],
  ['20261201000100_segments', segments],
  ['20261201000500_match_features', matchFeatures],
  ['20261202000100_covering_identifier_indexes', coveringIdentifierIndexes],
  ['20261202000200_narrow_identifier_indexes', narrowIdentifierIndexes],
  ['20261202000300_match_features_address', matchFeaturesAddress],
  ['20261203000100_match_features_name', matchFeaturesName],
  ['20261203000200_match_chance', matchChance],
  ['20261203000300_candidate_match_weight', candidateMatchWeight],
  ['20261204000100_match_prior', matchPrior],
  ['20261205000100_webhook_event_applied', webhookEventApplied],
  ['20261205000200_source_name_width', sourceNameWidth],
  ['20261205000300_feed_key', feedKey],
  ['20261206000100_restage_marker', restageMarker],
  ['20261206000200_principal_kinds', principalKinds],
];
