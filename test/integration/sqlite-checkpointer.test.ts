import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { holdCheckpoints, startCheckpointer } from '../../src/sqlite-checkpointer';
import { tempDir } from '../helpers/tmp';

/** Polls `check` until it holds; generous, since CI shares a loaded machine. */
async function eventually(check: () => boolean, ms = 20_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe('WAL checkpoints on a worker thread', () => {
  let dir: string;
  let file: string;
  let writer: Database.Database;
  beforeEach(() => {
    dir = tempDir('checkpointer');
    file = path.join(dir, 'x.sqlite');
    writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = NORMAL');
    // Commits never checkpoint here: whatever reaches the database file, the worker put there.
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)');
    writer.pragma('wal_checkpoint(TRUNCATE)');
  });
  afterEach(() => {
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Frames in the WAL, as a PASSIVE checkpoint answers them (nothing left to copy: the worker copied it); -1 while the worker holds the checkpoint. */
  const framesInWal = () => (writer.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>)[0].log;

  const fill = (from: number) => {
    const insert = writer.prepare('INSERT INTO t (id, body) VALUES (?, ?)');
    writer.transaction(() => {
      for (let i = from; i < from + 500; i++) insert.run(i, 'x'.repeat(200));
    })();
  };

  it('copies committed pages into the database file without any commit checkpointing', async () => {
    // The rows the database file holds by itself, as a copy of it without the WAL reads them (null: a torn copy).
    const rowsInFile = (): number | null => {
      const copy = path.join(dir, `copy-${Date.now()}.sqlite`);
      fs.copyFileSync(file, copy);
      const alone = new Database(copy);
      try {
        return (alone.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
      } catch (e) {
        // A copy taken while the worker writes pages into the file can be torn (the copy is not
        // atomic against the checkpoint): not the file's state, so not yet an answer.
        if ((e as { code?: string }).code === 'SQLITE_CORRUPT') return null;
        throw e;
      } finally {
        alone.close();
      }
    };
    fill(0);
    expect(rowsInFile()).toBe(0);
    const checkpointer = startCheckpointer(file, { everyMs: 20 });
    try {
      expect(await eventually(() => rowsInFile() === 500)).toBe(true);
    } finally {
      await checkpointer.close();
    }
  });

  it('starts the WAL over once it has caught up, so a busy writer never checkpoints on its own thread', async () => {
    const checkpointer = startCheckpointer(file, { everyMs: 20 });
    try {
      const walBytes: number[] = [];
      for (let round = 0; round < 5; round++) {
        fill(round * 500);
        walBytes.push(fs.statSync(`${file}-wal`).size);
        // Only a write after a complete checkpoint restarts the log: the worker's own, since this writer is idle.
        expect(await eventually(() => framesInWal() >= 0 && framesInWal() <= 2)).toBe(true);
      }
      // Every round wrote its frames from the WAL's beginning again: the file never grew past the first round's.
      expect(Math.max(...walBytes)).toBeLessThanOrEqual(walBytes[0] + 64 * 1024);
      expect(writer.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 2500 });
      expect(writer.pragma('user_version', { simple: true })).toBe(0);
    } finally {
      await checkpointer.close();
    }
  });

  it('waits out another writer holding the lock without calling it a failure, and starts the WAL over after it', async () => {
    const codes: string[] = [];
    fill(0);
    writer.exec('BEGIN IMMEDIATE');
    const checkpointer = startCheckpointer(file, { everyMs: 20, onError: (code) => codes.push(code) });
    try {
      // Several of the worker's turns meet the lock held (a resolution's batch does this).
      await new Promise((r) => setTimeout(r, 500));
      writer.exec('COMMIT');
      expect(await eventually(() => framesInWal() >= 0 && framesInWal() <= 2)).toBe(true);
      expect(codes).toEqual([]);
    } finally {
      await checkpointer.close();
    }
  });

  it('holds off while a resolution writes the file, and checkpoints again once released', async () => {
    const checkpointer = startCheckpointer(file, { everyMs: 20 });
    // The worker's first turns, then a hold, as resolve's bulk settings take one.
    await new Promise((r) => setTimeout(r, 100));
    const release = holdCheckpoints(file);
    try {
      const before = fs.statSync(file).size;
      fill(0);
      await new Promise((r) => setTimeout(r, 300));
      expect(fs.statSync(file).size).toBe(before);
      release();
      release(); // a second release is nothing
      expect(await eventually(() => fs.statSync(file).size > before)).toBe(true);
    } finally {
      release();
      await checkpointer.close();
    }
  });

  it('says why it cannot checkpoint, by code only, and closes all the same', async () => {
    const codes: string[] = [];
    const checkpointer = startCheckpointer(path.join(dir, 'missing.sqlite'), { everyMs: 20, onError: (code) => codes.push(code) });
    expect(await eventually(() => codes.length > 0)).toBe(true);
    expect(codes[0]).toMatch(/^[A-Z_]+$/);
    await checkpointer.close();
    await checkpointer.close();
  });
});
