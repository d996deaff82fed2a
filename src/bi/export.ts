/**
 * Exports: `GET /export/customers.ndjson` and `GET /export/customers.csv`.
 *
 *   ?segment=<name> | ?filter=<JSON filter>   which customers (none: every customer you may see)
 *   &fields=id,memberTier,orderSummary.lifetimeValue.amount   Customer fields, dotted paths (default id)
 *   &after=<cursor>   resume after the row that carried this cursor (every row carries its `_cursor`)
 *   &orderBy=ID_ASC | LIFETIME_VALUE_DESC | LIFETIME_VALUE_ASC | ORDER_COUNT_… | LAST_ORDER_AT_… (_DESC, _ASC)
 *
 * Each page is an ordinary GraphQL operation (`customersConnection` with the fields asked) run
 * by the caller's role's Apollo Server: the same schema (a field the role cannot select is the
 * same validation error), masking, row scope, limits and PII audit as any query, by
 * construction. The filter is planned once per export; the next page is computed while one is
 * written, and no further one until the client (or the gzip stream) has drained it, so an export
 * of any size holds at most two pages of rows in memory. Gzip when the client accepts it.
 *
 * Errors before the first row are answered as JSON errors with a status; a failure after rows
 * went out ends the stream with a last line/row saying so (the client resumes from the last cursor).
 * An export that went to its end says so in its last line, with its row count and the parameters
 * asked (`endNote`): a file with neither was cut short on the way.
 */
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type http from 'node:http';
import zlib from 'node:zlib';
import type { Writable } from 'node:stream';
import type { Gateway } from '../gateway';
import { createContext, type ListEvaluations, type Viewer } from '../context';
import { rateLimitedResponse, type Admission } from '../access/rate-limit';
import { safeError } from '../observability/scrub';
import { abortOnClientGone } from '../errors';
import { isCustomerOrder, VALUE_ORDERS } from './connection';

const ROUTE = /^\/export\/customers\.(ndjson|csv)$/;
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,4}$/;
const MAX_FIELDS = 100;
/**
 * Customers per page (each an operation of the role's Apollo Server), within the role's page
 * limit. Small on purpose: a page's loaded records and golden decisions live until it is
 * written, and at 500 they outlived the young generation, so the export spent its time copying
 * them into the old one and the heap grew with it (bench:bi, 5,000 people: 500 a page 1,901
 * customers/s and 337 MiB peak RSS; 100 a page 2,565/s and 226 MiB; 50 a page 2,200/s).
 */
export const EXPORT_PAGE = 100;
/** What a client is told to wait when the server's exports are all taken (each runs for seconds to minutes). */
const EXPORTS_BUSY_RETRY_SECONDS = 5;

interface Tree {
  [field: string]: Tree;
}

class ExportError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** `a,b.c,b.d` → the selection `a b { c d }`. */
function selectionOf(paths: string[]): string {
  const tree: Tree = {};
  for (const p of paths) {
    let t = tree;
    for (const part of p.split('.')) t = t[part] ??= {};
  }
  const print = (t: Tree): string =>
    Object.entries(t)
      .map(([k, sub]) => (Object.keys(sub).length ? `${k} { ${print(sub)} }` : k))
      .join(' ');
  return print(tree);
}

/** The value at a dotted path (split); lists of objects give the list of their values. */
function valueAt(node: unknown, path: readonly string[]): unknown {
  let v: unknown = node;
  for (const part of path) {
    if (v === null || v === undefined) return null;
    v = Array.isArray(v) ? v.map((x) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[part] : null)) : (v as Record<string, unknown>)[part];
  }
  return v ?? null;
}

/**
 * One CSV cell. A text a spreadsheet would run as a formula (starting with =, +, -, @, a tab or
 * a carriage return) gets a leading `'` and is quoted (OWASP CSV injection): quoting alone does
 * not stop Excel. A signed number runs nothing and is left as is: a decimal (`-12.50`, a
 * refund-heavy lifetime value) and an E.164 phone (`+8613800138000`), which a BI tool must
 * read back as it was exported.
 */
