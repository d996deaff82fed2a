/**
 * An HTTP pass-through on 127.0.0.1 in front of a stand-in: each request is noted, then sent on
 * as it came and answered as the stand-in answers it. Tests read what reached the system (paths,
 * headers) without touching the gateway's HTTP layer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PassThrough {
  url: string;
  close(): Promise<void>;
}

/** `target()` is read per request: the stand-in's URL may be known only once the world's config is made. */
export async function startPassThrough(target: () => string, onRequest: (req: http.IncomingMessage) => void): Promise<PassThrough> {
  const server = http.createServer((req, res) => {
    onRequest(req);
    const upstream = http.request(`${target()}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
