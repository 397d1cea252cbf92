/**
 * Downloads a firmware file completely to disk: attempts from byte 0 (never a resume), size and SHA-256 checked,
 * the file renamed into place only when everything matched. Nothing partial is ever left behind.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';
import { FirmwareError } from '../errors.js';
import { downloadAttempt, type HttpStatusError } from './attempt.js';
import { trackedDispatcher } from './connection-tracker.js';
import { redactUrl } from './redact-url.js';
import { isRetryable, RETRY_DEFAULTS, type RetryOptions, retryDelayMs } from './retry-policy.js';

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
  /** `size` from the update message: checked, and used for the free-space check. */
  readonly expectedSize?: number;
  /** `checksum` from the update message (SHA-256 hex, any case). */
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
  /** @default 5 */
  readonly maxRedirects?: number;
  /** @default 'nerves-hub-link' */
  readonly userAgent?: string;
  readonly logger?: DownloadLogger;
}

export interface DownloadResult {
  readonly path: string;
  readonly size: number;
  /** Uppercase hex. */
  readonly sha256: string;
  readonly attempts: number;
}

const PROGRESS_INTERVAL_MS = 250;

export async function downloadFirmware(options: DownloadFirmwareOptions): Promise<DownloadResult> {
  const retry = { ...RETRY_DEFAULTS, ...options.retry };
  await mkdir(options.directory, { recursive: true, mode: 0o700 });
  const finalPath = join(options.directory, options.fileName ?? `${randomUUID()}.fw`);
  const partPath = `${finalPath}.part`;
  const extraCa = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
  const connections = trackedDispatcher(
    extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa.map(String)] } : {},
  );
  const { dispatcher } = connections;
  const progress = throttledProgress(options.onProgress);
  let lastError: unknown;
  let attempts = 0;
  try {
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      attempts = attempt;
      if (options.signal?.aborted) throw new FirmwareError('FW_ABORTED', 'download cancelled');
      try {
        const result = await downloadAttempt({
          url: options.url,
          partPath,
          directory: options.directory,
          dispatcher,
          attempt,
          expectedSize: options.expectedSize,
          idleTimeoutMs: retry.idleTimeoutMs,
          maxRedirects: options.maxRedirects ?? 5,
          allowHttp: options.allowHttp ?? false,
          userAgent: options.userAgent ?? 'nerves-hub-link',
          signal: options.signal,
          onBytes: progress.update,
          onConnected: (url) =>
            reportConnection(options, { attempt, localAddress: connections.localAddress(url.origin) }),
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
        if (!isRetryable(error) || attempt === retry.maxAttempts) break;
        const delay = retryDelayMs(attempt, retry, (error as HttpStatusError).retryAfterMs);
        options.logger?.warn?.(
          `download attempt ${attempt} of ${retry.maxAttempts} failed (${(error as Error).message}); retrying in ${(delay / 1000).toFixed(1)} s`,
        );
        progress.reset();
        try {
          await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
        } catch {
          throw new FirmwareError('FW_ABORTED', 'download cancelled', { cause: error });
        }
      }
    }
    throw finalError(lastError, options.url, attempts);
  } finally {
    await rm(partPath, { force: true });
    await dispatcher.close().catch(() => {});
  }
}

function reportConnection(options: DownloadFirmwareOptions, info: DownloadConnection): void {
  try {
    options.onConnection?.(info);
  } catch (error) {
    options.logger?.warn?.(`onConnection threw: ${(error as Error)?.message ?? String(error)}`);
  }
}

function checkExpectations(result: { size: number; sha256: string }, options: DownloadFirmwareOptions): void {
  if (options.expectedSize !== undefined && result.size !== options.expectedSize) {
    throw new FirmwareError(
      'FW_SIZE_MISMATCH',
      `${redactUrl(options.url)}: got ${result.size} bytes, the update announced ${options.expectedSize}`,
    );
  }
  if (options.expectedSha256 && result.sha256 !== options.expectedSha256.toUpperCase()) {
    throw new FirmwareError(
      'FW_CHECKSUM_MISMATCH',
      `${redactUrl(options.url)}: SHA-256 ${result.sha256.slice(0, 16)}… does not match the announced ${options.expectedSha256.slice(0, 16)}…`,
    );
  }
}

function finalError(error: unknown, url: string, attempts: number): FirmwareError {
  if (error instanceof FirmwareError) {
    return new FirmwareError(error.code, error.message, {
      cause: error,
      ...(error.statusCode !== undefined ? { statusCode: error.statusCode } : {}),
      attempts,
    });
  }
  return new FirmwareError('FW_NETWORK', `${redactUrl(url)}: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
    attempts,
  });
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
