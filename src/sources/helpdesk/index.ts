/**
 * Source kind `helpdesk`: a Zendesk-style helpdesk HTTP JSON API (demo/SOURCES.md). Provides
 * `service` (tickets), `profile` (requester name and contact points) and `events`; its own
 * SDL adds `Customer.supportRequesters`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineSourceKind } from '../kind';
import { httpSourceOptions } from '../options';
import { HELPDESK_EVENTS, createHelpdeskConnector } from './connector';
import { helpdeskResolvers } from './resolvers';
import type { HelpdeskConnector, SupportRequester } from './types';

const options = z
  .object({
    ...httpSourceOptions(100),
    token: z.string().min(1),
    /** The scale its satisfaction ratings are on, when not 1 to 5 (0 to 10, a CSAT 0 to 100): mapped onto 1 to 5. */
    satisfactionScale: z
      .object({ min: z.number().int(), max: z.number().int() })
      .strict()
      .refine((x) => x.min < x.max, { message: 'min must be below max' })
      .optional(),
    /**
     * Which endpoints the helpdesk speaks: `gateway` (default) this helpdesk's ticket and event
     * listings (`tickets?requester_ids`, `requesters/events`, which a gateway in front of a Zendesk
     * offers); `zendesk` Zendesk's own only (docs/sources.md, "The helpdesk against Zendesk itself").
     */
    api: z.enum(['gateway', 'zendesk']).optional(),
    /** With `api: "zendesk"`: tickets from the Search Export, a chunk of requesters a call (`search`, default), or one requester a call (`requested`). */
    ticketReads: z.enum(['search', 'requested']).optional(),
    /** With `ticketReads: "requested"`: requesters one batch reads at most (default 20), each one call. */
    requestedPerLevel: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    // Options of one dialect given to the other would be ignored in silence: refused instead.
    if (o.api !== 'zendesk' && o.ticketReads !== undefined)
      ctx.addIssue({ code: 'custom', path: ['ticketReads'], message: 'applies only with api "zendesk" (the gateway dialect reads tickets with tickets?requester_ids)' });
    if ((o.api !== 'zendesk' || o.ticketReads !== 'requested') && o.requestedPerLevel !== undefined)
      ctx.addIssue({ code: 'custom', path: ['requestedPerLevel'], message: 'applies only with api "zendesk" and ticketReads "requested"' });
  });

/** A ticket event's values are its ticket's fields. */
const TICKET_EVENT = { title: 'Ticket.subject', status: 'Ticket.status', channel: 'Ticket.channel', score: 'Ticket.satisfactionScore' } as const;

export const kind = defineSourceKind<z.infer<typeof options>, HelpdeskConnector>({
  kind: 'helpdesk',
  title: 'Support helpdesk (Zendesk or a Zendesk-style HTTP JSON API)',
  options,
  create: (name, o, observer, settings) => createHelpdeskConnector({ ...o, name, defaultRegion: settings?.phoneRegion }, observer),
  capabilities: (helpdesk) => ({
    service: helpdesk,
    profile: {
      // The helpdesk's names are often email local parts; survivorship weighs that (config/survivorship.json).
      fields: ['name', 'phone', 'email', 'registeredAt'],
      operation: 'requestersByIds',
      records: (ids, account) => helpdesk.requestersByIds(ids, account),
      view: (r: SupportRequester) => ({
        recordId: r.id,
        updatedAt: r.updatedAt,
        createdAt: r.createdAt,
        values: { name: r.name, phone: r.phone, email: r.email, registeredAt: r.createdAt },
      }),
    },
    events: { kinds: HELPDESK_EVENTS, eventsByRecordIds: (ids, q, account) => helpdesk.eventsByRecordIds(ids, q, account) },
  }),
  sdl: fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'),
  resolvers: helpdeskResolvers,
  eventFields: {
    ticket_opened: { occurred: 'Ticket.createdAt', ...TICKET_EVENT },
    ticket_solved: { occurred: 'Ticket.solvedAt', ...TICKET_EVENT },
    // A rating is the ticket's satisfaction score: a role that does not read it is not told there was one.
    ticket_rated: { occurred: 'Ticket.satisfactionScore', ...TICKET_EVENT },
  },
  events: {
    ticket_opened: 'Support: a ticket was opened.',
    ticket_solved: 'Support: a ticket was solved.',
    ticket_rated: "Support: a ticket was rated (at the ticket's last update, which is when the helpdesk records the rating).",
  },
});
