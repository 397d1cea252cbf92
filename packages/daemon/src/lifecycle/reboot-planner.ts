import type { RebootPolicy } from '../config/sections/updates.js';
import { formatDuration } from '../config/values/duration.js';
import type { RebootDecision } from '../hooks/hook-protocol.js';
import type { Logger } from '../log/logger.js';
import { type Clock, type ClockTimer, SYSTEM_CLOCK } from '../runtime/clock.js';

export interface RebootPlannerOptions {
  readonly policy: RebootPolicy;
  /** Asks whether to reboot now (hooks.before_reboot under the "hook" policy). */
  readonly ask: (why: string) => Promise<RebootDecision>;
  /** Reboots: the daemon's own way out. Called at most once. */
  readonly execute: (why: string) => Promise<void>;
  readonly logger: Logger;
  /** A reboot is waiting: at `at` (ms since the epoch), or undefined for "not by the daemon" (policy "never"). */
  readonly onPending?: (pending: { readonly why: string; readonly at?: number } | undefined) => void;
  /** When a postponed reboot is due, and its timer. @default SYSTEM_CLOCK */
  readonly clock?: Clock;
}

/**
 * One path for every reboot, after an update and on the server's `reboot` request, so
 * `updates.reboot_policy` holds for both: "immediate" reboots at once, "hook" asks hooks.before_reboot (now,
 * or again after the delay it names), "never" leaves the reboot to the device (e.g. a nightly reboot) and says so.
 */
export class RebootPlanner {
  readonly #options: RebootPlannerOptions;
  readonly #clock: Clock;
  #timer: ClockTimer | undefined;
  #asking = false;
  #executing = false;
  #stopped = false;

  constructor(options: RebootPlannerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  get rebooting(): boolean {
    return this.#executing;
  }

  request(why: string): void {
    const { policy, logger, onPending } = this.#options;
    if (this.#stopped || this.#executing) return;
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
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#decide(why);
  }

  /** The daemon is stopping: no reboot is asked for or done any more. */
  stop(): void {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #decide(why: string): Promise<void> {
    const { ask, execute, logger, onPending } = this.#options;
    this.#asking = true;
    let decision: RebootDecision;
    try {
      decision = await ask(why);
    } catch (error) {
      logger.warn(`could not ask whether to reboot (${(error as Error).message}); rebooting`);
      decision = { kind: 'reboot' };
    } finally {
      this.#asking = false;
    }
    if (this.#stopped || this.#executing) return;
    if (decision.kind === 'reschedule') {
      const at = this.#clock.now() + decision.delayMs;
      logger.info(`${why}; reboot postponed by ${formatDuration(decision.delayMs)}: ${decision.reason}`);
      onPending?.({ why, at });
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.request(why);
      }, decision.delayMs);
      return;
    }
    this.#executing = true;
    onPending?.(undefined);
    await execute(why);
  }
}
