/**
 * The self-hosted IDE: GraphiQL from the files its npm package ships (with the React UMD builds
 * it runs on, and graphql-sse's client for subscriptions), read once at start-up and served by the
 * gateway itself. Nothing is fetched from a
 * CDN and nothing reports anywhere, so the IDE works on a machine without internet.
 *
 * Assets are served under /ide/ by content hash (`/ide/graphiql.3f2a9c1e.js`): a new version of a
 * file is a new URL, so each may be cached for a year. The page itself is never cached and
 * carries a Content-Security-Policy that allows scripts, styles and requests to this origin only.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type http from 'node:http';
import { appendVary, chooseEncoding, precompressed, sendBody, type CompressionOptions } from '../http/compress';

/** Where the page and its assets live; `/graphql` answers the page too (for a browser). */
export const IDE_PREFIX = '/ide/';

export interface IdeOptions {
  /** The GraphQL endpoint the page calls (same origin). */
  endpoint: string;
  /** Where the page sends subscriptions (GraphQL over SSE, same origin). */
  streamEndpoint: string;
  /** A short note shown above the IDE (the demo's keys); absent outside demo mode. */
  hint?: string;
  /** The query the editor starts with. */
  defaultQuery?: string;
}

export interface IdeAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

export interface Ide {
  /** The HTML page. */
  page: { body: Buffer; headers: Record<string, string> };
  /** Assets by URL path (`/ide/graphiql.<hash>.js`). */
  assets: ReadonlyMap<string, IdeAsset>;
}

/** A file inside an installed package (its `exports` do not list the UMD builds, so resolve from its folder). */
const inPackage = (pkg: string, file: string) => () => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);

/** The files the page loads, from the packages that ship them (and this folder's boot script). */
const FILES: Array<{ name: string; ext: string; from: () => string; contentType: string }> = [
  { name: 'react', ext: 'js', from: inPackage('react', 'umd/react.production.min.js'), contentType: 'text/javascript; charset=utf-8' },
  { name: 'react-dom', ext: 'js', from: inPackage('react-dom', 'umd/react-dom.production.min.js'), contentType: 'text/javascript; charset=utf-8' },
  { name: 'graphiql', ext: 'js', from: inPackage('graphiql', 'dist/index.umd.js'), contentType: 'text/javascript; charset=utf-8' },
  { name: 'graphiql', ext: 'css', from: inPackage('graphiql', 'dist/style.css'), contentType: 'text/css; charset=utf-8' },
  { name: 'graphql-sse', ext: 'js', from: inPackage('graphql-sse', 'umd/graphql-sse.min.js'), contentType: 'text/javascript; charset=utf-8' },
  { name: 'boot', ext: 'js', from: () => path.join(__dirname, 'boot.js'), contentType: 'text/javascript; charset=utf-8' },
];

export const IDE_ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // GraphiQL sets inline styles on its panes; its fonts are data: URLs inside its stylesheet.
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON inside a <script> block: `<` escaped so no value can close the block. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/** Reads the assets (a missing package fails here, at start-up) and renders the page. */
export function createIde(opts: IdeOptions): Ide {
  const assets = new Map<string, IdeAsset>();
  const urls: Record<string, string> = {};
  for (const f of FILES) {
    const body = fs.readFileSync(f.from());
    const hash = crypto.createHash('sha256').update(body).digest('hex').slice(0, 12);
    const url = `${IDE_PREFIX}${f.name}.${hash}.${f.ext}`;
    assets.set(url, { body, contentType: f.contentType, etag: `"${hash}"` });
    urls[`${f.name}.${f.ext}`] = url;
  }
  const settings = {
    endpoint: opts.endpoint,
    streamEndpoint: opts.streamEndpoint,
    headers: '{"X-Api-Key": ""}',
    query:
      opts.defaultQuery ??
      '# Put your API key in the Headers tab below: the schema of its role loads (completion, docs).\n# Then run a query with Ctrl-Enter.\n{\n  __typename\n}\n',
  };
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>c360 GraphiQL</title>
<link rel="stylesheet" href="${urls['graphiql.css']}">
<style>
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; }
#c360-hint { padding: 6px 12px; font: 13px/1.4 system-ui, sans-serif; background: #fff8dc; border-bottom: 1px solid #e6d9a8; }
#c360-hint code { font-family: ui-monospace, monospace; }
#graphiql { flex: 1; min-height: 0; }
</style>
</head>
<body>
${opts.hint ? `<div id="c360-hint">${escapeHtml(opts.hint).replace(/`([^`]+)`/g, '<code>$1</code>')}</div>\n` : ''}<div id="graphiql">Loading the IDE…</div>
<script id="c360-ide-settings" type="application/json">${scriptJson(settings)}</script>
<script src="${urls['react.js']}"></script>
<script src="${urls['react-dom.js']}"></script>
<script src="${urls['graphiql.js']}"></script>
<script src="${urls['graphql-sse.js']}"></script>
<script src="${urls['boot.js']}"></script>
</body>
</html>
`;
  return {
    page: {
      body: Buffer.from(html),
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      },
    },
    assets,
  };
}

/**
 * The IDE's routes: the page at /ide/ and at GET /graphql from a browser (no query string, HTML
 * accepted), the assets under /ide/. Answers true when it handled the request.
 */
export function ideRoute(ide: Ide, compression: CompressionOptions) {
  const compressed = new Map([...ide.assets].map(([url, a]) => [url, precompressed(a.body)]));
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const wantsPage =
      url.pathname === IDE_PREFIX || url.pathname === '/ide' || (url.pathname === '/graphql' && !url.search && (req.headers.accept ?? '').includes('text/html'));
    if (wantsPage) {
      // GET /graphql answers a browser with this page and any other client with JSON: a cache must keep them apart.
      if (url.pathname === '/graphql') appendVary(res, 'Accept');
      sendBody(req, res, 200, ide.page.headers, ide.page.body, compression);
      return true;
    }
    if (!url.pathname.startsWith(IDE_PREFIX)) return false;
    const asset = ide.assets.get(url.pathname);
    // Not handled: the server answers it as any unknown path, a coded NOT_FOUND.
    if (!asset) return false;
    const headers: Record<string, string> = {
      'content-type': asset.contentType,
      'cache-control': IDE_ASSET_CACHE_CONTROL,
      etag: asset.etag,
      'x-content-type-options': 'nosniff',
    };
    appendVary(res, 'Accept-Encoding');
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const encoding = chooseEncoding(req.headers['accept-encoding']);
    const body = encoding ? await compressed.get(url.pathname)!(encoding) : asset.body;
    res.writeHead(200, { ...headers, ...(encoding ? { 'content-encoding': encoding } : {}), 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
