/**
 * The scenarios of `npm run bench:gateway`: one GraphQL document each, the role that sends it, and
 * how its variables are drawn from the bench's sample of the OneID map. Shared by the load
 * generator (bench/gateway-load.ts), the floor (bench/floor.ts) and the orchestrator's checks.
 */

/** Customers and phones drawn from the resolved OneID map (bench/gateway.ts writes them once per run). */
export interface Sample {
  /** Customers linked to the most configured systems first. */
  customerIds: string[];
  /** E.164 phones that name exactly one customer. */
  phones: string[];
}

export interface Scenario {
  name: string;
  /** API key role; the floor has no roles and serves every scenario as the same document. */
  role: 'admin' | 'marketing';
  query: string;
  /** Customers asked for per request (for customers/s). */
  customers: number;
  /** The variables of the request numbered `i`. */
  variables(sample: Sample, i: number): Record<string, unknown> | undefined;
  /** The floor answers the same JSON (false where the gateway masks values: the floor has no roles). */
  sameJsonAsFloor: boolean;
  /** Fewer connections than the run's for requests that take seconds of CPU, so that a measurement completes some. */
  maxConnections?: number;
  /**
   * bench:gateway's slices and warm-ups this many times longer (default 1), for requests of tens of
   * milliseconds or more: the requests in flight when a slice ends have cost CPU in it but are not
   * among its requests, so a slice should complete many times as many as there are connections.
   */
  sliceScale?: number;
}

const CUSTOMER_360 = `id name phone email gender memberTier
    crmContacts { id name phone email tier }
    orders(first: 5) { id status placedAt total { amount currency } }
    orderSummary { orderCount totalSpent { amount currency } lastOrderAt }
    tickets(first: 5) { id status subject createdAt }
    scrmFollowers { openid nickname coupons { id status } }`;

/** What marketing may read of the same customer: no tickets, contact points masked, openids hashed. */
const MARKETING_360 = `id name phone gender memberTier
    crmContacts { id tier province }
    orders(first: 5) { id status placedAt total { amount currency } }
    orderSummary { orderCount totalSpent { amount currency } lastOrderAt }
    scrmFollowers { openid coupons { id status } }`;

/** A phone in one of the ways people type it: the gateway normalises every one to the same E.164. */
export function phoneInRandomFormat(e164: string, i: number): string {
  const national = e164.startsWith('+86') ? e164.slice(3) : e164.replace(/^\+/, '');
  const a = national.slice(0, 3);
  const b = national.slice(3, 7);
  const c = national.slice(7);
  const formats = [`+86 ${a} ${b} ${c}`, `${a}-${b}-${c}`, `(+86)${national}`, `0086${national}`, `${national}`, `86 ${a}${b}${c}`, `${a} ${b} ${c}`];
  return formats[i % formats.length];
}

const pick = <T>(list: readonly T[], i: number, n: number): T[] => {
  const start = (i * n) % list.length;
  const out = list.slice(start, start + n);
  return out.length === n ? out : out.concat(list.slice(0, n - out.length));
};

export const SCENARIOS: readonly Scenario[] = [
  {
    name: '1 customer, full 360, admin',
    role: 'admin',
    customers: 1,
    query: `query One($id: ID!) { customer(id: $id) { ${CUSTOMER_360} } }`,
    variables: (s, i) => ({ id: s.customerIds[i % s.customerIds.length] }),
    sameJsonAsFloor: true,
  },
  {
    name: '1 customer, full 360, marketing',
    role: 'marketing',
    customers: 1,
    query: `query OneMarketing($id: ID!) { customer(id: $id) { ${MARKETING_360} } }`,
    variables: (s, i) => ({ id: s.customerIds[i % s.customerIds.length] }),
    sameJsonAsFloor: false,
  },
  {
    name: 'by phone, random format, admin',
    role: 'admin',
    customers: 1,
    query: `query ByPhone($phone: String!) { customersByIdentifier(kind: PHONE, value: $phone) { id name phone crmContacts { id tier } orderSummary { orderCount totalSpent { amount currency } } } }`,
    variables: (s, i) => ({ phone: phoneInRandomFormat(s.phones[i % s.phones.length], Math.floor(i / s.phones.length) + i) }),
    sameJsonAsFloor: true,
  },
  {
    name: '50 customers, full 360, admin',
    role: 'admin',
    customers: 50,
    query: `query Fifty($ids: [ID!]!) { customers(ids: $ids) { ${CUSTOMER_360} } }`,
    variables: (s, i) => ({ ids: pick(s.customerIds, i, 50) }),
    sameJsonAsFloor: true,
    sliceScale: 3,
  },
  {
    name: '1,000 customers, flat golden + orderSummary, admin',
    role: 'admin',
    customers: 1000,
    query: `query Flat($ids: [ID!]!) { customers(ids: $ids) { id name phone email gender memberTier orderSummary { orderCount totalSpent { amount currency } lastOrderAt } } }`,
    variables: (s, i) => ({ ids: pick(s.customerIds, i, 1000) }),
    sameJsonAsFloor: true,
    maxConnections: 2,
    sliceScale: 3,
  },
  {
    name: '{ __typename }, admin',
    role: 'admin',
    customers: 0,
    query: `{ __typename }`,
    variables: () => undefined,
    sameJsonAsFloor: true,
  },
];

/** Demo-only API keys of the bench's gateway (their SHA-256 go in its config). */
export const BENCH_KEYS: Record<Scenario['role'], string> = { admin: 'bench-admin-key', marketing: 'bench-marketing-key' };
