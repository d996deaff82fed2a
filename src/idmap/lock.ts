/**
 * One resolution at a time per OneID store, across processes: a lease row in `idmap_locks`.
 *
 * The gateway resolves at start-up and per webhook; `c360 resolve` (a cron job, say) scans in
 * another process. Two resolutions interleaving their read-then-write steps on one store could
 * stage a record twice or link against a state the other just changed, so each run holds the
 * store's lease: taken with one conditional UPDATE (free, expired, or already ours), renewed
 * while the run lasts, released at the end. A process that dies keeps it only until it expires.
 *
 * Expiry compares this process's clock with the holder's: hosts sharing a store need clocks
 * within a fraction of `ttlMs` (NTP keeps them far closer).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import { T } from './tables';

export interface LeaseOptions {
  /** How long a lease lasts without renewal (it is renewed every third of this). */
  ttlMs?: number;
  /** How long to wait for a lease another process holds before giving up. */
  waitMs?: number;
  /** Pause between attempts while waiting. */
  pollMs?: number;
  /**
   * Asked to stop (the process got SIGTERM/SIGINT): the run stops at its next write, as if the
   * lease were lost, and gives the lease back at once, so a process started next need not wait
   * out its lifetime. A wait for the lease stops too.
   */
  signal?: AbortSignal;
}

export const DEFAULT_LEASE: Required<Omit<LeaseOptions, 'signal'>> = { ttlMs: 30_000, waitMs: 60_000, pollMs: 200 };

/** The run was asked to stop (LeaseOptions.signal) and stopped before its next write; it can be run again. */
export class ResolutionInterruptedError extends Error {
  readonly code = 'RESOLUTION_INTERRUPTED';
  constructor() {
    super('Identity resolution was asked to stop and stopped before its next write; the next run goes on from there');
    this.name = 'ResolutionInterruptedError';
  }
}

/** Another process held the store's lease for longer than we were willing to wait. */
export class ResolutionBusyError extends Error {
  readonly code = 'RESOLUTION_BUSY';
  constructor(
    readonly holder: string,
    waitedMs: number,
  ) {
    super(`Another resolution (${holder}) holds this OneID store; waited ${waitedMs} ms`);
    this.name = 'ResolutionBusyError';
  }
}

/** The lease was lost while the run held it (renewal failed past its expiry): stop writing. */
export class LeaseLostError extends Error {
  readonly code = 'RESOLUTION_LEASE_LOST';
  constructor(name: string) {
    super(`The resolution lease "${name}" expired or was taken over while this run held it`);
    this.name = 'LeaseLostError';
  }
}

export interface Lease {
  readonly holder: string;
  /** The run's stop (`LeaseOptions.signal`), for what it waits on between writes (a source's Retry-After): they give up at once. */
  readonly signal?: AbortSignal;
  /** Renews the lease when due; throws LeaseLostError if it ran out or was taken. Called before every write of the run. */
  ensureHeld(): Promise<void>;
}

const newHolder = () => `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `job` holding the lease `name` on the store at `db`; waits for it up to `waitMs`. */
export async function withLease<T>(db: Knex, name: string, job: (lease: Lease) => Promise<T>, options: LeaseOptions = {}): Promise<T> {
  const { ttlMs, waitMs, pollMs, signal } = { ...DEFAULT_LEASE, ...options };
  const holder = newHolder();
  const started = Date.now();
  for (;;) {
    if (signal?.aborted) throw new ResolutionInterruptedError();
    if (await tryAcquire(db, name, holder, ttlMs)) break;
    if (Date.now() - started >= waitMs) {
      const row = await db(T.locks).where({ name }).first('holder');
      throw new ResolutionBusyError(row?.holder ?? 'unknown', Date.now() - started);
    }
    await sleep(pollMs);
  }

  // Held until the last successful write of `expires_at` says; a renewal that finds the row
  // taken over ends it at once. Renewed a third of the lifetime after the last renewal began: by
  // a timer set for that moment while the run waits on something else, and before a write once
  // it is due (a run of synchronous SQLite statements can starve timers). So the lease lapses
  // only if a renewal lands two thirds of a lifetime late (the event loop held, the statement
  // slow), not one third: a fixed interval checked against the clock skipped its turn whenever
  // it fired a millisecond early or just after a write's renewal, and renewed after two thirds
  // (2.1-2.8 s between renewals of a 3 s lease on MariaDB at load 25, 0.4 s per renewal). A write
  // waits for a renewal in flight: one that lands late still finds the row ours unless another
  // process took it meanwhile (the run then stops), and only an answer read a lifetime after it was
  // sent loses the lease by the clock.
  const renewEvery = Math.max(10, Math.floor(ttlMs / 3));
  let heldUntil = Date.now() + ttlMs;
  let renewedAt = Date.now();
  let lost = false;
  let done = false;
  let inFlight: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    if (done || lost || inFlight) return; // a renewal in flight schedules the next as it ends
    timer = setTimeout(() => void renewNow().catch(() => undefined), Math.max(0, renewedAt + renewEvery - Date.now())); // retried; expiry decides
    timer.unref();
  };
  const renewNow = () =>
    (inFlight ??= (async () => {
      const at = Date.now();
      renewedAt = at;
      try {
        if (await renew(db, name, holder, at + ttlMs)) heldUntil = at + ttlMs;
        else lost = true;
      } finally {
        inFlight = null;
        schedule();
      }
    })());
  schedule();
  const lease: Lease = {
    holder,
    signal,
    async ensureHeld() {
      if (signal?.aborted) throw new ResolutionInterruptedError();
      // A renewal in flight decides: it began after the last one that came back, which `heldUntil`
      // still holds (a timer that fired late, then a write before its answer was read).
      if (inFlight) await inFlight.catch(() => undefined);
      if (!lost && Date.now() - renewedAt >= renewEvery) await renewNow();
      if (lost || Date.now() >= heldUntil) throw new LeaseLostError(name);
    },
  };
  try {
    return await job(lease);
  } finally {
    done = true;
    clearTimeout(timer);
    await (inFlight as Promise<void> | null)?.catch(() => undefined);
    await db(T.locks).where({ name, holder }).update({ holder: '', expires_at: 0 });
  }
}

async function tryAcquire(db: Knex, name: string, holder: string, ttlMs: number): Promise<boolean> {
  await db(T.locks).insert({ name, holder: '', expires_at: 0 }).onConflict('name').ignore();
  const now = Date.now();
  // One statement decides: of two processes racing for a free lease, one UPDATE matches.
  const changed = await db(T.locks)
    .where({ name })
    .andWhere((q) => q.where('expires_at', '<', now).orWhere('holder', holder))
    .update({ holder, expires_at: now + ttlMs });
  return changed === 1;
}

async function renew(db: Knex, name: string, holder: string, expiresAt: number): Promise<boolean> {
  const changed = await db(T.locks).where({ name, holder }).update({ expires_at: expiresAt });
  return changed === 1;
}
