/** How one connection attempt is made: the URL, the upgrade headers and the ws/TLS options. Pure. */
import type { IncomingHttpHeaders } from 'node:http';
import type { PeerCertificate, SecureContext, SecureVersion } from 'node:tls';
import type { ClientOptions } from 'ws';
import { PROTOCOL_VSN } from './constants.js';
import { RedirectRefusedError } from './errors.js';
import { type ProxyOption, proxyFor, tunnelledConnection } from './proxy.js';
import { invalid, invalidKind } from './validate.js';

/** URL query params of the upgrade; `null` and `undefined` values are left out. */
export type SocketParams = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Extra upgrade request headers. */
export type SocketHeaders = Readonly<Record<string, string>>;

/**
 * TLS material for `wss:` URLs, handed to `tls.connect` through ws. Server verification is always on: there is no
 * option to turn it off.
 */
export interface SocketTlsOptions {
  /** CA certificates that may sign the server certificate (PEM); the system store when absent. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Client certificate chain (PEM) for mutual TLS. */
  readonly cert?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Client private key (PEM). */
  readonly key?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Passphrase of an encrypted `key`. */
  readonly passphrase?: string;
  /** OpenSSL engine holding the private key (e.g. `pkcs11`). */
  readonly privateKeyEngine?: string;
  /** Key identifier inside `privateKeyEngine` (e.g. a `pkcs11:` URI). */
  readonly privateKeyIdentifier?: string;
  /** A prepared `tls.createSecureContext()`; it takes precedence over `ca`, `cert` and `key`. */
  readonly secureContext?: SecureContext;
  /** SNI name and name checked in the server certificate. @default the URL's host name (none for an IP) */
  readonly servername?: string;
  /** @default Node's default (TLSv1.2) */
  readonly minVersion?: SecureVersion;
  /** @default Node's default (TLSv1.3) */
  readonly maxVersion?: SecureVersion;
  /**
   * Replaces Node's check of the server's name, as in `tls.connect`: return an Error to refuse the server. Node
   * calls it only for a certificate chain the CAs verified; call `tls.checkServerIdentity` in it to keep the name
   * check (e.g. to add public-key pins). It gets the chain (`issuerCertificate`).
   */
  readonly checkServerIdentity?: (hostname: string, certificate: PeerCertificate) => Error | undefined;
}

const TLS_KEYS = [
  'ca',
  'cert',
  'key',
  'passphrase',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'secureContext',
  'servername',
  'minVersion',
  'maxVersion',
  'checkServerIdentity',
] as const;

/** Checks the endpoint once: `ws:`/`wss:` (or `http:`/`https:`), no fragment. */
export function parseEndpoint(endpointUrl: string): URL {
  let url: URL;
  try {
    url = new URL(endpointUrl);
  } catch {
    throw invalid('endpointUrl', 'an absolute ws:, wss:, http: or https: URL', endpointUrl);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if ((url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.hash !== '') {
    throw invalid('endpointUrl', 'a ws: or wss: URL without a fragment', `${url.protocol}//${url.host}`);
  }
  return url;
}

/** The URL of one attempt: the endpoint's own query, then `params`, then `vsn=2.0.0` (always, overriding). */
export function buildUrl(endpoint: URL, params: SocketParams | undefined): string {
  const url = new URL(endpoint.href);
  if (params) {
    for (const [name, value] of Object.entries(params)) {
      if (value !== null && value !== undefined) url.searchParams.set(name, String(value));
    }
  }
  url.searchParams.set('vsn', PROTOCOL_VSN);
  return url.href;
}

/** Longest URL shown; a longer one is cut with its length noted. */
const REDACTED_URL_MAX_CHARS = 300;

/**
 * URL safe for logs and messages: `scheme://host/path`, never the userinfo, the query (it may hold tokens) nor
 * the fragment; `<invalid url>` for a string that does not parse. The same contract as
 * `@nerves-hub-link/message-text`'s `redactUrl` (this package takes no dependencies), tested on the same cases.
 */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return '<invalid url>';
  }
  // A parsed URL is ASCII without control characters (the parser percent-encodes them): safe to cut anywhere.
  const shown = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  if (shown.length <= REDACTED_URL_MAX_CHARS) return shown;
  const note = `… (${shown.length} characters)`;
  return `${shown.slice(0, REDACTED_URL_MAX_CHARS - note.length)}${note}`;
}

/** Upgrade headers without `Origin` (Phoenix checks the origin only when present; devices must not send one). */
export function buildHeaders(headers: SocketHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (typeof headers !== 'object') throw invalidKind('headers', 'an object of strings', headers);
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'origin' || value === undefined) continue;
    // Never echo the value: it may be a signed token.
    if (typeof value !== 'string') throw invalidKind(`headers["${name}"]`, 'a string', value);
    out[name] = value;
  }
  return out;
}

