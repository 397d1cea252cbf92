/** One outgoing message awaiting its `phx_reply`, a timeout, an abort, or the end of its channel. */
import { PhoenixChannelError, type PhoenixChannelErrorCode } from './errors.js';

/** A server reply: `status` is `ok` or `error` (or any status the server sends) and its `response`. */
export interface PushReply {
  readonly status: string;
  readonly response: unknown;
}

export interface PushOptions {
  /**
   * Longest wait for the reply, counted from the call (time spent buffered counts too).
   * @default 10000
   */
  readonly timeoutMs?: number;
  /** Stops waiting: the promise rejects with `PHX_ABORTED` and a message not yet sent is dropped. */
  readonly signal?: AbortSignal;
}

export interface PushInit {
  readonly topic: string;
  readonly event: string;
  /** The payload, already JSON text. */
  readonly payloadJson: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Code of the timeout error. */
  readonly timeoutCode: Extract<PhoenixChannelErrorCode, 'PHX_PUSH_TIMEOUT' | 'PHX_JOIN_TIMEOUT'>;
  /** Called once, synchronously, when the push settles: with the reply, or with the error. */
  readonly onSettled?: SettledCallback | undefined;
}

export type SettledCallback = (
  push: Push,
  reply: PushReply | null,
  error: PhoenixChannelError | null,
) => void;

/**
 * Holds one message and the promise of its reply. The timeout runs from construction, so a message that
 * waits in a buffer and then times out is never sent. The timer keeps the process alive until the push settles
 * (at most `timeoutMs`): a caller awaiting a push on a socket that never connected gets its timeout, rather than a
 * process that exits with the promise pending.
 */
export class Push {
  readonly topic: string;
  readonly event: string;
  readonly payloadJson: string;
  readonly promise: Promise<PushReply>;
  /** Ref under which it was sent, or `null` while unsent. */
  ref: string | null = null;
  #resolve!: (reply: PushReply) => void;
  #reject!: (error: PhoenixChannelError) => void;
  #timer: NodeJS.Timeout | undefined;
  #signal: AbortSignal | undefined;
  #onSettled: SettledCallback | undefined;
  #settled = false;
  readonly #onAbort = (): void => {
    this.fail(
      new PhoenixChannelError('PHX_ABORTED', `push of "${this.event}" on "${this.topic}" aborted`, {
        cause: this.#signal?.reason,
      }),
    );
  };

  constructor(init: PushInit) {
    this.topic = init.topic;
    this.event = init.event;
    this.payloadJson = init.payloadJson;
    this.#onSettled = init.onSettled;
    this.promise = new Promise<PushReply>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (init.signal?.aborted) {
      this.#signal = init.signal;
      this.#onAbort();
      return;
    }
    if (init.signal) {
      this.#signal = init.signal;
      init.signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#timer = setTimeout(() => {
      const what = init.timeoutCode === 'PHX_JOIN_TIMEOUT' ? 'join' : `push of "${this.event}"`;
      this.fail(
        new PhoenixChannelError(
          init.timeoutCode,
          `${what} on "${this.topic}" got no reply in ${init.timeoutMs} ms`,
        ),
      );
    }, init.timeoutMs);
  }

  /** True once it has a reply or an error. */
  get isSettled(): boolean {
    return this.#settled;
  }

  /** Settles with the server's reply. */
  reply(status: string, response: unknown): void {
    const reply = { status, response };
    if (this.#finish(reply, null)) this.#resolve(reply);
  }

  /** Settles with an error (timeout, abort, closed channel or socket). */
  fail(error: PhoenixChannelError): void {
    if (this.#finish(null, error)) this.#reject(error);
  }

  #finish(reply: PushReply | null, error: PhoenixChannelError | null): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#signal = undefined;
    const onSettled = this.#onSettled;
    this.#onSettled = undefined;
    onSettled?.(this, reply, error);
    return true;
  }
}
