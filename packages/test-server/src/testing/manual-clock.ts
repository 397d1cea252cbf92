/**
 * A clock for tests of code that waits. Time runs with the system clock (unless `frozen`), plus every step the
 * test moves it forward (`advance`), from wherever the test starts it (`startAt`). Timers never fire on their own: only a move
 * of the clock past their due time runs them. So a test decides when a backoff, a reschedule or a poll is over,
 * instead of waiting it out or racing it. It has the shape of the daemon's `Clock` and of phoenix-channel's
 * `timers` option.
 */

/** A timer of the clock, as its `setTimeout` returns it. */
export interface ManualTimer {
  /** When it is due, on this clock (ms since the epoch). */
  readonly dueAt: number;
  /** The delay it was set with. */
  readonly delayMs: number;
  /** Does nothing: these timers keep nothing alive. */
  unref(): ManualTimer;
}

export interface ManualClockOptions {
  /** What `now()` reads at construction (ms since the epoch). @default the system clock */
  readonly startAt?: number;
  /** Time moves only with `advance`, not with the system clock between moves (exact times in unit tests). @default false */
  readonly frozen?: boolean;
}

interface Entry extends ManualTimer {
  readonly callback: () => void;
  readonly order: number;
}

export class ManualClock {
  readonly #frozenAt: number | undefined;
  #offsetMs: number;
  #movedMs = 0;
  #order = 0;
  readonly #pending = new Set<Entry>();
  readonly #watchers = new Set<() => void>();

  constructor(options: ManualClockOptions = {}) {
    const start = options.startAt ?? Date.now();
    this.#frozenAt = options.frozen ? start : undefined;
    this.#offsetMs = options.frozen ? 0 : start - Date.now();
  }

  now(): number {
    return (this.#frozenAt ?? Date.now()) + this.#offsetMs;
  }

  setTimeout(callback: () => void, delayMs: number): ManualTimer {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const entry: Entry = {
      dueAt: this.now() + delay,
      delayMs: delay,
      callback,
      order: this.#order++,
      unref: () => entry,
    };
    this.#pending.add(entry);
    for (const watcher of [...this.#watchers]) watcher();
    return entry;
  }

  clearTimeout(timer: unknown): void {
    this.#pending.delete(timer as Entry);
  }

  /** How far the test has moved the clock in all (`advance`, `runNext`), in ms. */
  get movedMs(): number {
    return this.#movedMs;
  }

  /** The timers waiting to fire, earliest first. */
  pending(): readonly ManualTimer[] {
    return this.#sorted();
  }

  /**
   * Moves the clock forward by `ms`, running every timer due by then in due order, each at its own due time (so a
   * timer set by one that ran is due relative to that). Returns how many ran.
   */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance: expected ms >= 0, got ${ms}`);
    const target = this.now() + ms;
    let ran = 0;
    for (;;) {
      const next = this.#sorted()[0];
      if (!next || next.dueAt > target) break;
      this.#moveTo(next.dueAt);
      this.#pending.delete(next);
      ran++;
      next.callback();
    }
    this.#moveTo(target);
    return ran;
  }

  /**
   * Moves the clock to the earliest pending timer (if it is not due already) and runs it, with any other timer
   * due by then. Returns how far the clock moved; throws when no timer is pending.
   */
  runNext(): number {
    const next = this.#sorted()[0];
    if (!next) throw new Error('runNext: no timer is pending on the clock');
    const step = Math.max(0, next.dueAt - this.now());
    this.advance(step);
    return step;
  }

  /**
   * Resolves with the earliest pending timer that `matches` (any timer by default) as soon as one is set; rejects
   * after `timeoutMs` of real time, naming `what` it waited for.
   */
  whenPending(
    what: string,
    matches: (timer: ManualTimer) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ManualTimer> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.#sorted().find(matches);
        if (!found) return;
        done();
        resolve(found);
      };
      const timeout = setTimeout(() => {
        done();
        const delays = this.#sorted().map((timer) => timer.delayMs);
        reject(
          new Error(`no timer for ${what} within ${timeoutMs} ms (pending delays: [${delays.join(', ')}])`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timeout);
        this.#watchers.delete(check);
      };
      this.#watchers.add(check);
      check();
    });
  }

  /** Never backwards: a timer already overdue runs at the time it is now. */
  #moveTo(at: number): void {
    const now = this.now();
    if (at <= now) return;
    this.#offsetMs += at - now;
    this.#movedMs += at - now;
  }

  #sorted(): Entry[] {
    return [...this.#pending].sort((a, b) => a.dueAt - b.dueAt || a.order - b.order);
  }
}
