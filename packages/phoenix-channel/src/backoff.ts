/** Delays between attempts as a pure function of the attempt number. No timers, no I/O. */
import { DEFAULT_RECONNECT_BACKOFF, DEFAULT_REJOIN_BACKOFF } from './constants.js';
import { PhoenixChannelError } from './errors.js';

export interface BackoffOptions {
  /**
   * Delay before the first attempt.
   * @default 1000
   */
  readonly initialMs?: number;
  /**
   * Largest delay before jitter.
   * @default 60000
   */
  readonly maxMs?: number;
  /**
   * Growth per attempt.
   * @default 2
   */
  readonly factor?: number;
  /**
   * Largest random stretch as a fraction of the delay: the delay is multiplied by `1 + jitter × random()`.
   * @default 0.5
   */
  readonly jitter?: number;
  /**
   * Uniform random number in [0, 1); inject a fixed one in tests.
   * @default Math.random
   */
  readonly random?: () => number;
}

/**
 * Delay in ms before attempt `attempt` (1 for the first retry): `min(maxMs, initialMs × factor^(attempt-1))`,
 * stretched by up to `jitter` of itself. With the defaults: 1, 2, 4, 8, 16, 32, 60, 60 … s, each up to 50 % longer.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { initialMs, maxMs, factor, jitter } = { ...DEFAULT_RECONNECT_BACKOFF, ...definedOnly(options) };
  const random = options.random ?? Math.random;
  const n = Number.isFinite(attempt) && attempt >= 1 ? Math.floor(attempt) : 1;
  // Cap the exponent so huge attempt counts cannot overflow to Infinity before the min().
  const base = Math.min(maxMs, initialMs * factor ** Math.min(n - 1, 64));
  const stretch = 1 + jitter * Math.min(Math.max(random(), 0), 1);
  return Math.round(base * stretch);
}

/** A `(attempt) => ms` schedule for `reconnectAfterMs` / `rejoinAfterMs`. Validates its options at once. */
export function exponentialBackoff(options: BackoffOptions = {}): (attempt: number) => number {
  const checked = { ...DEFAULT_RECONNECT_BACKOFF, ...definedOnly(options) };
  for (const key of ['initialMs', 'maxMs', 'factor', 'jitter'] as const) {
    const value = checked[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new PhoenixChannelError(
        'PHX_INVALID_ARGUMENT',
        `backoff option ${key}: expected a finite number >= 0, got ${String(value)}`,
      );
    }
  }
  return (attempt) => backoffDelay(attempt, options);
}

/** Default reconnect schedule of a socket: 1 s → 60 s, up to 50 % jitter. */
export const defaultReconnectAfterMs: (attempt: number) => number =
  exponentialBackoff(DEFAULT_RECONNECT_BACKOFF);

/** Default rejoin schedule of a channel: 5 s → 60 s, up to 50 % jitter. */
export const defaultRejoinAfterMs: (attempt: number) => number = exponentialBackoff(DEFAULT_REJOIN_BACKOFF);

function definedOnly(options: BackoffOptions): Omit<BackoffOptions, 'random'> {
  const out: Record<string, number> = {};
  for (const key of ['initialMs', 'maxMs', 'factor', 'jitter'] as const) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}
