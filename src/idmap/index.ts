/**
 * OneID: the identity map's public face. Loaders read through `IdMapReader`; the resolution
 * job and stewardship write through the store.
 */
export type * from './types';
export { migrateLatest, migrateDown, appliedMigrations, migratorConfig } from './migrate';
export { createIdMapStore } from './store';
export type { IdMapStore, ReviewCandidate, MergeResult } from './store';
export { StaleResolutionError } from './writes';
export type { NewLinkEvent, NewCandidate } from './writes';
export { loadIdentityRules, parseIdentityRules } from './rules';
export type { IdentityRules, StrongKind } from './rules';
export { resolve, resolveRecords } from './resolve';
export { ResolutionBusyError, LeaseLostError, ResolutionInterruptedError } from './lock';
export type { LeaseOptions } from './lock';
export type { ResolveOptions, ResolveStats } from './resolve';
