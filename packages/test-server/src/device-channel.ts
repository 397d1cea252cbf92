/**
 * One device's WebSocket, speaking Phoenix Channels V2 like NervesHub's device socket: heartbeats, the `device`
 * topic, replies and crashes as Phoenix sends them, and the idle timeout of the device endpoint. What a join or a
 * device message does to the records is decided by the hooks (the update records in ./hub).
 */
import { decode, encode, type Message } from '@nerves-hub-link/phoenix-channel';
import type { WebSocket } from 'ws';
import { createHub } from './hub/hub.js';
import { deviceMessage } from './hub/update-records.js';

/** The join's answer: ok, or an error reply (`{error: "could not connect"}`, `{reason: "join crashed"}`). */
export type JoinAnswer = { readonly status: 'ok' } | { readonly status: 'error'; readonly response: object };

export interface DeviceChannelHooks {
  heartbeatReplies(): boolean;
  join(params: unknown): JoinAnswer;
  /** After the ok join reply went out (DeviceLink.after_join). */
  afterJoin(params: Record<string, unknown>): void;
  /** A device event on the joined topic; returns true when it crashed the channel. */
  onEvent(event: string, payload: unknown): boolean;
  onFrameError(reason: string): void;
}

export interface DeviceChannelOptions {
  /** Close the socket after this long without an inbound frame (Bandit's `timeout`, 180 s on NervesHub). */
  readonly idleTimeoutMs: number;
}

/** Bandit closes an idle WebSocket with 1002. */
const IDLE_CLOSE_CODE = 1002;

export class DeviceChannel {
  readonly #ws: WebSocket;
  readonly #hooks: DeviceChannelHooks;
  readonly #idle: NodeJS.Timeout;
  #joinRef: string | null = null;

  constructor(ws: WebSocket, hooks: DeviceChannelHooks, options: DeviceChannelOptions) {
    this.#ws = ws;
    this.#hooks = hooks;
    this.#idle = setTimeout(() => ws.close(IDLE_CLOSE_CODE), options.idleTimeoutMs);
    const inbound = () => this.#idle.refresh();
    ws.on('ping', inbound);
    ws.on('pong', inbound);
    ws.on('close', () => clearTimeout(this.#idle));
    ws.on('message', (data, isBinary) => {
      inbound();
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

  /** Closes the WebSocket with `code`. */
  disconnect(code = 1000): void {
    this.#ws.close(code);
  }

  /** Closes the channel from the server side: `phx_close`, as after a leave or a normal channel exit. */
  closeChannel(): void {
    if (this.#joinRef === null) return;
    const ref = this.#joinRef;
    this.#joinRef = null;
    this.#send({ joinRef: ref, ref, topic: 'device', event: 'phx_close', payload: {} });
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
    const { topic, event, joinRef, payload } = message;
    if (topic === 'phoenix' && event === 'heartbeat') {
      if (this.#hooks.heartbeatReplies()) this.#reply(message, 'ok', {});
      return;
    }
    if (event === 'phx_join') {
      this.#join(message);
      return;
    }
    if (topic !== 'device' || this.#joinRef === null || joinRef !== this.#joinRef) {
      // Phoenix answers pushes on a topic that is not joined with phx_close... only for refs it knows; ignore.
      return;
    }
    if (event === 'phx_leave') {
      // The channel replies, then exits normally, and the socket reports that exit as phx_close.
      this.#reply(message, 'ok', {});
      this.closeChannel();
      return;
    }
    if (this.#hooks.onEvent(event, payload)) this.crash();
    // Device events get no reply from NervesHub, ever.
  }

  #join(message: Message): void {
    if (message.topic !== 'device') {
      this.#reply(message, 'error', { reason: 'unmatched topic' });
      return;
    }
    const answer = this.#hooks.join(message.payload);
    if (answer.status === 'error') {
      this.#reply(message, 'error', answer.response);
      return;
    }
    this.#joinRef = message.joinRef ?? message.ref;
    this.#reply(message, 'ok', {});
    this.#hooks.afterJoin(message.payload as Record<string, unknown>);
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

/**
 * Whether a device event crashes the server's channel for a device with no update in flight (a crash can depend
 * on the in-flight record: progress is only cast when it is written).
 */
export function eventCrashes(event: string, payload: unknown): boolean {
  return deviceMessage(createHub(), 'probe', event, payload, 0).crashed;
}
