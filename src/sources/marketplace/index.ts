/**
 * The `marketplace` source kind: a shop on a marketplace open platform (Tmall/Taobao TOP wire
 * format; see connector.ts for keys, costs and limits). One OneID record per buyer
 * (`buyer_open_uid`). Provides commerce (orders, lines, refunds and what is computed from them),
 * profile (registration, the member's own phone) and events (order_placed / order_paid /
 * order_refunded, the SQL shop's kind names). Two shops are two instances (`shop_tmall`,
 * `shop_jd`), each with its own credentials, channel and OneID source name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Capabilities, ProfileField } from '../../capabilities';
import { currencyCode } from '../../canonical';
import { SourceRowError } from '../../errors';
import { baseUrl, maxResponseBytes } from '../options';
import { defineSourceKind, ORDER_EVENT_FIELDS, type KindContext, type SourceInstance } from '../kind';
import { createMarketplaceConnector, MARKETPLACE_EVENT_KINDS, API_MAX_IDS, API_MAX_PAGE, type MarketplaceBuyer, type MarketplaceConnector } from './connector';

export type { MarketplaceBuyer, MarketplaceConnector } from './connector';

const options = z
  .object({
    /** The TOP router's origin (`https://eco.taobao.com`), without `/router/rest`. */
    baseUrl,
    appKey: z.string().min(1),
    appSecret: z.string().min(1),
    /** The seller's session key for the shop. */
    session: z.string().min(1),
    channel: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,31}$/, 'a lower-case channel name such as tmall')
      .default('tmall'),
    timeoutMs: z.number().int().positive().default(2000),
    /** Extra attempts after a transient failure (default 1). */
    retries: z.number().int().min(0).max(3).optional(),
    /** Buyer or trade ids per call, 1..20; 1 against the real TOP router (one buyer filter per call). */
    maxBatch: z.number().int().min(1).max(API_MAX_IDS).optional(),
    breaker: z
      .object({ failureThreshold: z.number().int().min(1).optional(), cooldownMs: z.number().int().min(0).optional() })
      .strict()
      .optional(),
    scanPageSize: z.number().int().min(1).max(API_MAX_PAGE).optional(),
    /** Largest response body accepted (src/sources/options.ts). */
    maxResponseBytes,
    currency: z
      .string()
      .refine((c) => currencyCode(c) === c, 'an ISO 4217 code such as CNY')
      .default('CNY'),
    /** TOP category id → the company's category name (`"16": "apparel"`), for category statistics. */
    categories: z.record(z.string().regex(/^\d+$/, 'TOP category ids are digits'), z.string().min(1)).optional(),
  })
  .strict();

export type MarketplaceKindOptions = z.output<typeof options>;

const PROFILE_FIELDS: readonly ProfileField[] = ['phone', 'registeredAt', 'registrationChannel'];

function capabilities(c: MarketplaceConnector): Capabilities {
  return {
    commerce: {
      ordersByRecordIds: (ids, q, account) => c.ordersByBuyerIds(ids, q, account),
      orderSummariesByRecordIds: (ids, q, account) => c.orderSummariesByBuyerIds(ids, q ?? { now: new Date().toISOString(), windowDays: [] }, account),
      linesByOrderIds: (ids, account) => c.linesByOrderIds(ids, account),
      refundsByOrderIds: (ids, account) => c.refundsByOrderIds(ids, account),
      categoryStatsByRecordIds: (ids, asOf, account) => c.categoryStatsByBuyerIds(ids, asOf, account),
      rfmBoundaries: (asOf, account) => c.rfmBoundaries(asOf, account),
      orderFacts: (q, account) => c.orderFacts(q, account),
      orderFactsCalls: () => c.orderFactsCalls(),
      orderFactsPages: (account) => c.orderFactsPages(account),
    },
    profile: {
      fields: PROFILE_FIELDS,
      // The same name the kind's own field loads buyers under: one loader, one call, for both.
      operation: 'buyersByIds',
      records: (ids, account) => c.buyersByIds(ids, account),
      view: (b: MarketplaceBuyer) => ({
        recordId: b.id,
        updatedAt: b.updatedAt,
        createdAt: b.memberSince ?? b.firstOrderAt,
        values: {
          phone: b.phone,
          // Registered with the brand: joining the shop's membership, else the first purchase.
          registeredAt: b.memberSince ?? b.firstOrderAt,
          registrationChannel: b.channel,
        },
      }),
    },
    events: {
      kinds: MARKETPLACE_EVENT_KINDS,
      eventsByRecordIds: (ids, q, account) => c.eventsByBuyerIds(ids, q, account),
    },
  };
}

/**
 * `Customer.marketplaceBuyers`: the buyers of every marketplace instance. All instances load in
 * the same tick, so each keeps one call per query level. A failed call fails the field;
 * a malformed buyer stays an Error (that list item is null plus an error); unknown ids drop out.
 */
function resolvers(instances: ReadonlyArray<SourceInstance<MarketplaceConnector>>) {
  return {
    Customer: {
      marketplaceBuyers: async (c: { id: string }, _args: unknown, ctx: KindContext) => {
        const perInstance = await Promise.all(
          instances.map(async (inst) => {
            const ids = await ctx.loaders.recordIds(c.id, inst.name);
            if (ids.length === 0) return [];
            return ctx.loaders
              .batch<MarketplaceBuyer | null>(inst.name, 'buyersByIds', (keys, account) => ctx.loaders.connector<MarketplaceConnector>(inst.name).buyersByIds(keys, account))
              .loadMany(ids);
          }),
        );
        const all = perInstance.flat();
        const failed = all.find((x) => x instanceof Error && !(x instanceof SourceRowError));
        if (failed) throw failed;
        return all.filter((x) => x !== null);
      },
    },
  };
}

export const kind = defineSourceKind<MarketplaceKindOptions, MarketplaceConnector>({
  kind: 'marketplace',
  title: 'Marketplace shop on an open platform (Tmall/Taobao TOP wire format): buyers, trades, refunds',
  options,
  create: (name, o, observer) => createMarketplaceConnector(name, o, observer),
  capabilities,
  sdl: fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'),
  resolvers,
  eventFields: ORDER_EVENT_FIELDS,
  events: {
    order_placed: 'An order was placed (on a marketplace shop: the trade was created).',
    order_paid: 'An order was paid.',
    order_refunded: 'A refund of an order succeeded (amount and reason as the platform gives them).',
  },
});