/** The ws client options of one attempt. */
export function buildClientOptions(input: {
  readonly headers: Record<string, string>;
  readonly tls: SocketTlsOptions | undefined;
  readonly perMessageDeflate: boolean;
  readonly maxPayload: number;
  readonly closeTimeoutMs: number;
}): ClientOptions {
  const options: Record<string, unknown> = {
    headers: input.headers,
    perMessageDeflate: input.perMessageDeflate,
    maxPayload: input.maxPayload,
    closeTimeout: input.closeTimeoutMs,
    followRedirects: false,
  };
  if (input.tls) {
    for (const key of TLS_KEYS) {
      if (input.tls[key] !== undefined) options[key] = input.tls[key];
    }
  }
  options.rejectUnauthorized = true;
  return options as ClientOptions;
}

/**
 * The ws options of one hop to `url`: through a CONNECT tunnel when `proxy` picks a proxy for it (each hop asks,
 * so a redirect to a host that goes direct does), otherwise `clientOptions` unchanged. Throws when the proxy
 * chosen is not a usable http:// URL.
 */
export function hopClientOptions(
  clientOptions: ClientOptions,
  url: string,
  proxy: ProxyOption | undefined,
  connectTimeoutMs: number,
): ClientOptions {
  if (proxy === undefined) return clientOptions;
  const target = new URL(url);
  const route = proxyFor(proxy, target);
  if (!route) return clientOptions;
  const createConnection = tunnelledConnection(route, target.protocol === 'wss:', connectTimeoutMs);
  return { ...clientOptions, createConnection } as unknown as ClientOptions;
}

/** Response headers as lowercased name → string (repeated headers joined with ", "). */
export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Statuses of a redirect the upgrade follows (when `maxRedirects` allows); any other answer rejects it. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** One redirect answer to the upgrade, and what this attempt has followed so far. */
export interface RedirectStep {
  /** The URL that was asked. */
  readonly from: URL;
  readonly statusCode: number;
  /** Response headers, names lowercased (see `flattenHeaders`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Redirects already followed in this attempt. */
  readonly followed: number;
  readonly maxRedirects: number;
  /** `href` of every URL asked in this attempt, the first one included. */
  readonly visited: ReadonlySet<string>;
}

/**
 * Where a redirect answer leads: `Location` resolved against the URL asked, `http:`/`https:` mapped to
 * `ws:`/`wss:`, the fragment dropped and `vsn=2.0.0` set (the server may leave the query out, and without `vsn`
 * Phoenix would talk its V1 format). Throws a `RedirectRefusedError` when the redirect must not be followed.
 */
export function redirectTarget(step: RedirectStep): URL {
  const response = { statusCode: step.statusCode, headers: step.headers };
  const location = step.headers.location;
  let target: URL;
  try {
    if (!location) throw new Error('no Location header');
    target = new URL(location, step.from);
  } catch {
    throw new RedirectRefusedError('bad-location', 'the Location header is missing or not a URL', response);
  }
  if (target.protocol === 'http:') target.protocol = 'ws:';
  else if (target.protocol === 'https:') target.protocol = 'wss:';
  const shown = redactUrl(target);
  if (target.protocol !== 'ws:' && target.protocol !== 'wss:') {
    throw new RedirectRefusedError('bad-location', `${shown} is not a WebSocket URL`, response, shown);
  }
  if (step.from.protocol === 'wss:' && target.protocol === 'ws:') {
    throw new RedirectRefusedError('insecure', `${shown} would leave TLS`, response, shown);
  }
  // The attempt's headers (signed tokens, maybe) and its client certificate are for the origin that was asked:
  // a redirect elsewhere (a front page, a docs site) must not receive them.
  if (target.origin !== step.from.origin) {
    throw new RedirectRefusedError(
      'cross-origin',
      `${shown} is another origin than ${step.from.origin}; the credentials are not sent there`,
      response,
      shown,
    );
  }
  target.hash = '';
  target.searchParams.set('vsn', PROTOCOL_VSN);
  if (step.visited.has(target.href)) {
    throw new RedirectRefusedError('loop', `${shown} was already tried (redirect loop)`, response, shown);
  }
  if (step.followed >= step.maxRedirects) {
    throw new RedirectRefusedError(
      'too-many',
      `more than ${step.maxRedirects} redirect(s), the last to ${shown}`,
      response,
      shown,
    );
  }
  return target;
}
