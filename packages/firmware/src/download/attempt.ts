/** One download attempt: GET, follow redirects, write the body to a `.part` file while hashing it. */
import { createHash } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { FirmwareError } from '../errors.js';
import { BlockWriter } from './block-writer.js';
import type { Route } from './connection-tracker.js';
import { ensureFreeSpace } from './free-space.js';
import { type BodySink, httpGet, type StopBody } from './http-get.js';
import { proxyFailure, type ResolvedProxy } from './proxy.js';
import { rateLimited, type TokenBucket } from './rate-limit.js';
import { redactUrl } from './redact-url.js';
import { parseRetryAfter } from './retry-policy.js';

export interface AttemptOptions {
  readonly url: string;
  readonly partPath: string;
  readonly directory: string;
  /** How a request to `url` goes out: its dispatcher, and the proxy it goes through, if any. */
  readonly route: (url: URL) => Route;
  readonly attempt: number;
  readonly expectedSize: number | undefined;
  readonly idleTimeoutMs: number;
  readonly maxRedirects: number;
  readonly allowHttp: boolean;
  readonly userAgent: string;
  readonly signal: AbortSignal | undefined;
  readonly onBytes: (bytes: number, total: number | undefined) => void;
  /** The download's bandwidth cap, shared by its attempts. */
  readonly bucket?: TokenBucket | undefined;
  /**
   * Called for each request (the first and every redirect hop) once it has its connection, with that
   * connection's local address. Must not throw.
   */
  readonly onConnected?: (url: URL, localAddress: string | undefined) => void;
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

/**
 * Every message starts with the class of the failure in words ("network error", "checksum mismatch", …), then
 * the details: the code is for programs, the words for the people reading a log or a status.
 */
export async function downloadAttempt(options: AttemptOptions): Promise<AttemptResult> {
  let url = parseUrl(options.url, 'the firmware URL');
  const seen = new Set<string>();
  for (let hop = 0; ; hop++) {
    checkScheme(url, options.allowHttp);
    const body = new BodyToFile(options);
    let response: Awaited<ReturnType<typeof httpGet>>;
    const requested = url;
    let route: ReturnType<AttemptOptions['route']>;
    try {
      route = options.route(url);
    } catch (cause) {
      throw cause instanceof FirmwareError ? cause : transportError(cause, url, options.signal);
    }
    try {
      response = await httpGet(url, {
        dispatcher: route.dispatcher,
        headers: {
          'user-agent': options.userAgent,
          'x-retry-number': String(options.attempt - 1),
          // The size and checksum announced are those of the file itself: a compressed body would be neither.
          'accept-encoding': 'identity',
        },
        idleTimeoutMs: options.idleTimeoutMs,
        signal: options.signal,
        onConnected: () => options.onConnected?.(requested, route.localAddress()),
        sinkFor: (statusCode, headers, stop) => {
          if (statusCode !== 200) return undefined;
          const sink = body.start(headers, url, stop);
          return sink && options.bucket ? rateLimited(sink, options.bucket) : sink;
        },
      });
    } catch (cause) {
      throw transportError(cause, url, options.signal, undefined, route.proxy);
    }
    const { statusCode, headers } = response;
    if (statusCode >= 300 && statusCode < 400 && headers.location) {
      response.abort();
      const next = parseUrl(headers.location, `the redirect from ${redactUrl(url)}`, url);
      if (seen.has(next.href) || hop >= options.maxRedirects) {
        const why = seen.has(next.href) ? 'redirect loop' : `more than ${options.maxRedirects} redirects`;
        throw new FirmwareError(
          'FW_TOO_MANY_REDIRECTS',
          `too many redirects: ${redactUrl(options.url)}: ${why}`,
        );
      }
      seen.add(next.href);
      url = next;
      continue;
    }
    if (statusCode !== 200) {
      response.abort();
      const where = redactUrl(url);
      if (statusCode === 401 || statusCode === 403) {
        throw new HttpStatusError(
          'FW_URL_EXPIRED',
          `HTTP ${statusCode}: ${where} refused the download: the URL has expired or is not valid`,
          statusCode,
        );
      }
      throw new HttpStatusError(
        'FW_HTTP_STATUS',
        `HTTP ${statusCode} from ${where}`,
        statusCode,
        parseRetryAfter(headers['retry-after']),
      );
    }
    return await body.complete(response, url);
  }
}

/** A URL that cannot be parsed is reported as such, never retried as if the network had failed. */
export function parseUrl(text: string, what: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch (cause) {
    // Only what comes before a query is shown: the query of a presigned URL is a credential.
    const head = text.split('?')[0] ?? '';
    const shown = head.length > 100 ? `${head.slice(0, 100)}…` : head;
    throw new FirmwareError(
      'FW_URL_INVALID',
      `invalid URL: ${what} ${JSON.stringify(shown)} cannot be parsed`,
      {
        cause,
      },
    );
  }
}

/**
 * The 200 response body on its way to the `.part` file: free-space check, hashing, block writes, fsync. It reads
 * no more than the announced size (the update's `size`, else `Content-Length`): the byte after it ends the
 * attempt, as does a write error or an encoded body, so a hostile or broken host can neither fill the disk nor
 * keep the attempt going.
 */
class BodyToFile {
  readonly #options: AttemptOptions;
  readonly #hash = createHash('sha256');
  #file: Promise<FileHandle> | undefined;
  #writer: BlockWriter | undefined;
  #contentLength: number | undefined;
  #size = 0;
  /** Why the body was refused, once it was: reported instead of the transport error the stop causes. */
  #failure: FirmwareError | undefined;
  #stop: StopBody | undefined;