function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  const formula = /^[=+\-@\t\r]/.test(s) && !/^[+-]\d+(\.\d+)?$/.test(s);
  if (formula) s = `'${s}`;
  return formula || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A row's text from its cursor and node. Every customer of an export goes through here, so the
 * field paths are split and the NDJSON keys quoted once per export, and a line is written
 * straight from the values (no per-row object, entry arrays or copies for JSON.stringify).
 */
export function rowWriter(format: 'ndjson' | 'csv', fields: readonly string[]): (cursor: string, node: unknown) => string {
  const paths = fields.map((f) => f.split('.'));
  if (format === 'csv')
    return (cursor, node) => {
      let line = csvCell(cursor);
      for (const p of paths) line += ',' + csvCell(valueAt(node, p));
      return line + '\r\n';
    };
  const keys = fields.map((f) => `,${JSON.stringify(f)}:`);
  return (cursor, node) => {
    let line = '{"_cursor":' + JSON.stringify(cursor);
    for (let j = 0; j < paths.length; j++) line += keys[j] + JSON.stringify(valueAt(node, paths[j]));
    return line + '}\n';
  };
}

/** What an export URL takes; anything else is refused, not ignored. */
const EXPORT_PARAMS = ['segment', 'filter', 'fields', 'orderBy', 'after'] as const;

function parseRequest(url: URL) {
  // A misspelt parameter ignored (`segement=vip`, `filters=…`) exported every customer the role may
  // see instead of the few asked for; a repeated one took its first value without a word.
  for (const name of new Set(url.searchParams.keys())) {
    const shown = JSON.stringify(name.slice(0, 40));
    if (!(EXPORT_PARAMS as readonly string[]).includes(name))
      throw new ExportError(400, 'BAD_USER_INPUT', `${shown} is not an export parameter; an export takes ${EXPORT_PARAMS.join(', ')}`, { field: name.slice(0, 40) });
    if (url.searchParams.getAll(name).length > 1) throw new ExportError(400, 'BAD_USER_INPUT', `${name}: give it once`, { field: name });
  }
  const fields = (url.searchParams.get('fields') ?? 'id')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  if (!fields.length || fields.length > MAX_FIELDS) throw new ExportError(400, 'BAD_USER_INPUT', `fields: give 1 to ${MAX_FIELDS} Customer fields`, { field: 'fields' });
  const bad = fields.find((f) => !FIELD_PATH.test(f));
  if (bad !== undefined) throw new ExportError(400, 'BAD_USER_INPUT', `fields: "${bad.slice(0, 80)}" is not a field path like orderSummary.orderCount`, { field: 'fields' });
  const segment = url.searchParams.get('segment');
  const rawFilter = url.searchParams.get('filter');
  if (segment !== null && rawFilter !== null) throw new ExportError(400, 'BAD_USER_INPUT', 'give segment or filter, not both', { field: 'filter' });
  let filter: unknown = undefined;
  if (rawFilter !== null) {
    try {
      filter = JSON.parse(rawFilter);
    } catch {
      throw new ExportError(400, 'BAD_USER_INPUT', 'filter is not valid JSON', { field: 'filter' });
    }
  }
  const orderBy = url.searchParams.get('orderBy') ?? 'ID_ASC';
  if (!isCustomerOrder(orderBy)) throw new ExportError(400, 'BAD_USER_INPUT', `orderBy: ID_ASC or one of ${Object.keys(VALUE_ORDERS).join(', ')}`, { field: 'orderBy' });
  return { fields: [...new Set(fields)], segment, filter, after: url.searchParams.get('after'), orderBy };
}

/**
 * The fields to select for `fields`: with a timeline column, also its gaps' errors. A timeline
 * reports a source it could not read as a gap in its data, and in `errors` only where
 * `gaps { error }` is selected: without it, rows missing a source's events would go out with
 * nothing said. The errors are not a column: they become the export's partial note (`timeline`).
 */
