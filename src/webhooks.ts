/**
 * Change notifications from the source systems: `POST /webhooks/:source`.
 *
 *   X-C360-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>", keyed with that source's secret>
 *   { "events": [ { "id": "evt_1", "type": "created" | "updated" | "deleted", "recordId": "C0000042" }, … ] }   (≤ 100 events)
 *
 * A valid notification re-reads the named records through the source's connector and
 * re-resolves them at once (no scan), answering 200 when OneID is current. A missing or wrong
 * signature, or one whose timestamp is more than WEBHOOK_TOLERANCE_SECONDS from this host's
 * clock, answers 401 and changes nothing; a malformed body 400; a source with no configured
 * secret has no webhook (404). Secrets come from the environment via config (`sources[].webhookSecret`).
 *
 * Replays: the timestamp is signed with the body, so a captured request is refused once the
 * tolerance has passed; within it, event ids make a second delivery a no-op (an id already
 * applied for that source is skipped and counted in `duplicates`; one a racing delivery is still
 * applying is answered 409 EVENT_IN_PROGRESS, to be retried). Each id is claimed in OneID before
 * anything is applied, one insert under a unique key (`idmap/webhook-events.ts`), marked applied
 * after, and given back if the delivery then fails; claims are kept for
 * WEBHOOK_EVENT_RETENTION_MS, far longer than the tolerance.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { z } from 'zod';
import type { Gateway } from './gateway';
import { loadIdentityRules, resolveRecords, ResolutionBusyError } from './idmap';
import { claimEvents, markEventsApplied, pruneWebhookEvents, releaseEvents, type Claim } from './idmap/webhook-events';
import type { ScannedRecord } from './vocabulary';
import { isSourceError, ONEID_RETRY_AFTER_SECONDS, SourceError } from './errors';
import { withDeadline } from './idmap/guarded';
import { createRepeatFilter } from './observability/repeats';
import { safeError } from './observability/scrub';

export const MAX_WEBHOOK_EVENTS = 100;
/**
 * The largest body a notification may have: MAX_WEBHOOK_EVENTS events with ids and record ids of
 * the longest allowed length take about 30 KB. Anyone may post here and every body is read and
 * HMAC'd before its sender is known, so the limit is this, not the 1 MiB a GraphQL request may send.
 */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024;
/**
 * How far a signature's timestamp may be from this host's clock, either way, in seconds (as
 * Stripe's default). Long enough for clock skew and a sender's network, short enough that a
 * captured request is soon useless; inside it, event ids stop replays.
 */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
/** How long applied event ids are remembered: a sender retrying for longer than this is re-applied (harmless: resolution is idempotent). */
export const WEBHOOK_EVENT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Ids past the retention are pruned on the first notification and then once every this many. */
export const WEBHOOK_PRUNE_EVERY = 100;
/**
 * How long a notification waits for a resolution another process is running on the store (a
 * `c360 resolve` job) before answering 503: senders time out long before a full scan ends.
 */
export const WEBHOOK_LEASE_WAIT_MS = 5000;
/**
 * A claim neither applied nor given back after this long is taken over by the next delivery: its
 * delivery died, or could not give it back. Far longer than a delivery takes (its source reads and
 * OneID steps each have their own deadlines), so a live one is never overtaken.
 */
export const WEBHOOK_CLAIM_STALE_MS = 5 * 60_000;
/** What a delivery of events another one is applying is told to wait before retrying. */
export const WEBHOOK_IN_PROGRESS_RETRY_SECONDS = 5;

