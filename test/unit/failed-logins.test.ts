/**
 * Failed logins per client address (src/access/failed-logins.ts): the budget, its refill on the
 * limiter's own clock, the address behind trusted proxies, and bounded memory.
 */
import type http from 'node:http';
import { addressKey, clientAddress, createFailedLogins } from '../../src/access/failed-logins';

/** A request as the server sees it: the peer's address and the headers. */
const req = (peer: string, headers: Record<string, string> = { 'x-api-key': 'guess' }) => ({ socket: { remoteAddress: peer }, headers }) as unknown as http.IncomingMessage;

describe('Access: failed logins', () => {
  it('refuses an address once its minute of failures is spent, and again admits one a failure later', () => {
    let t = 0;
    const limiter = createFailedLogins({ perMinute: 6, now: () => t });
    for (let i = 0; i < 6; i++) {
      expect(limiter.refusal(req('10.0.0.1'))).toBeUndefined();
      limiter.failed(req('10.0.0.1'));
    }
    expect(limiter.refusal(req('10.0.0.1'))).toMatchObject({ limit: 'failedLoginsPerMinute', max: 6, retryAfterSeconds: 10 });
    expect(limiter.refusal(req('10.0.0.2'))).toBeUndefined();
    t += 10_000; // one failure's worth at 6 a minute
    expect(limiter.refusal(req('10.0.0.1'))).toBeUndefined();
    limiter.failed(req('10.0.0.1'));
    expect(limiter.refusal(req('10.0.0.1'))).toMatchObject({ retryAfterSeconds: 10 });
  });

  it('neither counts nor refuses a request without credentials, and is off at 0', () => {
    const limiter = createFailedLogins({ perMinute: 1, now: () => 0 });
    limiter.failed(req('10.0.0.1', {}));
    limiter.failed(req('10.0.0.1', {}));
    expect(limiter.size()).toBe(0);
    limiter.failed(req('10.0.0.1'));
    expect(limiter.refusal(req('10.0.0.1', {}))).toBeUndefined();
    expect(limiter.refusal(req('10.0.0.1', { authorization: 'Bearer x' }))).toBeDefined();
    const off = createFailedLogins({ perMinute: 0, now: () => 0 });
    for (let i = 0; i < 100; i++) off.failed(req('10.0.0.1'));
    expect([off.refusal(req('10.0.0.1')), off.size()]).toEqual([undefined, 0]);
  });

  it("takes the client's address from X-Forwarded-For only as far as the trusted proxies vouch for it", () => {
    const forwarded = req('10.0.0.9', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.0.0.8' });
    expect(clientAddress(forwarded)).toBe('10.0.0.9');
    expect(clientAddress(forwarded, 1)).toBe('10.0.0.8');
    expect(clientAddress(forwarded, 2)).toBe('203.0.113.7');
    // The client's own entry (6.6.6.6 here) would let it pick a fresh address per guess: only the proxies' count.
    expect(clientAddress(req('10.0.0.9', { 'x-forwarded-for': '203.0.113.7' }), 1)).toBe('203.0.113.7');
    expect(clientAddress(req('10.0.0.9', {}), 1)).toBe('10.0.0.9');
  });

  it('keeps a budget per IPv4 address and per IPv6 /64, an IPv4-mapped address as its IPv4 one', () => {
    expect(
      [
        '192.0.2.1',
        '192.0.2.1:5678',
        '::ffff:192.0.2.1',
        '::FFFF:c000:201',
        '2001:db8:1:2::1',
        '2001:DB8:0001:0002:ffff:ffff:ffff:ffff',
        '[2001:db8:1:2::9]:443',
        '2001:db8:1:3::1',
        '::1',
        'fe80::1%eth0',
        'unknown',
      ].map(addressKey),
    ).toEqual([
      '192.0.2.1',
      '192.0.2.1',
      '192.0.2.1',
      '192.0.2.1',
      '2001:db8:1:2::/64',
      '2001:db8:1:2::/64',
      '2001:db8:1:2::/64',
      '2001:db8:1:3::/64',
      '0:0:0:0::/64',
      'fe80:0:0:0::/64',
      'unknown',
    ]);
    const t = 0;
    const limiter = createFailedLogins({ perMinute: 2, now: () => t });
    limiter.failed(req('2001:db8:1:2::1'));
    limiter.failed(req('2001:db8:1:2::2'));
    expect(limiter.refusal(req('2001:db8:1:2:abcd::3'))).toMatchObject({ limit: 'failedLoginsPerMinute' });
    expect(limiter.refusal(req('2001:db8:1:3::1'))).toBeUndefined();
    expect(limiter.size()).toBe(1);
  });

  it('forgets an address whose budget is whole again, and holds at most maxAddresses', () => {
    let t = 0;
    const limiter = createFailedLogins({ perMinute: 2, maxAddresses: 100, now: () => t });
    for (let i = 0; i < 500; i++) limiter.failed(req(`10.0.${i >> 8}.${i & 255}`));
    expect(limiter.size()).toBeLessThanOrEqual(100);
    t += 61_000;
    limiter.failed(req('10.9.9.9'));
    expect(limiter.size()).toBe(1);
  });
});
