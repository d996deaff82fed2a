/**
 * Source kind `shop`: the company's own order system, an SQL database (shop accounts, orders,
 * lines, refunds). Provides `commerce` (computed in SQL: summaries, categories, RFM
 * boundaries), `profile` (contact points, registration) and `events`; its own SDL adds
 * `Customer.shopAccounts`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineSourceKind, ORDER_EVENT_FIELDS } from '../kind';
import { resolveSqlFile, sqlSourceOptions } from '../options';
import { REFUND_SIGNS, SHOP_EVENTS, createShopConnector } from './connector';
import { shopResolvers } from './resolvers';
import type { ShopAccount, ShopConnector } from './types';

const options = z
  .object({
    ...sqlSourceOptions,
    /** How the refunds table signs an amount: `positive` (money returned, the default) or `negative` (a ledger's), read as its magnitude. */
    refundSign: z.enum(REFUND_SIGNS).default('positive'),
  })
  .strict();

export const kind = defineSourceKind<z.infer<typeof options>, ShopConnector>({
  kind: 'shop',
  title: 'Own order system (SQL tables shop_accounts, orders, order_lines, refunds)',
  options,
  resolvePaths: (o, resolve) => ({ ...o, connection: resolveSqlFile(o.connection, resolve) }),
  create: (name, o, observer, settings) => createShopConnector({ ...o, name, defaultRegion: settings?.phoneRegion }, observer),
  // Its tables, as demo/schema.ts describes them, checked at start-up: a missing one stops it, naming the table.
  check: async (connector) => {
    const problems = (await connector.missingSchema?.()) ?? [];
    if (problems.length) throw new Error(problems.join('\n'));
  },
  capabilities: (shop) => ({
    commerce: shop,
    profile: {
      fields: ['phone', 'email', 'registeredAt', 'registrationChannel'],
      operation: 'accountsByIds',
      records: (ids, account) => shop.accountsByIds(ids, account),
      recordIdsWhere: async (field, values, account) =>
        field === 'registrationChannel' && shop.accountIdsByChannels
          ? shop.accountIdsByChannels(
              values.filter((v): v is string => typeof v === 'string'),
              account,
            )
          : null,
      // Registration: when and where the person signed up for a shop account (its channel).
      view: (a: ShopAccount) => ({
        recordId: a.id,
        updatedAt: a.updatedAt,
        createdAt: a.registeredAt,
        values: { phone: a.phone, email: a.email, registeredAt: a.registeredAt, registrationChannel: a.channel },
      }),
    },
    events: { kinds: SHOP_EVENTS, eventsByRecordIds: (ids, q, account) => shop.eventsByRecordIds(ids, q, account) },
  }),
  sdl: fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'),
  resolvers: shopResolvers,
  eventFields: { ...ORDER_EVENT_FIELDS, account_registered: { occurred: 'ShopAccount.registeredAt', channel: 'ShopAccount.channel' } },
  events: {
    account_registered: 'Shop: an account was registered.',
    order_placed: 'Shop: an order was placed (whatever became of it since: see `status`).',
    order_paid: 'Shop: an order was paid.',
    order_refunded: 'Shop: (part of) an order was refunded; `amount` is the refund.',
  },
});
