/** Helpdesk fields: Customer.supportRequesters across every helpdesk instance. Tickets are the service capability's (schema/service.graphql). */
import { recordsOfKind } from '../fields';
import type { KindContext, SourceInstance } from '../kind';
import type { HelpdeskConnector } from './types';

export function helpdeskResolvers(instances: ReadonlyArray<SourceInstance<HelpdeskConnector>>) {
  return {
    Customer: {
      supportRequesters: (c: { id: string }, _: unknown, ctx: KindContext) =>
        recordsOfKind(ctx, c.id, instances, 'requestersByIds', (helpdesk) => (ids, account) => helpdesk.requestersByIds(ids, account)),
    },
  };
}
