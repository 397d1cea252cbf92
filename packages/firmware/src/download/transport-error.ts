/** What a failed request or body means, as a FirmwareError: the words of its class first, then the details. */
import { FirmwareError } from '../errors.js';
import { proxyFailure, type ResolvedProxy } from './proxy.js';
import { redactUrl } from './redact-url.js';

/**
 * `cause` from undici (or the socket) for a request to `url`; `received` is the body bytes that had arrived, when
 * the body had begun. A failure to get through `proxy` before any response is the proxy's.
 */
export function transportError(
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
  if (code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return stalledError(url, received, cause);
  }
  const after = received !== undefined ? ` after ${received} bytes` : '';
  const text = (cause as Error)?.message ?? String(cause);
  return new FirmwareError(
    'FW_NETWORK',
    `network error: ${redactUrl(url)}: ${code || text}${after}`.replace(url.search, ''),
    { cause },
  );
}

/** Nothing arrived for the idle timeout: before the headers (`received` undefined) or in the body. */
export function stalledError(url: URL, received?: number, cause?: unknown): FirmwareError {
  const after = received !== undefined ? ` after ${received} bytes` : '';
  return new FirmwareError(
    'FW_STALLED',
    `stalled: ${redactUrl(url)}: no data for too long${after}`,
    cause === undefined ? {} : { cause },
  );
}
