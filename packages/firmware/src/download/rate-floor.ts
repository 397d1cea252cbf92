/**
 * The slowest a body may arrive. The idle timeout ends a body that sends nothing; a host that drips a few bytes
 * now and then resets it every time and would keep a download going for as long as it likes. So the body's
 * average rate over each window of time must reach a floor, or the attempt ends (FW_TOO_SLOW, retried like a
 * network error: the next attempt may find a better path).
 *
 * The rate is checked as bytes arrive, when a window has passed: a host that sends nothing at all is the idle
 * timeout's, so no timer is needed, and the floor is known to fail at the latest one idle timeout after its window.
 */

/**
 * 512 B/s averaged over a minute: far below any link a firmware can be downloaded over (a 2 KiB/s link passes
 * with room to spare, and so does the lowest bandwidth cap, 1 KiB/s), far above a host that drips to stay alive.
 */
export const RATE_FLOOR_DEFAULTS = { bytesPerSecond: 512, windowMs: 60_000 } as const;

/** The window that fell below the floor: what arrived in it, and over how long. */
export interface RateShortfall {
  readonly bytes: number;
  readonly ms: number;
  readonly bytesPerSecond: number;
}

export class RateFloor {
  readonly #bytesPerSecond: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart: number;
  #windowBytes = 0;

  /** The first window starts now. `now` is in milliseconds (a monotonic clock). */
  constructor(bytesPerSecond: number, windowMs: number, now: () => number = () => performance.now()) {
    this.#bytesPerSecond = bytesPerSecond;
    this.#windowMs = windowMs;
    this.#now = now;
    this.#windowStart = now();
  }

  /** Counts bytes that just arrived; returns the window they close when it averaged below the floor. */
  add(bytes: number): RateShortfall | undefined {
    this.#windowBytes += bytes;
    const now = this.#now();
    const ms = now - this.#windowStart;
    if (ms < this.#windowMs) return undefined;
    const windowBytes = this.#windowBytes;
    this.#windowStart = now;
    this.#windowBytes = 0;
    const bytesPerSecond = (windowBytes * 1000) / ms;
    return bytesPerSecond < this.#bytesPerSecond ? { bytes: windowBytes, ms, bytesPerSecond } : undefined;
  }
}
