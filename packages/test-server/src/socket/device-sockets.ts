/**
 * Device WebSockets from upgrade to close: the Phoenix socket with NervesHub's `device` channel, the older
 * connection of the same device closed (DeviceSocket broadcasts `disconnect` to the device's socket id,
 * nerves_hub_web lib/nerves_hub_web/channels/device_socket.ex lines 108-113), and the connection row.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { UpdateService } from '../hub/update-service.js';
import type { JsonObject } from '../json.js';
import { DEVICE_TOPIC, DeviceConnection } from './device-connection.js';
import type { DeviceLink } from './device-link.js';
import type { DeviceRegistry } from './device-registry.js';
import { type JoinResult, PhoenixSocket } from './phoenix-socket.js';

export interface DeviceSocketsOptions {
  readonly registry: DeviceRegistry;
  readonly service: UpdateService;
  readonly link: DeviceLink;
  readonly idleTimeoutMs: number;
  /** Close code for the older socket when a device connects again. */
  readonly duplicateCloseCode: number;
  heartbeatReplies(): boolean;
}

export class DeviceSockets {
  readonly #options: DeviceSocketsOptions;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });

  constructor(options: DeviceSocketsOptions) {
    this.#options = options;
  }

  /** Completes an authenticated upgrade: from here on `identifier` is connected. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, identifier: string): void {
    const { registry, service, idleTimeoutMs, duplicateCloseCode } = this.#options;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      registry.connection(identifier)?.disconnect(duplicateCloseCode);
      // Frames arrive after this callback, so the route only ever sees the connection below.
      const phoenix: PhoenixSocket = new PhoenixSocket(ws, {
        idleTimeoutMs,
        heartbeatReplies: () => this.#options.heartbeatReplies(),
        route: (topic) =>
          topic === DEVICE_TOPIC
            ? (params: unknown): JoinResult => this.#join(connection, params)
            : undefined,
      });
      const connection: DeviceConnection = new DeviceConnection(identifier, phoenix);
      service.connecting(identifier);
      registry.connected(connection);
      ws.on('close', () => {
        // A replaced connection's close is stale: the device is already on its new one.
        if (registry.connection(identifier) === connection) service.disconnected(identifier);
        registry.disconnected(connection);
      });
      ws.on('error', () => {});
    });
  }

  /** Ends every device connection at once (a server stop). */
  terminateAll(): void {
    for (const client of this.#wss.clients) client.terminate();
  }

  close(): void {
    this.#wss.close();
  }

  #join(connection: DeviceConnection, params: unknown): JoinResult {
    const { link } = this.#options;
    const answer = link.join(connection, params);
    if (answer.status === 'error') return answer;
    return {
      status: 'ok',
      channel: { handleIn: (event, payload) => link.message(connection, event, payload) },
      afterReply: () => link.afterJoin(connection, params as JsonObject),
    };
  }
}
