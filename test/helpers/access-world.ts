/**
 * A small world for access tests: an in-memory OneID reader and four connectors over arrays,
 * each recording the keys of every call, behind the real loaders and resolvers.
 *
 *   c1  team-a   CRM C1 (all personal fields), shop A1, support U1, WeChat o-follower-1; phone shared with c2
 *   c2  team-b   CRM C2; shares the household phone
 *   c3  (no CRM) shop A3
 *   m1  merged into c1
 */
import pino from 'pino';
import type { Context, Viewer } from '../../src/context';
import { createLoaders } from '../../src/loaders';
import { SourceError } from '../../src/errors';
import type { CustomerRow, IdMapReader, IdentifierRow, SourceRecordRow } from '../../src/idmap/types';
import type { Connector, SourceName } from '../../src/vocabulary';
import type { CrmConnector, CrmContact } from '../../src/sources/crm/types';
import type { ShopAccount, ShopConnector as OrdersConnector } from '../../src/sources/shop/types';
import type { HelpdeskConnector as SupportConnector, SupportRequester } from '../../src/sources/helpdesk/types';
import type { ScrmFollower, WechatConnector as ScrmConnector } from '../../src/sources/wechat/types';
import { registryOf, type SourceRegistry } from '../../src/sources/registry';
import { createInsightsRuntime } from '../../src/insights/runtime';
import { loadInsightRules } from '../../src/insights/rules';
type Connectors = { crm: CrmConnector; orders: OrdersConnector; support: SupportConnector; scrm: ScrmConnector };

export const T0 = '2024-03-01T08:15:00.000Z';
export const HOUSEHOLD_PHONE = '+8613900139000';

const contact = (id: string, team: string, extra: Partial<CrmContact> = {}): CrmContact => ({
  id,
  name: null,
  phone: null,
  email: null,
  gender: 'UNKNOWN',
  birthday: null,
  province: null,
  city: null,
  memberNo: null,
  tier: 'gold',
  ownerRep: 'rep-1',
  ownerTeam: team,
  smsOptIn: true,
  emailOptIn: null,
  createdAt: T0,
  updatedAt: T0,
  ...extra,
});

export const CONTACTS: CrmContact[] = [
  contact('C1', 'team-a', {
    name: '张三丰',
    phone: '+8613800138000',
    email: 'zhang.san@example.com',
    gender: 'MALE',
    birthday: '1990-05-17',
    province: '浙江',
    city: '杭州',
    memberNo: 'M12345678',
  }),
  contact('C2', 'team-b', { name: '李四', phone: HOUSEHOLD_PHONE }),
];
export const ACCOUNTS: ShopAccount[] = [
  { id: 'A1', phone: '+8613800138000', email: 'zhang.san@example.com', memberNo: 'M12345678', channel: 'tmall', registeredAt: T0, updatedAt: T0 },
  { id: 'A3', phone: '+8613700137000', email: 'wang@example.com', memberNo: null, channel: 'jd', registeredAt: T0, updatedAt: T0 },
];
export const REQUESTERS: SupportRequester[] = [{ id: 'U1', name: 'Zhang San', email: 'zhang.san@example.com', phone: '+8613800138000', createdAt: T0, updatedAt: T0 }];
export const FOLLOWERS: ScrmFollower[] = [
  {
    openid: 'o-follower-1',
    unionid: 'u-union-1',
    nickname: '三丰',
    gender: 'MALE',
    city: 'Hangzhou',
    province: 'Zhejiang',
    country: 'CN',
    subscribed: true,
    subscribedAt: T0,
    tagIds: [1],
  },
];

const RECORDS: Record<string, Array<[SourceName, string]>> = {
  c1: [
    ['crm', 'C1'],
    ['orders', 'A1'],
    ['support', 'U1'],
    ['scrm', 'o-follower-1'],
  ],
  c2: [['crm', 'C2']],
  c3: [['orders', 'A3']],
};
const MERGED: Record<string, string> = { m1: 'c1' };

const IDENTIFIERS: Record<string, Array<Omit<IdentifierRow, 'customerId'>>> = {
  c1: [
    { kind: 'PHONE', value: '+8613800138000', source: 'crm', recordId: 'C1', validFrom: T0, validTo: null },
    { kind: 'EMAIL', value: 'zhang.san@example.com', source: 'crm', recordId: 'C1', validFrom: T0, validTo: null },
    { kind: 'OPENID', value: 'o-follower-1', source: 'scrm', recordId: 'o-follower-1', validFrom: T0, validTo: null },
    { kind: 'PHONE', value: HOUSEHOLD_PHONE, source: 'orders', recordId: 'A1', validFrom: T0, validTo: null },
  ],
  c2: [{ kind: 'PHONE', value: HOUSEHOLD_PHONE, source: 'crm', recordId: 'C2', validFrom: T0, validTo: null }],
  c3: [{ kind: 'PHONE', value: '+8613700137000', source: 'orders', recordId: 'A3', validFrom: T0, validTo: null }],
};

export interface Calls {
  /** `system.function` → the keys of each call, in order. */
  [fn: string]: unknown[][];
}

export interface AccessWorld {
  idmap: IdMapReader;
  connectors: Connectors;
  registry: SourceRegistry;
  calls: Calls;
  /** Total calls made to any store or connector function. */
  totalCalls(): number;
  /** The function names called, in order (the shape of the work, without keys). */
  sequence(): string[];
  /** While true, every CRM call fails as an unreachable CRM would. */
  crmDown: boolean;
  context(viewer: Viewer): Context;
}