function withGapErrors(fields: readonly string[], schema: GraphQLSchema | undefined): string[] {
  const gap = schema?.getType('TimelineGap');
  const selectable = gap !== undefined && 'getFields' in gap && 'error' in (gap as { getFields(): Record<string, unknown> }).getFields();
  return selectable && fields.some((f) => f.split('.')[0] === 'timeline') ? [...fields, 'timeline.gaps.error'] : [...fields];
}

/** Waits until `out` takes more (backpressure), or rejects when the client went away. */
function drained(out: Writable, res: http.ServerResponse): Promise<void> {
  // Gone already (while a page was computed): its 'close' has fired and no 'drain' will come.
  if (res.destroyed || out.destroyed) return Promise.reject(new Error('client went away'));
  return new Promise((resolve, reject) => {
    const done = () => {
      out.off('drain', done);
      res.off('close', gone);
      resolve();
    };
    const gone = () => {
      out.off('drain', done);
      reject(new Error('client went away'));
    };
    out.once('drain', done);
    res.once('close', gone);
  });
}

/** The export route; answers false for any other path. `admit` is the server's per-principal rate and concurrency cap. */
export function exportRoute(gw: Gateway, admit: (viewer: Viewer) => Admission = () => ({ ok: true, release: () => {} })) {
  /** Exports in flight on this server, every principal's (server.maxConcurrentExports). */
  let inFlight = 0;
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, requestId: string): Promise<boolean> => {
    const m = ROUTE.exec(url.pathname);
    if (!m) return false;
    const format = m[1] as 'ndjson' | 'csv';
    /** Errors as GraphQL formats them, with the status /graphql would answer them with (and Retry-After where they carry one). */
    const failWith = (status: number, errors: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>) => {
      const retry = errors.map((e) => e.extensions?.retryAfterSeconds).find((s) => typeof s === 'number');
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...(retry ? { 'retry-after': String(retry) } : {}) });
      res.end(JSON.stringify({ errors }));
    };
    const fail = (e: ExportError) => {
      res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ errors: [{ message: e.message, extensions: { code: e.code, ...e.extra } }] }));
    };
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return (fail(new ExportError(405, 'BAD_REQUEST', 'use GET')), true);
    }
    const viewer = await gw.access.authenticate(req);
    const apollo = viewer && gw.apollos.get(viewer.role);
    if (!viewer || !apollo) return (fail(new ExportError(401, 'UNAUTHENTICATED', 'Missing or invalid credentials')), true);
    // An export is a list: a role the policy grants no lists is refused as such, not with the errors of a query it cannot run.
    if (!gw.access.schemas.get(viewer.role)?.getQueryType()?.getFields().customersConnection)
      return (fail(new ExportError(403, 'FORBIDDEN', `the role ${viewer.role} has no customer lists (customersConnection), so no exports`)), true);
    // Before any work (the filter not even parsed): one of the principal's requests, and of its exports.
    const admission = admit(viewer);
    if (!admission.ok) {
      const refused = rateLimitedResponse(admission);
      res.writeHead(refused.status, { 'content-type': 'application/json; charset=utf-8', ...refused.headers });
      res.end(JSON.stringify(refused.body));
      return true;
    }
    /** Rows handed to the response, and whether the export ended with its `_error` line. */
    const tally = { rows: 0, incomplete: false };
    let closed = false;
    /** The connection closed before the response was written whole (read then: writing to it afterwards is a no-op that may count as finished). */
    let gone = false;
    res.once('close', () => {
      closed = true;
      gone = !res.writableFinished;
    });
    /** One line per export, once its work has stopped and its connection is done, saying how it ended (counts only: no filter, values or ids). */
    const logEnd = () => {
      const outcome = gone ? 'clientGone' : res.statusCode !== 200 ? 'refused' : tally.incomplete ? 'incomplete' : 'complete';
      gw.log.info({ requestId, format, role: viewer.role, status: res.statusCode, rows: tally.rows, outcome }, 'export');
    };
    const serverMax = gw.config.server.maxConcurrentExports;
    if (inFlight >= serverMax) {
      admission.release();
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(EXPORTS_BUSY_RETRY_SECONDS) });
      res.end(
        JSON.stringify({
          errors: [
            {
              message: `This server runs ${serverMax} exports at once, every caller's together; retry in ${EXPORTS_BUSY_RETRY_SECONDS} s`,
              extensions: { code: 'EXPORTS_BUSY', max: serverMax, retryAfterSeconds: EXPORTS_BUSY_RETRY_SECONDS },
            },
          ],
        }),
      );
      res.once('close', logEnd);
      return true;
    }
    inFlight++;
    try {
      await stream(viewer, apollo);
    } finally {
      inFlight--;
      admission.release();
      if (closed) logEnd();
      else res.once('close', logEnd);
    }
    return true;

    async function stream(viewer: Viewer, apollo: NonNullable<ReturnType<typeof gw.apollos.get>>): Promise<void> {
      let ask: ReturnType<typeof parseRequest>;
      try {
        ask = parseRequest(url);
      } catch (e) {
        return fail(e as ExportError);
      }
      const role = gw.bi.roleOf(viewer.role);
      const first = Math.min(EXPORT_PAGE, role?.maxPage ?? EXPORT_PAGE);

      let filter = ask.filter;
      if (ask.segment !== null) {
        let segment;
        try {
          segment = await gw.bi.store.segment(ask.segment);
        } catch (e) {
          // The guarded store answers an outage as ONEID_UNAVAILABLE: a 503 to retry, as /graphql answers it.
          if (!(e instanceof GraphQLError) || e.extensions?.code !== 'ONEID_UNAVAILABLE') throw e;
          const { http: _http, ...extensions } = e.extensions;
          return failWith(503, [{ message: e.message, extensions }]);
        }
        if (!segment) return fail(new ExportError(404, 'NOT_FOUND', `No segment named ${ask.segment.slice(0, 64)}`));
        filter = segment.filter;
      }
      const query = `query Export($first: Int, $after: String, $filter: CustomerFilter, $orderBy: CustomerOrder) {
        customersConnection(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
          pageInfo { hasNextPage endCursor }
          edges { cursor node { ${selectionOf(withGapErrors(ask.fields, gw.access.schemas.get(viewer.role)))} } }
        }
      }`;
      // One plan for the whole export: its pages share the list evaluations (src/bi/list.ts); each page books its own source calls.
      const listEvaluations: ListEvaluations = new Map();
      // The client gone, the page in flight (its plan included) makes no further source call or OneID read.
      const signal = abortOnClientGone(res);
      const page = (after: string | null) =>
        apollo.executeOperation(
          { query, variables: { first, after, filter: filter ?? null, orderBy: ask.orderBy } },
          { contextValue: createContext(gw.requestDeps, requestId, viewer as Viewer, { listEvaluations, signal }) },
        );

      const row = rowWriter(format, ask.fields);
      const after = ask.after;
      let started = false;
      /** CSV: what failed sources left null, over the whole export, said in one line at its end. */
      const partial: PartialGroups = new Map();
      /** The customers the export's one plan left out undecided (every page repeats them: said once). */
      let undecided: UndecidedNote[] | null = null;
      let written = 0;
      let out: Writable = res;
      const write = async (chunk: string) => {
        if (res.destroyed) throw new Error('client went away');
        if (!out.write(chunk)) await drained(out, res);
      };
      try {
        // One page ahead: the next page is asked for as soon as this one's cursor is known, and
        // runs while this one is written (two pages in memory at most).
        let next: ReturnType<typeof page> | null = null;
        for (;;) {
          const result = await (next ?? page(after));
          next = null;
          if (result.body.kind !== 'single') throw new Error('export: incremental delivery is not expected');
          const { data, errors: all } = result.body.singleResult as {
            data?: { customersConnection?: Connection } | null;
            errors?: Array<{ message: string; path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> }>;
          };
          // The list's own notices (customers it left out undecided) are not about the rows' fields.
          const notices = (all ?? []).filter(isUndecided);
          const errors = all?.filter((e) => !isUndecided(e));
          const conn = data?.customersConnection;
          if (!started) {
            if (!conn) return failWith(statusOf(errors ?? []), errors ?? []);
            const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
            res.writeHead(200, {
              'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
              'cache-control': 'no-store',
              vary: 'accept-encoding',
              ...(gzip ? { 'content-encoding': 'gzip' } : {}),
            });
            if (gzip) {
              const z = zlib.createGzip({ level: 6 });
              z.pipe(res);
              out = z;
            }
            started = true;
            if (format === 'csv') await write(['_cursor', ...ask.fields].map(csvCell).join(',') + '\r\n');
          }
          if (!conn) throw new Error(errors?.[0]?.message ?? 'export page failed');
          const first = undecided === null;
          if (first) undecided = notices.map(undecidedOf);
          if (conn.pageInfo.hasNextPage) {
            next = page(conn.pageInfo.endCursor);
            next.catch(() => undefined); // awaited on the next turn; a client gone meanwhile leaves it unread
          }
          // Rows go out in chunks of a hundred: fewer writes, same backpressure.
          for (let i = 0; i < conn.edges.length; i += 100) {
            let chunk = '';
            for (const edge of conn.edges.slice(i, i + 100)) chunk += row(edge.cursor, edge.node);
            await write(chunk);
          }
          if (first && undecided!.length && format === 'ndjson') await write(undecidedNote(format, undecided!));
          // A source that failed for some of this page's fields left them null: said after the page, as GraphQL says it beside the data.
          if (errors?.length) {
            if (format === 'ndjson') await write(partialNote(format, addPartial(new Map(), errors)));
            else addPartial(partial, errors, written);
          }
          written += conn.edges.length;
          tally.rows = written;
          if (!next || res.destroyed) break;
        }
      } catch (e) {
        if (res.destroyed) {
          if (out !== res) out.destroy(); // the gzip stream and what it holds
          return;
        }
        gw.log.warn({ requestId, err: safeError(e) }, 'export ended early');
        if (!started) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ errors: [{ message: 'Unexpected error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
          return;
        }
        tally.incomplete = true;
        const note = { _error: { code: 'EXPORT_INCOMPLETE', message: 'the export stopped early; resume with after=<the last _cursor>', rows: written } };
        out.write(format === 'csv' ? `# ${note._error.message} (${written} rows before it stopped)\r\n` : JSON.stringify(note) + '\n');
      }
      if (res.destroyed && out !== res) out.destroy();
      else {
        if (partial.size) out.write(partialNote('csv', partial));
        if (format === 'csv' && undecided?.length) out.write(undecidedNote('csv', undecided));
        if (!tally.incomplete) out.write(endNote(format, written, ask));
        out.end();
      }
    }
  };
}

