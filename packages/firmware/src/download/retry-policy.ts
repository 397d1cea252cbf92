/** When a failed download attempt is worth repeating, and after how long. */
import { FirmwareError } from '../errors.js';

export interface RetryOptions {
  /** @default 5 */
  readonly maxAttempts?: number;
  /**
   * No headers, or no body bytes, for this long ends the attempt (FW_STALLED); the time the download itself holds
   * the body back (the bandwidth cap) does not count. @default 30000
   */
  readonly idleTimeoutMs?: number;
  /** @default 1000 */
  readonly baseDelayMs?: number;
  /** @default 30000 */
  readonly maxDelayMs?: number;
}

export const RETRY_DEFAULTS = {
  maxAttempts: 5,
  idleTimeoutMs: 30_000,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
};

/**
 * How many attempts of one download may end with this kind of error before it gives up (the attempt limit
 * applies as well). Network trouble, stalls, a body slower than the rate floor, 5xx and 429 are transient: as
 * many as the attempt limit allows. A proxy that cannot be reached or cannot reach the host (5xx to CONNECT)
 * counts as network trouble. A damaged body (size or checksum) is tried once more, in case it was damaged on the
 * way; a host that keeps serving the wrong file would otherwise be downloaded in full again and again. Refusals,
 * other 4xx, invalid input, an encoded body, a body larger than allowed and a disk that cannot take the file are
 * not repeated.
 */
export function failuresAllowed(error: unknown): number {
  if (!(error instanceof FirmwareError)) return Number.POSITIVE_INFINITY;
  switch (error.code) {
    case 'FW_NETWORK':
    case 'FW_STALLED':
    case 'FW_TOO_SLOW':
    case 'FW_PROXY':
      return Number.POSITIVE_INFINITY;
    case 'FW_SIZE_MISMATCH':
    case 'FW_CHECKSUM_MISMATCH':
      return 2;
    case 'FW_HTTP_STATUS':
      return error.statusCode === 429 || (error.statusCode ?? 0) >= 500 ? Number.POSITIVE_INFINITY : 1;
    default:
      return 1;
  }
}

/** Exponential backoff with up to 50 % jitter, or the server's `Retry-After` (capped by maxDelayMs). */
export function retryDelayMs(
  attempt: number,
  options: Required<RetryOptions>,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxDelayMs);
  const base = Math.min(options.baseDelayMs * 2 ** (attempt - 1), options.maxDelayMs);
  return Math.round(base * (1 + Math.random() * 0.5));
}

/** `Retry-After` in seconds or as an HTTP date. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs = Date.now(),
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}
