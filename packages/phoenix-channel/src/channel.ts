/**
 * One topic on a socket, as a state machine: join, stay joined (rejoin with backoff), push and match replies,
 * leave. What it keeps while not joined, the handlers bound to it and the callers waiting for its join live in
 * their own modules.
 */
import {
  type ChannelOptions,
  type ChannelParams,
  type ChannelSettings,
  channelSettings,
  type SendOptions,
} from './channel-options.js';
import { encodeFrame, encodePayload, type Message } from './codec.js';
import { CHANNEL_EVENTS, CHANNEL_STATES } from './constants.js';
import { JoinRefusedError, PhoenixChannelError } from './errors.js';
import { EventBindings, type LifecycleEvent, type MessageHandler } from './event-bindings.js';
import type { FramePrefix } from './frame-prefix.js';
import { JoinWaiters } from './join-waiters.js';
import { type Logger, log } from './logger.js';
import { type BufferedMessage, OutboundBuffer } from './outbound-buffer.js';
import { Push, type PushOptions, type PushReply } from './push.js';
import { Timer, type Timers } from './timer.js';
import { checkFunction, checkNumber, checkSignal, invalid } from './validate.js';

export type ChannelState = (typeof CHANNEL_STATES)[keyof typeof CHANNEL_STATES];

/** What a channel needs from its socket. */
export interface ChannelHost {
  readonly logger: Logger | undefined;
  /** Where the rejoin backoff waits (the socket's `timers`). */
  readonly timers: Timers;
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

/**
 * Create one with `socket.channel(topic, params, options)`. Lifecycle events, through `on()`:
 * `joined` (response) on every successful join, `join_error` (error) on a refused, timed-out or failed join,
 * `errored` (error) when a joined channel loses its join (server `phx_error`, server `phx_close`, lost socket),
 * `closed` (error) once it ends for good (`leave()`, `socket.close()`, or a server `phx_close` with
 * `rejoinOnServerClose: false`). Any other name is a server event.
 */
export class Channel {
  readonly topic: string;
  readonly #settings: ChannelSettings;
  readonly #host: ChannelHost;
  readonly #rejoinTimer: Timer;
  readonly #bindings: EventBindings;
  readonly #buffer: OutboundBuffer;
  readonly #joinWaiters: JoinWaiters;
  /** Pushes sent and awaiting their reply, by ref. */
  readonly #pending = new Map<string, Push>();
  #state: ChannelState = CHANNEL_STATES.closed;
  #wantJoined = false;
  #terminated = false;
  #joinRef: string | null = null;
  #joinPush: Push | null = null;
  #joinSeq = 0;
  #lastJoinResponse: unknown;

  constructor(topic: string, params: ChannelParams | undefined, options: ChannelOptions, host: ChannelHost) {
    this.#settings = channelSettings(topic, params, options);
    this.topic = topic;
    this.#host = host;
    this.#rejoinTimer = new Timer(() => this.#onRejoinTimer(), this.#settings.rejoinAfterMs, {
      unref: true,
      timers: host.timers,
    });
    this.#bindings = new EventBindings(topic, (error) => host.report(error));
    this.#buffer = new OutboundBuffer(topic, this.#settings.maxBufferedPushes, () => host.bufferChanged());
    this.#joinWaiters = new JoinWaiters(topic);
    host.attach({
      channel: this,
      onSocketOpen: () => this.#onSocketOpen(),
      onSocketClose: (error) => this.#onSocketClose(error),
      onMessage: (message) => this.#onMessage(message),
      onOversizedReply: (prefix, size, maxFrameBytes) => this.#onOversizedReply(prefix, size, maxFrameBytes),
      terminate: (error) => this.#terminate(error),
      bufferedCount: () => this.#buffer.size,
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
    return this.#buffer.size;
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
    const promise = this.#joinWaiters.wait(options.signal);
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
      const push = this.#newPush(
        CHANNEL_EVENTS.leave,
        '{}',
        options.timeoutMs ?? this.#settings.leaveTimeoutMs,
      );
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
        options.timeoutMs ?? this.#settings.pushTimeoutMs,
        options.signal,
      );
      if (push.isSettled) return push.promise;
      if (this.#canSendNow() && this.#transmit(push, this.#joinRef!)) return push.promise;
      const refusal = this.#buffer.refusal();
      if (refusal) push.fail(refusal);
      else this.#buffer.add({ event, payloadJson, push });
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
    checkSignal(options.signal);
    const payloadJson = encodePayload(payload);
    this.#assertOpen();
    if (options.signal?.aborted) return;
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
    const refusal = this.#buffer.refusal();
    if (refusal) throw refusal;
    const entry: BufferedMessage = options.onSent
      ? { event, payloadJson, onSent: options.onSent }
      : { event, payloadJson };
    const { signal } = options;
    if (signal) {
      const drop = () => this.#buffer.removeEntry(entry);
      signal.addEventListener('abort', drop, { once: true });
      entry.release = () => signal.removeEventListener('abort', drop);
    }
    this.#buffer.add(entry);
  }