const body = z
  .object({
    events: z
      .array(
        z
          .object({
            id: z.string().min(1).max(128),
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

const v1Of = (secret: string, t: string, rawBody: Buffer | string) => crypto.createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();

/**
 * The signature header value for a body sent at `t` (unix seconds, default now): what a source
 * sends, and what tests compute. During a secret rotation a sender may add a `v1=` entry per
 * secret (`t=…,v1=<old>,v1=<new>`); any one that matches is enough.
 */
export function signWebhook(secret: string, rawBody: Buffer | string, t: number = Math.floor(Date.now() / 1000)): string {
  const ts = String(Math.trunc(t));
  return `t=${ts},v1=${v1Of(secret, ts, rawBody).toString('hex')}`;
}

/** A body's text, refused rather than guessed at when it is not UTF-8; a byte order mark is not skipped (JSON has none). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` against the body: each v1 compared in constant
 * time with the HMAC of "<t>.<body>", then the timestamp against the tolerance (a stale but
 * genuine signature gets the clearer message; a forged one learns nothing from it). Entries of
 * other schemes are ignored, so senders can add one later; so is a v1 entry that is not 64 hex
 * digits, so that one bad entry during a rotation does not refuse the others. At least one
 * well-formed v1 must be given.
 */
function verifySignature(secret: string, rawBody: Buffer, header: string | undefined, nowSeconds: number): Verdict {
  if (!header) return { ok: false, reason: 'missing X-C360-Signature' };
  if (/^sha256=/i.test(header)) return { ok: false, reason: 'the sha256= signature form is no longer accepted: send t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>">' };
  const invalid: Verdict = { ok: false, reason: 'invalid X-C360-Signature: expected t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">' };
  if (header.length > 1024) return invalid;
  let t: string | undefined;
  const given: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return invalid;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return invalid;
      t = value;
    } else if (key === 'v1') {
      // A malformed entry (a truncated or mistyped value of one secret) is skipped: another v1 may still match.
      if (/^[0-9a-f]{64}$/i.test(value)) given.push(Buffer.from(value, 'hex'));
    }
  }
  if (t === undefined || given.length === 0) return invalid;
  const expected = v1Of(secret, t, rawBody);
  let matched = false;
  for (const g of given) matched = crypto.timingSafeEqual(g, expected) || matched;
  if (!matched) return { ok: false, reason: 'X-C360-Signature does not match the body and timestamp' };
  if (Math.abs(nowSeconds - Number(t)) > WEBHOOK_TOLERANCE_SECONDS) {
    return { ok: false, reason: `X-C360-Signature timestamp is outside the tolerance of ${WEBHOOK_TOLERANCE_SECONDS} s from the gateway's clock` };
  }
  return { ok: true };
}

function reply(res: http.ServerResponse, status: number, payload: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(payload));
}

const fail = (res: http.ServerResponse, status: number, code: string, message: string) => reply(res, status, { error: { code, message } });

/** The route for ServerHooks: handles /webhooks/* and leaves every other path alone. */
export function webhookRoute(gw: Gateway) {
  const rules = loadIdentityRules(gw.config.identity.rulesFile);
  let notifications = 0;
  const repeats = createRepeatFilter();
  const refusedSignatures = createRepeatFilter();
  /** A OneID step of a notification, within the deadline for changes made on request (none on SQLite: it runs in-process). */
  const oneid = <T>(p: Promise<T>): Promise<T> => (gw.oneidWriteTimeoutMs ? withDeadline(p, gw.oneidWriteTimeoutMs) : p);
  // Bounded (one call deletes about a thousand rows) and never fatal: ids left over are only
  // kept longer, and the next pruning takes them.
  const prune = async () => {
    try {
      await pruneWebhookEvents(gw.oneidDb, new Date(Date.now() - WEBHOOK_EVENT_RETENTION_MS).toISOString());
    } catch (e) {
      gw.log.warn({ err: safeError(e) }, 'webhook event ids could not be pruned');
    }
  };
  /** Claims a body's event ids (src/idmap/webhook-events.ts): those this delivery may apply, those applied before, those another delivery is applying. */
  const claim = async (source: string, eventIds: readonly string[]): Promise<Claim> => {
    const now = Date.now();
    const claiming = claimEvents(gw.oneidDb, source, eventIds, new Date(now).toISOString(), new Date(now - WEBHOOK_CLAIM_STALE_MS).toISOString());
    try {
      return await oneid(claiming);
    } catch (e) {
      // Cut off by the deadline, the claim may still land: what it claims then is given back, so the retry applies it.
      claiming.then((late) => release(source, late.claimed)).catch(() => undefined);
      throw e;
    }
  };
  /** Gives back the ids of a delivery that failed. Never fatal: ids it cannot give back are answered EVENT_IN_PROGRESS until their claim is stale (WEBHOOK_CLAIM_STALE_MS), then taken over. */
  const release = async (source: string, eventIds: ReadonlySet<string>) => {
    try {
      await oneid(releaseEvents(gw.oneidDb, source, [...eventIds]));
    } catch (e) {
      gw.log.warn({ source, events: eventIds.size, err: safeError(e) }, 'webhook event ids of a failed notification could not be given back');
    }
  };
  /** `requestId` (the response's `x-request-id`) is on every line a notification logs: the sender's delivery log names it. */
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, readBody: (maxBytes: number) => Promise<Buffer>, requestId?: string): Promise<boolean> => {
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
      res.setHeader('allow', 'POST');
      fail(res, 405, 'BAD_REQUEST', 'use POST');
      return true;
    }
    const raw = await readBody(WEBHOOK_MAX_BODY_BYTES);
    const signature = req.headers['x-c360-signature'];
    const verdict = verifySignature(secret, raw, Array.isArray(signature) ? signature[0] : signature, Math.floor(Date.now() / 1000));
    if (!verdict.ok) {
      // The endpoint answers anyone: a flood of unsigned posts is one line per source and reason every 10 s, with how many were held back.
      const { log, suppressed } = refusedSignatures.admit(`${source} ${verdict.reason}`);
      if (log) gw.log.warn({ requestId, source, reason: verdict.reason, ...(suppressed ? { suppressed } : {}) }, 'webhook refused: signature');
      fail(res, 401, 'UNAUTHENTICATED', verdict.reason);
      return true;
    }
    let parsed: WebhookBody;
    let text: string;
    try {
      text = UTF8.decode(raw);
    } catch {
      // Decoded leniently, two ids differing only in bytes that are not UTF-8 (`evt-\xfe`, `evt-\xff`)
      // became one (`evt-\ufffd`), and the second event was answered a duplicate and never applied.
      fail(res, 400, 'BAD_REQUEST', 'webhook body is not UTF-8: send JSON encoded in UTF-8 (RFC 8259), without a byte order mark');
      return true;
    }
    try {
      const result = body.safeParse(JSON.parse(text));
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

    let claimed: Set<string> | undefined;
    try {
      const found = await claim(
        source,
        parsed.events.map((e) => e.id),
      );
      claimed = found.claimed;
      if (found.inProgress.size) {
        // Another delivery is applying some of these events and may yet fail: answered "duplicate",
        // this sender would never send them again. Nothing of this one is applied; its retry is.
        const held = claimed;
        claimed = undefined;
        await release(source, held);
        res.setHeader('retry-after', String(WEBHOOK_IN_PROGRESS_RETRY_SECONDS));
        fail(res, 409, 'EVENT_IN_PROGRESS', `${found.inProgress.size} of these events are being applied by another delivery; retry later`);
        return true;
      }
      // An id applied before, or repeated within this body, is a duplicate: skipped, counted.
      const fresh: WebhookBody['events'] = [];
      const taken = new Set<string>();
      for (const e of parsed.events) {
        if (!claimed.has(e.id) || taken.has(e.id)) continue;
        taken.add(e.id);
        fresh.push(e);
      }
      const duplicates = parsed.events.length - fresh.length;
      if (fresh.length === 0) {
        gw.log.info({ requestId, source, duplicates }, 'webhook skipped: every event already applied');
        reply(res, 200, { applied: 0, duplicates, customersCreated: 0, recordsLinked: 0 });
        return true;
      }

      const ids = [...new Set(fresh.map((e) => e.recordId))];
      const fetched = await connector.scanRecords(ids);
      const now = new Date().toISOString();
      // The source's own answer decides, not the event's type: a record it no longer has is
      // deleted, one it still has is re-read as it is now (events may arrive out of order). One it
      // has but that cannot be read (no readable last-update time) is left as OneID holds it, never
      // taken for deleted, and counted as a request counts a malformed record.
      const records: ScannedRecord[] = [];
      let malformed = 0;
      ids.forEach((id, i) => {
        const r = fetched[i];
        if (r instanceof SourceError) malformed++;
        else records.push(r ?? { source, recordId: id, updatedAt: now, deleted: true, identifiers: [] });
      });
      if (malformed) gw.metrics.observeMalformed(source, malformed);
      const stats = await oneid(resolveRecords({ store: gw.idmap, rules, records, lease: { waitMs: WEBHOOK_LEASE_WAIT_MS } }));
      const applied = claimed;
      claimed = undefined; // applied: nothing to give back from here on
      try {
        await oneid(markEventsApplied(gw.oneidDb, source, [...applied]));
      } catch (e) {
        // Applied but not marked: a retry is told to come back until the claim is stale, then applies them again (resolution is idempotent).
        gw.log.warn({ requestId, source, events: applied.size, err: safeError(e) }, 'webhook event ids applied but not recorded as applied');
      }
      if (notifications++ % WEBHOOK_PRUNE_EVERY === 0) await prune();
      if (malformed)
        gw.log.warn(
          { requestId, source, events: fresh.length, duplicates, malformed, ms: stats.ms },
          'webhook applied: records the source answered could not be read; left as they were (fix them in the source; their next notification reads them again)',
        );
      else gw.log.info({ requestId, source, events: fresh.length, duplicates, ms: stats.ms }, 'webhook applied');
      reply(res, 200, {
        applied: fresh.length,
        duplicates,
        customersCreated: stats.customersCreated,
        recordsLinked: stats.recordsLinked,
        ...(malformed ? { malformed } : {}),
      });
    } catch (e) {
      // Nothing of this notification counts as applied: its retry claims the ids again and applies them in full.
      if (claimed?.size) await release(source, claimed);
      if (isSourceError(e)) {
        // The source could not be read back: the sender should retry later. Logged by its code (its
        // message may quote the source's answer), or the operator sees only the sender's retries.
        gw.log.warn({ requestId, source, code: e.code }, 'webhook not applied: the source could not be read back');
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
      // The store failed or did not answer in time. What was not recorded as applied is applied
      // again on the sender's retry (resolution is idempotent), so nothing is lost.
      const err = safeError(e);
      const { log, suppressed } = repeats.admit(`${err.name}|${err.code ?? ''}|${err.message}`);
      if (log) gw.log.error({ requestId, err, source, ...(suppressed ? { repeatedSinceLastLog: suppressed } : {}) }, 'webhook not applied: OneID store unavailable');
      res.setHeader('retry-after', String(ONEID_RETRY_AFTER_SECONDS));
      fail(res, 503, 'ONEID_UNAVAILABLE', 'the identity store (OneID) is unavailable; retry later');
    }
    return true;
  };
}
