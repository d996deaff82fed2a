/** Timeline cursors (src/timeline/cursor.ts): what a client may hand back as `after`. */
import { cursorKey, decodeCursor, encodeCursor } from '../../src/timeline/cursor';
import type { TimelinePosition } from '../../src/timeline/merge';

const key = cursorKey('test-mask-key-0123456789');
const at = (instant: string) => ({ at: instant, kind: 'coupon_redeemed', source: 'scrm', id: 'CPN000000000001' }) as TimelinePosition;

describe('decodeCursor', () => {
  it('refuses a cursor edited to an instant outside years 0001–9999, and reads back one it wrote', () => {
    for (const instant of ['-000001-01-01T00:00:00.000Z', '+010000-01-01T00:00:00.000Z', '0000-06-01T00:00:00.000Z', '2026-02-30T00:00:00.000Z'])
      expect([instant, decodeCursor(encodeCursor(at(instant), key), key)]).toEqual([instant, null]);
    const p = at('0001-01-01T00:00:00.000Z');
    expect(decodeCursor(encodeCursor(p, key), key)).toEqual(p);
  });

  it('seals the position: an openid event id is not readable in the cursor, and another key cannot open it', () => {
    const p = { at: '2025-09-24T06:26:42.000Z', kind: 'followed', source: 'scrm', id: 'oDC2Bxd3CYJwQsNxaJhX1x-pnEgB' } as TimelinePosition;
    const cursor = encodeCursor(p, key);
    expect(Buffer.from(cursor, 'base64url').toString('latin1')).not.toContain('oDC2Bxd3');
    expect(encodeCursor(p, key)).toBe(cursor);
    expect(decodeCursor(cursor, cursorKey('another-key-0123456789'))).toBeNull();
    // The format before sealing (base64url JSON) is no cursor either.
    expect(decodeCursor(Buffer.from(JSON.stringify(['t2', p.at, p.kind, p.source, p.id])).toString('base64url'), key)).toBeNull();
  });
});

describe('decodeCursor: sources held at places of their own', () => {
  const p = at('2025-09-24T06:26:42.000Z');
  const held = { at: '2025-09-25T00:00:00.000Z', kind: 'ticket_opened', source: 'support', id: '12' } as TimelinePosition;

  it('reads back the places it wrote, a source from its newest event as null', () => {
    const c = {
      ...p,
      places: [
        { source: 'support', after: held },
        { source: 'wecom', after: null },
      ],
    };
    expect(decodeCursor(encodeCursor(c, key), key)).toEqual(c);
  });

  it('writes a cursor without places as before, so cursors handed out earlier keep working', () => {
    expect(encodeCursor({ ...p, places: [] }, key)).toBe(encodeCursor(p, key));
    expect(decodeCursor(encodeCursor(p, key), key)).toEqual(p);
  });
});
