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
 * The server answered the WebSocket upgrade with an HTTP status instead of 101 (401, 403, 503, …).
 * `headers` holds every response header, names lowercased; `date` lets the caller learn the server clock.
 */
export class UpgradeRejectedError extends PhoenixChannelError {
  override name = 'UpgradeRejectedError';
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, headers: Readonly<Record<string, string>>) {
    const reason = headers['nh-connection-error-reason'];
    super(
      'PHX_UPGRADE_REJECTED',
      `WebSocket upgrade rejected with HTTP ${statusCode}${reason ? ` (${reason})` : ''}`,
    );
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

/** True for any error of this package, even one made by another copy of it. */
export function isPhoenixChannelError(error: unknown): error is PhoenixChannelError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('PHX_');
}