/**
 * The last line of an export that went to its end: how many rows it holds and what was asked
 * (the parameters as given, a segment by its name). An export without it (and without an `_error`
 * line) was cut short on the way, a proxy or the gateway gone: never a file that merely looks
 * complete. CSV: a `#` line without commas (the parameters URL-encoded), like the other notes.
 */
export function endNote(
  format: 'ndjson' | 'csv',
  rows: number,
  ask: { segment: string | null; filter: unknown; fields: readonly string[]; orderBy: string; after: string | null },
): string {
  const params: Record<string, string> = {};
  if (ask.segment !== null) params.segment = ask.segment;
  if (ask.filter !== undefined) params.filter = JSON.stringify(ask.filter);
  params.fields = ask.fields.join(',');
  params.orderBy = ask.orderBy;
  if (ask.after !== null) params.after = ask.after;
  if (format === 'ndjson') {
    const echo = { ...params, filter: ask.filter, fields: [...ask.fields] };
    if (ask.filter === undefined) delete echo.filter;
    return JSON.stringify({ _end: { code: 'EXPORT_COMPLETE', rows, parameters: echo } }) + '\n';
  }
  const query = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return `# export complete: ${rows} rows for ${query}\r\n`;
}

/** The HTTP status of a first page that failed whole: as /graphql answers each code (the first that says). */
const STATUS_OF_CODE = new Map([
  ['ONEID_UNAVAILABLE', 503],
  ['SOURCE_UNAVAILABLE', 503],
  ['SOURCE_TIMEOUT', 503],
  ['SOURCE_BAD_RESPONSE', 502],
  ['UNAUTHENTICATED', 401],
  ['FORBIDDEN', 403],
  ['RATE_LIMITED', 429],
  ['INTERNAL_SERVER_ERROR', 500],
]);
function statusOf(errors: ReadonlyArray<{ extensions?: Record<string, unknown> }>): number {
  for (const e of errors) {
    const status = STATUS_OF_CODE.get(String(e.extensions?.code));
    if (status) return status;
  }
  return 400;
}

