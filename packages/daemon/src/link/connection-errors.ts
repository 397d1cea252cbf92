/**
 * A failed connection attempt explained for the operator, with the fix: TLS failures through the auth package,
 * and the HTTP answers NervesHub gives to the WebSocket upgrade (nerves_hub_web
 * lib/nerves_hub/helpers/websocket_connection_error.ex, lib/nerves_hub_web/device_endpoint.ex): 401 when it does
 * not accept the credentials, a 301 to DEVICE_ENDPOINT_REDIRECT (its docs site by default) for every path it has
 * no device socket on (lib/nerves_hub_web/plugs/device_endpoint_redirect.ex), 403 from the web host's /socket,
 * which is the browsers' socket (lib/nerves_hub_web/endpoint.ex). A proxy that failed and a server key that
 * matches no pin are explained first, with the setting to check.
 */
import { type AuthErrorCode, describeTlsError } from '@nerves-hub-link/auth';
import {
  type PhoenixChannelErrorCode,
  type ProxyError,
  RedirectRefusedError,
} from '@nerves-hub-link/phoenix-channel';

/**
 * The device socket's path for each kind of device: nerves_hub_link lib/nerves_hub_link/configurator.ex builds
 * these; nerves_hub_web mounts both on the device endpoint and only /device-socket on the web endpoint, where
 * /socket is the browsers' socket (lib/nerves_hub_web/device_endpoint.ex, endpoint.ex).
 */
export const EXPECTED_PATH = {
  mtls: '/socket/websocket',
  shared_secret: '/device-socket/websocket',
} as const;

export interface ConnectionFacts {
  readonly method: 'mtls' | 'shared_secret';
  /** The configured `uri`. */
  readonly uri: string;
  /** `auth.cert_file` (mTLS). */
  readonly certFile?: string | undefined;
  /** `auth.secret_file` when the secret is kept in a file (shared secret). */
  readonly secretFile?: string | undefined;
  /** How far the server's clock (its `Date` header) is ahead of the device's, as far as it is known. */
  readonly serverClockOffsetMs?: () => number;
}

/** A server clock this far off is worth a word: NervesHub accepts signatures up to 90 s old. */
const CLOCK_HINT_MS = 60_000;

/** A failed attempt explained for the operator: proxy and pin failures first, then TLS and the server's answer. */
export function describeConnectionError(error: Error, facts: ConnectionFacts): string {
  return describeNetworkError(error) ?? explainConnectionError(error, facts);
}

export function explainConnectionError(error: Error, facts: ConnectionFacts): string {
  const url = safeUrl(facts.uri);
  const tls = describeTlsError(error, url?.host ?? facts.uri);
  if (tls) return tls.message;
  if (isCrossOriginRedirect(error)) return crossOriginRedirect(error, facts, url);
  const status = httpStatusOf(error);
  if (status === 401) return facts.method === 'mtls' ? mtlsRefused(facts) : sharedSecretRefused(error, facts);
  if (status === 403 && url?.pathname === EXPECTED_PATH.mtls) return browserSocket(facts, url);
  if (status === 404 || (status !== undefined && status >= 300 && status < 400)) {
    return wrongPath(error, status, facts, url);
  }
  return withServerReason(error);
}

/**
 * An answer to the upgrade that no retry can change: the configured `uri` itself has to change. A redirect to
 * another origin is one (the daemon never sends its credentials there, so it can never join through it).
 */
export function isUriProblem(error: Error): boolean {
  return isCrossOriginRedirect(error);
}

function isCrossOriginRedirect(error: Error): error is RedirectRefusedError {
  return error instanceof RedirectRefusedError && error.reason === 'cross-origin';
}

/** NervesHub's device endpoint sends every unknown path to another site: the path is wrong, or the host is. */
function crossOriginRedirect(
  error: RedirectRefusedError,
  facts: ConnectionFacts,
  url: URL | undefined,
): string {
  const where = url ? `${url.host}${url.pathname}` : facts.uri;
  const head =
    `${where} redirected the WebSocket upgrade (HTTP ${error.statusCode}) to another site, ` +
    `${shownLocation(error, url)}; not followed: the device's credentials are only sent to ` +
    `${url?.host ?? 'the configured host'}.`;
  const paths =
    `NervesHub redirects every path it has no device socket on: devices connect to ${EXPECTED_PATH.mtls} or ` +
    `${EXPECTED_PATH.shared_secret} (on the device endpoint both accept either auth method; a web host serves only ` +
    `${EXPECTED_PATH.shared_secret})`;
  if (url && url.pathname !== EXPECTED_PATH.mtls && url.pathname !== EXPECTED_PATH.shared_secret) {
    return `${head} ${paths}; set uri = "${withPath(url, EXPECTED_PATH[facts.method])}"`;
  }
  return `${head} ${paths}; the path is right, so check that uri names NervesHub's device endpoint (host and port)`;
}

/** The Location as the server wrote it (an https: docs page reads better than its wss: form), without a query. */
function shownLocation(error: RedirectRefusedError, base: URL | undefined): string {
  try {
    const location = new URL(error.headers.location ?? '', base);
    return `${location.protocol}//${location.host}${location.pathname}`;
  } catch {
    return error.location ?? 'a Location that cannot be read';
  }
}

/**
 * The web endpoint's /socket is NervesHub's socket for browsers: it refuses devices with 403. The web host offers
 * devices /device-socket only, and only for shared secrets (a client certificate needs the device endpoint).
 */
