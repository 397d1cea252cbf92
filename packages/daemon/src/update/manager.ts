import { boundDelay, DELAY_USES, describeBound } from '../config/values/delay-bounds.js';
import type { Logger } from '../log/logger.js';
import { type Clock, SYSTEM_CLOCK } from '../runtime/clock.js';
import {
  DEPLOYMENT_REOFFER_GRACE_MS,
  SERVER_KEYS_WAIT_MS,
  STATUS_BOUND,
  STATUS_BOUND_MAX_UPDATES,
} from './constants.js';
import type { UpdateEvent, UpdateListener } from './events.js';
import { describeUpdate, type UpdateFacts, updateFacts } from './facts.js';
import type { Failure } from './failure-reason.js';
import { parseUpdateOffer, type UpdateOffer } from './offer.js';
import { gateOffer, type OfferVerdict } from './offer-gate.js';
import { APPLY_EVERYTHING, type UpdatePolicy } from './policy.js';
import { RecentCounts } from './recent-counts.js';
import { RepeatedFailures } from './repeated-failures.js';
import { Rescheduler, type WaitingOffer } from './rescheduler.js';
import { type RunOutcome, runUpdate } from './run.js';
import { SigningKeys } from './signing-keys.js';
import type { ResultStatus, UpdateStage } from './stage.js';
import type { UpdateSteps } from './steps.js';
import { UnsentFinalStatuses } from './unsent-final-statuses.js';

export interface UpdateManagerOptions {
  readonly steps: UpdateSteps;
  readonly logger: Logger;
  /** The uuid of the firmware running now: an offer of it is ignored. */
  readonly runningUuid: string | undefined;
  /** The fwup public keys known now: the configured ones, else those the server sent. */
  readonly publicKeys: () => readonly string[];
  /** `fwup.allow_unsigned`: apply firmware even when there is no key to check its signature with. */
  readonly allowUnsigned: boolean;
  /** Called once the new firmware is written and reported: the daemon reboots. */
  readonly onApplied: (offer: UpdateOffer) => void;
  /** Told every step of every offer: the status reporter, the progress display, the status file. */
  readonly listeners?: readonly UpdateListener[];
  /** The operator's hooks and maintenance window. @default APPLY_EVERYTHING */
  readonly policy?: UpdatePolicy;
  /** What the running firmware's validation says of an offer, before the operator is asked (see gateOffer). */
  readonly firmwareGuard?: (offer: UpdateOffer, facts: UpdateFacts) => OfferVerdict | undefined;
  /** @default SERVER_KEYS_WAIT_MS */
  readonly keysWaitMs?: number;
  /** @default DEPLOYMENT_REOFFER_GRACE_MS */
  readonly deploymentReofferGraceMs?: number;
  /** A firmware written before a restart that still waits for its reboot: the manager starts there. */
  readonly written?: UpdateFacts;
  /** The time of offers and failures, and the timers of the keys wait and of re-asks. @default SYSTEM_CLOCK */
  readonly clock?: Clock;
}

const STOPPED = Symbol('stopped');

/**
 * One update at a time, from the offer to the written firmware (see runUpdate for the steps). A failure is
 * reported with its reason and the daemon stays ready for the next offer. A decision to wait is reported as
 * `rescheduled` with `delay_for`, and the device asks again when the time comes, unless the server offers
 * something first. A stop before the apply reports nothing: NervesHub offers the update again after the restart,
 * and no attempt is counted against the device. Every step is told to the listeners, as one stream of events.
 *
 * Whatever the server pushes and the operator's hooks answer, NervesHub hears a bounded amount: every reschedule
 * waits at least 5 minutes (DELAY_USES.offer, applied here, logged when it changes the delay), and at most
 * STATUS_BOUND.offers offers of one firmware are answered within a minute (a further one gets no status).
 */
export class UpdateManager {
  readonly #options: UpdateManagerOptions;
  readonly #clock: Clock;
  readonly #now: () => number;
  readonly #policy: UpdatePolicy;
  readonly #keys: SigningKeys;
  readonly #failures: RepeatedFailures;
  readonly #unsent = new UnsentFinalStatuses();
  readonly #rescheduler: Rescheduler;
  /** Offers answered per firmware within the last minute (STATUS_BOUND). */
  readonly #answered: RecentCounts;
  /** Offers left unanswered per firmware within the last minute, so only the first is logged at info. */
  readonly #unanswered: RecentCounts;
  #phase: 'idle' | UpdateStage = 'idle';
  #current: UpdateOffer | undefined;
  #facts: UpdateFacts | undefined;
  /** Hooks told about a failure, still running: a stop waits for them. */
  readonly #background = new Set<Promise<void>>();
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;
  /** After shutdown() no offer is taken: the daemon is stopping or rebooting. */
  #closed = false;

