/**
 * One task running at a time, and at most one waiting: a request while one runs replaces the one waiting, so a
 * burst of requests costs at most two runs, the second with the newest request. What was replaced is counted, for
 * a log line. For a hook that is only told something (on_error): telling it about the newest failure matters,
 * telling it a hundred times does not.
 */
export class NewestWaiting<T> {
  readonly #run: (item: T) => Promise<void>;
  readonly #onReplaced: (item: T) => void;
  #running: Promise<void> | undefined;
  #waiting: { readonly item: T; readonly done: () => void } | undefined;

  /** `onReplaced` hears each request that was replaced by a newer one, or dropped by `clear`, unrun. */
  constructor(run: (item: T) => Promise<void>, onReplaced: (item: T) => void) {
    this.#run = run;
    this.#onReplaced = onReplaced;
  }

  /** Runs `item` now, or after the run in progress; resolves once its run has ended (or it was replaced). */
  push(item: T): Promise<void> {
    if (!this.#running) return this.#start(item);
    if (this.#waiting) {
      this.#onReplaced(this.#waiting.item);
      this.#waiting.done();
    }
    let done!: () => void;
    const ended = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.#waiting = { item, done };
    return ended;
  }

  /** Drops the waiting request, if any (the daemon is stopping); the running one goes on. */
  clear(): void {
    if (!this.#waiting) return;
    this.#onReplaced(this.#waiting.item);
    this.#waiting.done();
    this.#waiting = undefined;
  }

  /** Resolves when nothing runs and nothing waits. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #start(item: T): Promise<void> {
    const running = this.#run(item)
      .catch(() => {})
      .finally(() => {
        this.#running = undefined;
        const next = this.#waiting;
        this.#waiting = undefined;
        if (next) void this.#start(next.item).then(next.done);
      });
    this.#running = running;
    return running;
  }
}
