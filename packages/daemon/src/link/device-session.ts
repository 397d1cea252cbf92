import { redactUrl } from '@nerves-hub-link/message-text';
import { type Channel, Socket, type SocketOptions } from '@nerves-hub-link/phoenix-channel';
import type { Logger } from '../log/logger.js';
import { DEVICE_TOPIC } from './constants.js';
import { UnknownEvents } from './unknown-events.js';

/** What the daemon does with each server event on topic `device`. */
export interface DeviceEventHandlers {
  update(payload: unknown): void;
  reboot(): void;
  identify(): void;
  fwupPublicKeys(keys: readonly string[]): void;
}

export interface DeviceSessionOptions {
  readonly url: string;
  readonly socket: SocketOptions;
  /** Built afresh for every join and rejoin: `currently_downloading_uuid` and `meta` change over time. */
  readonly joinParams: () => Record<string, unknown>;
  readonly handlers: DeviceEventHandlers;
  readonly logger: Logger;
  /** Called on every successful join (also rejoins), with the join reply. */
  readonly onJoined?: (response: unknown) => void;
  /** Called for every connection problem, so the caller can learn from it (e.g. the server clock). */
  readonly onConnectionError?: (error: Error) => void;
  /** The operator's explanation of a connection error (e.g. the likely fix of a TLS failure). */
  readonly describeError?: (error: Error) => string;
  /** The likely cause of a refused join, appended to its log line (e.g. a version NervesHub cannot parse). */
  readonly joinHint?: (error: Error) => string | undefined;
  /** The socket opened (not joined yet) or closed, or the channel lost its join; joins go to `onJoined`. */
  readonly onConnectionState?: (state: 'connected' | 'disconnected' | 'channel-lost') => void;
}

/**
 * The device's one WebSocket and its `device` channel: joins with fresh params each time, keeps itself
 * joined across reconnects and server restarts, and routes NervesHub events to the handlers.
 */
export class DeviceSession {
  readonly #options: DeviceSessionOptions;
  readonly #socket: Socket;
  readonly #channel: Channel;
  readonly #unknown: UnknownEvents;

  constructor(options: DeviceSessionOptions) {
    this.#options = options;
    const { logger } = options;
    this.#unknown = new UnknownEvents({ logger });
    // The socket's own chatter is detail; this class logs what an operator needs at info level.
    const socketLogger = {
      debug: (message: string, fields?: Record<string, unknown>) => logger.debug(message, fields),
      info: (message: string, fields?: Record<string, unknown>) => logger.debug(message, fields),
      warn: (message: string, fields?: Record<string, unknown>) => logger.debug(message, fields),
      error: (message: string, fields?: Record<string, unknown>) => logger.warn(message, fields),
    };
    this.#socket = new Socket(options.url, { ...options.socket, logger: socketLogger });
    this.#socket.on('open', () => {
      logger.info('connected', { url: redactUrl(options.url) });
      options.onConnectionState?.('connected');
    });
    this.#socket.on('close', (info) => {
      options.onConnectionState?.('disconnected');
      if (info.reconnectInMs === undefined) {
        // Only our own close() ends without a reconnect (a stop or a reboot): nothing went wrong.
        logger.info(`disconnected (code ${info.code}, closed by the daemon)`);
        return;
      }
      const next = `; reconnecting in ${(info.reconnectInMs / 1000).toFixed(1)} s`;
      logger.warn(`disconnected (code ${info.code}${info.reason ? `, ${info.reason}` : ''})${next}`);
    });
    this.#socket.on('error', (error) => {
      options.onConnectionError?.(error);
      logger.warn(`connection problem: ${options.describeError?.(error) ?? error.message}`, {
        code: error.code,
      });
    });
    this.#channel = this.#openChannel();
  }

  /** Connects and resolves once the device channel is joined the first time; keeps it joined afterwards. */
  async start(signal?: AbortSignal): Promise<unknown> {
    this.#socket.connect();
    return this.#channel.join(signal ? { signal } : {});
  }

  /**
   * A fire-and-forget device event; buffered (bounded) while not joined unless `buffer` is false. Returns false
   * when it was refused; `onSent` runs once it has been handed to the socket.
   */
  send(
    event: string,
    payload: Record<string, unknown>,
    options: { readonly buffer?: boolean; readonly onSent?: () => void; readonly signal?: AbortSignal } = {},
  ): boolean {
    try {
      this.#channel.send(event, payload, options);
      return true;
    } catch (error) {
      this.#options.logger.warn(`could not send ${event}: ${(error as Error).message}`);
      return false;
    }
  }

  /** The local address of the current connection (which network interface it uses), if connected. */
  get localAddress(): string | undefined {
    return this.#socket.localAddress;
  }

  /** Waits (bounded) until everything sent has left the process. */
  async flush(timeoutMs: number): Promise<void> {
    await this.#socket.flush({ timeoutMs }).catch(() => false);
  }

  close(): Promise<void> {
    this.#unknown.stop();
    return this.#socket.close();
  }

  #openChannel(): Channel {
    const { logger, handlers, onJoined } = this.#options;
    const channel = this.#socket.channel(DEVICE_TOPIC, () => this.#options.joinParams());
    channel.on('joined', (response) => {
      logger.info('joined the device channel');
      onJoined?.(response);
      // Servers before nerves_hub_web 6d99d21 put the update into the join reply.
      if (isNonEmptyObject(response) && 'update_available' in response) handlers.update(response);
    });
    channel.on('join_error', (error) => {
      const hint = this.#options.joinHint?.(error);
      logger.warn(`join failed: ${error.message}${hint ? `; ${hint}` : ''}`, { code: error.code });
    });
    channel.on('errored', (error) => {
      logger.warn(`lost the device channel (${error.message}); rejoining`);
      this.#options.onConnectionState?.('channel-lost');
    });
    channel.on('update', (payload) => handlers.update(payload));
    channel.on('reboot', () => handlers.reboot());
    channel.on('identify', () => handlers.identify());
    channel.on('fwup_public_keys', (payload) => {
      // Only the string entries count, as in the reference client (nerves_hub_link socket.ex, update_public_keys).
      const keys = (payload as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(keys)) return;
      const usable = keys.filter((key): key is string => typeof key === 'string');
      if (usable.length < keys.length) {
        logger.warn(
          `ignoring ${keys.length - usable.length} fwup public key(s) from the server that are not strings`,
        );
      }
      handlers.fwupPublicKeys(usable);
    });
    channel.onMessage((message) => {
      if (!KNOWN_EVENTS.has(message.event)) this.#unknown.seen(message.event);
    });
    return channel;
  }
}

const KNOWN_EVENTS = new Set([
  'update',
  'reboot',
  'identify',
  'fwup_public_keys',
  'phx_reply',
  'phx_error',
  'phx_close',
]);

function isNonEmptyObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}
