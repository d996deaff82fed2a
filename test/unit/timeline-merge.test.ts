/** The timeline merge (src/timeline/merge.ts) when a source answered for some of a customer's records only. */
import { SourceError } from '../../src/errors';
import { mergeTimeline, placeOf, type SourceAnswer } from '../../src/timeline/merge';
import type { SourceEvent } from '../../src/vocabulary';

const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();
const event = (recordId: string, minute: number, id: string): SourceEvent => ({ kind: 'ticket_opened', at: at(minute), id, recordId });
const down = new SourceError('support', 'SOURCE_TIMEOUT', 'support: events timed out');

describe('Timeline merge: a source that failed for one of the customer’s records', () => {
  // Two helpdesk users of one customer: the call for the second failed (another chunk), the first answered.
  const partly: SourceAnswer[] = [
    { source: 'crm', results: [[event('C1', 50, '1'), event('C1', 10, '2')]] },
    { source: 'support', results: [[event('U1', 40, '7'), event('U1', 20, '8')], down] },
  ];

  it('shows none of that source’s events, names it in a gap, and holds it at its place', () => {
    const page = mergeTimeline(partly, { first: 5, after: null, since: null });
    expect(page.events.map((e) => `${e.source}:${e.id}`)).toEqual(['crm:1', 'crm:2']);
    expect(page.gaps.map((g) => [g.source, g.code])).toEqual([['support', 'SOURCE_TIMEOUT']]);
    expect(page.hasNextPage).toBe(true);
    const end = page.cursors[page.cursors.length - 1];
    expect(placeOf(end, 'support')).toBeNull();
    expect(placeOf(end, 'crm')).toEqual({ at: at(10), kind: 'ticket_opened', source: 'crm', id: '2' });
  });

  it('brings every event of the source, of both records, once it answers, and the others no more', () => {
    const first = mergeTimeline(partly, { first: 5, after: null, since: null });
    const whole: SourceAnswer[] = [
      { source: 'crm', results: [[]] },
      { source: 'support', results: [[event('U1', 40, '7'), event('U1', 20, '8')], [event('U2', 30, '9')]] },
    ];
    const next = mergeTimeline(whole, { first: 5, after: first.cursors[first.cursors.length - 1], since: null });
    expect(next.events.map((e) => `${e.source}:${e.id}`)).toEqual(['support:7', 'support:9', 'support:8']);
    expect([next.gaps, next.hasNextPage]).toEqual([[], false]);
    // The catch-up page's cursors keep the CRM where it stood until the walk passes it.
    expect(placeOf(next.cursors[0], 'crm')).toEqual({ at: at(10), kind: 'ticket_opened', source: 'crm', id: '2' });
  });
});