/** Customers a list left out because a source failed for them (src/errors.ts `undecidedCustomers`), per filter key, source and code. */
interface UndecidedNote {
  source: string;
  code: string;
  filter: string;
  customers: number;
}

const isUndecided = (e: { path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> }) =>
  e.path?.length === 1 && typeof e.extensions?.undecided === 'number';
const undecidedOf = (e: { extensions?: Record<string, unknown> }): UndecidedNote => ({
  source: String(e.extensions?.source),
  code: String(e.extensions?.code),
  filter: String(e.extensions?.filter),
  customers: e.extensions?.undecided as number,
});

/**
 * The note saying which customers the export left out, neither listed nor known not to match: a
 * source failed for their records, so the filter could not be decided for them. Once, after the
 * first page (NDJSON, `_undecided`) or at the end (CSV, a `#` line without commas).
 */
export function undecidedNote(format: 'ndjson' | 'csv', notes: readonly UndecidedNote[]): string {
  if (format === 'ndjson')
    return (
      JSON.stringify({
        _undecided: { code: 'UNDECIDED_CUSTOMERS', message: 'customers a source did not answer for are not in this export: whether they match is unknown', sources: notes },
      }) + '\n'
    );
  const parts = notes.map((n) => `${n.source} ${n.code} for ${n.filter}: ${n.customers} customers`);
  return `# customers a source did not answer for are not in this export (whether they match is unknown): ${parts.join('; ')}\r\n`;
}

