/** One download attempt: GET, follow redirects, write the body to a `.part` file while hashing it. */
import { createHash } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { FirmwareError } from '../errors.js';
import { BlockWriter } from './block-writer.js';
import { ensureFreeSpace } from './free-space.js';
import { type BodySink, httpGet } from './http-get.js';
import { redactUrl } from './redact-url.js';
import { parseRetryAfter } from './retry-policy.js';

export interface AttemptOptions {
  readonly url: string;
  readonly partPath: string;
  readonly directory: string;
  readonly dispatcher: Dispatcher;
  readonly attempt: number;
  readonly expectedSize: number | undefined;
  readonly idleTimeoutMs: number;
  readonly maxRedirects: number;
  readonly allowHttp: boolean;
  readonly userAgent: string;
  readonly signal: AbortSignal | undefined;
  readonly onBytes: (bytes: number, total: number | undefined) => void;
  /** Called for each request (the first and every redirect hop) once it has its connection. Must not throw. */
  readonly onConnected?: (url: URL) => void;
}

export interface AttemptResult {
  readonly size: number;
  readonly sha256: string;
}

/** Error thrown for an HTTP status, with the server's `Retry-After` when it sent one. */
export class HttpStatusError extends FirmwareError {
  readonly retryAfterMs: number | undefined;
  constructor(
    code: 'FW_HTTP_STATUS' | 'FW_URL_EXPIRED',
    message: string,
    statusCode: number,
    retryAfterMs?: number,
  ) {
    super(code, message, { statusCode });
    this.retryAfterMs = retryAfterMs;
  }
}

export async function downloadAttempt(options: AttemptOptions): Promise<AttemptResult> {
  let url = new URL(options.url);
  const seen = new Set<string>();
  for (let hop = 0; ; hop++) {
    checkScheme(url, options.allowHttp);
    const body = new BodyToFile(options);
    let response: Awaited<ReturnType<typeof httpGet>>;
    const requested = url;
    try {
      response = await httpGet(url, {
        dispatcher: options.dispatcher,
        headers: { 'user-agent': options.userAgent, 'x-retry-number': String(options.attempt - 1) },
        idleTimeoutMs: options.idleTimeoutMs,
        signal: options.signal,
        onConnected: () => options.onConnected?.(requested),
        sinkFor: (statusCode, headers) => (statusCode === 200 ? body.start(headers) : undefined),
      });
    } catch (cause) {
      throw transportError(cause, url, options.signal);
    }
    const { statusCode, headers } = response;
    if (statusCode >= 300 && statusCode < 400 && headers.location) {
      const next = new URL(headers.location, url);
      if (seen.has(next.href) || hop >= options.maxRedirects) {
        const why = seen.has(next.href) ? 'redirect loop' : `more than ${options.maxRedirects} redirects`;
        throw new FirmwareError('FW_TOO_MANY_REDIRECTS', `${redactUrl(options.url)}: ${why}`);
      }
      seen.add(next.href);
      url = next;
      continue;
    }
    if (statusCode !== 200) {
      const where = redactUrl(url);
      if (statusCode === 401 || statusCode === 403) {
        throw new HttpStatusError(
          'FW_URL_EXPIRED',
          `${where} refused the download (${statusCode}): the URL has expired or is not valid`,
          statusCode,
        );
      }
      throw new HttpStatusError(
        'FW_HTTP_STATUS',
        `${where} answered HTTP ${statusCode}`,
        statusCode,
        parseRetryAfter(headers['retry-after']),
      );
    }
    return await body.complete(response, url);
  }
}

/** The 200 response body on its way to the `.part` file: free-space check, hashing, block writes, fsync. */
class BodyToFile {
  readonly #options: AttemptOptions;
  readonly #hash = createHash('sha256');
  #file: Promise<FileHandle> | undefined;
  #writer: BlockWriter | undefined;
  #contentLength: number | undefined;
  #size = 0;

  constructor(options: AttemptOptions) {
    this.#options = options;
  }

