/**
 * How often each key (a firmware uuid) was counted within a sliding window, for the status bound
 * (STATUS_BOUND). Counts older than the window are forgotten, and at most `maxKeys` keys are kept (the oldest go
 * first), a long key by its digest, so a server that offers a stream of new firmware, or uuids of any size, cannot
 * grow it without bound.
 */
import { createHash } from 'node:crypto';

/** A key longer than this (no uuid is) is kept as its SHA-256. */
const KEY_MAX_CHARS = 128;

export class RecentCounts {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** Key → when it was counted, oldest first; a Map keeps keys in the order they were last set. */
  readonly #times = new Map<string, number[]>();

  constructor(options: { readonly windowMs: number; readonly maxKeys: number; readonly now: () => number }) {
    this.#windowMs = options.windowMs;
    this.#maxKeys = options.maxKeys;
    this.#now = options.now;
  }

  /** How often `key` was counted within the window. */
  count(key: string): number {
    return this.#recent(keyOf(key)).length;
  }

  /** Counts `key` now if it was counted fewer than `limit` times within the window; false (not counted) if not. */
  take(key: string, limit: number): boolean {
    const kept = keyOf(key);
    const recent = this.#recent(kept);
    if (recent.length >= limit) return false;
    this.#times.delete(kept);
    this.#times.set(kept, [...recent, this.#now()]);
    while (this.#times.size > this.#maxKeys) this.#times.delete(this.#times.keys().next().value!);
    return true;
  }

  #recent(key: string): number[] {
    const now = this.#now();
    const since = now - this.#windowMs;
    // A count in the future is from before the clock was set back (NTP's first sync): it would hold for as long.
    const recent = (this.#times.get(key) ?? []).filter((at) => at > since && at <= now);
    if (recent.length === 0) this.#times.delete(key);
    else this.#times.set(key, recent);
    return recent;
  }
}

function keyOf(key: string): string {
  return key.length <= KEY_MAX_CHARS ? key : `sha256:${createHash('sha256').update(key).digest('base64')}`;
}
