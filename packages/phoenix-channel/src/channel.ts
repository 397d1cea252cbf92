/** One topic on a socket: join, stay joined (rejoin with backoff), push, buffer while not joined, leave. */
import { defaultRejoinAfterMs } from './backoff.js';
import { encodeFrame, encodePayload, type Message } from './codec.js';
import {
  CHANNEL_EVENTS,
  CHANNEL_STATES,
  DEFAULT_JOIN_TIMEOUT_MS,
  DEFAULT_LEAVE_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_PUSHES,
  DEFAULT_PUSH_TIMEOUT_MS,
} from './constants.js';
import { JoinRefusedError, PhoenixChannelError } from './errors.js';
import type { FramePrefix } from './frame-prefix.js';
import { type Logger, log } from './logger.js';
import { Push, type PushOptions, type PushReply } from './push.js';
import { Timer } from './timer.js';
import { checkFunction, checkNumber, checkObjectOrFunction, invalid } from './validate.js';

export type ChannelState = (typeof CHANNEL_STATES)[keyof typeof CHANNEL_STATES];

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
}

/** A handler of one server event: its payload and the whole message. */
export type MessageHandler = (payload: unknown, message: Message) => void | Promise<void>;

/** What a channel needs from its socket. */
export interface ChannelHost {
  readonly logger: Logger | undefined;
  isConnected(): boolean;
  makeRef(): string;
  /** Writes one frame; false if the socket is not open. */
  sendFrame(text: string): boolean;
  /** Reports an error on the socket's `error` event (or its logger). */
  report(error: PhoenixChannelError): void;
  /** Tells the socket that a channel's buffer changed (for `flush()`). */
  bufferChanged(): void;
  /** Registers the channel; the socket calls the hooks on its own events. */
  attach(hooks: ChannelHooks): void;
  /** Forgets the channel for good. */
  detach(channel: Channel): void;
}

/** Socket → channel calls. */
export interface ChannelHooks {
  readonly channel: Channel;
  onSocketOpen(): void;
  onSocketClose(error: PhoenixChannelError): void;
  onMessage(message: Message): void;
  /** A `phx_reply` of `size` bytes, over the socket's `maxFrameBytes`, was dropped undecoded. */
  onOversizedReply(prefix: FramePrefix, size: number, maxFrameBytes: number): void;
  terminate(error: PhoenixChannelError): void;
  bufferedCount(): number;
}

const LIFECYCLE_EVENTS = new Set(['joined', 'join_error', 'errored', 'closed']);

type BufferedMessage = {
  readonly event: string;
  readonly payloadJson: string;
  readonly push?: Push;
  readonly onSent?: () => void;
};

type JoinWaiter = {
  resolve: (response: unknown) => void;
  reject: (error: PhoenixChannelError) => void;
  cleanup: () => void;
};

/**
 * Create one with `socket.channel(topic, params, options)`. Lifecycle events, through `on()`:
 * `joined` (response) on every successful join, `join_error` (error) on a refused, timed-out or failed join,
 * `errored` (error) when a joined channel loses its join (server `phx_error`, server `phx_close`, lost socket),
 * `closed` (error) once it ends for good (`leave()`, `socket.close()`, or a server `phx_close` with
 * `rejoinOnServerClose: false`). Any other name is a server event.
 */
export class Channel {
  readonly topic: string;
  readonly #params: ChannelParams;
  readonly #host: ChannelHost;
  readonly #joinTimeoutMs: number;
  readonly #pushTimeoutMs: number;
  readonly #leaveTimeoutMs: number;
  readonly #maxBuffered: number;
  readonly #rejoinOnServerClose: boolean;
  readonly #rejoinTimer: Timer;
  readonly #handlers = new Map<string, Set<(...args: never[]) => unknown>>();
  readonly #messageHandlers = new Set<(message: Message) => void>();
  readonly #pending = new Map<string, Push>();
  #buffer: BufferedMessage[] = [];
  #joinWaiters = new Set<JoinWaiter>();
  #state: ChannelState = CHANNEL_STATES.closed;
  #wantJoined = false;
  #terminated = false;
  #joinRef: string | null = null;
  #joinPush: Push | null = null;
  #joinSeq = 0;
  #lastJoinResponse: unknown;