export function accessWorld(): AccessWorld {
  const calls: Calls = {};
  const order: string[] = [];
  const record = (fn: string, keys: readonly unknown[]) => {
    order.push(fn);
    (calls[fn] ??= []).push([...keys]);
  };
  const survivor = (id: string) => MERGED[id] ?? id;
  const known = (id: string) => id in RECORDS || id in MERGED;

  const idmap: IdMapReader = {
    async customersByIds(ids) {
      record('oneid.customersByIds', ids);
      return ids.map((id): CustomerRow | null => (known(id) ? { requestedId: id, id: survivor(id), createdAt: T0, mergedFrom: MERGED[id] ? id : null } : null));
    },
    async customerIdsByIdentifiers(keys) {
      record('oneid.customerIdsByIdentifiers', keys);
      return keys.map((k) => Object.keys(IDENTIFIERS).filter((c) => IDENTIFIERS[c].some((i) => i.kind === k.kind && i.value === k.value)));
    },
    async customerIdsBySourceRecords(keys) {
      record('oneid.customerIdsBySourceRecords', keys);
      return keys.map((k) => Object.keys(RECORDS).find((c) => RECORDS[c].some(([s, r]) => s === k.source && r === k.recordId)) ?? null);
    },
    async sourceRecordsByCustomerIds(ids) {
      record('oneid.sourceRecordsByCustomerIds', ids);
      return ids.map((id) => (RECORDS[id] ?? []).map(([source, recordId]): SourceRecordRow => ({ customerId: id, source, recordId, linkedAt: T0, sourceUpdatedAt: T0 })));
    },
    async identifiersByCustomerIds(ids) {
      record('oneid.identifiersByCustomerIds', ids);
      return ids.map((id) => (IDENTIFIERS[id] ?? []).map((i) => ({ ...i, customerId: id })));
    },
    async linkEventsByCustomerIds(ids) {
      record('oneid.linkEventsByCustomerIds', ids);
      return ids.map(() => []);
    },
    async health() {},
  };

  const base = (name: SourceName): Connector => ({
    name,
    maxBatch: 1000,
    scan: async () => ({ records: [], cursor: null, done: true }),
    scanRecords: async (ids) => ids.map(() => null),
    health: async () => {},
    close: async () => {},
  });
  const byId =
    <T extends { id: string }>(fn: string, rows: T[]) =>
    async (ids: readonly string[]) => {
      record(fn, ids);
      return ids.map((id) => rows.find((r) => r.id === id) ?? null);
    };
  const empty = (fn: string) => async (ids: readonly string[]) => {
    record(fn, ids);
    return ids.map(() => []);
  };

  const contactsByIds = byId('crm.contactsByIds', CONTACTS);
  const crm: CrmConnector = {
    ...base('crm'),
    contactsByIds: async (ids) => {
      if (world.crmDown) {
        record('crm.contactsByIds', ids);
        throw new SourceError('crm', 'SOURCE_UNAVAILABLE', 'crm: connection refused');
      }
      return contactsByIds(ids);
    },
    tierChangesByContactIds: empty('crm.tierChangesByContactIds'),
    eventsByRecordIds: empty('crm.eventsByRecordIds'),
  };
  const orders: OrdersConnector = {
    ...base('orders'),
    accountsByIds: byId('orders.accountsByIds', ACCOUNTS),
    ordersByRecordIds: empty('orders.ordersByRecordIds'),
    linesByOrderIds: empty('orders.linesByOrderIds'),
    refundsByOrderIds: empty('orders.refundsByOrderIds'),
    orderSummariesByRecordIds: async (ids) => {
      record('orders.orderSummariesByRecordIds', ids);
      return ids.map(() => null);
    },
    categoryStatsByRecordIds: empty('orders.categoryStatsByRecordIds'),
    eventsByRecordIds: empty('orders.eventsByRecordIds'),
    rfmBoundaries: async () => ({ accounts: 0, recency: [], frequency: [], monetary: [], currency: null, computedAt: T0 }),
  };
  const support: SupportConnector = {
    ...base('support'),
    requestersByIds: byId('support.requestersByIds', REQUESTERS),
    ticketsByRecordIds: empty('support.ticketsByRecordIds'),
    eventsByRecordIds: empty('support.eventsByRecordIds'),
  };
  const scrm: ScrmConnector = {
    ...base('scrm'),
    followersByOpenids: async (ids) => {
      record('scrm.followersByOpenids', ids);
      return ids.map((id) => FOLLOWERS.find((f) => f.openid === id) ?? null);
    },
    couponsByOpenids: empty('scrm.couponsByOpenids'),
    groupsByOpenids: empty('scrm.groupsByOpenids'),
    eventsByRecordIds: empty('scrm.eventsByRecordIds'),
  };
  const connectors: Connectors = { crm, orders, support, scrm };
  const registry = registryOf([
    { name: 'crm', kind: 'crm', connector: crm },
    { name: 'orders', kind: 'shop', connector: orders },
    { name: 'support', kind: 'helpdesk', connector: support },
    { name: 'scrm', kind: 'wechat', connector: scrm },
  ]);
  const insights = createInsightsRuntime(loadInsightRules('config'), registry);

  const log = pino({ level: 'silent' });
  const world: AccessWorld = {
    idmap,
    connectors,
    registry,
    calls,
    crmDown: false,
    totalCalls: () => order.length,
    sequence: () => [...order],
    context: (viewer) => ({
      requestId: 'req-test',
      viewer,
      loaders: createLoaders({ idmap, registry, orderWindowDays: insights.orderWindowDays, rfmBoundaries: (asOf) => insights.rfmBoundaries(asOf) }),
      limits: { maxIds: 1000, maxFirst: 100 },
      log,
      insights,
      notices: [],
    }),
  };
  return world;
}
