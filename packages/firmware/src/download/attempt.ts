/** One download attempt: GET, follow redirects, write the body to a `.part` file while hashing it. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Dispatcher, request } from 'undici';
import { FirmwareError } from '../errors.js';
import { ensureFreeSpace } from './free-space.js';
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
    const response = await send(url, options);
    const { statusCode, headers, body } = response;
    if (statusCode >= 300 && statusCode < 400 && headers.location) {
      await body.dump();
      const next = new URL(String(headers.location), url);
      if (seen.has(next.href) || hop >= options.maxRedirects) {
        throw new FirmwareError(
          'FW_TOO_MANY_REDIRECTS',
          `${redactUrl(options.url)}: ${seen.has(next.href) ? 'redirect loop' : `more than ${options.maxRedirects} redirects`}`,
        );
      }
      seen.add(next.href);
      url = next;
      continue;
    }
    if (statusCode !== 200) {
      await body.dump().catch(() => {});
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
    const contentLength =
      headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
    const total = options.expectedSize ?? contentLength;
    if (total !== undefined) {
      // Refused before a byte is written; the unread body must be released or the connection stays busy.
      await ensureFreeSpace(options.directory, total).catch((error) => {
        body.destroy();
        throw error;
      });
    }
    return await writeBody(body, contentLength, total, url, options);
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

async function send(url: URL, options: AttemptOptions) {
  try {
    return await request(url, {
      method: 'GET',
      dispatcher: options.dispatcher,
      headers: { 'user-agent': options.userAgent, 'x-retry-number': String(options.attempt - 1) },
      headersTimeout: options.idleTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (cause) {
    throw transportError(cause, url, options.signal);
  }
}

async function writeBody(
  body: Dispatcher.ResponseData['body'],
  contentLength: number | undefined,
  total: number | undefined,
  url: URL,
  options: AttemptOptions,
): Promise<AttemptResult> {
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      options.onBytes(size, total);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      body,
      meter,
      createWriteStream(options.partPath, { mode: 0o600, highWaterMark: 1024 * 1024 }),
    );
  } catch (cause) {
    await rm(options.partPath, { force: true });
    if ((cause as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new FirmwareError(
        'FW_NO_SPACE',
        `the disk filled up while writing the firmware to ${options.directory}`,
        { cause },
      );
    }
    if (
      ['EACCES', 'EROFS', 'EIO', 'EISDIR', 'ENOENT'].includes((cause as NodeJS.ErrnoException).code ?? '')
    ) {
      throw new FirmwareError(
        'FW_WRITE_FAILED',
        `cannot write the firmware to ${options.directory}: ${(cause as Error).message}`,
        { cause },
      );
    }
    throw transportError(cause, url, options.signal, size);
  }
  // The file must be on disk before it is handed to fwup: a power cut between download and apply is survivable.
  const handle = await open(options.partPath, 'r');
  await handle.sync().finally(() => handle.close());
  if (contentLength !== undefined && size !== contentLength) {
    throw new FirmwareError(
      'FW_SIZE_MISMATCH',
      `${redactUrl(url)}: got ${size} bytes, Content-Length said ${contentLength}`,
    );
  }
  return { size, sha256: hash.digest('hex').toUpperCase() };
}

function transportError(
  cause: unknown,
  url: URL,
  signal: AbortSignal | undefined,
  received?: number,
): FirmwareError {
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
    { cause },
  );
}
