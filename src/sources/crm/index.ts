/**
 * Source kind `crm`: a sales CRM's own SQL database (contacts, membership tiers, owners).
 * Provides `profile` (names, contact points, birthday, address, tier, consent) and `events`
 * (contact created, tier changed); its own SDL adds `Customer.crmContacts`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { CountryCode } from 'libphonenumber-js';
import { defineSourceKind } from '../kind';
import { resolveSqlFile, sqlSourceOptions } from '../options';
import { CONTACT_SEARCHABLE, CRM_EVENTS, createCrmConnector } from './connector';
import { crmResolvers } from './resolvers';
import type { CrmConnector, CrmContact } from './types';

const options = z.object({ ...sqlSourceOptions, defaultRegion: z.string().length(2).optional() }).strict();

/** UNKNOWN says nothing about a person: it is no candidate, so it never outvotes a known value. */
const known = (g: string) => (g === 'UNKNOWN' ? null : g);

export const kind = defineSourceKind<z.infer<typeof options>, CrmConnector>({
  kind: 'crm',
  title: 'Sales CRM (SQL tables crm_contacts, crm_tier_changes)',
  options,
  resolvePaths: (o, resolve) => ({ ...o, connection: resolveSqlFile(o.connection, resolve) }),
  // Its own `defaultRegion`, when given, wins: the CRM is the one kind that had such an option.
  create: (name, o, observer, settings) => createCrmConnector({ ...o, name, defaultRegion: (o.defaultRegion as CountryCode | undefined) ?? settings?.phoneRegion }, observer),
  // Its tables, as demo/schema.ts describes them, checked at start-up: a missing one stops it, naming the table.
  check: async (connector) => {
    const problems = (await connector.missingSchema?.()) ?? [];
    if (problems.length) throw new Error(problems.join('\n'));
  },
  capabilities: (crm) => ({
    profile: {
      fields: ['name', 'phone', 'email', 'gender', 'birthday', 'city', 'province', 'memberTier', 'registeredAt', 'marketingConsent.sms', 'marketingConsent.email'],
      owners: true,
      operation: 'contactsByIds',
      records: (ids, account) => crm.contactsByIds(ids, account),
      recordIdsWhere: async (field, values, account) => (crm.contactIdsWhere ? crm.contactIdsWhere(field, values, account) : null),
      searchable: crm.contactIdsWhere ? CONTACT_SEARCHABLE : [],
      // The CRM's gender is recorded by staff; its city/province is an address given to a rep.
      view: (c: CrmContact) => ({
        recordId: c.id,
        updatedAt: c.updatedAt,
        createdAt: c.createdAt,
        ownerTeam: c.ownerTeam,
        values: {
          name: c.name,
          phone: c.phone,
          email: c.email,
          gender: known(c.gender),
          birthday: c.birthday,
          city: c.city,
          province: c.province,
          memberTier: c.tier,
          registeredAt: c.createdAt,
          'marketingConsent.sms': c.smsOptIn,
          'marketingConsent.email': c.emailOptIn,
        },
      }),
    },
    events: { kinds: CRM_EVENTS, eventsByRecordIds: (ids, q, account) => crm.eventsByRecordIds(ids, q, account) },
  }),
  sdl: fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'),
  resolvers: crmResolvers,
  eventFields: {
    crm_created: { occurred: 'CrmContact.createdAt' },
    tier_changed: { occurred: 'CrmTierChange.changedAt', fromTier: 'CrmTierChange.fromTier', toTier: 'CrmTierChange.toTier' },
  },
  events: {
    crm_created: 'CRM: the contact was created.',
    tier_changed: 'CRM: the membership tier changed (the first assignment has no `fromTier`).',
  },
});
