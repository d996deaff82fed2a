/**
 * Failed logins per client address: the per-principal limits (rate-limit.ts) start only once a
 * caller has authenticated, so guesses at API keys or tokens were never limited at all. Each request
 * that presents credentials (`X-Api-Key`, `Authorization`) and is refused costs its address one
 * token of a bucket holding `perMinute`, refilled continuously; an address with no token left has
 * its credentials refused unchecked (HTTP 429 RATE_LIMITED, `Retry-After`) until one has grown back,
 * so a guesser gets `perMinute` guesses a minute, however fast it sends them. Requests without
 * credentials and valid ones cost nothing, and other addresses are never affected: a valid
 * principal is refused only while its own address is over the limit.
 *
 * The address is the connection's peer, or, behind `trustedProxies` reverse proxies, the one the
 * nearest of them saw (the `trustedProxies`-th `X-Forwarded-For` entry from the right; entries
 * further left are the client's own word and are not believed). Without that setting, every caller
 * behind one load balancer shares its address and so its budget.
 *
 * A budget belongs to an IPv4 address, or to an IPv6 /64 (`addressKey`): one subscriber or host is
 * given a whole /64 (RFC 6177; SLAAC and privacy addresses pick any of its 2^64), so counting full
 * IPv6 addresses gave anyone with one a fresh budget per guess. An IPv4-mapped address
 * (`::ffff:192.0.2.1`, how a dual-stack listener sees IPv4 peers) is that IPv4 address.
 *
 * Memory stays bounded: an address whose bucket is full again is exactly like one never seen and is
 * forgotten (swept once a minute); beyond `maxAddresses` the least recently seen go first.
 * Addresses are personal data: they are held in memory only, never logged.
 */
import type http from 'node:http';
import net from 'node:net';

export interface FailedLoginOptions {
  /** Refused credentials an address may present per minute (its bucket's size); 0 turns the limit off. */
  perMinute: number;
  /** Reverse proxies in front of the gateway whose `X-Forwarded-For` entry is believed (default 0). */
  trustedProxies?: number;
  /** Most addresses remembered (default 10,000). */
  maxAddresses?: number;
  /** Milliseconds on a monotonic clock (tests may pass their own). */
  now?: () => number;
  /** Told when an address is first refused after a time within the limit (for a log line without the address). */
  onLimited?: (retryAfterSeconds: number) => void;
}

export interface FailedLoginRefusal {
  limit: 'failedLoginsPerMinute';
  max: number;
  retryAfterSeconds: number;
  message: string;
}

export interface FailedLogins {
  /** A refusal when this request presents credentials from an address with no failed login left, else undefined. */
  refusal(req: http.IncomingMessage): FailedLoginRefusal | undefined;
  /** Counts one refused credential against the request's address (one that presented none costs nothing). */
  failed(req: http.IncomingMessage): void;
  /** Addresses remembered now. */
  size(): number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** Whether its last request was refused here (onLimited is told once per spell). */
  limited: boolean;
}

const SWEEP_EVERY_MS = 60_000;

/** Whether the request carries credentials of either kind: only those can be guesses. */
export const presentsCredentials = (req: http.IncomingMessage): boolean => req.headers['x-api-key'] !== undefined || req.headers.authorization !== undefined;

/** The client's address: the peer's, or the one the nearest of `trustedProxies` proxies saw. */
export function clientAddress(req: http.IncomingMessage, trustedProxies = 0): string {
  const peer = req.socket.remoteAddress ?? '';
  if (trustedProxies <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // The last entry was added by the proxy next to us, about its own peer; n trusted proxies vouch for the last n.
  return hops[hops.length - trustedProxies] ?? hops[0] ?? peer;
}

/**
 * The 8 groups of an IPv6 address (which net.isIPv6 accepted, zone removed), a trailing dotted
 * IPv4 part read as the last two.
 */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  return tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * What a budget is kept under for a client's address: an IPv4 address as written, an IPv4-mapped
 * IPv6 one as its IPv4 address, any other IPv6 one as its /64 (`2001:db8:1:2::/64`). A port or
 * brackets a proxy wrote beside the address (`[2001:db8::1]:443`, `192.0.2.1:5678`) and an IPv6
 * zone (`fe80::1%eth0`) are left out; anything that is no IP address is kept as given.
 */
export function addressKey(address: string): string {
  let a = address.trim();
  a = /^\[([^\]]+)\](?::\d+)?$/.exec(a)?.[1] ?? /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(a)?.[1] ?? a;
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (!net.isIPv6(a)) return a;
  const g = ipv6Groups(a);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return [g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255].join('.');
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

export function createFailedLogins(opts: FailedLoginOptions): FailedLogins {
  const { perMinute } = opts;
  const maxAddresses = opts.maxAddresses ?? 10_000;
  const now = opts.now ?? (() => performance.now());
  const rate = perMinute / 60_000; // tokens per ms
  /** Insertion order is recency. */
  const buckets = new Map<string, Bucket>();
  let lastSweep = now();

  const refill = (b: Bucket, t: number) => {
    b.tokens = Math.min(perMinute, b.tokens + (t - b.updatedAt) * rate);
    b.updatedAt = t;
  };
  const sweep = (t: number) => {
    lastSweep = t;
    for (const [k, b] of buckets) {
      refill(b, t);
      if (b.tokens >= perMinute) buckets.delete(k);
    }
    for (const k of buckets.keys()) {
      if (buckets.size <= Math.floor(maxAddresses * 0.9)) break;
      buckets.delete(k);
    }
  };
  const bucketOf = (req: http.IncomingMessage, t: number, create: boolean): Bucket | undefined => {
    if (t - lastSweep >= SWEEP_EVERY_MS || buckets.size >= maxAddresses) sweep(t);
    const key = addressKey(clientAddress(req, opts.trustedProxies));
    let b = buckets.get(key);
    if (b) {
      buckets.delete(key);
      refill(b, t);
    } else if (create) b = { tokens: perMinute, updatedAt: t, limited: false };
    else return undefined;
    buckets.set(key, b);
    return b;
  };

  return {
    size: () => buckets.size,
    refusal(req) {
      if (perMinute === 0 || !presentsCredentials(req)) return undefined;
      const t = now();
      const b = bucketOf(req, t, false);
      if (!b || b.tokens >= 1) {
        if (b) b.limited = false;
        return undefined;
      }
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
      if (!b.limited) opts.onLimited?.(retryAfterSeconds);
      b.limited = true;
      return {
        limit: 'failedLoginsPerMinute',
        max: perMinute,
        retryAfterSeconds,
        message: `Too many failed logins from this address: ${perMinute} a minute are allowed; retry in ${retryAfterSeconds} s`,
      };
    },
    failed(req) {
      if (perMinute === 0 || !presentsCredentials(req)) return;
      const b = bucketOf(req, now(), true)!;
      b.tokens = Math.max(0, b.tokens - 1);
    },
  };
}
