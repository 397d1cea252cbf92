/** A pending timer of a `Clock`. */
export interface ClockTimer {
  /** Lets the process exit while this timer is the only thing pending. */
  unref(): unknown;
}

/**
 * The time the daemon waits on: the wall clock and one-shot timers. The Daemon is constructed with one and hands
 * it to everything that waits: the validation poll, the reconnect and rejoin backoffs, maintenance windows,
 * reschedules and the device's own re-asks, reboot postponements, the wait for the server's fwup keys, the status
 * bound's minute. Tests give it a clock they move (the test-server's ManualClock), so that they never wait such a
 * delay out. It has the shape of phoenix-channel's `timers` option.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once, `delayMs` from now (any finite length; a negative one counts as 0). */
  setTimeout(callback: () => void, delayMs: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
}

/**
 * The longest delay Node's `setTimeout` holds (2^31−1 ms, about 24.8 days). A longer one fires at once, with a
 * TimeoutOverflowWarning, which would turn a long postponement into a tight loop: the system clock waits in steps.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** The system clock and Node's timers, a delay longer than MAX_TIMER_MS waited in steps: what the daemon runs on. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => new SteppedTimeout(callback, delayMs),
  clearTimeout: (timer) => {
    if (timer instanceof SteppedTimeout) timer.cancel();
  },
};

class SteppedTimeout implements ClockTimer {
  #remaining: number;
  #timer: NodeJS.Timeout;
  #unref = false;

  constructor(callback: () => void, delayMs: number) {
    // A delay is bounded before it gets here (config/values/delay-bounds.ts): anything else is a bug to see.
    if (!Number.isFinite(delayMs)) throw new RangeError(`delayMs: expected a finite number, got ${delayMs}`);
    this.#remaining = Math.max(0, Math.ceil(delayMs));
    const step = (): NodeJS.Timeout => {
      const wait = Math.min(this.#remaining, MAX_TIMER_MS);
      this.#remaining -= wait;
      const timer = setTimeout(() => {
        if (this.#remaining > 0) this.#timer = step();
        else callback();
      }, wait);
      if (this.#unref) timer.unref();
      return timer;
    };
    this.#timer = step();
  }

  unref(): this {
    this.#unref = true;
    this.#timer.unref();
    return this;
  }

  cancel(): void {
    clearTimeout(this.#timer);
  }
}

/** Resolves once `delayMs` have passed on `clock`; rejects with the signal's reason if it aborts first. */
export function waitOn(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
