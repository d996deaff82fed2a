/** All resolvers, merged; the schema is built from schema/*.graphql and these (src/schema.ts). */
import { mergeResolvers } from '@graphql-tools/merge';
import { customerResolvers } from './customer';
import { crmResolvers } from './crm';
import { ordersResolvers } from './orders';
import { supportResolvers } from './support';
import { scrmResolvers } from './scrm';
import { DateTime, DateScalar } from './scalars';
import { accessResolvers } from './access';
import { goldenResolvers } from './golden';
import { timelineResolvers } from './timeline';
import { insightsResolvers } from './insights';
import { identityResolvers } from './identity';

export const resolvers = mergeResolvers([
  { DateTime, Date: DateScalar },
  customerResolvers,
  crmResolvers,
  ordersResolvers,
  supportResolvers,
  scrmResolvers,
  accessResolvers,
  goldenResolvers,
  timelineResolvers,
  insightsResolvers,
  identityResolvers,
]);
