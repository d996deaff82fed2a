/**
 * Source registry: a kind that provides a capability provides all of it, checked when the
 * instance is registered (start-up, check-config), not discovered by the first request that
 * computes on it.
 */
import { capabilityProblems, type Capabilities } from '../../src/capabilities';
import { parseSources, registryOf } from '../../src/sources/registry';
import { demoRegistry } from '../helpers/registry';
import type { Connector } from '../../src/vocabulary';

/** A helpdesk connector without its ticket operation: the kind hands the connector itself in as `service`. */
function helpdeskWithoutTickets(): Connector {
  const c = demoRegistry().get('support')!.connector as unknown as Record<string, unknown>;
  const partial: Record<string, unknown> = {};
  for (const k of ['name', 'maxBatch', 'scan', 'scanRecords', 'health', 'close', 'requestersByIds', 'eventsByRecordIds']) partial[k] = c[k];
  return partial as unknown as Connector;
}

describe('Source registry: capabilities are complete', () => {
  it('refuses an instance whose kind provides a capability without one of its operations, naming kind, source and operation', () => {
    expect(() => registryOf([{ name: 'support', kind: 'helpdesk', connector: helpdeskWithoutTickets() }])).toThrow(
      'kind helpdesk (source support): a capability it provides is incomplete (src/capabilities/index.ts):\n  service.ticketsByRecordIds: must be a function',
    );
  });

  it('lists every missing member of a partial capability, and nothing for the demo kinds', () => {
    const partial = { commerce: { ordersByRecordIds: async () => [] }, events: { eventsByRecordIds: async () => [] } } as unknown as Capabilities;
    expect(capabilityProblems(partial)).toEqual([
      'commerce.orderSummariesByRecordIds: must be a function',
      'commerce.linesByOrderIds: must be a function',
      'commerce.refundsByOrderIds: must be a function',
      'commerce.categoryStatsByRecordIds: must be a function',
      'commerce.rfmBoundaries: must be a function',
      'events.kinds: must be a list',
    ]);
    for (const s of demoRegistry().sources) expect([s.name, capabilityProblems(s.capabilities)]).toEqual([s.name, []]);
  });
});

describe('Source registry: instance names', () => {
  it('refuses the names the gateway answers under itself (/readyz checks OneID as "oneid"), naming the entry', () => {
    const shop = (name: string) => ({ name, kind: 'shop', connection: { client: 'sqlite', filename: 'shop.sqlite' } });
    const { sources, errors } = parseSources([shop('orders'), shop('oneid'), shop('commerce'), shop('audit')], (p) => p);
    expect(sources.map((s) => s.name)).toEqual(['orders']);
    expect(errors).toEqual(
      ['oneid', 'commerce', 'audit'].map((n, i) => `  sources[${i + 1}].name: "${n}" is reserved: oneid, commerce, audit name the gateway's own checks and errors`),
    );
  });
});

describe('Source registry: an HTTP source’s baseUrl', () => {
  const helpdesk = (baseUrl: string) => parseSources([{ name: 'support', kind: 'helpdesk', baseUrl, token: 't' }], (p) => p);

  it('takes an origin with an optional path prefix', () => {
    expect(helpdesk('https://helpdesk.example.com/zendesk/').errors).toEqual([]);
  });

  it('refuses credentials, a query or a fragment, which requests would drop without a word', () => {
    expect(helpdesk('https://svc:hunter2@helpdesk.example.com').errors).toEqual([
      "  sources[support].baseUrl: must not carry credentials (user:password@): give them in the kind's own options",
    ]);
    for (const url of ['https://helpdesk.example.com/api?token=abc', 'https://helpdesk.example.com/#v2'])
      expect(helpdesk(url).errors).toEqual([
        '  sources[support].baseUrl: must not carry a query or a fragment: an origin and an optional path, e.g. https://helpdesk.example.com/zendesk',
      ]);
  });
});
