/**
 * The coded errors clients read (src/errors.ts): how much of a client's value their messages quote,
 * and the signal that stops a request's work with REQUEST_ABORTED when its client goes away.
 */
import { EventEmitter } from 'node:events';
import { abortOnClientGone, badUserInput, conflict, notFound, quote } from '../../src/errors';

describe('error messages quoting a client value', () => {
  it('quote the first 64 characters of a 100 KB id, and leave every message of ours as written', () => {
    const id = 'A'.repeat(100_000);
    expect(notFound(`No customer ${id}`).message).toBe(`No customer ${'A'.repeat(64)}…`);
    expect(badUserInput(`Record ${id} is not known`).message).toBe(`Record ${'A'.repeat(64)}… is not known`);
    // The longest run of ours: a filter path under a segment of the longest name.
    const path = `segment(${'s'.repeat(64)}).filter.and[49].or[49].not.and[49].or[49].not.and[49].orders.withinDays`;
    const ours = `${path}: expected an integer from 1 to 36500, got number; ${'filters take and, or, not, memberTier, city, province, '.repeat(4)}`;
    expect(badUserInput(ours).message).toBe(ours);
    expect(quote('x'.repeat(64))).toBe('x'.repeat(64));
  });

  it('end a message listing many values at 1,000 characters, and never in half a character', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `01CUSTOMER${String(i).padStart(16, '0')}`);
    const message = conflict(`Customers ${ids.join(', ')} are not active`).message;
    expect(message).toHaveLength(1001);
    expect(message.endsWith('…')).toBe(true);
    expect(quote(`${'a'.repeat(63)}😀😀`)).toBe(`${'a'.repeat(63)}…`);
  });
});

describe("a request's signal that its client went away", () => {
  /** A response as abortOnClientGone sees it: a `close` event, and whether it was written whole. */
  const response = (writableFinished: boolean) => Object.assign(new EventEmitter(), { writableFinished });

  it('stops the work with REQUEST_ABORTED once the connection closes before the answer was written whole', () => {
    const res = response(false);
    const signal = abortOnClientGone(res);
    expect(signal.aborted).toBe(false);
    expect(() => signal.throwIfAborted()).not.toThrow();
    res.emit('close');
    expect(signal.aborted).toBe(true);
    expect(() => signal.throwIfAborted()).toThrow(expect.objectContaining({ extensions: { code: 'REQUEST_ABORTED' } }));
    // A second close (or any later event) changes nothing: the reason stays the first.
    res.emit('close');
    expect(() => signal.throwIfAborted()).toThrow('The client closed the request before it was answered');
  });

  it('lets the work be once the answer was written whole: a close after it is the connection ending', () => {
    const res = response(true);
    const signal = abortOnClientGone(res);
    res.emit('close');
    expect(signal.aborted).toBe(false);
    expect(() => signal.throwIfAborted()).not.toThrow();
  });
});
