import type { Clock } from './clock.js';

/**
 * A clock that moves only when told to (`advance`), calling what was scheduled on the way, each at its own time:
 * an hour of re-asks and reboots runs in a moment, and a test sees exactly when each came. For tests, and for a
 * program that embeds the daemon and simulates time.
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 0;
  readonly #timers = new Map<number, { readonly at: number; readonly callback: () => void }>();

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, callback: () => void): () => void {
    if (!Number.isFinite(delayMs)) throw new RangeError(`delayMs: expected a finite number, got ${delayMs}`);
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, Math.ceil(delayMs)), callback });
    return () => this.#timers.delete(id);
  }

  /** How many callbacks are scheduled and not yet called or cancelled. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves the time forward by `ms`, calling every callback that falls due, in order, at its time. A negative `ms`
   * sets the clock back, as NTP does to a wall clock; nothing falls due then.
   */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let due: [number, { readonly at: number; readonly callback: () => void }] | undefined;
      for (const entry of this.#timers)
        if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = Math.max(this.#now, due[1].at);
      due[1].callback();
    }
    this.#now = end;
  }
}
