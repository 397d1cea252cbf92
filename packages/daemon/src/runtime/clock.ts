/** A pending timer of a `Clock`. */
export interface ClockTimer {
  /** Lets the process exit while this timer is the only thing pending. */
  unref(): unknown;
}

/**
 * The time the daemon waits on: the wall clock and one-shot timers. The Daemon is constructed with one and hands
 * it to everything that waits: the validation poll, the reconnect and rejoin backoffs, maintenance windows,
 * reschedules and the device's own re-asks, reboot postponements, the wait for the server's fwup keys. Tests give
 * it a clock they move, so that they never wait such a delay out.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
}

/** The system clock and Node's timers: what the daemon runs on. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};

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
