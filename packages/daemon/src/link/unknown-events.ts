import { shown } from '@nerves-hub-link/message-text';
import type { Logger } from '../log/logger.js';

/** Distinct names remembered (each logged once); names past these are counted, not remembered. */
export const UNKNOWN_NAMES_KEPT = 64;
/** Lines about unknown events per window; what comes beyond is summed up in one line when the window ends. */
export const UNKNOWN_LINES_PER_WINDOW = 10;
export const UNKNOWN_WINDOW_MS = 60_000;
/** An event name as it is shown. */
const NAME_MAX_CHARS = 100;

// Server pushes we know of but leave alone (out of scope, or not applicable to this device type).
const IGNORED_EVENTS = new Set(['archive', 'archive_public_keys', 'extensions:get', 'scripts/run']);

export interface UnknownEventsOptions {
  readonly logger: Pick<Logger, 'info'>;
  readonly now?: () => number;
  readonly windowMs?: number;
}

/**
 * Server events the daemon does not handle, as the log tells them: each name once, in bounded memory (the first
 * UNKNOWN_NAMES_KEPT names), and at most UNKNOWN_LINES_PER_WINDOW lines a minute, so a server sending a flood of
 * made-up names neither grows the daemon nor drowns the journal (and the event loop that also runs heartbeats).
 */
export class UnknownEvents {
  readonly #options: UnknownEventsOptions;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #named = new Set<string>();
  #windowStart = Number.NEGATIVE_INFINITY;
  #lines = 0;
  #untold = 0;
  #summary: NodeJS.Timeout | undefined;

  constructor(options: UnknownEventsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#windowMs = options.windowMs ?? UNKNOWN_WINDOW_MS;
  }

  /** How many names are remembered. */
  get remembered(): number {
    return this.#named.size;
  }

  /** The server sent `event`, which nothing handles. */
  seen(event: string): void {
    if (this.#named.has(event)) return;
    if (this.#named.size < UNKNOWN_NAMES_KEPT) this.#named.add(event);
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#tellUntold();
      this.#windowStart = now;
      this.#lines = 0;
    }
    if (this.#lines >= UNKNOWN_LINES_PER_WINDOW) {
      this.#untold += 1;
      if (!this.#summary) {
        this.#summary = setTimeout(() => this.#tellUntold(), this.#windowMs - (now - this.#windowStart));
        this.#summary.unref();
      }
      return;
    }
    this.#lines += 1;
    const why = IGNORED_EVENTS.has(event) ? 'not supported by this client' : 'unknown event';
    this.#options.logger.info(
      `ignoring "${shown(event, NAME_MAX_CHARS)}" from the server (${why}); further ones are not logged`,
    );
  }

  /** Stops the pending summary line (the session is closing). */
  stop(): void {
    clearTimeout(this.#summary);
    this.#summary = undefined;
  }

  #tellUntold(): void {
    clearTimeout(this.#summary);
    this.#summary = undefined;
    if (this.#untold === 0) return;
    const count = this.#untold;
    this.#untold = 0;
    this.#options.logger.info(
      `ignored ${count} more events of names the daemon does not handle from the server (not logged one by one)`,
    );
  }
}