  constructor(options: UpdateManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#now = () => this.#clock.now();
    this.#policy = options.policy ?? APPLY_EVERYTHING;
    this.#keys = new SigningKeys(options.publicKeys, this.#clock);
    this.#failures = new RepeatedFailures(this.#now);
    const counts = { windowMs: STATUS_BOUND.windowMs, maxKeys: STATUS_BOUND_MAX_UPDATES, now: this.#now };
    this.#answered = new RecentCounts(counts);
    this.#unanswered = new RecentCounts(counts);
    this.#rescheduler = new Rescheduler({
      logger: options.logger,
      clock: this.#clock,
      deploymentReofferGraceMs: options.deploymentReofferGraceMs ?? DEPLOYMENT_REOFFER_GRACE_MS,
      emit: (event) => this.#emit(event),
      askAgain: (waiting) => this.#askAgain(waiting),
    });
    if (options.written) {
      this.#facts = options.written;
      this.#enter('awaiting-reboot');
    }
  }

  get phase(): 'idle' | UpdateStage {
    return this.#phase;
  }

  /**
   * For the join: the uuid of the update running now (or written and waiting for its reboot, also after a
   * restart), else of one whose final status is still waiting to be sent. Either way the server must keep that update's record, so the status lands on it instead of on an empty
   * one (a join without the uuid deletes the record, nerves_hub_web device_link.ex maybe_clear_inflight_update).
   */
  get currentlyDownloadingUuid(): string | null {
    if (this.#phase !== 'idle' && this.#current) return this.#current.uuid;
    if (this.#phase === 'awaiting-reboot' && this.#facts) return this.#facts.uuid;
    return this.#unsent.newest;
  }

  /** Whether fwup is writing now, or after_apply runs (a reboot or shutdown must wait for it). */
  get isApplying(): boolean {
    return this.#phase === 'applying' || this.#phase === 'after-apply';
  }

  /**
   * Whether an update is being prepared: decided, its hooks run, its file downloaded or checked. A stop now drops
   * it (deleting the file, reporting nothing); once fwup writes, a stop waits instead.
   */
  get isPreparing(): boolean {
    return (
      this.#phase === 'deciding' ||
      this.#phase === 'before-download' ||
      this.#phase === 'awaiting-keys' ||
      this.#phase === 'downloading' ||
      this.#phase === 'verifying' ||
      this.#phase === 'before-apply'
    );
  }

  /** The update whose firmware is written and waits for the reboot, if any. */
  get applied(): UpdateFacts | undefined {
    return this.#phase === 'awaiting-reboot' ? this.#facts : undefined;
  }

  /** Handles an `update` push. */
  offer(payload: unknown): void {
    const { logger } = this.#options;
    const parsed = parseUpdateOffer(payload);
    if (!parsed.ok) {
      // Not an offer of anything: no status, or the server would open an in-flight record for it.
      logger.info(`update message ignored: ${parsed.reason}`);
      return;
    }
    const { offer } = parsed;
    const facts = updateFacts(offer, payload);
    const verdict = gateOffer(offer, facts, {
      closed: this.#closed,
      phase: this.#phase,
      currentUuid: this.#current?.uuid ?? this.#facts?.uuid,
      runningUuid: this.#options.runningUuid,
      recentFailures: this.#failures.count(offer.uuid),
      now: this.#now(),
      firmwareGuard: () => this.#options.firmwareGuard?.(offer, facts),
    });
    if (verdict.kind === 'unanswered') {
      logger.info(`update ${offer.uuid} not answered: ${verdict.why}`);
      return;
    }
    if (!this.#mayAnswer(offer.uuid)) return;
    // Whatever the server offers now replaces an offer the device was going to ask about again.
    this.#rescheduler.cancel();
    if (verdict.kind === 'start') {
      this.#start(offer, facts, this.#now());
      return;
    }
    this.#emit({ type: 'received', update: facts });
    const delayMs = verdict.delayMs === undefined ? undefined : this.#boundedDelay(facts, verdict.delayMs);
    this.#finish(facts, verdict.status, {
      reason: verdict.reason,
      ...(delayMs !== undefined ? { delayMs } : {}),
    });
    if (verdict.nextAttempt) {
      // NervesHub's block ends when the delay sent ends.
      const { nextAttempt } = verdict;
      const attempt =
        nextAttempt.at !== undefined && delayMs !== undefined
          ? { ...nextAttempt, at: this.#now() + delayMs }
          : nextAttempt;
      this.#emit({ type: 'next-attempt', attempt });
    }
    logger[verdict.log.level](verdict.log.message);
  }

  /** `delayMs` within the floor and ceiling of a rescheduled offer (DELAY_USES.offer); a change is logged. */
  #boundedDelay(facts: UpdateFacts, delayMs: number): number {
    const delay = boundDelay(delayMs, DELAY_USES.offer);
    const bound = describeBound(delay, DELAY_USES.offer);
    if (bound) this.#options.logger.warn(`update ${describeUpdate(facts)}: ${bound}`);
    return delay.ms;
  }

  /** The server sent fwup public keys: an offer waiting for them goes on. */
  keysChanged(): void {
    this.#keys.changed();
  }

  /**
   * Stops an update before fwup writes (a running hook is killed, a download deleted, no status is sent); waits
   * for a running fwup and after_apply to finish. A rescheduled offer is not asked about again.
   */
  async shutdown(): Promise<void> {
    this.#closed = true;
    this.#rescheduler.cancel();
    this.#abort?.abort(STOPPED);
    await this.#running;
    await Promise.all(this.#background);
  }

  #start(offer: UpdateOffer, facts: UpdateFacts, receivedAt: number): void {
    this.#current = offer;
    this.#facts = facts;
    const abort = new AbortController();
    this.#abort = abort;
    // First, whatever the decision: NervesHub counts the attempt on the first status of an offer.
    this.#emit({ type: 'received', update: facts });
    this.#enter('deciding');
    const { steps, allowUnsigned, logger } = this.#options;
    this.#running = runUpdate({
      offer,
      facts,
      signal: abort.signal,
      steps,
      policy: this.#policy,
      keys: this.#keys,
      allowUnsigned,
      keysWaitMs: this.#options.keysWaitMs ?? SERVER_KEYS_WAIT_MS,
      logger,
      enter: (stage, percent) => this.#enter(stage, percent),
      emit: (event) => this.#emit(event),
      completed: () => this.#completed(facts),
    })
      .then((outcome) => this.#ended({ offer, facts, receivedAt }, outcome))
      .finally(() => {
        this.#running = undefined;
        this.#abort = undefined;
      });
  }

  #enter(stage: UpdateStage, percent?: number): void {
    this.#phase = stage;
    if (this.#facts) {
      this.#emit({
        type: 'stage',
        update: this.#facts,
        stage,
        ...(percent !== undefined ? { percent } : {}),
      });
    }
  }

  #completed(facts: UpdateFacts): void {
    this.#finish(facts, 'completed');
    this.#failures.forget(facts.uuid);
    this.#options.logger.info(`update ${facts.uuid}: completed`);
  }

  #ended(waiting: WaitingOffer, outcome: RunOutcome): void {
    const { facts } = waiting;
    const { logger } = this.#options;
    if (outcome.kind === 'applied') {
      this.#options.onApplied(waiting.offer);
      return;
    }
    this.#phase = 'idle';
    switch (outcome.kind) {
      case 'ignored':
        this.#finish(facts, 'ignored', outcome);
        logger.info(`update ${describeUpdate(facts)} ignored: ${outcome.reason}`);
        return;
      case 'rescheduled': {
        const delayMs = this.#boundedDelay(facts, outcome.delayMs);
        this.#finish(facts, 'rescheduled', { reason: outcome.reason, delayMs });
        this.#rescheduler.plan(waiting, delayMs, outcome.reason);
        return;
      }
      case 'failed':
        this.#fail(facts, outcome.failure);
        return;
      case 'dropped':
        // The next start joins without an in-flight uuid, which clears the server's record and brings the offer again.
        this.#emit({ type: 'dropped', update: facts });
        logger.warn(
          `update ${facts.uuid} stopped: the daemon is shutting down; the download was removed and NervesHub will offer the update again`,
        );
        return;
    }
  }

  #askAgain(waiting: WaitingOffer): void {
    if (this.#closed || this.#phase !== 'idle') return;
    if (!this.#mayAnswer(waiting.offer.uuid)) return;
    this.#options.logger.info(`update ${describeUpdate(waiting.facts)}: asking again, as rescheduled`);
    this.#start(waiting.offer, waiting.facts, waiting.receivedAt);
  }

  /**
   * Whether an offer of `uuid` may be answered now (STATUS_BOUND.offers a minute); if so, it counts. One that may
   * not is logged once a minute at info, then at debug: a server that floods offers must not flood the log.
   */
  #mayAnswer(uuid: string): boolean {
    if (this.#answered.take(uuid, STATUS_BOUND.offers)) return true;
    const { logger } = this.#options;
    const first = this.#unanswered.take(uuid, 1);
    logger[first ? 'info' : 'debug'](
      `update ${uuid} not answered: it was answered ${STATUS_BOUND.offers} times within the last minute, ` +
        'the most the device answers for one firmware (no status: NervesHub counts no attempt)',
    );
    return false;
  }

  #fail(facts: UpdateFacts, failure: Failure): void {
    this.#finish(facts, 'failed', failure);
    this.#options.logger.error(
      `update ${facts.uuid} failed: ${failure.reason}`,
      failure.code ? { code: failure.code } : undefined,
    );
    this.#failures.record(facts.uuid);
    const told = this.#policy.onError(facts, failure.reason).finally(() => this.#background.delete(told));
    this.#background.add(told);
  }

  /** A status that ends the server's record of the update; until it has left, joins keep naming the update. */
  #finish(
    facts: UpdateFacts,
    status: ResultStatus,
    details: { readonly reason?: string; readonly delayMs?: number } = {},
  ): void {
    this.#emit({
      type: 'finished',
      update: facts,
      status,
      ...(details.delayMs !== undefined ? { delayMs: details.delayMs } : {}),
      ...(details.reason !== undefined ? { reason: details.reason } : {}),
      settled: this.#unsent.add(facts.uuid),
    });
  }

  #emit(event: UpdateEvent): void {
    for (const listener of this.#options.listeners ?? []) listener(event);
  }
}
