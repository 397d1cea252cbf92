/**
 * WebSocket connections through an HTTP proxy: an HTTP `CONNECT` tunnel to the server, then TLS (or plain
 * WebSocket for `ws:`) through it, end to end. The proxy sees only the host and port asked for: the client
 * certificate, the upgrade request and its headers all travel inside the tunnel.
 */
import { request } from 'node:http';
import { isIP, type Socket as NetSocket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { PhoenixChannelError, ProxyError, type ProxyFailure } from './errors.js';
import { describe, invalid } from './validate.js';

/** One proxy and where its setting came from (named in errors, e.g. `network.proxy` or `HTTPS_PROXY`). */
export interface ProxyRoute {
  /** `http://[user:password@]host[:port]` (port 80 when absent); credentials go in `Proxy-Authorization`. */
  readonly url: string | URL;
  readonly source?: string;
}

/** A proxy for every connection, or a function that picks one per target URL (undefined: connect directly). */
export type ProxyOption =
  | string
  | URL
  | ProxyRoute
  | ((target: URL) => string | URL | ProxyRoute | undefined);

/** A proxy after its checks: the URL to reach it and the credentials to send, kept apart from what is shown. */
export interface ResolvedProxy {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`: never the credentials. */
  readonly shown: string;
  readonly source: string | undefined;
  readonly authorization: string | undefined;
}

/** Throws PHX_INVALID_ARGUMENT unless `value` can be a proxy option. Static values are checked in full. */
export function checkProxyOption(value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (typeof value === 'string' || value instanceof URL) {
    resolveProxy(value);
    return;
  }
  if (typeof value === 'object' && value !== null && 'url' in value) {
    resolveProxy(value as ProxyRoute);
    return;
  }
  throw invalid('proxy', 'a proxy URL, { url, source } or a function of the target URL', value);
}

/** The proxy `option` picks for `target`, checked; undefined for a direct connection. */
export function proxyFor(option: ProxyOption | undefined, target: URL): ResolvedProxy | undefined {
  const chosen = typeof option === 'function' ? option(target) : option;
  return chosen === undefined ? undefined : resolveProxy(chosen);
}

/** Checks a proxy setting: `http:` only, no path, credentials percent-decoded. */
export function resolveProxy(route: string | URL | ProxyRoute): ResolvedProxy {
  const { url, source } =
    typeof route === 'string' || route instanceof URL ? { url: route, source: undefined } : route;
  const name = source ? `proxy (${source})` : 'proxy';
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw invalid(name, 'an http://host:port URL', redactCredentials(String(url)));
  }
  if (parsed.protocol !== 'http:') {
    throw new PhoenixChannelError(
      'PHX_INVALID_ARGUMENT',
      `${name}: only http:// proxies are supported (the tunnel carries TLS end to end), got ${describe(parsed.protocol)}`,
    );
  }
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash) {
    throw invalid(name, 'http://host:port without a path or query', `${parsed.protocol}//${parsed.host}…`);
  }
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const port = parsed.port ? Number(parsed.port) : 80;
  const authorization =
    parsed.username || parsed.password
      ? `Basic ${Buffer.from(`${safeDecode(parsed.username)}:${safeDecode(parsed.password)}`).toString('base64')}`
      : undefined;
  return { host, port, shown: `http://${parsed.host}`, source, authorization };
}

/** A URL with any `user:password@` replaced by `***@`, for messages. */
export function redactCredentials(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
}

