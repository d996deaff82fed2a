/**
 * CORS with an allowlist of origins (config `server.cors.origins`; empty by default: no browser
 * app on another origin may call). An entry is an exact origin (`https://bi.example.com`), may
 * leave the port open (`http://localhost:*`) or allow the subdomains of one domain
 * (`https://*.example.com`). Preflights are answered here, before authentication: a browser
 * sends them without credentials.
 */
import type http from 'node:http';
import { appendVary } from './compress';

export interface CorsOptions {
  origins: readonly string[];
  /** How long a browser may cache a preflight answer. */
  maxAgeSeconds: number;
}

/** An allowlist entry as config accepts it: scheme, host (optionally `*.` before a domain), port or `*`. */
export const ORIGIN_PATTERN = /^https?:\/\/(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:(\d{1,5}|\*))?$/;

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** What a browser app may read from our responses besides the simple headers. */
const EXPOSED_HEADERS = 'x-request-id, retry-after, traceparent';
/** A requested header list: tokens and commas only (it is echoed back). */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

function compile(pattern: string): RegExp {
  const m = /^(https?:\/\/)(\*\.)?([^:]+)(?::(\d+|\*))?$/.exec(pattern);
  if (!m) throw new Error(`not an origin pattern: ${pattern}`);
  const [, scheme, anySub, host, port] = m;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const hostPart = `${anySub ? '(?:[A-Za-z0-9-]+\\.)+' : ''}${esc(host)}`;
  const portPart = port === '*' ? '(?::\\d{1,5})?' : port ? `:${port}` : '';
  return new RegExp(`^${esc(scheme)}${hostPart}${portPart}$`, 'i');
}

export interface Cors {
  isAllowed(origin: string | undefined): boolean;
  /** Answers an OPTIONS request (a preflight or a plain one); true when it did. */
  preflight(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** Sets the CORS headers of an actual request from an allowed origin. */
  decorate(req: http.IncomingMessage, res: http.ServerResponse): void;
}

export function createCors(opts: CorsOptions): Cors {
  const allow = opts.origins.map(compile);
  const isAllowed = (origin: string | undefined) => !!origin && allow.some((r) => r.test(origin));
  return {
    isAllowed,
    preflight(req, res) {
      if (req.method !== 'OPTIONS') return false;
      const origin = req.headers.origin;
      appendVary(res, 'Origin');
      if (!origin || !req.headers['access-control-request-method']) {
        res.writeHead(204, { allow: ALLOWED_METHODS });
        res.end();
        return true;
      }
      if (!isAllowed(origin)) {
        const body = JSON.stringify({ errors: [{ message: 'origin not allowed', extensions: { code: 'FORBIDDEN_ORIGIN' } }] });
        res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return true;
      }
      const requested = req.headers['access-control-request-headers'];
      res.writeHead(204, {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': ALLOWED_METHODS,
        ...(requested && HEADER_LIST.test(requested) ? { 'access-control-allow-headers': requested } : {}),
        'access-control-max-age': String(opts.maxAgeSeconds),
      });
      res.end();
      return true;
    },
    decorate(req, res) {
      const origin = req.headers.origin;
      if (!origin) return;
      appendVary(res, 'Origin');
      if (!isAllowed(origin)) return;
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    },
  };
}
