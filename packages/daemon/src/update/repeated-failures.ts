import { REPEATED_FAILURES } from './constants.js';

/**
 * When each firmware failed on this device recently, for the tight-loop guard (REPEATED_FAILURES). Only failures
 * within the window are kept (none later than now), so the map is never larger than what failed in the last
 * minutes.
 */
export class RepeatedFailures {
  readonly #now: () => number;
  readonly #failures = new Map<string, number[]>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** How often `uuid` failed within the window. */
  count(uuid: string): number {
    return this.#recent(uuid).length;
  }

  /** `uuid` failed now. */
  record(uuid: string): void {
    // Forget every firmware whose failures are all older than the window, so the map stays as small as the window.
    for (const each of [...this.#failures.keys()]) this.#recent(each);
    this.#failures.set(uuid, [...this.#recent(uuid), this.#now()]);
  }

  /** `uuid` was applied: its failures no longer count. */
  forget(uuid: string): void {
    this.#failures.delete(uuid);
  }

  #recent(uuid: string): number[] {
    const now = this.#now();
    const since = now - REPEATED_FAILURES.windowMs;
    // A failure "in the future" was recorded while the clock was ahead (no RTC, NTP not yet in): it says nothing
    // of the last minutes, and kept it would hold the firmware back for as long as the clock was wrong.
    const recent = (this.#failures.get(uuid) ?? []).filter((at) => at > since && at <= now);
    if (recent.length > 0) this.#failures.set(uuid, recent);
    else this.#failures.delete(uuid);
    return recent;
  }
}
