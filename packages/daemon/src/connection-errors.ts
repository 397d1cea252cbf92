/**
 * A failed connection attempt explained for the operator, with the fix: TLS failures through the auth package,
 * and the HTTP answers NervesHub gives to the WebSocket upgrade (nerves_hub_web
 * lib/nerves_hub/helpers/websocket_connection_error.ex, lib/nerves_hub_web/device_endpoint.ex): 401 when it does
 * not accept the credentials, a redirect (301) or 404 for a path it has no device socket on.
 */
import { describeTlsError } from '@nerves-hub-link/auth';

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

export function explainConnectionError(error: Error, facts: ConnectionFacts): string {
  const url = safeUrl(facts.uri);
  const tls = describeTlsError(error, url?.host ?? facts.uri);
  if (tls) return tls.message;
  const status = statusOf(error);
  if (status === 401) return facts.method === 'mtls' ? mtlsRefused(facts) : sharedSecretRefused(error, facts);
  if (status === 404 || (status !== undefined && status >= 300 && status < 400)) {
    return wrongPath(error, status, facts, url);
  }
  return error.message;
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
    const fixed = new URL(url.href);
    fixed.pathname = expected;
    fixed.search = '';
    return (
      `NervesHub has no device socket at ${url.pathname} (${answer}): ${method} devices connect to ${expected}; ` +
      `set uri = "${fixed.href}"`
    );
  }
  return (
    `${url?.host ?? facts.uri} answered the WebSocket upgrade on ${expected} with ${answer} (${error.message}): ` +
    `check that uri names NervesHub's device endpoint (host and port), not its web interface`
  );
}

function statusOf(error: unknown): number | undefined {
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
