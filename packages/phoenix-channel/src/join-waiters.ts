/** The callers of `channel.join()` still waiting for the first successful join. */
import { PhoenixChannelError } from './errors.js';

interface JoinWaiter {
  resolve(response: unknown): void;
  reject(error: PhoenixChannelError): void;
}

export class JoinWaiters {
  readonly #topic: string;
  readonly #waiters = new Set<JoinWaiter>();

  constructor(topic: string) {
    this.#topic = topic;
  }

  /** Resolves with the response of the next successful join; rejects on `signal` with `PHX_ABORTED`. */
  wait(signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(this.#aborted(signal));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        waiter.reject(this.#aborted(signal));
      };
      const cleanup = (): void => {
        this.#waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: JoinWaiter = {
        resolve: (response) => {
          cleanup();
          resolve(response);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  resolveAll(response: unknown): void {
    for (const waiter of this.#waiters) waiter.resolve(response);
  }

  rejectAll(error: PhoenixChannelError): void {
    for (const waiter of this.#waiters) waiter.reject(error);
  }

  #aborted(signal: AbortSignal | undefined): PhoenixChannelError {
    return new PhoenixChannelError('PHX_ABORTED', `join of "${this.#topic}" aborted`, {
      cause: signal?.reason,
    });
  }
}
