import { type Clock, SYSTEM_CLOCK } from '../runtime/clock.js';

/**
 * The fwup public keys an update is checked with, and a bounded wait for those the join asked NervesHub for: it
 * sends them after the join, usually before any offer, but nothing orders the two (nerves_hub_web device_link.ex).
 */
export class SigningKeys {
  readonly #current: () => readonly string[];
  readonly #clock: Clock;
  #arrived: (() => void) | undefined;

  constructor(current: () => readonly string[], clock: Clock = SYSTEM_CLOCK) {
    this.#current = current;
    this.#clock = clock;
  }

  get available(): boolean {
    return this.#current().length > 0;
  }

  /** The server sent keys: a wait for them ends. */
  changed(): void {
    this.#arrived?.();
  }

  /** Waits until there are keys, `waitMs` at most, or until `signal` aborts. Resolves whether there are keys. */
  async wait(waitMs: number, signal: AbortSignal): Promise<boolean> {
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#arrived = undefined;
        resolve();
      };
      const timer = this.#clock.setTimeout(done, waitMs);
      signal.addEventListener('abort', done, { once: true });
      this.#arrived = () => {
        if (this.available) done();
      };
    });
    return this.available;
  }
}
