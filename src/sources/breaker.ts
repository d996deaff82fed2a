/**
 * The circuit breaker every source transport (SQL and HTTP) shares, so a system that is down
 * costs callers a fast SOURCE_UNAVAILABLE instead of a timeout per request.
 */

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit fails fast before letting one trial call through. */
  cooldownMs: number;
  /** Clock, injectable so tests move time instead of waiting for it. */
  now: () => number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 5, cooldownMs: 10_000, now: Date.now };

/**
 * Closed: calls pass, consecutive failures are counted, a success resets the count.
 * Open (threshold reached): calls fail fast until the cooldown has passed.
 * Half-open: exactly one trial call passes (the others still fail fast); its success closes
 * the circuit, its failure opens it for another cooldown.
 * Transport-agnostic: the caller decides which errors count as failures.
 * `holdOpenUntil(t)` lets a caller that knows better (an HTTP Retry-After) keep an open circuit
 * from probing before `t`, however short the cooldown.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private probeNotBefore = 0;
  private current: BreakerState = 'closed';
  private readonly opts: BreakerOptions;

  constructor(opts: Partial<BreakerOptions> = {}) {
    this.opts = { ...DEFAULT_BREAKER, ...opts };
    if (!Number.isInteger(this.opts.failureThreshold) || this.opts.failureThreshold < 1)
      throw new Error(`CircuitBreaker: failureThreshold must be a positive integer, got ${this.opts.failureThreshold}`);
    if (!(this.opts.cooldownMs >= 0)) throw new Error(`CircuitBreaker: cooldownMs must be >= 0, got ${this.opts.cooldownMs}`);
  }

  get state(): BreakerState {
    if (this.current === 'open') {
      const t = this.opts.now();
      if (t - this.openedAt >= this.opts.cooldownMs && t >= this.probeNotBefore) return 'half-open';
    }
    return this.current;
  }

  /** No trial call before `t` (on the breaker's clock) should the circuit be or become open by then. */
  holdOpenUntil(t: number): void {
    if (t > this.probeNotBefore) this.probeNotBefore = t;
  }

  /**
   * Runs `fn` if the circuit lets it; otherwise throws `rejected()` without calling it.
   * `isFailure` says which errors mean "the system is unwell" (others pass through uncounted).
   */
  async run<T>(fn: () => Promise<T>, isFailure: (e: unknown) => boolean, rejected: () => Error): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) throw rejected();
    const trial = state === 'half-open';
    if (trial) this.trialInFlight = true;
    try {
      const value = await fn();
      this.failures = 0;
      this.current = 'closed';
      return value;
    } catch (e) {
      if (isFailure(e)) {
        this.failures += 1;
        if (trial || this.failures >= this.opts.failureThreshold) {
          this.current = 'open';
          this.openedAt = this.opts.now();
        }
      } else {
        // The system answered (a SQL error, a 4xx): it is reachable, whatever it thought of the request.
        this.failures = 0;
        if (trial) this.current = 'closed';
      }
      throw e;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }
}