function browserSocket(facts: ConnectionFacts, url: URL): string {
  const head =
    `${url.host} refused ${url.pathname} with HTTP 403: on NervesHub's web host /socket is the browsers' socket, ` +
    'not a device socket';
  if (facts.method === 'shared_secret') {
    return (
      `${head}. Shared-secret devices connect there to ${EXPECTED_PATH.shared_secret}; ` +
      `set uri = "${withPath(url, EXPECTED_PATH.shared_secret)}"`
    );
  }
  return (
    `${head}. Certificate (mTLS) devices connect to NervesHub's device endpoint (its own host and port, where ` +
    `${EXPECTED_PATH.mtls} is the device socket): check the host and port in uri`
  );
}

/**
 * A failed connection explained when the proxy or the pins caused it, with what to fix; undefined otherwise.
 * Reads the codes of the phoenix-channel (`PHX_PROXY_FAILED`) and auth (`AUTH_SERVER_PIN_MISMATCH`) errors
 * anywhere in the cause chain.
 */
export function describeNetworkError(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    const message = (current as { message?: unknown }).message;
    if (code === PROXY_FAILED && typeof message === 'string')
      return proxyHint(current as ProxyFields, message);
    if (code === PIN_MISMATCH && typeof message === 'string') {
      return `${message}. If the server's key changed on purpose, put the new pin in auth.server_pins`;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const PROXY_FAILED: PhoenixChannelErrorCode = 'PHX_PROXY_FAILED';
const PIN_MISMATCH: AuthErrorCode = 'AUTH_SERVER_PIN_MISMATCH';

/** What a ProxyError says of the failure; read by field, since it may come from another copy of the package. */
type ProxyFields = Partial<Pick<ProxyError, 'failure' | 'source' | 'target' | 'proxyStatusCode'>>;

function proxyHint(fields: ProxyFields, message: string): string {
  const setting = fields.source ?? 'the proxy setting';
  switch (fields.failure) {
    case 'refused':
    case 'unreachable':
    case 'timeout':
    case 'closed':
      return `${message}; check that the proxy runs and that ${setting} names it`;
    case 'status': {
      const status = fields.proxyStatusCode ?? 0;
      if (status >= 500) return `${message}: the proxy could not reach ${fields.target ?? 'the server'}`;
      if (status === 403 || status === 405) {
        return `${message}: the proxy does not allow a tunnel to ${fields.target ?? 'the server'} (its access rules, or the ports it allows CONNECT to)`;
      }
      return message;
    }
    default:
      return message;
  }
}

function withPath(url: URL, path: string): string {
  const fixed = new URL(url.href);
  fixed.pathname = path;
  fixed.search = '';
  return fixed.href;
}

function mtlsRefused(facts: ConnectionFacts): string {
  return (
    'NervesHub refused the device certificate (HTTP 401): it does not know this certificate. Register it ' +
    `(auth.cert_file${facts.certFile ? ` = ${facts.certFile}` : ''}) or the CA that signed it with the organization ` +
    'of the device in NervesHub, and check that the certificate is the one issued for this device'
  );
}

function sharedSecretRefused(error: Error, facts: ConnectionFacts): string {
  const reason = headerOf(error, 'nh-connection-error-reason');
  const secret = facts.secretFile ? `auth.secret_file (${facts.secretFile})` : 'auth.secret';
  let text =
    `NervesHub refused the shared-secret signature (HTTP 401${reason ? `: ${reason}` : ''}): check auth.key and ` +
    `${secret}: a product key (nhp_…) goes with its product's secret, a device key (nhd_…) with that device's ` +
    'secret and its identifier; shared secrets must also be enabled on the server';
  const offsetMs = facts.serverClockOffsetMs?.() ?? 0;
  if (Math.abs(offsetMs) >= CLOCK_HINT_MS) {
    const seconds = Math.round(Math.abs(offsetMs) / 1000);
    text +=
      `. The device clock is ${seconds} s ${offsetMs > 0 ? 'behind' : 'ahead of'} the server's (its Date header): ` +
      'set the device clock (NTP); meanwhile the daemon signs with the server time';
  }
  return text;
}

function wrongPath(error: Error, status: number, facts: ConnectionFacts, url: URL | undefined): string {
  const expected = EXPECTED_PATH[facts.method];
  const method = facts.method === 'mtls' ? 'certificate (mTLS)' : 'shared-secret';
  const answer = `HTTP ${status}${status >= 300 && status < 400 ? ', a redirect' : ''}`;
  if (url && url.pathname !== expected) {
    return (
      `NervesHub has no device socket at ${url.pathname} (${answer}): ${method} devices connect to ${expected}; ` +
      `set uri = "${withPath(url, expected)}"`
    );
  }
  return (
    `${url?.host ?? facts.uri} answered the WebSocket upgrade on ${expected} with ${answer} (${withServerReason(error)}): ` +
    `check that uri names NervesHub's device endpoint (host and port), not its web interface`
  );
}

/** The HTTP status of the answer that failed an attempt, anywhere in the cause chain. */
export function httpStatusOf(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const status = (current as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number') return status;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function headerOf(error: unknown, name: string): string | undefined {
  const value = (error as { headers?: Record<string, unknown> } | null)?.headers?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function safeUrl(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** The message, with the reason NervesHub gives in its `nh-connection-error-reason` header when it gives one. */
function withServerReason(error: Error): string {
  const reason = headerOf(error, 'nh-connection-error-reason');
  return reason ? `${error.message} (${reason})` : error.message;
}
