/**
 * One device's WebSocket, speaking Phoenix Channels V2 like NervesHub's device socket: heartbeats, the
 * `device` topic, and the server's validation, including the values that crash the real channel.
 */
import { decode, encode, type Message } from '@nerves-hub-link/phoenix-channel';
import type { WebSocket } from 'ws';

/** In-flight statuses the server accepts (nerves_hub_web lib/nerves_hub/firmware_updates.ex). */
const STATUSES = new Set([
  'requested',
  'rescheduled',
  'ignored',
  'received',
  'started',
  'downloading',
  'updating',
  'completed',
  'failed',
  'expired',
]);

export interface DeviceChannelHooks {
  heartbeatReplies(): boolean;
  onJoin(params: Record<string, unknown>): void;
  onEvent(event: string, payload: unknown, crashed: boolean): void;
  onFrameError(reason: string): void;
}

export class DeviceChannel {
  readonly #ws: WebSocket;
  readonly #hooks: DeviceChannelHooks;
  #joinRef: string | null = null;

  constructor(ws: WebSocket, hooks: DeviceChannelHooks) {
    this.#ws = ws;
    this.#hooks = hooks;
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        hooks.onFrameError('binary frame');
        return;
      }
      let message: Message;
      try {
        message = decode(data as Buffer);
      } catch (error) {
        hooks.onFrameError((error as Error).message);
        return;
      }
      this.#receive(message);
    });
  }

  get joined(): boolean {
    return this.#joinRef !== null;
  }

  /** A server push on `device`, as NervesHub's fastlane sends it (both refs null). */
  push(event: string, payload: unknown): boolean {
    if (!this.joined) return false;
    this.#send({ joinRef: null, ref: null, topic: 'device', event, payload });
    return true;
  }

  /** Closes the WebSocket: 1001 when another connection of the device takes over, as Phoenix does. */
  disconnect(code = 1000): void {
    this.#ws.close(code);
  }

  /** Closes the channel from the server side, as after a server-side leave. */
  closeChannel(): void {
    if (this.#joinRef === null) return;
    this.#send({
      joinRef: this.#joinRef,
      ref: this.#joinRef,
      topic: 'device',
      event: 'phx_close',
      payload: {},
    });
    this.#joinRef = null;
  }

  /** Crashes the channel: what a bad value does to the real one. */
  crash(): void {
    if (this.#joinRef === null) return;
    const ref = this.#joinRef;
    this.#joinRef = null;
    this.#send({
      joinRef: ref,
      ref,
      topic: 'device',
      event: 'phx_error',
      payload: { reason: 'channel_crash' },
    });
  }

  #receive(message: Message): void {
    const { topic, event, ref, joinRef, payload } = message;
    if (topic === 'phoenix' && event === 'heartbeat') {
      if (this.#hooks.heartbeatReplies()) this.#reply(message, 'ok', {});
      return;
    }
    if (event === 'phx_join') {
      if (topic !== 'device') {
        this.#reply(message, 'error', { reason: 'unmatched topic' });
      } else if (joinProblem(payload)) {
        this.#reply(message, 'error', { reason: 'join crashed' });
      } else {
        this.#joinRef = joinRef ?? ref;
        this.#hooks.onJoin(payload as Record<string, unknown>);
        this.#reply(message, 'ok', {});
      }
      return;
    }
    if (topic !== 'device' || this.#joinRef === null || joinRef !== this.#joinRef) {
      // Phoenix answers pushes on a topic that is not joined with phx_close... only for refs it knows; ignore.
      return;
    }
    if (event === 'phx_leave') {
      this.#reply(message, 'ok', {});
      this.#joinRef = null;
      return;
    }
    const crashed = eventCrashes(event, payload);
    this.#hooks.onEvent(event, payload, crashed);
    if (crashed) this.crash();
    // Device events get no reply from NervesHub, ever.
  }

  #reply(to: Message, status: 'ok' | 'error', response: unknown): void {
    this.#send({
      joinRef: to.joinRef,
      ref: to.ref,
      topic: to.topic,
      event: 'phx_reply',
      payload: { status, response },
    });
  }

  #send(message: Message): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(encode(message));
  }
}

/** Join params that crash the real join (nerves_hub_web lib/nerves_hub/device_link.ex). */
function joinProblem(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    return 'params not an object';
  const params = payload as Record<string, unknown>;
  if ('device_api_version' in params && typeof params.device_api_version !== 'string') {
    return 'device_api_version not a string';
  }
  const meta = params.meta as Record<string, unknown> | undefined;
  if (meta && 'firmware_validated' in meta && typeof meta.firmware_validated !== 'boolean') {
    return 'firmware_validated not a boolean';
  }
  return undefined;
}

/** Device events whose values crash the server's channel process. */
export function eventCrashes(event: string, payload: unknown): boolean {
  const body = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  if (event === 'status_update') {
    const status = body.status;
    if (typeof status !== 'string') return true;
    return !STATUSES.has(status) && !/fwup error/i.test(status);
  }
  if (event === 'fwup_progress' || event === 'update_progress') {
    return 'stage' in body && (typeof body.stage !== 'string' || !STATUSES.has(body.stage));
  }
  return false;
}
