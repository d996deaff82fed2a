import { RequestLoader } from '../../src/request-loader';

/** A batch function that records its calls and answers `value:key`, an Error for keys starting with `bad`. */
function recorder(opts: { fail?: Error } = {}) {
  const calls: string[][] = [];
  const fn = async (keys: readonly string[]) => {
    calls.push([...keys]);
    if (opts.fail) throw opts.fail;
    return keys.map((k) => (k.startsWith('bad') ? new Error(`no ${k}`) : `value:${k}`));
  };
  return { calls, fn };
}

describe('RequestLoader (DataLoader contract, loadMany without a promise per key)', () => {
  it('sends the keys loaded in one tick, by load and loadMany alike, in one call', async () => {
    const r = recorder();
    const l = new RequestLoader<string, string>(r.fn);
    const [a, many, b] = await Promise.all([l.load('a'), l.loadMany(['b', 'c']), l.load('d')]);
    expect([a, many, b]).toEqual(['value:a', ['value:b', 'value:c'], 'value:d']);
    expect(r.calls).toEqual([['a', 'b', 'c', 'd']]);
  });

  it('answers an Error for a failed key in loadMany and rejects its load, the other keys unharmed', async () => {
    const r = recorder();
    const l = new RequestLoader<string, string>(r.fn);
    const many = l.loadMany(['a', 'bad1']);
    const one = l.load('bad1');
    const out = await many;
    expect(out[0]).toBe('value:a');
    expect(out[1]).toBeInstanceOf(Error);
    await expect(one).rejects.toThrow('no bad1');
    expect(r.calls).toEqual([['a', 'bad1']]);
  });

  it('caches every answer (errors too) for the request: a later load makes no call', async () => {
    const r = recorder();
    const l = new RequestLoader<string, string>(r.fn);
    await l.loadMany(['a', 'bad1']);
    expect(await l.load('a')).toBe('value:a');
    await expect(l.load('bad1')).rejects.toThrow('no bad1');
    expect(await l.loadMany(['a', 'a'])).toEqual(['value:a', 'value:a']);
    expect(r.calls).toHaveLength(1);
  });

  it('does not cache the keys of a failed call: they are asked again', async () => {
    const failing = recorder({ fail: new Error('down') });
    const l = new RequestLoader<string, string>(failing.fn);
    const out = await l.loadMany(['a', 'b']);
    expect(out.map((x) => (x as Error).message)).toEqual(['down', 'down']);
    await expect(l.load('a')).rejects.toThrow('down');
    expect(failing.calls).toEqual([['a', 'b'], ['a']]);
  });

  it('answers a cached key with the batch it is asked in, so continuations of one level still load together', async () => {
    const r = recorder();
    const l = new RequestLoader<string, string>(r.fn);
    await l.load('a');
    // One customer's key is cached, the other's is not: both continue in the same tick and their next loads share a call.
    const next = await Promise.all(['a', 'b'].map(async (k) => l.load(`${await l.load(k)}:next`)));
    expect(next).toEqual(['value:value:a:next', 'value:value:b:next']);
    expect(r.calls.map((c) => [...c].sort())).toEqual([['a'], ['b'], ['value:a:next', 'value:b:next']]);
  });

  it('waits in loadMany for a key still in flight in an earlier call', async () => {
    let release!: () => void;
    const gate = new Promise<void>((ok) => (release = ok));
    const calls: string[][] = [];
    const l = new RequestLoader<string, string>(async (keys) => {
      calls.push([...keys]);
      if (keys.includes('slow')) await gate;
      return keys.map((k) => k.toUpperCase());
    });
    const first = l.load('slow');
    await new Promise((ok) => setImmediate(ok)); // the first call is under way
    const many = l.loadMany(['slow', 'x']);
    let done = false;
    void many.then(() => (done = true));
    await new Promise((ok) => setImmediate(ok));
    expect(done).toBe(false);
    release();
    expect(await many).toEqual(['SLOW', 'X']);
    expect(await first).toBe('SLOW');
    expect(calls).toEqual([['slow'], ['x']]);
  });

  it('keys objects by cacheKeyFn', async () => {
    const calls: Array<Array<{ k: string }>> = [];
    const l = new RequestLoader<{ k: string }, string, string>(
      async (keys) => {
        calls.push([...keys]);
        return keys.map((x) => x.k);
      },
      (x) => x.k,
    );
    expect(await l.loadMany([{ k: 'a' }, { k: 'a' }, { k: 'b' }])).toEqual(['a', 'a', 'b']);
    expect(calls).toEqual([[{ k: 'a' }, { k: 'b' }]]);
  });

  it('rejects every key when the batch function answers the wrong number of values', async () => {
    const l = new RequestLoader<string, string>(async () => ['one']);
    const out = await l.loadMany(['a', 'b']);
    expect(out.every((x) => x instanceof TypeError)).toBe(true);
  });
});
