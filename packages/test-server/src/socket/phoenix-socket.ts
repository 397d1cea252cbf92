/**
 * One WebSocket speaking Phoenix Channels V2 as Phoenix's socket does (phoenix lib/phoenix/socket.ex
 * `handle_in` clauses, lines 705-884): heartbeat replies, joins routed by topic, a second join of a joined topic
 * closing the old one, leaves, messages with a null or the current `join_ref` handed to the channel, stale ones
 * dropped, and `unmatched topic` for anything else; `phx_error` when a channel crashes. Bandit's idle timeout
 * closes the socket.
 */
import { decode, encode, type Message } from '@nerves-hub-link/phoenix-channel/codec';
import type { WebSocket } from 'ws';

/** A joined topic's channel. */
export interface TopicChannel {
  /** A message on the joined topic, other than a leave; `crash` stands for the channel process raising. */
  handleIn(event: string, payload: unknown): 'ok' | 'crash';
}

/** The channel's answer to a join: the reply's payload is `{}` when ok. */
export type JoinResult =
  | { readonly status: 'ok'; readonly channel: TopicChannel; readonly afterReply?: () => void }
  | { readonly status: 'error'; readonly response: object };

export interface PhoenixSocketOptions {
  /** Close the socket after this long without an inbound frame (Bandit's `timeout`). */
  readonly idleTimeoutMs: number;
  /** Whether heartbeats are answered now (a test switch). */
  heartbeatReplies(): boolean;
  /** The join of a topic this socket has a channel for; undefined for any other topic. */
  route(topic: string): ((payload: unknown) => JoinResult) | undefined;
}

/** Bandit closes an idle WebSocket with 1002. */
const IDLE_CLOSE_CODE = 1002;

interface JoinedTopic {
  readonly joinRef: string | null;
  readonly channel: TopicChannel;
}

export class PhoenixSocket {
  readonly #ws: WebSocket;
  readonly #options: PhoenixSocketOptions;
  readonly #topics = new Map<string, JoinedTopic>();
  readonly #idle: NodeJS.Timeout;

  constructor(ws: WebSocket, options: PhoenixSocketOptions) {
    this.#ws = ws;
    this.#options = options;
    this.#idle = setTimeout(() => ws.close(IDLE_CLOSE_CODE), options.idleTimeoutMs);
    const inbound = () => this.#idle.refresh();
    ws.on('ping', inbound);
    ws.on('pong', inbound);
    ws.on('close', () => clearTimeout(this.#idle));
    ws.on('message', (data, isBinary) => {
      inbound();
      // The JSON serializer takes text frames only; a frame it cannot decode is dropped here.
      if (isBinary) return;
      let message: Message;
      try {
        message = decode(data as Buffer);
      } catch {
        return;
      }
      this.#receive(message);
    });
  }

  isJoined(topic: string): boolean {
    return this.#topics.has(topic);
  }

  /** A server push, as a fastlaned broadcast arrives: both refs null. False when the topic is not joined. */
  push(topic: string, event: string, payload: unknown): boolean {
    if (!this.#topics.has(topic)) return false;
    this.#send({ joinRef: null, ref: null, topic, event, payload });
    return true;
  }

  /** The channel exits normally: `phx_close` with its join ref (encode_close). */
  closeTopic(topic: string): void {
    const joined = this.#topics.get(topic);
    if (!joined) return;
    this.#topics.delete(topic);
    this.#send({ joinRef: joined.joinRef, ref: joined.joinRef, topic, event: 'phx_close', payload: {} });
  }

  /** The channel process crashed: `phx_error` with its join ref (encode_on_exit). */
  crashTopic(topic: string): void {
    const joined = this.#topics.get(topic);
    if (!joined) return;
    this.#topics.delete(topic);
    this.#send({
      joinRef: joined.joinRef,
      ref: joined.joinRef,
      topic,
      event: 'phx_error',
      payload: { reason: 'channel_crash' },
    });
  }

  close(code: number): void {
    this.#ws.close(code);
  }

  #receive(message: Message): void {
    const { topic, event, joinRef, ref, payload } = message;
    // Lines 705-714: answered before any topic lookup, with no join ref.
    if (topic === 'phoenix' && event === 'heartbeat') {
      if (this.#options.heartbeatReplies()) this.#reply(null, ref, topic, 'ok', {});
      return;
    }
    const joined = this.#topics.get(topic);
    if (event === 'phx_join') {
      this.#join(message, joined);
      return;
    }
    // Lines 790-803 (a joined topic) and 823-838 (one that is not).
    if (event === 'phx_leave') {
      if (!joined) this.#reply(joinRef, ref, topic, 'ok', {});
      else if (joinRef === null || joinRef === joined.joinRef) {
        // The channel replies, then exits normally, and the socket reports that exit as phx_close.
        this.#reply(joined.joinRef, ref, topic, 'ok', {});
        this.closeTopic(topic);
      }
      return;
    }
    // Lines 840-844: the channel is gone (or never was) while the device still sends.
    if (!joined) {
      this.#unmatched(ref, topic);
      return;
    }
    // Lines 805-821: a nil join_ref is valid on non-join messages; a stale one (an earlier join) is ignored.
    if (joinRef !== null && joinRef !== joined.joinRef) return;
    if (joined.channel.handleIn(event, payload) === 'crash') this.crashTopic(topic);
  }

  /**
   * A join (lines 716-769). On a joined topic (lines 771-788) the old channel is shut down first; its `phx_close`
   * reaches the device after the new join's reply, because Phoenix queues it to the socket process's mailbox while
   * it handles the join.
   */
  #join(message: Message, previous: JoinedTopic | undefined): void {
    const { topic, joinRef, ref, payload } = message;
    if (previous) this.#topics.delete(topic);
    const result = this.#options.route(topic)?.(payload);
    if (!result) this.#unmatched(ref, topic);
    else if (result.status === 'error') this.#reply(joinRef, ref, topic, 'error', result.response);
    else {
      this.#topics.set(topic, { joinRef, channel: result.channel });
      this.#reply(joinRef, ref, topic, 'ok', {});
    }
    if (previous) this.#sendClose(topic, previous.joinRef);
    if (result?.status === 'ok') result.afterReply?.();
  }

  #sendClose(topic: string, joinRef: string | null): void {
    this.#send({ joinRef, ref: joinRef, topic, event: 'phx_close', payload: {} });
  }

  /** encode_ignore (lines 880-883): the reply carries no join ref. */
  #unmatched(ref: string | null, topic: string): void {
    this.#reply(null, ref, topic, 'error', { reason: 'unmatched topic' });
  }

  #reply(
    joinRef: string | null,
    ref: string | null,
    topic: string,
    status: 'ok' | 'error',
    response: unknown,
  ): void {
    this.#send({ joinRef, ref, topic, event: 'phx_reply', payload: { status, response } });
  }

  #send(message: Message): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(encode(message));
  }
}
