/**
 * The core's resolvers, merged with every configured source kind's (src/sources/registry.ts);
 * the schema is built from schema/*.graphql, the kinds' SDL and these (src/schema.ts).
 */
import { mergeResolvers } from '@graphql-tools/merge';
import type { SourceRegistry } from '../src/sources/registry';
import { customerResolvers } from './customer';
import { commerceResolvers } from './commerce';
import { serviceResolvers } from './service';
import { engagementResolvers } from './engagement';
import { DateTime, DateScalar } from './scalars';
import { accessResolvers } from './access';
import { goldenResolvers } from './golden';
import { timelineResolvers } from './timeline';
import { insightsResolvers } from './insights';
import { identityResolvers } from './identity';
import { biResolvers } from './bi';
import { feedResolvers } from './feed';

/** Upper snake case for an enum value: `shop_tmall` → `SHOP_TMALL`. */
export const enumValueOf = (name: string) => name.toUpperCase();

export function buildResolvers(registry: SourceRegistry) {
  const sourceEnum = Object.fromEntries(registry.sources.map((s) => [enumValueOf(s.name), s.name]));
  const eventEnum = Object.fromEntries([...registry.eventKinds.keys()].map((k) => [enumValueOf(k), k]));
  const core: object[] = [
    { DateTime, Date: DateScalar, SourceName: sourceEnum },
    ...(eventEnum && Object.keys(eventEnum).length ? [{ TimelineEventKind: eventEnum }] : []),
    customerResolvers,
    commerceResolvers,
    serviceResolvers,
    engagementResolvers,
    accessResolvers,
    goldenResolvers,
    timelineResolvers,
    insightsResolvers,
    identityResolvers,
    biResolvers,
    feedResolvers,
  ];
  return mergeResolvers([...core, ...registry.resolvers] as never[]);
}
