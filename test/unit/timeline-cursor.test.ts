/** Timeline cursors (src/timeline/cursor.ts): what a client may hand back as `after`. */
import { decodeCursor, encodeCursor } from '../../src/timeline/cursor';

const cursorOf = (parts: unknown[]) => Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');

describe('decodeCursor', () => {
  it('refuses a cursor edited to an instant outside years 0001–9999, and reads back one it wrote', () => {
    for (const at of ['-000001-01-01T00:00:00.000Z', '+010000-01-01T00:00:00.000Z', '0000-06-01T00:00:00.000Z', '2026-02-30T00:00:00.000Z'])
      expect([at, decodeCursor(cursorOf(['t2', at, 'coupon_redeemed', 'scrm', 'CPN000000000001']))]).toEqual([at, null]);
    const p = { at: '0001-01-01T00:00:00.000Z', kind: 'coupon_redeemed', source: 'scrm', id: 'CPN000000000001' } as const;
    expect(decodeCursor(encodeCursor(p))).toEqual(p);
  });
});
