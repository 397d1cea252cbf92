/**
 * The wall clock and delayed callbacks of the daemon's own decisions (an offer asked about again, a reboot asked
 * about again): the system's, or one a test moves by hand. Node's `setTimeout` holds at most 2^31−1 ms (about
 * 24.8 days); a longer delay fires at once, with a TimeoutOverflowWarning, which turns a long postponement into a
 * tight loop. `schedule` takes any delay and waits in steps.
 */

/** The longest delay `setTimeout` holds. */
export const MAX_TIMER_MS = 2_147_483_647;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `callback` once, `delayMs` from now (any finite length; a negative one counts as 0). Returns the
   * cancel. The timer never keeps the process alive on its own.
   */
  schedule(delayMs: number, callback: () => void): () => void;
}

/** Date.now and timers that wait in steps of at most MAX_TIMER_MS. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule: scheduleInSteps,
};

function scheduleInSteps(delayMs: number, callback: () => void): () => void {
  // A delay is bounded before it gets here (config/values/delay-bounds.ts): anything else is a bug to see.
  if (!Number.isFinite(delayMs)) throw new RangeError(`delayMs: expected a finite number, got ${delayMs}`);
  let remaining = Math.max(0, Math.ceil(delayMs));
  let timer: NodeJS.Timeout | undefined;
  const step = () => {
    const wait = Math.min(remaining, MAX_TIMER_MS);
    remaining -= wait;
    timer = setTimeout(() => {
      timer = undefined;
      if (remaining > 0) step();
      else callback();
    }, wait);
    timer.unref();
  };
  step();
  return () => clearTimeout(timer);
}
