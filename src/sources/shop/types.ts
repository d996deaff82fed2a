/** The shop kind's own records (accounts) and what its connector answers: the commerce capability and events. */
import type { CommerceCapability } from '../../capabilities';
import type { Connector, EventQuery, Instant, ListSlot, Slot, SourceAccount, SourceEvent } from '../../vocabulary';

export interface ShopAccount {
  id: string;
  phone: string | null;
  email: string | null;
  memberNo: string | null;
  channel: string;
  registeredAt: Instant;
  updatedAt: Instant;
}

export interface ShopConnector extends Connector, CommerceCapability {
  /** `account`, here and below: the request's, which every call made for it is booked to (`SourceCall.account`). */
  accountsByIds(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<ShopAccount> | null>>;
  /** Filter pushdown: ids of the accounts registered through one of the channels (one statement). */
  accountIdsByChannels?(channels: readonly string[], account?: SourceAccount): Promise<string[]>;
  /** account_registered, order_placed, order_paid and order_refunded events, per account, as `EventQuery` asks. */
  eventsByRecordIds(ids: readonly string[], query: EventQuery, account?: SourceAccount): Promise<Array<ListSlot<SourceEvent>>>;
  /** The start-up check: a line per table or column it reads that the database lacks (none while the database cannot be reached). */
  missingSchema?(): Promise<string[]>;
}
