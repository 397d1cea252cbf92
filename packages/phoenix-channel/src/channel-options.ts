/** What a channel can be given (join params, timeouts, rejoin schedule, buffer bound), checked, defaults applied. */
import { defaultRejoinAfterMs } from './backoff.js';
import {
  DEFAULT_JOIN_TIMEOUT_MS,
  DEFAULT_LEAVE_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_PUSHES,
  DEFAULT_PUSH_TIMEOUT_MS,
} from './constants.js';
import { checkFunction, checkNumber, checkObjectOrFunction, invalid } from './validate.js';

/** Join params: an object, or a function called before every (re)join (it may be async). */
export type ChannelParams = object | (() => object | Promise<object>);

export interface ChannelOptions {
  /**
   * Longest wait for the reply to one `phx_join`; then the join counts as failed and is retried.
   * @default 10000
   */
  readonly joinTimeoutMs?: number;
  /**
   * Default `timeoutMs` of `push()`.
   * @default 10000
   */
  readonly pushTimeoutMs?: number;
  /**
   * Longest wait for the reply to `phx_leave` in `leave()`.
   * @default 5000
   */
  readonly leaveTimeoutMs?: number;
  /**
   * Delay before rejoin attempt `attempt` (1, 2, …) after a refused or timed-out join, `phx_error` or `phx_close`.
   * After a reconnect the channel rejoins at once. The count resets on a successful join.
   * @default 5 s, 10 s, 20 s … capped at 60 s, each up to 50 % longer
   */
  readonly rejoinAfterMs?: (attempt: number) => number;
  /**
   * Messages (`send` and `push`) kept while not joined, sent in order on join. Beyond it they are refused with
   * `PHX_BUFFER_FULL`; with 0 every message made while not joined is refused with `PHX_NOT_JOINED`.
   * @default 100
   */
  readonly maxBufferedPushes?: number;
  /**
   * Rejoin after the server closes the channel (`phx_close` while joined). `false` ends the channel instead, as
   * phoenix.js does: `closed` is emitted with `PHX_CHANNEL_CLOSED`, pending pushes and `join()` reject with it, and
   * the topic is free for a new channel. A reply to our own `leave()` is never rejoined either way.
   * @default true
   */
  readonly rejoinOnServerClose?: boolean;
}

export interface SendOptions {
  /**
   * Keep the message for the next join when the channel is not joined; `false` refuses it with `PHX_NOT_JOINED`
   * instead (for messages that are worthless later, such as progress).
   * @default true
   */
  readonly buffer?: boolean;
  /**
   * Called once the frame has been handed to the WebSocket: during `send()` when joined, else when the buffered
   * message goes out after the next join. Never called for a message that is dropped (channel closed first).
   */
  readonly onSent?: () => void;
  /**
   * Ends the message's wait in the buffer: once aborted, a message that has not left yet is dropped (`onSent` never
   * runs). For messages worth sending only for a while; it has no effect once the frame has left.
   */
  readonly signal?: AbortSignal;
}

/** A channel's settings once checked: every option has its value. */
export interface ChannelSettings {
  readonly params: ChannelParams;
  readonly joinTimeoutMs: number;
  readonly pushTimeoutMs: number;
  readonly leaveTimeoutMs: number;
  readonly rejoinAfterMs: (attempt: number) => number;
  readonly maxBufferedPushes: number;
  readonly rejoinOnServerClose: boolean;
}

/** Throws `PHX_INVALID_ARGUMENT` naming the first bad argument. */
export function channelSettings(
  topic: string,
  params: ChannelParams | undefined,
  options: ChannelOptions,
): ChannelSettings {
  if (typeof topic !== 'string' || topic === '') throw invalid('topic', 'a non-empty string', topic);
  checkObjectOrFunction('params', params);
  checkNumber('joinTimeoutMs', options.joinTimeoutMs);
  checkNumber('pushTimeoutMs', options.pushTimeoutMs);
  checkNumber('leaveTimeoutMs', options.leaveTimeoutMs);
  checkNumber('maxBufferedPushes', options.maxBufferedPushes);
  checkFunction('rejoinAfterMs', options.rejoinAfterMs);
  if (options.rejoinOnServerClose !== undefined && typeof options.rejoinOnServerClose !== 'boolean') {
    throw invalid('rejoinOnServerClose', 'true or false', options.rejoinOnServerClose);
  }
  return {
    params: params ?? {},
    joinTimeoutMs: options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS,
    pushTimeoutMs: options.pushTimeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS,
    leaveTimeoutMs: options.leaveTimeoutMs ?? DEFAULT_LEAVE_TIMEOUT_MS,
    rejoinAfterMs: options.rejoinAfterMs ?? defaultRejoinAfterMs,
    maxBufferedPushes: Math.floor(options.maxBufferedPushes ?? DEFAULT_MAX_BUFFERED_PUSHES),
    rejoinOnServerClose: options.rejoinOnServerClose ?? true,
  };
}
