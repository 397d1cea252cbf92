import { ServerClock, signSharedSecretHeaders } from '@nerves-hub-link/auth';
import type { Logger } from '../log/logger.js';
import { httpStatusOf } from './connection-errors.js';

/** A device clock this far off the server's is worth a warning; NervesHub accepts signatures up to 90 s old. */
const CLOCK_WARNING_MS = 5_000;
/** A refusal is retried at once only when it moved the known server clock this much: the clock may have been it. */
const CLOCK_RETRY_MS = 5_000;

export interface SharedSecretSigningOptions {
  /** `auth.key`: a product key (nhp_…) or a device key (nhd_…). */
  readonly key: string;
  readonly secret: string;
  readonly identifier: string;
  /** The device clock (tests shift it). @default Date.now */
  readonly now?: () => number;
  readonly logger: Pick<Logger, 'warn'>;
}

/**
 * NervesHub's shared-secret authentication: the `x-nh-*` headers with their NH1 signature, signed afresh for every
 * connection attempt on the server's clock as far as the device knows it. A refused attempt carries the server's
 * `Date`, which teaches the clock; a device whose clock is minutes off still joins on its next attempt.
 */
export class SharedSecretSigning {
  readonly #options: SharedSecretSigningOptions;
  readonly #clock: ServerClock;

  constructor(options: SharedSecretSigningOptions) {
    this.#options = options;
    this.#clock = new ServerClock({ now: options.now ?? Date.now });
  }

  /** How far the server's clock is ahead of the device's, as far as it is known. */
  get clockOffsetMs(): number {
    return this.#clock.offsetMs;
  }

  /** The headers of one connection attempt, signed now. */
  headers(): Record<string, string> {
    const { key, secret, identifier } = this.#options;
    return { ...signSharedSecretHeaders({ key, secret, identifier, nowMs: this.#clock.nowMs() }) };
  }

  /**
   * Learns the server's clock from a failed attempt. True when that makes another attempt at once worth it: a 401
   * whose `Date` moved the known offset noticeably, so the refusal could have been the clock.
   */
  learnFrom(error: Error): boolean {
    const before = this.#clock.offsetMs;
    if (!this.#clock.observeError(error)) return false;
    const offsetMs = this.#clock.offsetMs;
    if (Math.abs(offsetMs) > CLOCK_WARNING_MS) {
      this.#options.logger.warn(
        `the device clock is ${Math.round(offsetMs / 1000)} s off the server's; signing with the server's time`,
      );
    }
    return httpStatusOf(error) === 401 && Math.abs(offsetMs - before) > CLOCK_RETRY_MS;
  }
}