  constructor(topic: string, params: ChannelParams | undefined, options: ChannelOptions, host: ChannelHost) {
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
    this.topic = topic;
    this.#params = params ?? {};
    this.#host = host;
    this.#joinTimeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
    this.#pushTimeoutMs = options.pushTimeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
    this.#leaveTimeoutMs = options.leaveTimeoutMs ?? DEFAULT_LEAVE_TIMEOUT_MS;
    this.#maxBuffered = Math.floor(options.maxBufferedPushes ?? DEFAULT_MAX_BUFFERED_PUSHES);
    this.#rejoinOnServerClose = options.rejoinOnServerClose ?? true;
    this.#rejoinTimer = new Timer(
      () => this.#onRejoinTimer(),
      options.rejoinAfterMs ?? defaultRejoinAfterMs,
      {
        unref: true,
      },
    );
    host.attach({
      channel: this,
      onSocketOpen: () => this.#onSocketOpen(),
      onSocketClose: (error) => this.#onSocketClose(error),
      onMessage: (message) => this.#onMessage(message),
      onOversizedReply: (prefix, size, maxFrameBytes) => this.#onOversizedReply(prefix, size, maxFrameBytes),
      terminate: (error) => this.#terminate(error),
      bufferedCount: () => this.#buffer.length,
    });
  }

  /** `closed`, `joining`, `joined`, `errored` (waiting to rejoin) or `leaving`. */
  get state(): ChannelState {
    return this.#state;
  }

  /** `join_ref` of the current join, or `null`. */
  get joinRef(): string | null {
    return this.#joinRef;
  }

  /** Messages waiting for the next join. */
  get bufferedCount(): number {
    return this.#buffer.length;
  }

  /**
   * Joins and keeps the channel joined from then on. Resolves with the join reply's `response` on the first
   * successful join (at once if joined already). Refused joins are retried with backoff and reported on
   * `join_error`, while this promise stays pending: it rejects only on `signal` (`PHX_ABORTED`, the channel keeps
   * trying), `leave()` (`PHX_CHANNEL_CLOSED`), `socket.close()` (`PHX_SOCKET_CLOSED`) or a server `phx_close` with
   * `rejoinOnServerClose: false`. To give up on a refusal, listen to `join_error` and abort the signal.
   */
  join(options: { readonly signal?: AbortSignal } = {}): Promise<unknown> {
    if (this.#terminated) {
      return Promise.reject(
        new PhoenixChannelError('PHX_CHANNEL_CLOSED', `channel "${this.topic}" was closed`),
      );
    }
    if (this.#state === CHANNEL_STATES.joined) return Promise.resolve(this.#lastJoinResponse);
    const promise = this.#waitForJoin(options.signal);
    if (!this.#wantJoined) {
      this.#wantJoined = true;
      this.#state = CHANNEL_STATES.joining;
      if (this.#host.isConnected()) void this.#sendJoin();
    }
    return promise;
  }

  /**
   * Sends `phx_leave` (if joined) and waits up to `leaveTimeoutMs` for the reply, then closes the channel for good:
   * pending pushes reject with `PHX_CHANNEL_CLOSED`, buffered messages are dropped (and logged).
   */
  async leave(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    if (this.#terminated) return;
    checkNumber('timeoutMs', options.timeoutMs);
    this.#wantJoined = false;
    this.#rejoinTimer.cancel();
    const joinRef = this.#joinRef;
    const inJoin = this.#state === CHANNEL_STATES.joined || this.#joinPush !== null;
    if (inJoin && joinRef !== null && this.#host.isConnected()) {
      this.#state = CHANNEL_STATES.leaving;
      const push = this.#newPush(CHANNEL_EVENTS.leave, '{}', options.timeoutMs ?? this.#leaveTimeoutMs);
      this.#transmit(push, joinRef);
      await push.promise.catch(() => undefined);
    }
    this.#terminate(new PhoenixChannelError('PHX_CHANNEL_CLOSED', `channel "${this.topic}" was left`));
  }

  /**
   * Sends `event` and waits for its `phx_reply`. Resolves with `{ status, response }` for any reply, `error`
   * included; rejects only without one: `PHX_PUSH_TIMEOUT` (the channel stays joined), `PHX_ABORTED`,
   * `PHX_SOCKET_CLOSED`, `PHX_CHANNEL_ERRORED` / `PHX_CHANNEL_CLOSED`, `PHX_BUFFER_FULL`, `PHX_NOT_JOINED`,
   * `PHX_ENCODE_FAILED`. While not joined the message waits in the buffer.
   */
  push(event: string, payload: unknown, options: PushOptions = {}): Promise<PushReply> {
    try {
      if (typeof event !== 'string') throw invalid('event', 'a string', event);
      checkNumber('timeoutMs', options.timeoutMs);
      const payloadJson = encodePayload(payload);
      this.#assertOpen();
      const push = this.#newPush(
        event,
        payloadJson,
        options.timeoutMs ?? this.#pushTimeoutMs,
        options.signal,
      );
      if (push.isSettled) return push.promise;
      if (this.#canSendNow() && this.#transmit(push, this.#joinRef!)) return push.promise;
      const refusal = this.#bufferRefusal();
      if (refusal) push.fail(refusal);
      else this.#enqueue({ event, payloadJson, push });
      return push.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Fire-and-forget: sends `event` with no reply expected. While not joined the message is buffered and sent on
   * join, in order. Throws `PHX_BUFFER_FULL` when the buffer is full, `PHX_NOT_JOINED` with `{ buffer: false }`
   * (or `maxBufferedPushes: 0`), `PHX_CHANNEL_CLOSED` after `leave()`, `PHX_ENCODE_FAILED` for a bad payload.
   */
  send(event: string, payload: unknown, options: SendOptions = {}): void {
    if (typeof event !== 'string') throw invalid('event', 'a string', event);
    checkFunction('onSent', options.onSent);
    const payloadJson = encodePayload(payload);
    this.#assertOpen();
    if (this.#canSendNow()) {
      const text = encodeFrame(this.#joinRef, this.#host.makeRef(), this.topic, event, payloadJson);
      if (this.#host.sendFrame(text)) {
        this.#notifySent(event, options.onSent);
        return;
      }
    }
    if (options.buffer === false) {
      throw new PhoenixChannelError('PHX_NOT_JOINED', `channel "${this.topic}" is not joined`);
    }
    const refusal = this.#bufferRefusal();
    if (refusal) throw refusal;
    this.#enqueue(options.onSent ? { event, payloadJson, onSent: options.onSent } : { event, payloadJson });
  }

  /** Adds a handler of a server event, or of a lifecycle event (`joined`, `join_error`, `errored`, `closed`). */
  on(event: 'joined', handler: (response: unknown) => void): this;
  on(event: 'join_error' | 'errored' | 'closed', handler: (error: PhoenixChannelError) => void): this;
  on(event: string, handler: MessageHandler): this;
  on(event: string, handler: (...args: never[]) => unknown): this {
    if (typeof event !== 'string') throw invalid('event', 'a string', event);
    if (typeof handler !== 'function') throw invalid('handler', 'a function', handler);
    let set = this.#handlers.get(event);
    if (!set) {
      set = new Set();
      this.#handlers.set(event, set);
    }
    set.add(handler);
    return this;
  }

  /** Removes a handler added with `on()`. */
  off(event: string, handler: (...args: never[]) => unknown): this {
    const set = this.#handlers.get(event);
    if (set?.delete(handler) && set.size === 0) this.#handlers.delete(event);
    return this;
  }

  /**
   * Sees every message on this topic, replies and `phx_*` included, before it is routed; also the way to get a
   * server event that is named like a lifecycle event. Returns a function that removes the handler.
   */
  onMessage(handler: (message: Message) => void): () => void {
    if (typeof handler !== 'function') throw invalid('handler', 'a function', handler);
    this.#messageHandlers.add(handler);
    return () => {
      this.#messageHandlers.delete(handler);
    };
  }

  #assertOpen(): void {
    if (this.#terminated) {
      throw new PhoenixChannelError('PHX_CHANNEL_CLOSED', `channel "${this.topic}" was closed`);
    }
  }

  #canSendNow(): boolean {
    return this.#state === CHANNEL_STATES.joined && this.#buffer.length === 0 && this.#joinRef !== null;
  }

  #bufferRefusal(): PhoenixChannelError | undefined {
    if (this.#maxBuffered === 0) {
      return new PhoenixChannelError('PHX_NOT_JOINED', `channel "${this.topic}" is not joined`);
    }
    if (this.#buffer.length >= this.#maxBuffered) {
      return new PhoenixChannelError(
        'PHX_BUFFER_FULL',
        `channel "${this.topic}" is not joined and already holds ${this.#maxBuffered} messages`,
      );
    }
    return undefined;
  }

  #enqueue(entry: BufferedMessage): void {
    this.#buffer.push(entry);
    this.#host.bufferChanged();
  }

  #newPush(event: string, payloadJson: string, timeoutMs: number, signal?: AbortSignal): Push {
    return new Push({
      topic: this.topic,
      event,
      payloadJson,
      timeoutMs,
      signal,
      timeoutCode: 'PHX_PUSH_TIMEOUT',
      onSettled: (push) => this.#forget(push),
    });
  }

  #forget(push: Push): void {
    if (push.ref !== null) {
      if (this.#pending.get(push.ref) === push) this.#pending.delete(push.ref);
      return;
    }
    const index = this.#buffer.findIndex((entry) => entry.push === push);
    if (index !== -1) {
      this.#buffer.splice(index, 1);
      this.#host.bufferChanged();
    }
  }

  /** Gives the push a ref and writes it; false (push untouched) if the socket is not open. */
  #transmit(push: Push, joinRef: string, ref = this.#host.makeRef()): boolean {
    const text = encodeFrame(joinRef, ref, this.topic, push.event, push.payloadJson);
    if (!this.#host.sendFrame(text)) return false;
    push.ref = ref;
    this.#pending.set(ref, push);
    return true;
  }

  async #sendJoin(): Promise<void> {
    this.#rejoinTimer.cancel();
    this.#state = CHANNEL_STATES.joining;
    const seq = ++this.#joinSeq;
    let payloadJson: string;
    try {
      const params = typeof this.#params === 'function' ? await this.#params() : this.#params;
      payloadJson = encodePayload(params ?? {});
    } catch (error) {
      if (seq !== this.#joinSeq || !this.#wantJoined) return;
      this.#joinFailed(
        new PhoenixChannelError(
          'PHX_JOIN_PARAMS_FAILED',
          `join params of "${this.topic}" could not be made`,
          {
            cause: error,
          },
        ),
      );
      return;
    }
    if (seq !== this.#joinSeq || !this.#wantJoined || this.#state !== CHANNEL_STATES.joining) return;
    if (!this.#host.isConnected()) return;
    // The join is settled synchronously (not through its promise), so that a message right behind the join reply
    // already finds the channel joined.
    const push = new Push({
      topic: this.topic,
      event: CHANNEL_EVENTS.join,
      payloadJson,
      timeoutMs: this.#joinTimeoutMs,
      timeoutCode: 'PHX_JOIN_TIMEOUT',
      onSettled: (settled, reply, error) => {
        this.#forget(settled);
        if (reply) this.#onJoinReply(settled, reply);
        else if (error) this.#onJoinFailure(settled, error);
      },
    });
    push.promise.catch(() => undefined);
    const ref = this.#host.makeRef();
    this.#joinRef = ref;
    this.#joinPush = push;
    if (!this.#transmit(push, ref, ref)) {
      this.#joinPush = null;
      push.fail(new PhoenixChannelError('PHX_SOCKET_CLOSED', 'socket closed'));
      return;
    }
    log(this.#host.logger, 'debug', 'joining channel', { topic: this.topic, joinRef: ref });
  }

  #onJoinReply(push: Push, reply: PushReply): void {
    if (push !== this.#joinPush) return;
    this.#joinPush = null;
    if (reply.status !== 'ok') {
      this.#joinFailed(new JoinRefusedError(this.topic, reply.status, reply.response));
      return;
    }
    this.#state = CHANNEL_STATES.joined;
    this.#lastJoinResponse = reply.response;
    this.#rejoinTimer.reset();
    log(this.#host.logger, 'debug', 'channel joined', { topic: this.topic, joinRef: this.#joinRef });
    this.#flushBuffer();
    for (const waiter of this.#joinWaiters) waiter.resolve(reply.response);
    this.#emit('joined', reply.response);
  }

  #onJoinFailure(push: Push, error: PhoenixChannelError): void {
    if (push !== this.#joinPush) return;
    this.#joinPush = null;
    if (error.code === 'PHX_JOIN_TIMEOUT' && push.ref !== null && this.#host.isConnected()) {
      // Tell the server to drop the join it may still be processing; its late reply is stale by ref.
      this.#host.sendFrame(
        encodeFrame(push.ref, this.#host.makeRef(), this.topic, CHANNEL_EVENTS.leave, '{}'),
      );
    }
    this.#joinFailed(error);
  }

  #joinFailed(error: PhoenixChannelError): void {
    this.#state = CHANNEL_STATES.errored;
    log(this.#host.logger, 'warn', 'channel join failed', { topic: this.topic, code: error.code });
    this.#emit('join_error', error);
    if (this.#wantJoined && this.#host.isConnected()) this.#rejoinTimer.schedule();
  }

  #onRejoinTimer(): void {
    if (this.#wantJoined && this.#host.isConnected() && this.#state !== CHANNEL_STATES.joined) {
      void this.#sendJoin();
    }
  }

  #flushBuffer(): void {
    const joinRef = this.#joinRef;
    if (joinRef === null || this.#buffer.length === 0) return;
    const sent = this.#buffer.length;
    while (this.#buffer.length > 0 && this.#state === CHANNEL_STATES.joined) {
      const entry = this.#buffer[0]!;
      const ok = entry.push
        ? this.#transmit(entry.push, joinRef)
        : this.#host.sendFrame(
            encodeFrame(joinRef, this.#host.makeRef(), this.topic, entry.event, entry.payloadJson),
          );
      if (!ok) break;
      this.#buffer.shift();
      this.#notifySent(entry.event, entry.onSent);
    }
    log(this.#host.logger, 'debug', 'buffered messages sent', {
      topic: this.topic,
      count: sent - this.#buffer.length,
    });
    this.#host.bufferChanged();
  }

  #onSocketOpen(): void {
    if (!this.#wantJoined || this.#state === CHANNEL_STATES.joined) return;
    void this.#sendJoin();
  }

  #onSocketClose(error: PhoenixChannelError): void {
    this.#rejoinTimer.cancel();
    const wasJoined = this.#state === CHANNEL_STATES.joined;
    this.#joinPush = null;
    this.#joinSeq += 1;
    if (this.#wantJoined) this.#state = CHANNEL_STATES.errored;
    this.#failPending(error);
    if (wasJoined) this.#emit('errored', error);
  }

  #onMessage(message: Message): void {
    for (const handler of this.#messageHandlers) this.#call('message', handler, [message]);
    switch (message.event) {
      case CHANNEL_EVENTS.reply:
        this.#onReply(message);
        return;
      case CHANNEL_EVENTS.error:
        if (this.#isCurrent(message) && this.#inJoin()) {
          this.#serverEnded(
            new PhoenixChannelError('PHX_CHANNEL_ERRORED', `channel "${this.topic}" crashed`),
          );
        }
        return;
      case CHANNEL_EVENTS.close:
        if (this.#isCurrent(message) && this.#inJoin()) {
          const error = new PhoenixChannelError(
            'PHX_CHANNEL_CLOSED',
            `channel "${this.topic}" was closed by the server`,
          );
          if (this.#rejoinOnServerClose) this.#serverEnded(error);
          else this.#terminate(error);
        }
        return;
      default:
        this.#dispatch(message);
    }
  }

  #isCurrent(message: Message): boolean {
    return message.joinRef === null || message.joinRef === this.#joinRef;
  }

  #inJoin(): boolean {
    return (
      this.#state === CHANNEL_STATES.joined ||
      (this.#state === CHANNEL_STATES.joining && this.#joinPush !== null)
    );
  }

  #onReply(message: Message): void {
    const push = this.#pushAwaiting(message);
    if (!push) return;
    const payload = message.payload as { status?: unknown; response?: unknown } | null;
    if (typeof payload !== 'object' || payload === null || typeof payload.status !== 'string') {
      this.#host.report(
        new PhoenixChannelError('PHX_DECODE_FAILED', `phx_reply on "${this.topic}" has no status; dropped`),
      );
      return;
    }
    push.reply(payload.status, payload.response);
  }

  /** The pending push a reply answers, or undefined for an unknown or stale ref (a reply of an older join). */
  #pushAwaiting(reply: { readonly joinRef: string | null; readonly ref: string | null }): Push | undefined {
    if (reply.ref === null) return undefined;
    const push = this.#pending.get(reply.ref);
    if (!push || (reply.joinRef !== null && reply.joinRef !== this.#joinRef && push !== this.#joinPush)) {
      log(this.#host.logger, 'debug', 'stale reply dropped', { topic: this.topic, ref: reply.ref });
      return undefined;
    }
    return push;
  }

  /** The reply was too large to decode: its push fails now instead of waiting for its timeout. */
  #onOversizedReply(prefix: FramePrefix, size: number, maxFrameBytes: number): void {
    const push = this.#pushAwaiting(prefix);
    if (!push) return;
    const what = push === this.#joinPush ? 'join' : `push of "${push.event}"`;
    push.fail(
      new PhoenixChannelError(
        'PHX_DECODE_FAILED',
        `the reply to the ${what} on "${this.topic}" is ${size} bytes, over the socket's maxFrameBytes ` +
          `(${maxFrameBytes}); it was dropped. Raise maxFrameBytes to receive it`,
      ),
    );
  }

  #serverEnded(error: PhoenixChannelError): void {
    this.#joinPush = null;
    this.#joinSeq += 1;
    this.#state = CHANNEL_STATES.errored;
    this.#failPending(error);
    log(this.#host.logger, 'warn', 'channel lost its join', { topic: this.topic, code: error.code });
    this.#emit('errored', error);
    if (this.#wantJoined && this.#host.isConnected()) this.#rejoinTimer.schedule();
  }

  #failPending(error: PhoenixChannelError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const push of pending) push.fail(error);
  }

  #terminate(error: PhoenixChannelError): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#wantJoined = false;
    this.#state = CHANNEL_STATES.closed;
    this.#rejoinTimer.reset();
    this.#joinPush = null;
    this.#joinSeq += 1;
    this.#failPending(error);
    const buffered = this.#buffer;
    this.#buffer = [];
    let dropped = 0;
    for (const entry of buffered) {
      if (entry.push) entry.push.fail(error);
      else dropped += 1;
    }
    if (dropped > 0) {
      log(this.#host.logger, 'warn', 'buffered messages dropped: channel closed before a join', {
        topic: this.topic,
        count: dropped,
      });
    }
    for (const waiter of this.#joinWaiters) waiter.reject(error);
    this.#host.detach(this);
    this.#host.bufferChanged();
    this.#emit('closed', error);
  }

  #waitForJoin(signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) {
      return Promise.reject(
        new PhoenixChannelError('PHX_ABORTED', `join of "${this.topic}" aborted`, { cause: signal.reason }),
      );
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        waiter.reject(
          new PhoenixChannelError('PHX_ABORTED', `join of "${this.topic}" aborted`, {
            cause: signal?.reason,
          }),
        );
      };
      const waiter: JoinWaiter = {
        resolve: (response) => {
          waiter.cleanup();
          resolve(response);
        },
        reject: (error) => {
          waiter.cleanup();
          reject(error);
        },
        cleanup: () => {
          this.#joinWaiters.delete(waiter);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      this.#joinWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #dispatch(message: Message): void {
    if (LIFECYCLE_EVENTS.has(message.event)) return;
    const handlers = this.#handlers.get(message.event);
    if (!handlers) return;
    for (const handler of [...handlers]) this.#call(message.event, handler, [message.payload, message]);
  }

  #notifySent(event: string, onSent: (() => void) | undefined): void {
    // A throwing callback is reported like a throwing handler and does not stop the buffer from draining.
    if (onSent) this.#call(`${event} onSent`, onSent, []);
  }

  #emit(event: 'joined' | 'join_error' | 'errored' | 'closed', arg: unknown): void {
    const handlers = this.#handlers.get(event);
    if (!handlers) return;
    for (const handler of [...handlers]) this.#call(event, handler, [arg]);
  }

  #call(event: string, handler: (...args: never[]) => unknown, args: unknown[]): void {
    const fail = (cause: unknown): void => {
      this.#host.report(
        new PhoenixChannelError('PHX_HANDLER_FAILED', `handler of "${event}" on "${this.topic}" failed`, {
          cause,
        }),
      );
    };
    try {
      const result = (handler as (...a: unknown[]) => unknown)(...args);
      if (
        result !== null &&
        typeof result === 'object' &&
        typeof (result as Promise<unknown>).then === 'function'
      ) {
        (result as Promise<unknown>).then(undefined, fail);
      }
    } catch (error) {
      fail(error);
    }
  }
}
