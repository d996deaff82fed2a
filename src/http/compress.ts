/**
 * Response compression: gzip or Brotli (node:zlib, streamed to the socket) when the client
 * accepts it and the body is at least `minBytes`; smaller bodies go out as they are, where
 * compression would cost more than it saves. Brotli runs at a middle quality: at its default
 * (11) a 1,000-customer answer would spend longer compressing than sending.
 */
import type http from 'node:http';
import zlib from 'node:zlib';

export type Encoding = 'br' | 'gzip';

export interface CompressionOptions {
  /** Bodies smaller than this are sent uncompressed. */
  minBytes: number;
}

/** Brotli quality for dynamic responses (0–11). */
const BROTLI_QUALITY = 5;

/** The encoding to use for a request's `accept-encoding`, preferring Brotli; null: send as is. */
export function chooseEncoding(acceptEncoding: string | string[] | undefined): Encoding | null {
  if (!acceptEncoding) return null;
  const q = new Map<string, number>();
  for (const part of String(acceptEncoding).split(',')) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    if (token) q.set(token, Number.isFinite(value) ? value : 0);
  }
  const weight = (e: Encoding) => q.get(e) ?? q.get('*') ?? 0;
  const br = weight('br');
  const gzip = weight('gzip');
  if (br > 0 && br >= gzip) return 'br';
  if (gzip > 0) return 'gzip';
  return null;
}

/** Adds `value` to the response's Vary header once. */
export function appendVary(res: http.ServerResponse, value: string): void {
  const current = res.getHeader('vary');
  if (current === undefined) return void res.setHeader('vary', value);
  const list = current
    ? String(current)
        .split(',')
        .map((v) => v.trim())
    : [];
  if (!list.some((v) => v.toLowerCase() === value.toLowerCase())) res.setHeader('vary', [...list, value].join(', '));
}

function compressor(encoding: Encoding): zlib.Gzip | zlib.BrotliCompress {
  return encoding === 'br' ? zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } }) : zlib.createGzip();
}

/**
 * Writes a whole response body, compressed when the request accepts it and the body is large
 * enough. Headers already set on `res` (CORS, request id) are kept.
 */
export function sendBody(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
  opts: CompressionOptions,
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  appendVary(res, 'Accept-Encoding');
  const encoding = bytes.length >= opts.minBytes && req.method !== 'HEAD' ? chooseEncoding(req.headers['accept-encoding']) : null;
  if (!encoding) {
    res.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
    res.end(req.method === 'HEAD' ? undefined : bytes);
    return;
  }
  const { 'content-length': _length, ...rest } = headers;
  res.writeHead(status, { ...rest, 'content-encoding': encoding });
  const z = compressor(encoding);
  // A client that goes away mid-body ends the stream; nothing else is listening for its error.
  z.on('error', () => res.destroy());
  z.pipe(res);
  z.end(bytes);
}

/** A body compressed once and kept (static assets): one per encoding, made on first request. */
export function precompressed(body: Buffer): (encoding: Encoding) => Promise<Buffer> {
  const made = new Map<Encoding, Promise<Buffer>>();
  return (encoding) => {
    let p = made.get(encoding);
    if (!p) {
      p = new Promise<Buffer>((resolve, reject) =>
        encoding === 'br'
          ? zlib.brotliCompress(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9 } }, (e, out) => (e ? reject(e) : resolve(out)))
          : zlib.gzip(body, { level: 9 }, (e, out) => (e ? reject(e) : resolve(out))),
      );
      made.set(encoding, p);
    }
    return p;
  };
}
