/** The CRM kind's records in the canonical vocabulary, and what its connector answers. */
import type { Connector, EventQuery, Gender, Instant, ListSlot, Slot, SourceAccount, SourceEvent } from '../../vocabulary';
import type { ProfileField, ProfileValue } from '../../capabilities';

export interface CrmContact {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  gender: Gender;
  birthday: string | null;
  province: string | null;
  city: string | null;
  memberNo: string | null;
  tier: string | null;
  ownerRep: string | null;
  ownerTeam: string | null;
  smsOptIn: boolean | null;
  emailOptIn: boolean | null;
  createdAt: Instant;
  updatedAt: Instant;
}

export interface CrmTierChange {
  contactId: string;
  fromTier: string | null;
  toTier: string;
  changedAt: Instant;
}

export interface CrmConnector extends Connector {
  /** `account`, here and below: the request's, which every call made for it is booked to (`SourceCall.account`). */
  contactsByIds(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<CrmContact> | null>>;
  tierChangesByContactIds(ids: readonly string[], account?: SourceAccount): Promise<Array<ListSlot<CrmTierChange>>>;
  /** Filter pushdown: contact ids whose profile field holds one of the values; null when the field is not searchable in SQL. */
  contactIdsWhere?(field: ProfileField, values: readonly ProfileValue[], account?: SourceAccount): Promise<string[] | null>;
  /** crm_created and tier_changed events, per contact, as `EventQuery` asks. */
  eventsByRecordIds(ids: readonly string[], query: EventQuery, account?: SourceAccount): Promise<Array<ListSlot<SourceEvent>>>;
  /** The start-up check: a line per table or column it reads that the database lacks (none while the database cannot be reached). */
  missingSchema?(): Promise<string[]>;
}
