/**
 * One Phoenix WebSocket as a state machine: connect with fresh params and headers (following redirects within the
 * origin), heartbeat, reconnect with backoff, route frames to channels. Its options are checked in
 * socket-options.ts, `flush()` waits in flush-waiters.ts, each channel is a state machine of its own.
 */
import { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { Channel, type ChannelHooks, type ChannelHost } from './channel.js';
import type { ChannelOptions, ChannelParams } from './channel-options.js';
import { decode, encodeFrame } from './codec.js';
import { CHANNEL_EVENTS, FRAME_HARD_LIMIT_FACTOR, PHOENIX_TOPIC } from './constants.js';
import { PhoenixChannelError, RedirectRefusedError, UpgradeRejectedError } from './errors.js';
import { type FlushOptions, FlushWaiters } from './flush-waiters.js';
import { frameByteLength, readFramePrefix } from './frame-prefix.js';
import { Heartbeat } from './heartbeat.js';
import { log } from './logger.js';
import { type SocketOptions, type SocketSettings, socketSettings } from './socket-options.js';
import { Timer } from './timer.js';
import {
  buildClientOptions,
  buildHeaders,
  buildUrl,
  flattenHeaders,
  hopClientOptions,
  parseEndpoint,
  REDIRECT_STATUSES,
  redactUrl,
  redirectTarget,
} from './transport.js';

export interface SocketCloseEvent {
  readonly code: number;
  readonly reason: string;
  /** Set when a reconnect is scheduled. */
  readonly reconnectInMs?: number;
}

export interface SocketReconnectingEvent {
  readonly attempt: number;
  readonly delayMs: number;
}

export interface SocketEvents {
  open: [];
  close: [event: SocketCloseEvent];
  error: [error: PhoenixChannelError];
  reconnecting: [event: SocketReconnectingEvent];
}

/** `idle` (not started or closed), `connecting`, `open`, `waiting` (to reconnect) or `closing`. */
export type SocketState = 'idle' | 'connecting' | 'open' | 'waiting' | 'closing';

/**
 * A Phoenix Channels client socket (`vsn=2.0.0`). `connect()` starts it; from then on it reconnects by itself
 * until `close()`. Errors are emitted on `error` when someone listens, otherwise logged: they never throw.
 */
export class Socket extends EventEmitter<SocketEvents> {
  readonly #endpoint: URL;
  readonly #options: SocketSettings;
  readonly #channels = new Map<string, ChannelHooks>();
  readonly #host: ChannelHost;
  readonly #heartbeat: Heartbeat;
  readonly #reconnectTimer: Timer;
  #state: SocketState = 'idle';
  #ws: WebSocket | null = null;
  #wsOpened = false;
  #generation = 0;
  #refCounter = 0;
  #attemptError: PhoenixChannelError | null = null;
  #connectTimer: NodeJS.Timeout | undefined;
  /** Runs once a connection has stayed open for a heartbeat interval: only then does the backoff start over. */
  #stableTimer: NodeJS.Timeout | undefined;
  /** What the current attempt needs to follow a redirect. */
  #hops: { clientOptions: WebSocket.ClientOptions; followed: number; visited: Set<string> } | null = null;
  #localAddress: string | undefined;
  #pendingWrites = 0;
  readonly #flushWaiters: FlushWaiters;
  #closing: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(endpointUrl: string, options: SocketOptions = {}) {
    super();
    this.#endpoint = parseEndpoint(endpointUrl);
    this.#options = socketSettings(options);
    this.#flushWaiters = new FlushWaiters(() => this.#isDrained(), this.#options.timers);
    this.#heartbeat = new Heartbeat({
      intervalMs: this.#options.heartbeatIntervalMs,
      timeoutMs: this.#options.heartbeatTimeoutMs,
      send: () => this.#sendHeartbeat(),
      onTimeout: () => this.#onHeartbeatTimeout(),
    });
    // Not unref'd: while it waits to reconnect, nothing else may keep a daemon alive. close() clears it.
    this.#reconnectTimer = new Timer(() => this.#onReconnectTimer(), this.#options.reconnectAfterMs, {
      timers: this.#options.timers,
    });
    this.#host = {
      logger: this.#options.logger,
      timers: this.#options.timers,
      isConnected: () => this.isConnected(),
      makeRef: () => this.#makeRef(),
      sendFrame: (text) => this.#sendFrame(text),
      report: (error) => this.#report(error),
      bufferChanged: () => this.#flushWaiters.check(),
      attach: (hooks) => {
        this.#channels.set(hooks.channel.topic, hooks);
      },
      detach: (channel) => {
        if (this.#channels.get(channel.topic)?.channel === channel) this.#channels.delete(channel.topic);
      },
    };
  }

  /** Where the socket is in its life. */
  get state(): SocketState {
    return this.#state;
  }

  /** True while the WebSocket is open. */
  isConnected(): boolean {
    return this.#state === 'open';
  }

  /**
   * Local IP address of the open connection's TCP socket (as Node reports it, e.g. `192.0.2.2`, `fe80::1` or
   * `::ffff:192.0.2.2`), so a caller can tell which network interface carries it; undefined when not connected.
   */
  get localAddress(): string | undefined {
    return this.#state === 'open' ? this.#localAddress : undefined;
  }

  /** Starts connecting; does nothing if already started. After `close()` it starts again from scratch. */
  connect(): void {
    if (this.#state === 'closing') {
      throw new PhoenixChannelError('PHX_INVALID_STATE', 'connect() called while close() is in progress');
    }
    if (this.#state !== 'idle') return;
    void this.#attempt();
  }

  /**
   * Closes for good: stops reconnecting and heartbeats, ends every channel (`closed` event; pending pushes reject
   * with `PHX_SOCKET_CLOSED`), sends a 1000 close frame and resolves once the connection is gone (at most
   * `closeTimeoutMs` later). No timer or listener of this socket is left behind.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing.promise;
    this.#generation += 1;
    this.#reconnectTimer.reset();
    this.#heartbeat.stop();
    this.#clearConnectTimer();
    this.#clearStableTimer();
    this.#hops = null;
    const error = new PhoenixChannelError('PHX_SOCKET_CLOSED', 'socket closed by the caller');
    for (const hooks of [...this.#channels.values()]) hooks.terminate(error);
    const ws = this.#ws;
    if (!ws) {
      this.#state = 'idle';
      this.#flushWaiters.check();
      return Promise.resolve();
    }
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.#closing = { promise, resolve };
    this.#state = 'closing';
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    else ws.terminate();
    return promise;
  }

  /**
   * The channel of `topic`, created now. `params` may be a function, called before every (re)join.
   * Throws `PHX_INVALID_STATE` if the topic already has a channel that was not left.
   */
  channel(topic: string, params?: ChannelParams, options: ChannelOptions = {}): Channel {
    if (this.#channels.has(topic)) {
      throw new PhoenixChannelError(
        'PHX_INVALID_STATE',
        `topic "${topic}" already has a channel; leave it first`,
      );
    }
    return new Channel(topic, params, options, this.#host);
  }

  /**
   * Resolves `true` once everything sent so far has been handed to the operating system: no frame queued in ws
   * and no message waiting in a channel buffer. Resolves `false` after `timeoutMs`; rejects with `PHX_ABORTED`
   * on `signal`.
   */
  flush(options: FlushOptions = {}): Promise<boolean> {
    return this.#flushWaiters.wait(options);
  }

  async #attempt(): Promise<void> {
    const generation = ++this.#generation;
    this.#state = 'connecting';
    this.#attemptError = null;
    let url: string;
    let headers: Record<string, string>;
    try {
      const [params, rawHeaders] = await Promise.all([
        resolveOption(this.#options.params),
        resolveOption(this.#options.headers),
      ]);
      url = buildUrl(this.#endpoint, params);
      headers = buildHeaders(rawHeaders);
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#report(
        new PhoenixChannelError('PHX_CONNECT_FAILED', 'connect params or headers could not be made', {
          cause: error,
        }),
      );
      this.#scheduleReconnect(null);
      return;
    }
    if (generation !== this.#generation) return;
    const clientOptions = buildClientOptions({
      headers,
      tls: this.#options.tls,
      perMessageDeflate: this.#options.perMessageDeflate,
      maxPayload: this.#options.maxFrameBytes * FRAME_HARD_LIMIT_FACTOR,
      closeTimeoutMs: this.#options.closeTimeoutMs,
    });
    try {
      this.#openWebSocket(url, clientOptions);
    } catch (error) {
      this.#report(
        new PhoenixChannelError('PHX_CONNECT_FAILED', 'WebSocket could not be created', { cause: error }),
      );
      this.#scheduleReconnect(null);
      return;
    }
    this.#hops = { clientOptions, followed: 0, visited: new Set([url]) };
    log(this.#options.logger, 'debug', 'connecting', { url: redactUrl(this.#endpoint) });
    this.#connectTimer = setTimeout(() => this.#onConnectTimeout(), this.#options.connectTimeoutMs);
    this.#connectTimer.unref();
  }

  /** Creates the WebSocket of one hop of the current attempt and makes it the current one. */
  #openWebSocket(url: string, clientOptions: WebSocket.ClientOptions): void {
    const { proxy, connectTimeoutMs } = this.#options;
    const ws = new WebSocket(url, hopClientOptions(clientOptions, url, proxy, connectTimeoutMs));
    this.#ws = ws;
    this.#wsOpened = false;
    ws.on('upgrade', (response) => {
      if (ws === this.#ws) this.#localAddress = response.socket?.localAddress;
    });
    ws.on('open', () => this.#onWsOpen(ws));
    ws.on('message', (data, isBinary) => this.#onWsMessage(ws, data, isBinary));
    ws.on('error', (error) => this.#onWsError(ws, error));
    ws.on('close', (code, reason) => this.#onWsClose(ws, code, reason));
    ws.on('unexpected-response', (request, response) => this.#onUnexpectedResponse(ws, request, response));
  }

  #onWsOpen(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    this.#clearConnectTimer();
    this.#wsOpened = true;
    this.#state = 'open';
    this.#refCounter = 0;
    this.#hops = null;
    // The backoff starts over only once the connection has lasted (the stable timer): resetting it here would let
    // a server that accepts and drops every connection be hit again after the first, shortest delay forever.
    this.#reconnectTimer.cancel();
    this.#clearStableTimer();
    this.#stableTimer = setTimeout(() => {
      this.#stableTimer = undefined;
      if (this.#ws === ws && this.#state === 'open') this.#reconnectTimer.reset();
    }, this.#options.heartbeatIntervalMs);
    this.#stableTimer.unref();
    this.#heartbeat.start();
    log(this.#options.logger, 'info', 'connected', { url: redactUrl(this.#endpoint) });
    this.#emitSafe('open');
    for (const hooks of [...this.#channels.values()]) {
      if (this.#ws !== ws || this.#state !== 'open') return;
      hooks.onSocketOpen();
    }
  }

  #onWsMessage(ws: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (ws !== this.#ws) return;
    if (isBinary) {
      this.#report(
        new PhoenixChannelError('PHX_DECODE_FAILED', 'binary frame dropped: vsn 2.0.0 is text only'),
      );
      return;
    }
    let message: ReturnType<typeof decode>;
    try {
      message = decode(data, { maxBytes: this.#options.maxFrameBytes });
    } catch (error) {
      this.#report(error as PhoenixChannelError);
      this.#failOversizedReply(data);
      return;
    }
    if (message.topic === PHOENIX_TOPIC) {
      if (message.event === CHANNEL_EVENTS.reply) this.#heartbeat.handleReply(message.ref);
      return;
    }
    const hooks = this.#channels.get(message.topic);
    if (hooks) hooks.onMessage(message);
    else
      log(this.#options.logger, 'debug', 'message for a topic without a channel', { topic: message.topic });
  }

  /**
   * A reply too large to decode still ends the wait of its push at once, rather than at the push's timeout: the
   * ref is read from the start of the frame.
   */
  #failOversizedReply(data: WebSocket.RawData): void {
    const size = frameByteLength(data);
    if (size <= this.#options.maxFrameBytes) return;
    const prefix = readFramePrefix(data);
    if (!prefix || prefix.event !== CHANNEL_EVENTS.reply || prefix.ref === null) return;
    this.#channels.get(prefix.topic)?.onOversizedReply(prefix, size, this.#options.maxFrameBytes);
  }

  #onWsError(ws: WebSocket, error: Error): void {
    if (ws !== this.#ws) return;
    if (!this.#wsOpened) {
      this.#attemptError ??= new PhoenixChannelError(
        'PHX_CONNECT_FAILED',
        `connection to ${redactUrl(this.#endpoint)} failed: ${error.message}`,
        { cause: error },
      );
      return;
    }
    this.#report(
      new PhoenixChannelError('PHX_TRANSPORT_ERROR', `WebSocket error: ${error.message}`, { cause: error }),
    );
  }

  #onUnexpectedResponse(ws: WebSocket, _request: ClientRequest, response: IncomingMessage): void {
    if (ws !== this.#ws) return;
    response.resume();
    const statusCode = response.statusCode ?? 0;
    const headers = flattenHeaders(response.headers);
    const hops = this.#hops;
    if (!hops || this.#options.maxRedirects === 0 || !REDIRECT_STATUSES.has(statusCode)) {
      this.#attemptError = new UpgradeRejectedError(statusCode, headers);
      ws.terminate();
      return;
    }
    try {
      const target = redirectTarget({
        from: new URL(ws.url),
        statusCode,
        headers,
        followed: hops.followed,
        maxRedirects: this.#options.maxRedirects,
        visited: hops.visited,
      });
      hops.followed += 1;
      hops.visited.add(target.href);
      log(this.#options.logger, 'info', 'redirected', { status: statusCode, to: redactUrl(target) });
      this.#openWebSocket(target.href, hops.clientOptions);
    } catch (error) {
      // Still the current WebSocket: its close reports the error and schedules the next attempt.
      this.#attemptError =
        error instanceof RedirectRefusedError
          ? error
          : new PhoenixChannelError('PHX_CONNECT_FAILED', 'redirected WebSocket could not be created', {
              cause: error,
            });
    }
    ws.terminate();
  }

  #onConnectTimeout(): void {
    this.#connectTimer = undefined;
    // The timer ends with the attempt, so the current WebSocket (a redirect hop, maybe) belongs to it.
    const ws = this.#ws;
    if (!ws || this.#wsOpened) return;
    this.#attemptError = new PhoenixChannelError(
      'PHX_CONNECT_TIMEOUT',
      `no connection to ${redactUrl(this.#endpoint)} within ${this.#options.connectTimeoutMs} ms`,
    );
    ws.terminate();
  }

  #onWsClose(ws: WebSocket, code: number, reasonBuffer: Buffer): void {
    if (ws !== this.#ws) return;
    this.#ws = null;
    this.#hops = null;
    this.#localAddress = undefined;
    this.#pendingWrites = 0;
    this.#clearConnectTimer();
    this.#clearStableTimer();
    this.#heartbeat.stop();
    const opened = this.#wsOpened;
    this.#wsOpened = false;
    const attemptError = this.#attemptError;
    this.#attemptError = null;
    const reason = reasonBuffer.toString('utf8');
    const closed = new PhoenixChannelError('PHX_SOCKET_CLOSED', `connection closed (code ${code})`);
    for (const hooks of [...this.#channels.values()]) hooks.onSocketClose(closed);
    if (this.#closing) {
      const { resolve } = this.#closing;
      this.#closing = null;
      this.#state = 'idle';
      log(this.#options.logger, 'info', 'closed', { code });
      this.#flushWaiters.check();
      if (opened) this.#emitSafe('close', { code, reason });
      resolve();
      return;
    }
    this.#flushWaiters.check();
    if (attemptError) this.#report(attemptError);
    log(this.#options.logger, opened ? 'warn' : 'debug', 'connection closed', { code, reason });
    this.#scheduleReconnect(opened ? { code, reason } : null);
  }

  #scheduleReconnect(closed: { code: number; reason: string } | null): void {
    this.#state = 'waiting';
    const delayMs = this.#reconnectTimer.schedule();
    const attempt = this.#reconnectTimer.attempt;
    if (closed) this.#emitSafe('close', { ...closed, reconnectInMs: delayMs });
    log(this.#options.logger, 'info', 'reconnecting', { attempt, delayMs });
    this.#emitSafe('reconnecting', { attempt, delayMs });
  }

  #onReconnectTimer(): void {
    if (this.#state === 'waiting') void this.#attempt();
  }

  #sendHeartbeat(): string | null {
    const ref = this.#makeRef();
    return this.#sendFrame(encodeFrame(null, ref, PHOENIX_TOPIC, CHANNEL_EVENTS.heartbeat, '{}'))
      ? ref
      : null;
  }

  #onHeartbeatTimeout(): void {
    const ws = this.#ws;
    if (!ws || this.#state !== 'open') return;
    this.#report(
      new PhoenixChannelError(
        'PHX_HEARTBEAT_TIMEOUT',
        `no heartbeat reply within ${this.#options.heartbeatTimeoutMs} ms`,
      ),
    );
    // A silent peer will not answer a close frame either: drop the TCP connection now.
    ws.terminate();
  }

  #makeRef(): string {
    this.#refCounter += 1;
    return String(this.#refCounter);
  }

  #sendFrame(text: string): boolean {
    const ws = this.#ws;
    if (!ws || this.#state !== 'open' || ws.readyState !== WebSocket.OPEN) return false;
    this.#pendingWrites += 1;
    ws.send(text, (error) => this.#onWriteDone(ws, error));
    return true;
  }

  #onWriteDone(ws: WebSocket, error: Error | undefined): void {
    if (ws !== this.#ws) return;
    this.#pendingWrites -= 1;
    if (error) log(this.#options.logger, 'debug', 'frame write failed', { error: error.message });
    this.#flushWaiters.check();
  }

  #isDrained(): boolean {
    if (this.#pendingWrites > 0 || (this.#ws !== null && this.#ws.bufferedAmount > 0)) return false;
    for (const hooks of this.#channels.values()) if (hooks.bufferedCount() > 0) return false;
    return true;
  }

  #clearConnectTimer(): void {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
  }

  #clearStableTimer(): void {
    clearTimeout(this.#stableTimer);
    this.#stableTimer = undefined;
  }

  #report(error: PhoenixChannelError): void {
    if (this.listenerCount('error') > 0) {
      this.#emitSafe('error', error);
    } else {
      log(this.#options.logger, 'warn', error.message, { code: error.code });
    }
  }

  #emitSafe<K extends keyof SocketEvents>(event: K, ...args: SocketEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: SocketEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      log(this.#options.logger, 'error', `a listener of "${event}" threw`, {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

async function resolveOption<T>(value: T | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : value;
}
