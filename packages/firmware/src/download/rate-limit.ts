/**
 * A bandwidth cap for the download body: a token bucket that refills at the cap and holds a small burst. Each
 * chunk takes its bytes from the bucket; one that leaves it in debt holds reading (through the body's own
 * back-pressure, so nothing reads the socket and TCP slows the sender) until the debt is paid. Over any
 * span of time no more than the cap times the span, plus the burst and one socket read, is taken.
 */
import { FirmwareError } from '../errors.js';
import type { BodySink } from './http-get.js';

/**
 * The burst is this much time at the cap, within the bounds below: small against any download, and enough to make
 * up for a timer that fires late or a process that was not scheduled for a few tens of milliseconds.
 */
const BURST_MS = 50;
const MIN_BURST_BYTES = 16 * 1024;
const MAX_BURST_BYTES = 2 * 1024 * 1024;
/** Below this a single socket read (up to 64 KiB) would pause reading for minutes. */
export const MIN_RATE_BYTES_PER_SECOND = 1024;

export class TokenBucket {
  readonly bytesPerSecond: number;
  readonly burstBytes: number;
  readonly #now: () => number;
  #tokens = 0;
  /** When the bucket was last filled; unset until the first bytes arrive. */
  #at: number | undefined;

  /** `now` is in milliseconds (a monotonic clock). */
  constructor(bytesPerSecond: number, now: () => number = () => performance.now()) {
    if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < MIN_RATE_BYTES_PER_SECOND) {
      throw new FirmwareError(
        'FW_RATE_INVALID',
        `invalid rate: maxBytesPerSecond must be at least ${MIN_RATE_BYTES_PER_SECOND}, got ${String(bytesPerSecond)}`,
      );
    }
    this.bytesPerSecond = bytesPerSecond;
    this.burstBytes = Math.min(
      MAX_BURST_BYTES,
      Math.max(MIN_BURST_BYTES, Math.round((bytesPerSecond * BURST_MS) / 1000)),
    );
    this.#now = now;
  }

  /** Takes `bytes`; returns how long to wait, in milliseconds, before reading more (0: go on). */
  take(bytes: number): number {
    const now = this.#now();
    // Empty until the first bytes: the body starts at the cap, not with a burst above it.
    const elapsed = this.#at === undefined ? 0 : now - this.#at;
    this.#tokens = Math.min(this.burstBytes, this.#tokens + (elapsed * this.bytesPerSecond) / 1000);
    this.#at = now;
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.bytesPerSecond;
  }
}

/** `sink` with reading held whenever the bucket is in debt, and until `sink` itself drains. */
export function rateLimited(sink: BodySink, bucket: TokenBucket): BodySink {
  let sinkReady = true;
  return {
    push(chunk) {
      sinkReady = sink.push(chunk);
      return bucket.take(chunk.length) === 0 && sinkReady;
    },
    onDrain(resume) {
      // The debt as it is now: it covers every chunk taken since reading was held.
      const waitMs = bucket.take(0);
      const ready = sinkReady;
      const afterWait = () => (ready ? resume() : sink.onDrain(resume));
      if (waitMs > 0) setTimeout(afterWait, Math.ceil(waitMs));
      else afterWait();
    },
  };
}
