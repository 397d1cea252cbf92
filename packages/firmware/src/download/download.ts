/**
 * Downloads a firmware file completely to disk: attempts from byte 0 (never a resume), size and SHA-256 checked,
 * the file renamed into place only when everything matched. Nothing partial is ever left behind. The file is not
 * fsynced (see body-to-file.ts): it is there for what reads it next, not for after a power cut.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PeerCertificate } from 'node:tls';
import { FirmwareError } from '../errors.js';
import { downloadAttempt, parseUrl } from './attempt.js';
import { trackedDispatcher } from './connection-tracker.js';
import type { ProxyOption } from './proxy.js';
import { RATE_FLOOR_DEFAULTS } from './rate-floor.js';
import { TokenBucket } from './rate-limit.js';
import { redactUrl } from './redact-url.js';
import { failuresAllowed, RETRY_DEFAULTS, type RetryOptions, retryDelayMs } from './retry-policy.js';
import { trustContext } from './trust-context.js';

export interface DownloadProgress {
  readonly bytes: number;
  readonly total: number | undefined;
  readonly percent: number | undefined;
}

/** One HTTP request of a download, as its connection is established. */
export interface DownloadConnection {
  /** The download attempt (1, 2, …) the request belongs to; redirect hops share their attempt's number. */
  readonly attempt: number;
  /**
   * Local IP address of the request's TCP connection, as Node reports it (`192.0.2.2`, `fe80::1`,
   * `::ffff:192.0.2.2`); undefined when it cannot be read.
   */
  readonly localAddress: string | undefined;
}

export interface DownloadLogger {
  info?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
}

export interface DownloadFirmwareOptions {
  readonly url: string;
  /** Where the file goes; created if missing. */
  readonly directory: string;
  /** @default a random name ending in `.fw` */
  readonly fileName?: string;
  /**
   * `size` from the update message, in bytes (a whole number, else FW_SIZE_INVALID before any request): checked,
   * used for the free-space check, and the most that is read: a body with a byte more ends the attempt
   * (FW_SIZE_MISMATCH). Without it, `Content-Length` bounds the body; without either, the free space of
   * `directory` less 1 MiB (FW_NO_SPACE) and `maxSize` (FW_TOO_LARGE) do.
   */
  readonly expectedSize?: number;
  /**
   * The largest firmware this device takes, in bytes: an `expectedSize` above it fails before any request, a
   * `Content-Length` above it when the headers arrive, and a body that announced no size at its first byte past
   * it (FW_TOO_LARGE, not retried). @default no limit but the free space
   */
  readonly maxSize?: number;
  /**
   * `checksum` from the update message (SHA-256 hex, any case). Anything but 64 hex digits fails at once with
   * FW_CHECKSUM_INVALID, before any request.
   */
  readonly expectedSha256?: string;
  /** Extra trust anchors (PEM), added to the system's. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Allow `http://` (local testing only). @default false */
  readonly allowHttp?: boolean;
  readonly signal?: AbortSignal;
  /** Called at most every 250 ms, and at the end. */
  readonly onProgress?: (progress: DownloadProgress) => void;
  /**
   * Called once for every HTTP request of the download (each attempt, each redirect hop) when it has its
   * connection, before any of the response is read, with the local IP address of that connection: e.g. to tell
   * which network interface carries the download. A request on a kept-alive connection is reported too. An
   * exception thrown here is logged and ignored.
   */
  readonly onConnection?: (info: DownloadConnection) => void;
  readonly retry?: RetryOptions;
  /**
   * Waits out the delay before the next attempt, rejecting when `signal` aborts; a caller whose tests move a clock
   * passes a wait on that clock. @default `setTimeout` of node:timers/promises
   */
  readonly waitBeforeRetry?: (delayMs: number, signal: AbortSignal | undefined) => Promise<void>;
  /**
   * An HTTP proxy (`http://[user:password@]host:port`), or a function of each request URL (every redirect hop)
   * returning one or undefined (direct). Requests go through a CONNECT tunnel with TLS end to end; failures to get
   * through are FW_PROXY (retried) or FW_PROXY_REFUSED (credentials, or a refusal). Environment variables are not
   * read. `onConnection` then reports the local address of the connection toward the proxy.
   */
  readonly proxy?: ProxyOption;
  /**
   * Replaces Node's check of each firmware host's name, as in `tls.connect` (called only for a chain the CAs
   * verified; call `tls.checkServerIdentity` in it to keep the name check), e.g. to add public-key pins. An error
   * it returns, other than a name mismatch, ends the download with FW_SERVER_IDENTITY, not retried.
   */
  readonly checkServerIdentity?: (hostname: string, certificate: PeerCertificate) => Error | undefined;
  /**
   * Bandwidth cap of the body, in bytes per second (at least 1024): a token bucket with a small burst pauses
   * reading whenever the download runs ahead of it.
   */
  readonly maxBytesPerSecond?: number;
  /**
   * The slowest a body may arrive, in bytes per second averaged over each `minRateWindowMs`: a host that drips
   * bytes keeps resetting the idle timeout but ends the attempt here (FW_TOO_SLOW, retried like a network
   * error). 0 turns the floor off; with `maxBytesPerSecond` it must be below the cap (else FW_RATE_INVALID).
   * @default 512
   */
  readonly minBytesPerSecond?: number;
  /** @default 60000 */
  readonly minRateWindowMs?: number;
  /** @default 5 */
  readonly maxRedirects?: number;
  /** @default 'nerves-hub-link' */
  readonly userAgent?: string;
  readonly logger?: DownloadLogger;
}

