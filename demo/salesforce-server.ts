/**
 * The stand-in Salesforce org: the REST API resources the `salesforce` kind reads, over Contacts
 * and Tasks held in memory, in Salesforce's wire format
 * (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/):
 *
 *   - `POST /services/oauth2/token`: the client credentials and JWT bearer flows (form-encoded),
 *     answering `{ access_token, instance_url, token_type: "Bearer", issued_at, signature }`, or
 *     `400 { error, error_description }`;
 *   - `GET /services/data/vXX.X/query?q=SOQL` and `/queryAll?q=` (deleted Contacts too):
 *     `{ totalSize, done, records, nextRecordsUrl? }`, each record with its `attributes`; the rest
 *     of a long answer from `GET /services/data/vXX.X/query/<locator>`;
 *   - `GET /services/data/vXX.X/limits`: `DailyApiRequests { Max, Remaining }`.
 *
 * A refused request answers an array of `{ message, errorCode }`: 401 INVALID_SESSION_ID (a
 * token not issued or expired), 403 REQUEST_LIMIT_EXCEEDED (the day's API requests spent), 400
 * MALFORMED_QUERY, INVALID_FIELD, INVALID_QUERY_LOCATOR; 404 NOT_FOUND. Every API answer carries
 * `Sforce-Limit-Info: api-usage=used/max`.
 *
 * The SOQL it reads is the subset the connector writes, parsed as SOQL is (a backslash escapes
 * `\n \r \t \b \f \" \' \\` in a quoted string, anything else after it is an error): `SELECT
 * fields [, (SELECT … FROM Tasks …)] FROM Contact|Task [WHERE a AND b …] [ORDER BY f [ASC|DESC], …]
 * [LIMIT n]`, where a condition is `field IN ('…', …)` or `field <op> dateTime`.
 */
import crypto from 'node:crypto';
import { startDemoHttpServer, type DemoAnswer, type DemoHttpServer, type DemoRequest, type Faults } from './faults';

export interface SalesforceContactRow {
  Id: string;
  Name: string | null;
  Email: string | null;
  Phone: string | null;
  MobilePhone: string | null;
  Birthdate: string | null;
  CreatedDate: string;
  LastModifiedDate: string;
  SystemModstamp: string;
  IsDeleted: boolean;
}

export interface SalesforceTaskRow {
  Id: string;
  WhoId: string;
  Subject: string | null;
  Status: string | null;
  CreatedDate: string;
}

export interface SalesforceServerOptions {
  contacts: SalesforceContactRow[];
  tasks?: SalesforceTaskRow[];
  clientId: string;
  clientSecret: string;
  /** The public key of the connected app's certificate, for the JWT bearer flow. */
  jwtPublicKey?: string;
  /** Records a query answer holds before its locator (Salesforce: 2,000). */
  pageSize?: number;
  /** The org's daily API requests (Max). */
  dailyLimit?: number;
  apiVersion?: string;
  host?: string;
  port?: number;
  faults?: Faults;
}

export interface SalesforceServer extends DemoHttpServer {
  /** Every SOQL statement received, in order (query and queryAll). */
  readonly queries: string[];
  /** Expires every issued token now: the next call with one answers 401 INVALID_SESSION_ID. */
  expireTokens(): void;
  tokensIssued(): number;
  /** Forgets every query locator (Salesforce drops one idle for 15 minutes). */
  expireLocators(): void;
  /** Sets the API requests used today. */
  setUsage(used: number): void;
}

type Row = Record<string, unknown>;
interface Query {
  fields: Array<string | Query>;
  from: string;
  where: Cond[];
  order: Array<{ field: string; desc: boolean }>;
  limit: number | null;
}
type Cond = { field: string; in: string[] } | { field: string; op: string; at: number };

class SoqlError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

