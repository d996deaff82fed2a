/**
 * An HTTP pass-through on 127.0.0.1 in front of a stand-in: each request is noted, then sent on
 * as it came and answered as the stand-in answers it. Tests read what reached the system (paths,
 * headers) without touching the gateway's HTTP layer. Given `refuse`, a request it names a status
 * for is answered that status (a JSON error body, as the stand-ins' own faults answer) instead of
 * reaching the stand-in: a system failing some calls and answering the others.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PassThrough {
  url: string;
  close(): Promise<void>;
}

/** What `refuse` reads of a request: its path and query as sent, and its body as text. */
export interface SeenRequest {
  url: URL;
  body: string;
}

/** `target()` is read per request: the stand-in's URL may be known only once the world's config is made. */
export async function startPassThrough(
  target: () => string,
  onRequest: (req: http.IncomingMessage) => void,
  refuse?: (req: SeenRequest) => number | null,
): Promise<PassThrough> {
  const server = http.createServer((req, res) => {
    onRequest(req);
    const forward = (body?: Buffer) => {
      const upstream = http.request(`${target()}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      if (body) upstream.end(body);
      else req.pipe(upstream);
    };
    if (!refuse) return forward();
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const status = refuse({ url: new URL(req.url ?? '/', 'http://127.0.0.1'), body: body.toString('utf8') });
      if (status === null) return forward(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'InjectedFault', description: `injected status ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Kept-alive connections from the gateway's pool would hold close() open.
        server.closeAllConnections();
      }),
  };
}
