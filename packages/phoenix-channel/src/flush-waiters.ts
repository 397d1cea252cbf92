/** The callers of `socket.flush()`, each waiting until everything sent so far has left the process. */
import { DEFAULT_FLUSH_TIMEOUT_MS } from './constants.js';
import { PhoenixChannelError } from './errors.js';
import { SYSTEM_TIMERS, type Timers } from './timer.js';
import { checkNumber } from './validate.js';

export interface FlushOptions {
  /** @default 5000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export class FlushWaiters {
  /** True when no frame is queued in ws or the kernel hand-off and no message waits in a channel buffer. */
  readonly #isDrained: () => boolean;
  readonly #waiters = new Set<() => void>();
  readonly #timers: Timers;

  constructor(isDrained: () => boolean, timers: Timers = SYSTEM_TIMERS) {
    this.#isDrained = isDrained;
    this.#timers = timers;
  }

  /** Resolves `true` once drained, `false` after `timeoutMs`; rejects with `PHX_ABORTED` on `signal`. */
  wait(options: FlushOptions): Promise<boolean> {
    checkNumber('timeoutMs', options.timeoutMs);
    const { signal } = options;
    if (this.#isDrained()) return Promise.resolve(true);
    if (signal?.aborted) {
      return Promise.reject(
        new PhoenixChannelError('PHX_ABORTED', 'flush aborted', { cause: signal.reason }),
      );
    }
    return new Promise<boolean>((resolve, reject) => {
      const finish = (settle: () => void): void => {
        this.#timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(check);
        settle();
      };
      const check = (): void => {
        if (this.#isDrained()) finish(() => resolve(true));
      };
      const onAbort = (): void => {
        finish(() =>
          reject(new PhoenixChannelError('PHX_ABORTED', 'flush aborted', { cause: signal?.reason })),
        );
      };
      const timer = this.#timers.setTimeout(
        () => finish(() => resolve(false)),
        options.timeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS,
      );
      timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(check);
    });
  }

  /** Something left (a write completed, a buffer shrank, the connection went): wakes the waiters now drained. */
  check(): void {
    if (this.#waiters.size === 0) return;
    for (const check of [...this.#waiters]) check();
  }
}
