/** Phoenix heartbeat: one `heartbeat` on topic `phoenix` per interval; a missing reply means a dead peer. */

export interface HeartbeatOptions {
  /** Time between two heartbeats. */
  readonly intervalMs: number;
  /** Time a reply may take, at most `intervalMs`; a longer value is treated as `intervalMs`. */
  readonly timeoutMs: number;
  /** Sends one heartbeat and returns its ref, or `null` if it could not be sent. */
  readonly send: () => string | null;
  /** Called once when a heartbeat went unanswered; the heartbeat has stopped itself by then. */
  readonly onTimeout: (ref: string) => void;
}

/**
 * Sends a heartbeat every `intervalMs`. If the previous one has no reply when the next is due, or after
 * `timeoutMs` when that is shorter, it stops and calls `onTimeout`. Its timers never keep the process alive.
 */
export class Heartbeat {
  readonly #options: HeartbeatOptions;
  #tick: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #pendingRef: string | null = null;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  /** Ref of the heartbeat awaiting its reply, or `null`. */
  get pendingRef(): string | null {
    return this.#pendingRef;
  }

  /** True between `start()` and `stop()` (or a timeout). */
  get isRunning(): boolean {
    return this.#tick !== undefined;
  }

  /** Starts (or restarts) the schedule; the first heartbeat goes out after one interval. */
  start(): void {
    this.stop();
    this.#scheduleTick();
  }

  /** Stops sending and forgets the pending heartbeat. */
  stop(): void {
    clearTimeout(this.#tick);
    clearTimeout(this.#deadline);
    this.#tick = undefined;
    this.#deadline = undefined;
    this.#pendingRef = null;
  }

  /** Takes a `phx_reply` on topic `phoenix`; returns true if it answered the pending heartbeat. */
  handleReply(ref: string | null): boolean {
    if (ref === null || ref !== this.#pendingRef) return false;
    this.#pendingRef = null;
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    return true;
  }

  #scheduleTick(): void {
    this.#tick = setTimeout(() => this.#onTick(), this.#options.intervalMs);
    this.#tick.unref();
  }

  #onTick(): void {
    this.#tick = undefined;
    if (this.#pendingRef !== null) {
      this.#expire(this.#pendingRef);
      return;
    }
    this.#pendingRef = this.#options.send();
    this.#scheduleTick();
    if (this.#pendingRef !== null && this.#options.timeoutMs < this.#options.intervalMs) {
      const ref = this.#pendingRef;
      this.#deadline = setTimeout(() => this.#expire(ref), Math.max(0, this.#options.timeoutMs));
      this.#deadline.unref();
    }
  }

  #expire(ref: string): void {
    this.stop();
    this.#options.onTimeout(ref);
  }
}
