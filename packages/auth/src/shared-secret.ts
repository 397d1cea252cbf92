/** The `x-nh-*` header set for one shared-secret connection attempt. */
import {
  HEADER_ALG,
  HEADER_KEY,
  HEADER_SIGNATURE,
  HEADER_TIME,
  NH1_ALG,
  SIGNING_MARGIN_SECONDS,
} from './constants.js';
import { invalidArgument } from './errors.js';
import { signNh1Token } from './nh1-token.js';

export interface SharedSecretHeaders {
  readonly 'x-nh-alg': string;
  readonly 'x-nh-key': string;
  readonly 'x-nh-time': string;
  readonly 'x-nh-signature': string;
}

export interface SignSharedSecretOptions {
  /** Key id: a product key (`nhp_…`) or a per-device key (normally `nhd_…`). */
  readonly key: string;
  /** The product's or the device's shared secret. Never logged. */
  readonly secret: string;
  /** The device identifier; travels only inside the token. */
  readonly identifier: string;
  /**
   * The current time in ms on the server's clock as far as it is known (`ServerClock#nowMs()`).
   * The token is dated one second before it, in whole seconds.
   * @default Date.now()
   */
  readonly nowMs?: number;
  /**
   * Sign for exactly this Unix second instead of deriving it from `nowMs` (test vectors, replays in tests).
   */
  readonly signedAt?: number;
  /** @default 'NH1-HMAC-sha256-1000-32' */
  readonly alg?: string;
}

/**
 * Signs a fresh header set. Call it immediately before every connection attempt (e.g. as phoenix-channel's
 * `headers` function): the server accepts a token for at most 90 s and newer servers reject one from the future.
 */
export function signSharedSecretHeaders(options: SignSharedSecretOptions): SharedSecretHeaders {
  const { key, secret, identifier } = options;
  if (typeof key !== 'string' || !/^[\x21-\x7e]+$/.test(key)) {
    throw invalidArgument('key', 'a non-empty key id of printable ASCII ("nhp_…" or "nhd_…")', key);
  }
  if (typeof secret !== 'string' || secret === '')
    throw invalidArgument('secret', 'a non-empty string', secret, { secret: true });
  if (typeof identifier !== 'string' || identifier === '') {
    throw invalidArgument('identifier', 'a non-empty string', identifier);
  }
  const signedAt = options.signedAt ?? signingTime(options.nowMs ?? Date.now());
  const alg = options.alg ?? NH1_ALG;
  return {
    [HEADER_ALG]: alg,
    [HEADER_KEY]: key,
    [HEADER_TIME]: String(signedAt),
    [HEADER_SIGNATURE]: signNh1Token({ key, secret, identifier, signedAt, alg }),
  };
}

/** `floor(nowMs / 1000) - 1`: whole seconds, one second in the past. */
export function signingTime(nowMs: number): number {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs) || nowMs < 0) {
    throw invalidArgument('nowMs', 'a finite number of ms since the epoch', nowMs);
  }
  return Math.max(0, Math.floor(nowMs / 1000) - SIGNING_MARGIN_SECONDS);
}
