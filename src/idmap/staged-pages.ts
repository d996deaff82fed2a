/**
 * A first resolution's staged pages, written several to a transaction. On SQLite a commit writes
 * every page it dirtied to the WAL, and pages arrive in the sources' update order while the
 * tables keep record-id order, so a page's thousand records dirtied about a thousand table and
 * index pages per table; a group of pages rewrites each of them once instead of once per page.
 *
 * Still one transaction per write with the last page's cursor, so a stopped run loses at most
 * the group and resumes after the last committed one; the caller writes the group before
 * anything reads what it holds (a page whose records may have been staged, the end of a source,
 * a failed read of the source). Only for a first resolution: a later run's pages read stored
 * state, and stay one transaction each.
 */
import type { Knex } from 'knex';
import type { ScanChanges } from './resolution-store';

/** Records held before a group is written (about ten pages of a thousand). */
export const STAGED_GROUP_RECORDS = 10_000;

export interface StagedPage {
  changes: ScanChanges;
  /** Written in the transaction after the page's changes (its match features). */
  alsoIn?: (trx: Knex) => Promise<void>;
}

export interface StagedPages {
  /** Holds a staged page; writes the group when it reached its size. */
  add(page: StagedPage, records: number): Promise<void>;
  /** Writes the pages held, if any, in one transaction. */
  flush(): Promise<void>;
}

export function stagedPages(write: (pages: StagedPage[]) => Promise<void>, limit = STAGED_GROUP_RECORDS): StagedPages {
  let pages: StagedPage[] = [];
  let records = 0;
  const flush = async () => {
    if (!pages.length) return;
    const group = pages;
    pages = [];
    records = 0;
    await write(group);
  };
  return {
    async add(page, n) {
      pages.push(page);
      records += n;
      if (records >= limit) await flush();
    },
    flush,
  };
}