  /** Called with the response headers; returns the sink the body flows into. */
  start(headers: Record<string, string | undefined>): BodySink {
    const { directory, partPath, expectedSize } = this.#options;
    this.#contentLength =
      headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
    const total = expectedSize ?? this.#contentLength;
    this.#file = (async () => {
      if (total !== undefined) await ensureFreeSpace(directory, total);
      return open(partPath, 'w', 0o600);
    })();
    this.#file.catch(() => {});
    const queued: Buffer[] = [];
    let paused: (() => void) | undefined;
    // Until the file is open, chunks wait in memory; reading pauses after the first one.
    void this.#file.then(
      (file) => {
        this.#writer = new BlockWriter(file);
        for (const chunk of queued.splice(0)) this.#writer.push(chunk);
        paused?.();
      },
      () => {},
    );
    return {
      push: (chunk) => {
        this.#hash.update(chunk);
        this.#size += chunk.length;
        this.#options.onBytes(this.#size, total);
        if (!this.#writer) {
          queued.push(chunk);
          return false;
        }
        return this.#writer.push(chunk);
      },
      onDrain: (resume) => {
        if (!this.#writer) paused = resume;
        else this.#writer.onDrain(resume);
      },
    };
  }

  async complete(response: { ended: Promise<void>; abort(): void }, url: URL): Promise<AttemptResult> {
    const { ended } = response;
    const { partPath, directory, signal } = this.#options;
    let file: FileHandle | undefined;
    try {
      file = await this.#file!.catch((cause) => {
        throw cause instanceof FirmwareError ? cause : writeError(cause, directory);
      });
      try {
        await ended;
      } catch (cause) {
        throw transportError(cause, url, signal, this.#size);
      }
      await this.#writer!.finish().catch((cause) => {
        throw writeError(cause, directory);
      });
      // On disk before fwup sees it: a power cut between download and apply must not leave a torn file.
      await file.sync();
      await file.close();
      file = undefined;
    } catch (error) {
      response.abort();
      await file?.close().catch(() => {});
      await rm(partPath, { force: true });
      throw error;
    }
    if (this.#contentLength !== undefined && this.#size !== this.#contentLength) {
      throw new FirmwareError(
        'FW_SIZE_MISMATCH',
        `${redactUrl(url)}: got ${this.#size} bytes, Content-Length said ${this.#contentLength}`,
      );
    }
    return { size: this.#size, sha256: this.#hash.digest('hex').toUpperCase() };
  }
}

function checkScheme(url: URL, allowHttp: boolean): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && allowHttp) return;
  throw new FirmwareError(
    url.protocol === 'http:' ? 'FW_HTTP_NOT_ALLOWED' : 'FW_URL_INVALID',
    url.protocol === 'http:'
      ? `${redactUrl(url)}: plain http is refused (set download.allow_http = true for local testing only)`
      : `${redactUrl(url)}: only https URLs can be downloaded`,
  );
}

function writeError(cause: unknown, directory: string): FirmwareError {
  if ((cause as NodeJS.ErrnoException).code === 'ENOSPC') {
    return new FirmwareError('FW_NO_SPACE', `the disk filled up while writing the firmware to ${directory}`, {
      cause,
    });
  }
  return new FirmwareError(
    'FW_WRITE_FAILED',
    `cannot write the firmware to ${directory}: ${(cause as Error).message}`,
    {
      cause,
    },
  );
}

function transportError(
  cause: unknown,
  url: URL,
  signal: AbortSignal | undefined,
  received?: number,
): FirmwareError {
  if (cause instanceof FirmwareError) return cause;
  if (signal?.aborted) return new FirmwareError('FW_ABORTED', 'download cancelled', { cause });
  const code = String((cause as { code?: unknown })?.code ?? '');
  const after = received !== undefined ? ` after ${received} bytes` : '';
  if (code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new FirmwareError('FW_STALLED', `${redactUrl(url)}: no data for too long${after}`, { cause });
  }
  const text = (cause as Error)?.message ?? String(cause);
  return new FirmwareError(
    'FW_NETWORK',
    `${redactUrl(url)}: ${code || text}${after}`.replace(url.search, ''),
    {
      cause,
    },
  );
}
