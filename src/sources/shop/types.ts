/** The shop kind's own records (accounts) and what its connector answers: the commerce capability and events. */
import type { CommerceCapability } from '../../capabilities';
import type { Connector, EventQuery, Instant, Slot, SourceEvent } from '../../vocabulary';

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
  accountsByIds(ids: readonly string[]): Promise<Array<Slot<ShopAccount> | null>>;
  /** Filter pushdown: ids of the accounts registered through one of the channels (one statement). */
  accountIdsByChannels?(channels: readonly string[]): Promise<string[]>;
  /** account_registered, order_placed, order_paid and order_refunded events, per account, as `EventQuery` asks. */
  eventsByRecordIds(ids: readonly string[], query: EventQuery): Promise<Array<Slot<SourceEvent>[]>>;
}
