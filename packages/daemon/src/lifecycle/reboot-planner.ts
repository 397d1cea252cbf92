import type { RebootPolicy } from '../config/sections/updates.js';
import { boundDelay, DELAY_USES, describeBound } from '../config/values/delay-bounds.js';
import { formatDuration } from '../config/values/duration.js';
import type { RebootDecision } from '../hooks/hook-protocol.js';
import type { Logger } from '../log/logger.js';
import { type Clock, systemClock } from '../runtime/clock.js';

export interface RebootPlannerOptions {
  readonly policy: RebootPolicy;
  /** Asks whether to reboot now (hooks.before_reboot under the "hook" policy); `signal` is aborted at a stop. */
  readonly ask: (why: string, signal: AbortSignal) => Promise<RebootDecision>;
  /** Reboots: the daemon's own way out. Called at most once. */
  readonly execute: (why: string) => Promise<void>;
  readonly logger: Logger;
  /** A reboot is waiting: at `at` (ms since the epoch), or undefined for "not by the daemon" (policy "never"). */
  readonly onPending?: (pending: { readonly why: string; readonly at?: number } | undefined) => void;
  /** @default systemClock */
  readonly clock?: Clock;
}

/**
 * One path for every reboot, after an update and on the server's `reboot` request, so
 * `updates.reboot_policy` holds for both: "immediate" reboots at once, "hook" asks hooks.before_reboot (now,
 * or again after the delay it names, never sooner than a minute: DELAY_USES.reboot), "never" leaves the reboot to
 * the device (e.g. a nightly reboot) and says so. One question at a time: a request while the hook is asked is
 * folded into that question.
 */
export class RebootPlanner {
  readonly #options: RebootPlannerOptions;
  readonly #clock: Clock;
  readonly #stopping = new AbortController();
  #cancelTimer: (() => void) | undefined;
  #asking = false;
  #executing = false;

  constructor(options: RebootPlannerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  get rebooting(): boolean {
    return this.#executing;
  }

  request(why: string): void {
    const { policy, logger, onPending } = this.#options;
    if (this.#stopping.signal.aborted || this.#executing) return;
    if (policy === 'never') {
      logger.warn(
        `${why}; not rebooting (updates.reboot_policy = "never"): the change takes effect at the next reboot`,
      );
      onPending?.({ why });
      return;
    }
    if (this.#asking) {
      logger.info(`${why}; a reboot is already being decided`);
      return;
    }
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    void this.#decide(why);
  }

  /** The daemon is stopping: a running before_reboot is stopped, and no reboot is asked for or done any more. */
  stop(): void {
    this.#stopping.abort();
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  async #decide(why: string): Promise<void> {
    const { ask, execute, logger, onPending } = this.#options;
    this.#asking = true;
    let decision: RebootDecision;
    try {
      decision = await ask(why, this.#stopping.signal);
    } catch (error) {
      logger.warn(`could not ask whether to reboot (${(error as Error).message}); rebooting`);
      decision = { kind: 'reboot' };
    } finally {
      this.#asking = false;
    }
    if (this.#stopping.signal.aborted || this.#executing) return;
    if (decision.kind === 'reschedule') {
      const delay = boundDelay(decision.delayMs, DELAY_USES.reboot);
      const bound = describeBound(delay, DELAY_USES.reboot);
      if (bound) logger.warn(`${why}: ${bound}`);
      const at = this.#clock.now() + delay.ms;
      logger.info(`${why}; reboot postponed by ${formatDuration(delay.ms)}: ${decision.reason}`);
      onPending?.({ why, at });
      this.#cancelTimer = this.#clock.schedule(delay.ms, () => {
        this.#cancelTimer = undefined;
        this.request(why);
      });
      return;
    }
    this.#executing = true;
    onPending?.(undefined);
    await execute(why);
  }
}