/** `host:port` as CONNECT asks for it (IPv6 addresses in brackets). */
export function authority(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Opens a tunnel to `host:port` through `proxy`: resolves with the raw socket once the proxy answered 200, with
 * any bytes it sent after its answer pushed back for the next reader. Rejects with a `ProxyError`.
 */
function openTunnel(
  proxy: ResolvedProxy,
  target: { readonly host: string; readonly port: number },
  timeoutMs: number,
): Promise<NetSocket> {
  const asked = authority(target.host, target.port);
  const fail = (
    failure: ProxyFailure,
    detail: string,
    extra: { statusCode?: number; cause?: unknown } = {},
  ) =>
    new ProxyError(failure, detail, {
      proxy: proxy.shown,
      source: proxy.source,
      sentCredentials: proxy.authorization !== undefined,
      target: asked,
      ...extra,
    });
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: ProxyError | undefined, socket?: NetSocket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(socket!);
    };
    const req = request({
      host: proxy.host,
      port: proxy.port,
      method: 'CONNECT',
      path: asked,
      agent: false,
      headers: {
        host: asked,
        ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}),
      },
      setHost: false,
    });
    const timer = setTimeout(() => {
      const error = fail('timeout', `no answer to CONNECT ${asked} within ${timeoutMs} ms`);
      settle(error);
      req.destroy(error);
    }, timeoutMs);
    timer.unref();
    req.once('connect', (response, socket, head) => {
      const status = response.statusCode ?? 0;
      if (status === 200) {
        if (head.length > 0) socket.unshift(head);
        settle(undefined, socket);
        return;
      }
      socket.destroy();
      const message = response.statusMessage ? ` ${printable(response.statusMessage)}` : '';
      if (status === 407 || status === 401) {
        settle(
          fail(
            'auth',
            proxy.authorization
              ? `refused the credentials in its URL (HTTP ${status}${message})`
              : `requires credentials (HTTP ${status}${message}): put them in the proxy URL, http://user:password@host:port`,
            { statusCode: status },
          ),
        );
        return;
      }
      settle(
        fail('status', `answered CONNECT ${asked} with HTTP ${status}${message}`, { statusCode: status }),
      );
    });
    // A CONNECT answer with a body and no upgrade (some proxies close after an error page) lands here.
    req.once('response', (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      settle(
        fail(status === 407 ? 'auth' : 'status', `answered CONNECT ${asked} with HTTP ${status}`, {
          statusCode: status,
        }),
      );
    });
    req.once('error', (cause: NodeJS.ErrnoException) => {
      if (settled) return;
      settle(classifySocketError(cause, fail));
    });
    req.end();
  });
}

function classifySocketError(
  cause: NodeJS.ErrnoException,
  fail: (failure: ProxyFailure, detail: string, extra: { cause?: unknown }) => ProxyError,
): ProxyError {
  switch (cause.code) {
    case 'ECONNREFUSED':
      return fail('refused', 'connection refused: nothing listens there', { cause });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail('unreachable', `its host name cannot be resolved (${cause.code})`, { cause });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENETDOWN':
    case 'EHOSTDOWN':
      return fail('unreachable', `cannot be reached (${cause.code})`, { cause });
    case 'ETIMEDOUT':
      return fail('timeout', 'the connection timed out (ETIMEDOUT)', { cause });
    default:
      return fail(
        'closed',
        `the connection failed before CONNECT was answered: ${cause.code ?? cause.message}`,
        {
          cause,
        },
      );
  }
}

/** What Node's http client hands to `createConnection`: the connection options of one request. */
type ConnectionRequest = ConnectionOptions & { host?: string; port?: number | string; path?: string | null };

/**
 * A `createConnection` for ws (Node's http client accepts the callback form): the tunnel first, then TLS over it
 * with every TLS option of the request (client certificate, engine key, `secureContext`, `checkServerIdentity`)
 * when `secure`, else the tunnel itself.
 */
export function tunnelledConnection(
  proxy: ResolvedProxy,
  secure: boolean,
  timeoutMs: number,
): (options: ConnectionRequest, done: (error: Error | null, socket?: NetSocket) => void) => undefined {
  return (options, done) => {
    const host = String(options.host ?? 'localhost');
    const port = Number(options.port ?? (secure ? 443 : 80));
    openTunnel(proxy, { host, port }, timeoutMs).then(
      (tunnel) => {
        if (!secure) {
          done(null, tunnel);
          return;
        }
        // As ws does for a direct connection: SNI with the host name, none for an IP address.
        const servername =
          options.servername || options.servername === '' ? options.servername : isIP(host) ? '' : host;
        done(null, tlsConnect({ ...options, path: undefined, socket: tunnel, host, servername }));
      },
      (error: Error) => done(error),
    );
    return undefined;
  };
}

/** The proxy's own words, bounded and printable. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
