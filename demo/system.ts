/**
 * The contract of a demo system beyond the original four (which demo/world.ts draws in one
 * pass): one folder `demo/systems/<name>/` whose `index.ts` exports `system`, found by
 * demo/systems.ts. A demo system is a stand-in for a real external system: its tables, the
 * rows each person of the world leaves in it, and an HTTP server speaking the real system's
 * wire format over those tables.
 *
 * Stand-ins import no gateway code (nothing under src/): they are other companies' systems.
 *
 * Honest data: a person's rows follow from the person model (demo/world.ts `Person`) and the
 * system's own habits (how staff type, what the platform masks), drawn from an Rng stream of
 * the system's own, so adding a system never changes the rows of the others. The ground truth
 * of a record is the person who left it, nothing else.
 */
import type { Knex } from 'knex';
import type { Person, Rng } from './world';

export interface DemoWorldContext {
  seed: number;
  people: number;
  /** The world's "now" (unix ms); every time lies in the 3 years before it. */
  asOf: number;
}

export interface StandIn {
  url: string;
  close(): Promise<void>;
}

export interface DemoSystem {
  /** The OneID source name the demo config gives this system's instance (`wecom`, `marketplace`). */
  readonly name: string;
  /** Its SQLite store: `<dataDir>/<store>.sqlite`. */
  readonly store: string;
  /** Table → columns in insert order. */
  readonly tables: Readonly<Record<string, readonly string[]>>;
  /** Creates (replacing) the tables in the store. */
  createTables(db: Knex): Promise<void>;
  /** Whether a person is present at all; draws only from `rng`. */
  present(person: Person, rng: Rng): boolean;
  /** The rows one present person left, table → rows; draws only from `rng` (the system's own stream). */
  rowsFor(person: Person, rng: Rng, ctx: DemoWorldContext): Record<string, Array<Record<string, unknown>>>;
  /** The table holding the system's OneID records and each row's record id: the ground truth. */
  readonly records: { table: string; id(row: Record<string, unknown>): string };
  /** Serves the stand-in over the store on 127.0.0.1:`port` (0: any free port). */
  serve(opts: { dbFile: string; port: number }): Promise<StandIn>;
  /** The gateway's source instance options (besides name and kind) for a running stand-in. */
  sourceOptions(url: string): Record<string, unknown>;
  /** The source kind the gateway serves it with. */
  readonly kind: string;
}
