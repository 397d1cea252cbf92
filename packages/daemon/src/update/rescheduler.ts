import { formatDuration } from '../config/values/duration.js';
import type { Logger } from '../log/logger.js';
import type { Clock, ClockTimer } from '../runtime/clock.js';
import { OFFER_REUSE_LIMIT_MS } from './constants.js';
import type { UpdateListener } from './events.js';
import { describeUpdate, type UpdateFacts } from './facts.js';
import type { UpdateOffer } from './offer.js';

/** An offer answered with `rescheduled`, which the device may ask about again with the offer it has. */
export interface WaitingOffer {
  readonly offer: UpdateOffer;
  readonly facts: UpdateFacts;
  /** When the server sent it: its URL is valid for 24 h from about then. */
  readonly receivedAt: number;
}

export interface ReschedulerOptions {
  readonly logger: Logger;
  /** Its time and timers: a test moves them by hand. */
  readonly clock: Clock;
  /** How long after a deployment's block ends the device waits for NervesHub's own re-offer. */
  readonly deploymentReofferGraceMs: number;
  /** Where the next attempt is told (`next-attempt` events). */
  readonly emit: UpdateListener;
  /** The time has come: ask again about `waiting`. */
  readonly askAgain: (waiting: WaitingOffer) => void;
}

/**
 * The next attempt of a rescheduled offer. NervesHub blocks a deployment's device until `delay_for` has passed
 * and offers the update again afterwards; it never re-offers a manual push, so for that the device's own re-ask is
 * the only one. The device re-uses an offer only while its firmware URL is still valid, and at most one offer
 * waits: any new offer replaces it. The delay has been bounded already (DELAY_USES.offer: at least 5 minutes).
 */
export class Rescheduler {
  readonly #options: ReschedulerOptions;
  #waiting: { readonly offer: WaitingOffer; readonly timer: ClockTimer } | undefined;

  constructor(options: ReschedulerOptions) {
    this.#options = options;
  }

  /** `waiting` was answered `rescheduled` with `delayMs`: plans the next attempt and says who makes it. */
  plan(waiting: WaitingOffer, delayMs: number, reason: string): void {
    const { logger, emit } = this.#options;
    const { facts, receivedAt } = waiting;
    const { clock } = this.#options;
    const now = clock.now();
    const deployment = facts.deploymentId !== undefined;
    const graceMs = deployment ? this.#options.deploymentReofferGraceMs : 0;
    const localRetryAt = now + delayMs + graceMs;
    const due = deployment ? { at: now + delayMs } : {};
    if (localRetryAt - receivedAt > OFFER_REUSE_LIMIT_MS) {
      const note = deployment
        ? 'NervesHub offers it again once the block ends (the firmware link of this offer expires before that)'
        : 'the firmware link of this manual push expires before then: push it again after that time';
      emit({ type: 'next-attempt', attempt: { update: facts, at: now + delayMs, note } });
      logger.info(
        `update ${describeUpdate(facts)} rescheduled for ${formatDuration(delayMs)}: ${reason}; ${note}`,
      );
      return;
    }
    const timer = clock.setTimeout(() => this.#due(), localRetryAt - now);
    timer.unref();
    this.#waiting = { offer: waiting, timer };
    const note = deployment
      ? `NervesHub offers it again once the block ends; the device asks again itself ${formatDuration(graceMs)} later if it has not`
      : 'the device asks again itself (NervesHub does not offer a manual push again)';
    emit({ type: 'next-attempt', attempt: { update: facts, ...due, localRetryAt, note } });
    logger.info(`update ${describeUpdate(facts)} rescheduled for ${formatDuration(delayMs)}: ${reason}`);
  }

  /** The offer waiting is not asked about again (another offer came, or the daemon stops). */
  cancel(): void {
    if (!this.#waiting) return;
    this.#options.clock.clearTimeout(this.#waiting.timer);
    this.#waiting = undefined;
    this.#options.emit({ type: 'next-attempt', attempt: undefined });
  }

  #due(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) this.#options.askAgain(waiting.offer);
  }
}
