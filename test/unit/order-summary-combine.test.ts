/**
 * Customer.orderSummary sums the summaries of the customer's commerce accounts. Most customers
 * have one account; that one is answered as it is, as the sum would answer it.
 */
import { combineSummaries } from '../../resolvers/commerce';
import type { OrderSummary } from '../../src/capabilities';

const money = (amount: string) => ({ amount, currency: 'CNY' });
const account = (over: Partial<OrderSummary> & { accountId: string }): OrderSummary => ({
  orderCount: 0,
  totalSpent: money('0.00'),
  refundedAmount: money('0.00'),
  firstOrderAt: null,
  lastOrderAt: null,
  ...over,
});

describe('Order summary over the customer accounts', () => {
  const one = account({
    accountId: '1',
    orderCount: 3,
    totalSpent: money('120.50'),
    refundedAmount: money('0.00'),
    firstOrderAt: '2024-01-02T03:04:05.000Z',
    lastOrderAt: '2024-06-01T00:00:00.000Z',
  });

  it('answers one account as the sum with an account without orders would', () => {
    expect(combineSummaries([one])).toEqual(combineSummaries([one, account({ accountId: '2' })]));
    expect(combineSummaries([one])).toEqual({
      orderCount: 3,
      totalSpent: money('120.50'),
      refundedAmount: money('0.00'),
      firstOrderAt: '2024-01-02T03:04:05.000Z',
      lastOrderAt: '2024-06-01T00:00:00.000Z',
    });
  });

  it('sums several accounts: counts and money added, the earliest first and the latest last order', () => {
    const other = account({ accountId: '2', orderCount: 1, totalSpent: money('9.50'), firstOrderAt: '2023-05-05T00:00:00.000Z', lastOrderAt: '2023-05-05T00:00:00.000Z' });
    expect(combineSummaries([one, other])).toEqual({
      orderCount: 4,
      totalSpent: money('130.00'),
      refundedAmount: money('0.00'),
      firstOrderAt: '2023-05-05T00:00:00.000Z',
      lastOrderAt: '2024-06-01T00:00:00.000Z',
    });
  });

  it('is not made mixed by an account in another currency that spent nothing (only cancelled orders); one that spent is an error', () => {
    const cancelledOnly = account({ accountId: 'm1', totalSpent: { amount: '0.00', currency: 'USD' }, refundedAmount: { amount: '0.00', currency: 'USD' } });
    expect(combineSummaries([cancelledOnly, one])).toEqual(combineSummaries([one]));
    const spent = account({ accountId: 'm2', orderCount: 1, totalSpent: { amount: '5.00', currency: 'USD' }, refundedAmount: { amount: '0.00', currency: 'USD' } });
    expect(() => combineSummaries([one, spent])).toThrow(/more than one currency/);
  });

  it('answers nothing without accounts', () => {
    expect(combineSummaries([])).toBeNull();
  });
});
