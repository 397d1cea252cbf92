/** What a channel keeps while it is not joined: messages in order, bounded, for the next join. */
import { PhoenixChannelError } from './errors.js';
import type { Push } from './push.js';

/** One message made while the channel was not joined: a `push` awaits its reply, a `send` does not. */
export interface BufferedMessage {
  readonly event: string;
  readonly payloadJson: string;
  readonly push?: Push;
  readonly onSent?: () => void;
  /** Stops watching the message's abort signal once it has left or been dropped. */
  release?: () => void;
}

export class OutboundBuffer {
  readonly #topic: string;
  readonly #max: number;
  /** Tells the socket that the count changed (for `flush()`). */
  readonly #onChange: () => void;
  #entries: BufferedMessage[] = [];

  constructor(topic: string, max: number, onChange: () => void) {
    this.#topic = topic;
    this.#max = max;
    this.#onChange = onChange;
  }

  get size(): number {
    return this.#entries.length;
  }

  /**
   * Why one more message cannot wait, or undefined when there is room: `PHX_NOT_JOINED` when nothing may be kept
   * (`maxBufferedPushes: 0`), `PHX_BUFFER_FULL` at the bound. Never dropped silently.
   */
  refusal(): PhoenixChannelError | undefined {
    if (this.#max === 0) {
      return new PhoenixChannelError('PHX_NOT_JOINED', `channel "${this.#topic}" is not joined`);
    }
    if (this.#entries.length >= this.#max) {
      return new PhoenixChannelError(
        'PHX_BUFFER_FULL',
        `channel "${this.#topic}" is not joined and already holds ${this.#max} messages`,
      );
    }
    return undefined;
  }

  add(entry: BufferedMessage): void {
    this.#entries.push(entry);
    this.#onChange();
  }

  /** Takes out a push that settled (timeout, abort) before it could be sent. */
  remove(push: Push): void {
    this.removeEntry(this.#entries.find((entry) => entry.push === push));
  }

  /** Takes out a message that is no longer worth sending (its signal aborted). */
  removeEntry(entry: BufferedMessage | undefined): void {
    const index = entry ? this.#entries.indexOf(entry) : -1;
    if (index === -1) return;
    this.#entries.splice(index, 1);
    entry!.release?.();
    this.#onChange();
  }

  /**
   * Hands the messages to `send` oldest first, as long as `proceed()` holds and `send` takes them (false: the
   * socket is not open, the message stays). `sent` runs for each one taken, after it left the buffer: it may
   * add messages (they go behind) or end the channel (`clear()`, which stops the loop).
   */
  drain(
    proceed: () => boolean,
    send: (entry: BufferedMessage) => boolean,
    sent: (entry: BufferedMessage) => void,
  ): void {
    while (this.#entries.length > 0 && proceed()) {
      const entry = this.#entries[0]!;
      if (!send(entry)) break;
      this.#entries.shift();
      entry.release?.();
      sent(entry);
    }
    this.#onChange();
  }

  /**
   * Empties the buffer for good: each waiting push fails with `error`. Returns how many fire-and-forget messages
   * were dropped with it, for the log.
   */
  clear(error: PhoenixChannelError): number {
    const entries = this.#entries;
    this.#entries = [];
    let dropped = 0;
    for (const entry of entries) {
      entry.release?.();
      if (entry.push) entry.push.fail(error);
      else dropped += 1;
    }
    return dropped;
  }
}