export interface DownloadResult {
  /** The file, complete in the page cache but not fsynced: to keep it across a power cut, `sync()` it first. */
  readonly path: string;
  readonly size: number;
  /** Uppercase hex. */
  readonly sha256: string;
  readonly attempts: number;
}

const PROGRESS_INTERVAL_MS = 250;

export async function downloadFirmware(options: DownloadFirmwareOptions): Promise<DownloadResult> {
  const retry = { ...RETRY_DEFAULTS, ...options.retry };
  // What can never succeed fails before any request: no attempt of it is worth repeating.
  parseUrl(options.url, 'the firmware URL');
  checkSha256(options.expectedSha256);
  checkSizes(options);
  const bucket =
    options.maxBytesPerSecond === undefined ? undefined : new TokenBucket(options.maxBytesPerSecond);
  const minRate = rateFloor(options);
  await mkdir(options.directory, { recursive: true, mode: 0o700 });
  const finalPath = join(options.directory, options.fileName ?? `${randomUUID()}.fw`);
  const partPath = `${finalPath}.part`;
  const extraCa = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
  const connections = trackedDispatcher(
    {
      // One context for every connection: a `ca` here would parse the root certificates again for each.
      ...(extraCa.length > 0 ? { secureContext: trustContext(extraCa) } : {}),
      ...(options.checkServerIdentity
        ? { checkServerIdentity: identityCheck(options.checkServerIdentity) }
        : {}),
    },
    options.proxy,
  );
  const progress = throttledProgress(options.onProgress);
  let lastError: unknown;
  let attempts = 0;
  /** Failed attempts so far, by error code: each kind of failure has its own allowance. */
  const failures = new Map<string, number>();
  try {
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      attempts = attempt;
      if (options.signal?.aborted) throw new FirmwareError('FW_ABORTED', 'download cancelled');
      try {
        const result = await downloadAttempt({
          url: options.url,
          partPath,
          directory: options.directory,
          route: (url) => connections.route(url),
          attempt,
          expectedSize: options.expectedSize,
          maxSize: options.maxSize,
          minRate,
          idleTimeoutMs: retry.idleTimeoutMs,
          maxRedirects: options.maxRedirects ?? 5,
          allowHttp: options.allowHttp ?? false,
          userAgent: options.userAgent ?? 'nerves-hub-link',
          signal: options.signal,
          onBytes: progress.update,
          bucket,
          onConnected: (_url, localAddress) => reportConnection(options, { attempt, localAddress }),
        });
        checkExpectations(result, options);
        await rename(partPath, finalPath);
        progress.finish();
        return { path: finalPath, size: result.size, sha256: result.sha256, attempts: attempt };
      } catch (error) {
        await rm(partPath, { force: true });
        lastError = error;
        if (options.signal?.aborted)
          throw new FirmwareError('FW_ABORTED', 'download cancelled', { cause: error });
        const kind = error instanceof FirmwareError ? error.code : 'other';
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
        if (failures.get(kind)! >= failuresAllowed(error) || attempt === retry.maxAttempts) break;
        const delay = retryDelayMs(attempt, retry, (error as FirmwareError).retryAfterMs);
        options.logger?.warn?.(
          `download attempt ${attempt} of ${retry.maxAttempts} failed (${(error as Error).message}); retrying in ${(delay / 1000).toFixed(1)} s`,
        );
        progress.reset();
        try {
          await (options.waitBeforeRetry ?? systemWait)(delay, options.signal);
        } catch {
          throw new FirmwareError('FW_ABORTED', 'download cancelled', { cause: error });
        }
      }
    }
    throw finalError(lastError, options.url, attempts);
  } finally {
    await rm(partPath, { force: true });
    await connections.close();
  }
}

function systemWait(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
  return sleep(delayMs, undefined, signal ? { signal } : {});
}

/**
 * The caller's identity check, its refusals made FW_SERVER_IDENTITY errors: they reach the attempt as the TLS
 * error of the connection. A name mismatch keeps Node's own error, as without the check.
 */
function identityCheck(
  check: NonNullable<DownloadFirmwareOptions['checkServerIdentity']>,
): (hostname: string, certificate: PeerCertificate) => Error | undefined {
  return (hostname, certificate) => {
    const error = check(hostname, certificate);
    if (!error || (error as NodeJS.ErrnoException).code === 'ERR_TLS_CERT_ALTNAME_INVALID') return error;
    return new FirmwareError('FW_SERVER_IDENTITY', `untrusted firmware host ${hostname}: ${error.message}`, {
      cause: error,
    });
  };
}

