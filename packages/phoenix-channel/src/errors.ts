/**
 * Every error this package raises or reports: a `PhoenixChannelError` (or a subclass with more fields) whose
 * `code` is one of a closed set. Nothing here knows a particular server.
 */

/** Every code a caller may branch on. Match `err.code`, not the message or the class. */
export type PhoenixChannelErrorCode =
  | 'PHX_INVALID_ARGUMENT'
  | 'PHX_INVALID_STATE'
  | 'PHX_ENCODE_FAILED'
  | 'PHX_DECODE_FAILED'
  | 'PHX_CONNECT_FAILED'
  | 'PHX_CONNECT_TIMEOUT'
  | 'PHX_PROXY_FAILED'
  | 'PHX_UPGRADE_REJECTED'
  | 'PHX_HEARTBEAT_TIMEOUT'
  | 'PHX_TRANSPORT_ERROR'
  | 'PHX_SOCKET_CLOSED'
  | 'PHX_JOIN_REFUSED'
  | 'PHX_JOIN_TIMEOUT'
  | 'PHX_JOIN_PARAMS_FAILED'
  | 'PHX_CHANNEL_ERRORED'
  | 'PHX_CHANNEL_CLOSED'
  | 'PHX_PUSH_TIMEOUT'
  | 'PHX_NOT_JOINED'
  | 'PHX_BUFFER_FULL'
  | 'PHX_ABORTED'
  | 'PHX_HANDLER_FAILED';

/** Base class of every error this package raises or reports. */
export class PhoenixChannelError extends Error {
  override name = 'PhoenixChannelError';
  readonly code: PhoenixChannelErrorCode;

  constructor(code: PhoenixChannelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * The server answered the WebSocket upgrade with an HTTP status instead of 101 (401, 403, 503, …). The message
 * names only the status; `headers` holds every response header, names lowercased, for a caller that knows what
 * its server puts there (`date` lets it learn the server clock, a reason header explains a refusal).
 */
export class UpgradeRejectedError extends PhoenixChannelError {
  override name = 'UpgradeRejectedError';
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, headers: Readonly<Record<string, string>>) {
    // Only the status: what a server says in its own headers is for the caller, who knows that server.
    super('PHX_UPGRADE_REJECTED', `WebSocket upgrade rejected with HTTP ${statusCode}`);
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

/** Why a redirect answer to the upgrade was not followed. */
export type RedirectRefusal = 'too-many' | 'loop' | 'insecure' | 'cross-origin' | 'bad-location';

/**
 * The server answered the upgrade with a redirect (301, 302, 303, 307, 308) that the socket did not follow:
 * more than `maxRedirects` in one attempt (`too-many`), back to a URL already tried (`loop`), from `wss:` to a
 * plain `ws:` URL (`insecure`: the upgrade headers may carry credentials), to another origin (`cross-origin`:
 * another scheme, host or port, which must not get the headers or the client certificate), or without a usable
 * `Location` (`bad-location`). The code stays `PHX_UPGRADE_REJECTED`; `statusCode` and `headers` are those of the redirect.
 */
export class RedirectRefusedError extends UpgradeRejectedError {
  override name = 'RedirectRefusedError';
  readonly reason: RedirectRefusal;
  /** Scheme, host and path of where the redirect pointed (never the query), when it could be read. */
  readonly location: string | undefined;

  constructor(
    reason: RedirectRefusal,
    detail: string,
    response: { readonly statusCode: number; readonly headers: Readonly<Record<string, string>> },
    location?: string,
  ) {
    super(response.statusCode, response.headers);
    this.message = `WebSocket upgrade redirect (HTTP ${response.statusCode}) not followed: ${detail}`;
    this.reason = reason;
    this.location = location;
  }
}

/** The server answered `phx_join` with a status other than `ok`; `response` is what it sent. */
export class JoinRefusedError extends PhoenixChannelError {
  override name = 'JoinRefusedError';
  readonly topic: string;
  readonly status: string;
  readonly response: unknown;

  constructor(topic: string, status: string, response: unknown) {
    super('PHX_JOIN_REFUSED', `join of "${topic}" refused with status "${status}"`);
    this.topic = topic;
    this.status = status;
    this.response = response;
  }
}

/** Why a tunnel failed. */
export type ProxyFailure =
  /** 407 (or 401): credentials missing or refused. */
  | 'auth'
  /** No one listens at the proxy's address. */
  | 'refused'
  /** The proxy's host cannot be resolved or reached. */
  | 'unreachable'
  /** No answer to CONNECT in time. */
  | 'timeout'
  /** CONNECT answered with a status other than 200 (the proxy may not reach the server, or refuses it). */
  | 'status'
  /** The proxy closed the connection before it answered. */
  | 'closed';

/** A tunnel through a proxy that could not be made. The message never holds the credentials. */
export class ProxyError extends PhoenixChannelError {
  override name = 'ProxyError';
  readonly failure: ProxyFailure;
  /** The proxy as `http://host:port`. */
  readonly proxy: string;
  /** Where the proxy setting came from (e.g. `network.proxy`), when the caller said. */
  readonly source: string | undefined;
  /** `host:port` the tunnel was asked for. */
  readonly target: string;
  /** The status of the proxy's answer to CONNECT, when it gave one. (Not `statusCode`: that is the server's.) */
  readonly proxyStatusCode: number | undefined;
  /** Whether credentials were sent. */
  readonly sentCredentials: boolean;

  constructor(
    failure: ProxyFailure,
    detail: string,
    info: {
      /** `http://host:port`, never the credentials. */
      readonly proxy: string;
      readonly source: string | undefined;
      readonly sentCredentials: boolean;
      readonly target: string;
      readonly statusCode?: number;
      readonly cause?: unknown;
    },
  ) {
    const from = info.source ? ` (${info.source})` : '';
    super('PHX_PROXY_FAILED', `proxy ${info.proxy}${from}: ${detail}`, { cause: info.cause });
    this.failure = failure;
    this.proxy = info.proxy;
    this.source = info.source;
    this.target = info.target;
    this.proxyStatusCode = info.statusCode;
    this.sentCredentials = info.sentCredentials;
  }
}
