/** The helpdesk kind's own records (requesters) and what its connector answers: the service capability and events. */
import type { ServiceCapability } from '../../capabilities';
import type { Connector, EventQuery, Instant, ListSlot, Slot, SourceAccount, SourceEvent } from '../../vocabulary';

export interface SupportRequester {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  createdAt: Instant;
  updatedAt: Instant;
}

export interface HelpdeskConnector extends Connector, ServiceCapability {
  /** `account`, here and below: the request's, which every call made for it is booked to (`SourceCall.account`). */
  requestersByIds(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<SupportRequester> | null>>;
  /** ticket_opened, ticket_solved and ticket_rated events, per requester, as `EventQuery` asks. */
  eventsByRecordIds(ids: readonly string[], query: EventQuery, account?: SourceAccount): Promise<Array<ListSlot<SourceEvent>>>;
}
