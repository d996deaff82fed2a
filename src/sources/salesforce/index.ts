/**
 * Source kind `salesforce`: a Salesforce org's Contacts over its REST API (docs/sources.md,
 * "Salesforce"). Provides `profile` (name, email, phone, birthday, registeredAt) and `events`
 * (a Contact created, a Task logged against it); its own SDL adds `Customer.salesforceContacts`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineSourceKind } from '../kind';
import { baseUrl, httpSourceOptions } from '../options';
import { API_MAX_IDS, DEFAULT_MAX_BATCH, SALESFORCE_EVENTS, createSalesforceConnector } from './connector';
import { salesforceResolvers } from './resolvers';
import type { SalesforceConnector, SalesforceContact } from './types';

/** A PEM private key as the environment holds it: real line breaks, or `\n` written out (one-line variables). */
const privateKey = z
  .string()
  .min(1)
  .transform((k) => k.replace(/\\n/g, '\n'))
  .superRefine((k, ctx) => {
    try {
      crypto.createPrivateKey(k);
    } catch {
      // Never the value: it is a secret.
      ctx.addIssue({ code: 'custom', message: 'is not a PEM private key (the connected app certificate\'s key, "-----BEGIN PRIVATE KEY-----…")' });
    }
  });

const auth = z.discriminatedUnion('flow', [
  z.object({ flow: z.literal('client_credentials'), clientId: z.string().min(1), clientSecret: z.string().min(1) }).strict(),
  z
    .object({
      flow: z.literal('jwt_bearer'),
      clientId: z.string().min(1),
      /** The Salesforce user the integration acts as. */
      username: z.string().min(1),
      privateKey,
      /** The assertion's `aud`: https://login.salesforce.com, https://test.salesforce.com for a sandbox. */
      audience: z.url().default('https://login.salesforce.com'),
    })
    .strict(),
]);

const options = z
  .object({
    ...httpSourceOptions(API_MAX_IDS),
    /** Ids a query carries: 200 by default, a URI of about 5.5 KB (Salesforce's limit: 16,384 bytes of URI and headers together). */
    maxBatch: z.number().int().min(1).max(API_MAX_IDS).default(DEFAULT_MAX_BATCH),
    auth,
    /** Where tokens are asked for (default `baseUrl`, the org's My Domain: the client credentials flow is answered there only). */
    loginUrl: baseUrl.optional(),
    /** The REST API version (`/services/data/v62.0/…`). */
    apiVersion: z
      .string()
      .regex(/^\d{2,3}\.0$/, 'must be a REST API version such as "62.0"')
      .default('62.0'),
  })
  .strict();

export const kind = defineSourceKind<z.infer<typeof options>, SalesforceConnector>({
  kind: 'salesforce',
  title: 'Salesforce CRM (Contacts over the REST API)',
  options,
  create: (name, o, observer, settings) => createSalesforceConnector({ ...o, name, defaultRegion: settings?.phoneRegion }, observer),
  capabilities: (sf) => ({
    profile: {
      fields: ['name', 'phone', 'email', 'birthday', 'registeredAt'],
      operation: 'contactsByIds',
      records: (ids, account) => sf.contactsByIds(ids, account),
      view: (c: SalesforceContact) => ({
        recordId: c.id,
        updatedAt: c.updatedAt,
        createdAt: c.createdAt,
        // The mobile is the number a person is reached on; the office line when there is none.
        values: { name: c.name, phone: c.mobilePhone ?? c.phone, email: c.email, birthday: c.birthday, registeredAt: c.createdAt },
      }),
    },
    events: { kinds: SALESFORCE_EVENTS, eventsByRecordIds: (ids, q, account) => sf.eventsByRecordIds(ids, q, account) },
  }),
  sdl: fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'),
  resolvers: salesforceResolvers,
  eventFields: {
    salesforce_contact_created: { occurred: 'SalesforceContact.createdAt' },
    salesforce_task_logged: { occurred: 'SalesforceTask.createdAt', title: 'SalesforceTask.subject', status: 'SalesforceTask.status' },
  },
  events: {
    salesforce_contact_created: 'Salesforce: the Contact was created.',
    salesforce_task_logged: 'Salesforce: a Task (a call, an email, a to-do) was logged against the Contact; `title` is its subject, `status` its status now.',
  },
});
