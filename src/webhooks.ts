/**
 * Change notifications from the source systems: `POST /webhooks/:source`.
 *
 *   X-C360-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with that source's secret>
 *   { "events": [ { "type": "created" | "updated" | "deleted", "recordId": "C0000042" }, … ] }   (≤ 100 events)
 *
 * A valid notification re-reads the named records through the source's connector and
 * re-resolves them at once (no scan), answering 200 when OneID is current. A missing or wrong
 * signature answers 401 and changes nothing; a malformed body 400; a source with no configured
 * secret has no webhook (404). Secrets come from the environment via config (`sources[].webhookSecret`).
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { z } from 'zod';
import type { Gateway } from './gateway';
import { loadIdentityRules, resolveRecords, ResolutionBusyError } from './idmap';
import type { ScannedRecord } from './vocabulary';
import { isSourceError } from './errors';

export const MAX_WEBHOOK_EVENTS = 100;
/**
 * How long a notification waits for a resolution another process is running on the store (a
 * `c360 resolve` job) before answering 503: senders time out long before a full scan ends.
 */
export const WEBHOOK_LEASE_WAIT_MS = 5000;

const body = z
  .object({
    events: z
      .array(
        z
          .object({
            type: z.enum(['created', 'updated', 'deleted']),
            recordId: z.string().min(1).max(128),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_WEBHOOK_EVENTS),
  })
  .strict();

export type WebhookBody = z.infer<typeof body>;

/** The signature header value for a body: what a source sends, and what tests compute. */
export function signWebhook(secret: string, rawBody: Buffer | string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

function signatureMatches(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!header || !/^sha256=[0-9a-f]{64}$/i.test(header)) return false;
  const expected = Buffer.from(signWebhook(secret, rawBody).slice(7), 'hex');
  const given = Buffer.from(header.slice(7), 'hex');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

function reply(res: http.ServerResponse, status: number, payload: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(payload));
}

const fail = (res: http.ServerResponse, status: number, code: string, message: string) => reply(res, status, { error: { code, message } });

/** The route for ServerHooks: handles /webhooks/* and leaves every other path alone. */
export function webhookRoute(gw: Gateway) {
  const rules = loadIdentityRules(gw.config.identity.rulesFile);
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, readBody: () => Promise<Buffer>): Promise<boolean> => {
    const m = /^\/webhooks\/([^/]+)$/.exec(url.pathname);
    if (!m) return false;
    const registered = gw.registry.get(m[1]);
    const secret = registered?.webhookSecret;
    if (!registered || !secret) {
      fail(res, 404, 'NOT_FOUND', `no webhook for source "${m[1].slice(0, 32)}"`);
      return true;
    }
    const { name: source, connector } = registered;
    if (req.method !== 'POST') {
      fail(res, 405, 'BAD_REQUEST', 'use POST');
      return true;
    }
    const raw = await readBody();
    const signature = req.headers['x-c360-signature'];
    if (!signatureMatches(secret, raw, Array.isArray(signature) ? signature[0] : signature)) {
      gw.log.warn({ source }, 'webhook refused: missing or wrong signature');
      fail(res, 401, 'UNAUTHENTICATED', 'missing or invalid X-C360-Signature');
      return true;
    }
    let parsed: WebhookBody;
    try {
      const result = body.safeParse(JSON.parse(raw.toString('utf8')));
      if (!result.success) {
        const issue = result.error.issues[0];
        fail(res, 400, 'BAD_REQUEST', `webhook body: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
        return true;
      }
      parsed = result.data;
    } catch {
      fail(res, 400, 'BAD_REQUEST', 'webhook body is not valid JSON');
      return true;
    }

    const ids = [...new Set(parsed.events.map((e) => e.recordId))];
    try {
      const fetched = await connector.scanRecords(ids);
      const now = new Date().toISOString();
      // The source's own answer decides, not the event's type: a record it no longer has is
      // deleted, one it still has is re-read as it is now (events may arrive out of order).
      const records: ScannedRecord[] = ids.map((id, i) => fetched[i] ?? { source, recordId: id, updatedAt: now, deleted: true, identifiers: [] });
      const stats = await resolveRecords({ store: gw.idmap, rules, records, lease: { waitMs: WEBHOOK_LEASE_WAIT_MS } });
      gw.log.info({ source, events: parsed.events.length, ms: stats.ms }, 'webhook applied');
      reply(res, 200, { applied: ids.length, customersCreated: stats.customersCreated, recordsLinked: stats.recordsLinked });
    } catch (e) {
      if (isSourceError(e)) {
        // The source could not be read back: the sender should retry later.
        fail(res, 503, e.code, `${source} could not be read to apply the notification`);
        return true;
      }
      if (e instanceof ResolutionBusyError) {
        // Another process (a full `c360 resolve`) holds the store; nothing was applied, so a
        // retry loses nothing, and that run's scan picks the change up in any case.
        res.setHeader('retry-after', '30');
        fail(res, 503, e.code, 'another identity resolution holds the OneID store; retry later');
        return true;
      }
      throw e;
    }
    return true;
  };
}