function reportConnection(options: DownloadFirmwareOptions, info: DownloadConnection): void {
  try {
    options.onConnection?.(info);
  } catch (error) {
    options.logger?.warn?.(`onConnection threw: ${(error as Error)?.message ?? String(error)}`);
  }
}

/**
 * A checksum that is not 64 hex digits can never match: refused before anything is downloaded, rather than
 * skipped (which would leave the file unchecked) or found wrong after a full download.
 */
function checkSha256(expected: string | undefined): void {
  if (expected === undefined || /^[0-9a-f]{64}$/i.test(expected)) return;
  const shown = expected.length > 80 ? `${expected.slice(0, 80)}…` : expected;
  throw new FirmwareError(
    'FW_CHECKSUM_INVALID',
    `malformed checksum: ${JSON.stringify(shown)} (${expected.length} characters) is not a SHA-256 of 64 hex digits`,
  );
}

/** A size that is not a whole number of bytes would bound nothing: refused before any request. */
function checkSizes(options: DownloadFirmwareOptions): void {
  for (const [name, value] of [
    ['expectedSize', options.expectedSize],
    ['maxSize', options.maxSize],
  ] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new FirmwareError(
        'FW_SIZE_INVALID',
        `invalid size: ${name} must be a whole number of bytes, got ${String(value)}`,
      );
    }
  }
  const { expectedSize, maxSize } = options;
  if (expectedSize !== undefined && maxSize !== undefined && expectedSize > maxSize) {
    throw new FirmwareError(
      'FW_TOO_LARGE',
      `too large: the update announced ${expectedSize} bytes, more than the ${maxSize} allowed (maxSize)`,
    );
  }
}

/** The rate floor of the body, checked: one the bandwidth cap itself would fail is a contradiction. */
function rateFloor(options: DownloadFirmwareOptions): { bytesPerSecond: number; windowMs: number } {
  const bytesPerSecond = options.minBytesPerSecond ?? RATE_FLOOR_DEFAULTS.bytesPerSecond;
  const windowMs = options.minRateWindowMs ?? RATE_FLOOR_DEFAULTS.windowMs;
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) {
    throw new FirmwareError(
      'FW_RATE_INVALID',
      `invalid rate: minBytesPerSecond must be 0 or more, got ${String(bytesPerSecond)}`,
    );
  }
  if (!Number.isFinite(windowMs) || windowMs <= 0) {
    throw new FirmwareError(
      'FW_RATE_INVALID',
      `invalid rate: minRateWindowMs must be a positive number of milliseconds, got ${String(windowMs)}`,
    );
  }
  const cap = options.maxBytesPerSecond;
  if (cap !== undefined && bytesPerSecond >= cap) {
    throw new FirmwareError(
      'FW_RATE_INVALID',
      `invalid rate: minBytesPerSecond (${bytesPerSecond}) must be below maxBytesPerSecond (${cap})`,
    );
  }
  return { bytesPerSecond, windowMs };
}

function checkExpectations(result: { size: number; sha256: string }, options: DownloadFirmwareOptions): void {
  if (options.expectedSize !== undefined && result.size !== options.expectedSize) {
    throw new FirmwareError(
      'FW_SIZE_MISMATCH',
      `size mismatch: ${redactUrl(options.url)}: got ${result.size} bytes, the update announced ${options.expectedSize}`,
    );
  }
  if (options.expectedSha256 && result.sha256 !== options.expectedSha256.toUpperCase()) {
    throw new FirmwareError(
      'FW_CHECKSUM_MISMATCH',
      `checksum mismatch: ${redactUrl(options.url)}: SHA-256 ${result.sha256.slice(0, 16)}… does not match the announced ${options.expectedSha256.slice(0, 16)}…`,
    );
  }
}

function finalError(error: unknown, url: string, attempts: number): FirmwareError {
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (error instanceof FirmwareError) {
    return new FirmwareError(error.code, `${error.message}${tries}`, {
      cause: error,
      ...(error.statusCode !== undefined ? { statusCode: error.statusCode } : {}),
      attempts,
    });
  }
  return new FirmwareError(
    'FW_NETWORK',
    `network error: ${redactUrl(url)}: ${(error as Error)?.message ?? String(error)}${tries}`,
    { cause: error, attempts },
  );
}

function throttledProgress(onProgress: DownloadFirmwareOptions['onProgress']) {
  let lastAt = 0;
  let last: DownloadProgress | undefined;
  const emit = (progress: DownloadProgress) => {
    lastAt = Date.now();
    onProgress?.(progress);
  };
  return {
    update(bytes: number, total: number | undefined) {
      last = { bytes, total, percent: total ? Math.min(100, Math.floor((bytes * 100) / total)) : undefined };
      if (Date.now() - lastAt >= PROGRESS_INTERVAL_MS) emit(last);
    },
    finish() {
      if (last) emit({ ...last, percent: 100 });
    },
    reset() {
      lastAt = 0;
    },
  };
}
