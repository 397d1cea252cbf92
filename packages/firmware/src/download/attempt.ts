/** One download attempt: GET, follow redirects, write the body to a `.part` file while hashing it. */
import { FirmwareError } from '../errors.js';
import { type BodyOptions, type BodyResult, BodyToFile } from './body-to-file.js';
import type { Route } from './connection-tracker.js';
import { httpGet } from './http-get.js';
import { rateLimited, type TokenBucket } from './rate-limit.js';
import { redactUrl } from './redact-url.js';
import { parseRetryAfter } from './retry-policy.js';
import { transportError } from './transport-error.js';

export interface AttemptOptions extends BodyOptions {
  readonly url: string;
  /** How a request to `url` goes out: its dispatcher, and the proxy it goes through, if any. */
  readonly route: (url: URL) => Route;
  readonly attempt: number;
  readonly idleTimeoutMs: number;
  readonly maxRedirects: number;
  readonly allowHttp: boolean;
  readonly userAgent: string;
  /** The download's bandwidth cap, shared by its attempts. */
  readonly bucket?: TokenBucket | undefined;
  /**
   * Called for each request (the first and every redirect hop) once it has its connection, with that
   * connection's local address. Must not throw.
   */
  readonly onConnected?: (url: URL, localAddress: string | undefined) => void;
}

/**
 * Every message starts with the class of the failure in words ("network error", "checksum mismatch", …), then
 * the details: the code is for programs, the words for the people reading a log or a status.
 */
export async function downloadAttempt(options: AttemptOptions): Promise<BodyResult> {
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
        socket: () => route.socket(),
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
        throw new FirmwareError(
          'FW_URL_EXPIRED',
          `HTTP ${statusCode}: ${where} refused the download: the URL has expired or is not valid`,
          { statusCode },
        );
      }
      const retryAfterMs = parseRetryAfter(headers['retry-after']);
      throw new FirmwareError('FW_HTTP_STATUS', `HTTP ${statusCode} from ${where}`, {
        statusCode,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
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