const OBJECT_FIELDS: Record<string, string[]> = {
  Contact: ['Id', 'Name', 'Email', 'Phone', 'MobilePhone', 'Birthdate', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp', 'IsDeleted'],
  Task: ['Id', 'WhoId', 'Subject', 'Status', 'CreatedDate'],
};
const DATETIME_FIELDS = new Set(['CreatedDate', 'LastModifiedDate', 'SystemModstamp']);
const STRING_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };

/** SOQL's tokens: words, quoted strings (unescaped), dateTimes, numbers and punctuation. */
function tokenize(soql: string): Array<{ t: 'word' | 'str' | 'dt' | 'num' | 'p'; v: string }> {
  const out: Array<{ t: 'word' | 'str' | 'dt' | 'num' | 'p'; v: string }> = [];
  let i = 0;
  while (i < soql.length) {
    const c = soql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= soql.length) throw new SoqlError('MALFORMED_QUERY', 'unterminated string');
        const d = soql[i];
        if (d === "'") break;
        if (d === '\\') {
          const e = STRING_ESCAPES[soql[i + 1]];
          if (e === undefined) throw new SoqlError('MALFORMED_QUERY', 'invalid escape sequence');
          v += e;
          i += 2;
          continue;
        }
        v += d;
        i++;
      }
      i++;
      out.push({ t: 'str', v });
      continue;
    }
    const dt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})/.exec(soql.slice(i));
    if (dt) {
      out.push({ t: 'dt', v: dt[0] });
      i += dt[0].length;
      continue;
    }
    const num = /^\d+/.exec(soql.slice(i));
    if (num) {
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(soql.slice(i));
    if (word) {
      out.push({ t: 'word', v: word[0] });
      i += word[0].length;
      continue;
    }
    const p = /^(>=|<=|!=|[(),=<>])/.exec(soql.slice(i));
    if (!p) throw new SoqlError('MALFORMED_QUERY', 'unexpected character');
    out.push({ t: 'p', v: p[0] });
    i += p[0].length;
  }
  return out;
}

function parse(soql: string): Query {
  const toks = tokenize(soql);
  let i = 0;
  const peek = () => toks[i];
  const word = (w: string) => peek()?.t === 'word' && peek().v.toUpperCase() === w;
  const expect = (t: string, v?: string) => {
    const k = toks[i];
    if (!k || k.t !== t || (v !== undefined && k.v.toUpperCase() !== v.toUpperCase())) throw new SoqlError('MALFORMED_QUERY', `expected ${v ?? t}`);
    i++;
    return k.v;
  };
  function select(): Query {
    expect('word', 'SELECT');
    const fields: Array<string | Query> = [];
    do {
      if (peek()?.v === '(') {
        i++;
        fields.push(select());
        expect('p', ')');
      } else fields.push(expect('word'));
    } while (peek()?.v === ',' && ++i);
    expect('word', 'FROM');
    const from = expect('word');
    const where: Cond[] = [];
    if (word('WHERE')) {
      i++;
      do {
        const field = expect('word');
        if (word('IN')) {
          i++;
          expect('p', '(');
          const values: string[] = [];
          do values.push(expect('str'));
          while (peek()?.v === ',' && ++i);
          expect('p', ')');
          where.push({ field, in: values });
        } else {
          const op = expect('p');
          if (!['>=', '<=', '>', '<', '='].includes(op)) throw new SoqlError('MALFORMED_QUERY', 'unexpected operator');
          where.push({ field, op, at: Date.parse(expect('dt')) });
        }
      } while (word('AND') && ++i);
    }
    const order: Query['order'] = [];
    if (word('ORDER')) {
      i++;
      expect('word', 'BY');
      do {
        const field = expect('word');
        let desc = false;
        if (word('ASC') || word('DESC')) desc = toks[i++].v.toUpperCase() === 'DESC';
        order.push({ field, desc });
      } while (peek()?.v === ',' && ++i);
    }
    let limit: number | null = null;
    if (word('LIMIT')) {
      i++;
      limit = Number(expect('num'));
    }
    return { fields, from, where, order, limit };
  }
  const q = select();
  if (i !== toks.length) throw new SoqlError('MALFORMED_QUERY', 'unexpected token');
  return q;
}

