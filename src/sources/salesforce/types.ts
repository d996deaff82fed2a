/** The salesforce kind's own records (Contacts) and what its connector answers. */
import type { Connector, EventQuery, Instant, ListSlot, Slot, SourceAccount, SourceEvent } from '../../vocabulary';

export interface SalesforceContact {
  /** The Contact's 18-character id (the OneID record key). */
  id: string;
  name: string | null;
  email: string | null;
  /** Phone and MobilePhone in E.164 (read in the source's region when written without a country code). */
  phone: string | null;
  mobilePhone: string | null;
  /** Birthdate, YYYY-MM-DD. */
  birthday: string | null;
  createdAt: Instant;
  updatedAt: Instant;
}

export interface SalesforceConnector extends Connector {
  /** `account`, here and below: the request's, which every call made for it is booked to (`SourceCall.account`). */
  contactsByIds(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<SalesforceContact> | null>>;
  /** salesforce_contact_created and salesforce_task_logged events, per Contact, as `EventQuery` asks. */
  eventsByRecordIds(ids: readonly string[], query: EventQuery, account?: SourceAccount): Promise<Array<ListSlot<SourceEvent>>>;
}
