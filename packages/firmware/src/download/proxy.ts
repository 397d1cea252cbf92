/**
 * The proxy of a download request, chosen per URL (so a redirect to a host that goes direct does), and what a
 * failure to get through it means. Only `http://` proxies: the download goes through a CONNECT tunnel, with TLS
 * from this process to the firmware host.
 */
import { FirmwareError } from '../errors.js';

/** One proxy and where its setting came from (named in errors, e.g. `network.proxy` or `HTTPS_PROXY`). */
export interface ProxyRoute {
  /** `http://[user:password@]host[:port]` (port 80 when absent); credentials go in `Proxy-Authorization`. */
  readonly url: string | URL;
  readonly source?: string;
}

/** A proxy for every request, or a function that picks one per URL (undefined: direct). */
export type ProxyOption =
  | string
  | URL
  | ProxyRoute
  | ((target: URL) => string | URL | ProxyRoute | undefined);

export interface ResolvedProxy {
  /** `http://host:port`, without credentials: the key of its dispatcher, and what messages show. */
  readonly shown: string;
  readonly source: string | undefined;
  /** `Proxy-Authorization` value, when the URL holds credentials. */
  readonly authorization: string | undefined;
}

/** The proxy for `target`, checked; undefined for a direct request. Throws FW_PROXY_INVALID. */
export function proxyFor(option: ProxyOption | undefined, target: URL): ResolvedProxy | undefined {
  const chosen = typeof option === 'function' ? option(target) : option;
  if (chosen === undefined) return undefined;
  const { url, source } =
    typeof chosen === 'string' || chosen instanceof URL ? { url: chosen, source: undefined } : chosen;
  const name = `proxy${source ? ` (${source})` : ''}`;
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch (cause) {
    throw new FirmwareError('FW_PROXY_INVALID', `invalid proxy: ${name} is not an http://host:port URL`, {
      cause,
    });
  }
  if (parsed.protocol !== 'http:') {
    throw new FirmwareError(
      'FW_PROXY_INVALID',
      `invalid proxy: ${name}: only http:// proxies are supported, got ${parsed.protocol}//`,
    );
  }
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash) {
    throw new FirmwareError(
      'FW_PROXY_INVALID',
      `invalid proxy: ${name}: expected http://host:port without a path`,
    );
  }
  const authorization =
    parsed.username || parsed.password
      ? `Basic ${Buffer.from(`${decode(parsed.username)}:${decode(parsed.password)}`).toString('base64')}`
      : undefined;
  return { shown: `http://${parsed.host}`, source, authorization };
}

const UNREACHABLE = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENETDOWN',
]);
const TIMED_OUT = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** undici's words for a CONNECT answered with another status than 200. */
const TUNNEL_STATUS = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling/;

/**
 * A request through `proxy` that failed before any response: the error about the proxy, or undefined when the
 * failure was not the proxy's. While the proxy makes the connection to the firmware host, a connection that is
 * refused, unreachable or timing out is the one to the proxy; the proxy reports the host's own failures as a
 * status to CONNECT. FW_PROXY (retried: the proxy may come back) or FW_PROXY_REFUSED (credentials, or a refusal
 * a retry does not change).
 */
export function proxyFailure(cause: unknown, proxy: ResolvedProxy): FirmwareError | undefined {
  const code = String((cause as { code?: unknown })?.code ?? '');
  const message = String((cause as Error)?.message ?? '');
  const where = `proxy ${proxy.shown}${proxy.source ? ` (${proxy.source})` : ''}`;
  const status = TUNNEL_STATUS.exec(message);
  if (status) {
    const statusCode = Number(status[1]);
    if (statusCode === 407 || statusCode === 401) {
      return new FirmwareError(
        'FW_PROXY_REFUSED',
        proxy.authorization
          ? `proxy error: ${where} refused the credentials in its URL (HTTP ${statusCode})`
          : `proxy error: ${where} requires credentials (HTTP ${statusCode}): put them in the proxy URL, http://user:password@host:port`,
        { cause },
      );
    }
    return new FirmwareError(
      statusCode >= 500 ? 'FW_PROXY' : 'FW_PROXY_REFUSED',
      `proxy error: ${where} answered CONNECT with HTTP ${statusCode}`,
      { cause },
    );
  }
  if (code === 'ECONNREFUSED') {
    return new FirmwareError('FW_PROXY', `proxy error: ${where}: connection refused: nothing listens there`, {
      cause,
    });
  }
  if (UNREACHABLE.has(code)) {
    return new FirmwareError('FW_PROXY', `proxy error: ${where} cannot be reached (${code})`, { cause });
  }
  if (TIMED_OUT.has(code)) {
    return new FirmwareError('FW_PROXY', `proxy error: ${where}: the connection timed out (${code})`, {
      cause,
    });
  }
  return undefined;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
