import { REPEATED_FAILURES } from './constants.js';
import type { NextAttempt } from './events.js';
import type { UpdateFacts } from './facts.js';
import type { UpdateOffer } from './offer.js';
import type { UpdateStage } from './stage.js';

/** What the update manager is doing when an offer comes in. */
export interface GateState {
  /** The daemon is stopping or rebooting: no offer is taken. */
  readonly closed: boolean;
  readonly phase: 'idle' | UpdateStage;
  /** The update running or written now. */
  readonly currentUuid: string | undefined;
  /** The firmware running on the device. */
  readonly runningUuid: string | undefined;
  /** How often the offered firmware failed on this device within REPEATED_FAILURES.windowMs. */
  readonly recentFailures: number;
  readonly now: number;
  /** What the running firmware's state says of an offer (validation): asked only of an offer that got this far. */
  readonly firmwareGuard?: () => OfferVerdict | undefined;
}

/** What becomes of an offer before any decision of the operator's. */
export type OfferVerdict =
  /** Start the update. */
  | { readonly kind: 'start' }
  /** Not answered at all: no status, logged as `update <uuid> not answered: <why>`. */
  | { readonly kind: 'unanswered'; readonly why: string }
  /** Answered at once: `received`, then the final status. */
  | {
      readonly kind: 'answered';
      readonly status: 'ignored' | 'rescheduled';
      readonly reason: string;
      readonly delayMs?: number;
      readonly nextAttempt?: NextAttempt;
      readonly log: { readonly level: 'info' | 'warn'; readonly message: string };
    };

/**
 * One update at a time, never the firmware already running, nothing that would overwrite the only known-good
 * firmware while the running one is unvalidated, and no tight loop on a firmware that keeps failing.
 * An offer while an update runs gets no status at all: it would land on the record of the update that is running.
 * Nor does one while a written firmware waits for its reboot: writing another would overwrite the slot the next boot
 * is to start, and `ignored` would put a deployment's device in the penalty box for as long as the reboot waits
 * (a before_reboot that postpones, `reboot_policy = "never"`). With no status NervesHub counts no attempt, and
 * offers the update again after the reboot (the join then names no update, and clears the record).
 */
export function gateOffer(offer: UpdateOffer, facts: UpdateFacts, state: GateState): OfferVerdict {
  if (state.closed) return { kind: 'unanswered', why: 'the daemon is stopping' };
  if (state.phase === 'awaiting-reboot') {
    return {
      kind: 'unanswered',
      why: `firmware ${state.currentUuid} is written and runs after the next reboot; no other update until then (no status: NervesHub counts no attempt and offers it again after the reboot)`,
    };
  }
  if (state.phase !== 'idle') {
    return { kind: 'unanswered', why: `update ${state.currentUuid} is in progress` };
  }
  if (offer.uuid === state.runningUuid) {
    return {
      kind: 'answered',
      status: 'ignored',
      reason: `firmware ${offer.uuid} is already running`,
      log: { level: 'info', message: `update ${offer.uuid} ignored: it is the firmware already running` },
    };
  }
  const guarded = state.firmwareGuard?.();
  if (guarded) return guarded;
  if (state.recentFailures >= REPEATED_FAILURES.count) {
    const { windowMs, rescheduleMs } = REPEATED_FAILURES;
    const reason =
      `firmware ${offer.uuid} failed ${state.recentFailures} times on this device in the last ` +
      `${Math.round(windowMs / 60_000)} minutes; asking to be offered it again in ${Math.round(rescheduleMs / 60_000)} minutes`;
    return {
      kind: 'answered',
      status: 'rescheduled',
      reason,
      delayMs: rescheduleMs,
      nextAttempt: {
        update: facts,
        ...(facts.deploymentId !== undefined ? { at: state.now + rescheduleMs } : {}),
        note: 'after repeated failures the device waits for NervesHub to offer the update again',
      },
      log: { level: 'warn', message: `update ${offer.uuid} rescheduled: ${reason}` },
    };
  }
  return { kind: 'start' };
}