  constructor(options: AttemptOptions) {
    this.#options = options;
  }

  /** Called with the response headers; returns the sink the body flows into. */
  start(headers: Record<string, string | undefined>, url: URL, stop: StopBody): BodySink | undefined {
    const { directory, partPath, expectedSize } = this.#options;
    this.#stop = stop;
    const encoding = headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      const shown = encoding.length > 40 ? `${encoding.slice(0, 40)}…` : encoding;
      this.#fail(
        new FirmwareError(
          'FW_CONTENT_ENCODING',
          `encoded body refused: ${redactUrl(url)} sent Content-Encoding ${JSON.stringify(shown)}, the firmware must come as it is (identity)`,
        ),
      );
      return undefined;
    }
    const contentLength = parseContentLength(headers['content-length']);
    this.#contentLength = contentLength;
    const total = expectedSize ?? contentLength;
    const limitSource = expectedSize !== undefined ? 'the update announced' : 'Content-Length said';
    this.#file = (async () => {
      // No room for what the update announced is the first thing to say; then a host announcing another size.
      if (total !== undefined) await ensureFreeSpace(directory, total);
      if (expectedSize !== undefined && contentLength !== undefined && contentLength !== expectedSize) {
        throw new FirmwareError(
          'FW_SIZE_MISMATCH',
          `size mismatch: ${redactUrl(url)} announced ${contentLength} bytes (Content-Length), the update ${expectedSize}`,
        );
      }
      return open(partPath, 'w', 0o600);
    })();
    this.#file.catch(() => {});
    const queued: Buffer[] = [];
    let paused: (() => void) | undefined;
    const onWriteError = (cause: unknown) => this.#fail(writeError(cause, directory));
    // Until the file is open, chunks wait in memory; reading pauses after the first one.
    void this.#file.then(
      (file) => {
        this.#writer = new BlockWriter(file, onWriteError);
        for (const chunk of queued.splice(0)) this.#writer.push(chunk);
        paused?.();
      },
      () => {},
    );
    return {
      push: (chunk) => {
        if (this.#failure) return true;
        if (total !== undefined && this.#size + chunk.length > total) {
          this.#fail(
            new FirmwareError(
              'FW_SIZE_MISMATCH',
              `size mismatch: ${redactUrl(url)} sent more than the ${total} bytes ${limitSource}`,
            ),
          );
          return true;
        }
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
      if (this.#failure) throw this.#failure;
      file = await this.#file!.catch((cause) => {
        throw cause instanceof FirmwareError ? cause : writeError(cause, directory);
      });
      try {
        await ended;
      } catch (cause) {
        throw this.#failure ?? transportError(cause, url, signal, this.#size);
      }
      if (this.#failure) throw this.#failure;
      await this.#writer!.finish().catch((cause) => {
        throw this.#failure ?? writeError(cause, directory);
      });
      // On disk before fwup sees it: a power cut between download and apply must not leave a torn file.
      await file.sync().catch((cause) => {
        throw writeError(cause, directory);
      });
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
        `size mismatch: ${redactUrl(url)}: got ${this.#size} bytes, Content-Length said ${this.#contentLength}`,
      );
    }
    return { size: this.#size, sha256: this.#hash.digest('hex').toUpperCase() };
  }

  /** Ends the body with this reason (the first one wins). */
  #fail(error: FirmwareError): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#stop?.(error);
  }
}

/** A `Content-Length` that is not a plain non-negative integer counts as none; the update's size still bounds. */
function parseContentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const length = Number(value.trim());
  return Number.isSafeInteger(length) ? length : undefined;
}

function checkScheme(url: URL, allowHttp: boolean): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && allowHttp) return;
  throw new FirmwareError(
    url.protocol === 'http:' ? 'FW_HTTP_NOT_ALLOWED' : 'FW_URL_INVALID',
    url.protocol === 'http:'
      ? `plain http refused: ${redactUrl(url)} (set download.allow_http = true for local testing only)`
      : `invalid URL: ${redactUrl(url)}: only https URLs can be downloaded`,
  );
}

function writeError(cause: unknown, directory: string): FirmwareError {
  if ((cause as NodeJS.ErrnoException)?.code === 'ENOSPC') {
    return new FirmwareError(
      'FW_NO_SPACE',
      `not enough free space: the disk filled up while writing the firmware to ${directory}`,
      { cause },
    );
  }
  return new FirmwareError(
    'FW_WRITE_FAILED',
    `write error: cannot write the firmware to ${directory}: ${(cause as Error)?.message ?? String(cause)}`,
    { cause },
  );
}

function transportError(
  cause: unknown,
  url: URL,
  signal: AbortSignal | undefined,
  received?: number,
  proxy?: ResolvedProxy,
): FirmwareError {
  if (cause instanceof FirmwareError) return cause;
  if (signal?.aborted) return new FirmwareError('FW_ABORTED', 'download cancelled', { cause });
  const viaProxy = proxy && received === undefined ? proxyFailure(cause, proxy) : undefined;
  if (viaProxy) return viaProxy;
  const code = String((cause as { code?: unknown })?.code ?? '');
  const after = received !== undefined ? ` after ${received} bytes` : '';
  if (code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new FirmwareError('FW_STALLED', `stalled: ${redactUrl(url)}: no data for too long${after}`, {
      cause,
    });
  }
  const text = (cause as Error)?.message ?? String(cause);
  return new FirmwareError(
    'FW_NETWORK',
    `network error: ${redactUrl(url)}: ${code || text}${after}`.replace(url.search, ''),
    { cause },
  );
}
