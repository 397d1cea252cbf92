/** The server's clock as seen from here: an offset learnt from HTTP `Date` headers. */

export interface ServerClockOptions {
  /**
   * The local clock in ms since the epoch.
   * @default Date.now
   */
  readonly now?: () => number;
}

/**
 * Keeps `offset = server Date − local time of receipt` from the most recent response that carried a `Date`
 * header (every 401 from NervesHub does), and answers `nowMs()` on the server's clock. This corrects a device
 * clock that is behind (token expired) and one that is ahead (token from the future), which the server
 * cannot tell apart in its 401.
 *
 * `Date` has whole-second resolution, so the estimate is up to about a second behind the server; the signer's
 * own one-second margin then keeps tokens safely in the past.
 */
export class ServerClock {
  readonly #now: () => number;
  #offsetMs = 0;
  #observed = false;

  constructor(options: ServerClockOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** ms to add to the local clock to get the server's (0 until a `Date` header was seen). */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Whether a `Date` header has been observed. */
  get hasObservation(): boolean {
    return this.#observed;
  }

  /** Current time on the server's clock as far as known: local now + offset. */
  nowMs(): number {
    return this.#now() + this.#offsetMs;
  }

  /**
   * Learns the offset from an HTTP `Date` header value (IMF-fixdate). Returns false, and keeps the old offset,
   * when the value is missing or cannot be parsed.
   * @param receivedAtMs local time at which the response arrived; @default now
   */
  observeDateHeader(dateValue: string | undefined | null, receivedAtMs?: number): boolean {
    if (typeof dateValue !== 'string') return false;
    const serverMs = Date.parse(dateValue);
    if (!Number.isFinite(serverMs)) return false;
    this.#offsetMs = serverMs - (receivedAtMs ?? this.#now());
    this.#observed = true;
    return true;
  }

  /**
   * Learns from a failed connection attempt: looks for response `headers.date` on the error and along its
   * `cause` chain (phoenix-channel's `UpgradeRejectedError` carries it). Returns true when one was found.
   */
  observeError(error: unknown, receivedAtMs?: number): boolean {
    let current: unknown = error;
    for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
      const headers = (current as { headers?: unknown }).headers;
      if (headers !== null && typeof headers === 'object') {
        const date = (headers as Record<string, unknown>).date;
        if (typeof date === 'string') return this.observeDateHeader(date, receivedAtMs);
      }
      current = (current as { cause?: unknown }).cause;
    }
    return false;
  }

  /** Forgets what was learnt. */
  reset(): void {
    this.#offsetMs = 0;
    this.#observed = false;
  }
}
