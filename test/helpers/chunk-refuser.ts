/**
 * A source whose calls fail for one chosen key: a pass-through on 127.0.0.1 in front of its
 * stand-in answers 503 to every request carrying that key (and to nothing else), noting every key a
 * refused request carried. Put it in a source's place with `relay(source)` in the world's
 * configPatch; `run` then refuses one key for the length of a query and answers the customers that
 * lost their chunk, as OneID links the refused records.
 */
import type { SourceName } from '../../src/vocabulary';
import { startPassThrough, type SeenRequest } from './http-pass-through';
import type { TestWorld } from './world';

export interface ChunkRefuser {
  /** Points `source` (a config entry with a `baseUrl`) at the pass-through and the pass-through at its stand-in. */
  relay(source: { baseUrl: string }): void;
  /** Runs `fn` with the requests carrying `key` refused; answers the customers those requests carried. */
  run<T>(world: TestWorld, key: string, fn: () => Promise<T>): Promise<{ result: T; undecided: Set<string> }>;
  close(): Promise<void>;
}

/** `carried` reads the source's keys from a request as its wire format sends them. */
export async function startChunkRefuser(source: SourceName, carried: (req: SeenRequest) => string[]): Promise<ChunkRefuser> {
  let upstream = '';
  let poisoned: string | null = null;
  const refused = new Set<string>();
  const proxy = await startPassThrough(
    () => upstream,
    () => undefined,
    (req) => {
      const ids = carried(req);
      if (poisoned === null || !ids.includes(poisoned)) return null;
      for (const id of ids) refused.add(id);
      return 503;
    },
  );
  return {
    relay(s) {
      upstream = s.baseUrl;
      s.baseUrl = proxy.url;
    },
    async run(world, key, fn) {
      poisoned = key;
      refused.clear();
      try {
        const result = await fn();
        const owners = await world.gw.idmap.customerIdsBySourceRecords([...refused].map((recordId) => ({ source, recordId })));
        return { result, undecided: new Set(owners.filter((c): c is string => c !== null)) };
      } finally {
        poisoned = null;
      }
    },
    close: () => proxy.close(),
  };
}