  /** Adds a handler of a server event, or of a lifecycle event (`joined`, `join_error`, `errored`, `closed`). */
  on(event: 'joined', handler: (response: unknown) => void): this;
  on(event: 'join_error' | 'errored' | 'closed', handler: (error: PhoenixChannelError) => void): this;
  on(event: string, handler: MessageHandler): this;
  on(event: string, handler: (...args: never[]) => unknown): this {
    this.#bindings.on(event, handler);
    return this;
  }

  /** Removes a handler added with `on()`. */
  off(event: string, handler: (...args: never[]) => unknown): this {
    this.#bindings.off(event, handler);
    return this;
  }

  /**
   * Sees every message on this topic, replies and `phx_*` included, before it is routed; also the way to get a
   * server event that is named like a lifecycle event. Returns a function that removes the handler.
   */
  onMessage(handler: (message: Message) => void): () => void {
    return this.#bindings.observe(handler);
  }

  #assertOpen(): void {
    if (this.#terminated) {
      throw new PhoenixChannelError('PHX_CHANNEL_CLOSED', `channel "${this.topic}" was closed`);
    }
  }

  /** Joined with nothing waiting ahead: a message may go out at once without overtaking a buffered one. */
  #canSendNow(): boolean {
    return this.#state === CHANNEL_STATES.joined && this.#buffer.size === 0 && this.#joinRef !== null;
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
    this.#buffer.remove(push);
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
    const params = this.#settings.params;
    let payloadJson: string;
    try {
      payloadJson = encodePayload((typeof params === 'function' ? await params() : params) ?? {});
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
      timeoutMs: this.#settings.joinTimeoutMs,
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
    this.#joinWaiters.resolveAll(reply.response);
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
    if (joinRef === null || this.#buffer.size === 0) return;
    const before = this.#buffer.size;
    this.#buffer.drain(
      () => this.#state === CHANNEL_STATES.joined,
      (entry) =>
        entry.push
          ? this.#transmit(entry.push, joinRef)
          : this.#host.sendFrame(
              encodeFrame(joinRef, this.#host.makeRef(), this.topic, entry.event, entry.payloadJson),
            ),
      (entry) => this.#notifySent(entry.event, entry.onSent),
    );
    log(this.#host.logger, 'debug', 'buffered messages sent', {
      topic: this.topic,
      count: before - this.#buffer.size,
    });
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
    this.#bindings.observed(message);
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
          if (this.#settings.rejoinOnServerClose) this.#serverEnded(error);
          else this.#terminate(error);
        }
        return;
      default:
        this.#bindings.dispatch(message);
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
    const dropped = this.#buffer.clear(error);
    if (dropped > 0) {
      log(this.#host.logger, 'warn', 'buffered messages dropped: channel closed before a join', {
        topic: this.topic,
        count: dropped,
      });
    }
    this.#joinWaiters.rejectAll(error);
    this.#host.detach(this);
    this.#host.bufferChanged();
    this.#emit('closed', error);
  }

  #notifySent(event: string, onSent: (() => void) | undefined): void {
    // A throwing callback is reported like a throwing handler and does not stop the buffer from draining.
    if (onSent) this.#bindings.call(`${event} onSent`, onSent, []);
  }

  #emit(event: LifecycleEvent, arg: unknown): void {
    this.#bindings.emit(event, arg);
  }
}
