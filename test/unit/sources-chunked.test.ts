/**
 * Sources: chunked. A batch is cut into chunks of maxBatch, one observed call each, run at once;
 * a chunk failing with a SourceError fails only its own keys, a batch whose every chunk failed
 * fails as one call would, and anything else a chunk throws (a bug) fails the batch.
 */
import { SourceError } from '../../src/errors';
import { CallRecorder, chunked, listsOf, noneFailed } from '../../src/sources/observe';

const down = (key: string) => new SourceError('support', 'SOURCE_UNAVAILABLE', `support failed (chunk of ${key})`);

/** A fetch answering each key doubled, failing the chunks holding a key in `failing` with a SourceError. */
const fetchFailing =
  (failing: ReadonlySet<string>) =>
  async (chunk: string[]): Promise<string[]> => {
    const bad = chunk.find((k) => failing.has(k));
    if (bad) throw down(bad);
    return chunk.map((k) => k + k);
  };

describe('Sources: chunked', () => {
  it("answers the failed chunk's keys its error, the other chunks' answers in chunk order, one observed call per chunk", async () => {
    const calls = new CallRecorder();
    const { answers, failed } = await chunked(calls, { source: 'support', operation: 'ticketsByRecordIds' }, ['a', 'b', 'c', 'd', 'e'], 2, fetchFailing(new Set(['d'])));
    expect(answers).toEqual(['aa', 'bb', 'ee']);
    expect([...failed.keys()]).toEqual(['c', 'd']);
    expect(failed.get('c')).toBe(failed.get('d'));
    expect(failed.get('c')?.message).toBe('support failed (chunk of d)');
    expect(calls.calls.map((c) => c.batchSize)).toEqual([2, 2, 1]);
    // Lists by key: the failed keys answer the error in place of their list.
    expect(
      listsOf(
        ['e', 'c', 'a', 'x'],
        new Map([
          ['a', [1]],
          ['e', [5]],
        ]),
        failed,
      ),
    ).toEqual([[5], failed.get('c'), [1], []]);
    expect(() => noneFailed(failed)).toThrow('support failed (chunk of d)');
  });

  it('rejects when every chunk failed, with the first chunk’s error, as one call would', async () => {
    await expect(chunked(new CallRecorder(), { source: 'support', operation: 'x' }, ['a', 'b', 'c'], 2, fetchFailing(new Set(['a', 'c'])))).rejects.toThrow(
      'support failed (chunk of a)',
    );
  });

  it('rejects the batch when a chunk throws anything but a SourceError: a bug is not the source failing', async () => {
    const bug = async (chunk: string[]) => {
      if (chunk.includes('c')) throw new TypeError('not a source failure');
      return chunk;
    };
    await expect(chunked(new CallRecorder(), { source: 'support', operation: 'x' }, ['a', 'b', 'c'], 2, bug)).rejects.toThrow(TypeError);
  });

  it('makes no call for no keys', async () => {
    const calls = new CallRecorder();
    const { answers, failed } = await chunked(calls, { source: 'support', operation: 'x' }, [], 2, fetchFailing(new Set()));
    expect([answers, failed.size, calls.calls]).toEqual([[], 0, []]);
    expect(() => noneFailed(failed)).not.toThrow();
  });
});
