/**
 * When NervesHub has forgotten an update: it deletes an in-flight record whose `updated_at` is more than 30 minutes
 * old (nerves_hub_web lib/nerves_hub/firmware_updates.ex `delete_expired_inflight_updates`, run every 5 minutes by
 * lib/nerves_hub/workers/expire_inflight_updates.ex), and a final status that arrives without its record crashes
 * the device channel: nothing is recorded, and the device rejoins (firmware_updates.ex `status_update/4`, where
 * `ignored` and `failed` read the deployment group of a record it has just made). So a status of an update whose
 * record may be gone is not sent: the next join without the uuid lets NervesHub clear whatever is left.
 *
 * The record's `updated_at` moves when a status or progress of the update lands; progress is written at most every
 * 15 s (firmware_updates.ex, `update_progress`), so the record may be gone from 30 minutes minus 15 s after the
 * last frame of the update left the socket.
 */
const INFLIGHT_EXPIRY_MS = 30 * 60_000;
const PROGRESS_WRITE_INTERVAL_MS = 15_000;
export const INFLIGHT_MAY_EXPIRE_MS = INFLIGHT_EXPIRY_MS - PROGRESS_WRITE_INTERVAL_MS;

export interface InflightExpiryOptions {
  /** A monotonic clock in milliseconds. @default performance.now */
  readonly now?: () => number;
  /** Told once per update whose waiting frames were dropped, with how long nothing of it had left. */
  readonly onExpired: (uuid: string, silentForMs: number) => void;
  /** Runs `callback` after `ms`; returns its cancel. @default an unref'd setTimeout */
  readonly setTimer?: (callback: () => void, ms: number) => () => void;
}

function unrefTimer(callback: () => void, ms: number): () => void {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/** How one frame of an update goes: the signal that drops it while it waits, `onSent` once it has left. */
export interface TrackedFrame {
  readonly signal: AbortSignal;
  readonly onSent: () => void;
  /** The channel refused the frame: it never waited. */
  readonly refused: () => void;
}

interface Tracked {
  readonly controller: AbortController;
  lastLeftAt: number | undefined;
  cancelTimer: (() => void) | undefined;
  /** `onDropped` of each frame handed to the channel that has not left yet. */
  readonly waiting: Set<() => void>;
}

/**
 * One abort signal per update for its frames waiting in the channel's buffer, aborted once the record may have
 * expired on the server, which drops them. An update none of whose frames has left yet has no record to lose:
 * its frames all go out together after the next join.
 */
export class InflightExpiry {
  readonly #now: () => number;
  readonly #onExpired: (uuid: string, silentForMs: number) => void;
  readonly #setTimer: (callback: () => void, ms: number) => () => void;
  readonly #updates = new Map<string, Tracked>();

  constructor(options: InflightExpiryOptions) {
    this.#now = options.now ?? (() => performance.now());
    this.#onExpired = options.onExpired;
    this.#setTimer = options.setTimer ?? unrefTimer;
  }

  /**
   * A frame of update `uuid` about to be sent, or null when the update's record may be gone already (send nothing).
   * `onDropped` runs if the frame is dropped while it waits.
   */
  frame(uuid: string, onDropped: () => void = () => {}): TrackedFrame | null {
    const tracked = this.#track(uuid);
    if (tracked.controller.signal.aborted) return null;
    tracked.waiting.add(onDropped);
    return {
      signal: tracked.controller.signal,
      onSent: () => {
        if (!tracked.waiting.delete(onDropped)) return;
        tracked.lastLeftAt = this.#now();
        this.#arm(uuid, tracked);
      },
      refused: () => void tracked.waiting.delete(onDropped),
    };
  }

  /**
   * A new offer of `uuid` is answered: its frames start afresh, and updates with nothing waiting are forgotten (an
   * offer arrives only while joined, when every earlier frame has left).
   */
  start(uuid: string): void {
    for (const [other, tracked] of this.#updates) {
      if (tracked.waiting.size > 0) continue;
      tracked.cancelTimer?.();
      this.#updates.delete(other);
    }
    this.#track(uuid);
  }

  #track(uuid: string): Tracked {
    let tracked = this.#updates.get(uuid);
    if (!tracked) {
      tracked = {
        controller: new AbortController(),
        lastLeftAt: undefined,
        cancelTimer: undefined,
        waiting: new Set(),
      };
      this.#updates.set(uuid, tracked);
    }
    return tracked;
  }

  #arm(uuid: string, tracked: Tracked): void {
    tracked.cancelTimer?.();
    tracked.cancelTimer = this.#setTimer(() => this.#expire(uuid, tracked), INFLIGHT_MAY_EXPIRE_MS);
  }

  #expire(uuid: string, tracked: Tracked): void {
    tracked.cancelTimer = undefined;
    tracked.controller.abort();
    const dropped = [...tracked.waiting];
    tracked.waiting.clear();
    if (dropped.length === 0) return;
    this.#onExpired(uuid, this.#now() - (tracked.lastLeftAt ?? this.#now()));
    for (const onDropped of dropped) onDropped();
  }
}
