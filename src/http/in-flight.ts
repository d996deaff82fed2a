/**
 * The responses a server has not finished yet (a drain walks them), kept so that a finished one
 * is referenced by nothing here the moment it leaves.
 *
 * Why not a `Set`: the server's set lives for the process, so V8 keeps its hash table in the old
 * generation, and each time adds and deletes fill that table V8 copies the entries still in it
 * into a new table, also allocated old, and leaves the previous table holding the responses that
 * were in flight at that moment (for iterators that may still walk it). That dead table is only
 * reclaimed by a full mark-compact; until then every young-generation collection takes its
 * entries as live, so each such response, and everything it reaches (its request, listeners,
 * closures over the request's GraphQL work), was copied and then promoted to the old generation
 * long after it was answered: measured with `--trace-gc-nvp`, about 3 KiB more promoted per admin
 * 360 request (bench/HISTORY.md, session 36, helper heap). A list whose removed links are cleared
 * leaves no old object pointing at a finished response.
 */
export interface InFlight<T> extends Iterable<T> {
  /** Iterates over a copy: items may be removed during the walk. */
  [Symbol.iterator](): Iterator<T>;
  /** Tracks `item` until the returned function is called (once or more: later calls do nothing). */
  add(item: T): () => void;
  /** Items tracked now. */
  readonly size: number;
}

interface Link<T> {
  item: T | null;
  prev: Link<T> | null;
  next: Link<T> | null;
}

export function createInFlight<T>(): InFlight<T> {
  /** A ring with a sentinel: the oldest item is `head.next`. */
  const head: Link<T> = { item: null, prev: null, next: null };
  head.prev = head.next = head;
  let size = 0;
  return {
    add(item) {
      const link: Link<T> = { item, prev: head.prev, next: head };
      head.prev!.next = link;
      head.prev = link;
      size++;
      return () => {
        if (!link.prev) return;
        link.prev.next = link.next;
        link.next!.prev = link.prev;
        // A removed link references nothing: whoever still holds it (a closure, an old-generation copy) keeps no response alive.
        link.item = link.prev = link.next = null;
        size--;
      };
    },
    get size() {
      return size;
    },
    [Symbol.iterator]() {
      // A copy, oldest first: the walker may finish (remove) items as it goes.
      const items: T[] = [];
      for (let link = head.next!; link !== head; link = link.next!) items.push(link.item!);
      return items.values();
    },
  };
}
