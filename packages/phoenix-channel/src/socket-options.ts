/** What a socket can be given (endpoint params, headers, TLS, timers, redirects, proxy), checked, defaults applied. */
import { defaultReconnectAfterMs } from './backoff.js';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_FRAME_BYTES,
} from './constants.js';
import type { Logger } from './logger.js';
import { checkProxyOption, type ProxyOption } from './proxy.js';
import { SYSTEM_TIMERS, type Timers } from './timer.js';
import type { SocketHeaders, SocketParams, SocketTlsOptions } from './transport.js';
import { checkFunction, checkNumber, checkObjectOrFunction, invalid, invalidKind } from './validate.js';

export interface SocketOptions {
  /** URL query params, or a (sync or async) function called before every attempt. `vsn=2.0.0` is always set. */
  readonly params?: SocketParams | (() => SocketParams | Promise<SocketParams>);
  /**
   * Extra upgrade headers, or a (sync or async) function called before every attempt, so that signed headers are
   * fresh on each reconnect. An `Origin` header is never sent.
   */
  readonly headers?: SocketHeaders | (() => SocketHeaders | Promise<SocketHeaders>);
  /** TLS material for `wss:`; verification of the server is always on. */
  readonly tls?: SocketTlsOptions;
  /**
   * Time between two Phoenix heartbeats.
   * @default 30000
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * Longest wait for a heartbeat reply (at most the interval); then the socket is closed with
   * `PHX_HEARTBEAT_TIMEOUT` and reconnects. A peer that goes silent is noticed only when the next heartbeat
   * goes unanswered: up to `heartbeatIntervalMs + heartbeatTimeoutMs` later (two intervals by default).
   * @default heartbeatIntervalMs
   */
  readonly heartbeatTimeoutMs?: number;
  /**
   * Delay before reconnect attempt `attempt` (1, 2, …). The count resets only once a connection has stayed open
   * for `heartbeatIntervalMs`: a server that accepts and drops connections at once still gets a growing delay.
   * @default 1 s, 2 s, 4 s … capped at 60 s, each up to 50 % longer
   */
  readonly reconnectAfterMs?: (attempt: number) => number;
  /**
   * Where the waits of `reconnectAfterMs`, of the channels' `rejoinAfterMs` and of `flush()` are scheduled; a test
   * passes a clock it moves, so that it does not wait a backoff or a flush out.
   * @default the global setTimeout and clearTimeout
   */
  readonly timers?: Timers;
  /**
   * Longest time for TCP, TLS and the HTTP upgrade of one attempt, redirects included.
   * @default 15000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Redirects (301, 302, 303, 307, 308) the upgrade follows within one attempt, within the endpoint's origin
   * (scheme, host and port). Each hop sends the attempt's headers and uses the same `tls` options; the target gets
   * `vsn=2.0.0`. A redirect to another origin (which must not see the headers nor the client certificate), from
   * `wss:` to `ws:`, back to a URL already tried, or past this count fails the attempt with a
   * `RedirectRefusedError`. With 0, a
   * redirect is an `UpgradeRejectedError` like any other HTTP answer. Every attempt starts at the endpoint again.
   * @default 0
   */
  readonly maxRedirects?: number;
  /**
   * Longest wait for the closing handshake in `close()` before the TCP socket is destroyed.
   * @default 2000
   */
  readonly closeTimeoutMs?: number;
  /**
   * Largest incoming frame; a bigger one is reported (`PHX_DECODE_FAILED`) and dropped. When it is the reply to a
   * push, that push rejects at once with `PHX_DECODE_FAILED` naming this option. Frames over four times this size
   * make ws close the connection, which then reconnects.
   * @default 1048576
   */
  readonly maxFrameBytes?: number;
  /**
   * Offer permessage-deflate. Off by default: Phoenix frames of a device are small, and each compressed
   * connection holds zlib state (tens of KB).
   * @default false
   */
  readonly perMessageDeflate?: boolean;
  /** Receives debug/info/warn lines; without an `error` listener, reported errors go to `warn`. */
  readonly logger?: Logger;
  /**
   * An HTTP proxy (`http://[user:password@]host:port`), or a function of each target URL returning one or
   * undefined (direct), asked again for every redirect hop. The connection goes through a CONNECT tunnel with TLS
   * end to end; a failed tunnel is a `ProxyError` (`PHX_PROXY_FAILED`) as the cause of `PHX_CONNECT_FAILED`.
   * @default none: direct (environment variables are not read)
   */
  readonly proxy?: ProxyOption;
}

/** A socket's settings once checked: every timer and bound has its value. */
export interface SocketSettings extends SocketOptions {
  readonly heartbeatIntervalMs: number;
  /** At most `heartbeatIntervalMs`. */
  readonly heartbeatTimeoutMs: number;
  readonly reconnectAfterMs: (attempt: number) => number;
  readonly timers: Timers;
  readonly connectTimeoutMs: number;
  readonly maxRedirects: number;
  readonly closeTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly perMessageDeflate: boolean;
}

const DEFAULTS = {
  heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  closeTimeoutMs: DEFAULT_CLOSE_TIMEOUT_MS,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  perMessageDeflate: false,
  maxRedirects: 0,
  reconnectAfterMs: defaultReconnectAfterMs,
  timers: SYSTEM_TIMERS,
} as const;

/** Throws `PHX_INVALID_ARGUMENT` naming the first bad option. An option given as `undefined` takes its default. */
export function socketSettings(options: SocketOptions): SocketSettings {
  checkObjectOrFunction('params', options.params);
  checkObjectOrFunction('headers', options.headers);
  if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null)) {
    throw invalidKind('tls', 'an object', options.tls);
  }
  checkNumber('heartbeatIntervalMs', options.heartbeatIntervalMs, 1);
  checkNumber('heartbeatTimeoutMs', options.heartbeatTimeoutMs, 1);
  checkNumber('connectTimeoutMs', options.connectTimeoutMs, 1);
  checkNumber('closeTimeoutMs', options.closeTimeoutMs, 0);
  checkNumber('maxFrameBytes', options.maxFrameBytes, 1);
  if (options.maxRedirects !== undefined && !Number.isSafeInteger(options.maxRedirects)) {
    throw invalid('maxRedirects', 'a whole number >= 0', options.maxRedirects);
  }
  checkNumber('maxRedirects', options.maxRedirects, 0);
  checkFunction('reconnectAfterMs', options.reconnectAfterMs);
  checkTimers(options.timers);
  checkProxyOption(options.proxy);
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const merged = { ...DEFAULTS, ...defined } as SocketOptions & typeof DEFAULTS;
  return {
    ...merged,
    heartbeatTimeoutMs: Math.min(
      merged.heartbeatTimeoutMs ?? merged.heartbeatIntervalMs,
      merged.heartbeatIntervalMs,
    ),
  };
}

function checkTimers(timers: Timers | undefined): void {
  if (timers === undefined) return;
  if (
    typeof timers !== 'object' ||
    timers === null ||
    typeof timers.setTimeout !== 'function' ||
    typeof timers.clearTimeout !== 'function'
  ) {
    throw invalidKind('timers', 'an object with setTimeout and clearTimeout functions', timers);
  }
}