/** Per source and code, the fields a failed source left null and the rows they are in. */
export type PartialGroups = Map<string, { code: string; source: string | null; fields: Set<string>; rows: Set<number> }>;

/**
 * Adds a page's errors to `groups`: `offset` is the export's row number of the page's first row
 * (the path says [customersConnection, edges, i, node, field, …]; list indexes are left out).
 */
export function addPartial(
  groups: PartialGroups,
  errors: ReadonlyArray<{ path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> }>,
  offset = 0,
): PartialGroups {
  for (const e of errors) {
    const code = typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR';
    const source = typeof e.extensions?.source === 'string' ? e.extensions.source : null;
    const key = `${code}\u0000${source}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { code, source, fields: new Set(), rows: new Set() }));
    const path = e.path ?? [];
    if (typeof path[2] === 'number') g.rows.add(offset + path[2]);
    // A timeline's gap (its error, selected for the note) stands for the events the timeline misses.
    const field = path
      .slice(4)
      .filter((p) => typeof p === 'string')
      .join('.')
      .replace(/^timeline\.gaps\.error$/, 'timeline');
    if (field) g.fields.add(field);
  }
  return groups;
}

/**
 * The note saying which fields failed sources left null, and in how many rows. NDJSON: a line
 * after each such page (`_partial`). CSV: one `#` line at the end, over the whole export and
 * without commas, so that a reader that skips comments reads the rows as they are.
 */
export function partialNote(format: 'ndjson' | 'csv', groups: PartialGroups): string {
  const sources = [...groups.values()].map((g) => ({ source: g.source, code: g.code, fields: [...g.fields].sort(), rows: g.rows.size }));
  if (format === 'ndjson')
    return JSON.stringify({ _partial: { code: 'PARTIAL_DATA', message: 'some fields of the rows above are null: a source did not answer for them', sources } }) + '\n';
  const parts = sources.map((s) => `${s.source ?? 'gateway'} ${s.code} in ${s.fields.join(' ') || 'the row'} of ${s.rows} rows`);
  return `# some fields are null where a source did not answer for them: ${parts.join('; ')}\r\n`;
}

interface Connection {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: Array<{ cursor: string; node: Record<string, unknown> | null }>;
}
