/**
 * How long the device has run an unvalidated firmware, counted from the daemon's first start on it and kept in
 * `data_dir`, so that a crash loop or a restart does not start the count again. Within one boot the count runs on
 * the boot clock, so the time between a crash and the restart counts too; across boots it carries what the last
 * boot had counted (up to the last save, at most SAVE_INTERVAL_MS before the power went).
 */
import type { BootClock } from './boot-clock.js';

/** What `data_dir/validation.json` keeps of the count. */
export interface StoredCount {
  readonly uuid: string;
  /** Wall time of the first start, for people (ISO 8601). */
  readonly first_started_at: string;
  /** Counted in earlier boots. */
  readonly carried_ms: number;
  readonly boot_id: string;
  /** Boot clock of this boot when the count started in it. */
  readonly boot_started_ms: number;
  /** Boot clock at the last save: what this boot had counted then is carried into the next one. */
  readonly seen_ms: number;
}

/** Saved this often while the count runs (and at every state change and at stop). */
export const SAVE_INTERVAL_MS = 30_000;

export class UnvalidatedTime {
  #stored: StoredCount;
  readonly #clock: BootClock;

  /** The count of `uuid`: the stored one when it is of this firmware, else a new one from now. */
  constructor(uuid: string, stored: StoredCount | undefined, clock: BootClock, wallNow: number) {
    this.#clock = clock;
    const bootId = clock.bootId();
    const now = clock.uptimeMs();
    if (!stored || stored.uuid !== uuid) {
      this.#stored = {
        uuid,
        first_started_at: new Date(wallNow).toISOString(),
        carried_ms: 0,
        boot_id: bootId,
        boot_started_ms: now,
        seen_ms: now,
      };
    } else if (stored.boot_id !== bootId) {
      this.#stored = {
        ...stored,
        carried_ms: stored.carried_ms + Math.max(0, stored.seen_ms - stored.boot_started_ms),
        boot_id: bootId,
        boot_started_ms: now,
        seen_ms: now,
      };
    } else {
      this.#stored = { ...stored, seen_ms: now };
    }
  }

  get firstStartedAt(): string {
    return this.#stored.first_started_at;
  }

  elapsedMs(): number {
    return this.#stored.carried_ms + Math.max(0, this.#clock.uptimeMs() - this.#stored.boot_started_ms);
  }

  /** What to store now. */
  snapshot(): StoredCount {
    this.#stored = { ...this.#stored, seen_ms: this.#clock.uptimeMs() };
    return this.#stored;
  }
}
