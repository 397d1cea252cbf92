/** Schedules the next attempt of something after a delay taken from a backoff schedule. */

/** A pending one-shot timer of `Timers`. */
export interface TimerHandle {
  /** Lets the process exit while this timer is the only thing pending. */
  unref(): unknown;
}

/**
 * Where the waits between attempts (and of `flush()`) are scheduled: the global timers, or a clock the caller
 * moves (tests). Heartbeats, connect and push timeouts keep the global timers.
 */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The global `setTimeout` and `clearTimeout`. */
export const SYSTEM_TIMERS: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface TimerOptions {
  /**
   * Let the process exit while this timer is the only thing pending.
   * @default false
   */
  readonly unref?: boolean;
  /** @default SYSTEM_TIMERS */
  readonly timers?: Timers;
}

/**
 * Counts attempts and runs `callback` once per `schedule()`, after `delayForAttempt(attempt)` ms.
 * `reset()` cancels and starts counting from zero again; `cancel()` keeps the count.
 */
export class Timer {
  readonly #callback: () => void;
  readonly #delayForAttempt: (attempt: number) => number;
  readonly #unref: boolean;
  readonly #timers: Timers;
  #timeout: TimerHandle | undefined;
  #attempt = 0;

  constructor(
    callback: () => void,
    delayForAttempt: (attempt: number) => number,
    options: TimerOptions = {},
  ) {
    this.#callback = callback;
    this.#delayForAttempt = delayForAttempt;
    this.#unref = options.unref ?? false;
    this.#timers = options.timers ?? SYSTEM_TIMERS;
  }

  /** Attempts scheduled since the last `reset()`. */
  get attempt(): number {
    return this.#attempt;
  }

  /** True while a run is pending. */
  get isScheduled(): boolean {
    return this.#timeout !== undefined;
  }

  /** Counts one more attempt and schedules it, replacing a pending one. Returns the delay in ms. */
  schedule(): number {
    this.cancel();
    this.#attempt += 1;
    const delayMs = sanitizeDelay(this.#delayForAttempt(this.#attempt));
    this.#timeout = this.#timers.setTimeout(() => {
      this.#timeout = undefined;
      this.#callback();
    }, delayMs);
    if (this.#unref) this.#timeout.unref();
    return delayMs;
  }

  /** Drops a pending run; the attempt count stays. */
  cancel(): void {
    if (this.#timeout !== undefined) {
      this.#timers.clearTimeout(this.#timeout);
      this.#timeout = undefined;
    }
  }

  /** Drops a pending run and counts from zero again. */
  reset(): void {
    this.cancel();
    this.#attempt = 0;
  }
}

function sanitizeDelay(value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  // setTimeout fires at once for delays above 2^31-1 ms; clamp instead.
  return Math.min(value, 2_147_483_647);
}
