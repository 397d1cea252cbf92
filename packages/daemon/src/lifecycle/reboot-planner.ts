import type { RebootPolicy } from '../config/sections/updates.js';
import { boundDelay, DELAY_USES, describeBound } from '../config/values/delay-bounds.js';
import { formatDuration } from '../config/values/duration.js';
import type { RebootDecision } from '../hooks/hook-protocol.js';
import type { Logger } from '../log/logger.js';
import { type Clock, type ClockTimer, SYSTEM_CLOCK } from '../runtime/clock.js';

export interface RebootPlannerOptions {
  readonly policy: RebootPolicy;
  /** Asks whether to reboot now (hooks.before_reboot under the "hook" policy); `signal` is aborted at a stop. */
  readonly ask: (why: string, signal: AbortSignal) => Promise<RebootDecision>;
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
 * or again after the delay it names, never sooner than a minute: DELAY_USES.reboot), "never" leaves the reboot to
 * the device (e.g. a nightly reboot) and says so. One question at a time: a request while the hook is asked is
 * folded into that question.
 */
export class RebootPlanner {
  readonly #options: RebootPlannerOptions;
  readonly #clock: Clock;
  readonly #stopping = new AbortController();
  #timer: ClockTimer | undefined;
  /** When the timer is due, while one is set. */
  #dueAt: number | undefined;
  /** When before_reboot was last asked. */
  #askedAt: number | undefined;
  #asking = false;
  #executing = false;

  constructor(options: RebootPlannerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
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
    // Requests that fold into another are logged at debug level: a server pushing `reboot` again and again must
    // not flood the log.
    if (this.#asking) {
      logger.debug(`${why}; a reboot is already being decided`);
      return;
    }
    // A request soon after the last question waits for the floor, so such a server cannot run the hook in a loop.
    const floorAt = this.#askedAt === undefined ? undefined : this.#askedAt + DELAY_USES.reboot.floorMs;
    if (floorAt !== undefined && floorAt > this.#clock.now()) {
      const sooner = this.#dueAt === undefined || floorAt < this.#dueAt;
      if (sooner) this.#askAt(why, floorAt);
      logger[sooner ? 'info' : 'debug'](
        `${why}; hooks.before_reboot was asked less than a minute ago: asking again a minute after it`,
      );
      return;
    }
    this.#clearTimer();
    void this.#decide(why);
  }

  /** The daemon is stopping: a running before_reboot is stopped, and no reboot is asked for or done any more. */
  stop(): void {
    this.#stopping.abort();
    this.#clearTimer();
  }

  #askAt(why: string, at: number): void {
    this.#clearTimer();
    this.#dueAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#dueAt = undefined;
      this.request(why);
    }, at - this.#clock.now());
    this.#timer.unref();
  }

  #clearTimer(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dueAt = undefined;
  }

  async #decide(why: string): Promise<void> {
    const { ask, execute, logger, onPending } = this.#options;
    this.#asking = true;
    this.#askedAt = this.#clock.now();
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
      this.#askAt(why, at);
      return;
    }
    this.#executing = true;
    onPending?.(undefined);
    await execute(why);
  }
}