/** Salesforce writes dateTimes with milliseconds and a +0000 zone; a row's broken one (a test's) goes out as it is. */
const wireTime = (iso: string) => (Number.isFinite(Date.parse(iso)) ? new Date(iso).toISOString().replace('Z', '+0000') : iso);

export async function startSalesforceServer(options: SalesforceServerOptions): Promise<SalesforceServer> {
  const version = options.apiVersion ?? '62.0';
  const base = `/services/data/v${version}`;
  const pageSize = options.pageSize ?? 2000;
  const dailyLimit = options.dailyLimit ?? 15000;
  const tokens = new Set<string>();
  let issued = 0;
  let used = 0;
  const locators = new Map<string, { rows: Row[]; offset: number; total: number }>();
  const queries: string[] = [];

  const refuse = (status: number, errorCode: string, message: string, headers?: Record<string, string>): DemoAnswer => ({ status, body: [{ message, errorCode }], headers });

  function token(req: DemoRequest): DemoAnswer {
    const form = new URLSearchParams(req.text);
    const grant = form.get('grant_type');
    const bad = (error: string, description: string): DemoAnswer => ({ status: 400, body: { error, error_description: description } });
    if (grant === 'client_credentials') {
      if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) return bad('invalid_client', 'invalid client credentials');
    } else if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const parts = (form.get('assertion') ?? '').split('.');
      if (parts.length !== 3 || !options.jwtPublicKey) return bad('invalid_grant', 'invalid assertion');
      const ok = crypto.createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(options.jwtPublicKey, Buffer.from(parts[2], 'base64url'));
      const claims = ok ? (JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { iss?: string; exp?: number; sub?: string }) : null;
      if (!claims || claims.iss !== options.clientId || !claims.sub || typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now())
        return bad('invalid_grant', 'invalid assertion');
    } else return bad('unsupported_grant_type', 'grant type not supported');
    const t = `00Dstandin!${crypto.randomBytes(24).toString('base64url')}`;
    tokens.add(t);
    issued++;
    return {
      status: 200,
      body: { access_token: t, instance_url: 'http://127.0.0.1', id: `${base}/identity`, token_type: 'Bearer', issued_at: String(Date.now()), signature: 'stand-in' },
    };
  }

  function rowsOf(object: string, all: boolean): Row[] {
    if (object === 'Contact') return options.contacts.filter((c) => all || !c.IsDeleted) as unknown as Row[];
    if (object === 'Task') return (options.tasks ?? []) as unknown as Row[];
    throw new SoqlError('INVALID_TYPE', 'sObject type is not supported');
  }

  function run(q: Query, rows: Row[]): Row[] {
    const known = OBJECT_FIELDS[q.from];
    for (const f of [...q.fields.filter((f): f is string => typeof f === 'string'), ...q.where.map((c) => c.field), ...q.order.map((o) => o.field)])
      if (!known.includes(f)) throw new SoqlError('INVALID_FIELD', 'No such column on entity');
    let out = rows.filter((r) =>
      q.where.every((c) => {
        if ('in' in c) return c.in.includes(String(r[c.field]));
        if (!DATETIME_FIELDS.has(c.field)) throw new SoqlError('INVALID_FIELD', 'value of filter criterion is not of the field type');
        const v = Date.parse(String(r[c.field]));
        return c.op === '>=' ? v >= c.at : c.op === '<=' ? v <= c.at : c.op === '>' ? v > c.at : c.op === '<' ? v < c.at : v === c.at;
      }),
    );
    out = [...out].sort((a, b) => {
      for (const o of q.order) {
        const x = DATETIME_FIELDS.has(o.field) ? Date.parse(String(a[o.field])) : String(a[o.field]);
        const y = DATETIME_FIELDS.has(o.field) ? Date.parse(String(b[o.field])) : String(b[o.field]);
        if (x !== y) return (x < y ? -1 : 1) * (o.desc ? -1 : 1);
      }
      return 0;
    });
    if (q.limit !== null) out = out.slice(0, q.limit);
    return out.map((r) => {
      const rec: Row = { attributes: { type: q.from, url: `${base}/sobjects/${q.from}/${String(r.Id)}` } };
      for (const f of q.fields) {
        if (typeof f === 'string') rec[f] = DATETIME_FIELDS.has(f) && typeof r[f] === 'string' ? wireTime(r[f] as string) : r[f];
        else {
          if (q.from !== 'Contact' || f.from !== 'Tasks') throw new SoqlError('INVALID_TYPE', "Didn't understand relationship");
          const children = run(
            { ...f, from: 'Task' },
            rowsOf('Task', false).filter((t) => t.WhoId === r.Id),
          );
          rec.Tasks = children.length ? { totalSize: children.length, done: true, records: children } : null;
        }
      }
      return rec;
    });
  }

  function page(rows: Row[], offset: number, total: number): DemoAnswer {
    const end = offset + pageSize;
    const body: Row = { totalSize: total, done: end >= rows.length, records: rows.slice(offset, end) };
    if (end < rows.length) {
      const id = `01g${crypto.randomBytes(8).toString('hex').slice(0, 15)}`;
      const locator = `${id}-${end}`;
      locators.set(locator, { rows, offset: end, total });
      body.nextRecordsUrl = `${base}/query/${locator}`;
    }
    return { status: 200, body };
  }

  async function handle(req: DemoRequest): Promise<DemoAnswer> {
    if (req.pathname === '/services/oauth2/token' && req.method === 'POST') return token(req);
    if (!req.pathname.startsWith(`${base}/`) || req.method !== 'GET') return refuse(404, 'NOT_FOUND', 'The requested resource does not exist');
    const auth = req.headers.authorization;
    if (typeof auth !== 'string' || !auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) return refuse(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    if (used >= dailyLimit) return refuse(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.', { 'Sforce-Limit-Info': `api-usage=${used}/${dailyLimit}` });
    used++;
    const limitInfo = { 'Sforce-Limit-Info': `api-usage=${used}/${dailyLimit}` };
    const rest = req.pathname.slice(base.length);
    try {
      let answer: DemoAnswer;
      if (rest === '/limits') answer = { status: 200, body: { DailyApiRequests: { Max: dailyLimit, Remaining: dailyLimit - used } } };
      else if (rest === '/query' || rest === '/queryAll') {
        const soql = req.query.get('q') ?? '';
        queries.push(soql);
        if (soql.length > 100_000) throw new SoqlError('MALFORMED_QUERY', 'SOQL statements cannot be longer than 100000 characters');
        const q = parse(soql);
        const rows = run(q, rowsOf(q.from, rest === '/queryAll'));
        answer = page(rows, 0, rows.length);
      } else if (rest.startsWith('/query/')) {
        const locator = rest.slice('/query/'.length);
        const at = locators.get(locator);
        if (!at) throw new SoqlError('INVALID_QUERY_LOCATOR', 'invalid query locator');
        locators.delete(locator);
        answer = page(at.rows, at.offset, at.total);
      } else return refuse(404, 'NOT_FOUND', 'The requested resource does not exist', limitInfo);
      return { ...answer, headers: limitInfo };
    } catch (e) {
      if (e instanceof SoqlError) return refuse(400, e.errorCode, e.message, limitInfo);
      throw e;
    }
  }

  const server = await startDemoHttpServer({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, faults: options.faults, handle });
  return {
    ...server,
    queries,
    expireTokens: () => tokens.clear(),
    tokensIssued: () => issued,
    expireLocators: () => locators.clear(),
    setUsage: (n) => {
      used = n;
    },
  };
}
