/** The helpdesk kind's own records (requesters) and what its connector answers: the service capability and events. */
import type { ServiceCapability } from '../../capabilities';
import type { Connector, EventQuery, Instant, Slot, SourceEvent } from '../../vocabulary';

export interface SupportRequester {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  createdAt: Instant;
  updatedAt: Instant;
}

export interface HelpdeskConnector extends Connector, ServiceCapability {
  requestersByIds(ids: readonly string[]): Promise<Array<Slot<SupportRequester> | null>>;
  /** ticket_opened, ticket_solved and ticket_rated events, per requester, as `EventQuery` asks. */
  eventsByRecordIds(ids: readonly string[], query: EventQuery): Promise<Array<Slot<SourceEvent>[]>>;
}
