/**
 * One device's WebSocket as the rest of the server sees it: its Phoenix socket and the state of its `device`
 * topic (nerves_hub_web lib/nerves_hub_web/channels/device_socket.ex, device_channel.ex).
 */
import type { PhoenixSocket } from './phoenix-socket.js';

/** The topic a device joins (DeviceJSONSerializer maps it to `device:<id>` and back; the device sees `device`). */
export const DEVICE_TOPIC = 'device';

export class DeviceConnection {
  readonly identifier: string;
  readonly #socket: PhoenixSocket;
  /** The join's `device_api_version` as sanitized there, for the pushes that depend on it. */
  deviceApiVersion = '1.0.0';

  constructor(identifier: string, socket: PhoenixSocket) {
    this.identifier = identifier;
    this.#socket = socket;
  }

  get joined(): boolean {
    return this.#socket.isJoined(DEVICE_TOPIC);
  }

  /** A server push on `device` (both refs null); false when the channel is not joined. */
  push(event: string, payload: unknown): boolean {
    return this.#socket.push(DEVICE_TOPIC, event, payload);
  }

  /** The channel exits: `phx_close`, as after a leave or a normal channel exit. */
  closeChannel(): void {
    this.#socket.closeTopic(DEVICE_TOPIC);
  }

  /** The channel process crashes: `phx_error`. */
  crash(): void {
    this.#socket.crashTopic(DEVICE_TOPIC);
  }

  /** Closes the WebSocket with `code`. */
  disconnect(code = 1000): void {
    this.#socket.close(code);
  }
}
